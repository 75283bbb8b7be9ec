//===- Reduction.cpp - importers of reductions ----------------------------===//
//
// Axes come from the attribute, or (ReduceSum from opset 13) from a constant
// input; they are normalized to sorted non-negative axes, and "no axes" is
// spelled out as every axis unless noop_with_empty_axes makes it the identity.
//
//===----------------------------------------------------------------------===//

#include "../NodeContext.h"
#include "../OpRegistry.h"

#include "mlg/Dialect/MLG/MLGOps.h"

using namespace mlir;
using namespace mlg;
using namespace mlg::onnx_import;

/// `axesInputSince`: the opset from which the op takes its axes as input #1.
template <typename OpTy, int64_t axesInputSince = 1000>
static LogicalResult importReduce(NodeContext &ctx) {
  bool axesAsInput = ctx.opset >= axesInputSince;
  if (failed(ctx.checkArity(1, axesAsInput ? 2 : 1)))
    return failure();
  int64_t rank = ctx.inputType(0).getRank();
  auto keepdims = ctx.getInt("keepdims", 1);
  auto noop = ctx.getInt("noop_with_empty_axes", 0);
  if (failed(keepdims) || failed(noop))
    return failure();
  SmallVector<int64_t> axes;
  if (axesAsInput && ctx.hasInput(1)) {
    auto a = ctx.constantInts(1, "axes");
    if (failed(a))
      return failure();
    axes = *a;
  } else if (!axesAsInput && ctx.hasAttr("axes")) {
    auto a = ctx.getInts("axes");
    if (failed(a))
      return failure();
    axes = *a;
  }
  if (axes.empty()) {
    if (*noop)
      return ctx.setOutputs(ctx.input(0));
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  for (int64_t &axis : axes) {
    auto a = ctx.normalizeAxis(axis, rank);
    if (failed(a))
      return failure();
    axis = *a;
  }
  llvm::sort(axes);
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    return ctx.emitError() << "axes repeat an axis";
  auto out = ctx.create1<OpTy>({ctx.input(0)},
                               {ctx.i64ArrayAttr("axes", axes),
                                ctx.boolAttr("keepdims", *keepdims != 0)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

template <typename OpTy>
static LogicalResult importArgReduce(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  auto axis = ctx.getInt("axis", 0);
  auto keepdims = ctx.getInt("keepdims", 1);
  auto last = ctx.getInt("select_last_index", 0);
  if (failed(axis) || failed(keepdims) || failed(last))
    return failure();
  auto a = ctx.normalizeAxis(*axis, ctx.inputType(0).getRank());
  if (failed(a))
    return failure();
  auto out = ctx.create1<OpTy>({ctx.input(0)},
                               {ctx.i64Attr("axis", *a),
                                ctx.boolAttr("keepdims", *keepdims != 0),
                                ctx.boolAttr("select_last_index", *last != 0)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

void mlg::onnx_import::registerReductionOps(OpRegistry &r) {
  r.add("ReduceMean", importReduce<ReduceMeanOp>);
  r.add("ReduceSum", importReduce<ReduceSumOp, 13>);
  r.add("ReduceMax", importReduce<ReduceMaxOp>);
  r.add("ReduceMin", importReduce<ReduceMinOp>);
  r.add("ReduceProd", importReduce<ReduceProdOp>);
  r.add("ReduceSumSquare", importReduce<ReduceSumSquareOp>);
  r.add("ReduceL1", importReduce<ReduceL1Op>);
  r.add("ReduceL2", importReduce<ReduceL2Op>);
  r.add("ReduceLogSum", importReduce<ReduceLogSumOp>);
  r.add("ReduceLogSumExp", importReduce<ReduceLogSumExpOp>);
  r.add("ArgMax", importArgReduce<ArgMaxOp>);
  r.add("ArgMin", importArgReduce<ArgMinOp>);
}

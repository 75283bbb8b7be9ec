//===- NN.cpp - importers of convolution, pooling, normalization, ... -----===//
//
// `auto_pad` is resolved into explicit pads; missing strides and dilations
// become ones; Softmax before opset 13 (which flattens at the axis) becomes
// reshape, softmax, reshape; Dropout's ratio and mode become attributes.
//
//===----------------------------------------------------------------------===//

#include "../NodeContext.h"
#include "../OpRegistry.h"

#include "mlg/Dialect/MLG/MLGOps.h"

using namespace mlir;
using namespace mlg;
using namespace mlg::onnx_import;

/// Spatial attributes of Conv and the pooling operators.
struct Window {
  SmallVector<int64_t> kernel, strides, dilations, pads;
};

static FailureOr<SmallVector<int64_t>>
getSpatial(NodeContext &ctx, StringRef name, int64_t spatial, int64_t dflt) {
  auto values = ctx.getInts(name, SmallVector<int64_t>(spatial, dflt));
  if (failed(values))
    return failure();
  if (static_cast<int64_t>(values->size()) != spatial)
    return ctx.emitError() << name << " has " << values->size()
                           << " entries for " << spatial
                           << " spatial dimensions";
  for (int64_t v : *values)
    if (v <= 0)
      return ctx.emitError() << name << " must be positive";
  return values;
}

/// Reads strides, dilations and pads (resolving auto_pad) for an input whose
/// spatial dimensions follow N and C.
static LogicalResult getWindow(NodeContext &ctx, RankedTensorType input,
                               Window &w, bool hasDilations = true) {
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1)
    return ctx.emitError() << "input must be [N, C, spatial...], got " << input;
  if (static_cast<int64_t>(w.kernel.size()) != spatial)
    return ctx.emitError() << "kernel has " << w.kernel.size()
                           << " dimensions for " << spatial
                           << " spatial dimensions";
  auto strides = getSpatial(ctx, "strides", spatial, 1);
  if (failed(strides))
    return failure();
  w.strides = *strides;
  if (hasDilations) {
    auto dilations = getSpatial(ctx, "dilations", spatial, 1);
    if (failed(dilations))
      return failure();
    w.dilations = *dilations;
  } else {
    w.dilations.assign(spatial, 1);
  }
  auto autoPad = ctx.getString("auto_pad", std::string("NOTSET"));
  if (failed(autoPad))
    return failure();
  if (*autoPad == "NOTSET") {
    auto pads = ctx.getInts("pads", SmallVector<int64_t>(2 * spatial, 0));
    if (failed(pads))
      return failure();
    if (static_cast<int64_t>(pads->size()) != 2 * spatial)
      return ctx.emitError() << "pads has " << pads->size()
                             << " entries, expected " << 2 * spatial;
    w.pads = *pads;
  } else if (*autoPad == "VALID") {
    w.pads.assign(2 * spatial, 0);
  } else if (*autoPad == "SAME_UPPER" || *autoPad == "SAME_LOWER") {
    w.pads.assign(2 * spatial, 0);
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t in = input.getDimSize(i + 2), s = w.strides[i];
      int64_t out = (in + s - 1) / s;
      int64_t total = std::max<int64_t>(
          (out - 1) * s + (w.kernel[i] - 1) * w.dilations[i] + 1 - in, 0);
      int64_t small = total / 2, large = total - small;
      w.pads[i] = *autoPad == "SAME_UPPER" ? small : large;
      w.pads[i + spatial] = total - w.pads[i];
    }
  } else {
    return ctx.emitError() << "auto_pad '" << *autoPad << "' is not supported";
  }
  return success();
}

static LogicalResult importConv(NodeContext &ctx) {
  if (failed(ctx.checkArity(2, 3)))
    return failure();
  RankedTensorType input = ctx.inputType(0), weight = ctx.inputType(1);
  if (weight.getRank() != input.getRank() || weight.getRank() < 3)
    return ctx.emitError() << "weight " << weight << " does not match input "
                           << input;
  Window w;
  w.kernel.assign(weight.getShape().begin() + 2, weight.getShape().end());
  if (ctx.hasAttr("kernel_shape")) {
    auto kernel = ctx.getInts("kernel_shape");
    if (failed(kernel))
      return failure();
    if (ArrayRef<int64_t>(*kernel) != ArrayRef<int64_t>(w.kernel))
      return ctx.emitError() << "kernel_shape [" << ArrayRef<int64_t>(*kernel)
                             << "] disagrees with the weight " << weight;
  }
  auto group = ctx.getInt("group", 1);
  if (failed(group) || failed(getWindow(ctx, input, w)))
    return failure();
  SmallVector<Value> operands = {ctx.input(0), ctx.input(1)};
  if (ctx.hasInput(2))
    operands.push_back(ctx.input(2));
  auto out =
      ctx.create1<ConvOp>(operands, {ctx.i64ArrayAttr("strides", w.strides),
                                     ctx.i64ArrayAttr("pads", w.pads),
                                     ctx.i64ArrayAttr("dilations", w.dilations),
                                     ctx.i64Attr("group", *group)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult getPoolWindow(NodeContext &ctx, Window &w,
                                   bool hasDilations,
                                   SmallVectorImpl<NamedAttribute> &attrs) {
  auto kernel = ctx.getInts("kernel_shape");
  if (failed(kernel))
    return failure();
  w.kernel = *kernel;
  auto ceil = ctx.getInt("ceil_mode", 0);
  if (failed(ceil) || failed(getWindow(ctx, ctx.inputType(0), w, hasDilations)))
    return failure();
  attrs.append({ctx.i64ArrayAttr("kernel_shape", w.kernel),
                ctx.i64ArrayAttr("strides", w.strides),
                ctx.i64ArrayAttr("pads", w.pads),
                ctx.i64ArrayAttr("dilations", w.dilations),
                ctx.boolAttr("ceil_mode", *ceil != 0)});
  return success();
}

static LogicalResult importMaxPool(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  Window w;
  SmallVector<NamedAttribute> attrs;
  if (failed(getPoolWindow(ctx, w, ctx.opset >= 10, attrs)))
    return failure();
  if (!ctx.hasOutput(1)) {
    auto out = ctx.create1<MaxPoolOp>({ctx.input(0)}, attrs);
    return failed(out) ? failure() : ctx.setOutputs(*out);
  }
  auto order = ctx.getInt("storage_order", 0);
  if (failed(order))
    return failure();
  attrs.push_back(ctx.i64Attr("storage_order", *order));
  auto out = ctx.create<MaxPoolWithIndicesOp>({ctx.input(0)}, attrs, {}, 2);
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importAveragePool(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  Window w;
  SmallVector<NamedAttribute> attrs;
  auto include = ctx.getInt("count_include_pad", 0);
  if (failed(include) ||
      // AveragePool has `dilations` from opset 19 on.
      failed(getPoolWindow(ctx, w, ctx.opset >= 19, attrs)))
    return failure();
  attrs.push_back(ctx.boolAttr("count_include_pad", *include != 0));
  auto out = ctx.create1<AveragePoolOp>({ctx.input(0)}, attrs);
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

template <typename OpTy>
static LogicalResult importGlobalPool(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  auto out = ctx.create1<OpTy>({ctx.input(0)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importBatchNorm(NodeContext &ctx) {
  if (failed(ctx.checkArity(5, 5)))
    return failure();
  auto epsilon = ctx.getFloat("epsilon", 1e-5);
  auto momentum = ctx.getFloat("momentum", 0.9);
  if (failed(epsilon) || failed(momentum))
    return failure();
  bool training;
  if (ctx.opset >= 14) {
    auto mode = ctx.getInt("training_mode", 0);
    if (failed(mode))
      return failure();
    training = *mode != 0;
  } else {
    if (ctx.hasOutput(3) || ctx.hasOutput(4))
      return ctx.emitError()
             << "the saved mean and variance outputs are not supported";
    auto spatial = ctx.getInt("spatial", 1);
    if (failed(spatial))
      return failure();
    if (*spatial != 1)
      return ctx.emitError() << "spatial=0 is not supported";
    training = ctx.hasOutput(1) || ctx.hasOutput(2);
  }
  // The running statistics are state, not parameters.
  ctx.markState(3, "zeros");
  ctx.markState(4, "ones");
  auto out = ctx.create<BatchNormOp>(
      {ctx.input(0), ctx.input(1), ctx.input(2), ctx.input(3), ctx.input(4)},
      {ctx.f64Attr("epsilon", *epsilon), ctx.f64Attr("momentum", *momentum),
       ctx.boolAttr("training", training)},
      {}, 3);
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importLayerNorm(NodeContext &ctx) {
  if (failed(ctx.checkArity(2, 3)))
    return failure();
  auto axis = ctx.getInt("axis", -1);
  auto epsilon = ctx.getFloat("epsilon", 1e-5);
  auto stash = ctx.getInt("stash_type", 1);
  if (failed(axis) || failed(epsilon) || failed(stash))
    return failure();
  if (*stash != 1)
    return ctx.emitError() << "stash_type " << *stash << " is not supported";
  auto a = ctx.normalizeAxis(*axis, ctx.inputType(0).getRank());
  if (failed(a))
    return failure();
  SmallVector<Value> operands = {ctx.input(0), ctx.input(1)};
  if (ctx.hasInput(2))
    operands.push_back(ctx.input(2));
  auto out = ctx.create<LayerNormOp>(
      operands, {ctx.i64Attr("axis", *a), ctx.f64Attr("epsilon", *epsilon)}, {},
      3);
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importDropout(NodeContext &ctx) {
  double ratio = 0.5;
  bool training = false;
  if (ctx.opset < 12) {
    if (failed(ctx.checkArity(1, 1)))
      return failure();
    auto r = ctx.getFloat("ratio", 0.5);
    if (failed(r))
      return failure();
    ratio = *r;
  } else {
    if (failed(ctx.checkArity(1, 3)))
      return failure();
    if (ctx.hasInput(1)) {
      auto r = ctx.constantScalar(1, "ratio");
      if (failed(r))
        return failure();
      ratio = *r;
    }
    if (ctx.hasInput(2)) {
      auto t = ctx.constantScalar(2, "training mode");
      if (failed(t))
        return failure();
      training = *t != 0;
    }
  }
  // The op's random stream is keyed by this seed: ONNX's, or a stable hash
  // (FNV-1a) of the node's output name, so every dropout differs.
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : ctx.node.output(0))
    hash = (hash ^ c) * 1099511628211ull;
  auto seed =
      ctx.getInt("seed", static_cast<int64_t>(hash & 0x7fffffffffffffffull));
  if (failed(seed))
    return failure();
  auto out = ctx.create<DropoutOp>({ctx.input(0)},
                                   {ctx.f64Attr("ratio", ratio),
                                    ctx.boolAttr("training", training),
                                    ctx.i64Attr("seed", *seed)},
                                   {}, 2);
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importGemm(NodeContext &ctx) {
  if (failed(ctx.checkArity(ctx.opset < 11 ? 3 : 2, 3)))
    return failure();
  auto alpha = ctx.getFloat("alpha", 1.0);
  auto beta = ctx.getFloat("beta", 1.0);
  auto transA = ctx.getInt("transA", 0);
  auto transB = ctx.getInt("transB", 0);
  if (failed(alpha) || failed(beta) || failed(transA) || failed(transB))
    return failure();
  SmallVector<Value> operands = {ctx.input(0), ctx.input(1)};
  if (ctx.hasInput(2))
    operands.push_back(ctx.input(2));
  auto out = ctx.create1<GemmOp>(
      operands, {ctx.f64Attr("alpha", *alpha), ctx.f64Attr("beta", *beta),
                 ctx.boolAttr("trans_a", *transA != 0),
                 ctx.boolAttr("trans_b", *transB != 0)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

/// MatMul(A, Transpose(W)) with a 2-d W, as PyTorch exports a Linear layer
/// in training mode (without constant folding): a Gemm that reads W
/// transposed in place (A's leading dimensions flattened into rows), so no
/// transposed copy of W is stored for the backward and W's gradient comes
/// out in W's own layout. The Transpose goes unused unless something else
/// reads it.
static FailureOr<Value> matMulTransposedWeight(NodeContext &ctx) {
  auto transpose = ctx.input(1).getDefiningOp<TransposeOp>();
  RankedTensorType a = ctx.inputType(0), b = ctx.inputType(1);
  if (!transpose || b.getRank() != 2 || a.getRank() < 2 ||
      transpose.getPerm() != ArrayRef<int64_t>{1, 0} || !a.hasStaticShape() ||
      !b.hasStaticShape() || a.getDimSize(a.getRank() - 1) != b.getDimSize(0))
    return Value();
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < a.getRank(); ++d)
    rows *= a.getDimSize(d);
  Value lhs = ctx.input(0);
  if (a.getRank() != 2) {
    auto flat = ctx.create1<ReshapeOp>(
        {lhs}, {}, {a.clone({rows, a.getDimSize(a.getRank() - 1)})});
    if (failed(flat))
      return failure();
    lhs = *flat;
  }
  auto product = ctx.create1<GemmOp>(
      {lhs, transpose.getInput()},
      {ctx.f64Attr("alpha", 1.0), ctx.f64Attr("beta", 0.0),
       ctx.boolAttr("trans_a", false), ctx.boolAttr("trans_b", true)});
  if (failed(product) || a.getRank() == 2)
    return product;
  SmallVector<int64_t> shape(a.getShape());
  shape.back() = b.getDimSize(1);
  return ctx.create1<ReshapeOp>({*product}, {}, {a.clone(shape)});
}

static LogicalResult importMatMul(NodeContext &ctx) {
  if (failed(ctx.checkArity(2, 2)))
    return failure();
  FailureOr<Value> gemm = matMulTransposedWeight(ctx);
  if (failed(gemm))
    return failure();
  if (*gemm)
    return ctx.setOutputs(*gemm);
  auto out = ctx.create1<MatMulOp>({ctx.input(0), ctx.input(1)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

template <typename OpTy> static LogicalResult importSoftmax(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  RankedTensorType type = ctx.inputType(0);
  int64_t rank = type.getRank();
  auto axis = ctx.getInt("axis", ctx.opset < 13 ? 1 : -1);
  if (failed(axis))
    return failure();
  if (rank == 0)
    return ctx.emitError() << "needs an input of rank >= 1";
  auto a = ctx.normalizeAxis(*axis, rank);
  if (failed(a))
    return failure();
  if (ctx.opset >= 13 || *a == rank - 1) {
    auto out = ctx.create1<OpTy>({ctx.input(0)}, {ctx.i64Attr("axis", *a)});
    return failed(out) ? failure() : ctx.setOutputs(*out);
  }
  // Before opset 13 the input is coerced to 2-d at the axis.
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < *a ? outer : inner) *= type.getDimSize(d);
  auto flat =
      ctx.create1<ReshapeOp>({ctx.input(0)}, {}, {type.clone({outer, inner})});
  if (failed(flat))
    return failure();
  auto soft = ctx.create1<OpTy>({*flat}, {ctx.i64Attr("axis", 1)});
  if (failed(soft))
    return failure();
  auto out = ctx.create1<ReshapeOp>({*soft}, {}, {type});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

void mlg::onnx_import::registerNNOps(OpRegistry &r) {
  r.add("Conv", importConv);
  r.add("MaxPool", importMaxPool);
  r.add("AveragePool", importAveragePool);
  r.add("GlobalAveragePool", importGlobalPool<GlobalAveragePoolOp>);
  r.add("GlobalMaxPool", importGlobalPool<GlobalMaxPoolOp>);
  r.add("BatchNormalization", importBatchNorm, 7);
  r.add("LayerNormalization", importLayerNorm, 17);
  r.add("Dropout", importDropout, 7);
  r.add("Gemm", importGemm, 7);
  r.add("MatMul", importMatMul);
  r.add("Softmax", importSoftmax<SoftmaxOp>);
  r.add("LogSoftmax", importSoftmax<LogSoftmaxOp>);
}

//===- ReductionOps.cpp - shape inference of reductions -------------------===//
//
// Reductions take a sorted, unique list of non-negative axes; arg-reductions
// one axis. Reduced dimensions become 1 with `keepdims`, else disappear.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/MLGOps.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlg;

static LogicalResult inferReduce(std::optional<Location> loc, Value operand,
                                 ArrayRef<int64_t> axes, bool keepdims,
                                 Type elementType,
                                 SmallVectorImpl<Type> &types) {
  auto input = dyn_cast<RankedTensorType>(operand.getType());
  if (!input || !input.hasStaticShape())
    return emitOptionalError(loc, "operand must be a static-shaped tensor");
  int64_t previous = -1;
  for (int64_t axis : axes) {
    if (axis <= previous || axis >= input.getRank())
      return emitOptionalError(loc, "axes must be sorted, unique and in [0, ",
                               input.getRank(), ")");
    previous = axis;
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < input.getRank(); ++d) {
    if (!llvm::is_contained(axes, d))
      shape.push_back(input.getDimSize(d));
    else if (keepdims)
      shape.push_back(1);
  }
  types.push_back(RankedTensorType::get(shape, elementType));
  return success();
}

#define MLG_INFER_REDUCE(OP)                                                   \
  LogicalResult OP::inferReturnTypes(                                          \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &types) {                                          \
    return inferReduce(                                                        \
        loc, adaptor.getInput(), adaptor.getAxes(), adaptor.getKeepdims(),     \
        getElementTypeOrSelf(adaptor.getInput().getType()), types);            \
  }
MLG_INFER_REDUCE(ReduceMeanOp)
MLG_INFER_REDUCE(ReduceSumOp)
MLG_INFER_REDUCE(ReduceMaxOp)
MLG_INFER_REDUCE(ReduceMinOp)
MLG_INFER_REDUCE(ReduceProdOp)
MLG_INFER_REDUCE(ReduceSumSquareOp)
MLG_INFER_REDUCE(ReduceL1Op)
MLG_INFER_REDUCE(ReduceL2Op)
MLG_INFER_REDUCE(ReduceLogSumOp)
MLG_INFER_REDUCE(ReduceLogSumExpOp)
#undef MLG_INFER_REDUCE

#define MLG_INFER_ARG_REDUCE(OP)                                               \
  LogicalResult OP::inferReturnTypes(                                          \
      MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,          \
      SmallVectorImpl<Type> &types) {                                          \
    int64_t axis = adaptor.getAxis();                                          \
    return inferReduce(loc, adaptor.getInput(), ArrayRef<int64_t>(axis),       \
                       adaptor.getKeepdims(), IntegerType::get(ctx, 64),       \
                       types);                                                 \
  }
MLG_INFER_ARG_REDUCE(ArgMaxOp)
MLG_INFER_ARG_REDUCE(ArgMinOp)
#undef MLG_INFER_ARG_REDUCE

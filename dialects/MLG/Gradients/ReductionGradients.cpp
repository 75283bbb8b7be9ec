//===- ReductionGradients.cpp - gradients of reductions -------------------===//
//
// A reduction's gradient broadcasts the result's gradient back over the
// reduced axes (keepdims shape, then expand), scaled or masked per kind.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"

using namespace mlir;
using namespace mlg;

/// The result's gradient broadcast back to the input's shape.
static Value broadcastBack(OpBuilder &b, Location loc, Value dy,
                           ArrayRef<int64_t> inputShape,
                           ArrayRef<int64_t> axes) {
  SmallVector<int64_t> kept(inputShape);
  for (int64_t a : axes)
    kept[a] = 1;
  return expandTo(b, loc, reshapeTo(b, loc, dy, kept), inputShape);
}

void ReduceSumOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult ReduceSumOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign({broadcastBack(b, getLoc(), resultGrads[0],
                                     shapeOf(getInput()), getAxes())});
  return success();
}

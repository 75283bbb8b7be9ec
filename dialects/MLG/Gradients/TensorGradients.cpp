//===- TensorGradients.cpp - gradients of layout ops ----------------------===//
//
// Layout ops move elements; their gradients move them back.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"

using namespace mlir;
using namespace mlg;

void ReshapeOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult ReshapeOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(
      {reshapeTo(b, getLoc(), resultGrads[0], shapeOf(getInput()))});
  return success();
}

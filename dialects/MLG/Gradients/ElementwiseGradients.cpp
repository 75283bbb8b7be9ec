//===- ElementwiseGradients.cpp - gradients of elementwise ops ------------===//
//
// Binary ops undo their broadcasting with sumToShape; most gradients are
// compositions of forward ops.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"

using namespace mlir;
using namespace mlg;

//===----------------------------------------------------------------------===//
// Binary arithmetic
//===----------------------------------------------------------------------===//

void AddOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult AddOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrads[0];
  operandGrads.assign({sumToShape(b, getLoc(), dy, getLhs().getType()),
                       sumToShape(b, getLoc(), dy, getRhs().getType())});
  return success();
}

void SubOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult SubOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrads[0];
  Value negated = NegOp::create(b, getLoc(), dy);
  operandGrads.assign({sumToShape(b, getLoc(), dy, getLhs().getType()),
                       sumToShape(b, getLoc(), negated, getRhs().getType())});
  return success();
}

void MulOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getLhs(), getRhs()});
}

LogicalResult MulOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  Value dl = MulOp::create(b, loc, dy, getRhs());
  Value dr = MulOp::create(b, loc, dy, getLhs());
  operandGrads.assign({sumToShape(b, loc, dl, getLhs().getType()),
                       sumToShape(b, loc, dr, getRhs().getType())});
  return success();
}

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

void NegOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult NegOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign({NegOp::create(b, getLoc(), resultGrads[0])});
  return success();
}

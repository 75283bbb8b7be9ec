//===- ReductionGradients.cpp - gradients of reductions -------------------===//
//
// A reduction's gradient broadcasts the result's gradient back over the
// reduced axes (keepdims shape, then expand), scaled or masked per kind.
// Where a binary op follows, the keepdims-shaped gradient broadcasts in it
// and no expanded copy is made.
//
// Conventions where the derivative does not exist:
//  - reduce_max / reduce_min divide the gradient evenly among the elements
//    equal to the extremum (PyTorch's amax / amin);
//  - reduce_l1 uses sign(x) (0 at 0); reduce_l2 gives 0 where the norm is 0;
//  - reduce_prod is exact with zeros: the gradient of an element is the
//    product of the others, so with one zero only that element gets one,
//    and with two or more nothing does.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"

using namespace mlir;
using namespace mlg;

/// The input's shape with the reduced axes set to 1.
static SmallVector<int64_t> keptShape(ArrayRef<int64_t> inputShape,
                                      ArrayRef<int64_t> axes) {
  SmallVector<int64_t> kept(inputShape);
  for (int64_t a : axes)
    kept[a] = 1;
  return kept;
}

/// The result's gradient broadcast back to the input's shape.
static Value broadcastBack(OpBuilder &b, Location loc, Value dy,
                           ArrayRef<int64_t> inputShape,
                           ArrayRef<int64_t> axes) {
  return expandTo(b, loc, reshapeTo(b, loc, dy, keptShape(inputShape, axes)),
                  inputShape);
}

/// A reduction's result (or its gradient) in the keepdims shape, which
/// broadcasts against the input.
static Value keepDims(OpBuilder &b, Location loc, Value v, Value input,
                      ArrayRef<int64_t> axes) {
  return reshapeTo(b, loc, v, keptShape(shapeOf(input), axes));
}

static Value scalarLike(OpBuilder &b, Location loc, Value like, double v) {
  return scalarConstant(b, loc, elementTypeOf(like), v);
}

/// `mask` (i1) as 0 / 1 in `like`'s element type.
static Value toFloat(OpBuilder &b, Location loc, Value mask, Value like) {
  auto type = RankedTensorType::get(shapeOf(mask), elementTypeOf(like));
  return CastOp::create(b, loc, type, mask);
}

void ReduceSumOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult ReduceSumOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign({broadcastBack(b, getLoc(), resultGrads[0],
                                     shapeOf(getInput()), getAxes())});
  return success();
}

void ReduceMeanOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult
ReduceMeanOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  ArrayRef<int64_t> inShape = shapeOf(getInput());
  int64_t count = 1;
  for (int64_t a : getAxes())
    count *= inShape[a];
  // Scale the small gradient, then broadcast it.
  Value dy = resultGrads[0];
  Value scaled = MulOp::create(
      b, loc, dy, scalarLike(b, loc, dy, count ? 1.0 / double(count) : 0.0));
  operandGrads.assign({broadcastBack(b, loc, scaled, inShape, getAxes())});
  return success();
}

/// reduce_max / reduce_min: dy divided among the elements equal to the
/// result.
static Value extremumGradient(OpBuilder &b, Location loc, Value input,
                              Value output, Value dy, ArrayRef<int64_t> axes) {
  Value extremum = keepDims(b, loc, output, input, axes);
  Value hit = EqualOp::create(b, loc, input, extremum);
  Value count =
      ReduceSumOp::create(b, loc, toFloat(b, loc, hit, input),
                          b.getDenseI64ArrayAttr(axes), b.getBoolAttr(true));
  Value share = DivOp::create(b, loc, keepDims(b, loc, dy, input, axes), count);
  return WhereOp::create(b, loc, hit, share, scalarLike(b, loc, dy, 0.0));
}

void ReduceMaxOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getInput(), getOutput()});
}

LogicalResult ReduceMaxOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign({extremumGradient(b, getLoc(), getInput(), getOutput(),
                                        resultGrads[0], getAxes())});
  return success();
}

void ReduceMinOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getInput(), getOutput()});
}

LogicalResult ReduceMinOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign({extremumGradient(b, getLoc(), getInput(), getOutput(),
                                        resultGrads[0], getAxes())});
  return success();
}

// d/dx_i prod(x) = prod_{j != i} x_j. With P the product of the nonzero
// elements and Z the number of zeros in the group, that is P / x_i where
// x_i != 0 and Z = 0, P where x_i = 0 and Z = 1, and 0 otherwise: P divided
// by x_i (or by 1 for a zero), kept where the *other* elements hold no zero.
void ReduceProdOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getInput());
}

LogicalResult
ReduceProdOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value x = getInput(), dy = resultGrads[0];
  auto axes = b.getDenseI64ArrayAttr(getAxes());
  auto keep = b.getBoolAttr(true);
  Value zero = scalarLike(b, loc, x, 0.0);
  Value isZero = EqualOp::create(b, loc, x, zero);
  Value nonzero =
      WhereOp::create(b, loc, isZero, scalarLike(b, loc, x, 1.0), x);
  Value product = ReduceProdOp::create(b, loc, nonzero, axes, keep);
  Value zeroFlags = toFloat(b, loc, isZero, x);
  Value zeros = ReduceSumOp::create(b, loc, zeroFlags, axes, keep);
  Value othersHaveNone =
      EqualOp::create(b, loc, SubOp::create(b, loc, zeros, zeroFlags), zero);
  Value scaled =
      MulOp::create(b, loc, keepDims(b, loc, dy, x, getAxes()), product);
  Value grad = DivOp::create(b, loc, scaled, nonzero);
  operandGrads.assign({WhereOp::create(b, loc, othersHaveNone, grad, zero)});
  return success();
}

void ReduceSumSquareOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getInput());
}

LogicalResult
ReduceSumSquareOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = keepDims(b, loc, resultGrads[0], getInput(), getAxes());
  Value twice = MulOp::create(b, loc, dy, scalarLike(b, loc, dy, 2.0));
  operandGrads.assign({MulOp::create(b, loc, getInput(), twice)});
  return success();
}

void ReduceL1Op::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getInput());
}

LogicalResult ReduceL1Op::buildGradient(OpBuilder &b,
                                        ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = keepDims(b, loc, resultGrads[0], getInput(), getAxes());
  operandGrads.assign(
      {MulOp::create(b, loc, SignOp::create(b, loc, getInput()), dy)});
  return success();
}

// d/dx ||x|| = x / ||x||, taken as 0 where the norm is 0.
void ReduceL2Op::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getInput(), getOutput()});
}

LogicalResult ReduceL2Op::buildGradient(OpBuilder &b,
                                        ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value x = getInput();
  Value norm = keepDims(b, loc, getOutput(), x, getAxes());
  Value dy = keepDims(b, loc, resultGrads[0], x, getAxes());
  Value zero = scalarLike(b, loc, x, 0.0);
  Value scale = WhereOp::create(b, loc, EqualOp::create(b, loc, norm, zero),
                                zero, DivOp::create(b, loc, dy, norm));
  operandGrads.assign({MulOp::create(b, loc, x, scale)});
  return success();
}

// y = log(sum(x)): dx = dy / sum(x) = dy / exp(y), from the result alone.
void ReduceLogSumOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getOutput());
}

LogicalResult
ReduceLogSumOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value share =
      DivOp::create(b, loc, resultGrads[0], ExpOp::create(b, loc, getOutput()));
  operandGrads.assign(
      {broadcastBack(b, loc, share, shapeOf(getInput()), getAxes())});
  return success();
}

// y = log(sum(exp(x))): dx = dy softmax(x) = dy exp(x - y).
void ReduceLogSumExpOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getInput(), getOutput()});
}

LogicalResult
ReduceLogSumExpOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value x = getInput();
  Value y = keepDims(b, loc, getOutput(), x, getAxes());
  Value dy = keepDims(b, loc, resultGrads[0], x, getAxes());
  Value softmax = ExpOp::create(b, loc, SubOp::create(b, loc, x, y));
  operandGrads.assign({MulOp::create(b, loc, softmax, dy)});
  return success();
}

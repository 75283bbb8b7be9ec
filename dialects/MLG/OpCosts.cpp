//===- OpCosts.cpp - the matrix products' floating-point operations -------===//
//
// CostOpInterface for the ops whose work is matrix products. A multiply-add
// counts two operations; the few elementwise operations around a product
// (a bias, an LSTM cell's gate arithmetic) are counted as one per element
// they touch, as the cost model counts every other op.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/MLGOps.h"

using namespace mlir;
using namespace mlg;

static double numel(Value v) {
  return v ? double(cast<ShapedType>(v.getType()).getNumElements()) : 0.0;
}

static double dim(Value v, int64_t d) {
  return double(cast<ShapedType>(v.getType()).getDimSize(d));
}

/// A convolution's products: every element of the output (or its
/// gradient) is a dot product over one filter, [C / group, kernel...].
static double convFlops(Value output, Value weight) {
  auto w = cast<ShapedType>(weight.getType());
  double perOutput = 1;
  for (int64_t d : w.getShape().drop_front())
    perOutput *= double(d);
  return 2 * numel(output) * perOutput;
}

double ConvOp::getFlops() {
  return convFlops(getOutput(), getWeight()) + numel(getBias() ? getOutput()
                                                               : Value());
}

double ConvBackwardDataOp::getFlops() {
  return convFlops(getOutputGrad(), getWeight());
}

double ConvBackwardFilterOp::getFlops() {
  return convFlops(getOutputGrad(), getWeightGrad());
}

double GemmOp::getFlops() {
  // op(A) is [M, K]: K is A's other dimension.
  double k = dim(getA(), getTransA() ? 0 : 1);
  return 2 * numel(getOutput()) * k + (getC() ? numel(getOutput()) : 0);
}

double MatMulOp::getFlops() {
  // The contracted dimension is lhs's last.
  auto lhs = cast<ShapedType>(getLhs().getType());
  double k = lhs.getRank() ? double(lhs.getShape().back()) : 1;
  return 2 * numel(getOutput()) * k;
}

double LSTMCellOp::getFlops() {
  // [N, 4H] gates from x W^T (unless projected) and h_prev R^T, then about
  // ten operations per gate element (activations, the state update).
  double gates = numel(getGates()), h = dim(getR(), 1);
  double products = getHPrev() ? 2 * gates * h : 0;
  if (!getProjected())
    products += 2 * gates * dim(getW(), 1);
  return products + 10 * gates;
}

double LSTMCellBackwardOp::getFlops() {
  // From dZ [N, 4H]: dx = dZ W (unless projected), dW = dZ^T x, dh_prev =
  // dZ R, dR = dZ^T h_prev, each where present; about ten operations per
  // gate element for dZ.
  double gates = numel(getGates()), in = dim(getW(), 1), h = dim(getR(), 1);
  double flops = 10 * gates;
  if (!getProjected())
    flops += 2 * gates * in;
  if (getDW())
    flops += 2 * gates * in;
  if (getDhPrev())
    flops += 2 * gates * h;
  if (getDR())
    flops += 2 * gates * h;
  return flops;
}

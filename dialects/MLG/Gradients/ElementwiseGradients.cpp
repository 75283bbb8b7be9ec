//===- ElementwiseGradients.cpp - gradients of elementwise ops ------------===//
//
// Binary ops undo their broadcasting with sumToShape; most gradients are
// compositions of forward ops. Where the derivative can be written in the
// forward result, the backward reads the result instead of the operand, so
// the forward op can overwrite its operand in place (relu, sigmoid, tanh,
// exp, sqrt, and leaky_relu / elu / selu with positive parameters). ReLU,
// sigmoid, tanh and clip have backward ops of their own
// (MLGTensorGradOps.td): one pass, no temporaries.
//
// Conventions at points where the derivative does not exist:
//  - max/min split the gradient evenly between tied operands (PyTorch's
//    maximum/minimum), so max(x, x) passes all of it to x;
//  - abs has derivative sign(x), 0 at 0; relu 0 at 0; clip passes the
//    gradient at its bounds;
//  - floor, ceil, round and sign have derivative 0 almost everywhere: they
//    return no gradient;
//  - pow's exponent gradient z * log(a) is taken as 0 where the base is 0;
//    an integer exponent has no gradient;
//  - mod (Python's or C's fmod) has d/dx = 1 and d/dy = -q, q the integer
//    quotient (x - z) / y;
//  - cast passes the gradient between float types and none otherwise.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"

#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlg;

/// `v * s`, with `s` a rank-0 constant of v's element type.
static Value scaleBy(OpBuilder &b, Location loc, Value v, double s) {
  return MulOp::create(b, loc, v, scalarConstant(b, loc, elementTypeOf(v), s));
}

/// A rank-0 constant of `like`'s element type.
static Value scalarLike(OpBuilder &b, Location loc, Value like, double v) {
  return scalarConstant(b, loc, elementTypeOf(like), v);
}

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

// z = a / b: da = dy / b and db = -dy a / b^2 = -da z. Reading the result
// rather than `a` lets the division overwrite `a` (layer norm's
// (x - mean) / std reads its result again for the scale's gradient anyway).
void DivOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getRhs(), getOutput()});
}

LogicalResult DivOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value da = DivOp::create(b, loc, resultGrads[0], getRhs());
  Value db = NegOp::create(b, loc, MulOp::create(b, loc, da, getOutput()));
  operandGrads.assign({sumToShape(b, loc, da, getLhs().getType()),
                       sumToShape(b, loc, db, getRhs().getType())});
  return success();
}

/// max (isMax) or min: the lhs's share of dy is (1 + sign(a - b)) / 2 for
/// max and (1 - sign(a - b)) / 2 for min (a half each at a tie); the rhs
/// gets the rest.
static void buildMinMaxGradient(OpBuilder &b, Location loc, Value lhs,
                                Value rhs, Value dy, bool isMax,
                                SmallVectorImpl<Value> &operandGrads) {
  Value sign = SignOp::create(b, loc, SubOp::create(b, loc, lhs, rhs));
  Value half = scaleBy(b, loc, sign, isMax ? 0.5 : -0.5);
  Value share = AddOp::create(b, loc, half, scalarLike(b, loc, half, 0.5));
  Value dl = MulOp::create(b, loc, dy, share);
  Value dr = SubOp::create(b, loc, dy, dl);
  operandGrads.assign(
      {sumToShape(b, loc, dl, cast<ShapedType>(lhs.getType())),
       sumToShape(b, loc, dr, cast<ShapedType>(rhs.getType()))});
}

void MaxOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getLhs(), getRhs()});
}

LogicalResult MaxOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  buildMinMaxGradient(b, getLoc(), getLhs(), getRhs(), resultGrads[0],
                      /*isMax=*/true, operandGrads);
  return success();
}

void MinOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getLhs(), getRhs()});
}

LogicalResult MinOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  buildMinMaxGradient(b, getLoc(), getLhs(), getRhs(), resultGrads[0],
                      /*isMax=*/false, operandGrads);
  return success();
}

// z = x - q y with q = trunc(x / y) (fmod) or floor(x / y): dx = dy,
// dy_ = -q dy. q is recovered from the result as round((x - z) / y), which
// is exact where x / y itself would round across an integer.
void ModOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getLhs(), getRhs(), getOutput()});
}

LogicalResult ModOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  Value q = RoundOp::create(
      b, loc,
      DivOp::create(b, loc, SubOp::create(b, loc, getLhs(), getOutput()),
                    getRhs()));
  Value dr = NegOp::create(b, loc, MulOp::create(b, loc, dy, q));
  operandGrads.assign({sumToShape(b, loc, dy, getLhs().getType()),
                       sumToShape(b, loc, dr, getRhs().getType())});
  return success();
}

/// The value of `v` if it is a splat constant of floats.
static std::optional<double> splatValue(Value v) {
  DenseElementsAttr dense;
  if (!matchPattern(v, m_Constant(&dense)) || !dense.isSplat() ||
      !isa<FloatType>(dense.getElementType()))
    return std::nullopt;
  return dense.getSplatValue<APFloat>().convertToDouble();
}

// z = a^e: da = dy e a^(e - 1), de = dy z log(a).
void PowOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getLhs(), getRhs(), getOutput()});
}

LogicalResult PowOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value base = getLhs(), exponent = getRhs(), dy = resultGrads[0];
  Type element = elementTypeOf(base);
  operandGrads.assign(2, nullptr);
  if (!isa<FloatType>(element))
    return success();
  // The exponent in the base's type (a cast of a constant folds).
  auto exponentType = cast<ShapedType>(exponent.getType());
  Value e = exponent;
  if (exponentType.getElementType() != element)
    e = b.createOrFold<CastOp>(loc, exponentType.clone(element), exponent);

  Value da;
  if (std::optional<double> c = splatValue(e)) {
    // A constant exponent (x^2 in variance, x^0.5): no tensor for e - 1.
    if (*c == 1.0)
      da = dy;
    else if (*c == 2.0)
      da = MulOp::create(b, loc, dy, scaleBy(b, loc, base, 2.0));
    else if (*c != 0.0)
      da = MulOp::create(
          b, loc, scaleBy(b, loc, dy, *c),
          PowOp::create(b, loc, base, scalarConstant(b, loc, element, *c - 1)));
  } else {
    Value eMinusOne =
        SubOp::create(b, loc, e, scalarConstant(b, loc, element, 1.0));
    da = MulOp::create(
        b, loc, dy,
        MulOp::create(b, loc, e, PowOp::create(b, loc, base, eMinusOne)));
  }
  if (da)
    operandGrads[0] = sumToShape(b, loc, da, getLhs().getType());

  if (!isa<FloatType>(exponentType.getElementType()))
    return success();
  // z log(a) is 0 * -inf = NaN at a = 0; the limit along a positive
  // exponent is 0, which is what PyTorch uses too.
  Value zero = scalarConstant(b, loc, element, 0.0);
  Value de = MulOp::create(
      b, loc, dy,
      MulOp::create(b, loc, getOutput(), LogOp::create(b, loc, base)));
  de = WhereOp::create(b, loc, EqualOp::create(b, loc, base, zero), zero, de);
  de = sumToShape(b, loc, de, exponentType.clone(element));
  if (exponentType.getElementType() != element)
    de = CastOp::create(b, loc, exponentType, de);
  operandGrads[1] = de;
  return success();
}

//===----------------------------------------------------------------------===//
// Select and cast
//===----------------------------------------------------------------------===//

void WhereOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getCondition());
}

LogicalResult WhereOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  operandGrads.assign(3, nullptr);
  if (!isDifferentiableType(dy.getType()))
    return success();
  // A rank-0 zero broadcasts: no zero tensor of dy's shape.
  Value zero = scalarLike(b, loc, dy, 0.0);
  Value dx = WhereOp::create(b, loc, getCondition(), dy, zero);
  Value dz = WhereOp::create(b, loc, getCondition(), zero, dy);
  operandGrads[1] = sumToShape(b, loc, dx, getX().getType());
  operandGrads[2] = sumToShape(b, loc, dz, getY().getType());
  return success();
}

void CastOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult CastOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(1, nullptr);
  Value dy = resultGrads[0];
  if (dy && isDifferentiableType(getInput().getType()) &&
      isDifferentiableType(dy.getType()))
    operandGrads[0] = CastOp::create(b, getLoc(), getInput().getType(), dy);
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

void ReluOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getOutput());
}

LogicalResult ReluOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(
      {ReluBackwardOp::create(b, getLoc(), resultGrads[0], getOutput())});
  return success();
}

void SigmoidOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getOutput());
}

LogicalResult SigmoidOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(
      {SigmoidBackwardOp::create(b, getLoc(), resultGrads[0], getOutput())});
  return success();
}

void TanhOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getOutput());
}

LogicalResult TanhOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(
      {TanhBackwardOp::create(b, getLoc(), resultGrads[0], getOutput())});
  return success();
}

void ClipOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getInput());
}

LogicalResult ClipOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign({ClipBackwardOp::create(
      b, getLoc(), resultGrads[0], getInput(), getMinAttr(), getMaxAttr())});
  return success();
}

// Zero almost everywhere: no gradient.
#define MLG_NO_GRADIENT(OP)                                                    \
  void OP::getBackwardReads(SmallVectorImpl<Value> &) {}                       \
  LogicalResult OP::buildGradient(OpBuilder &, ArrayRef<Value>,                \
                                  SmallVectorImpl<Value> &operandGrads) {      \
    operandGrads.assign(1, nullptr);                                           \
    return success();                                                          \
  }
MLG_NO_GRADIENT(SignOp)
MLG_NO_GRADIENT(FloorOp)
MLG_NO_GRADIENT(CeilOp)
MLG_NO_GRADIENT(RoundOp)
#undef MLG_NO_GRADIENT

void AbsOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getInput());
}

LogicalResult AbsOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  operandGrads.assign({MulOp::create(b, loc, resultGrads[0],
                                     SignOp::create(b, loc, getInput()))});
  return success();
}

// d sqrt(x) = 1 / (2 sqrt(x)): the result.
void SqrtOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getOutput());
}

LogicalResult SqrtOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  operandGrads.assign({DivOp::create(
      b, loc, scaleBy(b, loc, resultGrads[0], 0.5), getOutput())});
  return success();
}

void ExpOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getOutput());
}

LogicalResult ExpOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(
      {MulOp::create(b, getLoc(), resultGrads[0], getOutput())});
  return success();
}

void LogOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getInput());
}

LogicalResult LogOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign({DivOp::create(b, getLoc(), resultGrads[0], getInput())});
  return success();
}

// d(1/x) = -1/x^2 = -y^2.
void ReciprocalOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getOutput());
}

LogicalResult
ReciprocalOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value y = getOutput();
  Value square = MulOp::create(b, loc, y, y);
  operandGrads.assign(
      {NegOp::create(b, loc, MulOp::create(b, loc, resultGrads[0], square))});
  return success();
}

// d erf(x) = 2 / sqrt(pi) exp(-x^2).
void ErfOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getInput());
}

LogicalResult ErfOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value x = getInput();
  Value gauss =
      ExpOp::create(b, loc, NegOp::create(b, loc, MulOp::create(b, loc, x, x)));
  constexpr double twoOverSqrtPi = 1.1283791670955126;
  operandGrads.assign({MulOp::create(
      b, loc, scaleBy(b, loc, resultGrads[0], twoOverSqrtPi), gauss)});
  return success();
}

void SinOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getInput());
}

LogicalResult SinOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  operandGrads.assign({MulOp::create(b, loc, resultGrads[0],
                                     CosOp::create(b, loc, getInput()))});
  return success();
}

void CosOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getInput());
}

LogicalResult CosOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value minusSin = NegOp::create(b, loc, SinOp::create(b, loc, getInput()));
  operandGrads.assign({MulOp::create(b, loc, resultGrads[0], minusSin)});
  return success();
}

// d softplus(x) = sigmoid(x).
void SoftplusOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getInput());
}

LogicalResult SoftplusOp::buildGradient(OpBuilder &b,
                                        ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  operandGrads.assign({MulOp::create(b, loc, resultGrads[0],
                                     SigmoidOp::create(b, loc, getInput()))});
  return success();
}

// d softsign(x) = 1 / (1 + |x|)^2.
void SoftsignOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getInput());
}

LogicalResult SoftsignOp::buildGradient(OpBuilder &b,
                                        ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value x = getInput();
  Value denom = AddOp::create(b, loc, AbsOp::create(b, loc, x),
                              scalarLike(b, loc, x, 1.0));
  Value square = MulOp::create(b, loc, denom, denom);
  operandGrads.assign({DivOp::create(b, loc, resultGrads[0], square)});
  return success();
}

//===----------------------------------------------------------------------===//
// Parametric activations
//===----------------------------------------------------------------------===//
//
// With positive parameters the output is negative exactly where the input
// is, and the negative branch's derivative is an affine function of the
// output: the backward reads the output, which lets the op run in place.
// Otherwise it reads the input.

// x < 0 ? alpha x : x.
void LeakyReluOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getAlpha().convertToDouble() > 0 ? getOutput() : getInput());
}

LogicalResult LeakyReluOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  double alpha = getAlpha().convertToDouble();
  Value dy = resultGrads[0];
  Value v = alpha > 0 ? getOutput() : getInput();
  Value negative = LessOp::create(b, loc, v, scalarLike(b, loc, v, 0.0));
  operandGrads.assign(
      {WhereOp::create(b, loc, negative, scaleBy(b, loc, dy, alpha), dy)});
  return success();
}

// max(0, min(1, alpha x + beta)): slope alpha where the output is strictly
// inside (0, 1), zero where it is clamped.
void HardSigmoidOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getOutput());
}

LogicalResult HardSigmoidOp::buildGradient(OpBuilder &b,
                                           ArrayRef<Value> resultGrads,
                                           SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value y = getOutput(), dy = resultGrads[0];
  Value inside =
      AndOp::create(b, loc, GreaterOp::create(b, loc, y, scalarLike(b, loc, y, 0.0)),
                    LessOp::create(b, loc, y, scalarLike(b, loc, y, 1.0)));
  operandGrads.assign(
      {WhereOp::create(b, loc, inside,
                       scaleBy(b, loc, dy, getAlpha().convertToDouble()),
                       scalarLike(b, loc, dy, 0.0))});
  return success();
}

// x < 0 ? alpha (e^x - 1) : x; for x < 0 the derivative alpha e^x = y + alpha.
void EluOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getAlpha().convertToDouble() > 0 ? getOutput() : getInput());
}

LogicalResult EluOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  double alpha = getAlpha().convertToDouble();
  Value dy = resultGrads[0];
  Value v = alpha > 0 ? getOutput() : getInput();
  Value negative = LessOp::create(b, loc, v, scalarLike(b, loc, v, 0.0));
  Value slope =
      alpha > 0
          ? AddOp::create(b, loc, v, scalarLike(b, loc, v, alpha)).getResult()
          : scaleBy(b, loc, ExpOp::create(b, loc, v), alpha);
  operandGrads.assign({WhereOp::create(b, loc, negative,
                                       MulOp::create(b, loc, dy, slope), dy)});
  return success();
}

// gamma (x <= 0 ? alpha (e^x - 1) : x); for x <= 0 the derivative
// gamma alpha e^x = y + gamma alpha.
void SeluOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  bool fromOutput =
      getAlpha().convertToDouble() > 0 && getGamma().convertToDouble() > 0;
  reads.push_back(fromOutput ? getOutput() : getInput());
}

LogicalResult SeluOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  double alpha = getAlpha().convertToDouble();
  double gamma = getGamma().convertToDouble();
  bool fromOutput = alpha > 0 && gamma > 0;
  Value dy = resultGrads[0];
  Value v = fromOutput ? getOutput() : getInput();
  Value negative = LessOrEqualOp::create(b, loc, v, scalarLike(b, loc, v, 0.0));
  Value slope =
      fromOutput
          ? AddOp::create(b, loc, v, scalarLike(b, loc, v, gamma * alpha))
                .getResult()
          : scaleBy(b, loc, ExpOp::create(b, loc, v), gamma * alpha);
  operandGrads.assign(
      {WhereOp::create(b, loc, negative, MulOp::create(b, loc, dy, slope),
                       scaleBy(b, loc, dy, gamma))});
  return success();
}

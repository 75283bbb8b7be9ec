//===- ElementwiseOps.cpp - elementwise shape inference and folding -------===//
//
// Binary ops broadcast multidirectionally; every elementwise op folds over
// constant operands with the element semantics of ONNX: APInt arithmetic at
// the operand's width and signedness, APFloat arithmetic at the operand's
// precision, transcendental functions through double.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "FoldUtils.h"

#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/APSInt.h"

#include <cmath>

using namespace mlir;
using namespace mlg;

//===----------------------------------------------------------------------===//
// Scalar conversions
//===----------------------------------------------------------------------===//

static double toDouble(const APFloat &v) {
  bool lost;
  APFloat d = v;
  d.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
  return d.convertToDouble();
}

static APFloat fromDouble(double v, FloatType type) {
  bool lost;
  APFloat f(v);
  f.convert(type.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
  return f;
}

//===----------------------------------------------------------------------===//
// Generic folders
//===----------------------------------------------------------------------===//

namespace {
using FloatUnaryFn = llvm::function_ref<std::optional<double>(double)>;
using IntUnaryFn =
    llvm::function_ref<std::optional<APInt>(const APInt &, bool isUnsigned)>;
using FloatBinaryFn = llvm::function_ref<std::optional<APFloat>(
    const APFloat &, const APFloat &)>;
using IntBinaryFn = llvm::function_ref<std::optional<APInt>(
    const APInt &, const APInt &, bool isUnsigned)>;
} // namespace

/// Folds a unary op. Either function may be null when the op has no such
/// form; a function returning nothing stops the fold (e.g. log of zero).
static Attribute foldUnary(Attribute operand, ShapedType resultType,
                           FloatUnaryFn floatFn, IntUnaryFn intFn) {
  DenseElementsAttr dense = getFoldable(operand);
  if (!dense)
    return {};
  Type elementType = dense.getElementType();
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    if (!floatFn)
      return {};
    SmallVector<APFloat> out;
    for (const APFloat &v : dense.getValues<APFloat>()) {
      std::optional<double> r = floatFn(toDouble(v));
      if (!r)
        return {};
      out.push_back(fromDouble(*r, floatType));
    }
    return DenseElementsAttr::get(resultType, out);
  }
  if (!intFn)
    return {};
  bool isUnsigned = isUnsignedLike(elementType);
  SmallVector<APInt> out;
  for (const APInt &v : dense.getValues<APInt>()) {
    std::optional<APInt> r = intFn(v, isUnsigned);
    if (!r)
      return {};
    out.push_back(*r);
  }
  return DenseElementsAttr::get(resultType, out);
}

/// Folds a broadcasting binary op whose operands share an element type. The
/// result element type may differ (comparisons give i1).
static Attribute foldBinary(ArrayRef<Attribute> operands, ShapedType resultType,
                            FloatBinaryFn floatFn, IntBinaryFn intFn) {
  DenseElementsAttr lhs = getFoldable(operands[0]);
  DenseElementsAttr rhs = getFoldable(operands[1]);
  if (!lhs || !rhs || lhs.getElementType() != rhs.getElementType() ||
      checkedNumElements(resultType.getShape()).value_or(kMaxFoldElements + 1) >
          kMaxFoldElements)
    return {};
  ArrayRef<int64_t> outShape = resultType.getShape();
  SmallVector<int64_t> mapL =
      broadcastIndexMap(outShape, lhs.getType().getShape());
  SmallVector<int64_t> mapR =
      broadcastIndexMap(outShape, rhs.getType().getShape());
  Type elementType = lhs.getElementType();
  bool boolResult =
      resultType.getElementType().isInteger(1) && !elementType.isInteger(1);
  SmallVector<APInt> ints;
  SmallVector<APFloat> floats;
  if (isa<FloatType>(elementType)) {
    if (!floatFn)
      return {};
    SmallVector<APFloat> a(lhs.getValues<APFloat>()),
        b(rhs.getValues<APFloat>());
    for (size_t i = 0; i < mapL.size(); ++i) {
      std::optional<APFloat> r = floatFn(a[mapL[i]], b[mapR[i]]);
      if (!r)
        return {};
      if (boolResult)
        ints.push_back(APInt(1, r->isNonZero()));
      else
        floats.push_back(*r);
    }
  } else {
    if (!intFn)
      return {};
    bool isUnsigned = isUnsignedLike(elementType);
    SmallVector<APInt> a(lhs.getValues<APInt>()), b(rhs.getValues<APInt>());
    for (size_t i = 0; i < mapL.size(); ++i) {
      std::optional<APInt> r = intFn(a[mapL[i]], b[mapR[i]], isUnsigned);
      if (!r)
        return {};
      ints.push_back(boolResult ? APInt(1, !r->isZero()) : *r);
    }
  }
  if (!floats.empty() ||
      (ints.empty() && isa<FloatType>(resultType.getElementType())))
    return DenseElementsAttr::get(resultType, floats);
  return DenseElementsAttr::get(resultType, ints);
}

/// A comparison result as the 0/1 APFloat or APInt foldBinary turns into i1.
static APFloat floatBool(bool b) { return APFloat(b ? 1.0 : 0.0); }
static APInt intBool(bool b) { return APInt(1, b); }

//===----------------------------------------------------------------------===//
// Shape inference of broadcasting ops
//===----------------------------------------------------------------------===//

static LogicalResult inferBroadcast(std::optional<Location> loc,
                                    ValueRange operands, Type elementType,
                                    SmallVectorImpl<Type> &types) {
  SmallVector<int64_t> shape;
  for (auto [i, v] : llvm::enumerate(operands)) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || !type.hasStaticShape())
      return emitOptionalError(loc, "operands must be static-shaped tensors");
    auto next = broadcastShapes(shape, type.getShape());
    if (!next)
      return emitOptionalError(loc, "operand shapes do not broadcast: ",
                               operands[0].getType(), " and ", v.getType());
    shape = *next;
  }
  types.push_back(RankedTensorType::get(shape, elementType));
  return success();
}

#define MLG_INFER_BROADCAST(OP, ELEMENT)                                       \
  LogicalResult OP::inferReturnTypes(                                          \
      MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,          \
      SmallVectorImpl<Type> &types) {                                          \
    (void)ctx;                                                                 \
    Type lhsElement = getElementTypeOrSelf(adaptor.getLhs().getType());        \
    (void)lhsElement;                                                          \
    return inferBroadcast(loc, adaptor.getOperands(), ELEMENT, types);         \
  }

MLG_INFER_BROADCAST(AddOp, lhsElement)
MLG_INFER_BROADCAST(SubOp, lhsElement)
MLG_INFER_BROADCAST(MulOp, lhsElement)
MLG_INFER_BROADCAST(DivOp, lhsElement)
MLG_INFER_BROADCAST(MaxOp, lhsElement)
MLG_INFER_BROADCAST(MinOp, lhsElement)
MLG_INFER_BROADCAST(ModOp, lhsElement)
MLG_INFER_BROADCAST(PowOp, lhsElement)
MLG_INFER_BROADCAST(EqualOp, IntegerType::get(ctx, 1))
MLG_INFER_BROADCAST(LessOp, IntegerType::get(ctx, 1))
MLG_INFER_BROADCAST(LessOrEqualOp, IntegerType::get(ctx, 1))
MLG_INFER_BROADCAST(GreaterOp, IntegerType::get(ctx, 1))
MLG_INFER_BROADCAST(GreaterOrEqualOp, IntegerType::get(ctx, 1))
MLG_INFER_BROADCAST(AndOp, IntegerType::get(ctx, 1))
MLG_INFER_BROADCAST(OrOp, IntegerType::get(ctx, 1))
MLG_INFER_BROADCAST(XorOp, IntegerType::get(ctx, 1))
#undef MLG_INFER_BROADCAST

LogicalResult WhereOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  Type x = getElementTypeOrSelf(adaptor.getX().getType());
  if (x != getElementTypeOrSelf(adaptor.getY().getType()))
    return emitOptionalError(loc, "x and y must have the same element type");
  return inferBroadcast(loc, adaptor.getOperands(), x, types);
}

//===----------------------------------------------------------------------===//
// Binary folders
//===----------------------------------------------------------------------===//

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      adaptor.getOperands(), getType(),
      [](const APFloat &a, const APFloat &b) -> std::optional<APFloat> {
        return a + b;
      },
      [](const APInt &a, const APInt &b, bool) -> std::optional<APInt> {
        return a + b;
      });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      adaptor.getOperands(), getType(),
      [](const APFloat &a, const APFloat &b) -> std::optional<APFloat> {
        return a - b;
      },
      [](const APInt &a, const APInt &b, bool) -> std::optional<APInt> {
        return a - b;
      });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      adaptor.getOperands(), getType(),
      [](const APFloat &a, const APFloat &b) -> std::optional<APFloat> {
        return a * b;
      },
      [](const APInt &a, const APInt &b, bool) -> std::optional<APInt> {
        return a * b;
      });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      adaptor.getOperands(), getType(),
      [](const APFloat &a, const APFloat &b) -> std::optional<APFloat> {
        return a / b;
      },
      [](const APInt &a, const APInt &b,
         bool isUnsigned) -> std::optional<APInt> {
        if (b.isZero() ||
            (!isUnsigned && a.isMinSignedValue() && b.isAllOnes()))
          return std::nullopt; // undefined: the runtime decides
        return isUnsigned ? a.udiv(b) : a.sdiv(b);
      });
}

OpFoldResult MaxOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      adaptor.getOperands(), getType(),
      [](const APFloat &a, const APFloat &b) -> std::optional<APFloat> {
        return llvm::maximum(a, b);
      },
      [](const APInt &a, const APInt &b,
         bool isUnsigned) -> std::optional<APInt> {
        return isUnsigned ? llvm::APIntOps::umax(a, b)
                          : llvm::APIntOps::smax(a, b);
      });
}

OpFoldResult MinOp::fold(FoldAdaptor adaptor) {
  return foldBinary(
      adaptor.getOperands(), getType(),
      [](const APFloat &a, const APFloat &b) -> std::optional<APFloat> {
        return llvm::minimum(a, b);
      },
      [](const APInt &a, const APInt &b,
         bool isUnsigned) -> std::optional<APInt> {
        return isUnsigned ? llvm::APIntOps::umin(a, b)
                          : llvm::APIntOps::smin(a, b);
      });
}

OpFoldResult ModOp::fold(FoldAdaptor adaptor) {
  bool fmod = getFmod();
  return foldBinary(
      adaptor.getOperands(), getType(),
      [&](const APFloat &a, const APFloat &b) -> std::optional<APFloat> {
        if (!fmod)
          return std::nullopt; // ONNX requires fmod for floats
        APFloat r = a;
        r.mod(b);
        return r;
      },
      [&](const APInt &a, const APInt &b,
          bool isUnsigned) -> std::optional<APInt> {
        if (b.isZero() ||
            (!isUnsigned && a.isMinSignedValue() && b.isAllOnes()))
          return std::nullopt;
        if (isUnsigned)
          return a.urem(b);
        APInt r = a.srem(b); // sign of the dividend, as C fmod
        if (!fmod && !r.isZero() && (r.isNegative() != b.isNegative()))
          r += b; // sign of the divisor, as Python
        return r;
      });
}

OpFoldResult PowOp::fold(FoldAdaptor adaptor) {
  DenseElementsAttr base = getFoldable(adaptor.getLhs());
  DenseElementsAttr exp = getFoldable(adaptor.getRhs());
  if (!base || !exp)
    return {};
  ShapedType type = getType();
  SmallVector<int64_t> mapB =
      broadcastIndexMap(type.getShape(), base.getType().getShape());
  SmallVector<int64_t> mapE =
      broadcastIndexMap(type.getShape(), exp.getType().getShape());
  auto values = [](DenseElementsAttr attr) {
    SmallVector<double> out;
    if (isa<FloatType>(attr.getElementType())) {
      for (const APFloat &v : attr.getValues<APFloat>())
        out.push_back(toDouble(v));
    } else {
      bool isUnsigned = isUnsignedLike(attr.getElementType());
      for (const APInt &v : attr.getValues<APInt>())
        out.push_back(isUnsigned ? static_cast<double>(v.getZExtValue())
                                 : static_cast<double>(v.getSExtValue()));
    }
    return out;
  };
  SmallVector<double> b = values(base), e = values(exp);
  Type elementType = type.getElementType();
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    SmallVector<APFloat> out;
    for (size_t i = 0; i < mapB.size(); ++i)
      out.push_back(fromDouble(std::pow(b[mapB[i]], e[mapE[i]]), floatType));
    return DenseElementsAttr::get(type, out);
  }
  SmallVector<APInt> out;
  unsigned width = elementType.getIntOrFloatBitWidth();
  for (size_t i = 0; i < mapB.size(); ++i) {
    double r = std::trunc(std::pow(b[mapB[i]], e[mapE[i]]));
    if (!std::isfinite(r) || std::fabs(r) > 9.0e15)
      return {};
    out.push_back(APInt(width, static_cast<int64_t>(r), /*isSigned=*/true,
                        /*implicitTrunc=*/true));
  }
  return DenseElementsAttr::get(type, out);
}

#define MLG_FOLD_COMPARE(OP, FLOAT_EXPR, SIGNED, UNSIGNED)                     \
  OpFoldResult OP::fold(FoldAdaptor adaptor) {                                 \
    return foldBinary(                                                         \
        adaptor.getOperands(), getType(),                                      \
        [](const APFloat &a, const APFloat &b) -> std::optional<APFloat> {     \
          APFloat::cmpResult c = a.compare(b);                                 \
          (void)c;                                                             \
          return floatBool(FLOAT_EXPR);                                        \
        },                                                                     \
        [](const APInt &a, const APInt &b,                                     \
           bool isUnsigned) -> std::optional<APInt> {                          \
          return intBool(isUnsigned ? a.UNSIGNED(b) : a.SIGNED(b));            \
        });                                                                    \
  }

MLG_FOLD_COMPARE(EqualOp, c == APFloat::cmpEqual, eq, eq)
MLG_FOLD_COMPARE(LessOp, c == APFloat::cmpLessThan, slt, ult)
MLG_FOLD_COMPARE(LessOrEqualOp,
                 c == APFloat::cmpLessThan || c == APFloat::cmpEqual, sle, ule)
MLG_FOLD_COMPARE(GreaterOp, c == APFloat::cmpGreaterThan, sgt, ugt)
MLG_FOLD_COMPARE(GreaterOrEqualOp,
                 c == APFloat::cmpGreaterThan || c == APFloat::cmpEqual, sge,
                 uge)
#undef MLG_FOLD_COMPARE

#define MLG_FOLD_LOGIC(OP, EXPR)                                               \
  OpFoldResult OP::fold(FoldAdaptor adaptor) {                                 \
    return foldBinary(adaptor.getOperands(), getType(), nullptr,               \
                      [](const APInt &a, const APInt &b,                       \
                         bool) -> std::optional<APInt> { return EXPR; });      \
  }
MLG_FOLD_LOGIC(AndOp, a &b)
MLG_FOLD_LOGIC(OrOp, a | b)
MLG_FOLD_LOGIC(XorOp, a ^ b)
#undef MLG_FOLD_LOGIC

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  DenseElementsAttr cond = getFoldable(adaptor.getCondition());
  if (cond && cond.isSplat() && getX().getType() == getType() &&
      getY().getType() == getType())
    return cond.getSplatValue<bool>() ? getX() : getY();
  DenseElementsAttr x = getFoldable(adaptor.getX());
  DenseElementsAttr y = getFoldable(adaptor.getY());
  if (!cond || !x || !y ||
      checkedNumElements(getType().getShape()).value_or(kMaxFoldElements + 1) >
          kMaxFoldElements)
    return {};
  ArrayRef<int64_t> shape = getType().getShape();
  SmallVector<int64_t> mc = broadcastIndexMap(shape, cond.getType().getShape());
  SmallVector<int64_t> mx = broadcastIndexMap(shape, x.getType().getShape());
  SmallVector<int64_t> my = broadcastIndexMap(shape, y.getType().getShape());
  SmallVector<bool> c(cond.getValues<bool>());
  SmallVector<Attribute> xs(x.getValues<Attribute>()),
      ys(y.getValues<Attribute>());
  SmallVector<Attribute> out;
  for (size_t i = 0; i < mc.size(); ++i)
    out.push_back(c[mc[i]] ? xs[mx[i]] : ys[my[i]]);
  return DenseElementsAttr::get(getType(), out);
}

//===----------------------------------------------------------------------===//
// Unary folders
//===----------------------------------------------------------------------===//

#define MLG_FOLD_FLOAT_UNARY(OP, EXPR)                                         \
  OpFoldResult OP::fold(FoldAdaptor adaptor) {                                 \
    return foldUnary(                                                          \
        adaptor.getInput(), getType(),                                         \
        [&](double x) -> std::optional<double> { return EXPR; }, nullptr);     \
  }

static std::optional<double> notNaN(double v) {
  if (std::isnan(v))
    return std::nullopt;
  return v;
}

MLG_FOLD_FLOAT_UNARY(SqrtOp,
                     x < 0 ? std::nullopt : std::optional<double>(std::sqrt(x)))
MLG_FOLD_FLOAT_UNARY(ExpOp, notNaN(std::exp(x)))
MLG_FOLD_FLOAT_UNARY(LogOp,
                     x <= 0 ? std::nullopt : std::optional<double>(std::log(x)))
MLG_FOLD_FLOAT_UNARY(TanhOp, std::tanh(x))
MLG_FOLD_FLOAT_UNARY(SigmoidOp, 1.0 / (1.0 + std::exp(-x)))
MLG_FOLD_FLOAT_UNARY(ReciprocalOp,
                     x == 0 ? std::nullopt : std::optional<double>(1.0 / x))
MLG_FOLD_FLOAT_UNARY(FloorOp, std::floor(x))
MLG_FOLD_FLOAT_UNARY(CeilOp, std::ceil(x))
MLG_FOLD_FLOAT_UNARY(RoundOp, std::nearbyint(x))
MLG_FOLD_FLOAT_UNARY(ErfOp, std::erf(x))
MLG_FOLD_FLOAT_UNARY(SinOp, std::sin(x))
MLG_FOLD_FLOAT_UNARY(CosOp, std::cos(x))
MLG_FOLD_FLOAT_UNARY(SoftplusOp, std::log1p(std::exp(x)))
MLG_FOLD_FLOAT_UNARY(SoftsignOp, x / (1.0 + std::fabs(x)))
MLG_FOLD_FLOAT_UNARY(LeakyReluOp, x < 0 ? getAlpha().convertToDouble() * x : x)
MLG_FOLD_FLOAT_UNARY(EluOp,
                     x < 0 ? getAlpha().convertToDouble() * std::expm1(x) : x)
MLG_FOLD_FLOAT_UNARY(SeluOp,
                     getGamma().convertToDouble() *
                         (x <= 0 ? getAlpha().convertToDouble() * std::expm1(x)
                                 : x))
MLG_FOLD_FLOAT_UNARY(HardSigmoidOp,
                     std::max(0.0,
                              std::min(1.0, getAlpha().convertToDouble() * x +
                                                getBeta().convertToDouble())))
#undef MLG_FOLD_FLOAT_UNARY

OpFoldResult ReluOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      adaptor.getInput(), getType(),
      [](double x) -> std::optional<double> { return x < 0 ? 0.0 : x; },
      [](const APInt &x, bool isUnsigned) -> std::optional<APInt> {
        return !isUnsigned && x.isNegative() ? APInt::getZero(x.getBitWidth())
                                             : x;
      });
}

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      adaptor.getInput(), getType(),
      [](double x) -> std::optional<double> { return -x; },
      [](const APInt &x, bool) -> std::optional<APInt> { return -x; });
}

OpFoldResult AbsOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      adaptor.getInput(), getType(),
      [](double x) -> std::optional<double> { return std::fabs(x); },
      [](const APInt &x, bool isUnsigned) -> std::optional<APInt> {
        return isUnsigned ? x : x.abs();
      });
}

OpFoldResult SignOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      adaptor.getInput(), getType(),
      [](double x) -> std::optional<double> {
        return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);
      },
      [](const APInt &x, bool isUnsigned) -> std::optional<APInt> {
        unsigned w = x.getBitWidth();
        if (x.isZero())
          return APInt::getZero(w);
        if (!isUnsigned && x.isNegative())
          return APInt::getAllOnes(w);
        return APInt(w, 1);
      });
}

OpFoldResult NotOp::fold(FoldAdaptor adaptor) {
  return foldUnary(
      adaptor.getInput(), getType(), nullptr,
      [](const APInt &x, bool) -> std::optional<APInt> { return ~x; });
}

OpFoldResult ClipOp::fold(FoldAdaptor adaptor) {
  std::optional<double> lo, hi;
  if (auto min = getMinAttr())
    lo = min.getValueAsDouble();
  if (auto max = getMaxAttr())
    hi = max.getValueAsDouble();
  return foldUnary(
      adaptor.getInput(), getType(),
      [&](double x) -> std::optional<double> {
        if (lo && x < *lo)
          x = *lo;
        if (hi && x > *hi)
          x = *hi;
        return x;
      },
      [&](const APInt &x, bool isUnsigned) -> std::optional<APInt> {
        double v = isUnsigned ? static_cast<double>(x.getZExtValue())
                              : static_cast<double>(x.getSExtValue());
        if ((lo && v < *lo) || (hi && v > *hi))
          return std::nullopt; // clamping integers through double: leave it
        return x;
      });
}

//===----------------------------------------------------------------------===//
// CastOp
//===----------------------------------------------------------------------===//

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // cast(cast(x)) folds only where the inner cast loses nothing.
  DenseElementsAttr dense = getFoldable(adaptor.getInput());
  if (!dense)
    return {};
  Type from = dense.getElementType(), to = getType().getElementType();
  bool fromUnsigned = isUnsignedLike(from);
  if (auto toFloat = dyn_cast<FloatType>(to)) {
    SmallVector<APFloat> out;
    if (isa<FloatType>(from)) {
      for (APFloat v : dense.getValues<APFloat>()) {
        bool lost;
        v.convert(toFloat.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                  &lost);
        out.push_back(v);
      }
    } else {
      for (const APInt &v : dense.getValues<APInt>()) {
        APFloat f(toFloat.getFloatSemantics());
        f.convertFromAPInt(v, /*IsSigned=*/!fromUnsigned,
                           APFloat::rmNearestTiesToEven);
        out.push_back(f);
      }
    }
    return DenseElementsAttr::get(getType(), out);
  }
  unsigned width = to.getIntOrFloatBitWidth();
  bool toBool = to.isInteger(1);
  bool toUnsigned = isUnsignedLike(to);
  SmallVector<APInt> out;
  if (isa<FloatType>(from)) {
    for (const APFloat &v : dense.getValues<APFloat>()) {
      if (toBool) {
        out.push_back(APInt(1, !v.isZero()));
        continue;
      }
      APSInt result(width, toUnsigned);
      bool exact;
      if (v.isNaN() || v.isInfinity() ||
          v.convertToInteger(result, APFloat::rmTowardZero, &exact) &
              APFloat::opInvalidOp)
        return {}; // out of range: implementation-defined in ONNX
      out.push_back(result);
    }
  } else {
    for (const APInt &v : dense.getValues<APInt>()) {
      if (toBool)
        out.push_back(APInt(1, !v.isZero()));
      else
        out.push_back(fromUnsigned ? v.zextOrTrunc(width)
                                   : v.sextOrTrunc(width));
    }
  }
  return DenseElementsAttr::get(getType(), out);
}

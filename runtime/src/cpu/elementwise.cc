// elementwise.cc - unary, binary (broadcasting), select and cast kernels.
//
// Every kernel reads element i before writing element i of its output, so
// an output may alias an input of the same shape (the plan's in-place
// reuse). Integer arithmetic never invokes undefined behaviour: division by
// zero gives 0, and float-to-integer casts saturate (NaN gives 0).

#include "common.h"

#include <cmath>
#include <limits>
#include <type_traits>

namespace mlg_rt::cpu {
namespace {

//===----------------------------------------------------------------------===//
// Checks
//===----------------------------------------------------------------------===//

Status checkUnary(const KernelCall &c, bool floatOnly,
                  bool allowUnsigned = true, bool boolOnly = false) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  const Tensor &a = c.in[0], &o = c.out[0];
  if (!sameShape(a, o) || a.dtype != o.dtype)
    return c.error("the result must have the operand's type and shape");
  if (boolOnly != (a.dtype == DType::Bool))
    return c.error("unsupported element type ", dtypeName(a.dtype));
  if (floatOnly && !isFloat(a.dtype))
    return c.error("needs a floating-point operand, got ", dtypeName(a.dtype));
  if (!allowUnsigned && isUnsignedInt(a.dtype))
    return c.error("needs a signed operand, got ", dtypeName(a.dtype));
  return Status();
}

/// Broadcast shape check for n operands into one result.
Status checkBroadcast(const KernelCall &c, size_t n) {
  std::vector<int64_t> shape;
  for (size_t i = 0; i < n; ++i) {
    auto next = broadcast(shape, *c.in[i].shape);
    if (!next)
      return c.error("operand shapes do not broadcast");
    shape = *next;
  }
  if (shape != *c.out[0].shape)
    return c.error("the result shape is not the operands' broadcast shape");
  return Status();
}

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

template <typename T, typename F>
void mapUnary(const Tensor &in, const Tensor &out, F f) {
  const T *a = in.as<T>();
  T *o = out.as<T>();
  for (int64_t i = 0; i < in.numel; ++i)
    o[i] = Elem<T>::store(f(Elem<T>::load(a[i])));
}

/// A float unary kernel from a function of double-or-float.
template <typename F> Status runFloatUnary(KernelCall &c, F f) {
  return dispatchFloat(c.in[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    mapUnary<T>(c.in[0], c.out[0], [&](C x) { return C(f(x)); });
    return Status();
  });
}

#define MLG_FLOAT_UNARY(NAME, EXPR)                                            \
  KernelDef {                                                                  \
    NAME, [](const KernelCall &c) { return checkUnary(c, true); },             \
        [](KernelCall &c) {                                                    \
          return runFloatUnary(c, [&](auto x) { return EXPR; });               \
        }                                                                      \
  }

template <typename C> C softplus(C x) {
  return x > C(20) ? x : std::log1p(std::exp(x));
}

double attrOr(const KernelCall &c, const char *name, double dflt) {
  auto v = c.attrs().getFloat(name);
  return v ? *v : dflt;
}

Status runRelu(KernelCall &c) {
  return dispatchNumeric(c.in[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    mapUnary<T>(c.in[0], c.out[0], [](C x) { return x < C(0) ? C(0) : x; });
    return Status();
  });
}

Status runNeg(KernelCall &c) {
  return dispatchNumeric(c.in[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    if constexpr (std::is_integral_v<C>)
      // Wrap like two's complement: -INT_MIN is INT_MIN, without overflow.
      mapUnary<T>(c.in[0], c.out[0], [](C x) {
        return C(std::make_unsigned_t<C>(0) - std::make_unsigned_t<C>(x));
      });
    else
      mapUnary<T>(c.in[0], c.out[0], [](C x) { return -x; });
    return Status();
  });
}

Status runAbs(KernelCall &c) {
  return dispatchNumeric(c.in[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    if constexpr (std::is_unsigned_v<C>)
      mapUnary<T>(c.in[0], c.out[0], [](C x) { return x; });
    else if constexpr (std::is_integral_v<C>)
      mapUnary<T>(c.in[0], c.out[0], [](C x) {
        return x < 0
                   ? C(std::make_unsigned_t<C>(0) - std::make_unsigned_t<C>(x))
                   : x;
      });
    else
      mapUnary<T>(c.in[0], c.out[0], [](C x) { return std::fabs(x); });
    return Status();
  });
}

Status runSign(KernelCall &c) {
  return dispatchNumeric(c.in[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    mapUnary<T>(c.in[0], c.out[0], [](C x) {
      return x > C(0) ? C(1) : (x < C(0) ? C(-1) : C(0));
    });
    return Status();
  });
}

Status runNot(KernelCall &c) {
  mapUnary<uint8_t>(c.in[0], c.out[0], [](uint8_t x) { return uint8_t(!x); });
  return Status();
}

Status checkClip(const KernelCall &c) { return checkUnary(c, false); }

Status runClip(KernelCall &c) {
  std::optional<double> lo = c.attrs().getFloat("min"),
                        hi = c.attrs().getFloat("max");
  return dispatchNumeric(c.in[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    // Bounds outside the type's range clamp to it.
    auto bound = [](double v) {
      if constexpr (std::is_integral_v<C>) {
        if (v <= double(std::numeric_limits<C>::lowest()))
          return std::numeric_limits<C>::lowest();
        if (v >= double(std::numeric_limits<C>::max()))
          return std::numeric_limits<C>::max();
      }
      return C(v);
    };
    C l = lo ? bound(*lo) : std::numeric_limits<C>::lowest();
    C h = hi ? bound(*hi) : std::numeric_limits<C>::max();
    if constexpr (!std::is_integral_v<C>) {
      if (!lo)
        l = -std::numeric_limits<C>::infinity();
      if (!hi)
        h = std::numeric_limits<C>::infinity();
    }
    mapUnary<T>(c.in[0], c.out[0],
                [&](C x) { return x < l ? l : (x > h ? h : x); });
    return Status();
  });
}

//===----------------------------------------------------------------------===//
// Cast
//===----------------------------------------------------------------------===//

Status checkCast(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  if (!sameShape(c.in[0], c.out[0]))
    return c.error("the result must have the operand's shape");
  return Status();
}

/// A value converted to the storage type To: saturating for floats to
/// integers, != 0 for bool.
template <typename To, typename From> To convert(From v, bool toBool) {
  using C = typename Elem<To>::Compute;
  if (toBool)
    return To(v != From(0) ? 1 : 0);
  if constexpr (std::is_integral_v<C> && !std::is_integral_v<From>) {
    if (std::isnan(v))
      return To(0);
    if (v <= From(std::numeric_limits<C>::lowest()))
      return std::numeric_limits<C>::lowest();
    if (v >= From(std::numeric_limits<C>::max()))
      return std::numeric_limits<C>::max();
    return To(C(v));
  } else {
    return Elem<To>::store(C(v));
  }
}

Status runCast(KernelCall &c) {
  const Tensor &in = c.in[0], &out = c.out[0];
  bool toBool = out.dtype == DType::Bool;
  return dispatchAny(in.dtype, [&]<typename From>() {
    return dispatchAny(out.dtype, [&]<typename To>() {
      const From *a = in.as<From>();
      To *o = out.as<To>();
      // Elementwise with a possible alias: read into a temporary first.
      for (int64_t i = 0; i < in.numel; ++i) {
        auto v = Elem<From>::load(a[i]);
        o[i] = convert<To>(v, toBool);
      }
      return Status();
    });
  });
}

//===----------------------------------------------------------------------===//
// Binary
//===----------------------------------------------------------------------===//

/// Applies f(a, b) -> R over broadcast operands of storage type T into a
/// result of storage type R.
template <typename T, typename R, typename F>
void mapBinary(const Tensor &a, const Tensor &b, const Tensor &out, F f) {
  const T *x = a.as<T>(), *y = b.as<T>();
  R *o = out.as<R>();
  if (sameShape(a, out) && sameShape(b, out)) {
    for (int64_t i = 0; i < out.numel; ++i)
      o[i] = f(Elem<T>::load(x[i]), Elem<T>::load(y[i]));
    return;
  }
  if (b.numel == 1 && sameShape(a, out)) {
    auto s = Elem<T>::load(y[0]);
    for (int64_t i = 0; i < out.numel; ++i)
      o[i] = f(Elem<T>::load(x[i]), s);
    return;
  }
  BroadcastIndexer idx(*out.shape, {a.shape, b.shape});
  for (int64_t i = 0; i < out.numel; ++i, idx.next())
    o[i] = f(Elem<T>::load(x[idx[0]]), Elem<T>::load(y[idx[1]]));
}

enum class Arith { Add, Sub, Mul, Div, Max, Min, Mod };

Status checkArith(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 2, 1));
  DType t = c.out[0].dtype;
  if (c.in[0].dtype != t || c.in[1].dtype != t || t == DType::Bool)
    return c.error("needs numeric operands and result of one type");
  return checkBroadcast(c, 2);
}

template <typename C> C divide(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    if (b == 0)
      return 0;
    if constexpr (std::is_signed_v<C>)
      if (a == std::numeric_limits<C>::lowest() && b == C(-1))
        return a;
  }
  return a / b;
}

template <typename C> C modulo(C a, C b, bool fmod) {
  if constexpr (std::is_integral_v<C>) {
    if (b == 0)
      return 0;
    if constexpr (std::is_signed_v<C>) {
      if (b == C(-1))
        return 0;
      C r = a % b;
      if (!fmod && r != 0 && ((r < 0) != (b < 0)))
        r += b;
      return r;
    } else {
      return a % b;
    }
  } else {
    C r = std::fmod(a, b);
    if (!fmod && r != 0 && ((r < 0) != (b < 0)))
      r += b;
    return r;
  }
}

template <Arith op> Status runArith(KernelCall &c) {
  bool fmod = c.attrs().getBool("fmod").value_or(false);
  return dispatchNumeric(c.out[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    mapBinary<T, T>(c.in[0], c.in[1], c.out[0], [&](C a, C b) -> T {
      C r;
      if constexpr (op == Arith::Add)
        r = C(a + b);
      else if constexpr (op == Arith::Sub)
        r = C(a - b);
      else if constexpr (op == Arith::Mul)
        r = C(a * b);
      else if constexpr (op == Arith::Div)
        r = divide(a, b);
      else if constexpr (op == Arith::Max)
        r = (std::is_floating_point_v<C> && (a != a || b != b))
                ? C(NAN)
                : (a > b ? a : b);
      else if constexpr (op == Arith::Min)
        r = (std::is_floating_point_v<C> && (a != a || b != b))
                ? C(NAN)
                : (a < b ? a : b);
      else
        r = modulo(a, b, fmod);
      return Elem<T>::store(r);
    });
    return Status();
  });
}

Status checkPow(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 2, 1));
  if (c.in[0].dtype != c.out[0].dtype || c.in[0].dtype == DType::Bool ||
      c.in[1].dtype == DType::Bool)
    return c.error("the result must have the base's numeric type");
  return checkBroadcast(c, 2);
}

Status runPow(KernelCall &c) {
  const Tensor &a = c.in[0], &b = c.in[1], &out = c.out[0];
  return dispatchNumeric(out.dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    T *o = out.as<T>();
    BroadcastIndexer idx(*out.shape, {a.shape, b.shape});
    for (int64_t i = 0; i < out.numel; ++i, idx.next()) {
      double base = loadAsDouble(a.dtype, a.data, idx[0]);
      double e = loadAsDouble(b.dtype, b.data, idx[1]);
      double r = std::pow(base, e);
      if constexpr (std::is_integral_v<C>)
        o[i] = convert<T>(std::trunc(r), false);
      else
        o[i] = Elem<T>::store(C(r));
    }
    return Status();
  });
}

enum class Compare { Eq, Lt, Le, Gt, Ge };

Status checkCompare(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 2, 1));
  if (c.in[0].dtype != c.in[1].dtype || c.out[0].dtype != DType::Bool)
    return c.error("compares operands of one type into bool");
  return checkBroadcast(c, 2);
}

template <Compare op> Status runCompare(KernelCall &c) {
  return dispatchAny(c.in[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    mapBinary<T, uint8_t>(c.in[0], c.in[1], c.out[0], [](C a, C b) -> uint8_t {
      if constexpr (op == Compare::Eq)
        return a == b;
      else if constexpr (op == Compare::Lt)
        return a < b;
      else if constexpr (op == Compare::Le)
        return a <= b;
      else if constexpr (op == Compare::Gt)
        return a > b;
      else
        return a >= b;
    });
    return Status();
  });
}

enum class Logic { And, Or, Xor };

Status checkLogic(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 2, 1));
  if (c.in[0].dtype != DType::Bool || c.in[1].dtype != DType::Bool ||
      c.out[0].dtype != DType::Bool)
    return c.error("needs bool operands and result");
  return checkBroadcast(c, 2);
}

template <Logic op> Status runLogic(KernelCall &c) {
  mapBinary<uint8_t, uint8_t>(c.in[0], c.in[1], c.out[0],
                              [](uint8_t a, uint8_t b) {
                                if constexpr (op == Logic::And)
                                  return uint8_t(a && b);
                                else if constexpr (op == Logic::Or)
                                  return uint8_t(a || b);
                                else
                                  return uint8_t(bool(a) != bool(b));
                              });
  return Status();
}

Status checkWhere(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(3, 3, 1));
  if (c.in[0].dtype != DType::Bool || c.in[1].dtype != c.out[0].dtype ||
      c.in[2].dtype != c.out[0].dtype)
    return c.error("needs a bool condition and x, y of the result's type");
  return checkBroadcast(c, 3);
}

Status runWhere(KernelCall &c) {
  const Tensor &cond = c.in[0], &x = c.in[1], &y = c.in[2], &out = c.out[0];
  return dispatchAny(out.dtype, [&]<typename T>() {
    const uint8_t *k = cond.as<uint8_t>();
    const T *a = x.as<T>(), *b = y.as<T>();
    T *o = out.as<T>();
    BroadcastIndexer idx(*out.shape, {cond.shape, x.shape, y.shape});
    for (int64_t i = 0; i < out.numel; ++i, idx.next())
      o[i] = k[idx[0]] ? a[idx[1]] : b[idx[2]];
    return Status();
  });
}

} // namespace

void registerElementwiseKernels(KernelRegistry &r) {
  r.add(MLG_FLOAT_UNARY("sqrt", std::sqrt(x)));
  r.add(MLG_FLOAT_UNARY("exp", std::exp(x)));
  r.add(MLG_FLOAT_UNARY("log", std::log(x)));
  r.add(MLG_FLOAT_UNARY("tanh", std::tanh(x)));
  r.add(MLG_FLOAT_UNARY("sigmoid",
                        decltype(x)(1) / (decltype(x)(1) + std::exp(-x))));
  r.add(MLG_FLOAT_UNARY("reciprocal", decltype(x)(1) / x));
  r.add(MLG_FLOAT_UNARY("floor", std::floor(x)));
  r.add(MLG_FLOAT_UNARY("ceil", std::ceil(x)));
  r.add(MLG_FLOAT_UNARY("round", std::nearbyint(x)));
  r.add(MLG_FLOAT_UNARY("erf", std::erf(x)));
  r.add(MLG_FLOAT_UNARY("sin", std::sin(x)));
  r.add(MLG_FLOAT_UNARY("cos", std::cos(x)));
  r.add(MLG_FLOAT_UNARY("softplus", softplus(x)));
  r.add(MLG_FLOAT_UNARY("softsign", x / (decltype(x)(1) + std::fabs(x))));
  r.add(MLG_FLOAT_UNARY("leaky_relu",
                        x < 0 ? decltype(x)(attrOr(c, "alpha", 0.01)) * x : x));
  r.add(MLG_FLOAT_UNARY(
      "elu", x < 0 ? decltype(x)(attrOr(c, "alpha", 1.0)) * std::expm1(x) : x));
  r.add(MLG_FLOAT_UNARY(
      "selu",
      decltype(x)(attrOr(c, "gamma", 1.0507009873554805)) *
          (x <= 0 ? decltype(x)(attrOr(c, "alpha", 1.6732632423543772)) *
                        std::expm1(x)
                  : x)));
  r.add(MLG_FLOAT_UNARY(
      "hard_sigmoid",
      std::max(
          decltype(x)(0),
          std::min(decltype(x)(1), decltype(x)(attrOr(c, "alpha", 0.2)) * x +
                                       decltype(x)(attrOr(c, "beta", 0.5))))));
  r.add({"relu",
         [](const KernelCall &c) { return checkUnary(c, false, false); },
         runRelu});
  r.add({"neg", [](const KernelCall &c) { return checkUnary(c, false, false); },
         runNeg});
  r.add({"abs", [](const KernelCall &c) { return checkUnary(c, false); },
         runAbs});
  r.add({"sign", [](const KernelCall &c) { return checkUnary(c, false); },
         runSign});
  r.add({"not",
         [](const KernelCall &c) { return checkUnary(c, false, true, true); },
         runNot});
  r.add({"clip", checkClip, runClip});
  r.add({"cast", checkCast, runCast});
  r.add({"add", checkArith, runArith<Arith::Add>});
  r.add({"sub", checkArith, runArith<Arith::Sub>});
  r.add({"mul", checkArith, runArith<Arith::Mul>});
  r.add({"div", checkArith, runArith<Arith::Div>});
  r.add({"max", checkArith, runArith<Arith::Max>});
  r.add({"min", checkArith, runArith<Arith::Min>});
  r.add({"mod", checkArith, runArith<Arith::Mod>});
  r.add({"pow", checkPow, runPow});
  r.add({"equal", checkCompare, runCompare<Compare::Eq>});
  r.add({"less", checkCompare, runCompare<Compare::Lt>});
  r.add({"less_or_equal", checkCompare, runCompare<Compare::Le>});
  r.add({"greater", checkCompare, runCompare<Compare::Gt>});
  r.add({"greater_or_equal", checkCompare, runCompare<Compare::Ge>});
  r.add({"and", checkLogic, runLogic<Logic::And>});
  r.add({"or", checkLogic, runLogic<Logic::Or>});
  r.add({"xor", checkLogic, runLogic<Logic::Xor>});
  r.add({"where", checkWhere, runWhere});
}

} // namespace mlg_rt::cpu

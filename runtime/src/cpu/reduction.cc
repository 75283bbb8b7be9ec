// reduction.cc - reductions and arg-reductions kernels.
//
// A reduction walks its input once in memory order, adding each element
// into the accumulator of its output element. The walk coalesces adjacent
// dimensions that are all reduced or all kept, so the innermost loop is a
// contiguous run: either folded into one accumulator (trailing axes reduced,
// as in layer normalization) or added element-wise into a row of them.
//
// Floats accumulate in double. Integers accumulate modulo 2^64 (so sums and
// products wrap like two's complement, never overflowing a signed type),
// except the L2 norm, which takes its square root in double.
//
// Axes are sorted, unique and in range (check() insists). An empty list
// reduces nothing: each output element is its op over one input element,
// which is the input itself for sum, mean, max, min and prod.

#include "common.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace mlg_rt::cpu {
namespace {

enum class Red {
  Mean,
  Sum,
  Max,
  Min,
  Prod,
  SumSquare,
  L1,
  L2,
  LogSum,
  LogSumExp
};

/// The result shape of reducing `shape` over `reduced` dims.
std::vector<int64_t> reducedShape(const std::vector<int64_t> &shape,
                                  const std::vector<bool> &reduced,
                                  bool keepdims) {
  std::vector<int64_t> out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!reduced[d])
      out.push_back(shape[d]);
    else if (keepdims)
      out.push_back(1);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// The walk
//===----------------------------------------------------------------------===//

/// The input as coalesced dimensions: `outer` (each reduced or kept, with
/// its stride in the output, 0 if reduced) and a contiguous innermost run.
struct ReducePlan {
  std::vector<int64_t> outer, outStride;
  int64_t inner = 1;
  bool innerReduced = false;
};

/// Only for a non-empty input (so no product of dimensions overflows).
ReducePlan makePlan(const std::vector<int64_t> &shape,
                    const std::vector<bool> &reduced) {
  // Dimensions of size 1 move nothing; merge runs of one kind.
  std::vector<int64_t> dims;
  std::vector<bool> kinds;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1)
      continue;
    if (!dims.empty() && kinds.back() == reduced[d]) {
      dims.back() *= shape[d];
    } else {
      dims.push_back(shape[d]);
      kinds.push_back(reduced[d]);
    }
  }
  ReducePlan p;
  if (dims.empty())
    return p; // one element
  p.inner = dims.back();
  p.innerReduced = kinds.back();
  p.outer.assign(dims.begin(), dims.end() - 1);
  p.outStride.assign(p.outer.size(), 0);
  int64_t stride = p.innerReduced ? 1 : p.inner;
  for (int64_t d = int64_t(p.outer.size()) - 1; d >= 0; --d) {
    if (kinds[d])
      continue;
    p.outStride[d] = stride;
    stride *= p.outer[d];
  }
  return p;
}

/// Calls f(inOffset, outOffset) for each innermost run, in memory order.
template <typename F> void walk(const ReducePlan &p, F f) {
  size_t rank = p.outer.size();
  int64_t runs = 1;
  for (int64_t d : p.outer)
    runs *= d;
  std::vector<int64_t> counter(rank, 0);
  int64_t in = 0, out = 0;
  for (int64_t r = 0; r < runs; ++r, in += p.inner) {
    f(in, out);
    for (int64_t d = int64_t(rank) - 1; d >= 0; --d) {
      out += p.outStride[d];
      if (++counter[d] < p.outer[d])
        break;
      out -= p.outStride[d] * p.outer[d];
      counter[d] = 0;
    }
  }
}

/// acc[o] = step(acc[o], x) for every input element x and its output o.
template <typename T, typename Acc, typename Step>
void accumulate(const ReducePlan &p, const T *x, Acc *acc, Step step) {
  walk(p, [&](int64_t in, int64_t out) {
    const T *src = x + in;
    if (p.innerReduced) {
      Acc a = acc[out];
      for (int64_t j = 0; j < p.inner; ++j)
        a = step(a, Elem<T>::load(src[j]));
      acc[out] = a;
    } else {
      Acc *dst = acc + out;
      for (int64_t j = 0; j < p.inner; ++j)
        dst[j] = step(dst[j], Elem<T>::load(src[j]));
    }
  });
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// max/min that propagate NaN (as numpy's do): once NaN, always NaN.
template <typename A> A maxStep(A a, A x) { return (x != x || x > a) ? x : a; }
template <typename A> A minStep(A a, A x) { return (x != x || x < a) ? x : a; }

template <Red op, typename T>
void reduceFloat(const Tensor &in, const Tensor &out, const ReducePlan &p,
                 bool walkInput, int64_t count) {
  using C = typename Elem<T>::Compute;
  const T *x = in.as<T>();
  T *o = out.as<T>();
  constexpr double inf = std::numeric_limits<double>::infinity();
  double init = op == Red::Max    ? -inf
                : op == Red::Min  ? inf
                : op == Red::Prod ? 1.0
                                  : 0.0;
  std::vector<double> acc(out.numel, init);
  std::vector<double> shift; // log_sum_exp: each output's finite maximum
  if (walkInput) {
    if constexpr (op == Red::Mean || op == Red::Sum || op == Red::LogSum)
      accumulate(p, x, acc.data(), [](double a, double v) { return a + v; });
    else if constexpr (op == Red::Max)
      accumulate(p, x, acc.data(), maxStep<double>);
    else if constexpr (op == Red::Min)
      accumulate(p, x, acc.data(), minStep<double>);
    else if constexpr (op == Red::Prod)
      accumulate(p, x, acc.data(), [](double a, double v) { return a * v; });
    else if constexpr (op == Red::SumSquare || op == Red::L2)
      accumulate(p, x, acc.data(),
                 [](double a, double v) { return a + v * v; });
    else if constexpr (op == Red::L1)
      accumulate(p, x, acc.data(),
                 [](double a, double v) { return a + std::fabs(v); });
    else if constexpr (op == Red::LogSumExp) {
      // Subtract the maximum so exp cannot overflow; an infinite or NaN
      // maximum is not subtracted (inf - inf would make NaN of a sum that
      // is really +-inf), and gives the right answer unshifted.
      shift.assign(out.numel, -inf);
      accumulate(p, x, shift.data(), maxStep<double>);
      for (double &s : shift)
        if (!std::isfinite(s))
          s = 0;
      walk(p, [&](int64_t i, int64_t oi) {
        for (int64_t j = 0; j < p.inner; ++j) {
          int64_t k = p.innerReduced ? oi : oi + j;
          acc[k] += std::exp(double(Elem<T>::load(x[i + j])) - shift[k]);
        }
      });
    }
  }
  for (int64_t i = 0; i < out.numel; ++i) {
    double r = acc[i];
    if constexpr (op == Red::Mean)
      r /= double(count); // 0 / 0 is NaN, numpy's mean of nothing
    else if constexpr (op == Red::L2)
      r = std::sqrt(r);
    else if constexpr (op == Red::LogSum)
      r = std::log(r);
    else if constexpr (op == Red::LogSumExp)
      r = std::log(r) + (shift.empty() ? 0.0 : shift[i]);
    o[i] = Elem<T>::store(C(r));
  }
}

template <typename T> uint64_t wrap(T v) {
  if constexpr (std::is_signed_v<T>)
    return uint64_t(int64_t(v));
  else
    return uint64_t(v);
}

template <Red op, typename T>
void reduceInt(const Tensor &in, const Tensor &out, const ReducePlan &p,
               bool walkInput, int64_t count) {
  const T *x = in.as<T>();
  T *o = out.as<T>();
  if constexpr (op == Red::Max || op == Red::Min) {
    std::vector<T> acc(out.numel, op == Red::Max
                                      ? std::numeric_limits<T>::lowest()
                                      : std::numeric_limits<T>::max());
    if (walkInput)
      accumulate(p, x, acc.data(), op == Red::Max ? maxStep<T> : minStep<T>);
    std::copy(acc.begin(), acc.end(), o);
  } else if constexpr (op == Red::L2) {
    std::vector<double> acc(out.numel, 0.0);
    if (walkInput)
      accumulate(p, x, acc.data(),
                 [](double a, T v) { return a + double(v) * double(v); });
    for (int64_t i = 0; i < out.numel; ++i) {
      double r = std::trunc(std::sqrt(acc[i]));
      o[i] = r >= double(std::numeric_limits<T>::max())
                 ? std::numeric_limits<T>::max()
                 : T(r);
    }
  } else {
    std::vector<uint64_t> acc(out.numel, op == Red::Prod ? 1 : 0);
    if (walkInput) {
      if constexpr (op == Red::Sum || op == Red::Mean)
        accumulate(p, x, acc.data(),
                   [](uint64_t a, T v) { return a + wrap(v); });
      else if constexpr (op == Red::Prod)
        accumulate(p, x, acc.data(),
                   [](uint64_t a, T v) { return a * wrap(v); });
      else if constexpr (op == Red::SumSquare)
        accumulate(p, x, acc.data(),
                   [](uint64_t a, T v) { return a + wrap(v) * wrap(v); });
      else if constexpr (op == Red::L1)
        accumulate(p, x, acc.data(), [](uint64_t a, T v) {
          return a + (v < T(0) ? uint64_t(0) - wrap(v) : wrap(v));
        });
    }
    for (int64_t i = 0; i < out.numel; ++i) {
      uint64_t r = acc[i];
      if constexpr (op == Red::Mean) {
        // Truncates toward zero, as a cast of numpy's mean does; the mean
        // of nothing is 0 rather than a division by zero.
        if (count == 0)
          r = 0;
        else if constexpr (std::is_signed_v<T>)
          r = uint64_t(int64_t(r) / count);
        else
          r = r / uint64_t(count);
      }
      o[i] = T(r); // modulo 2^bits
    }
  }
}

/// Reads the axes (check() has validated them) into a mask over the input.
std::vector<bool> reducedMask(const KernelCall &c, size_t rank) {
  std::vector<bool> mask(rank, false);
  std::vector<int64_t> axes = *c.attrs().getInts("axes");
  for (int64_t a : axes)
    mask[a] = true;
  return mask;
}

template <Red op> Status checkReduce(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  const Tensor &in = c.in[0], &out = c.out[0];
  if (in.dtype != out.dtype)
    return c.error("the result must have the operand's element type");
  bool floatOnly = op == Red::LogSum || op == Red::LogSumExp;
  if (!isFloat(in.dtype) &&
      (floatOnly || !(isSignedInt(in.dtype) || isUnsignedInt(in.dtype))))
    return c.error("unsupported element type ", dtypeName(in.dtype));
  auto axes = c.attrs().getInts("axes");
  auto keepdims = c.attrs().getBool("keepdims");
  if (!axes || !keepdims)
    return c.error("needs the axes and keepdims attributes");
  int64_t previous = -1;
  for (int64_t a : *axes) {
    if (a <= previous || a >= in.rank())
      return c.error("axes must be sorted, unique and in [0, ", in.rank(), ")");
    previous = a;
  }
  if (*out.shape !=
      reducedShape(*in.shape, reducedMask(c, in.rank()), *keepdims))
    return c.error("the result shape is not the reduced operand shape");
  return Status();
}

template <Red op> Status runReduce(KernelCall &c) {
  const Tensor &in = c.in[0], &out = c.out[0];
  if (out.numel == 0)
    return Status();
  bool walkInput = in.numel != 0;
  ReducePlan plan;
  if (walkInput)
    plan = makePlan(*in.shape, reducedMask(c, in.rank()));
  // Elements per output: an empty input reduces nothing into each.
  int64_t count = walkInput ? in.numel / out.numel : 0;
  return dispatchNumeric(in.dtype, [&]<typename T>() {
    if constexpr (std::is_integral_v<T>) {
      if constexpr (op != Red::LogSum && op != Red::LogSumExp)
        reduceInt<op, T>(in, out, plan, walkInput, count);
    } else {
      reduceFloat<op, T>(in, out, plan, walkInput, count);
    }
    return Status();
  });
}

//===----------------------------------------------------------------------===//
// argmax, argmin
//===----------------------------------------------------------------------===//

Status checkArgReduce(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  const Tensor &in = c.in[0], &out = c.out[0];
  if (!isFloat(in.dtype) && !isSignedInt(in.dtype) && !isUnsignedInt(in.dtype))
    return c.error("unsupported element type ", dtypeName(in.dtype));
  if (out.dtype != DType::I64)
    return c.error("the result must be i64");
  auto axis = c.attrs().getInt("axis");
  auto keepdims = c.attrs().getBool("keepdims");
  auto last = c.attrs().getBool("select_last_index");
  if (!axis || !keepdims || !last)
    return c.error("needs the axis, keepdims and select_last_index "
                   "attributes");
  if (*axis < 0 || *axis >= in.rank())
    return c.error("axis ", *axis, " is out of range for rank ", in.rank());
  std::vector<bool> mask(in.rank(), false);
  mask[*axis] = true;
  if (*out.shape != reducedShape(*in.shape, mask, *keepdims))
    return c.error("the result shape is not the reduced operand shape");
  return Status();
}

/// NaN counts as the extreme (numpy's argmax and argmin): the first NaN
/// wins, or the last with select_last_index.
template <bool isMax, typename C> bool better(C x, C best, bool last) {
  if constexpr (std::is_floating_point_v<C>) {
    if (best != best)
      return last && x != x;
    if (x != x)
      return true;
  }
  if (last)
    return isMax ? x >= best : x <= best;
  return isMax ? x > best : x < best;
}

template <bool isMax> Status runArgReduce(KernelCall &c) {
  const Tensor &in = c.in[0], &out = c.out[0];
  if (out.numel == 0)
    return Status();
  int64_t axis = *c.attrs().getInt("axis");
  bool last = *c.attrs().getBool("select_last_index");
  int64_t *o = out.as<int64_t>();
  int64_t len = in.dim(axis);
  if (len == 0) { // no elements to choose from: index 0 by convention
    std::fill(o, o + out.numel, int64_t(0));
    return Status();
  }
  // The input is [outer, len, inner] and the result [outer, inner].
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < in.rank(); ++d)
    inner *= in.dim(d);
  int64_t outer = out.numel / inner;
  return dispatchNumeric(in.dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    const T *x = in.as<T>();
    std::vector<C> best(inner);
    for (int64_t a = 0; a < outer; ++a) {
      const T *base = x + a * len * inner;
      int64_t *idx = o + a * inner;
      for (int64_t i = 0; i < inner; ++i) {
        best[i] = Elem<T>::load(base[i]);
        idx[i] = 0;
      }
      for (int64_t j = 1; j < len; ++j)
        for (int64_t i = 0; i < inner; ++i) {
          C v = Elem<T>::load(base[j * inner + i]);
          if (better<isMax>(v, best[i], last)) {
            best[i] = v;
            idx[i] = j;
          }
        }
    }
    return Status();
  });
}

} // namespace

void registerReductionKernels(KernelRegistry &r) {
  r.add({"reduce_mean", checkReduce<Red::Mean>, runReduce<Red::Mean>});
  r.add({"reduce_sum", checkReduce<Red::Sum>, runReduce<Red::Sum>});
  r.add({"reduce_max", checkReduce<Red::Max>, runReduce<Red::Max>});
  r.add({"reduce_min", checkReduce<Red::Min>, runReduce<Red::Min>});
  r.add({"reduce_prod", checkReduce<Red::Prod>, runReduce<Red::Prod>});
  r.add({"reduce_sum_square", checkReduce<Red::SumSquare>,
         runReduce<Red::SumSquare>});
  r.add({"reduce_l1", checkReduce<Red::L1>, runReduce<Red::L1>});
  r.add({"reduce_l2", checkReduce<Red::L2>, runReduce<Red::L2>});
  r.add({"reduce_log_sum", checkReduce<Red::LogSum>, runReduce<Red::LogSum>});
  r.add({"reduce_log_sum_exp", checkReduce<Red::LogSumExp>,
         runReduce<Red::LogSumExp>});
  r.add({"argmax", checkArgReduce, runArgReduce<true>});
  r.add({"argmin", checkArgReduce, runArgReduce<false>});
}

} // namespace mlg_rt::cpu

// pool.cu - the pools (max, average, global) and their gradients as CUDA
// kernels, with the CPU kernels' rules (../cpu/nn.cc, ../cpu/nn_grad.cc).
//
// Window ops take 1 to 3 spatial dimensions and see them as 3 (the CPU's
// window.h, whose readWindow gives the geometry here too).
//
// The pools give each output element a thread (grid-stride loops) that walks
// its window in the CPU's tap order. Max pool ignores the padding, lets NaN
// win and keeps the first of equal maxima; a window wholly in the padding
// gives the type's lowest value. Average pool sums in double and divides by
// the CPU's count (count_include_pad counts taps inside the padded input,
// never those past the end padding that ceil_mode adds).
//
// The pool gradients are gathers, with no atomics: each input element walks
// the windows that hold it in the order the CPU visits windows and adds their
// shares in the compute type, so its sum is the CPU's, rounding for
// rounding, and deterministic. max_pool_backward first writes each window's
// argmax (recomputed from the forward's input, as on the CPU) to backend
// scratch; an input element then takes the dy of the windows whose argmax it
// is. average_pool_backward recomputes each window's divisor.
//
// The global pools give each (n, c) plane a block: the average sums in
// double, the maximum lets NaN win.

#include "common.cuh"

#include "../cpu/window.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

namespace mlg_rt::cuda {
namespace {

//===----------------------------------------------------------------------===//
// Window geometry on the device (window.h's, for device code)
//===----------------------------------------------------------------------===//

__device__ __forceinline__ int64_t ceilDivD(int64_t a, int64_t b) {
  return a / b + (a % b != 0);
}

/// window.h's tapRange: the j in [0, n) with offset + j * step in [0, size).
__device__ __forceinline__ void tapRangeD(int64_t n, int64_t size,
                                          int64_t step, int64_t offset,
                                          int64_t &lo, int64_t &hi) {
  lo = offset >= 0 ? 0 : ceilDivD(-offset, step);
  hi = size - offset <= 0 ? 0 : ceilDivD(size - offset, step);
  hi = hi < n ? hi : n;
  lo = lo < hi ? lo : hi;
}

/// window.h's tapsOf: the taps [lo, hi) of dimension d of window o that lie
/// inside the input, and the input coordinate of tap 0.
struct TapsD {
  int64_t lo, hi, origin;
};

__device__ __forceinline__ TapsD tapsAt(const cpu::Window &w, int d,
                                        int64_t o) {
  TapsD t;
  t.origin = o * w.stride[d] - w.padBegin[d];
  tapRangeD(w.kernel[d], w.in[d], w.dilation[d], t.origin, t.lo, t.hi);
  return t;
}

/// Output element i (over planes x out) as its plane and window coordinates.
__device__ __forceinline__ int64_t decodeOut(const cpu::Window &w, int64_t i,
                                             int64_t o[3]) {
  o[2] = i % w.out[2];
  i /= w.out[2];
  o[1] = i % w.out[1];
  i /= w.out[1];
  o[0] = i % w.out[0];
  return i / w.out[0];
}

/// Input element i (over planes x in) as its plane, its offset in the plane
/// (`at`) and its coordinates.
__device__ __forceinline__ int64_t decodeIn(const cpu::Window &w, int64_t i,
                                            int64_t &at, int64_t p[3]) {
  const int64_t inPlane = w.in[0] * w.in[1] * w.in[2];
  int64_t pl = i / inPlane;
  at = i - pl * inPlane;
  p[2] = at % w.in[2];
  p[1] = (at / w.in[2]) % w.in[1];
  p[0] = at / (w.in[2] * w.in[1]);
  return pl;
}

/// The window of dimension d whose tap k lies on input coordinate p, if
/// there is one.
__device__ __forceinline__ bool windowOf(const cpu::Window &w, int d,
                                         int64_t p, int64_t k, int64_t &o) {
  int64_t num = p + w.padBegin[d] - k * w.dilation[d];
  if (num < 0 || num % w.stride[d] != 0)
    return false;
  o = num / w.stride[d];
  return o < w.out[d];
}

/// Calls fn(od, oh, ow) for every window holding input position p, in the
/// order the CPU kernels visit windows (od, then oh, then ow, ascending: a
/// higher tap index is a lower window).
template <typename Fn>
__device__ __forceinline__ void forWindowsHolding(const cpu::Window &w,
                                                  const int64_t p[3], Fn &&fn) {
  for (int64_t kd = w.kernel[0] - 1; kd >= 0; --kd) {
    int64_t od;
    if (!windowOf(w, 0, p[0], kd, od))
      continue;
    for (int64_t kh = w.kernel[1] - 1; kh >= 0; --kh) {
      int64_t oh;
      if (!windowOf(w, 1, p[1], kh, oh))
        continue;
      for (int64_t kw = w.kernel[2] - 1; kw >= 0; --kw) {
        int64_t ow;
        if (windowOf(w, 2, p[2], kw, ow))
          fn(od, oh, ow);
      }
    }
  }
}

/// The lowest value of a compute type: -inf for floats.
template <typename C> __device__ __forceinline__ C lowestOf() {
  if constexpr (std::numeric_limits<C>::has_infinity)
    return -std::numeric_limits<C>::infinity();
  else
    return std::numeric_limits<C>::lowest();
}

/// The maximum of window o of one plane `src` into `best`, and its offset in
/// the plane: nn.cc's maxPool's search (the first strictly greater value in
/// tap order; a NaN beats any number). -1 and the lowest value for a window
/// wholly in the padding.
template <typename T>
__device__ __forceinline__ int64_t windowMax(const T *src,
                                             const cpu::Window &w,
                                             const int64_t o[3],
                                             typename Elem<T>::Compute &best) {
  using C = typename Elem<T>::Compute;
  TapsD td = tapsAt(w, 0, o[0]), th = tapsAt(w, 1, o[1]),
        tw = tapsAt(w, 2, o[2]);
  best = lowestOf<C>();
  int64_t bestAt = -1;
  for (int64_t kd = td.lo; kd < td.hi; ++kd) {
    int64_t id = td.origin + kd * w.dilation[0];
    for (int64_t kh = th.lo; kh < th.hi; ++kh) {
      int64_t ih = th.origin + kh * w.dilation[1];
      int64_t rowAt = (id * w.in[1] + ih) * w.in[2];
      for (int64_t kw = tw.lo; kw < tw.hi; ++kw) {
        int64_t at = rowAt + tw.origin + kw * w.dilation[2];
        C v = Elem<T>::load(src[at]);
        bool better = bestAt < 0 || v > best;
        if constexpr (!std::is_integral_v<C>)
          better |= v != v && best == best;
        if (better) {
          best = v;
          bestAt = at;
        }
      }
    }
  }
  return bestAt;
}

/// Taps of dimension d of window o inside the padded extent.
__device__ __forceinline__ int64_t paddedTaps(const cpu::Window &w, int d,
                                              int64_t o) {
  int64_t lo, hi;
  tapRangeD(w.kernel[d], w.padBegin[d] + w.in[d] + w.padEnd[d],
            w.dilation[d], o * w.stride[d], lo, hi);
  return hi - lo;
}

/// The divisor of average pool window o: runAveragePool's count (in double:
/// hostile kernel sizes could overflow int64).
__device__ __forceinline__ double poolCount(const cpu::Window &w,
                                            bool includePad,
                                            const int64_t o[3]) {
  if (includePad)
    return double(paddedTaps(w, 0, o[0])) * double(paddedTaps(w, 1, o[1])) *
           double(paddedTaps(w, 2, o[2]));
  TapsD td = tapsAt(w, 0, o[0]), th = tapsAt(w, 1, o[1]),
        tw = tapsAt(w, 2, o[2]);
  return double(td.hi - td.lo) * double(th.hi - th.lo) * double(tw.hi - tw.lo);
}

//===----------------------------------------------------------------------===//
// Pool kernels
//===----------------------------------------------------------------------===//

template <typename T>
__global__ void maxPoolKernel(const T *x, T *y, cpu::Window w, int64_t total) {
  using C = typename Elem<T>::Compute;
  const int64_t inPlane = w.in[0] * w.in[1] * w.in[2];
  MLG_CUDA_GRID_LOOP(i, total) {
    int64_t o[3];
    int64_t pl = decodeOut(w, i, o);
    C best;
    windowMax(x + pl * inPlane, w, o, best);
    y[i] = Elem<T>::store(best);
  }
}

template <typename T>
__global__ void averagePoolKernel(const T *x, T *y, cpu::Window w,
                                  bool includePad, int64_t total) {
  using C = typename Elem<T>::Compute;
  const int64_t inPlane = w.in[0] * w.in[1] * w.in[2];
  MLG_CUDA_GRID_LOOP(i, total) {
    int64_t o[3];
    int64_t pl = decodeOut(w, i, o);
    const T *src = x + pl * inPlane;
    TapsD td = tapsAt(w, 0, o[0]), th = tapsAt(w, 1, o[1]),
          tw = tapsAt(w, 2, o[2]);
    double sum = 0;
    for (int64_t kd = td.lo; kd < td.hi; ++kd) {
      int64_t id = td.origin + kd * w.dilation[0];
      for (int64_t kh = th.lo; kh < th.hi; ++kh) {
        int64_t ih = th.origin + kh * w.dilation[1];
        const T *row = src + (id * w.in[1] + ih) * w.in[2];
        for (int64_t kw = tw.lo; kw < tw.hi; ++kw)
          sum += double(Elem<T>::load(row[tw.origin + kw * w.dilation[2]]));
      }
    }
    double count = poolCount(w, includePad, o);
    y[i] = Elem<T>::store(C(count > 0 ? sum / count : 0.0));
  }
}

/// The argmax (offset in its plane, -1 for none) of every max pool window.
template <typename T, typename Index>
__global__ void maxPoolArgmaxKernel(const T *x, Index *argmax, cpu::Window w,
                                    int64_t total) {
  using C = typename Elem<T>::Compute;
  const int64_t inPlane = w.in[0] * w.in[1] * w.in[2];
  MLG_CUDA_GRID_LOOP(i, total) {
    int64_t o[3];
    int64_t pl = decodeOut(w, i, o);
    C best;
    argmax[i] = Index(windowMax(x + pl * inPlane, w, o, best));
  }
}

/// dx of every input element: the sum, in window order, of the dy of the
/// windows whose argmax it is (runMaxPoolBackward's accumulation).
template <typename T, typename Index>
__global__ void maxPoolBackwardKernel(const T *dy, const Index *argmax, T *dx,
                                      cpu::Window w, int64_t total) {
  using C = typename Elem<T>::Compute;
  const int64_t outPlane = w.out[0] * w.out[1] * w.out[2];
  MLG_CUDA_GRID_LOOP(i, total) {
    int64_t at, p[3];
    int64_t pl = decodeIn(w, i, at, p);
    const T *g = dy + pl * outPlane;
    const Index *am = argmax + pl * outPlane;
    C acc = C(0);
    forWindowsHolding(w, p, [&](int64_t od, int64_t oh, int64_t ow) {
      int64_t j = (od * w.out[1] + oh) * w.out[2] + ow;
      if (int64_t(am[j]) == at)
        acc += Elem<T>::load(g[j]);
    });
    dx[i] = Elem<T>::store(acc);
  }
}

/// dx of every input element: the sum, in window order, of dy / count of the
/// windows holding it (runAveragePoolBackward's accumulation).
template <typename T>
__global__ void averagePoolBackwardKernel(const T *dy, T *dx, cpu::Window w,
                                          bool includePad, int64_t total) {
  using C = typename Elem<T>::Compute;
  const int64_t outPlane = w.out[0] * w.out[1] * w.out[2];
  MLG_CUDA_GRID_LOOP(i, total) {
    int64_t at, p[3];
    int64_t pl = decodeIn(w, i, at, p);
    const T *g = dy + pl * outPlane;
    C acc = C(0);
    forWindowsHolding(w, p, [&](int64_t od, int64_t oh, int64_t ow) {
      int64_t o[3] = {od, oh, ow};
      double count = poolCount(w, includePad, o);
      if (!(count > 0))
        return;
      int64_t j = (od * w.out[1] + oh) * w.out[2] + ow;
      acc += C(double(Elem<T>::load(g[j])) / count);
    });
    dx[i] = Elem<T>::store(acc);
  }
}

/// A grid of one block per plane is capped here; blocks then loop.
constexpr int64_t kMaxPlaneBlocks = int64_t(1) << 20;
constexpr int kPlaneThreads = 256;

/// A multiple of 32 in [32, kPlaneThreads] covering `n` items.
int planeThreads(int64_t n) {
  int64_t t = (n + 31) / 32 * 32;
  return int(std::clamp<int64_t>(t, 32, kPlaneThreads));
}

template <typename T>
__global__ void globalAveragePoolKernel(const T *x, T *y, int64_t planes,
                                        int64_t size) {
  using C = typename Elem<T>::Compute;
  for (int64_t pl = blockIdx.x; pl < planes; pl += gridDim.x) {
    const T *src = x + pl * size;
    double sum = 0;
    for (int64_t j = threadIdx.x; j < size; j += blockDim.x)
      sum += double(Elem<T>::load(src[j]));
    sum = blockReduce<double>(sum);
    // An empty plane averages to NaN, as NumPy's mean (and the CPU).
    if (threadIdx.x == 0)
      y[pl] = Elem<T>::store(C(sum / double(size)));
  }
}

/// What a global maximum of compute type C is reduced in: double for floats
/// (exact for every float type), the widest integer of C's signedness.
template <typename C>
using MaxAcc = std::conditional_t<
    std::is_floating_point_v<C>, double,
    std::conditional_t<std::is_signed_v<C>, long long, unsigned long long>>;

template <typename T>
__global__ void globalMaxPoolKernel(const T *x, T *y, int64_t planes,
                                    int64_t size) {
  using C = typename Elem<T>::Compute;
  using A = MaxAcc<C>;
  constexpr bool isFloat = std::is_floating_point_v<C>;
  for (int64_t pl = blockIdx.x; pl < planes; pl += gridDim.x) {
    const T *src = x + pl * size;
    A best = A(lowestOf<C>());
    int nan = 0;
    for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
      C v = Elem<T>::load(src[j]);
      if constexpr (isFloat) {
        // NaN wins, carried as a flag beside the maximum.
        if (v != v) {
          nan = 1;
          continue;
        }
      }
      if (A(v) > best)
        best = A(v);
    }
    best = blockReduce<A, true>(best);
    if constexpr (isFloat)
      nan = blockReduce<int, true>(nan);
    if (threadIdx.x == 0) {
      if constexpr (isFloat)
        y[pl] = Elem<T>::store(nan ? C(NAN) : C(best));
      else
        y[pl] = Elem<T>::store(C(best));
    }
  }
}

//===----------------------------------------------------------------------===//
// Pool runners
//===----------------------------------------------------------------------===//

/// Calls `fn.template operator()<T>()` with T the device storage type of a
/// numeric `dtype` (the CPU's dispatchNumeric).
template <typename Fn>
Status dispatchNumeric(const cpu::KernelCall &c, DType dtype, Fn &&fn) {
  switch (dtype) {
  case DType::I8:
    return fn.template operator()<int8_t>();
  case DType::I16:
    return fn.template operator()<int16_t>();
  case DType::I32:
    return fn.template operator()<int32_t>();
  case DType::I64:
    return fn.template operator()<int64_t>();
  case DType::U8:
    return fn.template operator()<uint8_t>();
  case DType::U16:
    return fn.template operator()<uint16_t>();
  case DType::U32:
    return fn.template operator()<uint32_t>();
  case DType::U64:
    return fn.template operator()<uint64_t>();
  default:
    return dispatchFloat(c, dtype, fn);
  }
}

/// The window of a pool (or pool gradient) over `x` (the forward's input or
/// its gradient); the CPU check has accepted it.
Status poolWindow(const cpu::KernelCall &c, const cpu::Tensor &x,
                  cpu::Window &w) {
  auto kernel = c.attrs().getInts("kernel_shape");
  auto ceil = c.attrs().getBool("ceil_mode");
  if (!kernel || !ceil)
    return c.error("needs the kernel_shape and ceil_mode attributes");
  std::vector<int64_t> shape;
  return cpu::readWindow(c, x, *kernel, *ceil, w, shape);
}

Status runMaxPool(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0];
  cpu::Window w;
  MLG_RT_RETURN_IF_ERROR(poolWindow(c, x, w));
  if (y.numel == 0)
    return Status();
  return dispatchNumeric(c, x.dtype, [&]<typename T>() -> Status {
    maxPoolKernel<T><<<blocksFor(y.numel, kThreads, ctx), kThreads, 0,
                       ctx.stream>>>(x.as<T>(), y.as<T>(), w, y.numel);
    return checkLaunch(c, "maxPoolKernel");
  });
}

Status runAveragePool(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0];
  cpu::Window w;
  MLG_RT_RETURN_IF_ERROR(poolWindow(c, x, w));
  bool includePad = *c.attrs().getBool("count_include_pad");
  if (y.numel == 0)
    return Status();
  return dispatchFloat(c, x.dtype, [&]<typename T>() -> Status {
    averagePoolKernel<T><<<blocksFor(y.numel, kThreads, ctx), kThreads, 0,
                           ctx.stream>>>(x.as<T>(), y.as<T>(), w, includePad,
                                         y.numel);
    return checkLaunch(c, "averagePoolKernel");
  });
}

/// dy, x -> dx: the argmaxes into scratch, then the gather.
Status runMaxPoolBackward(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dy = c.in[0], &x = c.in[1], &dx = c.out[0];
  cpu::Window w;
  MLG_RT_RETURN_IF_ERROR(poolWindow(c, dx, w));
  if (dx.numel == 0)
    return Status();
  const bool narrow = w.inSize() <= int64_t(INT32_MAX);
  return dispatchFloat(c, dx.dtype, [&]<typename T>() -> Status {
    auto run = [&]<typename Index>() -> Status {
      Index *argmax = nullptr;
      if (dy.numel > 0) {
        void *scratch = nullptr;
        MLG_RT_RETURN_IF_ERROR(scratchBuffer(
            c, ctx, uint64_t(dy.numel) * sizeof(Index), &scratch));
        argmax = static_cast<Index *>(scratch);
        maxPoolArgmaxKernel<T, Index>
            <<<blocksFor(dy.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
                x.as<T>(), argmax, w, dy.numel);
        MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "maxPoolArgmaxKernel"));
      }
      maxPoolBackwardKernel<T, Index>
          <<<blocksFor(dx.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
              dy.as<T>(), argmax, dx.as<T>(), w, dx.numel);
      return checkLaunch(c, "maxPoolBackwardKernel");
    };
    return narrow ? run.template operator()<int32_t>()
                  : run.template operator()<int64_t>();
  });
}

Status runAveragePoolBackward(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dy = c.in[0], &dx = c.out[0];
  cpu::Window w;
  MLG_RT_RETURN_IF_ERROR(poolWindow(c, dx, w));
  bool includePad = *c.attrs().getBool("count_include_pad");
  if (dx.numel == 0)
    return Status();
  return dispatchFloat(c, dx.dtype, [&]<typename T>() -> Status {
    averagePoolBackwardKernel<T>
        <<<blocksFor(dx.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
            dy.as<T>(), dx.as<T>(), w, includePad, dx.numel);
    return checkLaunch(c, "averagePoolBackwardKernel");
  });
}

Status runGlobalAveragePool(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0];
  int64_t planes = y.numel, size = planes ? x.numel / planes : 0;
  if (planes == 0)
    return Status();
  unsigned blocks = unsigned(std::min(planes, kMaxPlaneBlocks));
  return dispatchFloat(c, x.dtype, [&]<typename T>() -> Status {
    globalAveragePoolKernel<T><<<blocks, planeThreads(size), 0, ctx.stream>>>(
        x.as<T>(), y.as<T>(), planes, size);
    return checkLaunch(c, "globalAveragePoolKernel");
  });
}

Status runGlobalMaxPool(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0];
  int64_t planes = y.numel, size = planes ? x.numel / planes : 0;
  if (planes == 0)
    return Status();
  unsigned blocks = unsigned(std::min(planes, kMaxPlaneBlocks));
  return dispatchNumeric(c, x.dtype, [&]<typename T>() -> Status {
    globalMaxPoolKernel<T><<<blocks, planeThreads(size), 0, ctx.stream>>>(
        x.as<T>(), y.as<T>(), planes, size);
    return checkLaunch(c, "globalMaxPoolKernel");
  });
}

} // namespace

void registerPoolKernels(KernelRegistry &r) {
  r.add({"max_pool", runMaxPool});
  r.add({"max_pool_backward", runMaxPoolBackward});
  r.add({"average_pool", runAveragePool});
  r.add({"average_pool_backward", runAveragePoolBackward});
  r.add({"global_average_pool", runGlobalAveragePool});
  r.add({"global_max_pool", runGlobalMaxPool});
}

} // namespace mlg_rt::cuda

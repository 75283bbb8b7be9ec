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
// The pool gradients use no atomics: each input element's sum is formed in
// the compute type by one thread, adding in the order the CPU visits
// windows, so it is the CPU's, rounding for rounding, and deterministic.
// average_pool_backward first writes every window's share (dy / count in the
// compute type, the value the CPU adds) to backend scratch in one pass over
// dy; then each input element gathers the shares of the windows holding it.
// max_pool_backward recomputes each window's argmax from the forward's input,
// as the CPU does. Where windows overlap it first writes the argmaxes to
// scratch, and each input element gathers the dy of the windows whose argmax
// it is. Where they cannot (a stride no shorter than the window's span in
// every dimension, as VGG's 2x2 pools) an input element lies in one window at
// most: one pass gives each window a thread, which searches the window and
// writes every input element it holds (dx is zeroed first unless the
// windows tile the input).
//
// Index arithmetic is 32-bit wherever every tensor has fewer than 2^31
// elements and the window's sizes fit (fitsInt32), with each division by a
// size, stride or dilation a multiply-high and a shift (fast_div.h); the same
// kernels run on 64-bit indices and the hardware's division otherwise. Each
// kernel also has a planar version (isPlanar: 1-D and 2-D windows of at most
// 3x3 adjacent taps, which covers the common CNN pools) that skips the
// leading dimension and the dilations, unrolls its loops over taps and
// windows, and finds the windows holding an input element without a
// division for each tap.
//
// The global pools give each (n, c) plane a block: the average sums in
// double, the maximum lets NaN win.

#include "common.cuh"

#include "../cpu/window.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <type_traits>
#include <vector>

namespace mlg_rt::cuda {
namespace {

//===----------------------------------------------------------------------===//
// Index arithmetic
//===----------------------------------------------------------------------===//

/// Division of a non-negative index by a positive size fixed at launch:
/// FastDiv's multiply-high and shift for 32-bit indices, the hardware's
/// division for 64-bit ones.
template <typename Index> struct IndexDiv;

template <> struct IndexDiv<int32_t> {
  FastDiv f;
  IndexDiv() = default;
  explicit IndexDiv(int64_t d) : f(uint32_t(d)) {}
  __device__ __forceinline__ int32_t operator()(int32_t n) const {
    return int32_t(f.div(uint32_t(n)));
  }
};

template <> struct IndexDiv<int64_t> {
  int64_t d = 1;
  IndexDiv() = default;
  explicit IndexDiv(int64_t d) : d(d) {}
  __device__ __forceinline__ int64_t operator()(int64_t n) const {
    return n / d;
  }
};

/// Whether a pool's index arithmetic fits in int32: tensors of `xNumel` and
/// `yNumel` elements below 2^31, and in every dimension the sum of the sizes
/// the kernels add, subtract and divide by (input, pads, span, the last
/// window's start, stride, kernel, dilation) below 2^31, so that no
/// intermediate overflows and every divisor suits FastDiv.
bool fitsInt32(const cpu::Window &w, int64_t xNumel, int64_t yNumel) {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  if (xNumel > kMax || yNumel > kMax)
    return false;
  for (int d = 0; d < cpu::kMaxSpatial; ++d) {
    int64_t span, reach, sum = 0;
    if (__builtin_mul_overflow(w.kernel[d] - 1, w.dilation[d], &span) ||
        __builtin_mul_overflow(w.out[d], w.stride[d], &reach))
      return false;
    for (int64_t v : {w.in[d], w.padBegin[d], w.padEnd[d], span, reach,
                      w.stride[d], w.kernel[d], w.dilation[d]})
      if (__builtin_add_overflow(sum, v, &sum))
        return false;
    if (sum > kMax)
      return false;
  }
  return true;
}

/// The largest kernel size of a planar window.
constexpr int kPlanarKernel = 3;

/// Whether a window is planar: it lies in the last two dimensions (a 1-D or
/// 2-D pool: dimension 0 is 1, with a kernel of 1 and no padding), its taps
/// are adjacent (a dilation of 1, or a kernel of 1) and its kernel is small
/// (as every pool of VGG, ResNet and Inception). The kernels' planar
/// versions skip dimension 0 and the divisions by dilations, and unroll
/// their loops over taps and windows.
bool isPlanar(const cpu::Window &w) {
  bool planar = w.in[0] == 1 && w.kernel[0] == 1 && w.padBegin[0] == 0 &&
                w.padEnd[0] == 0;
  for (int d = 1; d < cpu::kMaxSpatial; ++d)
    planar &= (w.dilation[d] == 1 || w.kernel[d] == 1) &&
              w.kernel[d] <= kPlanarKernel;
  return planar;
}

/// A pool's window (cpu::Window) in the kernels' index type, with the
/// divisors its kernels need: by the input's and the output's extents (to
/// split a flat index into coordinates), by the strides and by the
/// dilations.
template <typename Index> struct PoolGeometry {
  Index in[3], out[3], kernel[3], stride[3], dilation[3], padBegin[3],
      padEnd[3];
  Index inPlane, outPlane;
  IndexDiv<Index> inDiv[3], outDiv[3], strideDiv[3], dilationDiv[3];

  explicit PoolGeometry(const cpu::Window &w)
      : inPlane(Index(w.inSize())), outPlane(Index(w.outSize())) {
    for (int d = 0; d < 3; ++d) {
      in[d] = Index(w.in[d]);
      out[d] = Index(w.out[d]);
      kernel[d] = Index(w.kernel[d]);
      stride[d] = Index(w.stride[d]);
      dilation[d] = Index(w.dilation[d]);
      padBegin[d] = Index(w.padBegin[d]);
      padEnd[d] = Index(w.padEnd[d]);
      // An empty input never reaches a kernel that divides by its extent.
      inDiv[d] = IndexDiv<Index>(std::max<int64_t>(w.in[d], 1));
      outDiv[d] = IndexDiv<Index>(w.out[d]);
      strideDiv[d] = IndexDiv<Index>(w.stride[d]);
      dilationDiv[d] = IndexDiv<Index>(w.dilation[d]);
    }
  }
};

/// The first dimension a kernel walks: planar windows skip dimension 0.
template <bool Planar> constexpr int kFirstDim = Planar ? 1 : 0;

/// Flat element i of planes of extents `n` (divided by `div`) as its plane
/// (returned) and its coordinates `c` in the plane.
template <bool Planar, typename Index>
__device__ __forceinline__ Index decode(Index i, const Index n[3],
                                        const IndexDiv<Index> div[3],
                                        Index c[3]) {
  c[0] = 0;
#pragma unroll
  for (int d = 2; d >= kFirstDim<Planar>; --d) {
    Index q = div[d](i);
    c[d] = i - q * n[d];
    i = q;
  }
  return i;
}

//===----------------------------------------------------------------------===//
// Window geometry on the device (window.h's, for device code)
//===----------------------------------------------------------------------===//

/// window.h's tapRange: the j in [0, n) with offset + j * step in [0, size);
/// `stepDiv` divides by step, which is 1 where UnitStep.
template <bool UnitStep, typename Index>
__device__ __forceinline__ void tapRangeD(Index n, Index size, Index step,
                                          const IndexDiv<Index> &stepDiv,
                                          Index offset, Index &lo, Index &hi) {
  // ceil(a / step) for a > 0.
  auto ceilDiv = [&](Index a) -> Index {
    if constexpr (UnitStep) {
      return a;
    } else {
      Index q = stepDiv(a);
      return q + Index(q * step != a);
    }
  };
  lo = offset >= 0 ? Index(0) : ceilDiv(-offset);
  hi = size - offset <= 0 ? Index(0) : ceilDiv(size - offset);
  hi = hi < n ? hi : n;
  lo = lo < hi ? lo : hi;
}

/// window.h's Taps: the taps [lo, hi) of one dimension of a window that lie
/// inside the input, and the input coordinate of tap 0.
template <typename Index> struct TapsD { Index lo, hi, origin; };

/// window.h's tapsOf, for every dimension of window o.
template <bool Planar, typename Index>
__device__ __forceinline__ void tapsAt(const PoolGeometry<Index> &g,
                                       const Index o[3], TapsD<Index> t[3]) {
  if constexpr (Planar)
    t[0] = {0, 1, 0};
#pragma unroll
  for (int d = kFirstDim<Planar>; d < 3; ++d) {
    t[d].origin = o[d] * g.stride[d] - g.padBegin[d];
    tapRangeD<Planar>(g.kernel[d], g.in[d], g.dilation[d], g.dilationDiv[d],
                      t[d].origin, t[d].lo, t[d].hi);
  }
}

/// Calls fn(at) with the offset in its plane of every tap of a window (taps
/// `t`) that lies inside the input, in the CPU's tap order.
template <bool Planar, typename Index, typename Fn>
__device__ __forceinline__ void forTaps(const PoolGeometry<Index> &g,
                                        const TapsD<Index> t[3], Fn &&fn) {
  if constexpr (Planar) {
#pragma unroll
    for (int kh = 0; kh < kPlanarKernel; ++kh) {
      if (kh < t[1].lo || kh >= t[1].hi)
        continue;
      Index rowAt = (t[1].origin + kh) * g.in[2] + t[2].origin;
#pragma unroll
      for (int kw = 0; kw < kPlanarKernel; ++kw)
        if (kw >= t[2].lo && kw < t[2].hi)
          fn(rowAt + kw);
    }
  } else {
    for (Index kd = t[0].lo; kd < t[0].hi; ++kd) {
      Index id = t[0].origin + kd * g.dilation[0];
      for (Index kh = t[1].lo; kh < t[1].hi; ++kh) {
        Index ih = t[1].origin + kh * g.dilation[1];
        Index rowAt = (id * g.in[1] + ih) * g.in[2] + t[2].origin;
        for (Index kw = t[2].lo; kw < t[2].hi; ++kw)
          fn(rowAt + kw * g.dilation[2]);
      }
    }
  }
}

/// The window of dimension d whose tap k lies on input coordinate p, if
/// there is one.
template <typename Index>
__device__ __forceinline__ bool windowOf(const PoolGeometry<Index> &g, int d,
                                         Index p, Index k, Index &o) {
  Index num = p + g.padBegin[d] - k * g.dilation[d];
  if (num < 0)
    return false;
  o = g.strideDiv[d](num);
  return o * g.stride[d] == num && o < g.out[d];
}

/// The windows [lo, hi] of dimension d of a planar window that hold input
/// coordinate p: window q, the last to start at or before p, holds it at tap
/// r, and each window before at a tap one stride further, while that tap is
/// inside the kernel.
template <typename Index>
__device__ __forceinline__ void windowsHolding(const PoolGeometry<Index> &g,
                                               int d, Index p, Index &lo,
                                               Index &hi) {
  Index num = p + g.padBegin[d];
  Index q = g.strideDiv[d](num), r = num - q * g.stride[d];
  hi = q < g.out[d] - 1 ? q : g.out[d] - 1;
  lo = r < g.kernel[d] ? q - g.strideDiv[d](g.kernel[d] - 1 - r) : q + 1;
  lo = lo > 0 ? lo : Index(0);
}

/// Calls fn(j) with the offset j in its plane of every window holding input
/// position p, in the order the CPU kernels visit windows (od, then oh, then
/// ow, ascending: a higher tap index is a lower window).
template <bool Planar, typename Index, typename Fn>
__device__ __forceinline__ void forWindowsHolding(const PoolGeometry<Index> &g,
                                                  const Index p[3], Fn &&fn) {
  if constexpr (Planar) {
    // At most a kernel's windows, a stride apart, hold p.
    Index loH, hiH, loW, hiW;
    windowsHolding(g, 1, p[1], loH, hiH);
    windowsHolding(g, 2, p[2], loW, hiW);
#pragma unroll
    for (int mh = 0; mh < kPlanarKernel; ++mh) {
      Index oh = loH + mh;
      if (oh > hiH)
        break;
#pragma unroll
      for (int mw = 0; mw < kPlanarKernel; ++mw) {
        Index ow = loW + mw;
        if (ow > hiW)
          break;
        fn(oh * g.out[2] + ow);
      }
    }
  } else {
    for (Index kd = g.kernel[0] - 1; kd >= 0; --kd) {
      Index od;
      if (!windowOf(g, 0, p[0], kd, od))
        continue;
      for (Index kh = g.kernel[1] - 1; kh >= 0; --kh) {
        Index oh;
        if (!windowOf(g, 1, p[1], kh, oh))
          continue;
        Index rowAt = (od * g.out[1] + oh) * g.out[2];
        for (Index kw = g.kernel[2] - 1; kw >= 0; --kw) {
          Index ow;
          if (windowOf(g, 2, p[2], kw, ow))
            fn(rowAt + ow);
        }
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

/// The maximum of the window with taps `t` of one plane `src` into `best`,
/// and its offset in the plane: nn.cc's maxPool's search (the first strictly
/// greater value in tap order; a NaN beats any number, and the first NaN
/// stays). -1 and the lowest value for a window wholly in the padding.
template <bool Planar, typename T, typename Index>
__device__ __forceinline__ Index windowMax(const T *__restrict__ src,
                                           const PoolGeometry<Index> &g,
                                           const TapsD<Index> t[3],
                                           typename Elem<T>::Compute &best) {
  using C = typename Elem<T>::Compute;
  best = lowestOf<C>();
  Index bestAt = -1;
  forTaps<Planar>(g, t, [&](Index at) {
    C v = Elem<T>::load(src[at]);
    // nn.cc's `v > best || (v != v && best == best)`, in fewer steps.
    bool better;
    if constexpr (std::is_integral_v<C>)
      better = v > best;
    else
      better = !(v <= best) && best == best;
    if (bestAt < 0 || better) {
      best = v;
      bestAt = at;
    }
  });
  return bestAt;
}

/// The divisor of average pool window o with taps `t`: runAveragePool's
/// count (in double: hostile kernel sizes could overflow int64), multiplied
/// in the CPU's order. With `includePad`, the taps inside the padded extent.
template <bool Planar, typename Index>
__device__ __forceinline__ double poolCount(const PoolGeometry<Index> &g,
                                            bool includePad, const Index o[3],
                                            const TapsD<Index> t[3]) {
  double count = 1;
#pragma unroll
  for (int d = kFirstDim<Planar>; d < 3; ++d) {
    Index lo = t[d].lo, hi = t[d].hi;
    if (includePad)
      tapRangeD<Planar>(
          g.kernel[d], Index(g.padBegin[d] + g.in[d] + g.padEnd[d]),
          g.dilation[d], g.dilationDiv[d], Index(o[d] * g.stride[d]), lo, hi);
    count *= double(hi - lo);
  }
  return count;
}

//===----------------------------------------------------------------------===//
// Pool kernels
//===----------------------------------------------------------------------===//

// Each kernel takes its flat element count as int64_t and the window as a
// PoolGeometry<Index>: with Index = int32_t, fitsInt32 has checked that
// every index it forms fits. Planar kernels (isPlanar) skip what a planar
// window does not need.

template <typename T, typename Index, bool Planar>
__global__ void maxPoolKernel(const T *__restrict__ x, T *__restrict__ y,
                              PoolGeometry<Index> g, int64_t total) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(e, total) {
    Index i = Index(e), o[3];
    Index pl = decode<Planar>(i, g.out, g.outDiv, o);
    TapsD<Index> t[3];
    tapsAt<Planar>(g, o, t);
    C best;
    windowMax<Planar>(x + pl * g.inPlane, g, t, best);
    y[i] = Elem<T>::store(best);
  }
}

template <typename T, typename Index, bool Planar>
__global__ void averagePoolKernel(const T *__restrict__ x, T *__restrict__ y,
                                  PoolGeometry<Index> g, bool includePad,
                                  int64_t total) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(e, total) {
    Index i = Index(e), o[3];
    Index pl = decode<Planar>(i, g.out, g.outDiv, o);
    const T *src = x + pl * g.inPlane;
    TapsD<Index> t[3];
    tapsAt<Planar>(g, o, t);
    double sum = 0;
    forTaps<Planar>(g, t,
                    [&](Index at) { sum += double(Elem<T>::load(src[at])); });
    double count = poolCount<Planar>(g, includePad, o, t);
    y[i] = Elem<T>::store(C(count > 0 ? sum / count : 0.0));
  }
}

/// The argmax (offset in its plane, -1 for none) of every max pool window.
template <typename T, typename Index, bool Planar>
__global__ void maxPoolArgmaxKernel(const T *__restrict__ x,
                                    Index *__restrict__ argmax,
                                    PoolGeometry<Index> g, int64_t total) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(e, total) {
    Index i = Index(e), o[3];
    Index pl = decode<Planar>(i, g.out, g.outDiv, o);
    TapsD<Index> t[3];
    tapsAt<Planar>(g, o, t);
    C best;
    argmax[i] = windowMax<Planar>(x + pl * g.inPlane, g, t, best);
  }
}

/// dx of every input element: the sum, in window order, of the dy of the
/// windows whose argmax it is (runMaxPoolBackward's accumulation).
template <typename T, typename Index, bool Planar>
__global__ void maxPoolBackwardKernel(const T *__restrict__ dy,
                                      const Index *__restrict__ argmax,
                                      T *__restrict__ dx, PoolGeometry<Index> g,
                                      int64_t total) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(e, total) {
    Index i = Index(e), p[3];
    Index pl = decode<Planar>(i, g.in, g.inDiv, p);
    const Index at = i - pl * g.inPlane;
    const T *gy = dy + pl * g.outPlane;
    const Index *am = argmax + pl * g.outPlane;
    C acc = C(0);
    forWindowsHolding<Planar>(g, p, [&](Index j) {
      if (am[j] == at)
        acc += Elem<T>::load(gy[j]);
    });
    dx[i] = Elem<T>::store(acc);
  }
}

/// Whether no input element lies in two windows: in every dimension the
/// stride is at least the window's span.
bool windowsDisjoint(const cpu::Window &w) {
  for (int d = 0; d < cpu::kMaxSpatial; ++d)
    if (w.stride[d] <= (w.kernel[d] - 1) * w.dilation[d])
      return false;
  return true;
}

/// Whether disjoint windows hold every input element: in every dimension
/// adjacent taps, windows one kernel apart, and the last window reaching
/// the input's end.
bool windowsTile(const cpu::Window &w) {
  for (int d = 0; d < cpu::kMaxSpatial; ++d) {
    int64_t reach;
    if ((w.dilation[d] != 1 && w.kernel[d] != 1) ||
        w.stride[d] != w.kernel[d] ||
        __builtin_mul_overflow(w.out[d], w.stride[d], &reach) ||
        reach - w.padBegin[d] < w.in[d])
      return false;
  }
  return true;
}

/// dx where windows are disjoint (windowsDisjoint), a thread a window: it
/// searches its window and writes every input element the window holds, the
/// argmax 0 + dy (the CPU's sum, which is dy but for a -0 dy) and the rest
/// 0. Unless windows tile the input, dx is zeroed first.
template <typename T, typename Index, bool Planar>
__global__ void
maxPoolBackwardDisjointKernel(const T *__restrict__ dy, const T *__restrict__ x,
                              T *__restrict__ dx, PoolGeometry<Index> g,
                              int64_t total) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(e, total) {
    Index i = Index(e), o[3];
    Index pl = decode<Planar>(i, g.out, g.outDiv, o);
    TapsD<Index> t[3];
    tapsAt<Planar>(g, o, t);
    C best;
    const Index bestAt = windowMax<Planar>(x + pl * g.inPlane, g, t, best);
    const T share = Elem<T>::store(C(0) + Elem<T>::load(dy[i]));
    const T zero = Elem<T>::store(C(0));
    T *dst = dx + pl * g.inPlane;
    forTaps<Planar>(g, t,
                    [&](Index at) { dst[at] = at == bestAt ? share : zero; });
  }
}

/// Every average pool window's share of its dy, in the compute type: the
/// value runAveragePoolBackward adds to each tap (0 for a window with
/// nothing to count, which holds no input element).
template <typename T, typename Index, bool Planar>
__global__ void
averagePoolShareKernel(const T *__restrict__ dy,
                       typename Elem<T>::Compute *__restrict__ share,
                       PoolGeometry<Index> g, bool includePad, int64_t total) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(e, total) {
    Index i = Index(e), o[3];
    decode<Planar>(i, g.out, g.outDiv, o);
    TapsD<Index> t[3];
    tapsAt<Planar>(g, o, t);
    double count = poolCount<Planar>(g, includePad, o, t);
    share[i] = count > 0 ? C(double(Elem<T>::load(dy[i])) / count) : C(0);
  }
}

/// dx of every input element: the sum, in window order, of the shares of the
/// windows holding it (runAveragePoolBackward's accumulation).
template <typename T, typename Index, bool Planar>
__global__ void
averagePoolBackwardKernel(const typename Elem<T>::Compute *__restrict__ share,
                          T *__restrict__ dx, PoolGeometry<Index> g,
                          int64_t total) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(e, total) {
    Index i = Index(e), p[3];
    Index pl = decode<Planar>(i, g.in, g.inDiv, p);
    const C *s = share + pl * g.outPlane;
    C acc = C(0);
    forWindowsHolding<Planar>(g, p, [&](Index j) { acc += s[j]; });
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

/// Calls `fn.template operator()<Index, Planar>()` with the kernels' version
/// for a pool of window `w` between `x` and `y` (or their gradients): 32-bit
/// indices where fitsInt32 allows, planar where isPlanar allows too; else
/// 64-bit indices and the general window.
template <typename Fn>
Status dispatchGeometry(const cpu::Window &w, const cpu::Tensor &x,
                        const cpu::Tensor &y, Fn &&fn) {
  if (!fitsInt32(w, x.numel, y.numel))
    return fn.template operator()<int64_t, false>();
  if (isPlanar(w))
    return fn.template operator()<int32_t, true>();
  return fn.template operator()<int32_t, false>();
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

// The launches of each window pool for element type T and a kernel version
// (dispatchGeometry's Index and Planar), the call's window `w` accepted and
// its result not empty.

template <typename T, typename Index, bool Planar>
Status launchMaxPool(const cpu::KernelCall &c, Context &ctx,
                     const cpu::Window &w) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0];
  maxPoolKernel<T, Index, Planar>
      <<<blocksFor(y.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
          x.as<T>(), y.as<T>(), PoolGeometry<Index>(w), y.numel);
  return checkLaunch(c, "maxPoolKernel");
}

template <typename T, typename Index, bool Planar>
Status launchAveragePool(const cpu::KernelCall &c, Context &ctx,
                         const cpu::Window &w, bool includePad) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0];
  averagePoolKernel<T, Index, Planar>
      <<<blocksFor(y.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
          x.as<T>(), y.as<T>(), PoolGeometry<Index>(w), includePad, y.numel);
  return checkLaunch(c, "averagePoolKernel");
}

/// dy, x -> dx: where windows are disjoint, one pass over the windows; else
/// the argmaxes into scratch, then the gather.
template <typename T, typename Index, bool Planar>
Status launchMaxPoolBackward(const cpu::KernelCall &c, Context &ctx,
                             const cpu::Window &w) {
  const cpu::Tensor &dy = c.in[0], &x = c.in[1], &dx = c.out[0];
  const PoolGeometry<Index> g(w);
  if (windowsDisjoint(w)) {
    if (!windowsTile(w))
      MLG_CUDA_TRY(c,
                   cudaMemsetAsync(dx.data, 0, uint64_t(dx.numel) * sizeof(T),
                                   ctx.stream));
    maxPoolBackwardDisjointKernel<T, Index, Planar>
        <<<blocksFor(dy.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
            dy.as<T>(), x.as<T>(), dx.as<T>(), g, dy.numel);
    return checkLaunch(c, "maxPoolBackwardDisjointKernel");
  }
  void *scratch = nullptr;
  MLG_RT_RETURN_IF_ERROR(
      scratchBuffer(c, ctx, uint64_t(dy.numel) * sizeof(Index), &scratch));
  Index *argmax = static_cast<Index *>(scratch);
  maxPoolArgmaxKernel<T, Index, Planar>
      <<<blocksFor(dy.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
          x.as<T>(), argmax, g, dy.numel);
  MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "maxPoolArgmaxKernel"));
  maxPoolBackwardKernel<T, Index, Planar>
      <<<blocksFor(dx.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
          dy.as<T>(), argmax, dx.as<T>(), g, dx.numel);
  return checkLaunch(c, "maxPoolBackwardKernel");
}

/// dy -> dx: the windows' shares into scratch, then the gather.
template <typename T, typename Index, bool Planar>
Status launchAveragePoolBackward(const cpu::KernelCall &c, Context &ctx,
                                 const cpu::Window &w, bool includePad) {
  using C = typename Elem<T>::Compute;
  const cpu::Tensor &dy = c.in[0], &dx = c.out[0];
  const PoolGeometry<Index> g(w);
  void *scratch = nullptr;
  MLG_RT_RETURN_IF_ERROR(
      scratchBuffer(c, ctx, uint64_t(dy.numel) * sizeof(C), &scratch));
  C *share = static_cast<C *>(scratch);
  averagePoolShareKernel<T, Index, Planar>
      <<<blocksFor(dy.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
          dy.as<T>(), share, g, includePad, dy.numel);
  MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "averagePoolShareKernel"));
  averagePoolBackwardKernel<T, Index, Planar>
      <<<blocksFor(dx.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
          share, dx.as<T>(), g, dx.numel);
  return checkLaunch(c, "averagePoolBackwardKernel");
}

Status runMaxPool(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0];
  cpu::Window w;
  MLG_RT_RETURN_IF_ERROR(poolWindow(c, x, w));
  if (y.numel == 0)
    return Status();
  return dispatchNumeric(c, x.dtype, [&]<typename T>() {
    return dispatchGeometry(w, x, y, [&]<typename Index, bool Planar>() {
      return launchMaxPool<T, Index, Planar>(c, ctx, w);
    });
  });
}

Status runAveragePool(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0];
  cpu::Window w;
  MLG_RT_RETURN_IF_ERROR(poolWindow(c, x, w));
  bool includePad = *c.attrs().getBool("count_include_pad");
  if (y.numel == 0)
    return Status();
  return dispatchFloat(c, x.dtype, [&]<typename T>() {
    return dispatchGeometry(w, x, y, [&]<typename Index, bool Planar>() {
      return launchAveragePool<T, Index, Planar>(c, ctx, w, includePad);
    });
  });
}

Status runMaxPoolBackward(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dy = c.in[0], &dx = c.out[0];
  cpu::Window w;
  MLG_RT_RETURN_IF_ERROR(poolWindow(c, dx, w));
  // Every window dimension has an output, so an empty dy (no planes) comes
  // with an empty dx.
  if (dx.numel == 0)
    return Status();
  return dispatchFloat(c, dx.dtype, [&]<typename T>() {
    return dispatchGeometry(w, dx, dy, [&]<typename Index, bool Planar>() {
      return launchMaxPoolBackward<T, Index, Planar>(c, ctx, w);
    });
  });
}

Status runAveragePoolBackward(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dy = c.in[0], &dx = c.out[0];
  cpu::Window w;
  MLG_RT_RETURN_IF_ERROR(poolWindow(c, dx, w));
  bool includePad = *c.attrs().getBool("count_include_pad");
  if (dx.numel == 0)
    return Status();
  return dispatchFloat(c, dx.dtype, [&]<typename T>() {
    return dispatchGeometry(w, dx, dy, [&]<typename Index, bool Planar>() {
      return launchAveragePoolBackward<T, Index, Planar>(c, ctx, w, includePad);
    });
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

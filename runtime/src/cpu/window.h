// window.h - the geometry of sliding-window kernels (convolution, pools and
// their gradients), shared by nn.cc and nn_grad.cc.
//
// Window ops take 1 to 3 spatial dimensions and see them as 3, with leading
// dimensions of size 1 (kernel 1, stride 1, no pad), so one set of loops
// serves all ranks.

#ifndef MLG_RT_SRC_CPU_WINDOW_H
#define MLG_RT_SRC_CPU_WINDOW_H

#include "common.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace mlg_rt::cpu {

constexpr int64_t kMaxSpatial = 3;

template <typename T> using ComputeOf = typename Elem<T>::Compute;

/// a * b, or nothing on overflow (both non-negative).
inline std::optional<int64_t> mulChecked(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    return std::nullopt;
  return r;
}

/// Whether every product of some of `t`'s dims fits in int64. The loader
/// bounds numel, but a tensor with a zero dim is empty whatever its other
/// dims, and the loops multiply those.
inline bool dimsFit(const Tensor &t) {
  int64_t p = 1;
  for (int64_t d : *t.shape)
    if (d > 0 && __builtin_mul_overflow(p, d, &p))
      return false;
  return true;
}

/// ceil(a / b) for a >= 0, b > 0, without overflow.
inline int64_t ceilDiv(int64_t a, int64_t b) { return a / b + (a % b != 0); }

/// The indices j in [0, n) for which `offset + j * step` lies in [0, size):
/// [lo, hi). Used both for output positions whose tap falls inside the input
/// and for the taps of one window that do.
inline void tapRange(int64_t n, int64_t size, int64_t step, int64_t offset,
                     int64_t &lo, int64_t &hi) {
  lo = offset >= 0 ? 0 : ceilDiv(-offset, step);
  hi = size - offset <= 0 ? 0 : ceilDiv(size - offset, step);
  hi = std::min(hi, n);
  lo = std::min(lo, hi);
}

/// The geometry of a sliding-window op over 3 spatial dimensions; a rank
/// with fewer has leading dimensions of size 1 (kernel 1, stride 1, no pad).
struct Window {
  int64_t in[kMaxSpatial], out[kMaxSpatial], kernel[kMaxSpatial],
      stride[kMaxSpatial], dilation[kMaxSpatial], padBegin[kMaxSpatial],
      padEnd[kMaxSpatial];

  int64_t inSize() const { return in[0] * in[1] * in[2]; }
  int64_t outSize() const { return out[0] * out[1] * out[2]; }
  int64_t kernelSize() const { return kernel[0] * kernel[1] * kernel[2]; }
  /// A 1x1x1 kernel, stride 1, no padding: the input is its own im2col.
  bool pointwise() const {
    bool p = true;
    for (int64_t d = 0; d < kMaxSpatial; ++d)
      p &= kernel[d] == 1 && stride[d] == 1 && padBegin[d] == 0 &&
           padEnd[d] == 0;
    return p;
  }
};

/// Reads and checks the strides, pads and dilations of a window op over `x`
/// ([N, C, spatial...]: the forward's input, or its gradient) with `kernel`,
/// fills `w`, and appends the forward output's spatial sizes to `shape` (by
/// the compiler's own rule).
Status readWindow(const KernelCall &c, const Tensor &x,
                  const std::vector<int64_t> &kernel, bool ceilMode, Window &w,
                  std::vector<int64_t> &shape);

/// A convolution's (or its gradients') geometry: the window and the sizes.
struct ConvGeometry {
  Window w;
  int64_t batch, channels, filters, group;
};

/// Reads the group of a convolution of `x` [N, C, in...] (the input, or its
/// gradient) by `wt` [M, C / group, K...] (the weight, or its gradient),
/// checks that the group divides channels and filters, fills `g` and
/// appends the output's shape [N, M, out...] to `shape`.
Status readConvGeometry(const KernelCall &c, const Tensor &x, const Tensor &wt,
                        ConvGeometry &g, std::vector<int64_t> &shape);

/// Checks the step's workspace holds the im2col matrix of one image and one
/// group of a convolution by `wt` with output `shape`, of element type `t`.
Status checkIm2colWorkspace(const KernelCall &c, const Tensor &wt,
                            const std::vector<int64_t> &shape, DType t);

/// Per output position, the range of taps [lo, hi) of each dimension that
/// fall inside the input, and the input coordinate of tap 0.
struct Taps {
  int64_t lo, hi, origin;
};

inline Taps tapsOf(const Window &w, int64_t d, int64_t o) {
  Taps t;
  t.origin = o * w.stride[d] - w.padBegin[d];
  tapRange(w.kernel[d], w.in[d], w.dilation[d], t.origin, t.lo, t.hi);
  return t;
}

/// Copies `channels` planes of one image into the im2col matrix `col`:
/// row (c, kd, kh, kw), column (od, oh, ow) holds the input under that tap,
/// or 0 in the padding. Every element is written (the workspace holds
/// garbage).
template <typename T>
void im2col(const T *x, int64_t channels, const Window &w, T *col) {
  const T zero = Elem<T>::store(ComputeOf<T>(0));
  const int64_t inPlane = w.inSize(), outPlane = w.outSize();
  const int64_t rowLen = w.out[2];
  for (int64_t ch = 0; ch < channels; ++ch) {
    const T *plane = x + ch * inPlane;
    for (int64_t kd = 0; kd < w.kernel[0]; ++kd)
      for (int64_t kh = 0; kh < w.kernel[1]; ++kh)
        for (int64_t kw = 0; kw < w.kernel[2]; ++kw) {
          T *dst = col;
          col += outPlane;
          // The output columns whose tap lands inside the input row.
          int64_t lo, hi;
          int64_t offW = kw * w.dilation[2] - w.padBegin[2];
          tapRange(rowLen, w.in[2], w.stride[2], offW, lo, hi);
          for (int64_t od = 0; od < w.out[0]; ++od) {
            int64_t id = od * w.stride[0] - w.padBegin[0] + kd * w.dilation[0];
            for (int64_t oh = 0; oh < w.out[1]; ++oh, dst += rowLen) {
              int64_t ih =
                  oh * w.stride[1] - w.padBegin[1] + kh * w.dilation[1];
              if (id < 0 || id >= w.in[0] || ih < 0 || ih >= w.in[1]) {
                std::fill(dst, dst + rowLen, zero);
                continue;
              }
              const T *src = plane + (id * w.in[1] + ih) * w.in[2];
              std::fill(dst, dst + lo, zero);
              if (w.stride[2] == 1)
                std::copy(src + lo + offW, src + hi + offW, dst + lo);
              else
                for (int64_t ow = lo; ow < hi; ++ow)
                  dst[ow] = src[ow * w.stride[2] + offW];
              std::fill(dst + hi, dst + rowLen, zero);
            }
          }
        }
  }
}

/// Writes `v` into element `i` of a floating-point tensor.
inline void storeDouble(const Tensor &t, int64_t i, double v) {
  (void)dispatchFloat(t.dtype, [&]<typename T>() {
    t.as<T>()[i] = Elem<T>::store(ComputeOf<T>(v));
    return Status();
  });
}

} // namespace mlg_rt::cpu

#endif // MLG_RT_SRC_CPU_WINDOW_H

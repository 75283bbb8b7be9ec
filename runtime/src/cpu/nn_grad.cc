// nn_grad.cc - backward kernels (see dialects/MLG/MLGNNGradOps.td).
//
// The convolution gradients reuse the forward's im2col layout: the data
// gradient multiplies the transposed filters by dY into the workspace's
// column matrix and scatters it back onto the input (col2im); the filter
// gradient multiplies dY by the transposed column matrix of each image and
// sums over the batch. Both go through BLAS for f32 and f64 and through
// float-accumulating loops for f16 and bf16. The pool gradients scatter each
// dY over its window, with the forward kernels' rules (the first maximum
// wins, the same divisors), accumulating each plane in the compute type. The
// normalization gradients accumulate their sums in double.
//
// batch_norm_backward, layer_norm_backward, softmax_backward,
// log_softmax_backward and dropout_backward may write their first result
// over an operand of its shape (the plan's in-place reuse): each reads all it
// needs of a channel, row or slice before writing any of it.

#include "common.h"
#include "gemm.h"
#include "window.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace mlg_rt::cpu {
namespace {

/// Every tensor of a kernel has the float type of the first operand.
Status expectOneFloatType(const KernelCall &c) {
  DType t = c.in[0].dtype;
  bool ok = isFloat(t);
  for (const Tensor &x : c.in)
    ok &= x.dtype == t;
  for (const Tensor &x : c.out)
    ok &= x.dtype == t;
  if (!ok)
    return c.error("needs floating-point operands and results of one type");
  return Status();
}

Status expectDimsFit(const KernelCall &c) {
  bool fit = true;
  for (const Tensor &x : c.in)
    fit &= dimsFit(x);
  for (const Tensor &x : c.out)
    fit &= dimsFit(x);
  if (!fit)
    return c.error("has dimensions whose product overflows");
  return Status();
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

// conv_backward_data: dy [N, M, out...], weight [M, C / group, K...] ->
// dx [N, C, in...]. conv_backward_filter: dy, x [N, C, in...] -> dw.

/// Checks the three tensors of a convolution gradient (`x` the forward's
/// input or its gradient, `wt` its weight or the weight's gradient) and the
/// workspace, and fills `g`; run() calls it again.
Status readConvGrad(const KernelCall &c, const Tensor &dy, const Tensor &x,
                    const Tensor &wt, ConvGeometry &g) {
  MLG_RT_RETURN_IF_ERROR(expectOneFloatType(c));
  if (x.rank() < 3 || wt.rank() != x.rank() || dy.rank() != x.rank())
    return c.error("needs an output gradient, input and weight [N, C, "
                   "spatial...] of one rank");
  MLG_RT_RETURN_IF_ERROR(expectDimsFit(c));
  std::vector<int64_t> shape;
  MLG_RT_RETURN_IF_ERROR(readConvGeometry(c, x, wt, g, shape));
  if (shape != *dy.shape)
    return c.error("the output gradient's shape is not the convolution's");
  return checkIm2colWorkspace(c, wt, shape, x.dtype);
}

Status readConvBackwardData(const KernelCall &c, ConvGeometry &g) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 2, 1));
  return readConvGrad(c, c.in[0], c.out[0], c.in[1], g);
}

Status readConvBackwardFilter(const KernelCall &c, ConvGeometry &g) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 2, 1));
  return readConvGrad(c, c.in[0], c.in[1], c.out[0], g);
}

/// The adjoint of im2col for the row of tap (kd, kh, kw): adds each column
/// of `row` onto the input position under that tap (none in the padding).
template <typename A>
void col2imRow(const A *row, const Window &w, int64_t kd, int64_t kh,
               int64_t kw, A *plane) {
  const int64_t rowLen = w.out[2];
  int64_t lo, hi;
  int64_t offW = kw * w.dilation[2] - w.padBegin[2];
  tapRange(rowLen, w.in[2], w.stride[2], offW, lo, hi);
  for (int64_t od = 0; od < w.out[0]; ++od) {
    int64_t id = od * w.stride[0] - w.padBegin[0] + kd * w.dilation[0];
    for (int64_t oh = 0; oh < w.out[1]; ++oh, row += rowLen) {
      int64_t ih = oh * w.stride[1] - w.padBegin[1] + kh * w.dilation[1];
      if (id < 0 || id >= w.in[0] || ih < 0 || ih >= w.in[1])
        continue;
      A *dst = plane + (id * w.in[1] + ih) * w.in[2];
      for (int64_t ow = lo; ow < hi; ++ow)
        dst[ow * w.stride[2] + offW] += row[ow];
    }
  }
}

/// The channel and tap coordinates of row `r` of the column matrix (rows
/// run over channels, then kd, kh, kw).
struct TapRow {
  int64_t channel, kd, kh, kw;
};

TapRow tapRowOf(const Window &w, int64_t r) {
  TapRow t;
  t.kw = r % w.kernel[2];
  r /= w.kernel[2];
  t.kh = r % w.kernel[1];
  r /= w.kernel[1];
  t.kd = r % w.kernel[0];
  t.channel = r / w.kernel[0];
  return t;
}

Status checkConvBackwardData(const KernelCall &c) {
  ConvGeometry g;
  return readConvBackwardData(c, g);
}

/// Per image and group: col [k x p] = W_g^T [k x mg] * dY_g [mg x p], then
/// col2im onto dX_g (zeroed first: windows overlap and padding drops).
Status runConvBackwardData(KernelCall &c) {
  ConvGeometry g;
  MLG_RT_RETURN_IF_ERROR(readConvBackwardData(c, g));
  const Window &w = g.w;
  const int64_t cg = g.channels / g.group, mg = g.filters / g.group;
  const int64_t k = cg * w.kernelSize(), p = w.outSize(), inPlane = w.inSize();
  bool naive = c.options && c.options->naiveGemm;
  return dispatchFloat(c.in[0].dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    const T *dy = c.in[0].as<T>(), *wt = c.in[1].as<T>();
    T *dx = c.out[0].as<T>();
    for (int64_t n = 0; n < g.batch; ++n)
      for (int64_t gi = 0; gi < g.group; ++gi) {
        const T *dyg = dy + (n * g.filters + gi * mg) * p;
        const T *wg = wt + gi * mg * k;
        T *dxg = dx + (n * g.channels + gi * cg) * inPlane;
        if constexpr (std::is_same_v<T, C>) {
          if (w.pointwise()) {
            // The column matrix is the input itself.
            gemm(true, false, k, p, mg, T(1), wg, k, dyg, p, T(0), dxg, p,
                 naive);
            continue;
          }
          T *col = reinterpret_cast<T *>(c.workspace);
          gemm(true, false, k, p, mg, T(1), wg, k, dyg, p, T(0), col, p, naive);
          std::fill(dxg, dxg + cg * inPlane, T(0));
          for (int64_t r = 0; r < k; ++r) {
            TapRow t = tapRowOf(w, r);
            col2imRow(col + r * p, w, t.kd, t.kh, t.kw,
                      dxg + t.channel * inPlane);
          }
        } else {
          // f16/bf16: one column row at a time, in float, onto a float
          // image of the group.
          std::vector<float> acc(static_cast<size_t>(cg * inPlane), 0.0f),
              row(static_cast<size_t>(p));
          for (int64_t r = 0; r < k; ++r) {
            std::fill(row.begin(), row.end(), 0.0f);
            for (int64_t m = 0; m < mg; ++m) {
              float wv = Elem<T>::load(wg[m * k + r]);
              const T *dyrow = dyg + m * p;
              for (int64_t j = 0; j < p; ++j)
                row[j] += wv * Elem<T>::load(dyrow[j]);
            }
            TapRow t = tapRowOf(w, r);
            col2imRow(row.data(), w, t.kd, t.kh, t.kw,
                      acc.data() + t.channel * inPlane);
          }
          for (int64_t i = 0; i < cg * inPlane; ++i)
            dxg[i] = Elem<T>::store(acc[i]);
        }
      }
    return Status();
  });
}

Status checkConvBackwardFilter(const KernelCall &c) {
  ConvGeometry g;
  return readConvBackwardFilter(c, g);
}

/// Per image and group: dW_g [mg x k] += dY_g [mg x p] * col^T [p x k],
/// with col the im2col matrix of the image's group.
Status runConvBackwardFilter(KernelCall &c) {
  ConvGeometry g;
  MLG_RT_RETURN_IF_ERROR(readConvBackwardFilter(c, g));
  const Window &w = g.w;
  const int64_t cg = g.channels / g.group, mg = g.filters / g.group;
  const int64_t k = cg * w.kernelSize(), p = w.outSize(), inPlane = w.inSize();
  const bool pointwise = w.pointwise();
  bool naive = c.options && c.options->naiveGemm;
  return dispatchFloat(c.in[0].dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    const T *dy = c.in[0].as<T>(), *x = c.in[1].as<T>();
    T *dw = c.out[0].as<T>();
    T *col = reinterpret_cast<T *>(c.workspace);
    std::vector<float> acc;
    if constexpr (std::is_same_v<T, C>)
      std::fill(dw, dw + c.out[0].numel, T(0));
    else
      acc.assign(size_t(c.out[0].numel), 0.0f);
    for (int64_t n = 0; n < g.batch; ++n)
      for (int64_t gi = 0; gi < g.group; ++gi) {
        const T *xg = x + (n * g.channels + gi * cg) * inPlane;
        const T *dyg = dy + (n * g.filters + gi * mg) * p;
        const T *b = xg;
        if (!pointwise) {
          im2col(xg, cg, w, col);
          b = col;
        }
        if constexpr (std::is_same_v<T, C>) {
          gemm(false, true, mg, k, p, T(1), dyg, p, b, p, T(1),
               dw + gi * mg * k, k, naive);
        } else {
          float *accg = acc.data() + gi * mg * k;
          for (int64_t m = 0; m < mg; ++m)
            for (int64_t r = 0; r < k; ++r) {
              float sum = 0.0f;
              for (int64_t j = 0; j < p; ++j)
                sum +=
                    Elem<T>::load(dyg[m * p + j]) * Elem<T>::load(b[r * p + j]);
              accg[m * k + r] += sum;
            }
        }
      }
    if constexpr (!std::is_same_v<T, C>)
      for (int64_t i = 0; i < c.out[0].numel; ++i)
        dw[i] = Elem<T>::store(acc[i]);
    return Status();
  });
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// Checks a pool gradient: dy of the pooled shape of `input` (the forward's
/// input, or with `dx` only, its gradient), dx of the input's shape, all of
/// one float type.
Status readPoolGrad(const KernelCall &c, size_t numIn, Window &w) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(numIn, numIn, 1));
  MLG_RT_RETURN_IF_ERROR(expectOneFloatType(c));
  const Tensor &dy = c.in[0], &dx = c.out[0];
  if (dx.rank() < 3)
    return c.error("needs an input [N, C, spatial...]");
  if (numIn == 2 && !sameShape(c.in[1], dx))
    return c.error("the input gradient must have the input's shape");
  MLG_RT_RETURN_IF_ERROR(expectDimsFit(c));
  auto kernel = c.attrs().getInts("kernel_shape");
  auto ceil = c.attrs().getBool("ceil_mode");
  if (!kernel || !ceil)
    return c.error("needs the kernel_shape and ceil_mode attributes");
  std::vector<int64_t> shape = {dx.dim(0), dx.dim(1)};
  MLG_RT_RETURN_IF_ERROR(readWindow(c, dx, *kernel, *ceil, w, shape));
  if (*dy.shape != shape)
    return c.error("the output gradient's shape is not the pooled shape");
  return Status();
}

Status checkMaxPoolBackward(const KernelCall &c) {
  Window w;
  return readPoolGrad(c, 2, w);
}

/// Each dy goes to its window's maximum, found as nn.cc's maxPool finds it:
/// the first strictly greater value in tap order, a NaN beating any number.
Status runMaxPoolBackward(KernelCall &c) {
  Window w;
  MLG_RT_RETURN_IF_ERROR(readPoolGrad(c, 2, w));
  const Tensor &x = c.in[1];
  return dispatchFloat(x.dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    const int64_t inPlane = w.inSize(), planes = x.dim(0) * x.dim(1);
    const T *dy = c.in[0].as<T>();
    std::vector<C> acc(static_cast<size_t>(inPlane));
    for (int64_t pl = 0; pl < planes; ++pl) {
      const T *src = x.as<T>() + pl * inPlane;
      std::fill(acc.begin(), acc.end(), C(0));
      for (int64_t od = 0; od < w.out[0]; ++od) {
        Taps td = tapsOf(w, 0, od);
        for (int64_t oh = 0; oh < w.out[1]; ++oh) {
          Taps th = tapsOf(w, 1, oh);
          for (int64_t ow = 0; ow < w.out[2]; ++ow, ++dy) {
            Taps tw = tapsOf(w, 2, ow);
            C best = 0;
            int64_t bestAt = -1;
            for (int64_t kd = td.lo; kd < td.hi; ++kd) {
              int64_t id = td.origin + kd * w.dilation[0];
              for (int64_t kh = th.lo; kh < th.hi; ++kh) {
                int64_t ih = th.origin + kh * w.dilation[1];
                int64_t rowAt = (id * w.in[1] + ih) * w.in[2];
                for (int64_t kw = tw.lo; kw < tw.hi; ++kw) {
                  int64_t at = rowAt + tw.origin + kw * w.dilation[2];
                  C v = Elem<T>::load(src[at]);
                  if (bestAt < 0 || v > best || (v != v && best == best)) {
                    best = v;
                    bestAt = at;
                  }
                }
              }
            }
            if (bestAt >= 0)
              acc[bestAt] += Elem<T>::load(*dy);
          }
        }
      }
      T *dst = c.out[0].as<T>() + pl * inPlane;
      for (int64_t i = 0; i < inPlane; ++i)
        dst[i] = Elem<T>::store(acc[i]);
    }
    return Status();
  });
}

Status checkAveragePoolBackward(const KernelCall &c) {
  Window w;
  MLG_RT_RETURN_IF_ERROR(readPoolGrad(c, 1, w));
  if (!c.attrs().getBool("count_include_pad"))
    return c.error("needs the count_include_pad attribute");
  return Status();
}

/// Each dy / count goes to every tap of its window inside the input, with
/// nn.cc's runAveragePool's count.
Status runAveragePoolBackward(KernelCall &c) {
  Window w;
  MLG_RT_RETURN_IF_ERROR(readPoolGrad(c, 1, w));
  bool includePad = *c.attrs().getBool("count_include_pad");
  const Tensor &dx = c.out[0];
  auto paddedTaps = [&](int64_t d, int64_t o) {
    int64_t lo, hi;
    tapRange(w.kernel[d], w.padBegin[d] + w.in[d] + w.padEnd[d], w.dilation[d],
             o * w.stride[d], lo, hi);
    return hi - lo;
  };
  return dispatchFloat(dx.dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    const int64_t inPlane = w.inSize(), planes = dx.dim(0) * dx.dim(1);
    const T *dy = c.in[0].as<T>();
    std::vector<C> acc(static_cast<size_t>(inPlane));
    for (int64_t pl = 0; pl < planes; ++pl) {
      std::fill(acc.begin(), acc.end(), C(0));
      for (int64_t od = 0; od < w.out[0]; ++od) {
        Taps td = tapsOf(w, 0, od);
        for (int64_t oh = 0; oh < w.out[1]; ++oh) {
          Taps th = tapsOf(w, 1, oh);
          for (int64_t ow = 0; ow < w.out[2]; ++ow, ++dy) {
            Taps tw = tapsOf(w, 2, ow);
            double count = includePad
                               ? double(paddedTaps(0, od)) *
                                     double(paddedTaps(1, oh)) *
                                     double(paddedTaps(2, ow))
                               : double(td.hi - td.lo) * double(th.hi - th.lo) *
                                     double(tw.hi - tw.lo);
            if (!(count > 0))
              continue;
            C share = C(double(Elem<T>::load(*dy)) / count);
            for (int64_t kd = td.lo; kd < td.hi; ++kd) {
              int64_t id = td.origin + kd * w.dilation[0];
              for (int64_t kh = th.lo; kh < th.hi; ++kh) {
                int64_t ih = th.origin + kh * w.dilation[1];
                C *row = acc.data() + (id * w.in[1] + ih) * w.in[2];
                for (int64_t kw = tw.lo; kw < tw.hi; ++kw)
                  row[tw.origin + kw * w.dilation[2]] += share;
              }
            }
          }
        }
      }
      T *dst = dx.as<T>() + pl * inPlane;
      for (int64_t i = 0; i < inPlane; ++i)
        dst[i] = Elem<T>::store(acc[i]);
    }
    return Status();
  });
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

/// dy, x [N, C, ...] of one float type, scale (and mean, var) [C] of any
/// float type, as the forward's; dx like x, dscale and dbias like scale.
Status checkBatchNormBackward(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(3, 5, 3));
  if (c.in.size() == 4)
    return c.error("takes both mean and var (inference form) or neither "
                   "(training form)");
  const Tensor &dy = c.in[0], &x = c.in[1], &scale = c.in[2];
  if (!isFloat(x.dtype) || dy.dtype != x.dtype || c.out[0].dtype != x.dtype)
    return c.error("needs an output gradient, input and input gradient of "
                   "one floating-point type");
  if (x.rank() < 2 || !sameShape(dy, x) || !sameShape(c.out[0], x))
    return c.error("needs an output gradient, input and input gradient of "
                   "one shape [N, C, ...]");
  if (!dimsFit(x))
    return c.error("has dimensions whose product overflows");
  for (size_t i = 2; i < c.in.size(); ++i)
    if (!isFloat(c.in[i].dtype) || c.in[i].rank() != 1 ||
        c.in[i].dim(0) != x.dim(1))
      return c.error("scale, mean and var must be floating-point [", x.dim(1),
                     "]");
  for (int o = 1; o < 3; ++o)
    if (c.out[o].dtype != scale.dtype || !sameShape(c.out[o], scale))
      return c.error("the scale and bias gradients must have the scale's "
                     "type and shape");
  if (!c.attrs().getFloat("epsilon"))
    return c.error("needs the epsilon attribute");
  return Status();
}

Status runBatchNormBackward(KernelCall &c) {
  const Tensor &dyT = c.in[0], &xT = c.in[1], &scale = c.in[2];
  bool training = c.in.size() == 3;
  double eps = *c.attrs().getFloat("epsilon");
  int64_t batch = xT.dim(0), channels = xT.dim(1), inner = 1;
  for (int64_t d = 2; d < xT.rank(); ++d)
    inner *= xT.dim(d);
  double count = double(batch) * double(inner);
  return dispatchFloat(xT.dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    const T *x = xT.as<T>(), *dy = dyT.as<T>();
    T *dx = c.out[0].as<T>();
    // Calls `fn(i, x, dy)` for every element i of channel ch.
    auto forChannel = [&](int64_t ch, auto &&fn) {
      for (int64_t n = 0; n < batch; ++n) {
        int64_t base = (n * channels + ch) * inner;
        for (int64_t i = 0; i < inner; ++i)
          fn(base + i, double(Elem<T>::load(x[base + i])),
             double(Elem<T>::load(dy[base + i])));
      }
    };
    for (int64_t ch = 0; ch < channels; ++ch) {
      double mean, rstd;
      if (training) {
        // The forward kernel's biased batch moments, two-pass.
        double sum = 0, sq = 0;
        forChannel(ch, [&](int64_t, double xv, double) { sum += xv; });
        mean = count > 0 ? sum / count : 0.0;
        forChannel(ch, [&](int64_t, double xv, double) {
          sq += (xv - mean) * (xv - mean);
        });
        rstd = 1.0 / std::sqrt((count > 0 ? sq / count : 0.0) + eps);
      } else {
        mean = loadAsDouble(c.in[3].dtype, c.in[3].data, ch);
        rstd = 1.0 /
               std::sqrt(loadAsDouble(c.in[4].dtype, c.in[4].data, ch) + eps);
      }
      double sumDy = 0, sumDyXhat = 0;
      forChannel(ch, [&](int64_t, double xv, double g) {
        sumDy += g;
        sumDyXhat += g * (xv - mean) * rstd;
      });
      double s = loadAsDouble(scale.dtype, scale.data, ch);
      double a = s * rstd;
      if (training && count > 0) {
        double meanDy = sumDy / count, meanDyXhat = sumDyXhat / count;
        forChannel(ch, [&](int64_t i, double xv, double g) {
          double xhat = (xv - mean) * rstd;
          dx[i] = Elem<T>::store(C(a * (g - meanDy - xhat * meanDyXhat)));
        });
      } else if (!training) {
        forChannel(ch, [&](int64_t i, double, double g) {
          dx[i] = Elem<T>::store(C(g * a));
        });
      }
      storeDouble(c.out[1], ch, sumDyXhat);
      storeDouble(c.out[2], ch, sumDy);
    }
    return Status();
  });
}

/// dy, x, scale, mean, inv_std_dev -> dx, dscale, all of one float type;
/// scale broadcasts to the normalized shape, the statistics have it set to 1.
Status checkLayerNormBackward(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(5, 5, 2));
  MLG_RT_RETURN_IF_ERROR(expectOneFloatType(c));
  MLG_RT_RETURN_IF_ERROR(expectDimsFit(c));
  const Tensor &dy = c.in[0], &x = c.in[1], &scale = c.in[2];
  if (!sameShape(dy, x) || !sameShape(c.out[0], x))
    return c.error("needs an output gradient, input and input gradient of "
                   "one shape");
  auto axis = c.attrs().getInt("axis");
  if (!axis || *axis < 0 || *axis >= x.rank())
    return c.error("needs an axis in [0, ", x.rank(), ")");
  std::vector<int64_t> normalized(x.shape->begin() + *axis, x.shape->end());
  auto shape = broadcast(normalized, *scale.shape);
  if (!shape || *shape != normalized)
    return c.error("the scale must broadcast to the normalized shape");
  if (!sameShape(c.out[1], scale))
    return c.error("the scale gradient must have the scale's shape");
  std::vector<int64_t> stats = *x.shape;
  for (int64_t d = *axis; d < x.rank(); ++d)
    stats[d] = 1;
  if (*c.in[3].shape != stats || *c.in[4].shape != stats)
    return c.error("mean and inv_std_dev must have the input's shape with "
                   "the normalized dimensions set to 1");
  return Status();
}

Status runLayerNormBackward(KernelCall &c) {
  const Tensor &x = c.in[1];
  int64_t axis = *c.attrs().getInt("axis");
  std::vector<int64_t> normalized(x.shape->begin() + axis, x.shape->end());
  int64_t inner = 1;
  for (int64_t d : normalized)
    inner *= d;
  int64_t outer = c.in[3].numel;
  // The scale element of each normalized position.
  std::vector<int64_t> scaleAt(static_cast<size_t>(inner));
  {
    BroadcastIndexer idx(normalized, {c.in[2].shape});
    for (int64_t j = 0; j < inner; ++j, idx.next())
      scaleAt[j] = idx[0];
  }
  return dispatchFloat(x.dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    const T *scale = c.in[2].as<T>();
    const T *mean = c.in[3].as<T>(), *rstd = c.in[4].as<T>();
    std::vector<double> dscale(size_t(c.out[1].numel), 0.0);
    for (int64_t r = 0; r < outer && inner > 0; ++r) {
      const T *dy = c.in[0].as<T>() + r * inner;
      const T *xr = x.as<T>() + r * inner;
      T *dx = c.out[0].as<T>() + r * inner;
      double m = double(Elem<T>::load(mean[r]));
      double rs = double(Elem<T>::load(rstd[r]));
      auto at = [&](int64_t j, double &g, double &xhat) {
        double d = double(Elem<T>::load(dy[j]));
        xhat = (double(Elem<T>::load(xr[j])) - m) * rs;
        g = d * double(Elem<T>::load(scale[scaleAt[j]]));
        return d;
      };
      double sumG = 0, sumGXhat = 0;
      for (int64_t j = 0; j < inner; ++j) {
        double g, xhat;
        double d = at(j, g, xhat);
        sumG += g;
        sumGXhat += g * xhat;
        dscale[scaleAt[j]] += d * xhat;
      }
      double meanG = sumG / double(inner), meanGXhat = sumGXhat / double(inner);
      for (int64_t j = 0; j < inner; ++j) {
        double g, xhat;
        at(j, g, xhat);
        dx[j] = Elem<T>::store(C(rs * (g - meanG - xhat * meanGXhat)));
      }
    }
    T *ds = c.out[1].as<T>();
    for (size_t i = 0; i < dscale.size(); ++i)
      ds[i] = Elem<T>::store(C(dscale[i]));
    return Status();
  });
}

//===----------------------------------------------------------------------===//
// Softmax and dropout
//===----------------------------------------------------------------------===//

Status checkSoftmaxBackward(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 2, 1));
  MLG_RT_RETURN_IF_ERROR(expectOneFloatType(c));
  if (!sameShape(c.in[0], c.in[1]) || !sameShape(c.out[0], c.in[0]))
    return c.error("needs an output gradient, output and input gradient of "
                   "one shape");
  MLG_RT_RETURN_IF_ERROR(expectDimsFit(c));
  auto axis = c.attrs().getInt("axis");
  if (!axis || *axis < 0 || *axis >= c.in[0].rank())
    return c.error("needs an axis in [0, ", c.in[0].rank(), ")");
  return Status();
}

/// Along `axis`, seen as [outer, n, inner] as the forward: the sum over the
/// axis is a vector over `inner`, complete for a slice before any of the
/// slice is written. softmax: dx = y (dy - sum(dy y)); log_softmax:
/// dx = dy - exp(y) sum(dy).
template <bool Log> Status runSoftmaxBackward(KernelCall &c) {
  const Tensor &y = c.in[1];
  int64_t axis = *c.attrs().getInt("axis");
  int64_t n = y.dim(axis), inner = 1;
  for (int64_t d = axis + 1; d < y.rank(); ++d)
    inner *= y.dim(d);
  int64_t outer = n != 0 && inner != 0 ? y.numel / (n * inner) : 0;
  return dispatchFloat(y.dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    std::vector<C> sum(static_cast<size_t>(inner));
    for (int64_t o = 0; o < outer; ++o) {
      const T *dy = c.in[0].as<T>() + o * n * inner;
      const T *yo = y.as<T>() + o * n * inner;
      T *dx = c.out[0].as<T>() + o * n * inner;
      std::fill(sum.begin(), sum.end(), C(0));
      for (int64_t k = 0; k < n; ++k)
        for (int64_t j = 0; j < inner; ++j) {
          C g = Elem<T>::load(dy[k * inner + j]);
          sum[j] += Log ? g : g * C(Elem<T>::load(yo[k * inner + j]));
        }
      for (int64_t k = 0; k < n; ++k)
        for (int64_t j = 0; j < inner; ++j) {
          int64_t i = k * inner + j;
          C g = Elem<T>::load(dy[i]), v = Elem<T>::load(yo[i]);
          dx[i] = Elem<T>::store(Log ? C(g - std::exp(v) * sum[j])
                                     : C(v * (g - sum[j])));
        }
    }
    return Status();
  });
}

Status checkDropoutBackward(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 2, 1));
  const Tensor &dy = c.in[0], &mask = c.in[1], &dx = c.out[0];
  if (!isFloat(dy.dtype) || dx.dtype != dy.dtype || !sameShape(dx, dy))
    return c.error("needs a floating-point output gradient and an input "
                   "gradient of its type and shape");
  if (mask.dtype != DType::Bool || !sameShape(mask, dy))
    return c.error("the mask must be bool of the gradient's shape");
  auto ratio = c.attrs().getFloat("ratio");
  if (!ratio || !(*ratio >= 0 && *ratio < 1))
    return c.error("needs a ratio in [0, 1)");
  return Status();
}

/// Element i is read before it is written: dx may alias dy.
Status runDropoutBackward(KernelCall &c) {
  const Tensor &dy = c.in[0];
  const uint8_t *mask = c.in[1].as<uint8_t>();
  double ratio = *c.attrs().getFloat("ratio");
  return dispatchFloat(dy.dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    const C scale = C(1.0 / (1.0 - ratio));
    const T *src = dy.as<T>();
    T *dst = c.out[0].as<T>();
    for (int64_t i = 0; i < dy.numel; ++i)
      dst[i] = mask[i] ? Elem<T>::store(Elem<T>::load(src[i]) * scale)
                       : Elem<T>::store(C(0));
    return Status();
  });
}

} // namespace

void registerNNGradKernels(KernelRegistry &r) {
  r.add({"conv_backward_data", checkConvBackwardData, runConvBackwardData});
  r.add(
      {"conv_backward_filter", checkConvBackwardFilter, runConvBackwardFilter});
  r.add({"max_pool_backward", checkMaxPoolBackward, runMaxPoolBackward});
  r.add({"average_pool_backward", checkAveragePoolBackward,
         runAveragePoolBackward});
  r.add({"batch_norm_backward", checkBatchNormBackward, runBatchNormBackward});
  r.add({"layer_norm_backward", checkLayerNormBackward, runLayerNormBackward});
  r.add({"softmax_backward", checkSoftmaxBackward, runSoftmaxBackward<false>});
  r.add(
      {"log_softmax_backward", checkSoftmaxBackward, runSoftmaxBackward<true>});
  r.add({"dropout_backward", checkDropoutBackward, runDropoutBackward});
}

} // namespace mlg_rt::cpu

// nn.cc - conv, pooling, batch and layer normalization, dropout, softmax
// kernels.
//
// Window ops (conv and the pools) take 1 to 3 spatial dimensions and see
// them as 3 (window.h). Convolution copies each image and group into the step's
// workspace as an im2col matrix (the compiler sizes it for one image and one
// group) and multiplies it by the group's filters: through BLAS for f32 and
// f64, through a float-accumulating loop for f16 and bf16. Statistics
// (pool averages, batch and layer norm moments) accumulate in double.
//
// batch_norm and dropout may write their first result over their input (the
// plan's in-place reuse): both read what they need of an element (for batch
// norm: of its whole channel) before writing it.

#include "common.h"
#include "gemm.h"
#include "window.h"

#include "mlg_rt/philox.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace mlg_rt::cpu {
namespace {

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

/// Checks everything but the data and fills `g`; run() calls it again.
Status readConv(const KernelCall &c, ConvGeometry &g) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 3, 1));
  const Tensor &x = c.in[0], &wt = c.in[1], &y = c.out[0];
  DType t = x.dtype;
  bool hasBias = c.in.size() == 3;
  if (!isFloat(t) || wt.dtype != t || y.dtype != t ||
      (hasBias && c.in[2].dtype != t))
    return c.error("needs a floating-point input, weight, bias and result of "
                   "one type");
  if (x.rank() < 3 || wt.rank() != x.rank())
    return c.error("needs an input [N, C, spatial...] and a weight of its "
                   "rank");
  if (!dimsFit(x) || !dimsFit(wt) || !dimsFit(y))
    return c.error("has dimensions whose product overflows");
  std::vector<int64_t> shape;
  MLG_RT_RETURN_IF_ERROR(readConvGeometry(c, x, wt, g, shape));
  if (hasBias && (c.in[2].rank() != 1 || c.in[2].dim(0) != g.filters))
    return c.error("the bias must be [", g.filters, "]");
  if (shape != *y.shape)
    return c.error("the result shape is not the convolution's");
  return checkIm2colWorkspace(c, wt, shape, t);
}

Status checkConv(const KernelCall &c) {
  ConvGeometry g;
  return readConv(c, g);
}

Status runConv(KernelCall &c) {
  ConvGeometry g;
  MLG_RT_RETURN_IF_ERROR(readConv(c, g));
  const Window &w = g.w;
  const int64_t cg = g.channels / g.group, mg = g.filters / g.group;
  const int64_t k = cg * w.kernelSize(), p = w.outSize(), inPlane = w.inSize();
  // A 1x1 window with unit strides and no padding reads the input as is.
  const bool pointwise = w.pointwise();
  bool naive = c.options && c.options->naiveGemm;
  return dispatchFloat(c.in[0].dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    const T *x = c.in[0].as<T>(), *wt = c.in[1].as<T>();
    const T *bias = c.in.size() == 3 ? c.in[2].as<T>() : nullptr;
    T *y = c.out[0].as<T>();
    T *col = reinterpret_cast<T *>(c.workspace);
    std::vector<float> acc;
    if constexpr (!std::is_same_v<T, C>)
      acc.resize(size_t(p));
    for (int64_t n = 0; n < g.batch; ++n)
      for (int64_t gi = 0; gi < g.group; ++gi) {
        const T *xg = x + (n * g.channels + gi * cg) * inPlane;
        const T *wg = wt + gi * mg * k;
        T *yg = y + (n * g.filters + gi * mg) * p;
        const T *b = xg;
        if (!pointwise) {
          im2col(xg, cg, w, col);
          b = col;
        }
        if constexpr (std::is_same_v<T, C>) {
          // yg [mg x p] = wg [mg x k] * b [k x p], then the bias.
          gemm(false, false, mg, p, k, T(1), wg, k, b, p, T(0), yg, p, naive);
          if (bias)
            for (int64_t m = 0; m < mg; ++m) {
              T bv = bias[gi * mg + m];
              for (int64_t j = 0; j < p; ++j)
                yg[m * p + j] += bv;
            }
        } else {
          // f16/bf16: the same product, accumulated in float per row.
          for (int64_t m = 0; m < mg; ++m) {
            std::fill(acc.begin(), acc.end(), 0.0f);
            for (int64_t r = 0; r < k; ++r) {
              float wv = Elem<T>::load(wg[m * k + r]);
              const T *brow = b + r * p;
              for (int64_t j = 0; j < p; ++j)
                acc[j] += wv * Elem<T>::load(brow[j]);
            }
            float bv = bias ? Elem<T>::load(bias[gi * mg + m]) : 0.0f;
            for (int64_t j = 0; j < p; ++j)
              yg[m * p + j] = Elem<T>::store(acc[j] + bv);
          }
        }
      }
    return Status();
  });
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// Checks a pool's operand and attributes against its results: `numOut`
/// results, the first of the input's type (float only unless `anyNumeric`),
/// all of the pooled shape.
Status readPool(const KernelCall &c, size_t numOut, bool anyNumeric,
                Window &w) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, numOut));
  const Tensor &x = c.in[0];
  if (x.dtype != c.out[0].dtype || x.dtype == DType::Bool ||
      (!anyNumeric && !isFloat(x.dtype)))
    return c.error("needs a ", anyNumeric ? "numeric" : "floating-point",
                   " input and a result of its type");
  if (x.rank() < 3)
    return c.error("needs an input [N, C, spatial...]");
  bool fit = dimsFit(x);
  for (const Tensor &o : c.out)
    fit &= dimsFit(o);
  if (!fit)
    return c.error("has dimensions whose product overflows");
  auto kernel = c.attrs().getInts("kernel_shape");
  auto ceil = c.attrs().getBool("ceil_mode");
  if (!kernel || !ceil)
    return c.error("needs the kernel_shape and ceil_mode attributes");
  std::vector<int64_t> shape = {x.dim(0), x.dim(1)};
  MLG_RT_RETURN_IF_ERROR(readWindow(c, x, *kernel, *ceil, w, shape));
  for (const Tensor &o : c.out)
    if (*o.shape != shape)
      return c.error("the result shape is not the pooled shape");
  return Status();
}

/// max_pool and max_pool_with_indices: `indices` may be null. Padding never
/// wins; NaN does (as in PyTorch). A window wholly in the padding gives the
/// type's lowest value and index -1.
template <typename T>
void maxPool(const T *x, int64_t planes, const Window &w, T *y,
             int64_t *indices, bool columnMajor) {
  using C = ComputeOf<T>;
  const int64_t inPlane = w.inSize();
  // Strides of a spatial coordinate in the index output.
  const int64_t is0 = columnMajor ? 1 : w.in[1] * w.in[2];
  const int64_t is1 = columnMajor ? w.in[0] : w.in[2];
  const int64_t is2 = columnMajor ? w.in[0] * w.in[1] : 1;
  const C lowest = std::numeric_limits<C>::has_infinity
                       ? -std::numeric_limits<C>::infinity()
                       : std::numeric_limits<C>::lowest();
  for (int64_t pl = 0; pl < planes; ++pl) {
    const T *src = x + pl * inPlane;
    for (int64_t od = 0; od < w.out[0]; ++od) {
      Taps td = tapsOf(w, 0, od);
      for (int64_t oh = 0; oh < w.out[1]; ++oh) {
        Taps th = tapsOf(w, 1, oh);
        for (int64_t ow = 0; ow < w.out[2]; ++ow) {
          Taps tw = tapsOf(w, 2, ow);
          C best = lowest;
          int64_t bestAt = -1;
          for (int64_t kd = td.lo; kd < td.hi; ++kd) {
            int64_t id = td.origin + kd * w.dilation[0];
            for (int64_t kh = th.lo; kh < th.hi; ++kh) {
              int64_t ih = th.origin + kh * w.dilation[1];
              const T *row = src + (id * w.in[1] + ih) * w.in[2];
              for (int64_t kw = tw.lo; kw < tw.hi; ++kw) {
                int64_t iw = tw.origin + kw * w.dilation[2];
                C v = Elem<T>::load(row[iw]);
                bool better = bestAt < 0 || v > best;
                if constexpr (!std::is_integral_v<C>)
                  better |= v != v && best == best;
                if (better) {
                  best = v;
                  bestAt = id * is0 + ih * is1 + iw * is2;
                }
              }
            }
          }
          *y++ = Elem<T>::store(best);
          if (indices)
            *indices++ = bestAt < 0 ? -1 : pl * inPlane + bestAt;
        }
      }
    }
  }
}

Status checkMaxPool(const KernelCall &c) {
  Window w;
  return readPool(c, 1, true, w);
}

Status runMaxPool(KernelCall &c) {
  Window w;
  MLG_RT_RETURN_IF_ERROR(readPool(c, 1, true, w));
  const Tensor &x = c.in[0];
  return dispatchNumeric(x.dtype, [&]<typename T>() {
    maxPool(x.as<T>(), x.dim(0) * x.dim(1), w, c.out[0].as<T>(), nullptr,
            false);
    return Status();
  });
}

Status checkMaxPoolWithIndices(const KernelCall &c) {
  Window w;
  MLG_RT_RETURN_IF_ERROR(readPool(c, 2, true, w));
  if (c.out[1].dtype != DType::I64)
    return c.error("the indices must be i64");
  auto order = c.attrs().getInt("storage_order");
  if (!order || (*order != 0 && *order != 1))
    return c.error("needs a storage_order of 0 or 1");
  return Status();
}

Status runMaxPoolWithIndices(KernelCall &c) {
  Window w;
  MLG_RT_RETURN_IF_ERROR(readPool(c, 2, true, w));
  const Tensor &x = c.in[0];
  bool columnMajor = c.attrs().getInt("storage_order") == 1;
  return dispatchNumeric(x.dtype, [&]<typename T>() {
    maxPool(x.as<T>(), x.dim(0) * x.dim(1), w, c.out[0].as<T>(),
            c.out[1].as<int64_t>(), columnMajor);
    return Status();
  });
}

Status checkAveragePool(const KernelCall &c) {
  Window w;
  MLG_RT_RETURN_IF_ERROR(readPool(c, 1, false, w));
  if (!c.attrs().getBool("count_include_pad"))
    return c.error("needs the count_include_pad attribute");
  return Status();
}

/// The divisor is the number of taps inside the input, or with
/// `count_include_pad` inside the padded input: with ceil_mode the taps past
/// the end padding never count (PyTorch's and ONNX's rule). A window with
/// nothing to count gives 0.
Status runAveragePool(KernelCall &c) {
  Window w;
  MLG_RT_RETURN_IF_ERROR(readPool(c, 1, false, w));
  bool includePad = *c.attrs().getBool("count_include_pad");
  const Tensor &x = c.in[0];
  // Taps of one dimension inside the padded extent.
  auto paddedTaps = [&](int64_t d, int64_t o) {
    int64_t lo, hi;
    tapRange(w.kernel[d], w.padBegin[d] + w.in[d] + w.padEnd[d], w.dilation[d],
             o * w.stride[d], lo, hi);
    return hi - lo;
  };
  return dispatchFloat(x.dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    const T *src0 = x.as<T>();
    T *y = c.out[0].as<T>();
    const int64_t inPlane = w.inSize(), planes = x.dim(0) * x.dim(1);
    for (int64_t pl = 0; pl < planes; ++pl) {
      const T *src = src0 + pl * inPlane;
      for (int64_t od = 0; od < w.out[0]; ++od) {
        Taps td = tapsOf(w, 0, od);
        for (int64_t oh = 0; oh < w.out[1]; ++oh) {
          Taps th = tapsOf(w, 1, oh);
          for (int64_t ow = 0; ow < w.out[2]; ++ow) {
            Taps tw = tapsOf(w, 2, ow);
            double sum = 0;
            for (int64_t kd = td.lo; kd < td.hi; ++kd) {
              int64_t id = td.origin + kd * w.dilation[0];
              for (int64_t kh = th.lo; kh < th.hi; ++kh) {
                int64_t ih = th.origin + kh * w.dilation[1];
                const T *row = src + (id * w.in[1] + ih) * w.in[2];
                for (int64_t kw = tw.lo; kw < tw.hi; ++kw)
                  sum += double(
                      Elem<T>::load(row[tw.origin + kw * w.dilation[2]]));
              }
            }
            // In double: hostile kernel sizes could overflow int64 here.
            double count = includePad
                               ? double(paddedTaps(0, od)) *
                                     double(paddedTaps(1, oh)) *
                                     double(paddedTaps(2, ow))
                               : double(td.hi - td.lo) * double(th.hi - th.lo) *
                                     double(tw.hi - tw.lo);
            *y++ = Elem<T>::store(C(count > 0 ? sum / count : 0.0));
          }
        }
      }
    }
    return Status();
  });
}

/// global_average_pool (float only) and global_max_pool (any numeric type).
Status checkGlobalPool(const KernelCall &c, bool anyNumeric) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  const Tensor &x = c.in[0], &y = c.out[0];
  if (x.dtype != y.dtype || x.dtype == DType::Bool ||
      (!anyNumeric && !isFloat(x.dtype)))
    return c.error("needs a ", anyNumeric ? "numeric" : "floating-point",
                   " input and a result of its type");
  if (x.rank() < 3)
    return c.error("needs an input [N, C, spatial...]");
  if (!dimsFit(x))
    return c.error("has dimensions whose product overflows");
  std::vector<int64_t> shape(x.shape->size(), 1);
  shape[0] = x.dim(0);
  shape[1] = x.dim(1);
  if (*y.shape != shape)
    return c.error("the result must be [N, C, 1, ...]");
  return Status();
}

Status runGlobalAveragePool(KernelCall &c) {
  const Tensor &x = c.in[0];
  int64_t planes = c.out[0].numel, size = planes ? x.numel / planes : 0;
  return dispatchFloat(x.dtype, [&]<typename T>() {
    const T *src = x.as<T>();
    T *y = c.out[0].as<T>();
    for (int64_t pl = 0; pl < planes; ++pl) {
      double sum = 0;
      for (int64_t i = 0; i < size; ++i)
        sum += double(Elem<T>::load(src[pl * size + i]));
      // An empty plane averages to NaN, as NumPy's mean.
      y[pl] = Elem<T>::store(ComputeOf<T>(sum / double(size)));
    }
    return Status();
  });
}

Status runGlobalMaxPool(KernelCall &c) {
  const Tensor &x = c.in[0];
  int64_t planes = c.out[0].numel, size = planes ? x.numel / planes : 0;
  return dispatchNumeric(x.dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    const T *src = x.as<T>();
    T *y = c.out[0].as<T>();
    for (int64_t pl = 0; pl < planes; ++pl) {
      C best = std::numeric_limits<C>::has_infinity
                   ? -std::numeric_limits<C>::infinity()
                   : std::numeric_limits<C>::lowest();
      for (int64_t i = 0; i < size; ++i) {
        C v = Elem<T>::load(src[pl * size + i]);
        bool better = v > best;
        if constexpr (!std::is_integral_v<C>)
          better |= v != v && best == best;
        if (better)
          best = v;
      }
      y[pl] = Elem<T>::store(best);
    }
    return Status();
  });
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

Status checkBatchNorm(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(5, 5, 3));
  const Tensor &x = c.in[0];
  if (x.rank() < 2)
    return c.error("needs an input [N, C, ...]");
  if (!dimsFit(x))
    return c.error("has dimensions whose product overflows");
  for (const Tensor &t : c.in)
    if (!isFloat(t.dtype))
      return c.error("needs floating-point operands");
  const char *names[] = {"scale", "bias", "mean", "var"};
  for (int i = 1; i < 5; ++i)
    if (c.in[i].rank() != 1 || c.in[i].dim(0) != x.dim(1))
      return c.error(names[i - 1], " must be [", x.dim(1), "]");
  for (int o = 0; o < 3; ++o) {
    const Tensor &like = c.in[o == 0 ? 0 : o + 2];
    if (c.out[o].dtype != like.dtype || !sameShape(c.out[o], like))
      return c.error("result ", o, " must have the type and shape of operand ",
                     o == 0 ? 0 : o + 2);
  }
  if (!c.attrs().getFloat("epsilon") || !c.attrs().getFloat("momentum") ||
      !c.attrs().getBool("training"))
    return c.error("needs the epsilon, momentum and training attributes");
  return Status();
}

/// Channel by channel: the statistics of channel ch are complete before any
/// of its outputs is written, so y may alias x (and the running statistics
/// the operand statistics).
Status runBatchNorm(KernelCall &c) {
  const Tensor &x = c.in[0], &y = c.out[0];
  const Tensor &scale = c.in[1], &bias = c.in[2], &mean = c.in[3],
               &var = c.in[4];
  double eps = *c.attrs().getFloat("epsilon");
  double momentum = *c.attrs().getFloat("momentum");
  bool training = *c.attrs().getBool("training");
  int64_t batch = x.dim(0), channels = x.dim(1), inner = 1;
  for (int64_t d = 2; d < x.rank(); ++d)
    inner *= x.dim(d);
  return dispatchFloat(x.dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    const T *src = x.as<T>();
    T *dst = y.as<T>();
    for (int64_t ch = 0; ch < channels; ++ch) {
      double m = loadAsDouble(mean.dtype, mean.data, ch);
      double v = loadAsDouble(var.dtype, var.data, ch);
      double s = loadAsDouble(scale.dtype, scale.data, ch);
      double b = loadAsDouble(bias.dtype, bias.data, ch);
      double bm = m, bv = v;
      if (training) {
        // Biased batch moments over every dim but the channel, two-pass.
        double count = double(batch) * double(inner), sum = 0, sq = 0;
        for (int64_t n = 0; n < batch; ++n) {
          const T *p = src + (n * channels + ch) * inner;
          for (int64_t i = 0; i < inner; ++i)
            sum += double(Elem<T>::load(p[i]));
        }
        bm = count > 0 ? sum / count : 0.0;
        for (int64_t n = 0; n < batch; ++n) {
          const T *p = src + (n * channels + ch) * inner;
          for (int64_t i = 0; i < inner; ++i) {
            double d = double(Elem<T>::load(p[i])) - bm;
            sq += d * d;
          }
        }
        bv = count > 0 ? sq / count : 0.0;
      }
      // y = x * a + k, folded per channel.
      double a = s / std::sqrt(bv + eps);
      C ca = C(a), ck = C(b - bm * a);
      for (int64_t n = 0; n < batch; ++n) {
        const T *p = src + (n * channels + ch) * inner;
        T *q = dst + (n * channels + ch) * inner;
        for (int64_t i = 0; i < inner; ++i)
          q[i] = Elem<T>::store(C(Elem<T>::load(p[i]) * ca + ck));
      }
      if (training) {
        m = m * momentum + bm * (1 - momentum);
        v = v * momentum + bv * (1 - momentum);
      }
      storeDouble(c.out[1], ch, m);
      storeDouble(c.out[2], ch, v);
    }
    return Status();
  });
}

Status checkLayerNorm(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 3, 3));
  const Tensor &x = c.in[0];
  DType t = x.dtype;
  if (!isFloat(t))
    return c.error("needs a floating-point input");
  if (!dimsFit(x))
    return c.error("has dimensions whose product overflows");
  for (const Tensor &o : c.in)
    if (o.dtype != t)
      return c.error("needs operands and results of one type");
  for (const Tensor &o : c.out)
    if (o.dtype != t)
      return c.error("needs operands and results of one type");
  auto axis = c.attrs().getInt("axis");
  if (!c.attrs().getFloat("epsilon") || !axis)
    return c.error("needs the axis and epsilon attributes");
  if (*axis < 0 || *axis >= x.rank())
    return c.error("axis ", *axis, " is out of range for rank ", x.rank());
  std::vector<int64_t> normalized(x.shape->begin() + *axis, x.shape->end());
  for (size_t i = 1; i < c.in.size(); ++i) {
    auto shape = broadcast(normalized, *c.in[i].shape);
    if (!shape || *shape != normalized)
      return c.error("scale and bias must broadcast to the normalized shape");
  }
  std::vector<int64_t> stats = *x.shape;
  for (int64_t d = *axis; d < x.rank(); ++d)
    stats[d] = 1;
  if (!sameShape(c.out[0], x) || *c.out[1].shape != stats ||
      *c.out[2].shape != stats)
    return c.error("the results must be the input's shape and the statistics' "
                   "shape (normalized dims set to 1)");
  return Status();
}

Status runLayerNorm(KernelCall &c) {
  const Tensor &x = c.in[0];
  int64_t axis = *c.attrs().getInt("axis");
  double eps = *c.attrs().getFloat("epsilon");
  std::vector<int64_t> normalized(x.shape->begin() + axis, x.shape->end());
  int64_t inner = 1;
  for (int64_t d : normalized)
    inner *= d;
  int64_t outer = inner ? x.numel / inner : c.out[1].numel;
  bool hasBias = c.in.size() == 3;
  // The scale (and bias) element of each normalized position.
  std::vector<int64_t> scaleAt(static_cast<size_t>(inner)),
      biasAt(static_cast<size_t>(inner), 0);
  {
    std::vector<const std::vector<int64_t> *> shapes = {c.in[1].shape};
    if (hasBias)
      shapes.push_back(c.in[2].shape);
    BroadcastIndexer idx(normalized, shapes);
    for (int64_t j = 0; j < inner; ++j, idx.next()) {
      scaleAt[j] = idx[0];
      if (hasBias)
        biasAt[j] = idx[1];
    }
  }
  return dispatchFloat(x.dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    const T *scale = c.in[1].as<T>();
    const T *bias = hasBias ? c.in[2].as<T>() : nullptr;
    T *meanOut = c.out[1].as<T>(), *rstdOut = c.out[2].as<T>();
    for (int64_t r = 0; r < outer; ++r) {
      const T *p = x.as<T>() + r * inner;
      T *q = c.out[0].as<T>() + r * inner;
      double sum = 0, sq = 0;
      for (int64_t j = 0; j < inner; ++j)
        sum += double(Elem<T>::load(p[j]));
      double mean = inner ? sum / double(inner) : 0.0;
      for (int64_t j = 0; j < inner; ++j) {
        double d = double(Elem<T>::load(p[j])) - mean;
        sq += d * d;
      }
      double rstd = 1.0 / std::sqrt((inner ? sq / double(inner) : 0.0) + eps);
      C cm = C(mean), cr = C(rstd);
      for (int64_t j = 0; j < inner; ++j) {
        C v =
            (Elem<T>::load(p[j]) - cm) * cr * Elem<T>::load(scale[scaleAt[j]]);
        if (bias)
          v += Elem<T>::load(bias[biasAt[j]]);
        q[j] = Elem<T>::store(v);
      }
      meanOut[r] = Elem<T>::store(cm);
      rstdOut[r] = Elem<T>::store(cr);
    }
    return Status();
  });
}

//===----------------------------------------------------------------------===//
// Dropout
//===----------------------------------------------------------------------===//

Status checkDropout(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 2));
  const Tensor &x = c.in[0];
  if (!isFloat(x.dtype) || c.out[0].dtype != x.dtype || !sameShape(c.out[0], x))
    return c.error("needs a floating-point input and a result of its type "
                   "and shape");
  if (c.out[1].dtype != DType::Bool || !sameShape(c.out[1], x))
    return c.error("the mask must be bool of the input's shape");
  auto ratio = c.attrs().getFloat("ratio");
  if (!ratio || !c.attrs().getBool("training") || !c.attrs().getInt("seed"))
    return c.error("needs the ratio, training and seed attributes");
  if (!(*ratio >= 0 && *ratio < 1))
    return c.error("ratio ", *ratio, " must lie in [0, 1)");
  return Status();
}

/// Element i is kept iff its Philox number for (seed, run, i) is >= ratio,
/// the rule every backend shares. Element i is read before it is written,
/// so y may alias x.
Status runDropout(KernelCall &c) {
  const Tensor &x = c.in[0];
  double ratio = *c.attrs().getFloat("ratio");
  bool training = *c.attrs().getBool("training");
  uint64_t seed = uint64_t(*c.attrs().getInt("seed"));
  uint8_t *mask = c.out[1].as<uint8_t>();
  if (!training || ratio == 0) {
    if (c.out[0].data != x.data)
      std::memmove(c.out[0].data, x.data,
                   size_t(x.numel) * dtypeBytes(x.dtype));
    std::fill(mask, mask + x.numel, uint8_t(1));
    return Status();
  }
  return dispatchFloat(x.dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    const T *src = x.as<T>();
    T *dst = c.out[0].as<T>();
    const C scale = C(1.0 / (1.0 - ratio));
    for (int64_t i = 0; i < x.numel; ++i) {
      bool keep =
          double(dropoutUniform(seed, c.runIndex, uint64_t(i))) >= ratio;
      mask[i] = keep;
      dst[i] = keep ? Elem<T>::store(Elem<T>::load(src[i]) * scale)
                    : Elem<T>::store(C(0));
    }
    return Status();
  });
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

Status checkSoftmax(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  const Tensor &x = c.in[0];
  if (!isFloat(x.dtype) || c.out[0].dtype != x.dtype || !sameShape(c.out[0], x))
    return c.error("needs a floating-point input and a result of its type "
                   "and shape");
  if (!dimsFit(x))
    return c.error("has dimensions whose product overflows");
  auto axis = c.attrs().getInt("axis");
  if (!axis || *axis < 0 || *axis >= x.rank())
    return c.error("needs an axis in [0, ", x.rank(), ")");
  return Status();
}

/// softmax (or log_softmax) along `axis`, seen as [outer, n, inner]: the
/// running max and sum are vectors over `inner` so every pass reads rows
/// contiguously. Subtracting the max keeps exp in range.
template <bool Log> Status runSoftmax(KernelCall &c) {
  const Tensor &x = c.in[0];
  int64_t axis = *c.attrs().getInt("axis");
  int64_t n = x.dim(axis), inner = 1;
  for (int64_t d = axis + 1; d < x.rank(); ++d)
    inner *= x.dim(d);
  int64_t outer = n != 0 && inner != 0 ? x.numel / (n * inner) : 0;
  return dispatchFloat(x.dtype, [&]<typename T>() {
    using C = ComputeOf<T>;
    std::vector<C> mx(static_cast<size_t>(inner)),
        sum(static_cast<size_t>(inner));
    for (int64_t o = 0; o < outer; ++o) {
      const T *p = x.as<T>() + o * n * inner;
      T *q = c.out[0].as<T>() + o * n * inner;
      std::fill(mx.begin(), mx.end(), -std::numeric_limits<C>::infinity());
      std::fill(sum.begin(), sum.end(), C(0));
      for (int64_t k = 0; k < n; ++k)
        for (int64_t j = 0; j < inner; ++j)
          mx[j] = std::max(mx[j], C(Elem<T>::load(p[k * inner + j])));
      for (int64_t k = 0; k < n; ++k)
        for (int64_t j = 0; j < inner; ++j)
          sum[j] += std::exp(Elem<T>::load(p[k * inner + j]) - mx[j]);
      if constexpr (Log) {
        for (int64_t j = 0; j < inner; ++j)
          sum[j] = std::log(sum[j]);
        // (x - max) - log(sum): folding max + log(sum) first would round
        // away the small term next to a large max.
        for (int64_t k = 0; k < n; ++k)
          for (int64_t j = 0; j < inner; ++j)
            q[k * inner + j] = Elem<T>::store(
                (Elem<T>::load(p[k * inner + j]) - mx[j]) - sum[j]);
      } else {
        for (int64_t j = 0; j < inner; ++j)
          sum[j] = C(1) / sum[j];
        for (int64_t k = 0; k < n; ++k)
          for (int64_t j = 0; j < inner; ++j)
            q[k * inner + j] = Elem<T>::store(
                std::exp(Elem<T>::load(p[k * inner + j]) - mx[j]) * sum[j]);
      }
    }
    return Status();
  });
}

} // namespace

void registerNNKernels(KernelRegistry &r) {
  r.add({"conv", checkConv, runConv});
  r.add({"max_pool", checkMaxPool, runMaxPool});
  r.add({"max_pool_with_indices", checkMaxPoolWithIndices,
         runMaxPoolWithIndices});
  r.add({"average_pool", checkAveragePool, runAveragePool});
  r.add({"global_average_pool",
         [](const KernelCall &c) { return checkGlobalPool(c, false); },
         runGlobalAveragePool});
  r.add({"global_max_pool",
         [](const KernelCall &c) { return checkGlobalPool(c, true); },
         runGlobalMaxPool});
  r.add({"batch_norm", checkBatchNorm, runBatchNorm});
  r.add({"layer_norm", checkLayerNorm, runLayerNorm});
  r.add({"dropout", checkDropout, runDropout});
  r.add({"softmax", checkSoftmax, runSoftmax<false>});
  r.add({"log_softmax", checkSoftmax, runSoftmax<true>});
}

} // namespace mlg_rt::cpu

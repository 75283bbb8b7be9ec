// norm.cu - batch and layer normalization, dropout, softmax and log_softmax
// on the device, forward and backward, with the CPU kernels' formulas
// (../cpu/nn.cc, ../cpu/nn_grad.cc).
//
// Batch norm sums each channel in parallel: a channel's rows (one per batch
// element) are cut into pieces that warps read with 16-byte accesses, and
// several blocks share a channel (about four blocks per multiprocessor in
// all), each writing its partial sums to backend scratch. The sums are
// shifted by a value near the mean (the channel's first element, or the
// operand mean in the inference backward) and taken in double: sum(x - k)
// and sum((x - k)^2) give the biased moments in one pass without
// cancellation; the backward also sums dy and dy (x - k). A kernel with a
// thread per channel then adds the partial sums in block order
// (deterministic), folds the channel into coefficients in scratch and writes
// the running statistics (or the scale and bias gradients); an elementwise
// kernel applies the coefficients, finding the channel by fixed-divisor
// division. The per-channel operands may each have any float type (the CPU
// reads them through loadAsDouble), so they are read and written through a
// type switch.
//
// Layer norm gives each row a block: mean and variance two-pass in double,
// then the row is normalized in the compute type. Its backward writes each
// row's input gradient the same way; the scale gradient is summed per
// normalized position over slices of rows into scratch (double), and a last
// kernel adds the slices and the positions a broadcast scale folds together,
// in a fixed order. Scale and bias broadcast to the normalized shape as on
// the CPU.
//
// softmax and log_softmax (and their backwards) see the input as
// [outer, n, inner] with n the axis. With inner > 1 and enough columns, one
// thread walks a column over the axis serially (coalesced across threads, in
// the CPU's order); otherwise each (outer, inner) slice gets a block reducing
// over the axis. Sums, maxima and exponentials are in the compute type (float
// for f32, f16 and bf16; double for f64), max-subtracted, as on the CPU.
//
// Dropout draws element i's number from the shared Philox generator
// (mlg_rt/philox.h) with (seed, run index, i), the run index read from the
// device word the device sets before each run (a recorded run replays it) and keeps it when the number is
// >= ratio, so its mask is the CPU's bit for bit.
//
// Every kernel may write its first result over an operand of its shape (the
// plan's in-place reuse): the statistics kernels read a whole channel or row
// before the launch (or block barrier) after which it is written, and the
// elementwise passes read element i before writing it in the same thread.
// Block reductions are common.cuh's blockReduce (warp shuffles, then one
// shared-memory word per warp).

#include "common.cuh"

#include "mlg_rt/philox.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace mlg_rt::cuda {
namespace {

constexpr int kMaxRank = 8;
/// Threads of a block that reduces a channel or a long row.
constexpr int kStatThreads = 512;
/// A grid of one block per row or channel is capped here; blocks then loop.
constexpr int64_t kMaxRowBlocks = int64_t(1) << 20;
/// Most row slices of the layer norm scale gradient.
constexpr int64_t kMaxSlices = 1024;

/// A power of two in [32, kStatThreads] covering `n` items.
int rowThreads(int64_t n) {
  int t = 32;
  while (t < n && t < kStatThreads)
    t *= 2;
  return t;
}

unsigned rowBlocks(int64_t rows) {
  return unsigned(std::clamp<int64_t>(rows, 1, kMaxRowBlocks));
}

// exp and log of the compute type (float or double).
__device__ __forceinline__ float expC(float v) { return expf(v); }
__device__ __forceinline__ double expC(double v) { return exp(v); }
__device__ __forceinline__ float logC(float v) { return logf(v); }
__device__ __forceinline__ double logC(double v) { return log(v); }

// Products and sums of the compute type rounded one at a time, never fused
// into an FMA: the CPU backend's code rounds each (it is built without FMA
// contraction), so outputs computed in the compute type round as its do.
__device__ __forceinline__ float mulRn(float a, float b) {
  return __fmul_rn(a, b);
}
__device__ __forceinline__ double mulRn(double a, double b) {
  return __dmul_rn(a, b);
}
__device__ __forceinline__ float addRn(float a, float b) {
  return __fadd_rn(a, b);
}
__device__ __forceinline__ double addRn(double a, double b) {
  return __dadd_rn(a, b);
}

/// Element i of a float tensor of type t as double (the CPU's loadAsDouble).
__device__ double loadParam(DType t, const void *p, int64_t i) {
  switch (t) {
  case DType::F64:
    return static_cast<const double *>(p)[i];
  case DType::F16:
    return __half2float(static_cast<const __half *>(p)[i]);
  case DType::BF16:
    return __bfloat162float(static_cast<const __nv_bfloat16 *>(p)[i]);
  default:
    return static_cast<const float *>(p)[i];
  }
}

/// Writes `v` into element i of a float tensor of type t through its compute
/// type (the CPU's storeDouble).
__device__ void storeParam(DType t, void *p, int64_t i, double v) {
  switch (t) {
  case DType::F64:
    static_cast<double *>(p)[i] = v;
    break;
  case DType::F16:
    static_cast<__half *>(p)[i] = __float2half_rn(float(v));
    break;
  case DType::BF16:
    static_cast<__nv_bfloat16 *>(p)[i] = __float2bfloat16_rn(float(v));
    break;
  default:
    static_cast<float *>(p)[i] = float(v);
    break;
  }
}

//===----------------------------------------------------------------------===//
// Batch normalization
//===----------------------------------------------------------------------===//

/// The data [N, C, inner...] seen as batch x channels x inner.
struct ChannelShape {
  int64_t batch, channels, inner;

  /// The offset of element j (in [0, batch * inner)) of channel ch.
  __device__ __forceinline__ int64_t at(int64_t ch, int64_t j) const {
    int64_t n = j / inner;
    return (n * channels + ch) * inner + (j - n * inner);
  }
  __host__ __device__ __forceinline__ int64_t count() const {
    return batch * inner;
  }
};

/// A per-channel [C] operand or result of any float type.
struct Param {
  const void *in = nullptr;
  void *out = nullptr;
  DType type = DType::F32;

  __device__ __forceinline__ double load(int64_t ch) const {
    return loadParam(type, in, ch);
  }
  __device__ __forceinline__ void store(int64_t ch, double v) const {
    storeParam(type, out, ch, v);
  }
};

Param paramOf(const cpu::Tensor &t) { return {t.data, t.data, t.dtype}; }

/// Threads of a channel-sums block (whole warps work on one piece of a row).
constexpr int kSumThreads = 256;
/// Rows of a channel are cut into pieces of at most this many elements.
constexpr int64_t kMaxPiece = 4096;

/// How the channel sums are split: each channel's rows are cut into
/// `pieces` pieces of `pieceLen` elements (a multiple of the vector width
/// where rows hold whole vectors), and `splits` blocks per channel share the
/// batch x pieces units, a warp per unit. Rows shorter than a warp are
/// summed element by element instead (`flat`).
struct SumSplit {
  int64_t pieces = 1, pieceLen = 1, splits = 1;
  bool flat = false, vector = false;
};

/// Per-channel shifted sums of a block's share of the channel: with k the
/// shift, {sum(x - k), sum((x - k)^2)} and, with dy, {sum(dy),
/// sum(dy (x - k))}, in double, into partial[(ch * splits + split) * 4].
/// The shift is the channel's first element (training) or shift[ch]: near
/// the mean, so the moments taken from these sums lose no precision to
/// cancellation.
template <typename T, bool WithDy>
__global__ void channelSumsKernel(const T *x, const T *dy, ChannelShape s,
                                  SumSplit sp, Param shift, double *partial) {
  using V = Vec16<T>;
  const int lane = threadIdx.x % 32;
  const int64_t warps = blockDim.x / 32,
                warp = blockIdx.x * warps + threadIdx.x / 32,
                allWarps = int64_t(gridDim.x) * warps;
  for (int64_t ch = blockIdx.y; ch < s.channels; ch += gridDim.y) {
    const double k = shift.in ? shift.load(ch)
                              : double(Elem<T>::load(x[ch * s.inner]));
    double sx = 0, sxx = 0, sg = 0, sgx = 0;
    auto add = [&](double xv, double g) {
      double d = xv - k;
      sx += d;
      sxx += d * d;
      if constexpr (WithDy) {
        sg += g;
        sgx += g * d;
      }
    };
    if (sp.flat) {
      const int64_t count = s.count(),
                    thread = blockIdx.x * int64_t(blockDim.x) + threadIdx.x,
                    threads = int64_t(gridDim.x) * blockDim.x;
      for (int64_t j = thread; j < count; j += threads) {
        int64_t i = s.at(ch, j);
        add(double(Elem<T>::load(x[i])),
            WithDy ? double(Elem<T>::load(dy[i])) : 0.0);
      }
    } else {
      const int64_t units = s.batch * sp.pieces;
      for (int64_t u = warp; u < units; u += allWarps) {
        int64_t n = u / sp.pieces, piece = u - n * sp.pieces;
        int64_t begin = piece * sp.pieceLen;
        int64_t end = begin + sp.pieceLen < s.inner ? begin + sp.pieceLen
                                                    : s.inner;
        int64_t row = (n * s.channels + ch) * s.inner;
        if (sp.vector) {
          const V *xv = reinterpret_cast<const V *>(x + row);
          const V *gv = reinterpret_cast<const V *>(dy + row);
          for (int64_t i = begin / V::size + lane; i < end / V::size;
               i += 32) {
            V a = xv[i], g;
            if constexpr (WithDy)
              g = gv[i];
#pragma unroll
            for (int e = 0; e < V::size; ++e)
              add(double(Elem<T>::load(a.v[e])),
                  WithDy ? double(Elem<T>::load(g.v[e])) : 0.0);
          }
        } else {
          for (int64_t i = row + begin + lane; i < row + end; i += 32)
            add(double(Elem<T>::load(x[i])),
                WithDy ? double(Elem<T>::load(dy[i])) : 0.0);
        }
      }
    }
    sx = blockReduce<double>(sx);
    sxx = blockReduce<double>(sxx);
    if constexpr (WithDy) {
      sg = blockReduce<double>(sg);
      sgx = blockReduce<double>(sgx);
    }
    if (threadIdx.x == 0) {
      double *p = partial + (ch * sp.splits + blockIdx.x) * 4;
      p[0] = sx;
      p[1] = sxx;
      p[2] = sg;
      p[3] = sgx;
    }
  }
}

/// Channel ch's sums: its blocks' partial sums added in block order (the
/// result does not depend on scheduling).
__device__ __forceinline__ void channelTotals(const double *partial,
                                              int64_t splits, int64_t ch,
                                              double t[4]) {
  t[0] = t[1] = t[2] = t[3] = 0;
  for (int64_t b = 0; b < splits; ++b)
    for (int e = 0; e < 4; ++e)
      t[e] += partial[(ch * splits + b) * 4 + e];
}

/// The launch shape of channelSumsKernel for `s` (T's vector width `vec`,
/// `aligned` when the tensors allow 16-byte accesses).
SumSplit sumSplitOf(const ChannelShape &s, int vec, bool aligned,
                    const Context &ctx) {
  SumSplit sp;
  if (s.inner < 32) {
    sp.flat = true;
  } else {
    sp.vector = aligned && s.inner % vec == 0;
    sp.pieces = (s.inner + kMaxPiece - 1) / kMaxPiece;
    int64_t len = (s.inner + sp.pieces - 1) / sp.pieces;
    if (sp.vector)
      len = (len + vec - 1) / vec * vec;
    sp.pieceLen = len;
    sp.pieces = (s.inner + len - 1) / len;
  }
  // About four blocks per multiprocessor in all, but no more blocks than a
  // channel has units for its warps (or elements, flat).
  int64_t target = int64_t(ctx.multiprocessors > 0 ? ctx.multiprocessors
                                                   : 132) * 4;
  int64_t work = sp.flat ? (s.count() + kSumThreads - 1) / kSumThreads
                         : (s.batch * sp.pieces + kSumThreads / 32 - 1) /
                               (kSumThreads / 32);
  sp.splits = std::clamp<int64_t>((target + s.channels - 1) / s.channels, 1,
                                  std::max<int64_t>(work, 1));
  return sp;
}

/// Scratch for `channels` channels: `coefs` coefficients each, then the
/// partial sums of `splits` blocks each.
Status channelScratch(cpu::KernelCall &c, Context &ctx, int64_t channels,
                      int coefs, int64_t splits, double **coef,
                      double **partial) {
  void *scratch = nullptr;
  uint64_t coefWords = uint64_t(channels) * coefs;
  MLG_RT_RETURN_IF_ERROR(scratchBuffer(
      c, ctx, (coefWords + uint64_t(channels) * splits * 4) * sizeof(double),
      &scratch));
  *coef = static_cast<double *>(scratch);
  *partial = *coef + coefWords;
  return Status();
}

template <typename T, bool WithDy>
Status launchChannelSums(cpu::KernelCall &c, Context &ctx, const T *x,
                         const T *dy, const ChannelShape &s,
                         const SumSplit &sp, Param shift, double *partial) {
  dim3 grid(unsigned(sp.splits),
            unsigned(std::min<int64_t>(s.channels, 65535)));
  channelSumsKernel<T, WithDy><<<grid, kSumThreads, 0, ctx.stream>>>(
      x, dy, s, sp, shift, partial);
  return checkLaunch(c, "channelSumsKernel");
}

/// Finds element i's channel: through fixed-divisor division when the
/// tensor has fewer than 2^31 elements, else 64-bit division.
struct ChannelOf {
  FastDiv inner, channels;
  int64_t inner64, channels64;
  bool narrow;

  ChannelOf(const ChannelShape &s, int64_t numel)
      : inner64(s.inner), channels64(s.channels),
        narrow(numel < int64_t(INT32_MAX)) {
    if (narrow) {
      inner = FastDiv(uint32_t(s.inner));
      channels = FastDiv(uint32_t(s.channels));
    }
  }
  __device__ __forceinline__ int64_t operator()(int64_t i) const {
    if (narrow)
      return channels.mod(inner.div(uint32_t(i)));
    return (i / inner64) % channels64;
  }
};

struct BatchNormArgs {
  ChannelShape shape;
  Param scale, bias, mean, var; // operands
  Param runMean, runVar;        // results 1 and 2
  double eps, momentum;
  bool training;
};

/// Channel by channel: y = x * coef[2ch] + coef[2ch + 1] with the batch
/// moments (training, from the channel sums) or the operand statistics, and
/// the running statistics (updated in training: running = running *
/// momentum + batch * (1 - momentum), with the biased variance). The
/// results may alias the operand statistics: each is read before it is
/// written, by one thread.
template <typename T>
__global__ void batchNormCoefs(const T *x, BatchNormArgs a,
                               const double *partial, int64_t splits,
                               double *coef) {
  const ChannelShape &s = a.shape;
  MLG_CUDA_GRID_LOOP(ch, s.channels) {
    double m = a.mean.load(ch), v = a.var.load(ch);
    double bm = m, bv = v;
    if (a.training) {
      double t[4];
      channelTotals(partial, splits, ch, t);
      double count = double(s.count());
      double d = count > 0 ? t[0] / count : 0.0;
      bm = (count > 0 ? double(Elem<T>::load(x[ch * s.inner])) : 0.0) + d;
      bv = count > 0 ? fmax(t[1] / count - d * d, 0.0) : 0.0;
    }
    double sc = a.scale.load(ch), b = a.bias.load(ch);
    double scale = sc / sqrt(bv + a.eps);
    coef[2 * ch] = scale;
    coef[2 * ch + 1] = b - bm * scale;
    if (a.training) {
      m = m * a.momentum + bm * (1 - a.momentum);
      v = v * a.momentum + bv * (1 - a.momentum);
    }
    a.runMean.store(ch, m);
    a.runVar.store(ch, v);
  }
}

template <typename T>
__device__ __forceinline__ T batchNormOne(T x, double scale, double shift) {
  using C = typename Elem<T>::Compute;
  return Elem<T>::store(
      addRn(mulRn(C(Elem<T>::load(x)), C(scale)), C(shift)));
}

/// y = x * coef[2ch] + coef[2ch + 1] in the compute type; `Vector` moves
/// 16 bytes at a time (rows hold whole vectors).
template <typename T, bool Vector>
__global__ void batchNormApply(const T *x, T *y, int64_t n, ChannelOf chOf,
                               const double *coef) {
  if constexpr (Vector) {
    using V = Vec16<T>;
    const V *xv = reinterpret_cast<const V *>(x);
    V *yv = reinterpret_cast<V *>(y);
    MLG_CUDA_GRID_LOOP(i, n / V::size) {
      int64_t ch = chOf(i * V::size);
      double scale = coef[2 * ch], shift = coef[2 * ch + 1];
      V a = xv[i];
#pragma unroll
      for (int e = 0; e < V::size; ++e)
        a.v[e] = batchNormOne(a.v[e], scale, shift);
      yv[i] = a;
    }
  } else {
    MLG_CUDA_GRID_LOOP(i, n) {
      int64_t ch = chOf(i);
      y[i] = batchNormOne(x[i], coef[2 * ch], coef[2 * ch + 1]);
    }
  }
}

/// The channel shape of a batch norm's [N, C, inner...] data.
ChannelShape channelShapeOf(const cpu::Tensor &x) {
  ChannelShape s{x.dim(0), x.dim(1), 1};
  for (int64_t d = 2; d < x.rank(); ++d)
    s.inner *= x.dim(d);
  return s;
}

/// x, scale, bias, mean, var -> y, running mean, running var.
Status runBatchNorm(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0];
  BatchNormArgs a;
  a.shape = channelShapeOf(x);
  a.scale = paramOf(c.in[1]);
  a.bias = paramOf(c.in[2]);
  a.mean = paramOf(c.in[3]);
  a.var = paramOf(c.in[4]);
  a.runMean = paramOf(c.out[1]);
  a.runVar = paramOf(c.out[2]);
  a.eps = *c.attrs().getFloat("epsilon");
  a.momentum = *c.attrs().getFloat("momentum");
  a.training = *c.attrs().getBool("training");
  const ChannelShape &s = a.shape;
  if (s.channels == 0)
    return Status();
  return dispatchFloat(c, x.dtype, [&]<typename T>() -> Status {
    const bool aligned = aligned16({x.data, y.data});
    SumSplit sp = sumSplitOf(s, Vec16<T>::size, aligned, ctx);
    if (!a.training || s.count() == 0)
      sp.splits = 0;
    double *coef = nullptr, *partial = nullptr;
    MLG_RT_RETURN_IF_ERROR(
        channelScratch(c, ctx, s.channels, 2, sp.splits, &coef, &partial));
    if (sp.splits > 0)
      MLG_RT_RETURN_IF_ERROR((launchChannelSums<T, false>(
          c, ctx, x.as<T>(), nullptr, s, sp, Param(), partial)));
    batchNormCoefs<T><<<blocksFor(s.channels, kThreads, ctx), kThreads, 0,
                        ctx.stream>>>(x.as<T>(), a, partial, sp.splits, coef);
    MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "batchNormCoefs"));
    if (x.numel == 0)
      return Status();
    // After the statistics launches: y may alias x.
    ChannelOf chOf(s, x.numel);
    if (aligned && s.inner % Vec16<T>::size == 0)
      batchNormApply<T, true><<<blocksFor(x.numel / Vec16<T>::size, kThreads,
                                          ctx),
                                kThreads, 0, ctx.stream>>>(
          x.as<T>(), y.as<T>(), x.numel, chOf, coef);
    else
      batchNormApply<T, false>
          <<<blocksFor(x.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
              x.as<T>(), y.as<T>(), x.numel, chOf, coef);
    return checkLaunch(c, "batchNormApply");
  });
}

struct BatchNormBackwardArgs {
  ChannelShape shape;
  Param scale, mean, var; // mean and var only in the inference form
  Param dscale, dbias;
  double eps;
  bool training;
};

/// Per channel, from the channel sums: the moments (the batch's in
/// training, the operands in inference), sum(dy) and sum(dy * xhat); the
/// scale and bias gradients, and the coefficients of dx into
/// coef[5ch..5ch+4] = {mean, rstd, scale * rstd, mean(dy), mean(dy * xhat)}.
template <typename T>
__global__ void batchNormBackwardCoefs(const T *x, BatchNormBackwardArgs a,
                                       const double *partial, int64_t splits,
                                       double *coef) {
  const ChannelShape &s = a.shape;
  const double count = double(s.count());
  MLG_CUDA_GRID_LOOP(ch, s.channels) {
    double t[4];
    channelTotals(partial, splits, ch, t);
    double mean, rstd, shift;
    if (a.training) {
      shift = count > 0 ? double(Elem<T>::load(x[ch * s.inner])) : 0.0;
      double d = count > 0 ? t[0] / count : 0.0;
      mean = shift + d;
      rstd = 1.0 / sqrt((count > 0 ? fmax(t[1] / count - d * d, 0.0) : 0.0) +
                        a.eps);
    } else {
      mean = shift = a.mean.load(ch);
      rstd = 1.0 / sqrt(a.var.load(ch) + a.eps);
    }
    // sum(dy (x - mean)) = sum(dy (x - shift)) - (mean - shift) sum(dy).
    double sumDy = t[2], sumDyXhat = (t[3] - (mean - shift) * t[2]) * rstd;
    double *k = coef + 5 * ch;
    k[0] = mean;
    k[1] = rstd;
    k[2] = a.scale.load(ch) * rstd;
    k[3] = count > 0 ? sumDy / count : 0.0;
    k[4] = count > 0 ? sumDyXhat / count : 0.0;
    a.dscale.store(ch, sumDyXhat);
    a.dbias.store(ch, sumDy);
  }
}

template <typename T>
__device__ __forceinline__ T batchNormBackwardOne(T dy, T x, const double *k,
                                                  bool training) {
  using C = typename Elem<T>::Compute;
  double g = double(Elem<T>::load(dy));
  if (!training)
    return Elem<T>::store(C(g * k[2]));
  double xhat = (double(Elem<T>::load(x)) - k[0]) * k[1];
  return Elem<T>::store(C(k[2] * (g - k[3] - xhat * k[4])));
}

/// training: dx = a (dy - mean(dy) - xhat mean(dy xhat)); inference:
/// dx = dy a; with a = scale * rstd. `Vector` moves 16 bytes at a time.
template <typename T, bool Vector>
__global__ void batchNormBackwardApply(const T *dy, const T *x, T *dx,
                                       int64_t n, ChannelOf chOf,
                                       const double *coef, bool training) {
  if constexpr (Vector) {
    using V = Vec16<T>;
    const V *gv = reinterpret_cast<const V *>(dy);
    const V *xv = reinterpret_cast<const V *>(x);
    V *dxv = reinterpret_cast<V *>(dx);
    MLG_CUDA_GRID_LOOP(i, n / V::size) {
      const double *k = coef + 5 * chOf(i * V::size);
      V g = gv[i], a;
      if (training)
        a = xv[i];
#pragma unroll
      for (int e = 0; e < V::size; ++e)
        g.v[e] = batchNormBackwardOne(g.v[e], training ? a.v[e] : T(0), k,
                                      training);
      dxv[i] = g;
    }
  } else {
    MLG_CUDA_GRID_LOOP(i, n) {
      dx[i] = batchNormBackwardOne(dy[i], training ? x[i] : T(0),
                                   coef + 5 * chOf(i), training);
    }
  }
}

/// dy, x, scale[, mean, var] -> dx, dscale, dbias.
Status runBatchNormBackward(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dy = c.in[0], &x = c.in[1], &dx = c.out[0];
  BatchNormBackwardArgs a;
  a.shape = channelShapeOf(x);
  a.training = c.in.size() == 3;
  a.scale = paramOf(c.in[2]);
  if (!a.training) {
    a.mean = paramOf(c.in[3]);
    a.var = paramOf(c.in[4]);
  }
  a.dscale = paramOf(c.out[1]);
  a.dbias = paramOf(c.out[2]);
  a.eps = *c.attrs().getFloat("epsilon");
  const ChannelShape &s = a.shape;
  if (s.channels == 0)
    return Status();
  return dispatchFloat(c, x.dtype, [&]<typename T>() -> Status {
    const bool aligned = aligned16({dy.data, x.data, dx.data});
    SumSplit sp = sumSplitOf(s, Vec16<T>::size, aligned, ctx);
    double *coef = nullptr, *partial = nullptr;
    MLG_RT_RETURN_IF_ERROR(
        channelScratch(c, ctx, s.channels, 5, sp.splits, &coef, &partial));
    if (s.count() > 0) {
      MLG_RT_RETURN_IF_ERROR((launchChannelSums<T, true>(
          c, ctx, x.as<T>(), dy.as<T>(), s, sp,
          a.training ? Param() : a.mean, partial)));
    } else {
      MLG_CUDA_TRY(c, cudaMemsetAsync(partial, 0,
                                      size_t(s.channels * sp.splits) * 4 *
                                          sizeof(double),
                                      ctx.stream));
    }
    batchNormBackwardCoefs<T><<<blocksFor(s.channels, kThreads, ctx),
                                kThreads, 0, ctx.stream>>>(
        x.as<T>(), a, partial, sp.splits, coef);
    MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "batchNormBackwardCoefs"));
    if (x.numel == 0)
      return Status();
    // After the statistics launches: dx may alias dy or x.
    ChannelOf chOf(s, x.numel);
    if (aligned && s.inner % Vec16<T>::size == 0)
      batchNormBackwardApply<T, true>
          <<<blocksFor(x.numel / Vec16<T>::size, kThreads, ctx), kThreads, 0,
             ctx.stream>>>(dy.as<T>(), x.as<T>(), dx.as<T>(), x.numel, chOf,
                           coef, a.training);
    else
      batchNormBackwardApply<T, false>
          <<<blocksFor(x.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
              dy.as<T>(), x.as<T>(), dx.as<T>(), x.numel, chOf, coef,
              a.training);
    return checkLaunch(c, "batchNormBackwardApply");
  });
}

//===----------------------------------------------------------------------===//
// Layer normalization
//===----------------------------------------------------------------------===//

/// How a parameter (scale or bias) broadcasts to the normalized shape:
/// `dims` the normalized dimensions, `pdims` the parameter's, right-aligned
/// (1 where it has none). `identity` when they hold the same number of
/// elements, the parameter's position then being the normalized one.
struct ParamLayout {
  bool identity = true;
  int rank = 0;
  int64_t dims[kMaxRank], pdims[kMaxRank];

  /// The parameter element of normalized position j.
  __device__ __forceinline__ int64_t at(int64_t j) const {
    if (identity)
      return j;
    int64_t off = 0, stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      int64_t q = j / dims[d], coord = j - q * dims[d];
      j = q;
      if (pdims[d] != 1)
        off += coord * stride;
      stride *= pdims[d];
    }
    return off;
  }

  /// The m-th normalized position (of normalized / parameter elements) that
  /// parameter element k broadcasts to.
  __device__ __forceinline__ int64_t position(int64_t k, int64_t m) const {
    if (identity)
      return k;
    int64_t j = 0, stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      int64_t coord;
      if (pdims[d] == 1) {
        int64_t q = m / dims[d];
        coord = m - q * dims[d];
        m = q;
      } else {
        int64_t q = k / pdims[d];
        coord = k - q * pdims[d];
        k = q;
      }
      j += coord * stride;
      stride *= dims[d];
    }
    return j;
  }
};

Status layoutOf(const cpu::KernelCall &c,
                const std::vector<int64_t> &normalized, int64_t inner,
                const cpu::Tensor &param, ParamLayout &l) {
  l.identity = param.numel == inner;
  if (l.identity)
    return Status();
  if (normalized.size() > size_t(kMaxRank))
    return c.error("the CUDA backend broadcasts a layer norm scale or bias "
                   "over at most ",
                   kMaxRank, " normalized dimensions, got ", normalized.size());
  l.rank = int(normalized.size());
  int64_t off = int64_t(normalized.size()) - param.rank();
  for (int d = 0; d < l.rank; ++d) {
    l.dims[d] = normalized[size_t(d)];
    l.pdims[d] = d >= off ? param.dim(d - off) : 1;
  }
  return Status();
}

/// One block per row of `inner` elements: mean and variance two-pass in
/// double, then y = (x - mean) * rstd * scale + bias in the compute type.
template <typename T>
__global__ void layerNormRows(const T *x, const T *scale, const T *bias, T *y,
                              T *meanOut, T *rstdOut, int64_t rows,
                              int64_t inner, double eps, ParamLayout scaleAt,
                              ParamLayout biasAt) {
  using C = typename Elem<T>::Compute;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T *p = x + r * inner;
    T *q = y + r * inner;
    double sum = 0;
    for (int64_t j = threadIdx.x; j < inner; j += blockDim.x)
      sum += double(Elem<T>::load(p[j]));
    sum = blockReduce<double>(sum);
    double mean = inner ? sum / double(inner) : 0.0;
    double sq = 0;
    for (int64_t j = threadIdx.x; j < inner; j += blockDim.x) {
      double d = double(Elem<T>::load(p[j])) - mean;
      sq += d * d;
    }
    sq = blockReduce<double>(sq);
    double rstd = 1.0 / sqrt((inner ? sq / double(inner) : 0.0) + eps);
    C cm = C(mean), cr = C(rstd);
    // Every thread has read the row (the reductions' barriers): y may
    // alias x.
    for (int64_t j = threadIdx.x; j < inner; j += blockDim.x) {
      C v = mulRn(mulRn(C(Elem<T>::load(p[j])) - cm, cr),
                  C(Elem<T>::load(scale[scaleAt.at(j)])));
      if (bias)
        v = addRn(v, C(Elem<T>::load(bias[biasAt.at(j)])));
      q[j] = Elem<T>::store(v);
    }
    if (threadIdx.x == 0) {
      meanOut[r] = Elem<T>::store(cm);
      rstdOut[r] = Elem<T>::store(cr);
    }
  }
}

/// x, scale[, bias] -> y, mean, inv_std_dev; normalized over dims
/// [axis, rank).
Status runLayerNorm(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0];
  int64_t axis = *c.attrs().getInt("axis");
  double eps = *c.attrs().getFloat("epsilon");
  std::vector<int64_t> normalized(x.shape->begin() + axis, x.shape->end());
  int64_t inner = 1;
  for (int64_t d : normalized)
    inner *= d;
  int64_t rows = inner ? x.numel / inner : c.out[1].numel;
  bool hasBias = c.in.size() == 3;
  ParamLayout scaleAt, biasAt;
  MLG_RT_RETURN_IF_ERROR(layoutOf(c, normalized, inner, c.in[1], scaleAt));
  if (hasBias)
    MLG_RT_RETURN_IF_ERROR(layoutOf(c, normalized, inner, c.in[2], biasAt));
  if (rows == 0)
    return Status();
  return dispatchFloat(c, x.dtype, [&]<typename T>() -> Status {
    layerNormRows<T><<<rowBlocks(rows), rowThreads(inner), 0, ctx.stream>>>(
        x.as<T>(), c.in[1].as<T>(), hasBias ? c.in[2].as<T>() : nullptr,
        c.out[0].as<T>(), c.out[1].as<T>(), c.out[2].as<T>(), rows, inner, eps,
        scaleAt, biasAt);
    return checkLaunch(c, "layerNormRows");
  });
}

/// partial[s * inner + j] = sum over the rows of slice s of dy * xhat at
/// normalized position j, in double. Threads take positions (coalesced),
/// blockIdx.y the slice.
template <typename T>
__global__ void
layerNormScaleGradPartial(const T *dy, const T *x, const T *mean, const T *rstd,
                          int64_t rows, int64_t inner, int64_t rowsPerSlice,
                          double *partial) {
  int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= inner)
    return;
  int64_t s = blockIdx.y, end = (s + 1) * rowsPerSlice;
  if (end > rows)
    end = rows;
  double acc = 0;
  for (int64_t r = s * rowsPerSlice; r < end; ++r) {
    double m = double(Elem<T>::load(mean[r]));
    double rs = double(Elem<T>::load(rstd[r]));
    int64_t i = r * inner + j;
    double xhat = (double(Elem<T>::load(x[i])) - m) * rs;
    acc += double(Elem<T>::load(dy[i])) * xhat;
  }
  partial[s * inner + j] = acc;
}

/// dscale[k] = the slices' partials summed over every normalized position
/// scale element k broadcasts to, in a fixed order.
template <typename T>
__global__ void layerNormScaleGradFinish(const double *partial, int64_t slices,
                                         int64_t inner, ParamLayout scaleAt,
                                         T *dscale, int64_t scaleNumel) {
  using C = typename Elem<T>::Compute;
  int64_t per = inner / scaleNumel;
  MLG_CUDA_GRID_LOOP(k, scaleNumel) {
    double acc = 0;
    for (int64_t s = 0; s < slices; ++s)
      for (int64_t m = 0; m < per; ++m)
        acc += partial[s * inner + scaleAt.position(k, m)];
    dscale[k] = Elem<T>::store(C(acc));
  }
}

/// One block per row: g = dy * scale, dx = rstd (g - mean(g) - xhat
/// mean(g xhat)), the sums in double.
template <typename T>
__global__ void layerNormBackwardRows(const T *dy, const T *x, const T *scale,
                                      const T *mean, const T *rstd, T *dx,
                                      int64_t rows, int64_t inner,
                                      ParamLayout scaleAt) {
  using C = typename Elem<T>::Compute;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T *dyr = dy + r * inner, *xr = x + r * inner;
    T *dxr = dx + r * inner;
    double m = double(Elem<T>::load(mean[r]));
    double rs = double(Elem<T>::load(rstd[r]));
    double sumG = 0, sumGXhat = 0;
    for (int64_t j = threadIdx.x; j < inner; j += blockDim.x) {
      double xhat = (double(Elem<T>::load(xr[j])) - m) * rs;
      double g = double(Elem<T>::load(dyr[j])) *
                 double(Elem<T>::load(scale[scaleAt.at(j)]));
      sumG += g;
      sumGXhat += g * xhat;
    }
    sumG = blockReduce<double>(sumG);
    sumGXhat = blockReduce<double>(sumGXhat);
    double meanG = sumG / double(inner), meanGXhat = sumGXhat / double(inner);
    // Every thread has read the row: dx may alias dy or x.
    for (int64_t j = threadIdx.x; j < inner; j += blockDim.x) {
      double xhat = (double(Elem<T>::load(xr[j])) - m) * rs;
      double g = double(Elem<T>::load(dyr[j])) *
                 double(Elem<T>::load(scale[scaleAt.at(j)]));
      dxr[j] = Elem<T>::store(C(rs * (g - meanG - xhat * meanGXhat)));
    }
  }
}

/// dy, x, scale, mean, inv_std_dev -> dx, dscale. The scale gradient's
/// partials are taken before dx is written (dx may alias dy or x), and
/// summed after (so dscale may even alias the scale).
Status runLayerNormBackward(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dy = c.in[0], &x = c.in[1], &scale = c.in[2];
  const cpu::Tensor &dscale = c.out[1];
  int64_t axis = *c.attrs().getInt("axis");
  std::vector<int64_t> normalized(x.shape->begin() + axis, x.shape->end());
  int64_t inner = 1;
  for (int64_t d : normalized)
    inner *= d;
  int64_t rows = c.in[3].numel;
  ParamLayout scaleAt;
  MLG_RT_RETURN_IF_ERROR(layoutOf(c, normalized, inner, scale, scaleAt));
  // Slices of rows so that the partial sums fill the machine.
  int64_t sms = ctx.multiprocessors > 0 ? ctx.multiprocessors : 132;
  int64_t columnBlocks = (inner + kThreads - 1) / kThreads;
  int64_t slices = 1, rowsPerSlice = std::max<int64_t>(rows, 1);
  if (inner > 0 && rows > 0) {
    int64_t want = std::max<int64_t>(1, sms * 8 / columnBlocks);
    slices = std::min({rows, want, kMaxSlices});
    rowsPerSlice = (rows + slices - 1) / slices;
    slices = (rows + rowsPerSlice - 1) / rowsPerSlice;
  }
  double *partial = nullptr;
  if (inner > 0) {
    void *scratch = nullptr;
    MLG_RT_RETURN_IF_ERROR(scratchBuffer(
        c, ctx, uint64_t(slices) * uint64_t(inner) * sizeof(double), &scratch));
    partial = static_cast<double *>(scratch);
  }
  return dispatchFloat(c, x.dtype, [&]<typename T>() -> Status {
    const T *mean = c.in[3].as<T>(), *rstd = c.in[4].as<T>();
    if (inner > 0) {
      dim3 grid{unsigned(columnBlocks), unsigned(slices)};
      layerNormScaleGradPartial<T><<<grid, kThreads, 0, ctx.stream>>>(
          dy.as<T>(), x.as<T>(), mean, rstd, rows, inner, rowsPerSlice,
          partial);
      MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "layerNormScaleGradPartial"));
      if (rows > 0) {
        layerNormBackwardRows<T>
            <<<rowBlocks(rows), rowThreads(inner), 0, ctx.stream>>>(
                dy.as<T>(), x.as<T>(), scale.as<T>(), mean, rstd,
                c.out[0].as<T>(), rows, inner, scaleAt);
        MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "layerNormBackwardRows"));
      }
    }
    // With no rows the one slice's partials are zeros; with inner == 0 no
    // position is read and the gradient is zero.
    if (dscale.numel == 0)
      return Status();
    layerNormScaleGradFinish<T>
        <<<blocksFor(dscale.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
            partial, slices, inner, scaleAt, dscale.as<T>(), dscale.numel);
    return checkLaunch(c, "layerNormScaleGradFinish");
  });
}

//===----------------------------------------------------------------------===//
// Dropout
//===----------------------------------------------------------------------===//

/// Element i is kept iff its Philox number for (seed, step, i) is >= ratio;
/// kept elements are scaled by 1 / (1 - ratio). Read before written: y may
/// alias x.
template <typename T>
__global__ void dropoutKernel(const T *x, T *y, uint8_t *mask, int64_t n,
                              uint64_t seed, const uint64_t *run,
                              double ratio,
                              double scale) {
  using C = typename Elem<T>::Compute;
  const C s = C(scale);
  const uint64_t step = *run;
  MLG_CUDA_GRID_LOOP(i, n) {
    bool keep = double(dropoutUniform(seed, step, uint64_t(i))) >= ratio;
    mask[i] = keep;
    y[i] =
        keep ? Elem<T>::store(Elem<T>::load(x[i]) * s) : Elem<T>::store(C(0));
  }
}

/// x -> y, mask (bool).
Status runDropout(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0], &mask = c.out[1];
  double ratio = *c.attrs().getFloat("ratio");
  bool training = *c.attrs().getBool("training");
  uint64_t seed = uint64_t(*c.attrs().getInt("seed"));
  if (x.numel == 0)
    return Status();
  if (!training || ratio == 0) {
    if (y.data != x.data)
      MLG_CUDA_TRY(c, cudaMemcpyAsync(y.data, x.data,
                                      size_t(x.numel) * dtypeBytes(x.dtype),
                                      cudaMemcpyDeviceToDevice, ctx.stream));
    MLG_CUDA_TRY(c, cudaMemsetAsync(mask.data, 1, size_t(x.numel), ctx.stream));
    return Status();
  }
  return dispatchFloat(c, x.dtype, [&]<typename T>() -> Status {
    dropoutKernel<T>
        <<<blocksFor(x.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
            x.as<T>(), y.as<T>(), mask.as<uint8_t>(), x.numel, seed,
            ctx.runIndex, ratio, 1.0 / (1.0 - ratio));
    return checkLaunch(c, "dropoutKernel");
  });
}

template <typename T>
__global__ void dropoutBackwardKernel(const T *dy, const uint8_t *mask, T *dx,
                                      int64_t n, double scale) {
  using C = typename Elem<T>::Compute;
  const C s = C(scale);
  MLG_CUDA_GRID_LOOP(i, n) {
    dx[i] = mask[i] ? Elem<T>::store(Elem<T>::load(dy[i]) * s)
                    : Elem<T>::store(C(0));
  }
}

/// dy, mask -> dx = dy * mask / (1 - ratio); dx may alias dy.
Status runDropoutBackward(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dy = c.in[0];
  double ratio = *c.attrs().getFloat("ratio");
  if (dy.numel == 0)
    return Status();
  return dispatchFloat(c, dy.dtype, [&]<typename T>() -> Status {
    dropoutBackwardKernel<T>
        <<<blocksFor(dy.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
            dy.as<T>(), c.in[1].as<uint8_t>(), c.out[0].as<T>(), dy.numel,
            1.0 / (1.0 - ratio));
    return checkLaunch(c, "dropoutBackwardKernel");
  });
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

/// The input seen as [outer, n, inner] around the axis.
struct AxisShape {
  int64_t outer, n, inner;

  /// The offset of element 0 of slice r (in [0, outer * inner)); element k
  /// lies `k * inner` further.
  __device__ __forceinline__ int64_t base(int64_t r) const {
    int64_t o = r / inner;
    return o * n * inner + (r - o * inner);
  }
  __host__ __device__ int64_t slices() const { return outer * inner; }
};

AxisShape axisShapeOf(const cpu::Tensor &x, int64_t axis) {
  AxisShape s;
  s.n = x.dim(axis);
  s.inner = 1;
  for (int64_t d = axis + 1; d < x.rank(); ++d)
    s.inner *= x.dim(d);
  s.outer = s.n != 0 && s.inner != 0 ? x.numel / (s.n * s.inner) : 0;
  return s;
}

/// Whether a thread per slice, walking the axis serially, beats a block per
/// slice: the slices must be strided (inner > 1, so neighbouring threads read
/// neighbouring elements) and either many or short.
bool useColumns(const AxisShape &s, const Context &ctx) {
  int64_t sms = ctx.multiprocessors > 0 ? ctx.multiprocessors : 132;
  return s.inner > 1 && (s.slices() >= sms * 128 || s.n <= 64);
}

/// softmax: y = exp(x - max) / sum(exp(x - max)); log_softmax:
/// y = (x - max) - log(sum(exp(x - max))). One block per slice.
template <bool Log, typename T>
__global__ void softmaxRows(const T *x, T *y, AxisShape s) {
  using C = typename Elem<T>::Compute;
  int64_t count = s.slices();
  for (int64_t r = blockIdx.x; r < count; r += gridDim.x) {
    const T *p = x + s.base(r);
    T *q = y + s.base(r);
    C mx = C(-INFINITY);
    for (int64_t k = threadIdx.x; k < s.n; k += blockDim.x) {
      C v = Elem<T>::load(p[k * s.inner]);
      mx = mx < v ? v : mx; // std::max(mx, v)
    }
    mx = blockReduce<C, true>(mx);
    C sum = 0;
    for (int64_t k = threadIdx.x; k < s.n; k += blockDim.x)
      sum += expC(C(Elem<T>::load(p[k * s.inner])) - mx);
    sum = blockReduce<C>(sum);
    // Every thread has read the slice: y may alias x.
    if constexpr (Log) {
      // (x - max) - log(sum), as the CPU: folding max + log(sum) first
      // would round away the small term next to a large max.
      C ls = logC(sum);
      for (int64_t k = threadIdx.x; k < s.n; k += blockDim.x)
        q[k * s.inner] =
            Elem<T>::store((C(Elem<T>::load(p[k * s.inner])) - mx) - ls);
    } else {
      C inv = C(1) / sum;
      for (int64_t k = threadIdx.x; k < s.n; k += blockDim.x)
        q[k * s.inner] =
            Elem<T>::store(expC(C(Elem<T>::load(p[k * s.inner])) - mx) * inv);
    }
  }
}

/// The same, one thread per slice, in the CPU's order.
template <bool Log, typename T>
__global__ void softmaxColumns(const T *x, T *y, AxisShape s) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(r, s.slices()) {
    const T *p = x + s.base(r);
    T *q = y + s.base(r);
    C mx = C(-INFINITY);
    for (int64_t k = 0; k < s.n; ++k) {
      C v = Elem<T>::load(p[k * s.inner]);
      mx = mx < v ? v : mx;
    }
    C sum = 0;
    for (int64_t k = 0; k < s.n; ++k)
      sum += expC(C(Elem<T>::load(p[k * s.inner])) - mx);
    if constexpr (Log) {
      C ls = logC(sum);
      for (int64_t k = 0; k < s.n; ++k)
        q[k * s.inner] =
            Elem<T>::store((C(Elem<T>::load(p[k * s.inner])) - mx) - ls);
    } else {
      C inv = C(1) / sum;
      for (int64_t k = 0; k < s.n; ++k)
        q[k * s.inner] =
            Elem<T>::store(expC(C(Elem<T>::load(p[k * s.inner])) - mx) * inv);
    }
  }
}

/// x -> y along `axis`.
template <bool Log> Status runSoftmax(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0];
  AxisShape s = axisShapeOf(x, *c.attrs().getInt("axis"));
  if (s.slices() == 0)
    return Status();
  return dispatchFloat(c, x.dtype, [&]<typename T>() -> Status {
    if (useColumns(s, ctx)) {
      softmaxColumns<Log, T>
          <<<blocksFor(s.slices(), kThreads, ctx), kThreads, 0, ctx.stream>>>(
              x.as<T>(), c.out[0].as<T>(), s);
      return checkLaunch(c, "softmaxColumns");
    }
    softmaxRows<Log, T>
        <<<rowBlocks(s.slices()), rowThreads(s.n), 0, ctx.stream>>>(
            x.as<T>(), c.out[0].as<T>(), s);
    return checkLaunch(c, "softmaxRows");
  });
}

/// softmax: dx = y (dy - sum(dy y)); log_softmax: dx = dy - exp(y) sum(dy).
template <bool Log, typename C>
__device__ __forceinline__ C softmaxGrad(C g, C v, C sum) {
  if constexpr (Log)
    return C(g - mulRn(expC(v), sum));
  else
    return C(v * (g - sum));
}

/// One block per slice; the sum is complete (a block barrier) before any of
/// the slice is written, so dx may alias dy or y.
template <bool Log, typename T>
__global__ void softmaxBackwardRows(const T *dy, const T *y, T *dx,
                                    AxisShape s) {
  using C = typename Elem<T>::Compute;
  int64_t count = s.slices();
  for (int64_t r = blockIdx.x; r < count; r += gridDim.x) {
    int64_t b = s.base(r);
    C sum = 0;
    for (int64_t k = threadIdx.x; k < s.n; k += blockDim.x) {
      C g = Elem<T>::load(dy[b + k * s.inner]);
      sum =
          addRn(sum, Log ? g : mulRn(g, C(Elem<T>::load(y[b + k * s.inner]))));
    }
    sum = blockReduce<C>(sum);
    for (int64_t k = threadIdx.x; k < s.n; k += blockDim.x) {
      int64_t i = b + k * s.inner;
      dx[i] = Elem<T>::store(
          softmaxGrad<Log, C>(Elem<T>::load(dy[i]), Elem<T>::load(y[i]), sum));
    }
  }
}

/// The same, one thread per slice, in the CPU's order.
template <bool Log, typename T>
__global__ void softmaxBackwardColumns(const T *dy, const T *y, T *dx,
                                       AxisShape s) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(r, s.slices()) {
    int64_t b = s.base(r);
    C sum = 0;
    for (int64_t k = 0; k < s.n; ++k) {
      C g = Elem<T>::load(dy[b + k * s.inner]);
      sum =
          addRn(sum, Log ? g : mulRn(g, C(Elem<T>::load(y[b + k * s.inner]))));
    }
    for (int64_t k = 0; k < s.n; ++k) {
      int64_t i = b + k * s.inner;
      dx[i] = Elem<T>::store(
          softmaxGrad<Log, C>(Elem<T>::load(dy[i]), Elem<T>::load(y[i]), sum));
    }
  }
}

/// dy, y -> dx along `axis`.
template <bool Log>
Status runSoftmaxBackward(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dy = c.in[0], &y = c.in[1];
  AxisShape s = axisShapeOf(y, *c.attrs().getInt("axis"));
  if (s.slices() == 0)
    return Status();
  return dispatchFloat(c, y.dtype, [&]<typename T>() -> Status {
    if (useColumns(s, ctx)) {
      softmaxBackwardColumns<Log, T>
          <<<blocksFor(s.slices(), kThreads, ctx), kThreads, 0, ctx.stream>>>(
              dy.as<T>(), y.as<T>(), c.out[0].as<T>(), s);
      return checkLaunch(c, "softmaxBackwardColumns");
    }
    softmaxBackwardRows<Log, T>
        <<<rowBlocks(s.slices()), rowThreads(s.n), 0, ctx.stream>>>(
            dy.as<T>(), y.as<T>(), c.out[0].as<T>(), s);
    return checkLaunch(c, "softmaxBackwardRows");
  });
}

__global__ void setRunIndexKernel(uint64_t *word, uint64_t value) {
  *word = value;
}

} // namespace

Status setRunIndex(Context &ctx, uint64_t runIndex) {
  // A kernel, not a copy: its argument is taken at launch, so nothing has to
  // wait for the host word.
  setRunIndexKernel<<<1, 1, 0, ctx.stream>>>(ctx.runIndex, runIndex);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    return Status::errorf("setting the run index failed: ",
                          cudaGetErrorString(e));
  return Status();
}

void registerNormKernels(KernelRegistry &r) {
  r.add({"batch_norm", runBatchNorm});
  r.add({"batch_norm_backward", runBatchNormBackward});
  r.add({"layer_norm", runLayerNorm});
  r.add({"layer_norm_backward", runLayerNormBackward});
  r.add({"dropout", runDropout});
  r.add({"dropout_backward", runDropoutBackward});
  r.add({"softmax", runSoftmax<false>});
  r.add({"log_softmax", runSoftmax<true>});
  r.add({"softmax_backward", runSoftmaxBackward<false>});
  r.add({"log_softmax_backward", runSoftmaxBackward<true>});
}

} // namespace mlg_rt::cuda

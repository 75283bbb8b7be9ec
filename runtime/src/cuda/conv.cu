// conv.cu - conv and its data and filter gradients through cuDNN, with the
// CPU kernels' rules (../cpu/nn.cc, ../cpu/nn_grad.cc).
//
// Convolutions run through cuDNN's legacy API in NCHW (NCDHW) layout with
// group count, cross-correlation, and float accumulation (double for f64).
// A 1-D convolution gets a trailing spatial dimension of 1: cuDNN wants at
// least two. cuDNN pads both ends alike: pads whose begin and end differ are
// accepted only where the end pad changes nothing (it is never reached, so
// the output has the size symmetric pads give); other asymmetric pads are an
// error. f32 may use TF32 when the context allows it (Context::
// tf32Convolutions, PyTorch's default) and runs on FMA kernels otherwise.
// The algorithm of each convolution shape is chosen once per process and
// cached: by default every candidate is timed on the step's own tensors (as
// PyTorch's cudnn.benchmark does), else cuDNN's heuristics rank them. The
// fastest (best-ranked) one whose workspace fits in memory the plan already
// has wins: the step's planned workspace (sized for the CPU's im2col) or
// the arena's spare bytes at that step (arena_spare.h). One that needs
// backend scratch (up to Context::convScratchLimit) is taken only where it
// was timed kScratchSpeedup times as fast. Timing uses the same bytes, or a
// temporary buffer where scratch is allowed; the scratch (scratchBuffer)
// grows once to the largest chosen workspace and is then reused.
// The bias is added by a kernel after the convolution; for f16 and bf16 the
// convolution's output is rounded before the bias is added (the CPU rounds
// once).

#include "common.cuh"

#include "../cpu/window.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <vector>

namespace mlg_rt::cuda {
namespace {

//===----------------------------------------------------------------------===//
// Convolution through cuDNN
//===----------------------------------------------------------------------===//

/// A cuDNN descriptor, destroyed with its owner.
template <typename H, cudnnStatus_t (*Destroy)(H)> class CudnnDesc {
public:
  CudnnDesc() = default;
  CudnnDesc(const CudnnDesc &) = delete;
  CudnnDesc &operator=(const CudnnDesc &) = delete;
  ~CudnnDesc() {
    if (h_)
      Destroy(h_);
  }
  H get() const { return h_; }
  H *out() { return &h_; }

private:
  H h_ = nullptr;
};

using TensorDesc =
    CudnnDesc<cudnnTensorDescriptor_t, cudnnDestroyTensorDescriptor>;
using FilterDesc =
    CudnnDesc<cudnnFilterDescriptor_t, cudnnDestroyFilterDescriptor>;
using ConvDesc = CudnnDesc<cudnnConvolutionDescriptor_t,
                           cudnnDestroyConvolutionDescriptor>;

enum class ConvPass { Forward = 0, BackwardData = 1, BackwardFilter = 2 };

/// The descriptors of one convolution: `x` the forward's input (or its
/// gradient), `y` its output (or its gradient), `w` the filters (or their
/// gradient).
struct ConvSetup {
  TensorDesc x, y;
  FilterDesc w;
  ConvDesc conv;
  bool isDouble = false;
  /// The math type the algorithm search starts from.
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  /// f32 without TF32: only FMA kernels.
  bool fmaOnly = false;
  /// The shape, type and math of the convolution: the algorithm cache's key.
  std::vector<int64_t> key;
};

/// Packed NCHW strides of `dims`.
std::vector<int> packedStrides(const std::vector<int> &dims) {
  std::vector<int> s(dims.size(), 1);
  for (size_t i = dims.size() - 1; i-- > 0;)
    s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/// Fills `s` for a convolution of `x` [N, C, in...] by `wt` [M, C / group,
/// K...] into `y` [N, M, out...] (the CPU check has accepted the shapes).
Status setupConv(const cpu::KernelCall &c, const Context &ctx,
                 ConvPass pass, const cpu::Tensor &x, const cpu::Tensor &wt,
                 const cpu::Tensor &y, ConvSetup &s) {
  auto groupAttr = c.attrs().getInt("group");
  if (!groupAttr || *groupAttr <= 0)
    return c.error("needs a positive group attribute");
  int64_t group = *groupAttr;
  std::vector<int64_t> kernel(wt.shape->begin() + 2, wt.shape->end());
  std::vector<int64_t> shape;
  cpu::Window w;
  MLG_RT_RETURN_IF_ERROR(cpu::readWindow(c, x, kernel, false, w, shape));
  const int64_t spatial = x.rank() - 2, lead = cpu::kMaxSpatial - spatial;

  // cuDNN pads both ends by the begin pad: right where the end pad is never
  // reached, i.e. symmetric pads give the same output size.
  for (int64_t d = lead; d < cpu::kMaxSpatial; ++d) {
    if (w.padBegin[d] == w.padEnd[d])
      continue;
    int64_t room = w.in[d] + 2 * w.padBegin[d] -
                   (w.kernel[d] - 1) * w.dilation[d] - 1;
    int64_t out = room < 0 ? -1 : room / w.stride[d] + 1;
    if (out != w.out[d])
      return c.error("asymmetric padding (spatial dimension ", d - lead,
                     " padded by ", w.padBegin[d], " at the beginning and ",
                     w.padEnd[d],
                     " at the end) is not supported by the CUDA backend yet");
  }

  // cuDNN takes int sizes and at least two spatial dimensions: a 1-D
  // convolution gets a trailing one of size 1.
  const int64_t dims = std::max<int64_t>(spatial, 2);
  std::vector<int64_t> xd = {x.dim(0), x.dim(1)}, yd = {y.dim(0), y.dim(1)},
                       wd = {wt.dim(0), wt.dim(1)};
  std::vector<int64_t> pad, stride, dilation;
  for (int64_t d = 0; d < dims; ++d) {
    bool real = d < spatial;
    int64_t wi = lead + d; // the Window dimension
    xd.push_back(real ? w.in[wi] : 1);
    yd.push_back(real ? w.out[wi] : 1);
    wd.push_back(real ? w.kernel[wi] : 1);
    pad.push_back(real ? w.padBegin[wi] : 0);
    stride.push_back(real ? w.stride[wi] : 1);
    dilation.push_back(real ? w.dilation[wi] : 1);
  }
  auto toInt = [](const std::vector<int64_t> &v, std::vector<int> &out) {
    bool ok = true;
    for (int64_t e : v) {
      ok &= e >= 0 && e <= INT_MAX;
      out.push_back(int(e));
    }
    return ok;
  };
  std::vector<int> xi, yi, wi, padI, strideI, dilationI;
  bool fits = toInt(xd, xi) & toInt(yd, yi) & toInt(wd, wi) &
              toInt(pad, padI) & toInt(stride, strideI) &
              toInt(dilation, dilationI) && group <= INT_MAX;
  for (int64_t n : {x.numel, y.numel, wt.numel})
    fits &= n <= INT_MAX;
  if (!fits)
    return c.error("the CUDA backend's convolutions take tensors of fewer "
                   "than 2^31 elements");

  cudnnDataType_t data, compute = CUDNN_DATA_FLOAT;
  switch (x.dtype) {
  case DType::F32:
    data = CUDNN_DATA_FLOAT;
    s.math = ctx.tf32Convolutions ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
    s.fmaOnly = !ctx.tf32Convolutions;
    break;
  case DType::F64:
    data = compute = CUDNN_DATA_DOUBLE;
    s.isDouble = true;
    break;
  case DType::F16:
    data = CUDNN_DATA_HALF; // accumulated in float, as on the CPU
    s.math = CUDNN_TENSOR_OP_MATH;
    break;
  case DType::BF16:
    data = CUDNN_DATA_BFLOAT16;
    s.math = CUDNN_TENSOR_OP_MATH;
    break;
  default:
    return c.error("the CUDA backend has no ", dtypeName(x.dtype),
                   " version of this kernel");
  }

  const int nb = int(dims + 2);
  MLG_CUDNN_TRY(c, cudnnCreateTensorDescriptor(s.x.out()));
  MLG_CUDNN_TRY(c, cudnnCreateTensorDescriptor(s.y.out()));
  MLG_CUDNN_TRY(c, cudnnCreateFilterDescriptor(s.w.out()));
  MLG_CUDNN_TRY(c, cudnnCreateConvolutionDescriptor(s.conv.out()));
  std::vector<int> xs = packedStrides(xi), ys = packedStrides(yi);
  MLG_CUDNN_TRY(c, cudnnSetTensorNdDescriptor(s.x.get(), data, nb, xi.data(),
                                              xs.data()));
  MLG_CUDNN_TRY(c, cudnnSetTensorNdDescriptor(s.y.get(), data, nb, yi.data(),
                                              ys.data()));
  MLG_CUDNN_TRY(c, cudnnSetFilterNdDescriptor(s.w.get(), data,
                                              CUDNN_TENSOR_NCHW, nb,
                                              wi.data()));
  MLG_CUDNN_TRY(c, cudnnSetConvolutionNdDescriptor(
                       s.conv.get(), int(dims), padI.data(), strideI.data(),
                       dilationI.data(), CUDNN_CROSS_CORRELATION, compute));
  MLG_CUDNN_TRY(c, cudnnSetConvolutionGroupCount(s.conv.get(), int(group)));
  MLG_CUDNN_TRY(c, cudnnSetConvolutionMathType(s.conv.get(), s.math));

  s.key = {int64_t(pass), int64_t(x.dtype), int64_t(s.math), group,
           int64_t(ctx.measureConvolutions)};
  for (const std::vector<int64_t> *v : {&xd, &yd, &wd, &pad, &stride,
                                        &dilation})
    s.key.insert(s.key.end(), v->begin(), v->end());
  return Status();
}

/// The algorithm chosen for a convolution shape, with its math type and
/// workspace.
struct ConvAlgo {
  int algo = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  size_t workspace = 0;
  /// Milliseconds as timed, or negative where not timed (heuristics).
  float ms = -1;
};

/// cuDNN's ranked `perf` results that run (with FMA kernels only, for f32
/// without TF32), best first, with their math types and workspaces.
/// `sizeOf(algo, &bytes)` asks cuDNN for an algorithm's workspace under the
/// math type set on the descriptor.
template <typename Perf, typename SizeFn>
Status rankAlgos(const cpu::KernelCall &c, ConvSetup &s, const Perf *perf,
                 int count, SizeFn &&sizeOf, std::vector<ConvAlgo> &out) {
  out.clear();
  for (int i = 0; i < count; ++i) {
    const Perf &p = perf[i];
    if (p.status != CUDNN_STATUS_SUCCESS)
      continue;
    cudnnMathType_t math = p.mathType;
    if (s.fmaOnly) {
      if (math == CUDNN_TENSOR_OP_MATH ||
          math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
        continue;
      math = CUDNN_FMA_MATH;
    }
    if (cudnnSetConvolutionMathType(s.conv.get(), math) !=
        CUDNN_STATUS_SUCCESS)
      continue;
    size_t bytes = 0;
    if (sizeOf(p.algo, &bytes) != CUDNN_STATUS_SUCCESS)
      continue;
    out.push_back({int(p.algo), math, bytes, p.time});
  }
  if (out.empty())
    return c.error("cuDNN offers no algorithm for this convolution");
  return Status();
}

/// How much faster an algorithm needing backend scratch must be than the
/// best one that fits in memory the plan already has, to be taken.
constexpr float kScratchSpeedup = 1.5f;

/// The algorithm for a step whose planned workspace and spare arena bytes
/// give `freeLimit` bytes at no cost, and which may take up to
/// `scratchLimit` bytes of backend scratch: the best-ranked one that fits
/// `freeLimit`, unless one that needs scratch was timed at least
/// kScratchSpeedup times as fast; if none fits either, the one needing the
/// least workspace. A pure function of its arguments: the run recorded as a
/// CUDA graph chooses what the first run chose.
ConvAlgo pickAlgo(const std::vector<ConvAlgo> &ranked, uint64_t freeLimit,
                  uint64_t scratchLimit) {
  const ConvAlgo *least = &ranked.front(), *fits = nullptr,
                 *withScratch = nullptr;
  for (const ConvAlgo &a : ranked) {
    if (!fits && a.workspace <= freeLimit)
      fits = &a;
    if (!withScratch && a.workspace <= std::max(freeLimit, scratchLimit))
      withScratch = &a;
    if (a.workspace < least->workspace)
      least = &a;
  }
  if (fits && withScratch && withScratch != fits && fits->ms > 0 &&
      withScratch->ms > 0 && fits->ms > kScratchSpeedup * withScratch->ms)
    return *withScratch;
  if (fits)
    return *fits;
  return withScratch ? *withScratch : *least;
}

/// The device data of a convolution in the descriptors' roles: `x` the
/// forward's input (or its gradient), `w` the filters (or their gradient),
/// `y` the output (or its gradient). The pass writes one of them.
struct ConvData {
  void *x, *w, *y;
};

/// A device buffer for timing algorithms: the step's own workspace or
/// spare arena bytes where they are large enough, else a temporary
/// allocation freed with its owner (the search runs once per shape, so its
/// memory is not kept).
struct SearchBuffer {
  void *data = nullptr;
  size_t bytes = 0;
  bool owned = false;
  ~SearchBuffer() {
    if (owned)
      cudaFree(data);
  }
};

/// The algorithm of the convolution `s` describes for this step (pickAlgo).
/// Each shape's candidates are ranked once per process, whatever the
/// session: by timing them on the step's own tensors (cudnnFind*AlgorithmEx;
/// the pass's result is written, and written again by the real call) when
/// the context asks for measurement, else by cuDNN's heuristics; a step
/// allowed more workspace than a shape's timing had times it again.
Status chooseAlgo(const cpu::KernelCall &c, Context &ctx, ConvPass pass,
                  ConvSetup &s, const ConvData &d, ConvAlgo &out) {
  struct Ranking {
    uint64_t searched = 0;
    std::vector<ConvAlgo> algos;
  };
  static std::mutex mutex;
  static std::map<std::vector<int64_t>, Ranking> cache;
  std::lock_guard<std::mutex> lock(mutex);
  // Free: the step's planned workspace and the arena's spare bytes at the
  // step; beyond that, backend scratch up to the context's limit.
  uint64_t freeLimit = std::max(c.workspaceBytes, c.spareBytes);
  uint64_t searchBytes = std::max(freeLimit, ctx.convScratchLimit);
  auto it = cache.find(s.key);
  if (it != cache.end() &&
      (!ctx.measureConvolutions || it->second.searched >= searchBytes)) {
    out = pickAlgo(it->second.algos, freeLimit, ctx.convScratchLimit);
    return Status();
  }
  // A run being recorded as a CUDA graph may not time anything (the first
  // run timed every step's candidates).
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  MLG_CUDA_TRY(c, cudaStreamIsCapturing(ctx.stream, &capture));
  if (capture != cudaStreamCaptureStatusNone)
    return c.error("a convolution's algorithm must be chosen before its "
                   "steps are recorded as a CUDA graph");

  // Timing needs the workspace the candidates may use: the step's own
  // bytes where they suffice, else a buffer of `searchBytes`, or less where
  // that much is not free.
  SearchBuffer search;
  if (ctx.measureConvolutions) {
    size_t freeBytes = 0, totalBytes = 0;
    MLG_CUDA_TRY(c, cudaMemGetInfo(&freeBytes, &totalBytes));
    if (c.spareBytes >= searchBytes) {
      search.data = c.spare;
      search.bytes = size_t(c.spareBytes);
    } else if (c.workspaceBytes >= searchBytes) {
      search.data = c.workspace;
      search.bytes = size_t(c.workspaceBytes);
    } else {
      search.bytes = size_t(std::min<uint64_t>(searchBytes, freeBytes / 2));
      search.owned = search.bytes > 0 &&
                     cudaMalloc(&search.data, search.bytes) == cudaSuccess;
      if (!search.owned) {
        cudaGetLastError(); // clear it: measure with no workspace instead
        search.data = nullptr;
        search.bytes = 0;
      }
    }
  }

  cudnnHandle_t h = ctx.cudnn;
  int max = 0, count = 0;
  Ranking ranking;
  // What was asked for, even where less was free: asking again would get
  // no more.
  ranking.searched = ctx.measureConvolutions ? searchBytes : UINT64_MAX;
  switch (pass) {
  case ConvPass::Forward: {
    MLG_CUDNN_TRY(c, cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(size_t(std::max(max, 1)));
    if (ctx.measureConvolutions)
      MLG_CUDNN_TRY(c, cudnnFindConvolutionForwardAlgorithmEx(
                           h, s.x.get(), d.x, s.w.get(), d.w, s.conv.get(),
                           s.y.get(), d.y, int(perf.size()), &count,
                           perf.data(), search.data, search.bytes));
    else
      MLG_CUDNN_TRY(c, cudnnGetConvolutionForwardAlgorithm_v7(
                           h, s.x.get(), s.w.get(), s.conv.get(), s.y.get(),
                           int(perf.size()), &count, perf.data()));
    MLG_RT_RETURN_IF_ERROR(rankAlgos(
        c, s, perf.data(), count,
        [&](cudnnConvolutionFwdAlgo_t algo, size_t *bytes) {
          return cudnnGetConvolutionForwardWorkspaceSize(
              h, s.x.get(), s.w.get(), s.conv.get(), s.y.get(), algo, bytes);
        },
        ranking.algos));
    break;
  }
  case ConvPass::BackwardData: {
    MLG_CUDNN_TRY(c,
                  cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max));
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(
        size_t(std::max(max, 1)));
    if (ctx.measureConvolutions)
      MLG_CUDNN_TRY(c, cudnnFindConvolutionBackwardDataAlgorithmEx(
                           h, s.w.get(), d.w, s.y.get(), d.y, s.conv.get(),
                           s.x.get(), d.x, int(perf.size()), &count,
                           perf.data(), search.data, search.bytes));
    else
      MLG_CUDNN_TRY(c, cudnnGetConvolutionBackwardDataAlgorithm_v7(
                           h, s.w.get(), s.y.get(), s.conv.get(), s.x.get(),
                           int(perf.size()), &count, perf.data()));
    MLG_RT_RETURN_IF_ERROR(rankAlgos(
        c, s, perf.data(), count,
        [&](cudnnConvolutionBwdDataAlgo_t algo, size_t *bytes) {
          return cudnnGetConvolutionBackwardDataWorkspaceSize(
              h, s.w.get(), s.y.get(), s.conv.get(), s.x.get(), algo, bytes);
        },
        ranking.algos));
    break;
  }
  case ConvPass::BackwardFilter: {
    MLG_CUDNN_TRY(c,
                  cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max));
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(
        size_t(std::max(max, 1)));
    if (ctx.measureConvolutions)
      MLG_CUDNN_TRY(c, cudnnFindConvolutionBackwardFilterAlgorithmEx(
                           h, s.x.get(), d.x, s.y.get(), d.y, s.conv.get(),
                           s.w.get(), d.w, int(perf.size()), &count,
                           perf.data(), search.data, search.bytes));
    else
      MLG_CUDNN_TRY(c, cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                           h, s.x.get(), s.y.get(), s.conv.get(), s.w.get(),
                           int(perf.size()), &count, perf.data()));
    MLG_RT_RETURN_IF_ERROR(rankAlgos(
        c, s, perf.data(), count,
        [&](cudnnConvolutionBwdFilterAlgo_t algo, size_t *bytes) {
          return cudnnGetConvolutionBackwardFilterWorkspaceSize(
              h, s.x.get(), s.y.get(), s.conv.get(), s.w.get(), algo, bytes);
        },
        ranking.algos));
    break;
  }
  }
  out = pickAlgo(ranking.algos, freeLimit, ctx.convScratchLimit);
  cache[s.key] = std::move(ranking);
  return Status();
}

/// Sets the chosen algorithm's math type and finds its workspace: the
/// step's when it is large enough, else the arena's spare bytes, else
/// backend scratch.
Status prepareAlgo(const cpu::KernelCall &c, Context &ctx, ConvPass pass,
                   ConvSetup &s, const ConvData &d, ConvAlgo &a,
                   void **workspace) {
  MLG_RT_RETURN_IF_ERROR(chooseAlgo(c, ctx, pass, s, d, a));
  MLG_CUDNN_TRY(c, cudnnSetConvolutionMathType(s.conv.get(), a.math));
  *workspace = nullptr;
  const char *from = "none";
  if (a.workspace == 0) {
  } else if (a.workspace <= c.workspaceBytes) {
    *workspace = c.workspace;
    from = "the step's workspace";
  } else if (a.workspace <= c.spareBytes) {
    *workspace = c.spare;
    from = "spare arena bytes";
  } else {
    MLG_RT_RETURN_IF_ERROR(scratchBuffer(c, ctx, a.workspace, workspace));
    from = "backend scratch";
  }
  // MLG_CUDA_LOG_CONV=1: each convolution step's choice, once.
  static const bool log = std::getenv("MLG_CUDA_LOG_CONV") != nullptr;
  static std::mutex logMutex;
  static std::set<std::pair<const void *, size_t>> logged;
  if (log) {
    std::lock_guard<std::mutex> lock(logMutex);
    if (logged.insert({c.step, c.stepIndex}).second)
      std::fprintf(stderr,
                   "%s: algorithm %d, math %d, workspace %zu bytes from %s "
                   "(step workspace %llu, spare %llu)\n",
                   c.step->describe(c.stepIndex).c_str(), a.algo, int(a.math),
                   a.workspace, from, (unsigned long long)c.workspaceBytes,
                   (unsigned long long)c.spareBytes);
  }
  return Status();
}

/// cuDNN's alpha = 1 and beta = 0, of the scaling type of the data.
struct Scaling {
  float f[2] = {1.0f, 0.0f};
  double d[2] = {1.0, 0.0};
  const void *alpha(bool isDouble) const {
    return isDouble ? static_cast<const void *>(&d[0]) : &f[0];
  }
  const void *beta(bool isDouble) const {
    return isDouble ? static_cast<const void *>(&d[1]) : &f[1];
  }
};

/// y[n, m, ...] += bias[m]; the filter found by fixed-divisor division
/// where y has fewer than 2^31 elements.
template <typename T, bool Narrow>
__global__ void convBiasKernel(T *y, const T *bias, int64_t filters,
                               int64_t plane, FastDiv planeDiv,
                               FastDiv filterDiv, int64_t total) {
  MLG_CUDA_GRID_LOOP(i, total) {
    int64_t m = Narrow ? filterDiv.mod(planeDiv.div(uint32_t(i)))
                       : (i / plane) % filters;
    y[i] = Elem<T>::store(Elem<T>::load(y[i]) + Elem<T>::load(bias[m]));
  }
}

/// x, w (, bias) -> y.
Status runConv(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0], &wt = c.in[1], &y = c.out[0];
  if (y.numel == 0)
    return Status();
  if (x.numel == 0 || wt.numel == 0) {
    // No input channels (or an empty input inside its padding): every sum
    // is empty. cuDNN takes no empty tensors.
    MLG_CUDA_TRY(c, cudaMemsetAsync(y.data, 0,
                                    size_t(y.numel) * dtypeBytes(y.dtype),
                                    ctx.stream));
  } else {
    ConvSetup s;
    MLG_RT_RETURN_IF_ERROR(
        setupConv(c, ctx, ConvPass::Forward, x, wt, y, s));
    ConvAlgo a;
    void *ws = nullptr;
    MLG_RT_RETURN_IF_ERROR(
        prepareAlgo(c, ctx, ConvPass::Forward, s,
                    {x.data, wt.data, y.data}, a, &ws));
    Scaling k;
    MLG_CUDNN_TRY(c, cudnnConvolutionForward(
                         ctx.cudnn, k.alpha(s.isDouble), s.x.get(), x.data,
                         s.w.get(), wt.data, s.conv.get(),
                         cudnnConvolutionFwdAlgo_t(a.algo), ws, a.workspace,
                         k.beta(s.isDouble), s.y.get(), y.data));
  }
  if (c.in.size() < 3)
    return Status();
  const cpu::Tensor &bias = c.in[2];
  int64_t filters = y.dim(1), plane = y.numel / (y.dim(0) * filters);
  const bool narrow = y.numel < int64_t(INT32_MAX);
  FastDiv planeDiv, filterDiv;
  if (narrow) {
    planeDiv = FastDiv(uint32_t(plane));
    filterDiv = FastDiv(uint32_t(filters));
  }
  return dispatchFloat(c, y.dtype, [&]<typename T>() -> Status {
    unsigned blocks = blocksFor(y.numel, kThreads, ctx);
    if (narrow)
      convBiasKernel<T, true><<<blocks, kThreads, 0, ctx.stream>>>(
          y.as<T>(), bias.as<T>(), filters, plane, planeDiv, filterDiv,
          y.numel);
    else
      convBiasKernel<T, false><<<blocks, kThreads, 0, ctx.stream>>>(
          y.as<T>(), bias.as<T>(), filters, plane, planeDiv, filterDiv,
          y.numel);
    return checkLaunch(c, "convBiasKernel");
  });
}

/// dy, w -> dx.
Status runConvBackwardData(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dy = c.in[0], &wt = c.in[1], &dx = c.out[0];
  if (dx.numel == 0)
    return Status();
  if (dy.numel == 0 || wt.numel == 0) {
    // Nothing flows back (cuDNN takes no empty tensors).
    MLG_CUDA_TRY(c, cudaMemsetAsync(dx.data, 0,
                                    size_t(dx.numel) * dtypeBytes(dx.dtype),
                                    ctx.stream));
    return Status();
  }
  ConvSetup s;
  MLG_RT_RETURN_IF_ERROR(
      setupConv(c, ctx, ConvPass::BackwardData, dx, wt, dy, s));
  ConvAlgo a;
  void *ws = nullptr;
  MLG_RT_RETURN_IF_ERROR(
      prepareAlgo(c, ctx, ConvPass::BackwardData, s,
                  {dx.data, wt.data, dy.data}, a, &ws));
  Scaling k;
  MLG_CUDNN_TRY(c, cudnnConvolutionBackwardData(
                       ctx.cudnn, k.alpha(s.isDouble), s.w.get(), wt.data,
                       s.y.get(), dy.data, s.conv.get(),
                       cudnnConvolutionBwdDataAlgo_t(a.algo), ws, a.workspace,
                       k.beta(s.isDouble), s.x.get(), dx.data));
  return Status();
}

/// dy, x -> dw.
Status runConvBackwardFilter(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dy = c.in[0], &x = c.in[1], &dw = c.out[0];
  if (dw.numel == 0)
    return Status();
  if (dy.numel == 0 || x.numel == 0) {
    // An empty sum over the batch and the output positions.
    MLG_CUDA_TRY(c, cudaMemsetAsync(dw.data, 0,
                                    size_t(dw.numel) * dtypeBytes(dw.dtype),
                                    ctx.stream));
    return Status();
  }
  ConvSetup s;
  MLG_RT_RETURN_IF_ERROR(
      setupConv(c, ctx, ConvPass::BackwardFilter, x, dw, dy, s));
  ConvAlgo a;
  void *ws = nullptr;
  MLG_RT_RETURN_IF_ERROR(
      prepareAlgo(c, ctx, ConvPass::BackwardFilter, s,
                  {x.data, dw.data, dy.data}, a, &ws));
  Scaling k;
  MLG_CUDNN_TRY(c, cudnnConvolutionBackwardFilter(
                       ctx.cudnn, k.alpha(s.isDouble), s.x.get(), x.data,
                       s.y.get(), dy.data, s.conv.get(),
                       cudnnConvolutionBwdFilterAlgo_t(a.algo), ws,
                       a.workspace, k.beta(s.isDouble), s.w.get(), dw.data));
  return Status();
}

} // namespace

void registerConvKernels(KernelRegistry &r) {
  r.add({"conv", runConv});
  r.add({"conv_backward_data", runConvBackwardData});
  r.add({"conv_backward_filter", runConvBackwardFilter});
}

} // namespace mlg_rt::cuda

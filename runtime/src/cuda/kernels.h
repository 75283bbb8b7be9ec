// kernels.h - the CUDA backend's kernels.
//
// Every CUDA kernel has the name of a CPU kernel, whose check has already
// accepted the step (shapes, types, attributes, workspace): `run` only
// enqueues work on the context's stream, reading and writing device memory
// through the call's tensors. A failing CUDA, cuBLAS or cuDNN call becomes
// an error naming the call and the step. Errors only the data can show (a
// label out of range) are raised on the device through `Context::fail` and
// reported by the next synchronization.

#ifndef MLG_RT_SRC_CUDA_KERNELS_H
#define MLG_RT_SRC_CUDA_KERNELS_H

#include "../cpu/kernel.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mlg_rt::cuda {

/// What a device-side failure was; 0 is none.
enum DeviceError : int32_t {
  kNoError = 0,
  kLabelOutOfRange = 1,
  kStepCounterNotPositive = 2,
  kIndexOutOfRange = 3,
};

struct Context {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
  /// Device words {error code, step index}: the first failure wins.
  int32_t *deviceError = nullptr;
  /// TF32 in convolutions and the LSTM's cells and input projections
  /// (PyTorch's default for cuDNN, which runs both there), never in other
  /// GEMMs unless asked.
  bool tf32Convolutions = true, tf32Gemm = false;
  /// Convolution algorithms timed on first use of a shape (else cuDNN's
  /// heuristics).
  bool measureConvolutions = true;
  /// Device memory beyond the program's that a convolution's algorithm may
  /// take as scratch, where that makes it much faster than what fits in its
  /// planned workspace or the arena's spare bytes at the step.
  uint64_t convScratchLimit = uint64_t(1) << 30;
  int multiprocessors = 0;
  /// The device word holding the run's index (what dropout draws with), so
  /// that a recorded run reads each run's own.
  uint64_t *runIndex = nullptr;
  /// scratchBuffer's memory.
  void *scratch = nullptr;
  uint64_t scratchBytes = 0;
};

struct KernelDef {
  const char *name;
  Status (*run)(cpu::KernelCall &, Context &);
};

class KernelRegistry {
public:
  void add(const KernelDef &def) { defs_.push_back(def); }
  const KernelDef *find(const std::string &name) const;
  std::vector<std::string> names() const;

private:
  std::vector<KernelDef> defs_;
};

/// Every CUDA kernel.
const KernelRegistry &kernels();

void registerElementwiseKernels(KernelRegistry &r);
void registerTrainingKernels(KernelRegistry &r);
void registerMatMulKernels(KernelRegistry &r);
void registerReductionKernels(KernelRegistry &r);
void registerPoolKernels(KernelRegistry &r);
void registerConvKernels(KernelRegistry &r);
void registerNormKernels(KernelRegistry &r);
void registerRecurrentKernels(KernelRegistry &r);
void registerTensorKernels(KernelRegistry &r);

/// The error of a CUDA runtime, cuBLAS or cuDNN call, naming it and the step.
Status cudaError(const cpu::KernelCall &c, const char *call, cudaError_t e);
Status cublasError(const cpu::KernelCall &c, const char *call,
                   cublasStatus_t e);
Status cudnnError(const cpu::KernelCall &c, const char *call,
                  cudnnStatus_t e);

#define MLG_CUDA_TRY(c, call)                                                  \
  do {                                                                         \
    cudaError_t mlg_e_ = (call);                                               \
    if (mlg_e_ != cudaSuccess)                                                 \
      return ::mlg_rt::cuda::cudaError(c, #call, mlg_e_);                      \
  } while (0)
#define MLG_CUBLAS_TRY(c, call)                                                \
  do {                                                                         \
    cublasStatus_t mlg_e_ = (call);                                            \
    if (mlg_e_ != CUBLAS_STATUS_SUCCESS)                                       \
      return ::mlg_rt::cuda::cublasError(c, #call, mlg_e_);                    \
  } while (0)
#define MLG_CUDNN_TRY(c, call)                                                 \
  do {                                                                         \
    cudnnStatus_t mlg_e_ = (call);                                             \
    if (mlg_e_ != CUDNN_STATUS_SUCCESS)                                        \
      return ::mlg_rt::cuda::cudnnError(c, #call, mlg_e_);                     \
  } while (0)

/// A device buffer of at least `bytes` private to the backend (kept and
/// grown across steps; valid until the next call), for kernels that need
/// scratch the plan does not provide.
Status scratchBuffer(const cpu::KernelCall &c, Context &ctx, uint64_t bytes,
                     void **out);

/// Row-major Y[m, n] = alpha * op(A) op(B) + beta * Y through cuBLAS, with
/// leading dimensions; f32 products use TF32 tensor cores where `tf32`.
Status gemm(const cpu::KernelCall &c, Context &ctx, bool transA, bool transB,
            int64_t m, int64_t n, int64_t k, double alpha, const float *a,
            int64_t lda, const float *b, int64_t ldb, double beta, float *y,
            int64_t ldy, bool tf32);
Status gemm(const cpu::KernelCall &c, Context &ctx, bool transA, bool transB,
            int64_t m, int64_t n, int64_t k, double alpha, const double *a,
            int64_t lda, const double *b, int64_t ldb, double beta, double *y,
            int64_t ldy, bool tf32);

/// Writes `src` broadcast (NumPy rules) to `dst`'s shape into `dst`.
Status broadcastInto(const cpu::KernelCall &c, Context &ctx,
                     const cpu::Tensor &src, const cpu::Tensor &dst);

/// Enqueues the write of `runIndex` into the context's run index word.
Status setRunIndex(Context &ctx, uint64_t runIndex);

/// Launches after a kernel: a launch error names the step.
Status checkLaunch(const cpu::KernelCall &c, const char *kernel);

/// Blocks of `threads` covering `n` items, capped for grid-stride loops.
inline unsigned blocksFor(int64_t n, int threads, const Context &ctx) {
  int64_t blocks = (n + threads - 1) / threads;
  int64_t cap = int64_t(ctx.multiprocessors > 0 ? ctx.multiprocessors : 132) *
                32;
  if (blocks > cap)
    blocks = cap;
  return unsigned(blocks < 1 ? 1 : blocks);
}

} // namespace mlg_rt::cuda

#endif // MLG_RT_SRC_CUDA_KERNELS_H

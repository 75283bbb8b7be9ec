// device.cc - the CUDA device: memory, copies, handles, and running steps
// (see ../device.h).

#include "../device.h"
#include "kernels.h"

#include <algorithm>
#include <cstdio>
#include <memory>

namespace mlg_rt::cuda {

const KernelDef *KernelRegistry::find(const std::string &name) const {
  for (const KernelDef &d : defs_)
    if (name == d.name)
      return &d;
  return nullptr;
}

std::vector<std::string> KernelRegistry::names() const {
  std::vector<std::string> out;
  for (const KernelDef &d : defs_)
    out.push_back(d.name);
  return out;
}

const KernelRegistry &kernels() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
    registerElementwiseKernels(r);
    registerTrainingKernels(r);
    registerMatMulKernels(r);
    registerReductionKernels(r);
    registerPoolKernels(r);
    registerConvKernels(r);
    registerNormKernels(r);
    registerRecurrentKernels(r);
    registerTensorKernels(r);
    return r;
  }();
  return registry;
}

Status cudaError(const cpu::KernelCall &c, const char *call, cudaError_t e) {
  return c.error(call, " failed: ", cudaGetErrorName(e), " (",
                 cudaGetErrorString(e), ")");
}

Status cublasError(const cpu::KernelCall &c, const char *call,
                   cublasStatus_t e) {
  return c.error(call, " failed: ", cublasGetStatusName(e), " (",
                 cublasGetStatusString(e), ")");
}

Status cudnnError(const cpu::KernelCall &c, const char *call,
                  cudnnStatus_t e) {
  return c.error(call, " failed: ", cudnnGetErrorString(e));
}

Status scratchBuffer(const cpu::KernelCall &c, Context &ctx, uint64_t bytes,
                     void **out) {
  if (bytes > ctx.scratchBytes) {
    // Steps already enqueued may still read the old buffer.
    MLG_CUDA_TRY(c, cudaStreamSynchronize(ctx.stream));
    if (ctx.scratch)
      MLG_CUDA_TRY(c, cudaFree(ctx.scratch));
    ctx.scratch = nullptr;
    ctx.scratchBytes = 0;
    uint64_t size = std::max<uint64_t>(bytes, 1 << 20);
    MLG_CUDA_TRY(c, cudaMalloc(&ctx.scratch, size));
    ctx.scratchBytes = size;
  }
  *out = ctx.scratch;
  return Status();
}

Status checkLaunch(const cpu::KernelCall &c, const char *kernel) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    return c.error("launching ", kernel, " failed: ", cudaGetErrorName(e),
                   " (", cudaGetErrorString(e), ")");
  return Status();
}

namespace {

Status runtimeError(const char *call, cudaError_t e) {
  return Status::errorf(call, " failed: ", cudaGetErrorName(e), " (",
                        cudaGetErrorString(e), ")");
}

#define MLG_CUDA_RETURN(call)                                                  \
  do {                                                                         \
    cudaError_t mlg_e_ = (call);                                               \
    if (mlg_e_ != cudaSuccess)                                                 \
      return runtimeError(#call, mlg_e_);                                      \
  } while (0)

std::string mib(uint64_t bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / (1 << 20));
  return buf;
}

/// A stream's context: its stream, its cuBLAS and cuDNN handles bound to
/// it, and its own scratch, so that steps on different streams never share
/// a handle or a buffer.
Status createStreamContext(Context &ctx) {
  MLG_CUDA_RETURN(cudaStreamCreateWithFlags(&ctx.stream, cudaStreamNonBlocking));
  if (cublasCreate(&ctx.cublas) != CUBLAS_STATUS_SUCCESS)
    return Status::error("cublasCreate failed");
  cublasSetStream(ctx.cublas, ctx.stream);
  cudnnStatus_t s = cudnnCreate(&ctx.cudnn);
  if (s != CUDNN_STATUS_SUCCESS)
    return Status::errorf("cudnnCreate failed: ", cudnnGetErrorString(s));
  cudnnSetStream(ctx.cudnn, ctx.stream);
  return Status();
}

void destroyStreamContext(Context &ctx) {
  if (ctx.scratch)
    cudaFree(ctx.scratch);
  if (ctx.cudnn)
    cudnnDestroy(ctx.cudnn);
  if (ctx.cublas)
    cublasDestroy(ctx.cublas);
  if (ctx.stream)
    cudaStreamDestroy(ctx.stream);
}

class CudaDevice final : public Device {
public:
  ~CudaDevice() override {
    if (graph_)
      cudaGraphExecDestroy(graph_);
    for (const std::vector<cudaEvent_t> *list :
         {&events_, &programEvents_, &joinEvents_, &runEvents_})
      for (cudaEvent_t e : *list)
        if (e)
          cudaEventDestroy(e);
    if (ctx_.runIndex)
      cudaFree(ctx_.runIndex);
    if (ctx_.deviceError)
      cudaFree(ctx_.deviceError);
    for (auto &c : streamCtx_)
      destroyStreamContext(*c);
    destroyStreamContext(ctx_);
  }

  Status init(const CudaOptions &options) {
    ctx_.tf32Convolutions = options.tf32Convolutions;
    ctx_.tf32Gemm = options.tf32Gemm;
    ctx_.measureConvolutions = options.measureConvolutions;
    options_ = options; // prepare() sets each program's scratch limit
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0)
      return Status::errorf("no CUDA device: ",
                            e != cudaSuccess ? cudaGetErrorString(e)
                                             : "no GPU is present");
    MLG_CUDA_RETURN(cudaSetDevice(0));
    cudaDeviceProp prop;
    MLG_CUDA_RETURN(cudaGetDeviceProperties(&prop, 0));
    name_ = prop.name;
    ctx_.multiprocessors = prop.multiProcessorCount;
    MLG_RT_RETURN_IF_ERROR(createStreamContext(ctx_));
    size_t total = 0;
    MLG_CUDA_RETURN(cudaMemGetInfo(&freeAtStart_, &total));
    MLG_CUDA_RETURN(cudaMalloc(&ctx_.runIndex, sizeof(uint64_t)));
    MLG_CUDA_RETURN(cudaMemset(ctx_.runIndex, 0, sizeof(uint64_t)));
    MLG_CUDA_RETURN(cudaMalloc(&ctx_.deviceError, 2 * sizeof(int32_t)));
    MLG_CUDA_RETURN(cudaMemset(ctx_.deviceError, 0, 2 * sizeof(int32_t)));
    for (cudaEvent_t &e : runEvents_)
      MLG_CUDA_RETURN(cudaEventCreate(&e));
    return Status();
  }

  std::string describe() const override {
    int cublasVersion = 0;
    cublasGetVersion(ctx_.cublas, &cublasVersion);
    return name_ + " (cuDNN " + std::to_string(cudnnGetVersion()) +
           ", cuBLAS " + std::to_string(cublasVersion) + ")";
  }

  Status allocate(uint64_t bytes, const std::string &what,
                  void **out) override {
    cudaError_t e = cudaMalloc(out, std::max<uint64_t>(bytes, 1));
    if (e == cudaSuccess)
      return Status();
    cudaGetLastError(); // clear it
    size_t free = 0, total = 0;
    cudaMemGetInfo(&free, &total);
    return Status::errorf("cannot allocate ", what, " on the GPU: it needs ",
                          mib(bytes), ", ", mib(free), " of ", mib(total),
                          " are free (", cudaGetErrorString(e), ")");
  }

  void release(void *data) override {
    if (data)
      cudaFree(data);
  }

  Status allocateHost(uint64_t bytes, void **out) override {
    cudaError_t e = cudaHostAlloc(out, std::max<uint64_t>(bytes, 1),
                                  cudaHostAllocDefault);
    if (e == cudaSuccess)
      return Status();
    cudaGetLastError(); // clear it
    return Status::errorf("cannot allocate the host pool: it needs ",
                          mib(bytes), " of pinned host memory (",
                          cudaGetErrorString(e), ")");
  }

  void releaseHost(void *data) override {
    if (data)
      cudaFreeHost(data);
  }

  Status copyToDevice(void *dst, const void *src, uint64_t bytes) override {
    if (bytes)
      MLG_CUDA_RETURN(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice,
                                      ctx_.stream));
    return Status();
  }

  Status copyToHost(void *dst, const void *src, uint64_t bytes) override {
    if (bytes) {
      MLG_CUDA_RETURN(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost,
                                      ctx_.stream));
      MLG_RT_RETURN_IF_ERROR(synchronize());
    }
    return Status();
  }

  Status fill(void *dst, uint8_t byte, uint64_t bytes) override {
    if (bytes)
      MLG_CUDA_RETURN(cudaMemsetAsync(dst, byte, bytes, ctx_.stream));
    return Status();
  }

  /// Convolutions take larger workspaces for faster algorithms.
  bool wantsSpareArena(const std::string &kernel) const override {
    return kernel == "conv" || kernel == "conv_backward_data" ||
           kernel == "conv_backward_filter";
  }

  Status prepare(const Program &program,
                 const std::vector<cpu::KernelCall> &calls) override {
    program_ = &program;
    // A program compiled for a memory budget keeps its scratch within it.
    ctx_.convScratchLimit =
        scratchWithinBudget(options_.convScratchBytes, program);
    for (auto &c : streamCtx_)
      c->convScratchLimit = ctx_.convScratchLimit;
    kernels_.clear();
    // Stream 0 is the context made with the device; the others get their
    // own, sharing its options and device words.
    while (streamCtx_.size() + 1 < program.numStreams) {
      auto c = std::make_unique<Context>();
      c->tf32Convolutions = ctx_.tf32Convolutions;
      c->tf32Gemm = ctx_.tf32Gemm;
      c->measureConvolutions = ctx_.measureConvolutions;
      c->convScratchLimit = ctx_.convScratchLimit;
      c->multiprocessors = ctx_.multiprocessors;
      c->runIndex = ctx_.runIndex;
      c->deviceError = ctx_.deviceError;
      Status made = createStreamContext(*c);
      streamCtx_.push_back(std::move(c));
      MLG_RT_RETURN_IF_ERROR(made);
    }
    auto makeEvents = [](std::vector<cudaEvent_t> &list, size_t n) -> Status {
      list.resize(std::max(list.size(), n), nullptr);
      for (cudaEvent_t &e : list)
        if (!e)
          MLG_CUDA_RETURN(
              cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
      return Status();
    };
    MLG_RT_RETURN_IF_ERROR(makeEvents(programEvents_, program.numEvents));
    // One to fork the streams from stream 0, one per other stream to join.
    MLG_RT_RETURN_IF_ERROR(makeEvents(joinEvents_, program.numStreams));
    for (size_t i = 0; i < calls.size(); ++i) {
      const KernelDef *k = cuda::kernels().find(program.steps[i].kernel);
      if (!k)
        return Status::errorf(program.steps[i].describe(i),
                              ": the CUDA backend has no such kernel");
      kernels_.push_back(k);
    }
    return Status();
  }

  Status runStep(size_t index, cpu::KernelCall &call, bool poison,
                 uint8_t *arena) override {
    const StepInfo &step = program_->steps[index];
    Context &c = context(step.stream);
    for (uint32_t e : step.waitEvents)
      MLG_CUDA_RETURN(cudaStreamWaitEvent(c.stream, programEvents_[e], 0));
    if (events_.empty()) {
      MLG_RT_RETURN_IF_ERROR(kernels_[index]->run(call, c));
    } else {
      MLG_CUDA_RETURN(cudaEventRecord(events_[2 * index], c.stream));
      MLG_RT_RETURN_IF_ERROR(kernels_[index]->run(call, c));
      MLG_CUDA_RETURN(cudaEventRecord(events_[2 * index + 1], c.stream));
      recorded_ = true;
    }
    // Before the event: a step that waits for it may write these bytes.
    if (poison) {
      for (auto [offset, bytes] : step.release)
        if (bytes)
          MLG_CUDA_RETURN(cudaMemsetAsync(arena + offset, 0xff, bytes, c.stream));
      if (step.hasWorkspace && step.workspaceBytes)
        MLG_CUDA_RETURN(cudaMemsetAsync(arena + step.workspaceOffset, 0xff,
                                        step.workspaceBytes, c.stream));
    }
    if (step.recordEvent >= 0)
      MLG_CUDA_RETURN(
          cudaEventRecord(programEvents_[size_t(step.recordEvent)], c.stream));
    return Status();
  }

  Status runSteps(uint64_t runIndex, bool replayable,
                  const std::function<Status()> &enqueueRun) override {
    MLG_RT_RETURN_IF_ERROR(setRunIndex(ctx_, runIndex));
    runTimed_ = false;
    MLG_CUDA_RETURN(cudaEventRecord(runEvents_[0], ctx_.stream));
    MLG_RT_RETURN_IF_ERROR(launchRun(replayable, enqueueRun));
    MLG_CUDA_RETURN(cudaEventRecord(runEvents_[1], ctx_.stream));
    runTimed_ = true;
    return Status();
  }

  Status lastRunMs(double *ms) override {
    if (!runTimed_)
      return Status::error("no run to time");
    // The session synchronized after the run; this only waits for the
    // event, without synchronize()'s read of the device's error words.
    MLG_CUDA_RETURN(cudaEventSynchronize(runEvents_[1]));
    float t = 0;
    MLG_CUDA_RETURN(cudaEventElapsedTime(&t, runEvents_[0], runEvents_[1]));
    *ms = double(t);
    return Status();
  }

  /// One run: plain launches, or the recorded graph (see runSteps).
  Status launchRun(bool replayable, const std::function<Status()> &enqueueRun) {
    // The other streams start after stream 0's work so far (the inputs'
    // copies, the run index) and stream 0 ends after theirs: a run is one
    // fork and join, which is also what lets a capture of stream 0 take in
    // every stream.
    auto enqueueSteps = [&]() -> Status {
      size_t streams = program_ ? program_->numStreams : 1;
      if (streams > 1) {
        MLG_CUDA_RETURN(cudaEventRecord(joinEvents_[0], ctx_.stream));
        for (size_t s = 1; s < streams; ++s)
          MLG_CUDA_RETURN(
              cudaStreamWaitEvent(context(s).stream, joinEvents_[0], 0));
      }
      MLG_RT_RETURN_IF_ERROR(enqueueRun());
      for (size_t s = 1; s < streams; ++s) {
        MLG_CUDA_RETURN(cudaEventRecord(joinEvents_[s], context(s).stream));
        MLG_CUDA_RETURN(cudaStreamWaitEvent(ctx_.stream, joinEvents_[s], 0));
      }
      return Status();
    };
    if (!replayable || graphFailed_)
      return enqueueSteps();
    if (graph_) {
      MLG_CUDA_RETURN(cudaGraphLaunch(graph_, ctx_.stream));
      return Status();
    }
    if (!settled_) {
      // The first run grows the scratch and chooses the convolution
      // algorithms (allocations and synchronizations a graph cannot hold).
      settled_ = true;
      return enqueueSteps();
    }
    // Record the second run; anything that cannot be recorded (a step that
    // still allocates) leaves the session on plain launches.
    MLG_CUDA_RETURN(
        cudaStreamBeginCapture(ctx_.stream, cudaStreamCaptureModeRelaxed));
    Status enqueued = enqueueSteps();
    cudaGraph_t graph = nullptr;
    cudaError_t e = cudaStreamEndCapture(ctx_.stream, &graph);
    if (enqueued.ok() && e == cudaSuccess)
      e = cudaGraphInstantiate(&graph_, graph, 0);
    if (graph)
      cudaGraphDestroy(graph);
    if (!enqueued.ok() || e != cudaSuccess) {
      cudaGetLastError(); // clear it
      graph_ = nullptr;
      graphFailed_ = true;
      return enqueueSteps();
    }
    MLG_CUDA_RETURN(cudaGraphLaunch(graph_, ctx_.stream));
    return Status();
  }

  Status memoryUse(uint64_t *scratch, uint64_t *measured) const override {
    size_t freeNow = 0, total = 0;
    MLG_CUDA_RETURN(cudaMemGetInfo(&freeNow, &total));
    *scratch = ctx_.scratchBytes;
    for (const auto &c : streamCtx_)
      *scratch += c->scratchBytes;
    *measured = freeAtStart_ > freeNow ? freeAtStart_ - freeNow : 0;
    return Status();
  }

  Status enableProfile(size_t steps) override {
    events_.resize(2 * steps, nullptr);
    for (cudaEvent_t &e : events_)
      if (!e)
        MLG_CUDA_RETURN(cudaEventCreate(&e));
    return Status();
  }

  Status addStepTimes(std::vector<double> &ms) override {
    if (!recorded_)
      return Status();
    MLG_RT_RETURN_IF_ERROR(synchronize());
    ms.resize(events_.size() / 2, 0.0);
    for (size_t i = 0; i < ms.size(); ++i) {
      float t = 0;
      MLG_CUDA_RETURN(cudaEventElapsedTime(&t, events_[2 * i], events_[2 * i + 1]));
      ms[i] += double(t);
    }
    recorded_ = false;
    return Status();
  }

  Status synchronize() override {
    for (const auto &c : streamCtx_)
      MLG_CUDA_RETURN(cudaStreamSynchronize(c->stream));
    MLG_CUDA_RETURN(cudaStreamSynchronize(ctx_.stream));
    int32_t error[2] = {0, 0};
    MLG_CUDA_RETURN(cudaMemcpy(error, ctx_.deviceError, sizeof error,
                               cudaMemcpyDeviceToHost));
    if (error[0] == kNoError)
      return Status();
    MLG_CUDA_RETURN(cudaMemset(ctx_.deviceError, 0, sizeof error));
    std::string where =
        program_ && error[1] >= 0 && size_t(error[1]) < program_->steps.size()
            ? program_->steps[size_t(error[1])].describe(size_t(error[1]))
            : "a step";
    switch (error[0]) {
    case kLabelOutOfRange:
      return Status::errorf(where, ": a label is not one of the classes");
    case kStepCounterNotPositive:
      return Status::errorf(where, ": the step counter is not positive; "
                                   "increment_step must run first");
    case kIndexOutOfRange:
      return Status::errorf(where, ": an index is out of range");
    default:
      return Status::errorf(where, ": failed on the device (code ", error[0],
                            ")");
    }
  }

private:
  Context &context(size_t stream) {
    return stream == 0 ? ctx_ : *streamCtx_[stream - 1];
  }

  /// Stream 0's context (also where copies in and out go), and those of
  /// the program's other streams.
  Context ctx_;
  CudaOptions options_;
  std::vector<std::unique_ptr<Context>> streamCtx_;
  /// The program's events, and the fork (0) and join (1...) events of a
  /// run on several streams.
  std::vector<cudaEvent_t> programEvents_, joinEvents_;
  /// Around the last run's steps on stream 0 (lastRunMs).
  std::vector<cudaEvent_t> runEvents_ = std::vector<cudaEvent_t>(2, nullptr);
  bool runTimed_ = false;
  std::string name_;
  const Program *program_ = nullptr;
  std::vector<const KernelDef *> kernels_;
  /// The recorded steps (after the first run), or whether recording failed.
  cudaGraphExec_t graph_ = nullptr;
  bool settled_ = false, graphFailed_ = false;
  /// Free device memory once the handles were made (memoryUse's zero).
  size_t freeAtStart_ = 0;
  /// With a profile: a start and an end event per step.
  std::vector<cudaEvent_t> events_;
  bool recorded_ = false;
};

} // namespace
} // namespace mlg_rt::cuda

namespace mlg_rt {

Status createCudaDevice(const CudaOptions &options,
                        std::unique_ptr<Device> *out) {
  auto device = std::make_unique<cuda::CudaDevice>();
  MLG_RT_RETURN_IF_ERROR(device->init(options));
  *out = std::move(device);
  return Status();
}

} // namespace mlg_rt

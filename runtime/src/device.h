// device.h - where a session's memory lives and its steps run, when that is
// not the host: the CUDA backend (cuda/) implements it.
//
// A session on a device keeps its arena, persistent tensors and constants in
// device memory (one allocation each, made once), stages inputs on the host
// and copies them in before a run, and copies outputs and weights out on
// request. Steps are checked by the CPU kernels' checks (the same shape and
// type rules) and run by the device's kernel of the same name; a step the
// device has no kernel for is an error when the session is made, never a
// silent host fallback.

#ifndef MLG_RT_SRC_DEVICE_H
#define MLG_RT_SRC_DEVICE_H

#include "cpu/kernel.h"
#include "program.h"
#include "status.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mlg_rt {

class Device {
public:
  virtual ~Device() = default;

  /// "NVIDIA H100 80GB HBM3 (cuDNN 91900, cuBLAS 130000)", for reports.
  virtual std::string describe() const = 0;
  /// Device memory: `bytes` (at least 1) aligned to 256 bytes. Running out
  /// says how much was asked for and how much was free.
  virtual Status allocate(uint64_t bytes, const std::string &what,
                          void **out) = 0;
  virtual void release(void *data) = 0;
  /// Host memory the device copies to and from asynchronously (pinned), for
  /// the program's host pool.
  virtual Status allocateHost(uint64_t bytes, void **out) = 0;
  virtual void releaseHost(void *data) = 0;
  virtual Status copyToDevice(void *dst, const void *src, uint64_t bytes) = 0;
  virtual Status copyToHost(void *dst, const void *src, uint64_t bytes) = 0;
  virtual Status fill(void *dst, uint8_t byte, uint64_t bytes) = 0;
  /// Finds the device kernel of every checked step (`calls` as the CPU
  /// checks left them).
  virtual Status prepare(const Program &program,
                         const std::vector<cpu::KernelCall> &calls) = 0;
  /// Whether steps of `kernel` can use the arena's spare bytes
  /// (KernelCall::spare) as scratch.
  virtual bool wantsSpareArena(const std::string &kernel) const {
    return false;
  }
  /// Enqueues step `index` on its stream, after the events it waits for;
  /// records its event after it. Its tensors point into device memory (or
  /// the host pool, for offload and prefetch steps). With `poison`, the
  /// arena ranges the step releases and its workspace (at `arena`) are
  /// filled with 0xFF bytes on its stream before its event is recorded.
  virtual Status runStep(size_t index, cpu::KernelCall &call, bool poison,
                         uint8_t *arena) = 0;
  /// Enqueues run `runIndex` of every step: `enqueueSteps` calls runStep for
  /// each, with the same tensors every run. Where `replayable`, a device may
  /// record the steps' work once (after a first run that settles its caches)
  /// and replay the record instead of calling `enqueueSteps` again; what
  /// differs between runs (the run index random ops draw with) is read on
  /// the device. Every stream starts after what was enqueued before (input
  /// copies) and the run ends when every stream is done.
  virtual Status runSteps(uint64_t runIndex, bool replayable,
                          const std::function<Status()> &enqueueSteps) = 0;
  /// The device time of the last runSteps, from before its first step to
  /// after its last (events on the device), once it is done.
  virtual Status lastRunMs(double *ms) = 0;
  /// Waits for every enqueued step; reports the first failure.
  virtual Status synchronize() = 0;
  /// The device's own buffers beyond the program's (`scratch`), and the
  /// device memory taken since it was set up as the driver counts it.
  virtual Status memoryUse(uint64_t *scratch, uint64_t *measured) const = 0;
  /// Times every step from now on (events around each on the device);
  /// `addStepTimes` adds each step's milliseconds since the last call to
  /// `ms` (one entry a step) after a synchronization.
  virtual Status enableProfile(size_t steps) = 0;
  virtual Status addStepTimes(std::vector<double> &ms) = 0;
};

/// How the CUDA device computes f32 products and chooses convolution
/// algorithms.
struct CudaOptions {
  /// TF32 tensor cores in convolutions and the LSTM (its cells and input
  /// projections: PyTorch's default for cuDNN, which runs both there).
  bool tf32Convolutions = true;
  /// TF32 in cuBLAS matrix products (off, as PyTorch's default).
  bool tf32Gemm = false;
  /// Each convolution shape's algorithm timed on first use (as PyTorch's
  /// cudnn.benchmark) rather than taken from cuDNN's heuristics.
  bool measureConvolutions = true;
  /// Device memory beyond the program's that a convolution's algorithm may
  /// take as scratch, where that makes it much faster than what fits in the
  /// step's own workspace and the arena's bytes free at the step.
  uint64_t convScratchBytes = uint64_t(1) << 30;
  /// From the second run on, every run replays one CUDA graph of the steps
  /// (not while profiling or poisoning).
  bool graphs = true;
};

/// The backend scratch a device may take beside `program`: `requested`,
/// but for a program with a memory budget no more than the budget leaves
/// beside the program's own device bytes (arena, persistent tensors and
/// constants), so that the step stays within the budget the user named.
inline uint64_t scratchWithinBudget(uint64_t requested, const Program &program) {
  if (!program.memoryBudget)
    return requested;
  uint64_t own = program.arenaBytes + program.persistentBytes() +
                 program.constantBytes();
  uint64_t left = program.memoryBudget > own ? program.memoryBudget - own : 0;
  return requested < left ? requested : left;
}

/// The CUDA device 0, or an error saying why there is none (a build without
/// CUDA, no driver, no GPU).
Status createCudaDevice(const CudaOptions &options,
                        std::unique_ptr<Device> *out);

} // namespace mlg_rt

#endif // MLG_RT_SRC_DEVICE_H

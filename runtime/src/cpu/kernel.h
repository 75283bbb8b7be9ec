// kernel.h - the CPU backend's kernels.
//
// A kernel is a check and a run. `check` sees the step's operand and result
// types and shapes, attributes and workspace, with no data, and must reject
// everything `run` could not handle safely: the program comes from a file,
// and a kernel that trusts a hostile shape reads out of bounds. `run` then
// computes out of the arena (and the persistent buffers), trusting what
// `check` accepted. Kernels are registered by name (the mlg op name without
// "mlg.") in category files.

#ifndef MLG_RT_SRC_CPU_KERNEL_H
#define MLG_RT_SRC_CPU_KERNEL_H

#include "../program.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlg_rt::cpu {

struct Tensor {
  DType dtype = DType::Invalid;
  const std::vector<int64_t> *shape = nullptr;
  int64_t numel = 0;
  void *data = nullptr; // null while checking

  int64_t rank() const { return int64_t(shape->size()); }
  int64_t dim(int64_t i) const { return (*shape)[i]; }
  template <typename T> T *as() const { return static_cast<T *>(data); }
};

struct CpuOptions {
  /// Use the naive loops instead of BLAS for GEMM-shaped work (for tests).
  bool naiveGemm = false;
};

struct KernelCall {
  const StepInfo *step = nullptr;
  size_t stepIndex = 0;
  std::vector<Tensor> in, out;
  uint8_t *workspace = nullptr;
  uint64_t workspaceBytes = 0;
  /// On a device that asks for it: arena bytes that hold nothing live
  /// across this step (arena_spare.h), which the kernel may use as scratch
  /// (they may overlap `workspace`).
  uint8_t *spare = nullptr;
  uint64_t spareBytes = 0;
  const CpuOptions *options = nullptr;
  /// How many times the program has run before (dropout's step counter).
  uint64_t runIndex = 0;

  const Attributes &attrs() const { return step->attrs; }
  /// An error naming the step.
  template <typename... Args> Status error(const Args &...args) const {
    return Status::errorf(step->describe(stepIndex), ": ", args...);
  }
  /// Checks the operand and result counts.
  Status expectArity(size_t minIn, size_t maxIn, size_t numOut) const;
};

struct KernelDef {
  const char *name;
  Status (*check)(const KernelCall &);
  Status (*run)(KernelCall &);
};

class KernelRegistry {
public:
  void add(const KernelDef &def);
  const KernelDef *find(const std::string &name) const;
  std::vector<std::string> names() const;

private:
  std::vector<KernelDef> defs_;
};

/// Every CPU kernel.
const KernelRegistry &kernels();

void registerElementwiseKernels(KernelRegistry &r);
void registerTensorKernels(KernelRegistry &r);
void registerNNKernels(KernelRegistry &r);
void registerMatMulKernels(KernelRegistry &r);
void registerReductionKernels(KernelRegistry &r);
void registerRecurrentKernels(KernelRegistry &r);
void registerNNGradKernels(KernelRegistry &r);
void registerTensorGradKernels(KernelRegistry &r);
void registerTrainingKernels(KernelRegistry &r);

} // namespace mlg_rt::cpu

#endif // MLG_RT_SRC_CPU_KERNEL_H

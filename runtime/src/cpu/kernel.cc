// kernel.cc - the CPU kernel registry.

#include "kernel.h"

#include <algorithm>

namespace mlg_rt::cpu {

Status KernelCall::expectArity(size_t minIn, size_t maxIn,
                               size_t numOut) const {
  if (in.size() < minIn || in.size() > maxIn)
    return error("takes ", minIn == maxIn ? "" : "between ", minIn,
                 minIn == maxIn ? "" : " and " + std::to_string(maxIn),
                 " inputs, got ", in.size());
  if (out.size() != numOut)
    return error("has ", numOut, " outputs, got ", out.size());
  return Status();
}

void KernelRegistry::add(const KernelDef &def) { defs_.push_back(def); }

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
  std::sort(out.begin(), out.end());
  return out;
}

const KernelRegistry &kernels() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
    registerElementwiseKernels(r);
    registerTensorKernels(r);
    registerNNKernels(r);
    registerMatMulKernels(r);
    registerReductionKernels(r);
    registerRecurrentKernels(r);
    registerNNGradKernels(r);
    registerTensorGradKernels(r);
    registerTrainingKernels(r);
    return r;
  }();
  return registry;
}

} // namespace mlg_rt::cpu

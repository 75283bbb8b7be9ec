// reduction.cc - reductions and arg-reductions kernels.

#include "common.h"

namespace mlg_rt::cpu {

void registerReductionKernels(KernelRegistry &r) { (void)r; }

} // namespace mlg_rt::cpu

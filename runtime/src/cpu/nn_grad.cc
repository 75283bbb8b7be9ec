// nn_grad.cc - backward kernels (see dialects/MLG/MLGNNGradOps.td).

#include "common.h"

namespace mlg_rt::cpu {

void registerNNGradKernels(KernelRegistry &r) { (void)r; }

} // namespace mlg_rt::cpu

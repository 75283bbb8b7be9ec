// tensor_grad.cc - backward kernels (see dialects/MLG/MLGTensorGradOps.td).

#include "common.h"

namespace mlg_rt::cpu {

void registerTensorGradKernels(KernelRegistry &r) { (void)r; }

} // namespace mlg_rt::cpu

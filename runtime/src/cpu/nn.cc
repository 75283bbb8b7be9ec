// nn.cc - conv, pooling, batch and layer normalization, dropout, softmax
// kernels.

#include "common.h"

namespace mlg_rt::cpu {

void registerNNKernels(KernelRegistry &r) { (void)r; }

} // namespace mlg_rt::cpu

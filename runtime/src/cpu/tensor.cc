// tensor.cc - shape, transpose, concat, split, slice, gather, pad, expand, tile
// kernels.

#include "common.h"

namespace mlg_rt::cpu {

void registerTensorKernels(KernelRegistry &r) { (void)r; }

} // namespace mlg_rt::cpu

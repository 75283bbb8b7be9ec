// norm.cu - CUDA kernels of this category (not written yet).

#include "kernels.h"

namespace mlg_rt::cuda {

void registerNormKernels(KernelRegistry &) {}

} // namespace mlg_rt::cuda

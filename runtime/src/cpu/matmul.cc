// matmul.cc - gemm and matmul kernels.

#include "common.h"

namespace mlg_rt::cpu {

void registerMatMulKernels(KernelRegistry &r) { (void)r; }

} // namespace mlg_rt::cpu

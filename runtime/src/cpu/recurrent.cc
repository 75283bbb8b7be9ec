// recurrent.cc - the LSTM kernels.

#include "common.h"

namespace mlg_rt::cpu {

void registerRecurrentKernels(KernelRegistry &r) { (void)r; }

} // namespace mlg_rt::cpu

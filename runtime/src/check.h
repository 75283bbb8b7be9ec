// check.h - checking a program against a backend without running it.

#ifndef MLG_RT_SRC_CHECK_H
#define MLG_RT_SRC_CHECK_H

#include "cpu/kernel.h"
#include "program.h"

namespace mlg_rt {

/// Checks every step of `program` against its CPU kernel (types, shapes,
/// attributes, workspace) without allocating the program's memory.
Status checkForCpu(const Program &program, const cpu::CpuOptions &options,
                   std::vector<cpu::KernelCall> *calls = nullptr,
                   std::vector<const cpu::KernelDef *> *kernels = nullptr);

} // namespace mlg_rt

#endif // MLG_RT_SRC_CHECK_H

// mlg-run.h - what mlg-run's commands share: option parsing, errors, memory
// figures.

#ifndef MLG_TOOLS_MLG_RUN_MLG_RUN_H
#define MLG_TOOLS_MLG_RUN_MLG_RUN_H

#include "mlg_rt/mlg_rt.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlg_run {

/// Prints the status's message as mlg-run's error, frees it, returns 1.
int fail(mlg_rt_status_t status);
/// Prints `message` as an error, returns 1.
int fail(const std::string &message);
/// Prints `message` as an error about the command line, returns 1.
int usageError(const std::string &message);

/// A non-negative decimal integer.
bool parseUnsigned(const std::string &text, uint64_t *out);

/// "cpu" or "cuda" as a backend; false for anything else.
bool parseBackend(const std::string &text, mlg_rt_backend_t *out);

/// How the CUDA backend computes: --tf32=, --conv-algo=,
/// --conv-scratch-mib=, --cuda-graph=.
struct CudaFlags {
  bool tf32Convolutions = true, tf32Gemm = false, measureConvolutions = true,
       graphs = true;
  uint64_t convScratchBytes = uint64_t(1) << 30;

  void applyTo(mlg_rt_session_options_t *options) const {
    options->cuda_graphs = graphs;
    options->tf32_convolutions = tf32Convolutions;
    options->tf32_gemm = tf32Gemm;
    options->measure_convolutions = measureConvolutions;
    options->conv_scratch_bytes = convScratchBytes;
  }
};

/// 1 if `arg` is a CUDA flag (parsed into `flags`), 0 if it is another
/// option, -1 if its value is wrong (after printing the error).
int parseCudaFlag(const std::string &arg, CudaFlags *flags);

/// The process's peak resident memory in bytes.
uint64_t peakResidentBytes();

/// "arena 1.2 MiB (largest workspace ...), persistent ..., constants ...;
/// total ..." for `mlg-run run` and `info`.
void printMemory(const mlg_rt_memory_stats_t &m);

/// `mlg-run train` and `mlg-run eval`; `args` starts with the program path.
int trainCommand(const std::vector<std::string> &args);
int evalCommand(const std::vector<std::string> &args);

} // namespace mlg_run

#endif // MLG_TOOLS_MLG_RUN_MLG_RUN_H

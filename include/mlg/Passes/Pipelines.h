//===- Pipelines.h - mlg pass pipelines -------------------------*- C++ -*-===//
//
// Pipelines as functions an embedding compiler can call, each also
// registered under a flag for mlg-opt (STYLE.md: IREE's buildXPipeline).
//
//===----------------------------------------------------------------------===//

#ifndef MLG_PASSES_PIPELINES_H
#define MLG_PASSES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlg {

struct LowerPipelineOptions
    : public mlir::PassPipelineOptions<LowerPipelineOptions> {
  Option<int64_t> alignment{
      *this, "alignment",
      llvm::cl::desc("Alignment of arena buffers, in bytes"),
      llvm::cl::init(256)};
  Option<int64_t> searchIterations{
      *this, "search-iterations",
      llvm::cl::desc("Local-search steps of the memory planner"),
      llvm::cl::init(2000)};
  Option<std::string> memoryReport{
      *this, "memory-report",
      llvm::cl::desc(
          "Also write the memory report here (JSON; the SVG beside it)"),
      llvm::cl::init("")};
};

/// Plans memory and lowers to runtime programs: mlg-plan-memory on every
/// function, the memory report if asked for, convert-mlg-to-runtime.
void buildLowerPipeline(mlir::OpPassManager &pm,
                        const LowerPipelineOptions &options);

/// Registers every mlg pipeline (mlg-lower-pipeline).
void registerMLGPipelines();

} // namespace mlg

#endif // MLG_PASSES_PIPELINES_H

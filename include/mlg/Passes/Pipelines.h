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

struct TrainPipelineOptions
    : public mlir::PassPipelineOptions<TrainPipelineOptions> {
  Option<std::string> loss{*this, "loss",
                           llvm::cl::desc("softmax-cross-entropy, mse or none"),
                           llvm::cl::init("softmax-cross-entropy")};
  Option<std::string> optimizer{*this, "optimizer",
                                llvm::cl::desc("sgd, momentum, adam or none"),
                                llvm::cl::init("sgd")};
  Option<double> lr{*this, "lr", llvm::cl::desc("Learning rate"),
                    llvm::cl::init(0.01)};
  Option<double> momentum{*this, "momentum",
                          llvm::cl::desc("Momentum (optimizer=momentum)"),
                          llvm::cl::init(0.9)};
  Option<bool> nesterov{*this, "nesterov", llvm::cl::desc("Nesterov momentum"),
                        llvm::cl::init(false)};
  Option<double> weightDecay{*this, "weight-decay",
                             llvm::cl::desc("L2 weight decay"),
                             llvm::cl::init(0.0)};
  Option<double> beta1{*this, "beta1", llvm::cl::desc("Adam's beta1"),
                       llvm::cl::init(0.9)};
  Option<double> beta2{*this, "beta2", llvm::cl::desc("Adam's beta2"),
                       llvm::cl::init(0.999)};
  Option<double> epsilon{*this, "epsilon", llvm::cl::desc("Adam's epsilon"),
                         llvm::cl::init(1e-8)};
  ListOption<std::string> frozen{
      *this, "frozen",
      llvm::cl::desc("Parameters not to train: names, or prefixes ending in "
                     "'*'")};
  Option<int64_t> lossChunks{
      *this, "loss-chunks",
      llvm::cl::desc("Softmax cross-entropy over the output product's rows "
                     "in this many blocks, -1 for 8 where the logits take "
                     "64 MiB or more; by default 1, or -1 when recomputing "
                     "(mlg-build-training-step)"),
      llvm::cl::init(-2)};
  Option<int64_t> projectionSteps{
      *this, "projection-steps",
      llvm::cl::desc("LSTM input projections over this many time steps "
                     "each: 0 for the whole sequence, -1 for about its "
                     "square root; by default the whole sequence, or its "
                     "square root under a recompute budget "
                     "(mlg-build-training-step)"),
      llvm::cl::init(-2)};
  Option<std::string> recompute{
      *this, "recompute",
      llvm::cl::desc("Recompute in the backward: none, echo (Echo's "
                     "policy), or a peak budget such as 4GiB or 50% "
                     "(mlg-recompute)"),
      llvm::cl::init("none")};
  Option<std::string> profile{
      *this, "profile",
      llvm::cl::desc("Step times from mlg-run --profile for the recompute "
                     "cost model")};
  Option<std::string> scratchReserve{
      *this, "scratch-reserve",
      llvm::cl::desc("Bytes of a recompute budget left to the backend's "
                     "scratch, e.g. 128MiB (mlg-recompute)")};
  Option<double> milpSeconds{
      *this, "milp-seconds",
      llvm::cl::desc("Seconds a recompute budget's mixed-integer program "
                     "may take; 0 skips it (mlg-recompute)"),
      llvm::cl::init(5)};
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

/// The main job: builds the training step from @forward
/// (mlg-build-training-step), removes what it does not need
/// (mlg-dead-node-elim), folds gradient sums, recomputes where asked
/// (mlg-recompute), plans memory and lowers to a runtime program.
void buildTrainPipeline(mlir::OpPassManager &pm,
                        const TrainPipelineOptions &options);

/// Registers every mlg pipeline (mlg-lower-pipeline, mlg-train-pipeline).
void registerMLGPipelines();

} // namespace mlg

#endif // MLG_PASSES_PIPELINES_H

//===- Pipelines.cpp - mlg pass pipelines ---------------------------------===//

#include "mlg/Passes/Pipelines.h"

#include "mlg/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

void mlg::buildLowerPipeline(OpPassManager &pm,
                             const LowerPipelineOptions &options) {
  // An LSTM runs as one cell op per step and direction (kernels both
  // backends have; the whole-sequence lstm kernel is the CPU backend's
  // only), its input projected in blocks of about sqrt(T) steps so that no
  // [T, N, 4H] projection is held. The training step has unrolled its own.
  UnrollLstmOptions unroll;
  unroll.projectionSteps = -1;
  pm.addNestedPass<func::FuncOp>(createUnrollLstm(unroll));
  PlanMemoryOptions plan;
  plan.alignment = options.alignment;
  plan.searchIterations = options.searchIterations;
  pm.addNestedPass<func::FuncOp>(createPlanMemory(plan));
  if (!options.memoryReport.empty()) {
    WriteMemoryReportOptions report;
    report.output = options.memoryReport;
    pm.addPass(createWriteMemoryReport(report));
  }
  pm.addPass(createConvertMLGToRuntime());
}

void mlg::buildTrainPipeline(OpPassManager &pm,
                             const TrainPipelineOptions &options) {
  BuildTrainingStepOptions step;
  step.loss = options.loss;
  step.optimizer = options.optimizer;
  step.lr = options.lr;
  step.momentum = options.momentum;
  step.nesterov = options.nesterov;
  step.weightDecay = options.weightDecay;
  step.beta1 = options.beta1;
  step.beta2 = options.beta2;
  step.epsilon = options.epsilon;
  step.frozen.assign(options.frozen.begin(), options.frozen.end());
  // -2, these options' default, is "not given" (below it is an error the
  // builder reports). Recomputing, the pipeline takes large logits in
  // blocks (free, each block differentiated at once); under a budget it
  // projects an LSTM's input in blocks it can recompute one at a time
  // (otherwise one product over the sequence is the fastest).
  bool budget = options.recompute != "none" && options.recompute != "echo";
  step.lossChunks = options.lossChunks != -2           ? options.lossChunks
                    : options.recompute != "none" ? -1
                                                  : 1;
  step.projectionSteps = options.projectionSteps != -2 ? options.projectionSteps
                         : budget                      ? -1
                                                       : 0;
  pm.addPass(createBuildTrainingStep(step));
  pm.addNestedPass<func::FuncOp>(createDeadNodeElim());
  pm.addNestedPass<func::FuncOp>(createFoldGradientSums());
  if (options.recompute != "none") {
    RecomputeOptions recompute;
    if (options.recompute != "echo")
      recompute.budget = options.recompute;
    recompute.profile = options.profile;
    recompute.milpSeconds = options.milpSeconds;
    recompute.scratchReserve = options.scratchReserve;
    pm.addNestedPass<func::FuncOp>(createRecompute(recompute));
  }
  LowerPipelineOptions lower;
  lower.alignment = options.alignment;
  lower.searchIterations = options.searchIterations;
  lower.memoryReport = options.memoryReport;
  buildLowerPipeline(pm, lower);
}

void mlg::registerMLGPipelines() {
  PassPipelineRegistration<TrainPipelineOptions>(
      "mlg-train-pipeline",
      "Build the training step, remove dead nodes, fold gradient sums, "
      "recompute if asked, plan memory and lower to a runtime program "
      "(mlg-build-training-step, mlg-dead-node-elim, mlg-fold-gradient-sums, "
      "mlg-recompute, mlg-lower-pipeline)",
      buildTrainPipeline);
  PassPipelineRegistration<LowerPipelineOptions>(
      "mlg-lower-pipeline",
      "Unroll LSTMs into cells, plan memory and lower every function to a "
      "runtime program (mlg-unroll-lstm, mlg-plan-memory, "
      "convert-mlg-to-runtime)",
      buildLowerPipeline);
}

//===- Pipelines.cpp - mlg pass pipelines ---------------------------------===//

#include "mlg/Passes/Pipelines.h"

#include "mlg/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

void mlg::buildLowerPipeline(OpPassManager &pm,
                             const LowerPipelineOptions &options) {
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

void mlg::registerMLGPipelines() {
  PassPipelineRegistration<LowerPipelineOptions>(
      "mlg-lower-pipeline",
      "Plan memory and lower every function to a runtime program "
      "(mlg-plan-memory, convert-mlg-to-runtime)",
      buildLowerPipeline);
}

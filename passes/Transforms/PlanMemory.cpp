//===- PlanMemory.cpp - static memory plan over one arena -----------------===//
//
// Implements -mlg-plan-memory: packs the buffers of the edge use-ref
// analysis (MemoryPacker) and writes the offsets as attributes, then checks
// what it wrote (MemoryPlan). Before and after:
//
//   %0 = mlg.conv %arg0, %w {...}
//   %1 = mlg.relu %0
// becomes
//   %0 = mlg.conv %arg0, %w {..., mlg.offsets = array<i64: 24576>,
//                            mlg.workspace = array<i64: 155648, 110592>}
//   %1 = mlg.relu %0 {mlg.offsets = array<i64: 24576>}    (in place)
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Passes.h"
#include "mlg/Passes/Transforms/MemoryPacker.h"
#include "mlg/Passes/Transforms/MemoryPlan.h"

#include "mlg/Support/Format.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FormatVariadic.h"
#include "mlir/IR/Builders.h"

#define DEBUG_TYPE "mlg-plan-memory"

namespace mlg {
#define GEN_PASS_DEF_PLANMEMORY
#include "mlg/Passes/Passes.h.inc"
} // namespace mlg

using namespace mlir;
using namespace mlg;

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {
struct PlanMemoryPass : mlg::impl::PlanMemoryBase<PlanMemoryPass> {
  using PlanMemoryBase::PlanMemoryBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
      func.emitError("alignment must be a power of two, got ")
          << static_cast<int64_t>(alignment);
      return signalPassFailure();
    }
    const EdgeUseRef &analysis = getAnalysis<EdgeUseRef>();
    SmallVector<LiveInterval> intervals = analysis.getIntervals();
    PackResult plan = packBuffers(intervals, alignment, searchIterations);

    Builder b(func.getContext());
    // Offsets per result (-1 outside the arena), per argument, workspaces.
    for (Operation *op : analysis.getSteps()) {
      if (op->getNumResults() == 0)
        continue;
      SmallVector<int64_t> offsets;
      bool any = false;
      for (Value result : op->getResults()) {
        auto v = analysis.lookup(result);
        int buffer = v ? analysis.getValues()[*v].buffer : -1;
        offsets.push_back(buffer >= 0 ? plan.offsets[buffer] : -1);
        any |= buffer >= 0;
      }
      if (any)
        op->setAttr(kOffsetsAttr, b.getDenseI64ArrayAttr(offsets));
      if (auto ws = analysis.lookupWorkspace(op))
        op->setAttr(kWorkspaceAttr,
                    b.getDenseI64ArrayAttr(
                        {plan.offsets[*ws],
                         analysis.getBuffers()[*ws].interval.bytes}));
    }
    for (BlockArgument arg : func.getArguments()) {
      auto v = analysis.lookup(arg);
      if (v && analysis.getValues()[*v].buffer >= 0)
        func.setArgAttr(
            arg.getArgNumber(), kOffsetAttr,
            b.getI64IntegerAttr(plan.offsets[analysis.getValues()[*v].buffer]));
    }
    func->setAttr(kArenaSizeAttr, b.getI64IntegerAttr(plan.size));
    func->setAttr(kLoadAttr, b.getI64IntegerAttr(analysis.getLoad()));

    if (failed(verifyMemoryPlan(func, analysis)))
      return signalPassFailure();
    // A recompute budget bounds LOAD; say so where the arena passes it.
    if (std::optional<int64_t> budget = getMemoryBudget(func)) {
      int64_t peak = plan.size + analysis.getParameterBytes() +
                     analysis.getConstantBytes();
      if (peak > *budget)
        emitWarning(func.getLoc())
            << "the planned peak " << formatBytes(peak)
            << " passes the recompute budget " << formatBytes(*budget)
            << " by " << formatBytes(peak - *budget)
            << ": its LOAD fits, but the arena is "
            << llvm::formatv("{0:f1}%",
                             100.0 * double(plan.size - analysis.getLoad()) /
                                 double(std::max<int64_t>(
                                     analysis.getLoad(), 1)))
                   .str()
            << " above LOAD";
    }
    arenaBytes += plan.size;
    loadBytes += analysis.getLoad();
    numBuffers += intervals.size();
    // Only attributes changed: the analysis still describes the function.
    markAllAnalysesPreserved();
  }
};
} // namespace

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

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#define DEBUG_TYPE "mlg-plan-memory"

namespace mlg {
#define GEN_PASS_DEF_PLANMEMORY
#include "mlg/Passes/Passes.h.inc"
} // namespace mlg

using namespace mlir;
using namespace mlg;

//===----------------------------------------------------------------------===//
// Reading and checking a plan
//===----------------------------------------------------------------------===//

std::optional<int64_t> mlg::getPlannedOffset(Value value) {
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    auto func = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
    if (!func)
      return std::nullopt;
    auto attr =
        func.getArgAttrOfType<IntegerAttr>(arg.getArgNumber(), kOffsetAttr);
    if (!attr)
      return std::nullopt;
    return attr.getInt();
  }
  auto result = cast<OpResult>(value);
  auto attr = result.getOwner()->getAttrOfType<DenseI64ArrayAttr>(kOffsetsAttr);
  if (!attr ||
      attr.size() != static_cast<int64_t>(result.getOwner()->getNumResults()))
    return std::nullopt;
  int64_t offset = attr[result.getResultNumber()];
  if (offset < 0)
    return std::nullopt;
  return offset;
}

std::optional<std::pair<int64_t, int64_t>>
mlg::getPlannedWorkspace(Operation *op) {
  auto attr = op->getAttrOfType<DenseI64ArrayAttr>(kWorkspaceAttr);
  if (!attr || attr.size() != 2)
    return std::nullopt;
  return std::make_pair(attr[0], attr[1]);
}

std::optional<int64_t> mlg::getPlannedArenaSize(FunctionOpInterface function) {
  auto attr = function->getAttrOfType<IntegerAttr>(kArenaSizeAttr);
  if (!attr)
    return std::nullopt;
  return attr.getInt();
}

LogicalResult mlg::verifyMemoryPlan(FunctionOpInterface function,
                                    const EdgeUseRef &analysis) {
  std::optional<int64_t> arena = getPlannedArenaSize(function);
  if (!arena)
    return function->emitError(
        "has no memory plan; run -mlg-plan-memory first");
  ArrayRef<EdgeUseRef::Buffer> buffers = analysis.getBuffers();
  SmallVector<LiveInterval> intervals;
  SmallVector<int64_t> offsets;
  for (auto [index, buffer] : llvm::enumerate(buffers)) {
    std::optional<int64_t> offset;
    if (buffer.workspaceOf) {
      auto ws = getPlannedWorkspace(buffer.workspaceOf);
      if (!ws || ws->second != buffer.interval.bytes)
        return buffer.workspaceOf->emitError("has no planned workspace of ")
               << buffer.interval.bytes << " bytes";
      offset = ws->first;
    } else {
      for (unsigned v : buffer.values) {
        std::optional<int64_t> o =
            getPlannedOffset(analysis.getValues()[v].value);
        if (!o || (offset && *o != *offset))
          return function->emitError("memory plan: ")
                 << analysis.describe(v)
                 << (o ? " is not at the offset of its buffer"
                       : " has no planned offset");
        offset = o;
      }
    }
    if (*offset < 0 || *offset + buffer.interval.bytes > *arena)
      return function->emitError("memory plan: buffer ")
             << index << " at " << *offset << " (" << buffer.interval.bytes
             << " bytes) lies outside the arena of " << *arena << " bytes";
    intervals.push_back(buffer.interval);
    offsets.push_back(*offset);
  }
  if (auto clash = findOverlap(intervals, offsets)) {
    auto name = [&](unsigned b) {
      const EdgeUseRef::Buffer &buffer = buffers[b];
      return buffer.workspaceOf
                 ? "the workspace of " + analysis.describe(buffer.workspaceOf)
                 : analysis.describe(buffer.root);
    };
    return function->emitError("memory plan: ")
           << name(clash->first) << " and " << name(clash->second)
           << " are live at the same step and overlap in the arena";
  }
  return success();
}

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
    arenaBytes += plan.size;
    loadBytes += analysis.getLoad();
    numBuffers += intervals.size();
    // Only attributes changed: the analysis still describes the function.
    markAllAnalysesPreserved();
  }
};
} // namespace

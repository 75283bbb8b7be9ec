//===- MemoryPlan.cpp - reading and checking a memory plan ----------------===//
//
// The attributes mlg-plan-memory writes, read back, and the check that a plan
// still fits the schedule its function has now.
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Transforms/MemoryPlan.h"
#include "mlg/Passes/Transforms/MemoryPacker.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace mlg;

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

std::optional<int64_t> mlg::getMemoryBudget(FunctionOpInterface function) {
  auto facts = function->getAttrOfType<DictionaryAttr>("mlg.recompute");
  auto budget = facts ? facts.getAs<IntegerAttr>("budget_bytes") : nullptr;
  if (!budget || budget.getInt() < 0)
    return std::nullopt;
  return budget.getInt();
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

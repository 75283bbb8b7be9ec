//===- MemoryPlan.h - reading and checking a memory plan --------*- C++ -*-===//
//
// The attributes mlg-plan-memory writes, and the check that a function's
// plan still fits its schedule: every value of a buffer at one offset, every
// buffer inside the arena, no two live buffers overlapping. The planner runs
// it on what it wrote, the lowering on what it reads.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_PASSES_TRANSFORMS_MEMORYPLAN_H
#define MLG_PASSES_TRANSFORMS_MEMORYPLAN_H

#include "mlg/Passes/Analysis/EdgeUseRef.h"

#include "mlir/IR/Value.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/StringRef.h"

namespace mlg {

constexpr llvm::StringLiteral kOffsetsAttr = "mlg.offsets";
constexpr llvm::StringLiteral kOffsetAttr = "mlg.offset";
constexpr llvm::StringLiteral kWorkspaceAttr = "mlg.workspace";
constexpr llvm::StringLiteral kArenaSizeAttr = "mlg.arena_size";
constexpr llvm::StringLiteral kLoadAttr = "mlg.load";

/// The planned arena offset of `value`, or nothing if it has none (it is
/// persistent, or the function is not planned).
std::optional<int64_t> getPlannedOffset(mlir::Value value);

/// The planned (offset, bytes) of `op`'s workspace, if it has one.
std::optional<std::pair<int64_t, int64_t>>
getPlannedWorkspace(mlir::Operation *op);

/// The planned arena size of `function`, if it is planned.
std::optional<int64_t> getPlannedArenaSize(mlir::FunctionOpInterface function);

/// The device memory `function` may use in all (arena, parameters,
/// optimizer state, constants and any backend scratch), if the user gave a
/// budget (mlg-recompute's `budget`).
std::optional<int64_t> getMemoryBudget(mlir::FunctionOpInterface function);

/// Checks the plan of `function` against `analysis` (computed on it). Emits
/// a diagnostic on the function and fails if the plan is missing or wrong.
mlir::LogicalResult verifyMemoryPlan(mlir::FunctionOpInterface function,
                                     const EdgeUseRef &analysis);

} // namespace mlg

#endif // MLG_PASSES_TRANSFORMS_MEMORYPLAN_H

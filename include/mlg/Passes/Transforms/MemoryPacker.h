//===- MemoryPacker.h - offsets for buffers with live intervals -*- C++ -*-===//
//
// Static memory sharing: give every buffer an offset in one arena so that
// buffers live at a common step never overlap, with the arena as small as
// the heuristics find. Plain data in, plain data out, so it can be tested
// against brute force without IR.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_PASSES_TRANSFORMS_MEMORYPACKER_H
#define MLG_PASSES_TRANSFORMS_MEMORYPACKER_H

#include "mlg/Passes/Analysis/EdgeUseRef.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>
#include <utility>

namespace mlg {

struct PackResult {
  llvm::SmallVector<int64_t> offsets;
  int64_t size = 0;
  /// The aligned LOAD: no plan can be smaller.
  int64_t lowerBound = 0;
  /// Which placement order produced it ("size", "start", "length"), with
  /// "+search" when the local search improved on it.
  std::string order;
  int64_t improvements = 0;
};

/// Greedy best fit (TFLite's GreedyBySize, XLA's heap simulator): buffers are
/// placed one at a time, each in the smallest gap between the buffers it
/// overlaps in time that holds it, or on top of them. Tried in five orders
/// (by size, by start step, by interval length, by bytes times steps, by
/// size then latest end), keeping the smallest arena;
/// then up to `searchIterations` steps of local search over the placement
/// order, stopping early within 0.1% of the aligned LOAD or once the steps
/// have cost about 4e9 buffer pairs. Sizes and offsets are rounded
/// up to `alignment` (a power of two). Deterministic.
PackResult packBuffers(llvm::ArrayRef<LiveInterval> intervals,
                       int64_t alignment, int64_t searchIterations = 2000);

/// The first pair of buffers that are live at a common step and overlap in
/// memory, if any. Every plan is checked with this.
std::optional<std::pair<unsigned, unsigned>>
findOverlap(llvm::ArrayRef<LiveInterval> intervals,
            llvm::ArrayRef<int64_t> offsets);

/// The smallest arena over all placements, by brute force (every order of
/// lowest-fit placement reaches an optimum). For tests: n! work.
int64_t packOptimally(llvm::ArrayRef<LiveInterval> intervals,
                      int64_t alignment);

} // namespace mlg

#endif // MLG_PASSES_TRANSFORMS_MEMORYPACKER_H

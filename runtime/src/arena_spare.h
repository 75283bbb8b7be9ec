// arena_spare.h - the arena bytes that hold nothing a later step reads,
// step by step.
//
// The memory plan sizes the arena for the peak; away from the peak most of
// it holds dead values. A kernel that can run faster with more scratch (a
// cuDNN convolution's workspace) may use such bytes during its step at no
// cost in memory: that is the step's spare range, the longest run of arena
// bytes that no value live across the step occupies.
//
// A byte's value is live across step i when some step r >= i reads it (or
// the program returns it) and its last write before r happened at or
// before step i. Views alias the bytes of other tensors, so liveness is
// tracked by byte range, not by tensor: a value written through one tensor
// and read through another is one value. Program inputs are live across
// every step (a session keeps them between runs). The step's own
// workspace is not live across it, so a spare range may overlap it.

#ifndef MLG_RT_SRC_ARENA_SPARE_H
#define MLG_RT_SRC_ARENA_SPARE_H

#include "program.h"

#include <cstdint>
#include <vector>

namespace mlg_rt {

/// A byte range of the arena.
struct ArenaRange {
  uint64_t offset = 0, bytes = 0;
};

/// For each step i with `wanted[i]`, its spare range: the longest run of
/// arena bytes not live across it, starting on an `align`-byte boundary
/// (bytes 0 where there is none); other steps get bytes 0. Programs with
/// more than one stream get no spare ranges (steps may overlap in time).
std::vector<ArenaRange> spareArenaRanges(const Program &program,
                                         const std::vector<bool> &wanted,
                                         uint64_t align = 256);

} // namespace mlg_rt

#endif // MLG_RT_SRC_ARENA_SPARE_H

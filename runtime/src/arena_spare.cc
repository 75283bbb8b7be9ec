// arena_spare.cc - the arena bytes that hold nothing a later step reads.

#include "arena_spare.h"

#include <algorithm>
#include <limits>
#include <map>

namespace mlg_rt {
namespace {

/// Times: 0 is before the first step (inputs are written), step i runs at
/// time i + 1, and the program's results are read at steps + 1.
using Time = size_t;

/// Bytes [lo, hi) hold a live value over times [from, to].
struct Busy {
  uint64_t lo, hi;
  Time from, to;
};

/// When each byte of the arena was last written, as disjoint segments.
class LastWrites {
public:
  /// The earliest last write among bytes [lo, hi); 0 where some byte was
  /// never written (its value, if any, predates the steps).
  Time earliest(uint64_t lo, uint64_t hi) const {
    Time best = std::numeric_limits<Time>::max();
    uint64_t covered = lo;
    auto it = segments_.upper_bound(lo);
    if (it != segments_.begin())
      --it;
    for (; it != segments_.end() && it->first < hi; ++it) {
      auto [end, time] = it->second;
      if (end <= covered)
        continue;
      if (it->first > covered)
        return 0;
      best = std::min(best, time);
      covered = end;
    }
    return covered < hi ? 0 : best;
  }

  void assign(uint64_t lo, uint64_t hi, Time time) {
    split(lo);
    split(hi);
    segments_.erase(segments_.lower_bound(lo), segments_.lower_bound(hi));
    segments_[lo] = {hi, time};
  }

private:
  /// Makes `at` a segment boundary.
  void split(uint64_t at) {
    auto it = segments_.upper_bound(at);
    if (it == segments_.begin())
      return;
    --it;
    auto [end, time] = it->second;
    if (it->first < at && at < end) {
      it->second.first = at;
      segments_[at] = {end, time};
    }
  }

  /// start -> (end, time of the last write).
  std::map<uint64_t, std::pair<uint64_t, Time>> segments_;
};

} // namespace

std::vector<ArenaRange> spareArenaRanges(const Program &p,
                                         const std::vector<bool> &wanted,
                                         uint64_t align) {
  const size_t steps = p.steps.size();
  std::vector<ArenaRange> spare(steps);
  if (p.numStreams > 1 || p.arenaBytes == 0 ||
      std::none_of(wanted.begin(), wanted.end(), [](bool w) { return w; }))
    return spare;
  align = std::max<uint64_t>(align, 1);
  const Time after = steps + 1;
  auto range = [&](uint32_t t, uint64_t *lo, uint64_t *hi) {
    const TensorInfo &x = p.tensors[t];
    if (x.storage != TensorInfo::Storage::Arena || x.bytes <= 0)
      return false;
    *lo = x.offset;
    *hi = x.offset + uint64_t(x.bytes);
    return true;
  };

  std::vector<Busy> busy;
  LastWrites writes;
  uint64_t lo, hi;
  for (const BindingInfo &in : p.inputs)
    if (range(in.tensor, &lo, &hi)) {
      busy.push_back({lo, hi, 0, after});
      writes.assign(lo, hi, 0);
    }
  for (size_t i = 0; i < steps; ++i) {
    const Time now = i + 1;
    // Reads come before the step's own writes (in-place steps).
    for (uint32_t t : p.steps[i].inputs)
      if (range(t, &lo, &hi))
        busy.push_back({lo, hi, writes.earliest(lo, hi), now});
    for (uint32_t t : p.steps[i].outputs)
      if (range(t, &lo, &hi)) {
        busy.push_back({lo, hi, now, now});
        writes.assign(lo, hi, now);
      }
  }
  for (const BindingInfo &out : p.outputs)
    if (range(out.tensor, &lo, &hi))
      busy.push_back({lo, hi, writes.earliest(lo, hi), after});

  std::vector<std::pair<uint64_t, uint64_t>> live;
  for (size_t i = 0; i < steps && i < wanted.size(); ++i) {
    if (!wanted[i])
      continue;
    const Time now = i + 1;
    live.clear();
    for (const Busy &b : busy)
      if (b.from <= now && now <= b.to)
        live.emplace_back(b.lo, std::min(b.hi, p.arenaBytes));
    live.emplace_back(p.arenaBytes, p.arenaBytes);
    std::sort(live.begin(), live.end());
    uint64_t freeFrom = 0;
    for (auto [start, end] : live) {
      uint64_t first = (freeFrom + align - 1) / align * align;
      if (start > first && start - first > spare[i].bytes)
        spare[i] = {first, start - first};
      freeFrom = std::max(freeFrom, end);
    }
  }
  return spare;
}

} // namespace mlg_rt

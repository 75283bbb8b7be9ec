//===- MemoryPacker.cpp - offsets for buffers with live intervals ---------===//
//
// Best fit: for the buffer being placed, the buffers already placed that
// share a step with it are sorted by offset; the gaps between them (and below
// the first) are candidates, the smallest that holds the buffer wins, and
// with none it goes on top. Each order costs O(n^2 log n).
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Transforms/MemoryPacker.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

using namespace mlg;
using llvm::SmallVector;

static int64_t alignUp(int64_t v, int64_t alignment) {
  return (v + alignment - 1) / alignment * alignment;
}

static bool overlapInTime(const LiveInterval &a, const LiveInterval &b) {
  return a.start <= b.end && b.start <= a.end;
}

/// Places buffers in `order`; `lowestFit` takes the lowest gap instead of
/// the best one (used by the brute force).
static PackResult place(llvm::ArrayRef<LiveInterval> intervals,
                        llvm::ArrayRef<unsigned> order, int64_t alignment,
                        bool lowestFit) {
  PackResult result;
  result.offsets.assign(intervals.size(), 0);
  // The buffers placed so far, kept sorted by offset: the ones live with
  // the next buffer come out of one scan in memory order, with no sort.
  std::vector<std::pair<int64_t, unsigned>> placed;
  placed.reserve(intervals.size());
  for (unsigned i : order) {
    int64_t size = alignUp(intervals[i].bytes, alignment);
    if (size == 0)
      continue;
    int64_t best = -1, bestGap = std::numeric_limits<int64_t>::max(),
            cursor = 0;
    for (auto [begin, j] : placed) {
      if (!overlapInTime(intervals[i], intervals[j]))
        continue;
      int64_t end = begin + alignUp(intervals[j].bytes, alignment);
      int64_t gap = begin - cursor;
      if (gap >= size && gap < bestGap) {
        best = cursor;
        bestGap = gap;
        if (lowestFit)
          break;
      }
      cursor = std::max(cursor, end);
    }
    if (best < 0)
      best = cursor;
    result.offsets[i] = best;
    result.size = std::max(result.size, best + size);
    std::pair<int64_t, unsigned> entry{best, i};
    placed.insert(std::upper_bound(placed.begin(), placed.end(), entry),
                  entry);
  }
  return result;
}

PackResult mlg::packBuffers(llvm::ArrayRef<LiveInterval> intervals,
                            int64_t alignment, int64_t searchIterations) {
  PackResult best;
  if (intervals.empty())
    return best;
  std::vector<unsigned> base(intervals.size());
  std::iota(base.begin(), base.end(), 0);
  auto bySize = [&](unsigned a, unsigned b) {
    if (intervals[a].bytes != intervals[b].bytes)
      return intervals[a].bytes > intervals[b].bytes;
    return intervals[a].start < intervals[b].start;
  };
  auto length = [&](unsigned i) {
    return intervals[i].end - intervals[i].start + 1;
  };
  struct Order {
    const char *name;
    std::function<bool(unsigned, unsigned)> less;
  };
  Order orders[] = {
      {"size", bySize},
      {"start",
       [&](unsigned a, unsigned b) {
         if (intervals[a].start != intervals[b].start)
           return intervals[a].start < intervals[b].start;
         return bySize(a, b);
       }},
      {"length",
       [&](unsigned a, unsigned b) {
         if (length(a) != length(b))
           return length(a) > length(b);
         return bySize(a, b);
       }},
      // Bytes times steps first: recomputing schedules mix a few huge
      // long-lived buffers with thousands of short small ones.
      {"area",
       [&](unsigned a, unsigned b) {
         double x = double(intervals[a].bytes) * double(length(a));
         double y = double(intervals[b].bytes) * double(length(b));
         if (x != y)
           return x > y;
         return bySize(a, b);
       }},
      {"size-end",
       [&](unsigned a, unsigned b) {
         if (intervals[a].bytes != intervals[b].bytes)
           return intervals[a].bytes > intervals[b].bytes;
         return intervals[a].end > intervals[b].end;
       }},
  };
  std::vector<unsigned> bestOrder;
  best.size = std::numeric_limits<int64_t>::max();
  for (const Order &order : orders) {
    std::vector<unsigned> sorted = base;
    std::stable_sort(sorted.begin(), sorted.end(), order.less);
    PackResult r = place(intervals, sorted, alignment, /*lowestFit=*/false);
    if (r.size < best.size) {
      best = std::move(r);
      best.order = order.name;
      bestOrder = std::move(sorted);
    }
  }

  // No plan is smaller than the aligned LOAD; stop searching there.
  SmallVector<LiveInterval> aligned(intervals.begin(), intervals.end());
  for (LiveInterval &i : aligned)
    i.bytes = alignUp(i.bytes, alignment);
  int64_t maxStep = 0;
  for (const LiveInterval &i : intervals)
    maxStep = std::max(maxStep, i.end);
  std::vector<int64_t> live = liveBytesPerStep(aligned, maxStep + 1);
  best.lowerBound =
      live.empty() ? 0 : *std::max_element(live.begin(), live.end());

  // Local search over placement orders: move a buffer (often one that
  // reaches the top of the arena) earlier in the order, place again with
  // best fit, keep the order unless the arena grew. Equal sizes are kept
  // too, so the search walks across plateaus. Deterministic (fixed seed).
  // It stops within 0.1% of LOAD (a gap the size of a rounding error is
  // not worth quadratic work on a graph of thousands of buffers), and after
  // about 4e9 buffer pairs' worth of placements, so that its time stays a
  // few seconds however large the schedule.
  std::mt19937_64 rng(0x6d6c67);
  int64_t n = intervals.size();
  int64_t goodEnough = best.lowerBound + best.lowerBound / 1000;
  int64_t iterations =
      std::min<int64_t>(searchIterations, std::max<int64_t>(4e9 / (n * n), 1));
  for (int64_t it = 0; it < iterations && best.size > goodEnough; ++it) {
    unsigned pick;
    if (rng() % 2) {
      SmallVector<unsigned> tops;
      for (unsigned i = 0; i < n; ++i)
        if (best.offsets[i] + alignUp(intervals[i].bytes, alignment) ==
            best.size)
          tops.push_back(i);
      pick = tops[rng() % tops.size()];
    } else {
      pick = rng() % n;
    }
    std::vector<unsigned> order = bestOrder;
    auto at = std::find(order.begin(), order.end(), pick);
    int64_t pos = at - order.begin();
    order.erase(at);
    order.insert(order.begin() + (pos ? rng() % (pos + 1) : 0), pick);
    PackResult r = place(intervals, order, alignment, /*lowestFit=*/false);
    if (r.size <= best.size) {
      if (r.size < best.size)
        ++best.improvements;
      r.order = best.order;
      r.lowerBound = best.lowerBound;
      r.improvements = best.improvements;
      best = std::move(r);
      bestOrder = std::move(order);
    }
  }
  if (best.improvements)
    best.order += "+search";
  return best;
}

std::optional<std::pair<unsigned, unsigned>>
mlg::findOverlap(llvm::ArrayRef<LiveInterval> intervals,
                 llvm::ArrayRef<int64_t> offsets) {
  // Sweep by start step; compare each buffer with those still live.
  std::vector<unsigned> order(intervals.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::sort(order, [&](unsigned a, unsigned b) {
    return intervals[a].start < intervals[b].start;
  });
  std::vector<unsigned> active;
  for (unsigned i : order) {
    if (intervals[i].bytes == 0)
      continue;
    llvm::erase_if(active, [&](unsigned j) {
      return intervals[j].end < intervals[i].start;
    });
    for (unsigned j : active) {
      bool disjoint = offsets[i] + intervals[i].bytes <= offsets[j] ||
                      offsets[j] + intervals[j].bytes <= offsets[i];
      if (!disjoint)
        return std::make_pair(std::min(i, j), std::max(i, j));
    }
    active.push_back(i);
  }
  return std::nullopt;
}

int64_t mlg::packOptimally(llvm::ArrayRef<LiveInterval> intervals,
                           int64_t alignment) {
  std::vector<unsigned> order(intervals.size());
  std::iota(order.begin(), order.end(), 0);
  int64_t best = std::numeric_limits<int64_t>::max();
  do {
    best = std::min(
        best, place(intervals, order, alignment, /*lowestFit=*/true).size);
  } while (std::next_permutation(order.begin(), order.end()));
  return intervals.empty() ? 0 : best;
}

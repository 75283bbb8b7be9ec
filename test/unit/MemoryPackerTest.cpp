//===- MemoryPackerTest.cpp - the packer against brute force --------------===//
//
// On small random interval sets: every plan passes the overlap checker (which
// is itself checked against a naive pairwise test), is never smaller than the
// brute-force optimum nor the LOAD lower bound, and is close to the optimum.
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Transforms/MemoryPacker.h"

#include <gtest/gtest.h>

#include <random>

using namespace mlg;

namespace {

std::vector<LiveInterval> randomIntervals(std::mt19937 &rng, int n, int steps) {
  std::vector<LiveInterval> out;
  for (int i = 0; i < n; ++i) {
    int a = rng() % steps, b = rng() % steps;
    out.push_back(
        {std::min(a, b), std::max(a, b), int64_t(1 + rng() % 8) * 64});
  }
  return out;
}

bool naiveOverlap(const std::vector<LiveInterval> &iv,
                  llvm::ArrayRef<int64_t> off) {
  for (size_t i = 0; i < iv.size(); ++i)
    for (size_t j = i + 1; j < iv.size(); ++j) {
      bool time = iv[i].start <= iv[j].end && iv[j].start <= iv[i].end;
      bool mem = off[i] < off[j] + iv[j].bytes && off[j] < off[i] + iv[i].bytes;
      if (time && mem && iv[i].bytes && iv[j].bytes)
        return true;
    }
  return false;
}

TEST(MemoryPacker, LiveBytesMatchesNaiveSum) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 50; ++trial) {
    auto iv = randomIntervals(rng, 12, 10);
    std::vector<int64_t> live = liveBytesPerStep(iv, 10);
    for (int s = 0; s < 10; ++s) {
      int64_t sum = 0;
      for (auto &i : iv)
        if (i.start <= s && s <= i.end)
          sum += i.bytes;
      EXPECT_EQ(live[s], sum);
    }
  }
}

TEST(MemoryPacker, CheckerAgreesWithPairwiseTest) {
  std::mt19937 rng(2);
  for (int trial = 0; trial < 500; ++trial) {
    auto iv = randomIntervals(rng, 6, 6);
    llvm::SmallVector<int64_t> offsets;
    for (size_t i = 0; i < iv.size(); ++i)
      offsets.push_back((rng() % 8) * 64);
    EXPECT_EQ(findOverlap(iv, offsets).has_value(), naiveOverlap(iv, offsets));
  }
}

TEST(MemoryPacker, PlansAreValidAndNearOptimal) {
  std::mt19937 rng(3);
  double ratioSum = 0;
  int trials = 300, optimal = 0;
  for (int trial = 0; trial < trials; ++trial) {
    auto iv = randomIntervals(rng, 1 + trial % 7, 8);
    PackResult plan = packBuffers(iv, 64);
    ASSERT_FALSE(findOverlap(iv, plan.offsets).has_value())
        << "trial " << trial;
    ASSERT_FALSE(naiveOverlap(iv, plan.offsets));
    for (size_t i = 0; i < iv.size(); ++i) {
      EXPECT_EQ(plan.offsets[i] % 64, 0);
      EXPECT_LE(plan.offsets[i] + iv[i].bytes, plan.size);
    }
    int64_t best = packOptimally(iv, 64);
    std::vector<int64_t> live = liveBytesPerStep(iv, 8);
    int64_t load = *std::max_element(live.begin(), live.end());
    EXPECT_LE(load, best);
    EXPECT_EQ(plan.lowerBound, load);
    EXPECT_GE(plan.size, best)
        << "trial " << trial << ": better than brute force?";
    ratioSum += double(plan.size) / best;
    optimal += plan.size == best;
  }
  // The search finds the optimum on most of these small sets.
  EXPECT_LT(ratioSum / trials, 1.02);
  EXPECT_GT(optimal, trials * 9 / 10);
}

TEST(MemoryPacker, AlignmentRoundsSizesAndOffsets) {
  std::vector<LiveInterval> iv = {{0, 1, 1}, {1, 2, 300}, {0, 0, 0}};
  PackResult plan = packBuffers(iv, 256);
  EXPECT_EQ(plan.size, 256 + 512);
  for (int64_t o : plan.offsets)
    EXPECT_EQ(o % 256, 0);
}

TEST(MemoryPacker, DisjointLifetimesShareMemory) {
  // A chain: each buffer dies as the next is made; two at a time are live.
  std::vector<LiveInterval> chain;
  for (int i = 0; i < 20; ++i)
    chain.push_back({i, i + 1, 1024});
  PackResult plan = packBuffers(chain, 256);
  EXPECT_EQ(plan.size, 2048);
}

} // namespace

// ArenaSpareTest.cpp - spareArenaRanges against a byte-by-byte simulation
// on random programs whose tensors alias one another, and on a hand-made
// one.

#include "arena_spare.h"

#include <gtest/gtest.h>

#include <random>

using namespace mlg_rt;

namespace {

uint32_t addTensor(Program &p, uint64_t offset, int64_t bytes) {
  TensorInfo t;
  t.dtype = DType::U8;
  t.shape = {bytes};
  t.numel = bytes;
  t.bytes = bytes;
  t.offset = offset;
  p.tensors.push_back(t);
  return uint32_t(p.tensors.size() - 1);
}

StepInfo makeStep(std::vector<uint32_t> in, std::vector<uint32_t> out) {
  StepInfo s;
  s.kernel = "k";
  s.inputs = std::move(in);
  s.outputs = std::move(out);
  return s;
}

/// Each step's bytes as the documented rule defines them, one byte at a
/// time: live[i][b] when byte b holds a value live across step i. With
/// `wholeTensorReads`, a read makes every byte of the tensor live from the
/// earliest last write among them (what the analysis does); without, each
/// byte from its own last write (the exact liveness).
std::vector<std::vector<bool>> simulate(const Program &p,
                                        bool wholeTensorReads) {
  size_t steps = p.steps.size(), after = steps + 1;
  uint64_t n = p.arenaBytes;
  std::vector<std::vector<bool>> live(steps + 2, std::vector<bool>(n));
  std::vector<size_t> lastWrite(n, 0);
  auto mark = [&](uint64_t b, size_t from, size_t to) {
    for (size_t t = from; t <= to; ++t)
      live[t][b] = true;
  };
  auto read = [&](uint32_t id, size_t now) {
    const TensorInfo &x = p.tensors[id];
    size_t from = SIZE_MAX;
    for (uint64_t b = x.offset; b < x.offset + uint64_t(x.bytes); ++b)
      from = std::min(from, lastWrite[b]);
    for (uint64_t b = x.offset; b < x.offset + uint64_t(x.bytes); ++b)
      mark(b, wholeTensorReads ? from : lastWrite[b], now);
  };
  for (const BindingInfo &in : p.inputs) {
    const TensorInfo &x = p.tensors[in.tensor];
    for (uint64_t b = x.offset; b < x.offset + uint64_t(x.bytes); ++b)
      mark(b, 0, after);
  }
  for (size_t i = 0; i < steps; ++i) {
    for (uint32_t t : p.steps[i].inputs)
      read(t, i + 1);
    for (uint32_t t : p.steps[i].outputs) {
      const TensorInfo &x = p.tensors[t];
      for (uint64_t b = x.offset; b < x.offset + uint64_t(x.bytes); ++b) {
        lastWrite[b] = i + 1;
        live[i + 1][b] = true;
      }
    }
  }
  for (const BindingInfo &out : p.outputs)
    read(out.tensor, after);
  // Index by step.
  return std::vector<std::vector<bool>>(live.begin() + 1, live.end() - 1);
}

/// The longest run of free bytes starting on an `align` boundary.
ArenaRange longestFree(const std::vector<bool> &live, uint64_t align) {
  ArenaRange best;
  for (uint64_t start = 0; start < live.size(); start += align) {
    uint64_t end = start;
    while (end < live.size() && !live[end])
      ++end;
    if (end - start > best.bytes)
      best = {start, end - start};
  }
  return best;
}

TEST(ArenaSpare, MatchesAByteSimulationOnRandomAliasingPrograms) {
  std::mt19937 rng(12);
  for (int trial = 0; trial < 300; ++trial) {
    Program p;
    p.arenaBytes = 8 + rng() % 120;
    auto pick = [&](uint64_t n) { return uint64_t(rng() % n); };
    size_t tensors = 2 + pick(12);
    for (size_t t = 0; t < tensors; ++t) {
      uint64_t offset = pick(p.arenaBytes);
      addTensor(p, offset, int64_t(1 + pick(p.arenaBytes - offset)));
    }
    size_t steps = 1 + pick(10);
    for (size_t i = 0; i < steps; ++i) {
      std::vector<uint32_t> in, out;
      for (size_t k = pick(3); k > 0; --k)
        in.push_back(uint32_t(pick(tensors)));
      for (size_t k = 1 + pick(2); k > 0; --k)
        out.push_back(uint32_t(pick(tensors)));
      p.steps.push_back(makeStep(in, out));
    }
    if (pick(2))
      p.inputs.push_back({"x", uint32_t(pick(tensors))});
    p.outputs.push_back({"y", uint32_t(pick(tensors))});
    uint64_t align = trial % 3 == 0 ? 1 : 8;
    std::vector<bool> wanted(steps);
    for (size_t i = 0; i < steps; ++i)
      wanted[i] = pick(4) != 0;

    std::vector<ArenaRange> got = spareArenaRanges(p, wanted, align);
    auto modeled = simulate(p, /*wholeTensorReads=*/true);
    auto exact = simulate(p, /*wholeTensorReads=*/false);
    ASSERT_EQ(got.size(), steps);
    for (size_t i = 0; i < steps; ++i) {
      SCOPED_TRACE("trial " + std::to_string(trial) + " step " +
                   std::to_string(i));
      if (!wanted[i]) {
        EXPECT_EQ(got[i].bytes, 0u);
        continue;
      }
      ArenaRange want = longestFree(modeled[i], align);
      EXPECT_EQ(got[i].bytes, want.bytes);
      EXPECT_EQ(got[i].offset % align, 0u);
      // Safe: no byte of the range holds a value anything reads later.
      for (uint64_t b = got[i].offset; b < got[i].offset + got[i].bytes; ++b)
        ASSERT_FALSE(exact[i][b]) << "byte " << b;
    }
  }
}

TEST(ArenaSpare, ADeadValueFreesItsBytesAndAViewKeepsThemLive) {
  // 0: a [0,40) written by step 0, read by step 1 (then dead)
  // 1: b [40,60) written by step 1, read through its view v [40,60) by 3
  // 2: c [60,100) written by step 2, returned
  Program p;
  p.arenaBytes = 100;
  uint32_t a = addTensor(p, 0, 40), b = addTensor(p, 40, 20),
           c = addTensor(p, 60, 40), v = addTensor(p, 40, 20);
  p.steps = {makeStep({}, {a}), makeStep({a}, {b}), makeStep({}, {c}),
             makeStep({v}, {})};
  p.outputs.push_back({"c", c});
  std::vector<ArenaRange> r = spareArenaRanges(p, {true, true, true, true}, 1);
  EXPECT_EQ(r[0].offset, 40u); // a is being written; the rest is free
  EXPECT_EQ(r[0].bytes, 60u);
  EXPECT_EQ(r[1].offset, 60u); // a and b are in use
  EXPECT_EQ(r[1].bytes, 40u);
  EXPECT_EQ(r[2].offset, 0u); // a is dead, b waits for step 3, c is written
  EXPECT_EQ(r[2].bytes, 40u);
  EXPECT_EQ(r[3].offset, 0u);
  EXPECT_EQ(r[3].bytes, 40u);
  // With an input in a's bytes, they stay live for the next run.
  p.inputs.push_back({"x", addTensor(p, 0, 10)});
  r = spareArenaRanges(p, {false, false, true, false}, 1);
  EXPECT_EQ(r[2].offset, 10u);
  EXPECT_EQ(r[2].bytes, 30u);
  EXPECT_EQ(r[0].bytes, 0u);
  // Steps on several streams may overlap: no spare ranges.
  p.numStreams = 2;
  r = spareArenaRanges(p, {true, true, true, true}, 1);
  for (const ArenaRange &s : r)
    EXPECT_EQ(s.bytes, 0u);
}

} // namespace

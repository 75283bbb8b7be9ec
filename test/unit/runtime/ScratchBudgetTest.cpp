// ScratchBudgetTest.cpp - the backend scratch a device may take beside a
// program compiled for a memory budget (scratchWithinBudget).

#include "device.h"

#include <gtest/gtest.h>

using namespace mlg_rt;

namespace {

/// A program of `arena` bytes with one persistent tensor and one constant.
Program program(uint64_t arena, int64_t persistent, int64_t constant,
                uint64_t budget) {
  Program p;
  p.arenaBytes = arena;
  PersistentInfo w;
  w.bytes = persistent;
  p.persistents.push_back(w);
  ConstantInfo c;
  c.bytes = constant;
  p.constants.push_back(c);
  p.memoryBudget = budget;
  return p;
}

TEST(ScratchBudget, NoBudgetKeepsTheRequest) {
  EXPECT_EQ(scratchWithinBudget(1 << 30, program(1000, 200, 10, 0)),
            uint64_t(1) << 30);
  EXPECT_EQ(scratchWithinBudget(0, program(1000, 200, 10, 0)), 0u);
}

TEST(ScratchBudget, WhatTheBudgetLeavesBesideTheProgram) {
  // Own bytes 1210: a 1500-byte budget leaves 290.
  EXPECT_EQ(scratchWithinBudget(1 << 30, program(1000, 200, 10, 1500)), 290u);
  // A smaller request stands.
  EXPECT_EQ(scratchWithinBudget(100, program(1000, 200, 10, 1500)), 100u);
  // Exactly the program: nothing left.
  EXPECT_EQ(scratchWithinBudget(1 << 30, program(1000, 200, 10, 1210)), 0u);
  // A plan past its budget (the arena above LOAD) gets none, not a wrap.
  EXPECT_EQ(scratchWithinBudget(1 << 30, program(1000, 200, 10, 1200)), 0u);
}

} // namespace

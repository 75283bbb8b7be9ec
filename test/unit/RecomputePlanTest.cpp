//===- RecomputePlanTest.cpp - the recompute planner against brute force --===//
//
// Training-step-shaped chains (a forward of n layers, a loss, a backward
// that reads each layer's input and output, as convolutions and
// activations do), with random sizes and costs. Every subset of the
// forward is simulated to find, by brute force, the least LOAD and, for a
// budget, the least recompute time that fits; the planner's plans must fit
// where they claim to, never beat the optimum, find a plan for every budget
// above the least peak, and lose little time to the optimum. The simulation's rules are checked on a hand-sized case.
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Transforms/Recompute.h"

#include <gtest/gtest.h>

#include <random>

using namespace mlg;

namespace {

/// x -> f_0 -> ... -> f_{n-1} -> loss; then for i = n-1 .. 0 a backward
/// step reading the gradient, layer i's input and output; the terminator
/// reads the loss.
RecomputeProblem chain(std::mt19937 &rng, int n, bool residual) {
  RecomputeProblem p;
  ScheduleGraph &g = p.graph;
  auto value = [&](int64_t bytes, int def, ValueKind kind) {
    g.values.push_back({bytes, kind, def});
    return unsigned(g.values.size() - 1);
  };
  auto step = [&](std::vector<unsigned> operands, std::vector<int64_t> sizes,
                  bool candidate, bool heavy, double seconds) {
    ScheduleGraph::Step s;
    s.operands.assign(operands.begin(), operands.end());
    int index = g.steps.size();
    for (int64_t bytes : sizes)
      s.results.push_back(value(bytes, index, ValueKind::Result));
    g.steps.push_back(s);
    p.candidate.push_back(candidate);
    p.heavy.push_back(heavy);
    p.seconds.push_back(seconds);
    p.flops.push_back(seconds * 1e12);
    return g.steps.back().results;
  };
  unsigned x = value(64, -1, ValueKind::Input);
  std::vector<unsigned> acts{x};
  for (int i = 0; i < n; ++i) {
    std::vector<unsigned> in{acts.back()};
    if (residual && i >= 2 && i % 2 == 0)
      in.push_back(acts[acts.size() - 2]);
    bool heavy = i % 2 == 0;
    acts.push_back(step(in, {int64_t(1 + rng() % 8) * 64}, true, heavy,
                        heavy ? 1.0 + rng() % 4 : 0.25)[0]);
  }
  unsigned loss = step({acts.back()}, {4}, false, false, 0.1)[0];
  p.forwardEnd = g.steps.size() - 1;
  unsigned grad = loss;
  for (int i = n - 1; i >= 0; --i)
    grad = step({grad, acts[i], acts[i + 1]}, {g.values[acts[i]].bytes},
                false, false, 1.0)[0];
  step({loss}, {}, false, false, 0);
  p.latestPoint.assign(g.steps.size(), INT_MAX);
  p.persistentBytes = 100;
  return p;
}

std::vector<bool> subset(const RecomputeProblem &p, unsigned mask) {
  std::vector<bool> set(p.graph.steps.size(), false);
  for (int s = 0, bit = 0; s <= p.forwardEnd; ++s)
    if (p.candidate[s])
      set[s] = (mask >> bit++) & 1;
  return set;
}

int numCandidates(const RecomputeProblem &p) {
  int n = 0;
  for (bool c : p.candidate)
    n += c;
  return n;
}

/// Every subset of the candidates, simulated: (LOAD, extra seconds) each,
/// the least LOAD and the plain plan's.
struct Enumerated {
  std::vector<std::pair<int64_t, double>> all;
  int64_t minLoad = INT64_MAX, plainLoad = 0;

  explicit Enumerated(const RecomputeProblem &p) {
    for (unsigned mask = 0; mask < (1u << numCandidates(p)); ++mask) {
      RecomputePlan plan = simulateRecompute(p, subset(p, mask));
      if (mask == 0)
        plainLoad = plan.load();
      minLoad = std::min(minLoad, plan.load());
      all.push_back({plan.load(), plan.extraSeconds});
    }
  }
  /// The least extra seconds of a subset within `load`, or -1.
  double best(int64_t load) const {
    double best = -1;
    for (auto [l, s] : all)
      if (l <= load && (best < 0 || s < best))
        best = s;
    return best;
  }
};

} // namespace

// x -> a -> b -> loss, backward reading a and b: recomputing b places its
// clone before its first backward reader and drops the original (only the
// backward read it... and the loss, so the original stays).
TEST(RecomputePlan, ClonesBeforeFirstLateUse) {
  RecomputeProblem p;
  ScheduleGraph &g = p.graph;
  g.values = {{16, ValueKind::Input, -1},   // 0 x
              {32, ValueKind::Result, 0},   // 1 a
              {32, ValueKind::Result, 1},   // 2 b
              {4, ValueKind::Result, 2},    // 3 loss
              {32, ValueKind::Result, 3},   // 4 gb
              {16, ValueKind::Result, 4}};  // 5 ga
  g.steps.resize(6);
  g.steps[0] = {{0}, {1}, {}, 0};
  g.steps[1] = {{1}, {2}, {}, 0};
  g.steps[2] = {{2}, {3}, {}, 0};
  g.steps[3] = {{3, 2}, {4}, {}, 0};
  g.steps[4] = {{4, 1}, {5}, {}, 0};
  g.steps[5] = {{3}, {}, {}, 0};
  p.forwardEnd = 2;
  p.candidate = {true, true, false, false, false, false};
  p.heavy.assign(6, false);
  p.seconds = {1, 2, 0, 0, 0, 0};
  p.flops = {10, 20, 0, 0, 0, 0};
  p.latestPoint.assign(6, INT_MAX);

  RecomputePlan plan = simulateRecompute(p, {true, true, false, false, false, false});
  // a's clone goes before step 3 (b's clone reads it there), b's too; the
  // originals stay (the forward reads them).
  EXPECT_EQ(plan.clonePoint[0], 3);
  EXPECT_EQ(plan.clonePoint[1], 3);
  EXPECT_TRUE(plan.keepOriginal[0]);
  EXPECT_TRUE(plan.keepOriginal[1]);
  EXPECT_EQ(plan.origin, (std::vector<int>{0, 1, 2, 0, 1, 3, 4, 5}));
  EXPECT_EQ(plan.numCloned, 2);
  EXPECT_DOUBLE_EQ(plan.extraSeconds, 3);
  EXPECT_DOUBLE_EQ(plan.extraFlops, 30);
  // The backward reads the clones: b's clone at step 5 (gb), a's at 6 (ga).
  EXPECT_EQ(plan.graph.steps[5].operands[1], unsigned(plan.cloneOf[2]));
  EXPECT_EQ(plan.graph.steps[6].operands[1], unsigned(plan.cloneOf[1]));

  // Only a's clone: placed before its own first late use (step 4).
  plan = simulateRecompute(p, {true, false, false, false, false, false});
  EXPECT_EQ(plan.clonePoint[0], 4);
  // A global written at step 3 that a's clone must read first: too late,
  // so a is not recomputed.
  p.latestPoint[0] = 3;
  plan = simulateRecompute(p, {true, false, false, false, false, false});
  EXPECT_FALSE(plan.recompute[0]);
  EXPECT_EQ(plan.numCloned, 0);
}

TEST(RecomputePlan, BudgetAgainstBruteForce) {
  std::mt19937 rng(7);
  int feasible = 0, found = 0, missedAtMinimum = 0, bounded = 0,
      foundWithMilp = 0;
  double gapSum = 0, boundSum = 0, gapSumWithMilp = 0;
  MilpOptions milp;
  milp.maxSeconds = 30;
  for (int trial = 0; trial < 40; ++trial) {
    RecomputeProblem p = chain(rng, 6 + trial % 5, trial % 2);
    Enumerated e(p);
    int64_t minLoad = e.minLoad, plainLoad = e.plainLoad;
    // The bound no plan goes below holds against every subset.
    EXPECT_LE(loadLowerBound(p), minLoad);
    RecomputePlan echo = planEcho(p);
    EXPECT_GE(echo.load(), minLoad);
    EXPECT_LE(echo.load(), plainLoad);
    for (int64_t load : {minLoad, (minLoad + plainLoad) / 2, plainLoad - 1}) {
      int64_t budget = load + p.persistentBytes;
      double best = e.best(load);
      // The time bound holds against the optimum wherever one fits.
      double bound = recomputeTimeLowerBound(p, budget);
      if (best >= 0) {
        EXPECT_LE(bound, best + 1e-9) << "trial " << trial;
        if (best > 0) {
          bounded += bound > 0;
          boundSum += bound / best;
        }
      }
      RecomputePlan smallest;
      std::optional<RecomputePlan> plan = planForBudget(p, budget, &smallest);
      if (plan) {
        EXPECT_LE(plan->load() + p.persistentBytes, budget);
        EXPECT_GE(plan->extraSeconds, best - 1e-9);
      } else {
        EXPECT_GT(smallest.load() + p.persistentBytes, budget);
        EXPECT_GE(smallest.load(), minLoad);
      }
      // The whole planner, the mixed-integer program included.
      std::optional<RecomputePlan> full =
          planForBudget(p, budget, nullptr, &milp);
      if (full) {
        EXPECT_LE(full->load() + p.persistentBytes, budget);
        EXPECT_GE(full->extraSeconds, best - 1e-9);
        ++foundWithMilp;
        gapSumWithMilp += full->extraSeconds - best;
      }
      if (best >= 0) {
        ++feasible;
        if (plan) {
          ++found;
          gapSum += plan->extraSeconds - best;
        } else {
          // Only the least peak itself may be missed, by under 15%.
          EXPECT_EQ(load, minLoad) << "trial " << trial;
          EXPECT_LE(smallest.load(), minLoad * 115 / 100) << "trial " << trial;
          ++missedAtMinimum;
        }
      }
    }
  }
  // How close the heuristic gets: every budget above the least peak is met,
  // and most at it; the time lost to the optimum is small (layer costs are
  // 0.25 to 4 s).
  std::printf("budgets met %d of %d feasible (%d missed at the least peak), "
              "mean extra seconds over the optimum %.3f; the time bound is "
              "positive on %d, at %.2f of the optimum on average\n",
              found, feasible, missedAtMinimum, found ? gapSum / found : 0.0,
              bounded, feasible ? boundSum / feasible : 0.0);
  std::printf("with the mixed-integer program: %d met, mean extra seconds "
              "over the optimum %.3f\n",
              foundWithMilp, gapSumWithMilp / std::max(foundWithMilp, 1));
  // The program meets every feasible budget, at the optimum on average
  // within a hundredth of a second.
  EXPECT_EQ(foundWithMilp, feasible);
  EXPECT_LT(gapSumWithMilp / std::max(foundWithMilp, 1), 0.01);
  // A bound that is always 0 would be no bound.
  EXPECT_GE(bounded, feasible / 2);
  EXPECT_LE(missedAtMinimum, feasible / 20);
  EXPECT_LT(gapSum / std::max(found, 1), 0.2);
}

TEST(RecomputePlan, ParseBudget) {
  std::string error;
  EXPECT_EQ(parseBudget("4GiB", 0, error), int64_t(4) << 30);
  EXPECT_EQ(parseBudget("1.5 GB", 0, error), int64_t(1500000000));
  EXPECT_EQ(parseBudget("512MiB", 0, error), int64_t(512) << 20);
  EXPECT_EQ(parseBudget("3e9", 0, error), int64_t(3000000000));
  EXPECT_EQ(parseBudget("25%", 1000, error), int64_t(250));
  EXPECT_EQ(parseBudget("100kb", 0, error), int64_t(100000));
  for (const char *bad : {"", "GiB", "-1GB", "0", "lots", "1e30", "nan"}) {
    error.clear();
    EXPECT_FALSE(parseBudget(bad, 1000, error)) << bad;
    EXPECT_NE(error.find("budget"), std::string::npos) << bad;
  }
}

// The mixed-integer program on chains small enough that each op is a group
// of its own, where its model of the schedule is exact: every plan it
// returns fits when simulated, none beats the brute-force optimum, and it
// finds that optimum for nearly every feasible budget.
TEST(RecomputePlan, MilpAgainstBruteForce) {
  std::mt19937 rng(5);
  int feasible = 0, found = 0, optimal = 0, infeasibleFound = 0;
  for (int trial = 0; trial < 30; ++trial) {
    RecomputeProblem p = chain(rng, 6 + trial % 5, trial % 2);
    Enumerated e(p);
    for (int64_t load : {e.minLoad - 1, e.minLoad,
                         (e.minLoad + e.plainLoad) / 2, e.plainLoad - 1}) {
      double best = e.best(load);
      MilpOptions options;
      options.maxSeconds = 30;
      MilpStats stats;
      std::optional<RecomputePlan> plan =
          planBudgetMilp(p, load + p.persistentBytes, options, &stats);
      EXPECT_TRUE(stats.error.empty()) << stats.error;
      if (plan) {
        EXPECT_LE(plan->load(), load) << "trial " << trial;
        EXPECT_GE(plan->extraSeconds, best - 1e-9) << "trial " << trial;
        // The solver's bound is below what it found.
        EXPECT_LE(stats.bound, stats.objective + 1e-9);
      }
      if (best < 0) {
        infeasibleFound += plan.has_value();
        continue;
      }
      ++feasible;
      if (plan) {
        ++found;
        optimal += plan->extraSeconds <= best + 1e-9;
      }
    }
  }
  std::printf("milp: %d of %d feasible budgets met, %d at the optimum\n",
              found, feasible, optimal);
  EXPECT_EQ(infeasibleFound, 0);
  EXPECT_GE(found, feasible * 9 / 10);
  EXPECT_GE(optimal, feasible * 9 / 10);
}

//===- MilpTest.cpp - the CBC front against brute force -------------------===//
//
// Random 0/1 programs small enough to enumerate: a few knapsack rows and a
// cover row over ten binaries. solveMilp must prove the optimum that
// enumeration finds, say infeasible where no assignment fits, and stop
// cleanly when it has no time.
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Transforms/Milp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlg;

namespace {
struct Random01 {
  Milp milp;
  int n = 10;

  explicit Random01(std::mt19937 &rng, bool tight) {
    std::uniform_int_distribution<int> coef(1, 20);
    for (int c = 0; c < n; ++c)
      milp.addColumn(coef(rng) - 5, 0, 1, true); // some negative costs
    for (int r = 0; r < 3; ++r) {
      std::vector<std::pair<int, double>> row;
      double sum = 0;
      for (int c = 0; c < n; ++c) {
        double v = coef(rng);
        row.push_back({c, v});
        sum += v;
      }
      milp.addRow(row, -INFINITY, tight ? sum * 0.05 : sum * 0.5);
    }
    // At least three chosen.
    std::vector<std::pair<int, double>> cover;
    for (int c = 0; c < n; ++c)
      cover.push_back({c, 1});
    milp.addRow(cover, 3, INFINITY);
  }

  /// The optimum by enumeration, or NaN if nothing fits.
  double bruteForce() const {
    double best = NAN;
    for (unsigned mask = 0; mask < (1u << n); ++mask) {
      bool fits = true;
      for (size_t r = 0; r < milp.rows.size() && fits; ++r) {
        double sum = 0;
        for (auto [c, v] : milp.rows[r])
          sum += ((mask >> c) & 1) * v;
        fits = sum >= milp.rowLo[r] - 1e-9 && sum <= milp.rowHi[r] + 1e-9;
      }
      if (!fits)
        continue;
      double obj = 0;
      for (int c = 0; c < n; ++c)
        obj += ((mask >> c) & 1) * milp.objective[c];
      if (std::isnan(best) || obj < best)
        best = obj;
    }
    return best;
  }
};
} // namespace

TEST(Milp, ProvesTheOptimumOfSmallPrograms) {
  std::mt19937 rng(11);
  int infeasible = 0;
  for (int trial = 0; trial < 40; ++trial) {
    Random01 p(rng, trial % 4 == 3);
    double best = p.bruteForce();
    MilpResult r = solveMilp(p.milp, 30);
    ASSERT_NE(r.status, MilpResult::Error) << r.error;
    if (std::isnan(best)) {
      EXPECT_EQ(r.status, MilpResult::Infeasible) << "trial " << trial;
      ++infeasible;
      continue;
    }
    ASSERT_EQ(r.status, MilpResult::Optimal) << "trial " << trial;
    EXPECT_NEAR(r.objective, best, 1e-6) << "trial " << trial;
    EXPECT_LE(r.bound, r.objective + 1e-6);
    // The solution is integral and satisfies every row.
    for (int c = 0; c < p.n; ++c)
      EXPECT_NEAR(r.values[c], std::round(r.values[c]), 1e-6);
    for (size_t row = 0; row < p.milp.rows.size(); ++row) {
      double sum = 0;
      for (auto [c, v] : p.milp.rows[row])
        sum += std::round(r.values[c]) * v;
      EXPECT_LE(sum, p.milp.rowHi[row] + 1e-6);
      EXPECT_GE(sum, p.milp.rowLo[row] - 1e-6);
    }
  }
  // Both outcomes were exercised.
  EXPECT_GT(infeasible, 0);
  EXPECT_LT(infeasible, 40);
}

TEST(Milp, ContinuousColumnsAndStart) {
  // min -x - 2y  s.t.  x + y <= 1.5, y <= 0.7 (continuous), x binary:
  // x = 0.8 is not allowed, so x = 1, y = 0.5 (-2) beats x = 0, y = 0.7.
  Milp m;
  int x = m.addColumn(-1, 0, 1, true);
  int y = m.addColumn(-2, 0, 0.7, false);
  m.addRow({{x, 1}, {y, 1}}, -INFINITY, 1.5);
  m.start = {0, 0};
  MilpResult r = solveMilp(m, 30);
  ASSERT_EQ(r.status, MilpResult::Optimal) << r.error;
  EXPECT_NEAR(r.values[x], 1, 1e-6);
  EXPECT_NEAR(r.values[y], 0.5, 1e-6);
  EXPECT_NEAR(r.objective, -2, 1e-6);
}

TEST(Milp, InconsistentBoundsAreInfeasibleNotACrash) {
  Milp m;
  int x = m.addColumn(1, 0, 1, true);
  m.addRow({{x, 1}}, 2, INFINITY);
  MilpResult r = solveMilp(m, 30);
  EXPECT_EQ(r.status, MilpResult::Infeasible);
  EXPECT_FALSE(r.hasSolution());
}

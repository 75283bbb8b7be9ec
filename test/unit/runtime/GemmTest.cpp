//===- GemmTest.cpp - BLAS against the naive loops ------------------------===//

#include "cpu/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

using namespace mlg_rt::cpu;

TEST(Gemm, BlasMatchesNaiveLoops) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (int trial = 0; trial < 40; ++trial) {
    int64_t m = 1 + rng() % 17, n = 1 + rng() % 19, k = 1 + rng() % 23;
    bool ta = rng() % 2, tb = rng() % 2;
    float alpha = trial % 3 ? 1.0f : 0.5f, beta = trial % 4 ? 0.0f : 2.0f;
    std::vector<float> a(m * k), b(k * n), c0(m * n);
    for (auto *v : {&a, &b, &c0})
      for (float &x : *v)
        x = normal(rng);
    std::vector<float> blas = c0, naive = c0;
    gemm(ta, tb, m, n, k, alpha, a.data(), ta ? m : k, b.data(), tb ? k : n,
         beta, blas.data(), n, /*naive=*/false);
    gemm(ta, tb, m, n, k, alpha, a.data(), ta ? m : k, b.data(), tb ? k : n,
         beta, naive.data(), n, /*naive=*/true);
    for (size_t i = 0; i < blas.size(); ++i)
      EXPECT_NEAR(blas[i], naive[i], 1e-4f * (1 + std::fabs(naive[i])));
  }
}

TEST(Gemm, NaiveMatchesDefinition) {
  // 2x3 times 3x2, by hand.
  std::vector<double> a = {1, 2, 3, 4, 5, 6}, b = {7, 8, 9, 10, 11, 12},
                      c(4, 0);
  gemm(false, false, 2, 2, 3, 1.0, a.data(), 3, b.data(), 2, 0.0, c.data(), 2,
       true);
  EXPECT_EQ(c, (std::vector<double>{58, 64, 139, 154}));
}

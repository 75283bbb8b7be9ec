// FastDivTest.cpp - the CUDA kernels' fixed-divisor division (host side of
// cuda/fast_div.h) against the hardware's: every divisor up to 2^16 with the
// numerators where quotients change and the largest, and random pairs over
// the whole range. Runs without a GPU.

#include "cuda/fast_div.h"

#include <gtest/gtest.h>

#include <random>

using mlg_rt::cuda::FastDiv;

namespace {

constexpr uint32_t kMaxNumerator = (uint32_t(1) << 31) - 1;

void expectDivides(const FastDiv &f, uint32_t n) {
  ASSERT_EQ(f.div(n), n / f.divisor) << n << " / " << f.divisor;
  ASSERT_EQ(f.mod(n), n % f.divisor) << n << " % " << f.divisor;
}

TEST(FastDiv, EverySmallDivisorAtQuotientBoundaries) {
  for (uint32_t d = 1; d <= (uint32_t(1) << 16); ++d) {
    FastDiv f(d);
    for (uint32_t n : {0u, 1u, d - 1, d, d + 1, 2 * d - 1, 2 * d,
                       kMaxNumerator - kMaxNumerator % d - 1,
                       kMaxNumerator - kMaxNumerator % d, kMaxNumerator})
      expectDivides(f, n);
    // Multiples of d and their neighbours spread over the range.
    for (uint32_t q = 3; q < kMaxNumerator / d; q += 1 + q / 3) {
      expectDivides(f, q * d - 1);
      expectDivides(f, q * d);
    }
  }
}

TEST(FastDiv, RandomPairsAndPowersOfTwo) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> num(0, kMaxNumerator),
      den(1, uint32_t(1) << 31);
  for (int i = 0; i < 200000; ++i)
    expectDivides(FastDiv(den(rng)), num(rng));
  for (int s = 0; s <= 31; ++s) {
    FastDiv f(uint32_t(1) << s);
    for (uint32_t n : {0u, 1u, 12345u, kMaxNumerator})
      expectDivides(f, n);
  }
}

} // namespace

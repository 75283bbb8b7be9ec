//===- MatMulKernelsTest.cpp - gemm and matmul against triple loops -------===//
//
// Each product is compared with a reference written independently of the
// kernel: plain triple loops over multi-indices, in double (floats) or
// modulo 2^64 (integers, reduced to the type's width). Values are multiples
// of 1/4 so f16 and bf16 hold them exactly. Results are poisoned before the
// run, so an element the kernel forgets to write shows.

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace mlg_rt;
using namespace mlg_rt::test;

namespace {

/// Random values the type holds exactly: small integers (non-negative for
/// unsigned types) or multiples of 1/4.
std::vector<double> randomValues(std::mt19937 &rng, DType t, int64_t n) {
  std::vector<double> v(n);
  for (double &x : v) {
    if (isUnsignedInt(t))
      x = double(rng() % 200); // u8 products and sums wrap
    else if (isIntType(t))
      x = double(int(rng() % 41) - 20);
    else
      x = double(int(rng() % 17) - 8) / 4;
  }
  return v;
}

/// A double truncated and clamped to an integer type's range.
double saturateTo(DType t, double v) {
  double lo = 0, hi = 0;
  switch (t) {
  case DType::I32:
    lo = INT32_MIN, hi = INT32_MAX;
    break;
  case DType::I64:
    lo = -9.2e18, hi = 9.2e18; // the tests stay far inside
    break;
  case DType::U8:
    lo = 0, hi = 255;
    break;
  default:
    ADD_FAILURE() << "no range for " << dtypeName(t);
  }
  return std::min(hi, std::max(lo, std::trunc(v)));
}

double tolerance(DType t) {
  switch (t) {
  case DType::F16:
    return 1e-3;
  case DType::BF16:
    return 1e-2;
  case DType::F32:
    return 1e-5;
  case DType::F64:
    return 1e-12;
  default:
    return 0;
  }
}

void poisonOutput(KernelHarness &h, size_t i, int64_t bytes) {
  std::memset(h.outputData(i), 0xff, size_t(bytes));
}

void expectClose(const std::vector<double> &got,
                 const std::vector<double> &want, DType t,
                 const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double tol = tolerance(t);
  for (size_t i = 0; i < got.size(); ++i) {
    if (tol == 0)
      ASSERT_EQ(got[i], want[i]) << what << " element " << i;
    else
      ASSERT_NEAR(got[i], want[i], tol * (1 + std::fabs(want[i])))
          << what << " element " << i;
  }
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

/// NumPy matmul by definition: walks every result multi-index.
std::vector<double> referenceMatMul(DType t, std::vector<int64_t> sa,
                                    const std::vector<double> &a,
                                    std::vector<int64_t> sb,
                                    const std::vector<double> &b,
                                    std::vector<int64_t> *resultShape) {
  bool vecA = sa.size() == 1, vecB = sb.size() == 1;
  if (vecA)
    sa.insert(sa.begin(), 1);
  if (vecB)
    sb.push_back(1);
  size_t rank = std::max(sa.size(), sb.size());
  // Left-pad both to one rank with batch dims of 1.
  while (sa.size() < rank)
    sa.insert(sa.begin(), 1);
  while (sb.size() < rank)
    sb.insert(sb.begin(), 1);
  int64_t m = sa[rank - 2], k = sa[rank - 1], n = sb[rank - 1];
  std::vector<int64_t> batch(rank - 2);
  for (size_t d = 0; d + 2 < rank; ++d)
    batch[d] = sa[d] == 1 ? sb[d] : sa[d]; // 1 broadcasts, even to 0
  std::vector<int64_t> full = batch;
  full.push_back(m);
  full.push_back(n);
  *resultShape = batch;
  if (!vecA)
    resultShape->push_back(m);
  if (!vecB)
    resultShape->push_back(n);
  std::vector<double> out(numelOf(full));
  std::vector<int64_t> idx(rank, 0);
  auto offset = [&](const std::vector<int64_t> &s, int64_t r, int64_t c) {
    int64_t off = 0;
    for (size_t d = 0; d + 2 < rank; ++d)
      off = off * s[d] + (s[d] == 1 ? 0 : idx[d]);
    return (off * s[rank - 2] + r) * s[rank - 1] + c;
  };
  for (int64_t o = 0; o < int64_t(out.size()); ++o) {
    // Result multi-index of element o.
    int64_t rem = o;
    for (int64_t d = int64_t(rank) - 1; d >= 0; --d) {
      idx[d] = rem % full[d];
      rem /= full[d];
    }
    int64_t i = idx[rank - 2], j = idx[rank - 1];
    if (isIntType(t)) {
      uint64_t acc = 0;
      for (int64_t p = 0; p < k; ++p)
        acc += uint64_t(int64_t(a[offset(sa, i, p)])) *
               uint64_t(int64_t(b[offset(sb, p, j)]));
      out[o] = wrapTo(t, acc);
    } else {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p)
        acc += a[offset(sa, i, p)] * b[offset(sb, p, j)];
      out[o] = acc;
    }
  }
  return out;
}

struct MatMulCase {
  std::vector<int64_t> a, b;
};

const MatMulCase kMatMulCases[] = {
    {{2, 3}, {3, 4}},
    {{1, 1}, {1, 1}},
    {{3}, {3, 4}},
    {{2, 3}, {3}},
    {{3}, {3}},
    {{5, 2, 3}, {3, 4}},       // one B: batches fold into rows
    {{2, 5, 2, 3}, {1, 3, 4}}, // likewise, B with a batch dim of 1
    {{2, 3}, {5, 3, 4}},       // one A, batched B
    {{2, 1, 2, 3}, {3, 3, 4}}, // both broadcast
    {{1, 3, 2}, {4, 1, 2, 5}},
    {{4}, {2, 4, 3}},
    {{2, 4, 3}, {3}},
    {{3, 7, 16}, {3, 16, 9}},
    {{0, 3}, {3, 4}},
    {{2, 0}, {0, 3}}, // k = 0: zeros
    {{2, 3}, {0, 3, 4}},
};

void runMatMulCases(DType t, bool naive) {
  std::mt19937 rng(7);
  for (const MatMulCase &mc : kMatMulCases) {
    std::vector<double> a = randomValues(rng, t, numelOf(mc.a)),
                        b = randomValues(rng, t, numelOf(mc.b));
    std::vector<int64_t> shape;
    std::vector<double> want = referenceMatMul(t, mc.a, a, mc.b, b, &shape);
    KernelHarness h("matmul");
    h.options().naiveGemm = naive;
    h.input(t, mc.a, a);
    h.input(t, mc.b, b);
    h.output(t, shape);
    poisonOutput(h, 0, numelOf(shape) * dtypeBytes(t));
    std::string what = std::string(dtypeName(t)) + " case " +
                       std::to_string(&mc - kMatMulCases);
    Status s = h.run();
    ASSERT_TRUE(s.ok()) << what << ": " << s.message();
    expectClose(h.outputAs<double>(0), want, t, what);
  }
}

TEST(MatMulKernels, MatMulFloatBlas) { runMatMulCases(DType::F32, false); }
TEST(MatMulKernels, MatMulFloatNaive) { runMatMulCases(DType::F32, true); }
TEST(MatMulKernels, MatMulDouble) {
  runMatMulCases(DType::F64, false);
  runMatMulCases(DType::F64, true);
}
TEST(MatMulKernels, MatMulHalf) {
  runMatMulCases(DType::F16, false);
  runMatMulCases(DType::BF16, false);
}
TEST(MatMulKernels, MatMulIntegersWrap) {
  for (DType t : {DType::I8, DType::I16, DType::I32, DType::I64, DType::U8,
                  DType::U16, DType::U32, DType::U64})
    runMatMulCases(t, false);
}

TEST(MatMulKernels, MatMulLargeRandomAgainstLoops) {
  // Larger, non-round shapes through BLAS.
  std::mt19937 rng(11);
  for (int trial = 0; trial < 10; ++trial) {
    std::vector<int64_t> sa = {1 + int64_t(rng() % 3), 1 + int64_t(rng() % 40),
                               1 + int64_t(rng() % 70)};
    std::vector<int64_t> sb = {sa[0], sa[2], 1 + int64_t(rng() % 50)};
    if (trial % 2)
      sb.erase(sb.begin());
    std::vector<double> a = randomValues(rng, DType::F32, numelOf(sa)),
                        b = randomValues(rng, DType::F32, numelOf(sb));
    std::vector<int64_t> shape;
    std::vector<double> want =
        referenceMatMul(DType::F32, sa, a, sb, b, &shape);
    KernelHarness h("matmul");
    h.input(DType::F32, sa, a);
    h.input(DType::F32, sb, b);
    h.output(DType::F32, shape);
    ASSERT_TRUE(h.run().ok());
    expectClose(h.outputAs<double>(0), want, DType::F32, "large");
  }
}

TEST(MatMulKernels, MatMulCheckRejects) {
  auto check = [](std::vector<int64_t> a, std::vector<int64_t> b,
                  std::vector<int64_t> out, DType ta = DType::F32,
                  DType tb = DType::F32, DType to = DType::F32) {
    KernelHarness h("matmul");
    h.input<double>(ta, a, {});
    h.input<double>(tb, b, {});
    h.output(to, out);
    return h.check().ok();
  };
  EXPECT_TRUE(check({2, 3}, {3, 4}, {2, 4}));
  EXPECT_FALSE(check({2, 3}, {4, 4}, {2, 4}));          // inner dims
  EXPECT_FALSE(check({2, 3}, {3, 4}, {2, 5}));          // result shape
  EXPECT_FALSE(check({2, 3}, {3, 4}, {1, 2, 4}));       // result rank
  EXPECT_FALSE(check({3}, {3, 4}, {1, 4}));             // added dim kept
  EXPECT_FALSE(check({2, 2, 3}, {3, 3, 4}, {3, 2, 4})); // batches
  EXPECT_FALSE(check({}, {3, 4}, {4}));                 // scalar operand
  EXPECT_FALSE(check({2, 3}, {3, 4}, {2, 4}, DType::F32, DType::F64));
  EXPECT_FALSE(
      check({2, 3}, {3, 4}, {2, 4}, DType::Bool, DType::Bool, DType::Bool));
  KernelHarness h("matmul");
  h.input<double>(DType::F32, {2, 3}, {});
  h.output(DType::F32, {2, 3});
  EXPECT_FALSE(h.check().ok()); // arity
}

//===----------------------------------------------------------------------===//
// gemm
//===----------------------------------------------------------------------===//

TEST(MatMulKernels, GemmAgainstLoops) {
  std::mt19937 rng(3);
  for (DType t : {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I32,
                  DType::I64, DType::U8}) {
    for (int trial = 0; trial < 48; ++trial) {
      int64_t m = 1 + rng() % 9, n = 1 + rng() % 11, k = rng() % 13;
      if (trial == 0)
        k = 0;
      bool ta = trial & 1, tb = trial & 2;
      // C: none, scalar, [1], [N], [1, N], [M, 1], [M, N], [1, 1].
      int cKind = (trial >> 2) % 8;
      std::vector<int64_t> cs;
      switch (cKind) {
      case 1:
        cs = {};
        break;
      case 2:
        cs = {1};
        break;
      case 3:
        cs = {n};
        break;
      case 4:
        cs = {1, n};
        break;
      case 5:
        cs = {m, 1};
        break;
      case 6:
        cs = {m, n};
        break;
      case 7:
        cs = {1, 1};
        break;
      }
      double alpha = trial % 3 == 0 ? 1.0 : (trial % 3 == 1 ? 0.5 : 2.0);
      double beta = trial % 5 == 0 ? 0.0 : (trial % 5 == 1 ? 1.5 : 1.0);
      if (isIntType(t))
        alpha = trial % 3 == 2 ? 2.0 : 1.0, beta = trial % 2 ? 3.0 : 1.0;
      std::vector<int64_t> sa =
          ta ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k};
      std::vector<int64_t> sb =
          tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n};
      std::vector<double> a = randomValues(rng, t, m * k),
                          b = randomValues(rng, t, k * n),
                          c = randomValues(rng, t, numelOf(cs));
      std::vector<double> want(m * n);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double cv = 0;
          if (cKind != 0) {
            int64_t ci = cs.size() == 2 && cs[0] != 1 ? i : 0;
            int64_t cj =
                (cs.size() == 2 && cs[1] != 1) || (cs.size() == 1 && cs[0] != 1)
                    ? j
                    : 0;
            cv = c[cs.size() == 2 ? ci * cs[1] + cj : cj];
          }
          if (isIntType(t)) {
            uint64_t acc = 0;
            for (int64_t p = 0; p < k; ++p)
              acc += uint64_t(int64_t(ta ? a[p * m + i] : a[i * k + p])) *
                     uint64_t(int64_t(tb ? b[j * k + p] : b[p * n + j]));
            // Scaling saturates like a cast; the sum wraps.
            double prod = saturateTo(t, wrapTo(t, acc) * alpha);
            double add = beta == 0 ? 0 : saturateTo(t, beta * cv);
            want[i * n + j] =
                wrapTo(t, uint64_t(int64_t(prod)) + uint64_t(int64_t(add)));
          } else {
            double acc = 0;
            for (int64_t p = 0; p < k; ++p)
              acc += (ta ? a[p * m + i] : a[i * k + p]) *
                     (tb ? b[j * k + p] : b[p * n + j]);
            want[i * n + j] = alpha * acc + beta * cv;
          }
        }
      for (bool naive : {false, true}) {
        KernelHarness h("gemm");
        h.options().naiveGemm = naive;
        h.input(t, sa, a);
        h.input(t, sb, b);
        if (cKind != 0)
          h.input(t, cs, c);
        h.output(t, {m, n});
        h.attrs().set("alpha", alpha);
        h.attrs().set("beta", beta);
        h.attrs().set("trans_a", ta);
        h.attrs().set("trans_b", tb);
        poisonOutput(h, 0, m * n * dtypeBytes(t));
        std::string what = std::string(dtypeName(t)) + " trial " +
                           std::to_string(trial) + (naive ? " naive" : "");
        Status s = h.run();
        ASSERT_TRUE(s.ok()) << what << ": " << s.message();
        expectClose(h.outputAs<double>(0), want, t, what);
      }
    }
  }
}

TEST(MatMulKernels, GemmBetaZeroIgnoresC) {
  // beta = 0: C does not contribute, even where it is infinite.
  KernelHarness h("gemm");
  h.input<double>(DType::F32, {1, 2}, {1, 2});
  h.input<double>(DType::F32, {2, 1}, {3, 4});
  h.input<double>(DType::F32, {1}, {INFINITY});
  h.output(DType::F32, {1, 1});
  h.attrs().set("alpha", 1.0);
  h.attrs().set("beta", 0.0);
  h.attrs().set("trans_a", false);
  h.attrs().set("trans_b", false);
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<float>(0)[0], 11.0f);
}

TEST(MatMulKernels, GemmCheckRejects) {
  struct Case {
    std::vector<int64_t> a, b, c, out;
    bool ta, tb, hasC, ok;
  };
  const Case cases[] = {
      {{2, 3}, {3, 4}, {}, {2, 4}, false, false, false, true},
      {{3, 2}, {4, 3}, {4}, {2, 4}, true, true, true, true},
      {{2, 3}, {3, 4}, {2, 1}, {2, 4}, false, false, true, true},
      {{2, 3}, {4, 3}, {}, {2, 4}, false, false, false, false}, // inner
      {{2, 3}, {3, 4}, {}, {4, 2}, false, false, false, false}, // result
      {{2, 3}, {3, 4}, {3}, {2, 4}, false, false, true, false}, // C
      {{2, 3}, {3, 4}, {2}, {2, 4}, false, false, true, false}, // C [M]
      {{2, 3}, {3, 4}, {1, 2, 4}, {2, 4}, false, false, true, false},
      {{2, 3}, {3, 4}, {3, 4}, {2, 4}, false, false, true, false},
      {{2, 3, 1}, {3, 4}, {}, {2, 4}, false, false, false, false}, // rank
      {{6}, {3, 4}, {}, {2, 4}, false, false, false, false},
  };
  for (const Case &c : cases) {
    KernelHarness h("gemm");
    h.input<double>(DType::F32, c.a, {});
    h.input<double>(DType::F32, c.b, {});
    if (c.hasC)
      h.input<double>(DType::F32, c.c, {});
    h.output(DType::F32, c.out);
    h.attrs().set("alpha", 1.0);
    h.attrs().set("beta", 1.0);
    h.attrs().set("trans_a", c.ta);
    h.attrs().set("trans_b", c.tb);
    EXPECT_EQ(h.check().ok(), c.ok) << "case " << (&c - cases);
  }
  // Missing attributes and mixed types.
  KernelHarness h("gemm");
  h.input<double>(DType::F32, {2, 3}, {});
  h.input<double>(DType::F32, {3, 4}, {});
  h.output(DType::F32, {2, 4});
  h.attrs().set("alpha", 1.0);
  h.attrs().set("beta", 1.0);
  h.attrs().set("trans_a", false);
  EXPECT_FALSE(h.check().ok());
  h.attrs().set("trans_b", false);
  EXPECT_TRUE(h.check().ok());
  KernelHarness mixed("gemm");
  mixed.input<double>(DType::F32, {2, 3}, {});
  mixed.input<double>(DType::F64, {3, 4}, {});
  mixed.output(DType::F32, {2, 4});
  mixed.attrs().set("alpha", 1.0);
  mixed.attrs().set("beta", 1.0);
  mixed.attrs().set("trans_a", false);
  mixed.attrs().set("trans_b", false);
  EXPECT_FALSE(mixed.check().ok());
}

} // namespace

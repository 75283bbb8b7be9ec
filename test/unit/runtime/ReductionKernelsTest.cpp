//===- ReductionKernelsTest.cpp - reductions against direct computation ---===//
//
// The reference gathers, for each output element, the list of input
// elements that reduce into it (by decomposing every input index), then
// applies the op's definition to that list in double, or modulo 2^64 for
// integer sums and products. Shapes, axes and keepdims are drawn at random.

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>

using namespace mlg_rt;
using namespace mlg_rt::test;

namespace {

double lowestOf(DType t) {
  switch (t) {
  case DType::I8:
    return -128;
  case DType::I32:
    return INT32_MIN;
  case DType::I64:
    return double(INT64_MIN);
  case DType::U8:
    return 0;
  default:
    return -INFINITY;
  }
}

double highestOf(DType t) {
  switch (t) {
  case DType::I8:
    return 127;
  case DType::I32:
    return INT32_MAX;
  case DType::I64:
    return double(INT64_MAX);
  case DType::U8:
    return 255;
  default:
    return INFINITY;
  }
}

/// For each output element, the input values that reduce into it.
std::vector<std::vector<double>> groups(const std::vector<int64_t> &shape,
                                        const std::vector<double> &x,
                                        const std::vector<bool> &reduced) {
  std::vector<int64_t> outShape;
  for (size_t d = 0; d < shape.size(); ++d)
    if (!reduced[d])
      outShape.push_back(shape[d]);
  std::vector<std::vector<double>> g(numelOf(outShape));
  for (int64_t i = 0; i < numelOf(shape); ++i) {
    std::vector<int64_t> idx(shape.size());
    int64_t rem = i;
    for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
    }
    int64_t o = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      if (!reduced[d])
        o = o * shape[d] + idx[d];
    g[o].push_back(x[i]);
  }
  return g;
}

double referenceReduce(const std::string &op, DType t,
                       const std::vector<double> &v) {
  bool integer = isIntType(t);
  double n = double(v.size());
  if (op == "reduce_max" || op == "reduce_min") {
    bool isMax = op == "reduce_max";
    double r = isMax ? lowestOf(t) : highestOf(t);
    for (double x : v) {
      if (std::isnan(x))
        return NAN;
      r = isMax ? std::max(r, x) : std::min(r, x);
    }
    return r;
  }
  if (integer) {
    uint64_t acc = op == "reduce_prod" ? 1 : 0;
    double squares = 0, sum = 0;
    for (double x : v) {
      uint64_t w = uint64_t(int64_t(x));
      sum += x;
      squares += x * x;
      if (op == "reduce_prod")
        acc *= w;
      else if (op == "reduce_sum_square")
        acc += w * w;
      else if (op == "reduce_l1")
        acc += uint64_t(int64_t(std::fabs(x)));
      else
        acc += w;
    }
    if (op == "reduce_mean")
      return v.empty() ? 0 : std::trunc(sum / n);
    if (op == "reduce_l2") // saturates at the type's maximum
      return std::min(highestOf(t), std::trunc(std::sqrt(squares)));
    return wrapTo(t, acc);
  }
  double sum = 0, prod = 1, squares = 0, abs = 0, exps = 0;
  for (double x : v) {
    sum += x;
    prod *= x;
    squares += x * x;
    abs += std::fabs(x);
    exps += std::exp(x);
  }
  if (op == "reduce_mean")
    return sum / n;
  if (op == "reduce_sum")
    return sum;
  if (op == "reduce_prod")
    return prod;
  if (op == "reduce_sum_square")
    return squares;
  if (op == "reduce_l1")
    return abs;
  if (op == "reduce_l2")
    return std::sqrt(squares);
  if (op == "reduce_log_sum")
    return std::log(sum);
  if (op == "reduce_log_sum_exp")
    return std::log(exps);
  ADD_FAILURE() << "unknown op " << op;
  return 0;
}

const char *kOps[] = {"reduce_mean",       "reduce_sum",  "reduce_max",
                      "reduce_min",        "reduce_prod", "reduce_sum_square",
                      "reduce_l1",         "reduce_l2",   "reduce_log_sum",
                      "reduce_log_sum_exp"};

bool floatOnly(const std::string &op) {
  return op == "reduce_log_sum" || op == "reduce_log_sum_exp";
}

std::vector<double> randomValues(std::mt19937 &rng, DType t,
                                 const std::string &op, int64_t n) {
  std::vector<double> v(n);
  for (double &x : v) {
    if (t == DType::U8)
      x = double(rng() % 256);
    else if (t == DType::I8)
      x = double(int(rng() % 256) - 128);
    else if (isIntType(t))
      x = double(int(rng() % 41) - 20);
    else if (op == "reduce_log_sum")
      x = double(1 + rng() % 16) / 4; // positive: a real logarithm
    else if (op == "reduce_prod")
      x = (rng() % 2 ? 1.0 : -1.0) * (0.75 + 0.25 * (rng() % 3));
    else
      x = double(int(rng() % 33) - 16) / 4;
  }
  return v;
}

double tolerance(DType t) {
  switch (t) {
  case DType::F16:
    return 2e-3;
  case DType::BF16:
    return 2e-2;
  case DType::F32:
    return 1e-5;
  case DType::F64:
    return 1e-12;
  default:
    return 0;
  }
}

void expectSame(double got, double want, DType t, const std::string &what) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what << ": " << got;
  } else if (std::isinf(want) || tolerance(t) == 0) {
    EXPECT_EQ(got, want) << what;
  } else {
    EXPECT_NEAR(got, want, tolerance(t) * (1 + std::fabs(want))) << what;
  }
}

/// Runs `op` on `shape` over `axes` and compares with the reference.
void checkReduce(const std::string &op, DType t,
                 const std::vector<int64_t> &shape,
                 const std::vector<int64_t> &axes, bool keepdims,
                 const std::vector<double> &x) {
  std::vector<bool> reduced(shape.size(), false);
  for (int64_t a : axes)
    reduced[a] = true;
  std::vector<int64_t> outShape;
  for (size_t d = 0; d < shape.size(); ++d)
    if (!reduced[d])
      outShape.push_back(shape[d]);
    else if (keepdims)
      outShape.push_back(1);
  auto g = groups(shape, x, reduced);
  if (numelOf(outShape) == 0)
    g.clear();
  KernelHarness h(op);
  h.input(t, shape, x);
  h.output(t, outShape);
  h.attrs().set("axes", axes);
  h.attrs().set("keepdims", keepdims);
  std::memset(h.outputData(0), 0xff, numelOf(outShape) * dtypeBytes(t));
  std::string what = op + " " + dtypeName(t) + " rank " +
                     std::to_string(shape.size()) + " axes";
  for (int64_t a : axes)
    what += " " + std::to_string(a);
  Status s = h.run();
  ASSERT_TRUE(s.ok()) << what << ": " << s.message();
  std::vector<double> got = h.outputAs<double>(0);
  ASSERT_EQ(got.size(), g.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    expectSame(got[i], referenceReduce(op, t, g[i]), t,
               what + " element " + std::to_string(i));
}

TEST(ReductionKernels, RandomShapesAndAxes) {
  std::mt19937 rng(5);
  for (DType t : {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I32,
                  DType::I64, DType::U8, DType::I8}) {
    for (const char *op : kOps) {
      if (isIntType(t) && floatOnly(op))
        continue;
      for (int trial = 0; trial < 30; ++trial) {
        size_t rank = rng() % 5;
        std::vector<int64_t> shape(rank);
        for (int64_t &d : shape)
          d = 1 + rng() % 4;
        std::vector<int64_t> axes;
        for (size_t d = 0; d < rank; ++d)
          if (trial % 7 == 0 || (trial % 7 != 1 && rng() % 2))
            axes.push_back(int64_t(d)); // all, none, or a random subset
        // Products of bf16/f16 values drift; keep them short.
        if ((t == DType::F16 || t == DType::BF16) &&
            std::string(op) == "reduce_prod" && numelOf(shape) > 8)
          continue;
        checkReduce(op, t, shape, axes, trial % 2,
                    randomValues(rng, t, op, numelOf(shape)));
      }
    }
  }
}

TEST(ReductionKernels, LongRunsAndStridedAxes) {
  // Layer-norm-like trailing axes, leading axes and alternating ones.
  std::mt19937 rng(9);
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>
      cases = {{{4, 16, 96}, {2}},     {{4, 16, 96}, {0}},
               {{4, 16, 96}, {0, 2}},  {{3, 5, 7, 9}, {1, 3}},
               {{3, 5, 7, 9}, {0, 1}}, {{1, 300, 1}, {1}},
               {{2, 1, 5}, {1}}};
  for (const char *op : kOps)
    for (auto &[shape, axes] : cases)
      for (bool keep : {false, true})
        checkReduce(op, DType::F32, shape, axes, keep,
                    randomValues(rng, DType::F32, op, numelOf(shape)));
}

TEST(ReductionKernels, EmptyAxesReduceEachElementAlone) {
  // No axes: every output element is its op over one input element.
  std::mt19937 rng(2);
  for (const char *op : kOps) {
    checkReduce(op, DType::F32, {2, 3}, {}, true,
                randomValues(rng, DType::F32, op, 6));
    checkReduce(op, DType::F32, {}, {}, false,
                randomValues(rng, DType::F32, op, 1));
  }
  // The identity for sum: the output equals the input.
  KernelHarness h("reduce_sum");
  h.input<double>(DType::I32, {3}, {4, -5, 6});
  h.output(DType::I32, {3});
  h.attrs().set("axes", std::vector<int64_t>{});
  h.attrs().set("keepdims", false);
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<int>(0), (std::vector<int>{4, -5, 6}));
}

TEST(ReductionKernels, EmptyInputGivesIdentities) {
  for (const char *op : kOps) {
    checkReduce(op, DType::F32, {2, 0, 3}, {1}, true, {});
    checkReduce(op, DType::F64, {0}, {0}, false, {});
    checkReduce(op, DType::F32, {0, 3}, {1}, false, {}); // empty result
    if (!floatOnly(op))
      checkReduce(op, DType::I32, {2, 0}, {1}, false, {});
  }
}

TEST(ReductionKernels, NanPropagates) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const char *op :
       {"reduce_max", "reduce_min", "reduce_sum", "reduce_log_sum_exp"})
    checkReduce(op, DType::F32, {2, 3}, {1}, false, {1, nan, 3, 4, 5, 6});
  // Infinities in log_sum_exp are not subtracted from themselves.
  checkReduce("reduce_log_sum_exp", DType::F32, {2, 2}, {1}, false,
              {-INFINITY, -INFINITY, INFINITY, 1});
}

TEST(ReductionKernels, LogSumExpDoesNotOverflow) {
  KernelHarness h("reduce_log_sum_exp");
  h.input<double>(DType::F32, {2}, {1000, 1000});
  h.output(DType::F32, {});
  h.attrs().set("axes", std::vector<int64_t>{0});
  h.attrs().set("keepdims", false);
  ASSERT_TRUE(h.run().ok());
  EXPECT_NEAR(h.outputAs<double>(0)[0], 1000 + std::log(2.0), 1e-3);
}

TEST(ReductionKernels, CheckRejects) {
  auto ok = [](const std::string &op, DType t, std::vector<int64_t> in,
               std::vector<int64_t> out,
               std::optional<std::vector<int64_t>> axes,
               std::optional<bool> keepdims, DType outType = DType::Invalid) {
    KernelHarness h(op);
    h.input<double>(t, in, {});
    h.output(outType == DType::Invalid ? t : outType, out);
    if (axes)
      h.attrs().set("axes", *axes);
    if (keepdims)
      h.attrs().set("keepdims", *keepdims);
    return h.check().ok();
  };
  using V = std::vector<int64_t>;
  EXPECT_TRUE(ok("reduce_sum", DType::F32, {2, 3}, {2}, V{1}, false));
  EXPECT_TRUE(ok("reduce_sum", DType::F32, {2, 3}, {2, 1}, V{1}, true));
  EXPECT_FALSE(ok("reduce_sum", DType::F32, {2, 3}, {2, 1}, V{1}, false));
  EXPECT_FALSE(ok("reduce_sum", DType::F32, {2, 3}, {3}, V{1}, false));
  EXPECT_FALSE(ok("reduce_sum", DType::F32, {2, 3}, {}, V{1, 0}, false));
  EXPECT_FALSE(ok("reduce_sum", DType::F32, {2, 3}, {}, V{1, 1}, false));
  EXPECT_FALSE(ok("reduce_sum", DType::F32, {2, 3}, {2}, V{2}, false));
  EXPECT_FALSE(ok("reduce_sum", DType::F32, {2, 3}, {2}, V{-1}, false));
  EXPECT_FALSE(ok("reduce_sum", DType::F32, {2, 3}, {2}, std::nullopt, false));
  EXPECT_FALSE(ok("reduce_sum", DType::F32, {2, 3}, {2}, V{1}, std::nullopt));
  EXPECT_FALSE(
      ok("reduce_sum", DType::F32, {2, 3}, {2}, V{1}, false, DType::F64));
  EXPECT_FALSE(ok("reduce_sum", DType::Bool, {2, 3}, {2}, V{1}, false));
  EXPECT_FALSE(ok("reduce_log_sum", DType::I32, {2, 3}, {2}, V{1}, false));
  EXPECT_TRUE(ok("reduce_log_sum", DType::F16, {2, 3}, {2}, V{1}, false));
}

//===----------------------------------------------------------------------===//
// argmax, argmin
//===----------------------------------------------------------------------===//

void checkArg(bool isMax, DType t, const std::vector<int64_t> &shape,
              int64_t axis, bool keepdims, bool last,
              const std::vector<double> &x) {
  std::vector<int64_t> outShape;
  for (size_t d = 0; d < shape.size(); ++d)
    if (int64_t(d) != axis)
      outShape.push_back(shape[d]);
    else if (keepdims)
      outShape.push_back(1);
  std::vector<bool> reduced(shape.size(), false);
  reduced[axis] = true;
  // Groups list their values in axis order.
  auto g = groups(shape, x, reduced);
  KernelHarness h(isMax ? "argmax" : "argmin");
  h.input(t, shape, x);
  h.output(DType::I64, outShape);
  h.attrs().set("axis", axis);
  h.attrs().set("keepdims", keepdims);
  h.attrs().set("select_last_index", last);
  std::memset(h.outputData(0), 0xff, numelOf(outShape) * 8);
  Status s = h.run();
  ASSERT_TRUE(s.ok()) << s.message();
  std::vector<int64_t> got = h.outputAs<int64_t>(0);
  ASSERT_EQ(got.size(), g.size());
  for (size_t i = 0; i < g.size(); ++i) {
    // numpy: NaN is the extreme; otherwise the first (last) best.
    int64_t want = 0;
    for (int64_t j = 0; j < int64_t(g[i].size()); ++j) {
      double v = g[i][j], b = g[i][want];
      bool take;
      if (std::isnan(b))
        take = last && std::isnan(v);
      else if (std::isnan(v))
        take = true;
      else
        take = last ? (isMax ? v >= b : v <= b) : (isMax ? v > b : v < b);
      if (j > 0 && take)
        want = j;
    }
    EXPECT_EQ(got[i], want)
        << (isMax ? "argmax" : "argmin") << " " << dtypeName(t) << " axis "
        << axis << " last " << last << " element " << i;
  }
}

TEST(ReductionKernels, ArgMaxArgMin) {
  std::mt19937 rng(4);
  for (DType t :
       {DType::F32, DType::F64, DType::F16, DType::I32, DType::U8, DType::I64})
    for (int trial = 0; trial < 40; ++trial) {
      size_t rank = 1 + rng() % 4;
      std::vector<int64_t> shape(rank);
      for (int64_t &d : shape)
        d = 1 + rng() % 5;
      std::vector<double> x(numelOf(shape));
      for (double &v : x)
        v = double(rng() % 4); // ties are common
      int64_t axis = rng() % rank;
      checkArg(trial % 2, t, shape, axis, trial % 3 == 0, trial % 4 < 2, x);
    }
}

TEST(ReductionKernels, ArgMaxNan) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (bool last : {false, true}) {
    checkArg(true, DType::F32, {6}, 0, false, last, {1, nan, 3, nan, 9, 2});
    checkArg(false, DType::F32, {6}, 0, false, last, {1, nan, 3, nan, -9, 2});
  }
}

TEST(ReductionKernels, ArgCheckRejects) {
  auto ok = [](DType t, std::vector<int64_t> in, std::vector<int64_t> out,
               int64_t axis, DType outType = DType::I64) {
    KernelHarness h("argmax");
    h.input<double>(t, in, {});
    h.output(outType, out);
    h.attrs().set("axis", axis);
    h.attrs().set("keepdims", false);
    h.attrs().set("select_last_index", false);
    return h.check().ok();
  };
  EXPECT_TRUE(ok(DType::F32, {2, 3}, {2}, 1));
  EXPECT_TRUE(ok(DType::F32, {2, 3}, {3}, 0));
  EXPECT_FALSE(ok(DType::F32, {2, 3}, {2}, 0));
  EXPECT_FALSE(ok(DType::F32, {2, 3}, {2}, 2));
  EXPECT_FALSE(ok(DType::F32, {2, 3}, {2}, -1));
  EXPECT_FALSE(ok(DType::F32, {2, 3}, {2}, 1, DType::I32));
  EXPECT_FALSE(ok(DType::Bool, {2, 3}, {2}, 1));
  KernelHarness h("argmin");
  h.input<double>(DType::F32, {2, 3}, {});
  h.output(DType::I64, {2});
  h.attrs().set("axis", int64_t(1));
  h.attrs().set("keepdims", false);
  EXPECT_FALSE(h.check().ok()); // no select_last_index
}

} // namespace

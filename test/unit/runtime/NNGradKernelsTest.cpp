// NNGradKernelsTest.cpp - the backward kernels of the NN ops against direct
// references.
//
// Each reference is the adjoint written from the forward's definition, the
// plain way: a convolution's gradients loop over every output, filter and
// tap and add where the tap lands in the input (the kernels use GEMM and
// col2im); a pool's loop over every window and tap with a bounds test (the
// kernels use precomputed tap ranges); the normalization and softmax
// gradients in double from their formulas. The finite-difference checks of
// test/unit/gradients/NNGradientsTest.cpp check the formulas themselves.

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

using namespace mlg_rt;
using mlg_rt::test::KernelHarness;

namespace {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

/// The row-major multi-index of `flat` in `shape`.
Shape unravel(int64_t flat, const Shape &shape) {
  Shape idx(shape.size());
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

int64_t ravel(const Shape &idx, const Shape &shape) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    flat = flat * shape[d] + idx[d];
  return flat;
}

std::vector<double> randomValues(int64_t n, std::mt19937 &rng, double lo = -1.0,
                                 double hi = 1.0) {
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (double &x : v)
    x = dist(rng);
  return v;
}

/// `v` rounded to what a tensor of `dtype` holds.
std::vector<double> rounded(DType dtype, std::vector<double> v) {
  for (double &x : v) {
    if (dtype == DType::F32)
      x = float(x);
    else if (dtype == DType::F16)
      x = halfToFloat(floatToHalf(float(x)));
    else if (dtype == DType::BF16)
      x = bf16ToFloat(floatToBf16(float(x)));
  }
  return v;
}

void expectNear(const std::vector<double> &got, const std::vector<double> &want,
                double rtol, double atol, const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], atol + rtol * std::fabs(want[i]))
        << what << " at " << i;
}

/// Output size of one window dimension, PyTorch's rule written out.
int64_t windowSize(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb,
                   int64_t pe, bool ceil) {
  int64_t span = d * (k - 1) + 1, padded = in + pb + pe;
  int64_t out =
      ceil ? (padded - span + s - 1) / s + 1 : (padded - span) / s + 1;
  if (ceil && (out - 1) * s >= in + pb)
    --out;
  return out;
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

struct ConvCase {
  Shape x, w; // [N, C, spatial...], [M, C / group, kernel...]
  int64_t group;
  Shape strides, pads, dilations;
};

Shape convOutShape(const ConvCase &k) {
  size_t sp = k.x.size() - 2;
  Shape out = {k.x[0], k.w[0]};
  for (size_t i = 0; i < sp; ++i)
    out.push_back(windowSize(k.x[2 + i], k.w[2 + i], k.strides[i],
                             k.dilations[i], k.pads[i], k.pads[i + sp], false));
  return out;
}

/// Calls fn(xFlat, wFlat, yFlat) for every (output, filter tap) pair of the
/// forward convolution whose tap lands inside the input.
template <typename Fn> void forEachConvTap(const ConvCase &k, Fn fn) {
  size_t sp = k.x.size() - 2;
  Shape out = convOutShape(k);
  int64_t cg = k.x[1] / k.group, mg = k.w[0] / k.group;
  Shape wTail(k.w.begin() + 1, k.w.end());
  for (int64_t o = 0; o < numel(out); ++o) {
    Shape oi = unravel(o, out);
    int64_t n = oi[0], m = oi[1], g = m / mg;
    for (int64_t t = 0; t < numel(wTail); ++t) {
      Shape ti = unravel(t, wTail);
      Shape xi = {n, g * cg + ti[0]};
      bool inside = true;
      for (size_t i = 0; i < sp; ++i) {
        int64_t pos =
            oi[2 + i] * k.strides[i] - k.pads[i] + ti[1 + i] * k.dilations[i];
        inside &= pos >= 0 && pos < k.x[2 + i];
        xi.push_back(pos);
      }
      if (inside)
        fn(ravel(xi, k.x), m * numel(wTail) + t, o);
    }
  }
}

int64_t convWorkspace(const ConvCase &k, DType dtype) {
  Shape out = convOutShape(k);
  return numel(Shape(k.w.begin() + 1, k.w.end())) *
         numel(Shape(out.begin() + 2, out.end())) * dtypeBytes(dtype);
}

void setConvAttrs(KernelHarness &h, const ConvCase &k) {
  h.attrs().set("strides", k.strides);
  h.attrs().set("pads", k.pads);
  h.attrs().set("dilations", k.dilations);
  h.attrs().set("group", k.group);
}

const std::vector<ConvCase> &convCases() {
  static const std::vector<ConvCase> cases = {
      // 1-D, grouped, strided, dilated, asymmetric pads.
      {{2, 4, 11}, {6, 2, 3}, 2, {2}, {1, 2}, {2}},
      // 2-D with per-dimension strides, pads and dilations.
      {{1, 3, 9, 8}, {4, 3, 3, 2}, 1, {1, 2}, {2, 0, 1, 1}, {1, 2}},
      // Depthwise, overlapping windows.
      {{2, 4, 7, 7}, {4, 1, 3, 3}, 4, {2, 2}, {1, 1, 1, 1}, {1, 1}},
      // 3-D.
      {{1, 2, 5, 6, 4},
       {3, 2, 2, 3, 2},
       1,
       {1, 2, 1},
       {0, 1, 1, 1, 0, 1},
       {2, 1, 1}},
      // 1x1, unit strides, no padding: no column matrix.
      {{2, 6, 5, 4}, {8, 3, 1, 1}, 2, {1, 1}, {0, 0, 0, 0}, {1, 1}},
      // 1x1 with a stride: inputs no window reads get 0.
      {{1, 4, 7, 6}, {5, 4, 1, 1}, 1, {2, 3}, {0, 0, 0, 0}, {1, 1}},
      // Padding larger than the kernel: whole rows of the column matrix
      // fall in the padding.
      {{1, 2, 4, 3}, {2, 2, 2, 2}, 1, {3, 1}, {3, 2, 0, 3}, {1, 1}},
  };
  return cases;
}

/// Runs conv_backward_data and conv_backward_filter on `k` in `dtype` and
/// compares both with the reference adjoints.
void runConvGradCase(const ConvCase &k, DType dtype, bool naive, uint32_t seed,
                     double tol) {
  std::mt19937 rng(seed);
  Shape out = convOutShape(k);
  auto x = rounded(dtype, randomValues(numel(k.x), rng));
  auto w = rounded(dtype, randomValues(numel(k.w), rng));
  auto dy = rounded(dtype, randomValues(numel(out), rng));
  std::vector<double> dx(numel(k.x), 0.0), dw(numel(k.w), 0.0);
  forEachConvTap(k, [&](int64_t xi, int64_t wi, int64_t yi) {
    dx[xi] += w[wi] * dy[yi];
    dw[wi] += x[xi] * dy[yi];
  });
  {
    KernelHarness h("conv_backward_data");
    h.input(dtype, out, dy);
    h.input(dtype, k.w, w);
    h.output(dtype, k.x);
    h.workspace(convWorkspace(k, dtype));
    h.options().naiveGemm = naive;
    setConvAttrs(h, k);
    Status s = h.run();
    ASSERT_TRUE(s.ok()) << s.message();
    expectNear(h.outputAs<double>(0), dx, tol, tol,
               std::string("conv_backward_data ") + dtypeName(dtype));
  }
  {
    KernelHarness h("conv_backward_filter");
    h.input(dtype, out, dy);
    h.input(dtype, k.x, x);
    h.output(dtype, k.w);
    h.workspace(convWorkspace(k, dtype));
    h.options().naiveGemm = naive;
    setConvAttrs(h, k);
    Status s = h.run();
    ASSERT_TRUE(s.ok()) << s.message();
    expectNear(h.outputAs<double>(0), dw, tol, tol,
               std::string("conv_backward_filter ") + dtypeName(dtype));
  }
}

/// Random cases over 1 to 3 spatial dimensions.
std::vector<ConvCase> randomConvCases(int count, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  std::vector<ConvCase> cases;
  while (int(cases.size()) < count) {
    ConvCase k;
    int64_t sp = pick(1, 3);
    k.group = pick(1, 3);
    int64_t cg = pick(1, 3), mg = pick(1, 3);
    k.x = {pick(1, 3), cg * k.group};
    k.w = {mg * k.group, cg};
    k.pads.assign(2 * sp, 0);
    bool fits = true;
    for (int64_t i = 0; i < sp; ++i) {
      int64_t in = pick(1, sp == 3 ? 6 : 10), ker = pick(1, 3);
      k.x.push_back(in);
      k.w.push_back(ker);
      k.strides.push_back(pick(1, 3));
      k.dilations.push_back(pick(1, 2));
      k.pads[i] = pick(0, 2);
      k.pads[i + sp] = pick(0, 2);
      fits &= in + k.pads[i] + k.pads[i + sp] >= k.dilations[i] * (ker - 1) + 1;
    }
    if (fits)
      cases.push_back(k);
  }
  return cases;
}

TEST(NNGradConv, MatchesDirectAdjoints) {
  uint32_t seed = 1;
  for (const ConvCase &k : convCases()) {
    SCOPED_TRACE(testing::Message() << "case " << seed);
    runConvGradCase(k, DType::F32, false, seed, 1e-5);
    runConvGradCase(k, DType::F32, true, seed, 1e-5);
    runConvGradCase(k, DType::F64, false, seed, 1e-12);
    ++seed;
  }
}

TEST(NNGradConv, MatchesDirectAdjointsOnRandomShapes) {
  uint32_t seed = 100;
  for (const ConvCase &k : randomConvCases(60, 11)) {
    SCOPED_TRACE(testing::Message() << "random case " << seed);
    runConvGradCase(k, DType::F32, false, seed, 1e-5);
    runConvGradCase(k, DType::F64, true, seed, 1e-12);
    ++seed;
  }
}

TEST(NNGradConv, HalfPrecisionAccumulatesInFloat) {
  uint32_t seed = 200;
  for (const ConvCase &k : convCases()) {
    SCOPED_TRACE(testing::Message() << "case " << seed);
    // The filter gradient sums over the batch and every position: a few
    // units of the result's rounding.
    runConvGradCase(k, DType::F16, false, seed, 1e-2);
    runConvGradCase(k, DType::BF16, false, seed, 5e-2);
    ++seed;
  }
}

TEST(NNGradConv, OverwritesPoisonedResults) {
  // The results start as NaN (the runtime's poisoning): every element must
  // be written, including inputs no window reads and filters of an empty
  // batch.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const ConvCase &k :
       {convCases()[5], ConvCase{{0, 2, 3}, {2, 2, 2}, 1, {1}, {0, 0}, {1}}}) {
    Shape out = convOutShape(k);
    KernelHarness data("conv_backward_data");
    data.input(DType::F32, out, std::vector<double>(numel(out), 1.0));
    data.input(DType::F32, k.w, std::vector<double>(numel(k.w), 1.0));
    data.output(DType::F32, k.x);
    data.workspace(convWorkspace(k, DType::F32));
    setConvAttrs(data, k);
    float *dx = static_cast<float *>(data.outputData(0));
    std::fill(dx, dx + numel(k.x), float(nan));
    ASSERT_TRUE(data.run().ok());
    for (double v : data.outputAs<double>(0))
      ASSERT_FALSE(std::isnan(v));
    KernelHarness filter("conv_backward_filter");
    filter.input(DType::F32, out, std::vector<double>(numel(out), 1.0));
    filter.input(DType::F32, k.x, std::vector<double>(numel(k.x), 1.0));
    filter.output(DType::F32, k.w);
    filter.workspace(convWorkspace(k, DType::F32));
    setConvAttrs(filter, k);
    float *dw = static_cast<float *>(filter.outputData(0));
    std::fill(dw, dw + numel(k.w), float(nan));
    ASSERT_TRUE(filter.run().ok());
    for (double v : filter.outputAs<double>(0))
      ASSERT_FALSE(std::isnan(v));
  }
}

TEST(NNGradConv, CheckRejectsInconsistentSteps) {
  const ConvCase k = convCases()[1];
  Shape out = convOutShape(k);
  // (kernel, dy, other operand, result) of each kernel.
  struct Kind {
    const char *name;
    Shape operand, result;
  };
  for (const Kind &kind : {Kind{"conv_backward_data", k.w, k.x},
                           Kind{"conv_backward_filter", k.x, k.w}}) {
    SCOPED_TRACE(kind.name);
    auto make = [&](KernelHarness &h, Shape dy, Shape operand, Shape result,
                    DType resultType = DType::F32) {
      h.input(DType::F32, dy, std::vector<double>{});
      h.input(DType::F32, operand, std::vector<double>{});
      h.output(resultType, result);
      h.workspace(convWorkspace(k, DType::F32));
      setConvAttrs(h, k);
    };
    {
      KernelHarness h(kind.name);
      make(h, out, kind.operand, kind.result);
      EXPECT_TRUE(h.check().ok()) << h.check().message();
    }
    {
      KernelHarness h(kind.name);
      make(h, out, kind.operand, kind.result);
      h.workspace(convWorkspace(k, DType::F32) - 1);
      EXPECT_FALSE(h.check().ok()) << "a workspace one byte short";
    }
    {
      Shape wrong = out;
      ++wrong[3];
      KernelHarness h(kind.name);
      make(h, wrong, kind.operand, kind.result);
      EXPECT_FALSE(h.check().ok()) << "an output gradient of the wrong shape";
    }
    {
      Shape wrong = kind.result;
      ++wrong[1];
      KernelHarness h(kind.name);
      make(h, out, kind.operand, wrong);
      EXPECT_FALSE(h.check().ok()) << "a result with the wrong channels";
    }
    {
      KernelHarness h(kind.name);
      make(h, out, kind.operand, kind.result, DType::F64);
      EXPECT_FALSE(h.check().ok()) << "mixed element types";
    }
    {
      KernelHarness h(kind.name);
      make(h, out, kind.operand, kind.result);
      h.attrs().set("group", int64_t(0));
      EXPECT_FALSE(h.check().ok()) << "group 0";
    }
    {
      KernelHarness h(kind.name);
      make(h, out, kind.operand, kind.result);
      h.attrs().set("pads", Shape{2, 0, 1});
      EXPECT_FALSE(h.check().ok()) << "three pads for two dimensions";
    }
    {
      KernelHarness h(kind.name);
      make(h, out, kind.operand, kind.result);
      h.attrs().set("strides", Shape{0, 2});
      EXPECT_FALSE(h.check().ok()) << "stride 0";
    }
    {
      KernelHarness h(kind.name);
      h.input(DType::F32, out, std::vector<double>{});
      h.output(DType::F32, kind.result);
      h.workspace(convWorkspace(k, DType::F32));
      setConvAttrs(h, k);
      EXPECT_FALSE(h.check().ok()) << "one operand";
    }
    {
      KernelHarness h(kind.name);
      Shape deeper = out;
      deeper.push_back(1);
      make(h, deeper, kind.operand, kind.result);
      EXPECT_FALSE(h.check().ok()) << "an output gradient of another rank";
    }
  }
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

struct PoolCase {
  Shape x, kernel, strides, pads, dilations;
  bool ceil;
};

Shape poolOutShape(const PoolCase &k) {
  size_t sp = k.x.size() - 2;
  Shape out = {k.x[0], k.x[1]};
  for (size_t i = 0; i < sp; ++i)
    out.push_back(windowSize(k.x[2 + i], k.kernel[i], k.strides[i],
                             k.dilations[i], k.pads[i], k.pads[i + sp],
                             k.ceil));
  return out;
}

/// Calls fn(yFlat, taps) for every output, where taps lists the input
/// positions of its window's taps in row-major tap order (-1 in the
/// padding) and `padded` how many lie inside the padded extent.
template <typename Fn> void forEachWindow(const PoolCase &k, Fn fn) {
  size_t sp = k.x.size() - 2;
  Shape out = poolOutShape(k);
  for (int64_t o = 0; o < numel(out); ++o) {
    Shape oi = unravel(o, out);
    std::vector<int64_t> taps;
    int64_t padded = 0;
    for (int64_t t = 0; t < numel(k.kernel); ++t) {
      Shape ti = unravel(t, k.kernel);
      Shape xi = {oi[0], oi[1]};
      bool inside = true, inPadded = true;
      for (size_t i = 0; i < sp; ++i) {
        int64_t pos =
            oi[2 + i] * k.strides[i] - k.pads[i] + ti[i] * k.dilations[i];
        inside &= pos >= 0 && pos < k.x[2 + i];
        inPadded &= pos >= -k.pads[i] && pos < k.x[2 + i] + k.pads[i + sp];
        xi.push_back(pos);
      }
      taps.push_back(inside ? ravel(xi, k.x) : -1);
      padded += inPadded;
    }
    fn(o, taps, padded);
  }
}

void setPoolAttrs(KernelHarness &h, const PoolCase &k) {
  h.attrs().set("kernel_shape", k.kernel);
  h.attrs().set("strides", k.strides);
  h.attrs().set("pads", k.pads);
  h.attrs().set("dilations", k.dilations);
  h.attrs().set("ceil_mode", k.ceil);
}

const std::vector<PoolCase> &poolCases() {
  static const std::vector<PoolCase> cases = {
      // Overlapping padded windows.
      {{2, 2, 5, 5}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, false},
      // Ceil mode: the last window runs past the end padding.
      {{1, 2, 6, 6}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, true},
      // 1-D, dilated, asymmetric pads.
      {{2, 3, 9}, {3}, {2}, {2, 1}, {2}, false},
      // 3-D in ceil mode.
      {{1, 2, 5, 4, 3},
       {2, 2, 2},
       {2, 2, 1},
       {0, 1, 0, 0, 0, 1},
       {1, 1, 1},
       true},
      // Padding wider than the window: windows wholly in the padding.
      {{1, 1, 3, 3}, {2, 2}, {3, 3}, {3, 3, 3, 3}, {1, 1}, false},
  };
  return cases;
}

std::vector<double> maxPoolBackwardReference(const PoolCase &k,
                                             const std::vector<double> &x,
                                             const std::vector<double> &dy) {
  std::vector<double> dx(x.size(), 0.0);
  forEachWindow(k, [&](int64_t o, const std::vector<int64_t> &taps, int64_t) {
    int64_t best = -1;
    for (int64_t t : taps)
      if (t >= 0 && (best < 0 || x[t] > x[best] ||
                     (std::isnan(x[t]) && !std::isnan(x[best]))))
        best = t;
    if (best >= 0)
      dx[best] += dy[o];
  });
  return dx;
}

std::vector<double>
averagePoolBackwardReference(const PoolCase &k, bool includePad,
                             const std::vector<double> &dy) {
  std::vector<double> dx(numel(k.x), 0.0);
  forEachWindow(
      k, [&](int64_t o, const std::vector<int64_t> &taps, int64_t padded) {
        int64_t inside = 0;
        for (int64_t t : taps)
          inside += t >= 0;
        double count = double(includePad ? padded : inside);
        if (count == 0)
          return;
        for (int64_t t : taps)
          if (t >= 0)
            dx[t] += dy[o] / count;
      });
  return dx;
}

TEST(NNGradPool, MaxPoolBackwardRoutesToTheFirstMaximum) {
  uint32_t seed = 1;
  for (const PoolCase &k : poolCases())
    for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
      SCOPED_TRACE(testing::Message()
                   << "case " << seed << " " << dtypeName(dtype));
      std::mt19937 rng(seed++);
      Shape out = poolOutShape(k);
      // Few distinct values: plenty of ties, decided by tap order.
      auto x = randomValues(numel(k.x), rng);
      for (double &v : x)
        v = std::round(v * 2);
      auto dy = rounded(dtype, randomValues(numel(out), rng));
      KernelHarness h("max_pool_backward");
      h.input(dtype, out, dy);
      h.input(dtype, k.x, x);
      h.output(dtype, k.x);
      setPoolAttrs(h, k);
      Status s = h.run();
      ASSERT_TRUE(s.ok()) << s.message();
      double tol = dtype == DType::F16    ? 4e-3
                   : dtype == DType::BF16 ? 2e-2
                                          : 1e-6;
      expectNear(h.outputAs<double>(0), maxPoolBackwardReference(k, x, dy), tol,
                 tol, "max_pool_backward");
    }
}

TEST(NNGradPool, MaxPoolBackwardNaNWins) {
  // Like the forward kernel (and PyTorch), a NaN is the maximum.
  PoolCase k = {{1, 1, 1, 4}, {1, 2}, {1, 2}, {0, 0, 0, 0}, {1, 1}, false};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  KernelHarness h("max_pool_backward");
  h.input(DType::F32, {1, 1, 1, 2}, std::vector<double>{1.0, 2.0});
  h.input(DType::F32, k.x, std::vector<double>{5.0, nan, nan, 7.0});
  h.output(DType::F32, k.x);
  setPoolAttrs(h, k);
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<double>(0), (std::vector<double>{0, 1, 2, 0}));
}

TEST(NNGradPool, AveragePoolBackwardDividesAsTheForward) {
  uint32_t seed = 50;
  for (const PoolCase &k : poolCases())
    for (bool includePad : {false, true})
      for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
        SCOPED_TRACE(testing::Message()
                     << "case " << seed << " include pad " << includePad << " "
                     << dtypeName(dtype));
        std::mt19937 rng(seed++);
        Shape out = poolOutShape(k);
        auto dy = rounded(dtype, randomValues(numel(out), rng));
        KernelHarness h("average_pool_backward");
        h.input(dtype, out, dy);
        h.output(dtype, k.x);
        setPoolAttrs(h, k);
        h.attrs().set("count_include_pad", includePad);
        Status s = h.run();
        ASSERT_TRUE(s.ok()) << s.message();
        double tol = dtype == DType::F16    ? 4e-3
                     : dtype == DType::BF16 ? 2e-2
                                            : 1e-6;
        expectNear(h.outputAs<double>(0),
                   averagePoolBackwardReference(k, includePad, dy), tol, tol,
                   "average_pool_backward");
      }
}

TEST(NNGradPool, CheckRejectsInconsistentSteps) {
  const PoolCase k = poolCases()[1];
  Shape out = poolOutShape(k);
  for (const char *name : {"max_pool_backward", "average_pool_backward"}) {
    SCOPED_TRACE(name);
    bool isMax = std::string(name) == "max_pool_backward";
    auto make = [&](KernelHarness &h, Shape dy, Shape x, Shape dx,
                    DType dxType = DType::F32) {
      h.input(DType::F32, dy, std::vector<double>{});
      if (isMax)
        h.input(DType::F32, x, std::vector<double>{});
      h.output(dxType, dx);
      setPoolAttrs(h, k);
      h.attrs().set("count_include_pad", false);
    };
    {
      KernelHarness h(name);
      make(h, out, k.x, k.x);
      EXPECT_TRUE(h.check().ok()) << h.check().message();
    }
    {
      Shape wrong = out;
      ++wrong[2];
      KernelHarness h(name);
      make(h, wrong, k.x, k.x);
      EXPECT_FALSE(h.check().ok()) << "an output gradient of the wrong shape";
    }
    {
      KernelHarness h(name);
      make(h, out, k.x, k.x);
      h.attrs().set("ceil_mode", false);
      EXPECT_FALSE(h.check().ok()) << "the pooled shape of the other mode";
    }
    {
      KernelHarness h(name);
      make(h, out, k.x, k.x, DType::F64);
      EXPECT_FALSE(h.check().ok()) << "mixed element types";
    }
    {
      KernelHarness h(name);
      make(h, out, k.x, k.x);
      h.attrs().set("kernel_shape", Shape{3});
      EXPECT_FALSE(h.check().ok()) << "one kernel size for two dimensions";
    }
    {
      KernelHarness h(name);
      make(h, out, k.x, k.x);
      h.attrs().set("dilations", Shape{1, -1});
      EXPECT_FALSE(h.check().ok()) << "a negative dilation";
    }
    {
      KernelHarness h(name);
      h.input(DType::I32, out, std::vector<double>{});
      if (isMax)
        h.input(DType::I32, k.x, std::vector<double>{});
      h.output(DType::I32, k.x);
      setPoolAttrs(h, k);
      h.attrs().set("count_include_pad", false);
      EXPECT_FALSE(h.check().ok()) << "integers have no gradient";
    }
    if (isMax) {
      Shape wrong = k.x;
      ++wrong[3];
      KernelHarness h(name);
      make(h, out, k.x, wrong);
      EXPECT_FALSE(h.check().ok()) << "an input gradient unlike the input";
    } else {
      KernelHarness h(name);
      h.input(DType::F32, out, std::vector<double>{});
      h.output(DType::F32, k.x);
      setPoolAttrs(h, k);
      EXPECT_FALSE(h.check().ok()) << "no count_include_pad";
    }
  }
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

/// Batch norm's gradients from the formulas, with the batch statistics of
/// x (training) or the given mean and var.
void batchNormBackwardReference(
    const Shape &shape, const std::vector<double> &dy,
    const std::vector<double> &x, const std::vector<double> &scale,
    const std::vector<double> *mean, const std::vector<double> *var, double eps,
    std::vector<double> &dx, std::vector<double> &dscale,
    std::vector<double> &dbias) {
  int64_t channels = shape[1];
  dx.assign(x.size(), 0.0);
  dscale.assign(channels, 0.0);
  dbias.assign(channels, 0.0);
  for (int64_t ch = 0; ch < channels; ++ch) {
    std::vector<int64_t> at;
    for (int64_t i = 0; i < int64_t(x.size()); ++i)
      if (unravel(i, shape)[1] == ch)
        at.push_back(i);
    double n = double(at.size()), mu = 0, v = 0;
    if (mean) {
      mu = (*mean)[ch];
      v = (*var)[ch];
    } else {
      for (int64_t i : at)
        mu += x[i] / n;
      for (int64_t i : at)
        v += (x[i] - mu) * (x[i] - mu) / n;
    }
    double rstd = 1 / std::sqrt(v + eps);
    for (int64_t i : at) {
      dbias[ch] += dy[i];
      dscale[ch] += dy[i] * (x[i] - mu) * rstd;
    }
    for (int64_t i : at) {
      double xhat = (x[i] - mu) * rstd;
      dx[i] = mean ? dy[i] * scale[ch] * rstd
                   : scale[ch] * rstd *
                         (dy[i] - dbias[ch] / n - xhat * dscale[ch] / n);
    }
  }
}

TEST(NNGradNorm, BatchNormBackwardBothForms) {
  const Shape shape = {3, 4, 2, 3};
  uint32_t seed = 1;
  for (bool training : {true, false})
    for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16})
      for (bool inPlace : {false, true}) {
        SCOPED_TRACE(testing::Message()
                     << "training " << training << " " << dtypeName(dtype)
                     << " in place " << inPlace);
        std::mt19937 rng(seed++);
        auto dy = rounded(dtype, randomValues(numel(shape), rng));
        auto x = rounded(dtype, randomValues(numel(shape), rng, -2.0, 3.0));
        // Per-channel parameters in f32, as ONNX allows beside f16 data.
        auto scale = rounded(DType::F32, randomValues(4, rng, 0.5, 2.0));
        auto mean = rounded(DType::F32, randomValues(4, rng));
        auto var = rounded(DType::F32, randomValues(4, rng, 0.5, 2.0));
        std::vector<double> dx, ds, db;
        batchNormBackwardReference(shape, dy, x, scale,
                                   training ? nullptr : &mean,
                                   training ? nullptr : &var, 1e-5, dx, ds, db);
        KernelHarness h("batch_norm_backward");
        h.input(dtype, shape, dy);
        h.input(dtype, shape, x);
        h.input(DType::F32, {4}, scale);
        if (!training) {
          h.input(DType::F32, {4}, mean);
          h.input(DType::F32, {4}, var);
        }
        h.output(dtype, shape);
        h.output(DType::F32, {4});
        h.output(DType::F32, {4});
        h.attrs().set("epsilon", 1e-5);
        if (inPlace)
          h.aliasOutputToInput(0, training ? 1 : 0);
        Status s = h.run();
        ASSERT_TRUE(s.ok()) << s.message();
        double tol = dtype == DType::F16    ? 1e-2
                     : dtype == DType::BF16 ? 6e-2
                     : dtype == DType::F32  ? 1e-5
                                            : 1e-12;
        expectNear(h.outputAs<double>(0), dx, tol, tol, "dx");
        expectNear(h.outputAs<double>(1), ds, 1e-5, 1e-5, "dscale");
        expectNear(h.outputAs<double>(2), db, 1e-5, 1e-5, "dbias");
      }
}

TEST(NNGradNorm, BatchNormBackwardCheckRejects) {
  auto make = [](KernelHarness &h, int numIn, Shape x, Shape c) {
    h.input(DType::F32, x, std::vector<double>{});
    h.input(DType::F32, x, std::vector<double>{});
    for (int i = 2; i < numIn; ++i)
      h.input(DType::F32, c, std::vector<double>{});
    h.output(DType::F32, x);
    h.output(DType::F32, {3});
    h.output(DType::F32, {3});
    h.attrs().set("epsilon", 1e-5);
  };
  for (int numIn : {3, 5}) {
    KernelHarness h("batch_norm_backward");
    make(h, numIn, {2, 3, 4}, {3});
    EXPECT_TRUE(h.check().ok()) << h.check().message();
  }
  {
    KernelHarness h("batch_norm_backward");
    make(h, 4, {2, 3, 4}, {3});
    EXPECT_FALSE(h.check().ok()) << "a mean without a var";
  }
  {
    KernelHarness h("batch_norm_backward");
    make(h, 3, {2, 3, 4}, {4});
    EXPECT_FALSE(h.check().ok()) << "a scale of the wrong length";
  }
  {
    KernelHarness h("batch_norm_backward");
    h.input(DType::F32, {2, 3, 4}, std::vector<double>{});
    h.input(DType::F32, {2, 3, 5}, std::vector<double>{});
    h.input(DType::F32, {3}, std::vector<double>{});
    h.output(DType::F32, {2, 3, 5});
    h.output(DType::F32, {3});
    h.output(DType::F32, {3});
    h.attrs().set("epsilon", 1e-5);
    EXPECT_FALSE(h.check().ok()) << "dy unlike x";
  }
  {
    KernelHarness h("batch_norm_backward");
    make(h, 3, {2, 3, 4}, {3});
    h.attrs() = Attributes();
    EXPECT_FALSE(h.check().ok()) << "no epsilon";
  }
  {
    KernelHarness h("batch_norm_backward");
    h.input(DType::F32, {2, 3}, std::vector<double>{});
    h.input(DType::F32, {2, 3}, std::vector<double>{});
    h.input(DType::F32, {3}, std::vector<double>{});
    h.output(DType::F32, {2, 3});
    h.output(DType::F64, {3});
    h.output(DType::F32, {3});
    h.attrs().set("epsilon", 1e-5);
    EXPECT_FALSE(h.check().ok()) << "a scale gradient unlike the scale";
  }
}

TEST(NNGradNorm, LayerNormBackward) {
  struct Case {
    Shape x, scale;
    int64_t axis;
  };
  uint32_t seed = 10;
  for (const Case &k : {Case{{2, 3, 4}, {4}, 2}, Case{{2, 3, 4}, {1, 4}, 1},
                        Case{{3, 5}, {3, 5}, 0}, Case{{4, 1}, {1}, 1}})
    for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16})
      for (bool inPlace : {false, true}) {
        SCOPED_TRACE(testing::Message()
                     << "axis " << k.axis << " " << dtypeName(dtype)
                     << " in place " << inPlace);
        std::mt19937 rng(seed++);
        Shape stats = k.x;
        for (size_t d = k.axis; d < stats.size(); ++d)
          stats[d] = 1;
        int64_t rows = numel(stats), inner = numel(k.x) / rows;
        auto dy = rounded(dtype, randomValues(numel(k.x), rng));
        auto x = rounded(dtype, randomValues(numel(k.x), rng, -2.0, 3.0));
        auto scale = rounded(dtype, randomValues(numel(k.scale), rng));
        // The statistics as the forward stores them.
        std::vector<double> mean(rows), rstd(rows);
        for (int64_t r = 0; r < rows; ++r) {
          double m = 0, v = 0;
          for (int64_t j = 0; j < inner; ++j)
            m += x[r * inner + j] / inner;
          for (int64_t j = 0; j < inner; ++j)
            v += (x[r * inner + j] - m) * (x[r * inner + j] - m) / inner;
          mean[r] = m;
          rstd[r] = 1 / std::sqrt(v + 1e-5);
        }
        mean = rounded(dtype, mean);
        rstd = rounded(dtype, rstd);
        // The reference, from the chain rule through xhat.
        Shape normalized(k.x.begin() + k.axis, k.x.end());
        std::vector<double> dx(x.size()), ds(scale.size(), 0.0);
        for (int64_t r = 0; r < rows; ++r) {
          double sg = 0, sgx = 0;
          std::vector<double> g(inner), xhat(inner);
          for (int64_t j = 0; j < inner; ++j) {
            Shape ni = unravel(j, normalized);
            // The scale element of position j under broadcasting.
            Shape si(k.scale.size());
            for (size_t d = 0; d < si.size(); ++d) {
              size_t nd = normalized.size() - si.size() + d;
              si[d] = k.scale[d] == 1 ? 0 : ni[nd];
            }
            int64_t sj = ravel(si, k.scale);
            xhat[j] = (x[r * inner + j] - mean[r]) * rstd[r];
            g[j] = dy[r * inner + j] * scale[sj];
            sg += g[j];
            sgx += g[j] * xhat[j];
            ds[sj] += dy[r * inner + j] * xhat[j];
          }
          for (int64_t j = 0; j < inner; ++j)
            dx[r * inner + j] =
                rstd[r] * (g[j] - sg / inner - xhat[j] * sgx / inner);
        }
        KernelHarness h("layer_norm_backward");
        h.input(dtype, k.x, dy);
        h.input(dtype, k.x, x);
        h.input(dtype, k.scale, scale);
        h.input(dtype, stats, mean);
        h.input(dtype, stats, rstd);
        h.output(dtype, k.x);
        h.output(dtype, k.scale);
        h.attrs().set("axis", k.axis);
        if (inPlace)
          h.aliasOutputToInput(0, 0);
        Status s = h.run();
        ASSERT_TRUE(s.ok()) << s.message();
        double tol = dtype == DType::F16    ? 1e-2
                     : dtype == DType::BF16 ? 6e-2
                     : dtype == DType::F32  ? 1e-5
                                            : 1e-12;
        expectNear(h.outputAs<double>(0), dx, tol, tol, "dx");
        expectNear(h.outputAs<double>(1), ds, tol, tol, "dscale");
      }
}

TEST(NNGradNorm, LayerNormBackwardCheckRejects) {
  auto make = [](KernelHarness &h, Shape x, Shape scale, Shape stats,
                 int64_t axis) {
    h.input(DType::F32, x, std::vector<double>{});
    h.input(DType::F32, x, std::vector<double>{});
    h.input(DType::F32, scale, std::vector<double>{});
    h.input(DType::F32, stats, std::vector<double>{});
    h.input(DType::F32, stats, std::vector<double>{});
    h.output(DType::F32, x);
    h.output(DType::F32, scale);
    h.attrs().set("axis", axis);
  };
  {
    KernelHarness h("layer_norm_backward");
    make(h, {2, 3, 4}, {4}, {2, 3, 1}, 2);
    EXPECT_TRUE(h.check().ok()) << h.check().message();
  }
  {
    KernelHarness h("layer_norm_backward");
    make(h, {2, 3, 4}, {4}, {2, 3, 1}, 3);
    EXPECT_FALSE(h.check().ok()) << "axis out of range";
  }
  {
    KernelHarness h("layer_norm_backward");
    make(h, {2, 3, 4}, {5}, {2, 3, 1}, 2);
    EXPECT_FALSE(h.check().ok()) << "a scale that does not broadcast";
  }
  {
    KernelHarness h("layer_norm_backward");
    make(h, {2, 3, 4}, {3, 4}, {2, 3, 1}, 2);
    EXPECT_FALSE(h.check().ok()) << "a scale larger than the normalized shape";
  }
  {
    KernelHarness h("layer_norm_backward");
    make(h, {2, 3, 4}, {4}, {2, 1, 1}, 2);
    EXPECT_FALSE(h.check().ok()) << "statistics of another axis";
  }
  {
    KernelHarness h("layer_norm_backward");
    h.input(DType::F32, {2, 3, 4}, std::vector<double>{});
    h.input(DType::F32, {2, 3, 4}, std::vector<double>{});
    h.input(DType::F32, {4}, std::vector<double>{});
    h.input(DType::F32, {2, 3, 1}, std::vector<double>{});
    h.output(DType::F32, {2, 3, 4});
    h.output(DType::F32, {4});
    h.attrs().set("axis", int64_t(2));
    EXPECT_FALSE(h.check().ok()) << "no inv_std_dev";
  }
}

//===----------------------------------------------------------------------===//
// Softmax and dropout
//===----------------------------------------------------------------------===//

TEST(NNGradSoftmax, BackwardThroughTheJacobian) {
  const Shape shape = {3, 4, 5};
  uint32_t seed = 1;
  for (bool log : {false, true})
    for (int64_t axis = 0; axis < 3; ++axis)
      for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16})
        for (int inPlace : {-1, 0, 1}) {
          SCOPED_TRACE(testing::Message()
                       << (log ? "log_softmax" : "softmax") << " axis " << axis
                       << " " << dtypeName(dtype) << " in place " << inPlace);
          std::mt19937 rng(seed++);
          auto x = randomValues(numel(shape), rng, -3.0, 3.0);
          auto dy = rounded(dtype, randomValues(numel(shape), rng));
          // p = softmax(x) along the axis; the forward output y.
          std::vector<double> p(x.size()), y(x.size());
          for (int64_t i = 0; i < numel(shape); ++i) {
            Shape idx = unravel(i, shape);
            double sum = 0;
            for (int64_t k = 0; k < shape[axis]; ++k) {
              idx[axis] = k;
              sum += std::exp(x[ravel(idx, shape)]);
            }
            p[i] = std::exp(x[i]) / sum;
            y[i] = log ? std::log(p[i]) : p[i];
          }
          y = rounded(dtype, y);
          // dx_i = sum_j dy_j d y_j / d x_i along the axis.
          std::vector<double> dx(x.size(), 0.0);
          for (int64_t i = 0; i < numel(shape); ++i) {
            Shape idx = unravel(i, shape);
            int64_t own = idx[axis];
            for (int64_t k = 0; k < shape[axis]; ++k) {
              idx[axis] = k;
              int64_t j = ravel(idx, shape);
              double delta = k == own ? 1.0 : 0.0;
              dx[i] += dy[j] * (log ? delta - p[i] : p[j] * (delta - p[i]));
            }
          }
          KernelHarness h(log ? "log_softmax_backward" : "softmax_backward");
          h.input(dtype, shape, dy);
          h.input(dtype, shape, y);
          h.output(dtype, shape);
          h.attrs().set("axis", axis);
          if (inPlace >= 0)
            h.aliasOutputToInput(0, size_t(inPlace));
          Status s = h.run();
          ASSERT_TRUE(s.ok()) << s.message();
          double tol = dtype == DType::F16    ? 1e-2
                       : dtype == DType::BF16 ? 6e-2
                       : dtype == DType::F32  ? 1e-5
                                              : 1e-12;
          expectNear(h.outputAs<double>(0), dx, tol, tol, "dx");
        }
}

TEST(NNGradSoftmax, CheckRejects) {
  for (const char *name : {"softmax_backward", "log_softmax_backward"}) {
    SCOPED_TRACE(name);
    auto make = [&](KernelHarness &h, Shape a, Shape b, DType out,
                    int64_t axis) {
      h.input(DType::F32, a, std::vector<double>{});
      h.input(DType::F32, b, std::vector<double>{});
      h.output(out, a);
      h.attrs().set("axis", axis);
    };
    {
      KernelHarness h(name);
      make(h, {2, 3}, {2, 3}, DType::F32, 1);
      EXPECT_TRUE(h.check().ok());
    }
    {
      KernelHarness h(name);
      make(h, {2, 3}, {3, 2}, DType::F32, 1);
      EXPECT_FALSE(h.check().ok()) << "dy unlike y";
    }
    {
      KernelHarness h(name);
      make(h, {2, 3}, {2, 3}, DType::F64, 1);
      EXPECT_FALSE(h.check().ok()) << "mixed element types";
    }
    for (int64_t axis : {int64_t(-1), int64_t(2)}) {
      KernelHarness h(name);
      make(h, {2, 3}, {2, 3}, DType::F32, axis);
      EXPECT_FALSE(h.check().ok()) << "axis " << axis;
    }
  }
}

TEST(NNGradDropout, BackwardScalesTheKeptElements) {
  const Shape shape = {4, 5};
  uint32_t seed = 1;
  for (DType dtype : {DType::F32, DType::F64, DType::F16, DType::BF16})
    for (bool inPlace : {false, true}) {
      SCOPED_TRACE(testing::Message()
                   << dtypeName(dtype) << " in place " << inPlace);
      std::mt19937 rng(seed++);
      auto dy = rounded(dtype, randomValues(numel(shape), rng));
      std::vector<double> mask(numel(shape)), dx(numel(shape));
      for (int64_t i = 0; i < numel(shape); ++i) {
        mask[i] = double(rng() % 2);
        dx[i] = mask[i] != 0 ? dy[i] / (1 - 0.3) : 0.0;
      }
      KernelHarness h("dropout_backward");
      h.input(dtype, shape, dy);
      h.input(DType::Bool, shape, mask);
      h.output(dtype, shape);
      h.attrs().set("ratio", 0.3);
      if (inPlace)
        h.aliasOutputToInput(0, 0);
      Status s = h.run();
      ASSERT_TRUE(s.ok()) << s.message();
      double tol = dtype == DType::F16    ? 2e-3
                   : dtype == DType::BF16 ? 1e-2
                                          : 1e-7;
      expectNear(h.outputAs<double>(0), dx, tol, 0, "dx");
    }
}

TEST(NNGradDropout, CheckRejects) {
  auto make = [](KernelHarness &h, DType mask, Shape maskShape, double ratio) {
    h.input(DType::F32, {2, 3}, std::vector<double>{});
    h.input(mask, maskShape, std::vector<double>{});
    h.output(DType::F32, {2, 3});
    h.attrs().set("ratio", ratio);
  };
  {
    KernelHarness h("dropout_backward");
    make(h, DType::Bool, {2, 3}, 0.5);
    EXPECT_TRUE(h.check().ok());
  }
  {
    KernelHarness h("dropout_backward");
    make(h, DType::F32, {2, 3}, 0.5);
    EXPECT_FALSE(h.check().ok()) << "a float mask";
  }
  {
    KernelHarness h("dropout_backward");
    make(h, DType::Bool, {3, 2}, 0.5);
    EXPECT_FALSE(h.check().ok()) << "a mask of another shape";
  }
  for (double ratio : {1.0, -0.1, std::numeric_limits<double>::quiet_NaN()}) {
    KernelHarness h("dropout_backward");
    make(h, DType::Bool, {2, 3}, ratio);
    EXPECT_FALSE(h.check().ok()) << "ratio " << ratio;
  }
}

} // namespace

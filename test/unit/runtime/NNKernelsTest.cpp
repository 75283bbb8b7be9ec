// NNKernelsTest.cpp - the conv, pooling, normalization, dropout and softmax
// kernels against direct references.
//
// Each reference is written the plain way, independently of the kernel's
// algorithm: convolution and pooling as nested loops over every tap with a
// bounds test (the kernels use im2col + GEMM and precomputed tap ranges),
// statistics in double straight from their definitions.

#include "KernelTestUtil.h"

#include "mlg_rt/philox.h"

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

/// Output size of one window dimension, PyTorch's rule written out: in
/// ceil mode one more window if the floor drops a partial one, unless it
/// would start in the end padding.
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
  bool bias;
};

Shape convOutShape(const ConvCase &k) {
  size_t sp = k.x.size() - 2;
  Shape out = {k.x[0], k.w[0]};
  for (size_t i = 0; i < sp; ++i)
    out.push_back(windowSize(k.x[2 + i], k.w[2 + i], k.strides[i],
                             k.dilations[i], k.pads[i], k.pads[i + sp], false));
  return out;
}

/// Direct convolution: every output element sums every tap that lands in
/// the input.
std::vector<double> convReference(const ConvCase &k,
                                  const std::vector<double> &x,
                                  const std::vector<double> &w,
                                  const std::vector<double> &b) {
  size_t sp = k.x.size() - 2;
  Shape out = convOutShape(k);
  int64_t cg = k.x[1] / k.group, mg = k.w[0] / k.group;
  Shape wTail(k.w.begin() + 1, k.w.end()); // [C / group, kernel...]
  std::vector<double> y(numel(out));
  for (int64_t o = 0; o < numel(out); ++o) {
    Shape oi = unravel(o, out);
    int64_t n = oi[0], m = oi[1], g = m / mg;
    double sum = k.bias ? b[m] : 0.0;
    for (int64_t t = 0; t < numel(wTail); ++t) {
      Shape ti = unravel(t, wTail); // [c, k...]
      Shape xi = {n, g * cg + ti[0]};
      bool inside = true;
      for (size_t i = 0; i < sp; ++i) {
        int64_t pos =
            oi[2 + i] * k.strides[i] - k.pads[i] + ti[1 + i] * k.dilations[i];
        inside &= pos >= 0 && pos < k.x[2 + i];
        xi.push_back(pos);
      }
      if (inside)
        sum += x[ravel(xi, k.x)] * w[m * numel(wTail) + t];
    }
    y[o] = sum;
  }
  return y;
}

int64_t convWorkspace(const ConvCase &k, DType dtype) {
  Shape out = convOutShape(k);
  int64_t rows = numel(Shape(k.w.begin() + 1, k.w.end()));
  int64_t cols = numel(Shape(out.begin() + 2, out.end()));
  return rows * cols * dtypeBytes(dtype);
}

void setConvAttrs(KernelHarness &h, const ConvCase &k) {
  h.attrs().set("strides", k.strides);
  h.attrs().set("pads", k.pads);
  h.attrs().set("dilations", k.dilations);
  h.attrs().set("group", k.group);
}

/// Runs conv on `k` in `dtype` and compares it with the reference.
void runConvCase(const ConvCase &k, DType dtype, bool naive, uint32_t seed,
                 double tol) {
  std::mt19937 rng(seed);
  auto x = rounded(dtype, randomValues(numel(k.x), rng));
  auto w = rounded(dtype, randomValues(numel(k.w), rng));
  auto b = rounded(dtype, randomValues(k.w[0], rng));
  KernelHarness h("conv");
  h.input(dtype, k.x, x);
  h.input(dtype, k.w, w);
  if (k.bias)
    h.input(dtype, {k.w[0]}, b);
  h.output(dtype, convOutShape(k));
  h.workspace(convWorkspace(k, dtype));
  h.options().naiveGemm = naive;
  setConvAttrs(h, k);
  Status s = h.run();
  ASSERT_TRUE(s.ok()) << s.message();
  expectNear(h.outputAs<double>(0), convReference(k, x, w, b), tol, tol,
             std::string("conv ") + dtypeName(dtype));
}

const std::vector<ConvCase> &convCases() {
  static const std::vector<ConvCase> cases = {
      // 1-D, grouped, strided, dilated, asymmetric pads.
      {{2, 4, 11}, {6, 2, 3}, 2, {2}, {1, 2}, {2}, true},
      // 2-D with per-dimension strides, pads and dilations.
      {{1, 3, 9, 8}, {4, 3, 3, 2}, 1, {1, 2}, {2, 0, 1, 1}, {1, 2}, true},
      // Depthwise.
      {{2, 4, 7, 7}, {4, 1, 3, 3}, 4, {2, 2}, {1, 1, 1, 1}, {1, 1}, false},
      // 3-D.
      {{1, 2, 5, 6, 4},
       {3, 2, 2, 3, 2},
       1,
       {1, 2, 1},
       {0, 1, 1, 1, 0, 1},
       {2, 1, 1},
       true},
      // 1x1, unit strides, no padding: the kernel reads the input directly.
      {{2, 6, 5, 4}, {8, 3, 1, 1}, 2, {1, 1}, {0, 0, 0, 0}, {1, 1}, true},
      // 1x1 with a stride goes through im2col.
      {{1, 4, 7, 6}, {5, 4, 1, 1}, 1, {2, 3}, {0, 0, 0, 0}, {1, 1}, false},
      // Padding larger than the kernel: whole rows of zeros.
      {{1, 2, 4, 3}, {2, 2, 2, 2}, 1, {3, 1}, {3, 2, 0, 3}, {1, 1}, true},
  };
  return cases;
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
    k.x = {pick(1, 2), cg * k.group};
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
    k.bias = pick(0, 1) == 1;
    if (fits)
      cases.push_back(k);
  }
  return cases;
}

TEST(NNConv, MatchesDirectConvolution) {
  uint32_t seed = 1;
  for (const ConvCase &k : convCases()) {
    SCOPED_TRACE(testing::Message() << "case " << seed);
    runConvCase(k, DType::F32, false, seed, 1e-5);
    runConvCase(k, DType::F32, true, seed, 1e-5);
    runConvCase(k, DType::F64, false, seed, 1e-12);
    ++seed;
  }
}

TEST(NNConv, MatchesDirectConvolutionOnRandomShapes) {
  uint32_t seed = 100;
  for (const ConvCase &k : randomConvCases(60, 7)) {
    SCOPED_TRACE(testing::Message() << "random case " << seed);
    runConvCase(k, DType::F32, false, seed, 1e-5);
    runConvCase(k, DType::F64, true, seed, 1e-12);
    ++seed;
  }
}

TEST(NNConv, HalfPrecisionAccumulatesInFloat) {
  uint32_t seed = 200;
  for (const ConvCase &k : convCases()) {
    SCOPED_TRACE(testing::Message() << "case " << seed);
    // Only the result's rounding differs from the reference.
    runConvCase(k, DType::F16, false, seed, 4e-3);
    runConvCase(k, DType::BF16, false, seed, 2e-2);
    ++seed;
  }
}

TEST(NNConv, CheckRejectsInconsistentSteps) {
  const ConvCase k = convCases()[1];
  auto make = [&](KernelHarness &h) {
    h.input(DType::F32, k.x, std::vector<double>{});
    h.input(DType::F32, k.w, std::vector<double>{});
    h.input(DType::F32, {k.w[0]}, std::vector<double>{});
    h.output(DType::F32, convOutShape(k));
    h.workspace(convWorkspace(k, DType::F32));
    setConvAttrs(h, k);
  };
  {
    KernelHarness h("conv");
    make(h);
    EXPECT_TRUE(h.check().ok());
  }
  {
    KernelHarness h("conv");
    make(h);
    h.workspace(convWorkspace(k, DType::F32) - 1);
    EXPECT_FALSE(h.check().ok()) << "a workspace one byte short";
  }
  {
    KernelHarness h("conv");
    h.input(DType::F32, k.x, std::vector<double>{});
    h.input(DType::F32, k.w, std::vector<double>{});
    Shape out = convOutShape(k);
    ++out[3];
    h.output(DType::F32, out);
    h.workspace(1 << 20);
    setConvAttrs(h, k);
    EXPECT_FALSE(h.check().ok()) << "a wrong result shape";
  }
  {
    KernelHarness h("conv");
    h.input(DType::F32, k.x, std::vector<double>{});
    h.input(DType::F32, k.w, std::vector<double>{});
    h.input(DType::F32, {k.w[0] + 1}, std::vector<double>{});
    h.output(DType::F32, convOutShape(k));
    h.workspace(1 << 20);
    setConvAttrs(h, k);
    EXPECT_FALSE(h.check().ok()) << "a bias of the wrong length";
  }
  {
    KernelHarness h("conv");
    make(h);
    h.attrs().set("group", int64_t(2));
    EXPECT_FALSE(h.check().ok()) << "a group that does not divide C";
  }
  {
    KernelHarness h("conv");
    make(h);
    h.attrs().set("group", int64_t(0));
    EXPECT_FALSE(h.check().ok()) << "group 0";
  }
  {
    KernelHarness h("conv");
    make(h);
    h.attrs().set("pads", Shape{2, 0, 1});
    EXPECT_FALSE(h.check().ok()) << "three pads for two dimensions";
  }
  {
    KernelHarness h("conv");
    make(h);
    h.attrs().set("strides", Shape{0, 2});
    EXPECT_FALSE(h.check().ok()) << "stride 0";
  }
  {
    KernelHarness h("conv");
    make(h);
    h.attrs().set("pads", Shape{-1, 0, 1, 1});
    EXPECT_FALSE(h.check().ok()) << "a negative pad";
  }
  {
    KernelHarness h("conv");
    h.input(DType::F32, k.x, std::vector<double>{});
    h.input(DType::F32, k.w, std::vector<double>{});
    h.output(DType::F32, convOutShape(k));
    h.workspace(1 << 20);
    h.attrs().set("strides", k.strides);
    h.attrs().set("pads", k.pads);
    h.attrs().set("group", k.group);
    EXPECT_FALSE(h.check().ok()) << "no dilations";
  }
  {
    KernelHarness h("conv");
    h.input(DType::F32, k.x, std::vector<double>{});
    h.input(DType::F64, k.w, std::vector<double>{});
    h.output(DType::F32, convOutShape(k));
    h.workspace(1 << 20);
    setConvAttrs(h, k);
    EXPECT_FALSE(h.check().ok()) << "mixed element types";
  }
  {
    KernelHarness h("conv");
    Shape w = k.w;
    w[1] = 2; // C is 3
    h.input(DType::F32, k.x, std::vector<double>{});
    h.input(DType::F32, w, std::vector<double>{});
    h.output(DType::F32, convOutShape(k));
    h.workspace(1 << 20);
    setConvAttrs(h, k);
    EXPECT_FALSE(h.check().ok()) << "weight channels disagree with the input";
  }
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

struct PoolCase {
  Shape x, kernel, strides, pads, dilations;
  bool ceil;
};

Shape poolOutShape(const PoolCase &p) {
  size_t sp = p.kernel.size();
  Shape out = {p.x[0], p.x[1]};
  for (size_t i = 0; i < sp; ++i)
    out.push_back(windowSize(p.x[2 + i], p.kernel[i], p.strides[i],
                             p.dilations[i], p.pads[i], p.pads[i + sp],
                             p.ceil));
  return out;
}

void setPoolAttrs(KernelHarness &h, const PoolCase &p) {
  h.attrs().set("kernel_shape", p.kernel);
  h.attrs().set("strides", p.strides);
  h.attrs().set("pads", p.pads);
  h.attrs().set("dilations", p.dilations);
  h.attrs().set("ceil_mode", p.ceil);
}

enum class PoolKind { Max, Average, AverageIncludePad };

/// Direct pooling: every tap of every window, tested against the input (and
/// for count_include_pad against the padded input). `indices` gets ONNX's
/// argmax (first maximum; row- or column-major over the spatial dims).
std::vector<double> poolReference(const PoolCase &p,
                                  const std::vector<double> &x, PoolKind kind,
                                  bool columnMajor = false,
                                  std::vector<int64_t> *indices = nullptr) {
  size_t sp = p.kernel.size();
  Shape out = poolOutShape(p), inSpatial(p.x.begin() + 2, p.x.end());
  int64_t plane = numel(inSpatial);
  std::vector<double> y(numel(out));
  if (indices)
    indices->assign(y.size(), -1);
  for (int64_t o = 0; o < numel(out); ++o) {
    Shape oi = unravel(o, out);
    int64_t base = (oi[0] * p.x[1] + oi[1]) * plane;
    double best = -std::numeric_limits<double>::infinity(), sum = 0;
    int64_t valid = 0, padded = 0, bestAt = -1;
    for (int64_t t = 0; t < numel(p.kernel); ++t) {
      Shape ti = unravel(t, p.kernel), pos(sp);
      bool inside = true, inPadded = true;
      for (size_t i = 0; i < sp; ++i) {
        pos[i] = oi[2 + i] * p.strides[i] - p.pads[i] + ti[i] * p.dilations[i];
        inside &= pos[i] >= 0 && pos[i] < p.x[2 + i];
        inPadded &=
            pos[i] >= -p.pads[i] && pos[i] < p.x[2 + i] + p.pads[i + sp];
      }
      padded += inPadded;
      if (!inside)
        continue;
      ++valid;
      double v = x[base + ravel(pos, inSpatial)];
      sum += v;
      if (v > best) {
        best = v;
        if (columnMajor) {
          int64_t flat = 0;
          for (int64_t i = int64_t(sp) - 1; i >= 0; --i)
            flat = flat * inSpatial[i] + pos[i];
          bestAt = base + flat;
        } else {
          bestAt = base + ravel(pos, inSpatial);
        }
      }
    }
    if (kind == PoolKind::Max)
      y[o] = best;
    else
      y[o] = sum / double(kind == PoolKind::Average ? valid : padded);
    if (indices)
      (*indices)[o] = bestAt;
  }
  return y;
}

const std::vector<PoolCase> &poolCases() {
  static const std::vector<PoolCase> cases = {
      {{1, 2, 9}, {3}, {2}, {1, 1}, {1}, false},
      {{1, 2, 9}, {3}, {2}, {0, 1}, {2}, true},
      {{2, 3, 7, 6}, {3, 2}, {2, 2}, {1, 0, 1, 1}, {1, 1}, false},
      // Ceil mode: the last window runs past the end padding.
      {{1, 2, 6, 6}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, true},
      {{1, 1, 8, 7}, {2, 3}, {3, 2}, {0, 1, 1, 0}, {2, 2}, true},
      {{1, 2, 5, 4, 6},
       {2, 2, 3},
       {1, 2, 2},
       {1, 0, 1, 0, 1, 1},
       {1, 1, 1},
       false},
      {{2, 1, 5, 5, 5},
       {3, 2, 2},
       {2, 2, 3},
       {0, 0, 0, 1, 1, 1},
       {1, 2, 1},
       true},
  };
  return cases;
}

TEST(NNPool, MaxPoolMatchesDirectLoops) {
  uint32_t seed = 1;
  for (const PoolCase &p : poolCases()) {
    SCOPED_TRACE(testing::Message() << "case " << seed);
    std::mt19937 rng(seed++);
    auto x = rounded(DType::F32, randomValues(numel(p.x), rng));
    for (DType dtype : {DType::F32, DType::F64, DType::F16}) {
      auto xr = rounded(dtype, x);
      KernelHarness h("max_pool");
      h.input(dtype, p.x, xr);
      h.output(dtype, poolOutShape(p));
      setPoolAttrs(h, p);
      Status s = h.run();
      ASSERT_TRUE(s.ok()) << s.message();
      expectNear(h.outputAs<double>(0), poolReference(p, xr, PoolKind::Max), 0,
                 0, dtypeName(dtype));
    }
  }
}

TEST(NNPool, MaxPoolOnIntegers) {
  const PoolCase &p = poolCases()[3];
  std::mt19937 rng(5);
  std::vector<double> x(numel(p.x));
  for (double &v : x)
    v = double(rng() % 256);
  for (DType dtype : {DType::U8, DType::I32}) {
    KernelHarness h("max_pool");
    h.input(dtype, p.x, x);
    h.output(dtype, poolOutShape(p));
    setPoolAttrs(h, p);
    Status s = h.run();
    ASSERT_TRUE(s.ok()) << s.message();
    expectNear(h.outputAs<double>(0), poolReference(p, x, PoolKind::Max), 0, 0,
               dtypeName(dtype));
  }
}

TEST(NNPool, PaddingNeverWinsTheMax) {
  // All inputs negative: a padded zero would otherwise win.
  PoolCase p = {{1, 1, 3, 3}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}, false};
  std::vector<double> x = {-9, -8, -7, -6, -5, -4, -3, -2, -1};
  KernelHarness h("max_pool");
  h.input(DType::F32, p.x, x);
  h.output(DType::F32, poolOutShape(p));
  setPoolAttrs(h, p);
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<double>(0),
            (std::vector<double>{-5, -4, -4, -2, -1, -1, -2, -1, -1}));
}

TEST(NNPool, MaxPoolWithIndicesInBothStorageOrders) {
  uint32_t seed = 10;
  for (const PoolCase &p : poolCases()) {
    SCOPED_TRACE(testing::Message() << "case " << seed);
    std::mt19937 rng(seed++);
    auto smooth = rounded(DType::F32, randomValues(numel(p.x), rng));
    // Values 0, 1, 2 make ties: the index is the first maximum's (a
    // window's taps in row-major order, as ONNX and PyTorch).
    auto tied = smooth;
    for (double &v : tied)
      v = double(rng() % 3);
    for (auto [order, input] :
         {std::pair{int64_t(0), &smooth}, std::pair{int64_t(1), &smooth},
          std::pair{int64_t(0), &tied}, std::pair{int64_t(1), &tied}}) {
      const std::vector<double> &x = *input;
      KernelHarness h("max_pool_with_indices");
      h.input(DType::F32, p.x, x);
      h.output(DType::F32, poolOutShape(p));
      h.output(DType::I64, poolOutShape(p));
      setPoolAttrs(h, p);
      h.attrs().set("storage_order", order);
      Status s = h.run();
      ASSERT_TRUE(s.ok()) << s.message();
      std::vector<int64_t> want;
      auto y = poolReference(p, x, PoolKind::Max, order == 1, &want);
      expectNear(h.outputAs<double>(0), y, 0, 0, "values");
      EXPECT_EQ(h.outputAs<int64_t>(1), want) << "storage_order " << order;
    }
  }
}

TEST(NNPool, AveragePoolMatchesDirectLoops) {
  uint32_t seed = 20;
  for (const PoolCase &p : poolCases()) {
    SCOPED_TRACE(testing::Message() << "case " << seed);
    std::mt19937 rng(seed++);
    auto x = rounded(DType::F32, randomValues(numel(p.x), rng));
    for (bool include : {false, true})
      for (DType dtype : {DType::F32, DType::F64}) {
        KernelHarness h("average_pool");
        h.input(dtype, p.x, x);
        h.output(dtype, poolOutShape(p));
        setPoolAttrs(h, p);
        h.attrs().set("count_include_pad", include);
        Status s = h.run();
        ASSERT_TRUE(s.ok()) << s.message();
        expectNear(h.outputAs<double>(0),
                   poolReference(p, x,
                                 include ? PoolKind::AverageIncludePad
                                         : PoolKind::Average),
                   1e-6, 1e-6,
                   std::string(dtypeName(dtype)) +
                       (include ? " count_include_pad" : ""));
      }
  }
}

TEST(NNPool, AveragePoolCeilModeDivisor) {
  // 1-D: input 6, kernel 3, stride 2, pads 1/1, ceil: 4 windows, the last
  // starting at 5 covers the input's last element, one pad and one position
  // past the padded end, which counts in neither divisor.
  PoolCase p = {{1, 1, 6}, {3}, {2}, {1, 1}, {1}, true};
  std::vector<double> x = {1, 2, 3, 4, 5, 6};
  for (bool include : {false, true}) {
    KernelHarness h("average_pool");
    h.input(DType::F32, p.x, x);
    h.output(DType::F32, {1, 1, 4});
    setPoolAttrs(h, p);
    h.attrs().set("count_include_pad", include);
    ASSERT_TRUE(h.run().ok());
    std::vector<double> want =
        include ? std::vector<double>{3.0 / 3, 9.0 / 3, 15.0 / 3, 6.0 / 2}
                : std::vector<double>{3.0 / 2, 9.0 / 3, 15.0 / 3, 6.0 / 1};
    expectNear(h.outputAs<double>(0), want, 1e-6, 1e-6,
               include ? "include" : "exclude");
  }
}

TEST(NNPool, GlobalPools) {
  Shape shape = {2, 3, 4, 5};
  std::mt19937 rng(3);
  auto x = rounded(DType::F32, randomValues(numel(shape), rng));
  std::vector<double> avg(6), mx(6, -1e300);
  for (int64_t i = 0; i < numel(shape); ++i) {
    avg[i / 20] += x[i] / 20;
    mx[i / 20] = std::max(mx[i / 20], x[i]);
  }
  for (const char *name : {"global_average_pool", "global_max_pool"}) {
    KernelHarness h(name);
    h.input(DType::F32, shape, x);
    h.output(DType::F32, {2, 3, 1, 1});
    Status s = h.run();
    ASSERT_TRUE(s.ok()) << s.message();
    expectNear(h.outputAs<double>(0),
               std::string(name) == "global_max_pool" ? mx : avg, 1e-6, 1e-6,
               name);
  }
  KernelHarness bad("global_average_pool");
  bad.input(DType::F32, shape, x);
  bad.output(DType::F32, {2, 3, 1});
  EXPECT_FALSE(bad.check().ok()) << "a result of the wrong rank";
}

TEST(NNPool, CheckRejectsInconsistentSteps) {
  const PoolCase &p = poolCases()[3];
  {
    KernelHarness h("max_pool");
    h.input(DType::F32, p.x, std::vector<double>{});
    Shape out = poolOutShape(p);
    ++out[2];
    h.output(DType::F32, out);
    setPoolAttrs(h, p);
    EXPECT_FALSE(h.check().ok()) << "a result shape of floor mode";
  }
  {
    KernelHarness h("max_pool");
    h.input(DType::F32, p.x, std::vector<double>{});
    h.output(DType::F32, poolOutShape(p));
    setPoolAttrs(h, p);
    h.attrs().set("kernel_shape", Shape{3});
    EXPECT_FALSE(h.check().ok()) << "a kernel of the wrong rank";
  }
  {
    KernelHarness h("max_pool");
    h.input(DType::F32, p.x, std::vector<double>{});
    h.output(DType::F32, poolOutShape(p));
    setPoolAttrs(h, p);
    h.attrs().set("dilations", Shape{1, 0});
    EXPECT_FALSE(h.check().ok()) << "dilation 0";
  }
  {
    KernelHarness h("max_pool_with_indices");
    h.input(DType::F32, p.x, std::vector<double>{});
    h.output(DType::F32, poolOutShape(p));
    h.output(DType::I32, poolOutShape(p));
    setPoolAttrs(h, p);
    h.attrs().set("storage_order", int64_t(0));
    EXPECT_FALSE(h.check().ok()) << "i32 indices";
  }
  {
    KernelHarness h("max_pool_with_indices");
    h.input(DType::F32, p.x, std::vector<double>{});
    h.output(DType::F32, poolOutShape(p));
    h.output(DType::I64, poolOutShape(p));
    setPoolAttrs(h, p);
    h.attrs().set("storage_order", int64_t(2));
    EXPECT_FALSE(h.check().ok()) << "storage_order 2";
  }
  {
    KernelHarness h("average_pool");
    h.input(DType::F32, p.x, std::vector<double>{});
    h.output(DType::F32, poolOutShape(p));
    setPoolAttrs(h, p);
    EXPECT_FALSE(h.check().ok()) << "no count_include_pad";
  }
  {
    // An empty tensor whose other dims multiply past int64.
    Shape huge = {0, 1, int64_t(1) << 40, int64_t(1) << 40, 4};
    KernelHarness h("max_pool");
    h.input(DType::F32, huge, std::vector<double>{});
    h.output(DType::F32, huge);
    h.attrs().set("kernel_shape", Shape{1, 1, 1});
    h.attrs().set("strides", Shape{1, 1, 1});
    h.attrs().set("pads", Shape{0, 0, 0, 0, 0, 0});
    h.attrs().set("dilations", Shape{1, 1, 1});
    h.attrs().set("ceil_mode", false);
    EXPECT_FALSE(h.check().ok()) << "spatial dims overflowing int64";
  }
  {
    KernelHarness h("average_pool");
    h.input(DType::I32, p.x, std::vector<double>{});
    h.output(DType::I32, poolOutShape(p));
    setPoolAttrs(h, p);
    h.attrs().set("count_include_pad", false);
    EXPECT_FALSE(h.check().ok()) << "an integer average";
  }
}

//===----------------------------------------------------------------------===//
// Batch normalization
//===----------------------------------------------------------------------===//

struct BatchNormResult {
  std::vector<double> y, mean, var;
};

/// Direct batch norm; in training the biased batch moments, the running
/// statistics blended with `momentum`.
BatchNormResult batchNormReference(const Shape &shape,
                                   const std::vector<double> &x,
                                   const std::vector<double> &scale,
                                   const std::vector<double> &bias,
                                   const std::vector<double> &mean,
                                   const std::vector<double> &var, double eps,
                                   double momentum, bool training) {
  int64_t n = shape[0], c = shape[1], inner = numel(shape) / (n * c);
  BatchNormResult r{std::vector<double>(x.size()), mean, var};
  for (int64_t ch = 0; ch < c; ++ch) {
    double m = mean[ch], v = var[ch];
    if (training) {
      double sum = 0, sq = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < inner; ++j)
          sum += x[(i * c + ch) * inner + j];
      m = sum / double(n * inner);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < inner; ++j)
          sq += std::pow(x[(i * c + ch) * inner + j] - m, 2);
      v = sq / double(n * inner);
      r.mean[ch] = mean[ch] * momentum + m * (1 - momentum);
      r.var[ch] = var[ch] * momentum + v * (1 - momentum);
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < inner; ++j) {
        int64_t e = (i * c + ch) * inner + j;
        r.y[e] = scale[ch] * (x[e] - m) / std::sqrt(v + eps) + bias[ch];
      }
  }
  return r;
}

void runBatchNorm(DType dtype, const Shape &shape, bool training, bool inPlace,
                  double tol) {
  std::mt19937 rng(42);
  int64_t c = shape[1];
  auto x = rounded(dtype, randomValues(numel(shape), rng, -3, 5));
  auto scale = rounded(dtype, randomValues(c, rng, 0.5, 2));
  auto bias = rounded(dtype, randomValues(c, rng));
  auto mean = rounded(dtype, randomValues(c, rng));
  auto var = rounded(dtype, randomValues(c, rng, 0.5, 2));
  KernelHarness h("batch_norm");
  h.input(dtype, shape, x);
  h.input(dtype, {c}, scale);
  h.input(dtype, {c}, bias);
  h.input(dtype, {c}, mean);
  h.input(dtype, {c}, var);
  h.output(dtype, shape);
  h.output(dtype, {c});
  h.output(dtype, {c});
  h.attrs().set("epsilon", 1e-3);
  h.attrs().set("momentum", 0.9);
  h.attrs().set("training", training);
  if (inPlace)
    h.aliasOutputToInput(0, 0);
  Status s = h.run();
  ASSERT_TRUE(s.ok()) << s.message();
  BatchNormResult want =
      batchNormReference(shape, x, scale, bias, mean, var, 1e-3, 0.9, training);
  expectNear(h.outputAs<double>(0), want.y, tol, tol, "y");
  expectNear(h.outputAs<double>(1), want.mean, tol, tol, "running mean");
  expectNear(h.outputAs<double>(2), want.var, tol, tol, "running var");
}

TEST(NNBatchNorm, InferenceForm) {
  runBatchNorm(DType::F32, {2, 3, 4, 5}, false, false, 1e-5);
  runBatchNorm(DType::F64, {2, 3, 4, 5}, false, false, 1e-12);
  runBatchNorm(DType::F32, {4, 6}, false, false, 1e-5);
  runBatchNorm(DType::F16, {2, 3, 4}, false, false, 1e-2);
}

TEST(NNBatchNorm, TrainingUsesBiasedBatchStatistics) {
  runBatchNorm(DType::F32, {3, 4, 5, 2}, true, false, 1e-5);
  runBatchNorm(DType::F64, {3, 4, 5, 2}, true, false, 1e-12);
  runBatchNorm(DType::F64, {5, 2, 3, 2, 2}, true, false, 1e-12);
  runBatchNorm(DType::BF16, {2, 3, 4}, true, false, 5e-2);
}

TEST(NNBatchNorm, InPlaceEqualsOutOfPlace) {
  // The reference is the same either way: aliasing y to x must not change
  // the statistics.
  runBatchNorm(DType::F32, {3, 4, 5, 2}, true, true, 1e-5);
  runBatchNorm(DType::F32, {3, 4, 5, 2}, false, true, 1e-5);
}

TEST(NNBatchNorm, CheckRejectsInconsistentSteps) {
  auto make = [](KernelHarness &h, int64_t paramLen, Shape y, bool attrs) {
    h.input(DType::F32, {2, 3, 4}, std::vector<double>{});
    for (int i = 0; i < 4; ++i)
      h.input(DType::F32, {i == 2 ? paramLen : 3}, std::vector<double>{});
    h.output(DType::F32, y);
    h.output(DType::F32, {paramLen});
    h.output(DType::F32, {3});
    if (attrs) {
      h.attrs().set("epsilon", 1e-5);
      h.attrs().set("momentum", 0.9);
      h.attrs().set("training", true);
    }
  };
  {
    KernelHarness h("batch_norm");
    make(h, 3, {2, 3, 4}, true);
    EXPECT_TRUE(h.check().ok());
  }
  {
    KernelHarness h("batch_norm");
    make(h, 4, {2, 3, 4}, true);
    EXPECT_FALSE(h.check().ok()) << "a mean of 4 for 3 channels";
  }
  {
    KernelHarness h("batch_norm");
    make(h, 3, {2, 3, 5}, true);
    EXPECT_FALSE(h.check().ok()) << "a result of another shape";
  }
  {
    KernelHarness h("batch_norm");
    make(h, 3, {2, 3, 4}, false);
    EXPECT_FALSE(h.check().ok()) << "no attributes";
  }
}

//===----------------------------------------------------------------------===//
// Layer normalization
//===----------------------------------------------------------------------===//

TEST(NNLayerNorm, MatchesDirectComputation) {
  Shape shape = {2, 3, 4, 5};
  std::mt19937 rng(9);
  auto x = rounded(DType::F32, randomValues(numel(shape), rng, -2, 3));
  for (int64_t axis = 0; axis < 4; ++axis)
    for (bool withBias : {false, true}) {
      Shape norm(shape.begin() + axis, shape.end());
      // The scale has the full normalized shape; the bias broadcasts along
      // all but the last dimension.
      Shape biasShape = {norm.back()};
      auto scale = rounded(DType::F32, randomValues(numel(norm), rng, 0.5, 2));
      auto bias = rounded(DType::F32, randomValues(norm.back(), rng));
      int64_t inner = numel(norm), outer = numel(shape) / inner;
      std::vector<double> y(x.size()), mean(outer), rstd(outer);
      for (int64_t r = 0; r < outer; ++r) {
        double s = 0, sq = 0;
        for (int64_t j = 0; j < inner; ++j)
          s += x[r * inner + j];
        mean[r] = s / double(inner);
        for (int64_t j = 0; j < inner; ++j)
          sq += std::pow(x[r * inner + j] - mean[r], 2);
        rstd[r] = 1 / std::sqrt(sq / double(inner) + 1e-4);
        for (int64_t j = 0; j < inner; ++j)
          y[r * inner + j] = (x[r * inner + j] - mean[r]) * rstd[r] * scale[j] +
                             (withBias ? bias[j % norm.back()] : 0.0);
      }
      Shape stats = shape;
      for (int64_t d = axis; d < 4; ++d)
        stats[d] = 1;
      for (DType dtype : {DType::F32, DType::F64}) {
        SCOPED_TRACE(testing::Message() << "axis " << axis << " bias "
                                        << withBias << " " << dtypeName(dtype));
        KernelHarness h("layer_norm");
        h.input(dtype, shape, x);
        h.input(dtype, norm, scale);
        if (withBias)
          h.input(dtype, biasShape, bias);
        h.output(dtype, shape);
        h.output(dtype, stats);
        h.output(dtype, stats);
        h.attrs().set("axis", axis);
        h.attrs().set("epsilon", 1e-4);
        Status s = h.run();
        ASSERT_TRUE(s.ok()) << s.message();
        expectNear(h.outputAs<double>(0), y, 1e-5, 1e-5, "y");
        expectNear(h.outputAs<double>(1), mean, 1e-5, 1e-6, "mean");
        expectNear(h.outputAs<double>(2), rstd, 1e-5, 1e-6, "inv_std_dev");
      }
    }
}

TEST(NNLayerNorm, CheckRejectsInconsistentSteps) {
  auto make = [](KernelHarness &h, Shape scale, Shape stats, int64_t axis) {
    h.input(DType::F32, {2, 3, 4}, std::vector<double>{});
    h.input(DType::F32, scale, std::vector<double>{});
    h.output(DType::F32, {2, 3, 4});
    h.output(DType::F32, stats);
    h.output(DType::F32, stats);
    h.attrs().set("axis", axis);
    h.attrs().set("epsilon", 1e-5);
  };
  {
    KernelHarness h("layer_norm");
    make(h, {3, 1}, {2, 1, 1}, 1);
    EXPECT_TRUE(h.check().ok());
  }
  {
    KernelHarness h("layer_norm");
    make(h, {3, 4}, {2, 3, 1}, 1);
    EXPECT_FALSE(h.check().ok()) << "statistics shaped for axis 2";
  }
  {
    KernelHarness h("layer_norm");
    make(h, {2, 3, 4}, {2, 1, 1}, 1);
    EXPECT_FALSE(h.check().ok()) << "a scale larger than the normalized shape";
  }
  {
    KernelHarness h("layer_norm");
    make(h, {4}, {2, 3, 4}, 3);
    EXPECT_FALSE(h.check().ok()) << "axis 3 of rank 3";
  }
}

//===----------------------------------------------------------------------===//
// Dropout
//===----------------------------------------------------------------------===//

struct DropoutRun {
  std::vector<double> y;
  std::vector<int64_t> mask;
};

DropoutRun runDropout(const std::vector<double> &x, double ratio, bool training,
                      int64_t seed, uint64_t runIndex, bool inPlace = false,
                      DType dtype = DType::F32) {
  KernelHarness h("dropout");
  Shape shape = {int64_t(x.size())};
  h.input(dtype, shape, x);
  h.output(dtype, shape);
  h.output(DType::Bool, shape);
  h.attrs().set("ratio", ratio);
  h.attrs().set("training", training);
  h.attrs().set("seed", seed);
  if (inPlace)
    h.aliasOutputToInput(0, 0);
  Status s = h.run(runIndex);
  EXPECT_TRUE(s.ok()) << s.message();
  return {h.outputAs<double>(0), h.outputAs<int64_t>(1)};
}

TEST(Philox, MatchesRandom123KnownAnswers) {
  // Philox4x32-10's known-answer vectors (Random123's kat_vectors): the
  // generator every backend shares must be the published one.
  struct Kat {
    uint32_t ctr[4], key[2], out[4];
  } kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat &k : kats) {
    mlg_rt::Philox4x32 r = mlg_rt::philox4x32(k.ctr[0], k.ctr[1], k.ctr[2],
                                              k.ctr[3], k.key[0], k.key[1]);
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(r.v[i], k.out[i]) << std::hex << k.ctr[0] << " word " << i;
  }
}

TEST(NNDropout, KeepsAboutOneMinusRatioAndScalesThem) {
  std::mt19937 rng(1);
  auto x = rounded(DType::F32, randomValues(100000, rng, 0.5, 1.5));
  for (double ratio : {0.1, 0.3, 0.75}) {
    DropoutRun r = runDropout(x, ratio, true, 1234, 0);
    int64_t kept = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      // The mask is the documented rule: Philox number >= ratio.
      bool keep = double(dropoutUniform(1234, 0, i)) >= ratio;
      ASSERT_EQ(r.mask[i], keep ? 1 : 0) << i;
      kept += keep;
      ASSERT_NEAR(r.y[i], keep ? x[i] / (1 - ratio) : 0.0, 1e-6) << i;
    }
    // Binomial: 1 - ratio within about 7 standard deviations.
    EXPECT_NEAR(double(kept) / double(x.size()), 1 - ratio, 0.01) << ratio;
  }
}

TEST(NNDropout, DeterministicPerSeedAndRun) {
  std::vector<double> x(5000, 1.0);
  DropoutRun a = runDropout(x, 0.5, true, 7, 3);
  DropoutRun b = runDropout(x, 0.5, true, 7, 3);
  DropoutRun nextRun = runDropout(x, 0.5, true, 7, 4);
  DropoutRun otherSeed = runDropout(x, 0.5, true, 8, 3);
  EXPECT_EQ(a.mask, b.mask);
  EXPECT_EQ(a.y, b.y);
  auto differing = [&](const DropoutRun &o) {
    int64_t n = 0;
    for (size_t i = 0; i < x.size(); ++i)
      n += a.mask[i] != o.mask[i];
    return double(n) / double(x.size());
  };
  // Independent masks of ratio 0.5 differ in about half the positions.
  EXPECT_GT(differing(nextRun), 0.4);
  EXPECT_GT(differing(otherSeed), 0.4);
}

TEST(NNDropout, InPlaceEqualsOutOfPlace) {
  std::mt19937 rng(2);
  auto x = rounded(DType::F32, randomValues(3000, rng));
  for (bool training : {true, false}) {
    DropoutRun out = runDropout(x, 0.4, training, 11, 5, false);
    DropoutRun in = runDropout(x, 0.4, training, 11, 5, true);
    EXPECT_EQ(out.y, in.y);
    EXPECT_EQ(out.mask, in.mask);
  }
  auto xh = rounded(DType::F16, x);
  DropoutRun out = runDropout(xh, 0.4, true, 11, 5, false, DType::F16);
  DropoutRun in = runDropout(xh, 0.4, true, 11, 5, true, DType::F16);
  EXPECT_EQ(out.y, in.y);
  EXPECT_EQ(out.mask, in.mask);
}

TEST(NNDropout, IdentityWithoutTrainingOrRatio) {
  std::mt19937 rng(3);
  auto x = rounded(DType::F32, randomValues(1000, rng));
  for (auto [ratio, training] : {std::pair{0.5, false}, std::pair{0.0, true}}) {
    for (bool inPlace : {false, true}) {
      DropoutRun r = runDropout(x, ratio, training, 1, 0, inPlace);
      EXPECT_EQ(r.y, x);
      EXPECT_EQ(r.mask, std::vector<int64_t>(x.size(), 1));
    }
  }
}

TEST(NNDropout, CheckRejectsInconsistentSteps) {
  auto make = [](KernelHarness &h, double ratio, DType maskType) {
    h.input(DType::F32, {4}, std::vector<double>{});
    h.output(DType::F32, {4});
    h.output(maskType, {4});
    h.attrs().set("ratio", ratio);
    h.attrs().set("training", true);
    h.attrs().set("seed", int64_t(1));
  };
  {
    KernelHarness h("dropout");
    make(h, 0.5, DType::Bool);
    EXPECT_TRUE(h.check().ok());
  }
  {
    KernelHarness h("dropout");
    make(h, 1.0, DType::Bool);
    EXPECT_FALSE(h.check().ok()) << "ratio 1";
  }
  {
    KernelHarness h("dropout");
    make(h, 0.5, DType::F32);
    EXPECT_FALSE(h.check().ok()) << "a float mask";
  }
}

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

std::vector<double> softmaxReference(const Shape &shape, int64_t axis,
                                     const std::vector<double> &x, bool log) {
  std::vector<double> y(x.size());
  int64_t n = shape[axis], inner = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d)
    inner *= shape[d];
  int64_t outer = numel(shape) / (n * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      auto at = [&](int64_t k) { return (o * n + k) * inner + j; };
      double mx = -INFINITY, sum = 0;
      for (int64_t k = 0; k < n; ++k)
        mx = std::max(mx, x[at(k)]);
      for (int64_t k = 0; k < n; ++k)
        sum += std::exp(x[at(k)] - mx);
      for (int64_t k = 0; k < n; ++k)
        y[at(k)] =
            log ? x[at(k)] - mx - std::log(sum) : std::exp(x[at(k)] - mx) / sum;
    }
  return y;
}

TEST(NNSoftmax, MatchesDirectComputationOnEveryAxis) {
  Shape shape = {3, 4, 5};
  std::mt19937 rng(4);
  // Large values: exp without the max subtracted would overflow.
  auto x = rounded(DType::F32, randomValues(numel(shape), rng, 1000, 1010));
  for (const char *name : {"softmax", "log_softmax"})
    for (int64_t axis = 0; axis < 3; ++axis)
      for (DType dtype : {DType::F32, DType::F64, DType::F16}) {
        SCOPED_TRACE(testing::Message()
                     << name << " axis " << axis << " " << dtypeName(dtype));
        auto xr = rounded(dtype, x);
        KernelHarness h(name);
        h.input(dtype, shape, xr);
        h.output(dtype, shape);
        h.attrs().set("axis", axis);
        Status s = h.run();
        ASSERT_TRUE(s.ok()) << s.message();
        double tol = dtype == DType::F16 ? 2e-3 : 1e-5;
        // f16 holds 1000..1010 to 0.5: compare against its own rounded input.
        expectNear(h.outputAs<double>(0),
                   softmaxReference(shape, axis, xr, name[0] == 'l'), tol, tol,
                   "y");
      }
}

TEST(NNSoftmax, CheckRejectsBadAxisAndShapes) {
  {
    KernelHarness h("softmax");
    h.input(DType::F32, {2, 3}, std::vector<double>{});
    h.output(DType::F32, {2, 3});
    h.attrs().set("axis", int64_t(2));
    EXPECT_FALSE(h.check().ok()) << "axis 2 of rank 2";
  }
  {
    KernelHarness h("log_softmax");
    h.input(DType::F32, {2, 3}, std::vector<double>{});
    h.output(DType::F32, {3, 2});
    h.attrs().set("axis", int64_t(1));
    EXPECT_FALSE(h.check().ok()) << "a transposed result";
  }
  {
    KernelHarness h("softmax");
    h.input(DType::I32, {2, 3}, std::vector<double>{});
    h.output(DType::I32, {2, 3});
    h.attrs().set("axis", int64_t(1));
    EXPECT_FALSE(h.check().ok()) << "integers";
  }
}

} // namespace

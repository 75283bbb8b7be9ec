// TensorGradKernelsTest.cpp - the backward kernels of the elementwise and
// layout ops (relu, sigmoid, tanh and clip backward; slice, pad and gather
// backward) against direct references, and their checks against
// inconsistent programs.
//
// The activation references are the derivative formulas evaluated in
// double. The layout references use the adjoint identity instead of the
// kernels' index arithmetic: a backward op B of a linear forward op F must
// satisfy <F(x), dy> = <x, B(dy)> for every x, so B(dy)[i] = <F(e_i), dy>,
// computed by running the (separately tested) forward kernel on every unit
// vector e_i.

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace mlg_rt;
using namespace mlg_rt::test;

namespace {

using Shape = std::vector<int64_t>;
using Ints = std::vector<int64_t>;

void expectError(const Status &s, const std::string &needle = "") {
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
}

/// Small integers (exact in f16 and bf16, and in their sums here).
std::vector<double> smallInts(int64_t n, std::mt19937 &rng) {
  std::uniform_int_distribution<int> dist(-8, 8);
  std::vector<double> v(n);
  for (double &x : v)
    x = dist(rng);
  return v;
}

std::vector<double> normals(int64_t n, std::mt19937 &rng) {
  std::normal_distribution<double> dist;
  std::vector<double> v(n);
  for (double &x : v)
    x = dist(rng);
  return v;
}

/// Sets up one harness: the tested kernel's inputs, outputs and attributes.
using Setup = std::function<void(KernelHarness &)>;

/// B(dy)[i] = <F(e_i), dy> with F the forward kernel `forward` from
/// `inShape` to dy's shape (in f64); `setup` adds the forward's other
/// inputs (after the data) and its attributes.
std::vector<double> adjointReference(const std::string &forward,
                                     const Shape &inShape,
                                     const std::vector<double> &dy,
                                     const Shape &dyShape, const Setup &setup) {
  int64_t n = numelOf(inShape);
  std::vector<double> dx(n);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> e(n, 0.0);
    e[i] = 1.0;
    KernelHarness f(forward);
    f.input<double>(DType::F64, inShape, e);
    setup(f);
    f.output(DType::F64, dyShape);
    Status s = f.run();
    EXPECT_TRUE(s.ok()) << s.message();
    std::vector<double> column = f.outputAs<double>(0);
    double dot = 0;
    for (size_t k = 0; k < column.size(); ++k)
      dot += column[k] * dy[k];
    dx[i] = dot;
  }
  return dx;
}

//===----------------------------------------------------------------------===//
// relu, sigmoid and tanh backward
//===----------------------------------------------------------------------===//

struct Activation {
  const char *kernel;
  std::function<double(double, double)> derivative; // (dy, forward value)
  std::function<double(double)> forwardValue;       // of a raw draw
};

const Activation kActivations[] = {
    {"relu_backward", [](double g, double y) { return y > 0 ? g : 0.0; },
     [](double x) { return x < 0 ? 0.0 : x; }},
    {"sigmoid_backward", [](double g, double y) { return g * y * (1 - y); },
     [](double x) { return 1 / (1 + std::exp(-x)); }},
    {"tanh_backward", [](double g, double y) { return g * (1 - y * y); },
     [](double x) { return std::tanh(x); }},
};

/// Tolerance of a computation in `t` on values of magnitude about 1.
double toleranceOf(DType t) {
  switch (t) {
  case DType::F64:
    return 1e-15;
  case DType::F32:
    return 1e-6;
  case DType::F16:
    return 4e-3;
  default:
    return 3e-2; // bf16
  }
}

/// `v` rounded to what type `t` stores.
double roundTo(DType t, double v) {
  KernelHarness h("cast");
  h.input<double>(DType::F64, {}, {v});
  h.output(t, {});
  (void)h.run();
  return h.outputAs<double>(0)[0];
}

TEST(ActivationBackward, MatchesTheDerivativeInEveryFloatType) {
  std::mt19937 rng(7);
  Shape shape{3, 5};
  for (const Activation &a : kActivations) {
    for (DType t : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
      std::vector<double> dy = normals(15, rng), y = normals(15, rng);
      for (double &v : y)
        v = roundTo(t, a.forwardValue(v));
      for (double &v : dy)
        v = roundTo(t, v);
      KernelHarness h(a.kernel);
      h.input<double>(t, shape, dy);
      h.input<double>(t, shape, y);
      h.output(t, shape);
      ASSERT_TRUE(h.run().ok()) << a.kernel;
      std::vector<double> dx = h.outputAs<double>(0);
      for (int64_t i = 0; i < 15; ++i)
        EXPECT_NEAR(dx[i], a.derivative(dy[i], y[i]),
                    toleranceOf(t) * (1 + std::fabs(dy[i])))
            << a.kernel << " " << dtypeName(t) << " element " << i;
    }
  }
}

TEST(ActivationBackward, ReluIsZeroAtZeroAndBelow) {
  KernelHarness h("relu_backward");
  h.input<double>(DType::F32, {4}, {1, 2, 3, 4});
  h.input<double>(DType::F32, {4}, {0, 0.5, 0, 2});
  h.output(DType::F32, {4});
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<float>(0), (std::vector<float>{0, 2, 0, 4}));
}

TEST(ActivationBackward, RunsInPlaceOverEitherOperand) {
  std::mt19937 rng(3);
  for (const Activation &a : kActivations) {
    for (size_t operand : {0u, 1u}) {
      std::vector<double> dy = normals(6, rng), y = normals(6, rng);
      for (double &v : y)
        v = a.forwardValue(v);
      KernelHarness h(a.kernel);
      h.input<double>(DType::F64, {6}, dy);
      h.input<double>(DType::F64, {6}, y);
      h.output(DType::F64, {6});
      h.aliasOutputToInput(0, operand);
      ASSERT_TRUE(h.run().ok());
      std::vector<double> dx = h.outputAs<double>(0);
      for (int i = 0; i < 6; ++i)
        EXPECT_DOUBLE_EQ(dx[i], a.derivative(dy[i], y[i]))
            << a.kernel << " aliasing operand " << operand;
    }
  }
}

//===----------------------------------------------------------------------===//
// clip_backward
//===----------------------------------------------------------------------===//

TEST(ClipBackward, PassesInsideAndAtTheBounds) {
  std::vector<double> x = {-2, -1, -0.5, 0, 0.5, 1, 3};
  std::vector<double> dy = {1, 2, 3, 4, 5, 6, 7};
  struct Case {
    std::optional<double> lo, hi;
    std::vector<double> expected;
  } cases[] = {
      {-1.0, 1.0, {0, 2, 3, 4, 5, 6, 0}},
      {0.0, std::nullopt, {0, 0, 0, 4, 5, 6, 7}},
      {std::nullopt, -0.5, {1, 2, 3, 0, 0, 0, 0}},
      {std::nullopt, std::nullopt, {1, 2, 3, 4, 5, 6, 7}},
  };
  for (DType t : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
    for (const Case &c : cases) {
      KernelHarness h("clip_backward");
      h.input<double>(t, {7}, dy);
      h.input<double>(t, {7}, x);
      h.output(t, {7});
      if (c.lo)
        h.attrs().set("min", *c.lo);
      if (c.hi)
        h.attrs().set("max", *c.hi);
      ASSERT_TRUE(h.run().ok());
      EXPECT_EQ(h.outputAs<double>(0), c.expected) << dtypeName(t);
    }
  }
}

TEST(ClipBackward, RunsInPlaceOverDy) {
  KernelHarness h("clip_backward");
  h.input<double>(DType::F32, {3}, {1, 2, 3});
  h.input<double>(DType::F32, {3}, {-5, 0, 5});
  h.output(DType::F32, {3});
  h.attrs().set("min", -1.0);
  h.attrs().set("max", 1.0);
  h.aliasOutputToInput(0, 0);
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<float>(0), (std::vector<float>{0, 2, 0}));
}

TEST(ActivationBackward, CheckRejectsInconsistentPrograms) {
  auto make = [](const char *kernel, DType dy, DType v, DType dx, Shape vs,
                 Shape dxs) {
    auto h = std::make_unique<KernelHarness>(kernel);
    h->input<double>(dy, {2, 3}, std::vector<double>(6, 1));
    h->input<double>(v, vs, std::vector<double>(6, 1));
    h->output(dx, dxs);
    return h;
  };
  for (const char *k : {"relu_backward", "sigmoid_backward", "tanh_backward",
                        "clip_backward"}) {
    auto f = DType::F32;
    EXPECT_TRUE(make(k, f, f, f, {2, 3}, {2, 3})->check().ok()) << k;
    expectError(
        make(k, DType::I32, DType::I32, DType::I32, {2, 3}, {2, 3})->check(),
        "floating-point");
    expectError(make(k, f, DType::F64, f, {2, 3}, {2, 3})->check(), "type");
    expectError(make(k, f, f, DType::F16, {2, 3}, {2, 3})->check(), "type");
    expectError(make(k, f, f, f, {3, 2}, {2, 3})->check(), "shape");
    expectError(make(k, f, f, f, {2, 3}, {6})->check(), "shape");
    KernelHarness one(k);
    one.input<double>(f, {2}, {1, 2});
    one.output(f, {2});
    expectError(one.check(), "inputs");
  }
  auto h =
      make("clip_backward", DType::F32, DType::F32, DType::F32, {2, 3}, {2, 3});
  h->attrs().set("min", std::string("zero"));
  expectError(h->check(), "'min'");
}

//===----------------------------------------------------------------------===//
// slice_backward
//===----------------------------------------------------------------------===//

struct SliceCase {
  Shape in, out;
  Ints starts, ends, steps;
};

const SliceCase kSlices[] = {
    {{4, 10}, {2, 4}, {1, 4}, {3, 8}, {1, 1}},
    {{4, 10}, {2, 4}, {0, 1}, {4, 9}, {2, 2}},
    {{4, 10}, {4, 5}, {3, 9}, {-1, -1}, {-1, -2}},
    {{4, 10}, {2, 3}, {3, 8}, {0, 0}, {-2, -3}},
    {{3, 5},
     {1, 5},
     {2, 4},
     {3, -1},
     {std::numeric_limits<int64_t>::max(), -1}},
    {{2, 3, 4}, {2, 3, 2}, {0, 2, 1}, {2, -1, 4}, {1, -1, 2}},
    {{5}, {5}, {0}, {5}, {1}},
    {{}, {}, {}, {}, {}},
};

void setSlice(KernelHarness &h, const SliceCase &c) {
  h.attrs().set("starts", c.starts);
  h.attrs().set("ends", c.ends);
  h.attrs().set("steps", c.steps);
}

TEST(SliceBackward, IsTheAdjointOfSlice) {
  std::mt19937 rng(11);
  for (const SliceCase &c : kSlices) {
    std::vector<double> dy = smallInts(numelOf(c.out), rng);
    std::vector<double> expected = adjointReference(
        "slice", c.in, dy, c.out, [&](KernelHarness &f) { setSlice(f, c); });
    for (DType t : {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I64,
                    DType::I8}) {
      KernelHarness h("slice_backward");
      h.input<double>(t, c.out, dy);
      h.output(t, c.in);
      setSlice(h, c);
      Status s = h.run();
      ASSERT_TRUE(s.ok()) << s.message();
      EXPECT_EQ(h.outputAs<double>(0), expected)
          << dtypeName(t) << " slice of rank " << c.in.size();
    }
  }
}

TEST(SliceBackward, EmptySliceGivesZeros) {
  KernelHarness h("slice_backward");
  h.input<double>(DType::F32, {0, 3}, std::vector<double>{});
  h.output(DType::F32, {2, 3});
  h.attrs().set("starts", Ints{2, 0});
  h.attrs().set("ends", Ints{2, 3});
  h.attrs().set("steps", Ints{1, 1});
  std::memset(h.outputData(0), 0xff, 6 * 4); // zeros must be written
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<float>(0), std::vector<float>(6, 0));
}

TEST(SliceBackward, CheckRejectsInconsistentPrograms) {
  auto make = [](Shape dy, Shape dx, Ints starts, Ints ends, Ints steps,
                 DType dxType = DType::F32) {
    auto h = std::make_unique<KernelHarness>("slice_backward");
    h->input<double>(DType::F32, dy, std::vector<double>(numelOf(dy), 1));
    h->output(dxType, dx);
    h->attrs().set("starts", starts);
    h->attrs().set("ends", ends);
    h->attrs().set("steps", steps);
    return h;
  };
  EXPECT_TRUE(make({2}, {4}, {0}, {4}, {2})->check().ok());
  EXPECT_TRUE(make({4}, {4}, {3}, {-1}, {-1})->check().ok());
  expectError(make({3}, {4}, {0}, {4}, {2})->check(), "dy has shape");
  expectError(make({2}, {4}, {0}, {5}, {2})->check(), "not normalized");
  expectError(make({2}, {4}, {-1}, {3}, {2})->check(), "not normalized");
  expectError(make({2}, {4}, {0}, {4}, {0})->check(), "not normalized");
  expectError(
      make({1}, {4}, {3}, {2}, {std::numeric_limits<int64_t>::min()})->check(),
      "not normalized");
  expectError(make({2}, {4}, {4}, {-1}, {-2})->check(), "not normalized");
  expectError(make({2}, {4}, {0, 0}, {4, 1}, {2, 1})->check(), "one entry");
  expectError(make({2}, {4}, {0}, {4}, {2}, DType::F64)->check(),
              "element type");
  KernelHarness missing("slice_backward");
  missing.input<double>(DType::F32, {2}, {1, 2});
  missing.output(DType::F32, {4});
  missing.attrs().set("starts", Ints{0});
  missing.attrs().set("ends", Ints{4});
  expectError(missing.check(), "'steps'");
}

//===----------------------------------------------------------------------===//
// pad_backward
//===----------------------------------------------------------------------===//

struct PadCase {
  Shape in, out;
  const char *mode;
  Ints pads;
};

const PadCase kPads[] = {
    {{3, 4}, {6, 5}, "constant", {1, 0, 2, 1}},
    {{3, 4}, {2, 3}, "constant", {-1, 1, 0, -2}},
    {{3, 4}, {6, 7}, "reflect", {2, 1, 1, 2}},
    {{3, 4}, {4, 4}, "reflect", {-1, 2, 2, -2}},
    {{3, 4}, {8, 5}, "edge", {2, 0, 3, 1}},
    {{1, 2, 3}, {4, 2, 5}, "edge", {1, 0, 2, 2, 0, 0}},
    {{3, 4}, {2, 6}, "edge", {0, 2, -1, 0}},
    {{2, 3}, {2, 0}, "reflect", {0, -1, 0, -2}},
    {{}, {}, "reflect", {}},
};

void setPad(KernelHarness &h, const PadCase &c) {
  h.attrs().set("mode", std::string(c.mode));
  h.attrs().set("pads", c.pads);
}

TEST(PadBackward, IsTheAdjointOfPadInEveryMode) {
  std::mt19937 rng(5);
  for (const PadCase &c : kPads) {
    std::vector<double> dy = smallInts(numelOf(c.out), rng);
    std::vector<double> expected =
        adjointReference("pad", c.in, dy, c.out, [&](KernelHarness &f) {
          setPad(f, c);
          f.attrs().set("value", 0.0);
        });
    for (DType t : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
      KernelHarness h("pad_backward");
      h.input<double>(t, c.out, dy);
      h.output(t, c.in);
      setPad(h, c);
      std::memset(h.outputData(0), 0x7f, numelOf(c.in) * dtypeBytes(t));
      Status s = h.run();
      ASSERT_TRUE(s.ok()) << s.message();
      EXPECT_EQ(h.outputAs<double>(0), expected)
          << dtypeName(t) << " " << c.mode;
    }
  }
}

TEST(PadBackward, ReflectionsAddUp) {
  // [a b c] reflect-padded by 2 and 1 is [c b a b c b].
  KernelHarness h("pad_backward");
  h.input<double>(DType::F32, {6}, {1, 10, 100, 1000, 10000, 100000});
  h.output(DType::F32, {3});
  h.attrs().set("mode", std::string("reflect"));
  h.attrs().set("pads", Ints{2, 1});
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<float>(0), (std::vector<float>{100, 101010, 10001}));
}

TEST(PadBackward, CheckRejectsInconsistentPrograms) {
  auto make = [](Shape dy, Shape dx, const char *mode, Ints pads,
                 DType type = DType::F32) {
    auto h = std::make_unique<KernelHarness>("pad_backward");
    h->input<double>(type, dy, std::vector<double>(numelOf(dy), 1));
    h->output(type, dx);
    h->attrs().set("mode", std::string(mode));
    h->attrs().set("pads", pads);
    return h;
  };
  EXPECT_TRUE(make({5}, {3}, "reflect", {1, 1})->check().ok());
  EXPECT_TRUE(make({1}, {3}, "constant", {-1, -1})->check().ok());
  expectError(make({6}, {3}, "reflect", {1, 1})->check(), "dy has shape");
  expectError(make({7}, {3}, "reflect", {3, 1})->check(), "smaller");
  expectError(make({2}, {0}, "edge", {1, 1})->check(), "empty");
  expectError(make({5}, {3}, "wrap", {1, 1})->check(), "mode");
  expectError(make({5}, {3}, "edge", {1})->check(), "2 * rank");
  expectError(make({1}, {3}, "constant", {-2, -2})->check(), "negative");
  expectError(make({5}, {3}, "edge", {1, 1}, DType::I32)->check(),
              "floating-point");
  auto mixed = std::make_unique<KernelHarness>("pad_backward");
  mixed->input<double>(DType::F32, {5}, std::vector<double>(5, 1));
  mixed->output(DType::F64, {3});
  mixed->attrs().set("mode", std::string("edge"));
  mixed->attrs().set("pads", Ints{1, 1});
  expectError(mixed->check(), "floating-point");
  auto overflow =
      make({5}, {3}, "constant", {std::numeric_limits<int64_t>::max(), 1});
  expectError(overflow->check(), "overflowing");
}

//===----------------------------------------------------------------------===//
// gather_backward
//===----------------------------------------------------------------------===//

struct GatherCase {
  Shape data, indicesShape;
  std::vector<double> indices;
  int64_t axis;
};

Shape gatheredShape(const GatherCase &c) {
  Shape s(c.data.begin(), c.data.begin() + c.axis);
  s.insert(s.end(), c.indicesShape.begin(), c.indicesShape.end());
  s.insert(s.end(), c.data.begin() + c.axis + 1, c.data.end());
  return s;
}

const GatherCase kGathers[] = {
    {{5, 3}, {2, 3}, {0, 2, 0, 4, 2, 2}, 0},
    {{2, 4, 3}, {4}, {-1, 0, 3, -1}, 1},
    {{2, 3}, {}, {2}, 1},
    {{4}, {6}, {1, 1, 1, -3, 0, 3}, 0},
    {{3, 2}, {0}, {}, 0},
};

TEST(GatherBackward, IsTheAdjointOfGatherAndAccumulates) {
  std::mt19937 rng(9);
  for (const GatherCase &c : kGathers) {
    Shape out = gatheredShape(c);
    std::vector<double> dy = smallInts(numelOf(out), rng);
    for (DType indexType : {DType::I64, DType::I32}) {
      std::vector<double> expected =
          adjointReference("gather", c.data, dy, out, [&](KernelHarness &f) {
            f.input<double>(indexType, c.indicesShape, c.indices);
            f.attrs().set("axis", c.axis);
          });
      for (DType t : {DType::F32, DType::F64, DType::F16, DType::BF16}) {
        KernelHarness h("gather_backward");
        h.input<double>(t, out, dy);
        h.input<double>(indexType, c.indicesShape, c.indices);
        h.output(t, c.data);
        h.attrs().set("axis", c.axis);
        std::memset(h.outputData(0), 0x7f, numelOf(c.data) * dtypeBytes(t));
        Status s = h.run();
        ASSERT_TRUE(s.ok()) << s.message();
        EXPECT_EQ(h.outputAs<double>(0), expected)
            << dtypeName(t) << " indices " << dtypeName(indexType) << " axis "
            << c.axis;
      }
    }
  }
}

TEST(GatherBackward, RepeatedRowsSum) {
  // The embedding gradient: word 1 appears twice.
  KernelHarness h("gather_backward");
  h.input<double>(DType::F32, {3, 2}, {1, 2, 10, 20, 100, 200});
  h.input<double>(DType::I64, {3}, {1, 0, 1});
  h.output(DType::F32, {3, 2});
  h.attrs().set("axis", int64_t(0));
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<float>(0), (std::vector<float>{10, 20, 101, 202, 0, 0}));
}

TEST(GatherBackward, RunRejectsIndicesOutOfRange) {
  for (double bad : {3.0, -4.0}) {
    KernelHarness h("gather_backward");
    h.input<double>(DType::F32, {2, 2}, {1, 2, 3, 4});
    h.input<double>(DType::I64, {2}, {0, bad});
    h.output(DType::F32, {3, 2});
    h.attrs().set("axis", int64_t(0));
    ASSERT_TRUE(h.check().ok());
    expectError(h.run(), "out of range");
  }
}

TEST(GatherBackward, CheckRejectsInconsistentPrograms) {
  auto make = [](Shape dy, Shape indices, Shape dx, int64_t axis,
                 DType indexType = DType::I64, DType dyType = DType::F32,
                 DType dxType = DType::F32) {
    auto h = std::make_unique<KernelHarness>("gather_backward");
    h->input<double>(dyType, dy, std::vector<double>(numelOf(dy), 1));
    h->input<double>(indexType, indices,
                     std::vector<double>(numelOf(indices), 0));
    h->output(dxType, dx);
    h->attrs().set("axis", axis);
    return h;
  };
  EXPECT_TRUE(make({2, 6, 3}, {6}, {2, 4, 3}, 1)->check().ok());
  expectError(make({2, 5, 3}, {6}, {2, 4, 3}, 1)->check(), "dy has shape");
  expectError(make({2, 6, 3}, {6}, {2, 4, 3}, 3)->check(), "axis");
  expectError(make({2, 6, 3}, {6}, {2, 4, 3}, -1)->check(), "axis");
  expectError(make({2, 6, 3}, {6}, {2, 4, 3}, 1, DType::F32)->check(),
              "indices");
  expectError(make({2, 6, 3}, {6}, {2, 4, 3}, 1, DType::I16)->check(),
              "indices");
  expectError(
      make({2, 6, 3}, {6}, {2, 4, 3}, 1, DType::I64, DType::I32, DType::I32)
          ->check(),
      "floating-point");
  expectError(
      make({2, 6, 3}, {6}, {2, 4, 3}, 1, DType::I64, DType::F32, DType::F64)
          ->check(),
      "floating-point");
  KernelHarness noAxis("gather_backward");
  noAxis.input<double>(DType::F32, {2}, {1, 2});
  noAxis.input<double>(DType::I64, {2}, {0, 1});
  noAxis.output(DType::F32, {2});
  expectError(noAxis.check(), "'axis'");
}

} // namespace

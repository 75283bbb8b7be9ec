// CudaKernelsTest.cpp - the CUDA backend's elementwise, reduction, matrix,
// loss, optimizer and layout kernels against the CPU backend on fresh
// random inputs (CudaTestUtil.h): the same step runs on both and the
// results must agree (f64 to 1e-12, f32 to 1e-5 relative; layout ops
// exactly). Skipped where the build has no CUDA or the machine no GPU.

#include "CudaTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <tuple>

using namespace mlg_rt;
using mlg_rt::test::Cuda;
using mlg_rt::test::KernelHarness;
using mlg_rt::test::cudaTestNumel;
using mlg_rt::test::cudaTestTolerance;
using mlg_rt::test::cudaTestValues;
using mlg_rt::test::expectSameOnGpu;

namespace {

using Shape = std::vector<int64_t>;

TEST_F(Cuda, ArithmeticWithBroadcasting) {
  for (DType t : {DType::F32, DType::F64})
    for (const char *op : {"add", "sub", "mul", "div", "max", "min"})
      for (auto [a, b] : std::vector<std::pair<Shape, Shape>>{
               {{4, 5}, {4, 5}}, {{2, 3, 4}, {4}}, {{2, 1, 4}, {3, 1}},
               {{}, {3, 2}}}) {
        Shape out = a.size() >= b.size() ? a : b;
        // The broadcast result shape.
        size_t rank = std::max(a.size(), b.size());
        out.assign(rank, 1);
        for (size_t d = 0; d < rank; ++d) {
          int64_t da = d + a.size() >= rank ? a[d + a.size() - rank] : 1;
          int64_t db = d + b.size() >= rank ? b[d + b.size() - rank] : 1;
          out[d] = std::max(da, db);
        }
        expectSameOnGpu(*device_, op, [&](KernelHarness &h) {
          h.input(t, a, cudaTestValues(cudaTestNumel(a), 1, 0.5, 2));
          h.input(t, b, cudaTestValues(cudaTestNumel(b), 2, 0.5, 2));
          h.output(t, out);
        }, cudaTestTolerance(t));
      }
}

// Same-shaped operands go 16 bytes at a time with an element-by-element
// tail (1031 elements: no type's vector width divides it), also in place;
// a broadcast operand through fixed-divisor coordinates.
TEST_F(Cuda, ElementwiseVectorsTailsAndInPlace) {
  for (DType t : {DType::F32, DType::F64, DType::F16})
    for (bool inPlace : {false, true}) {
      double tol = t == DType::F16 ? 1e-3 : cudaTestTolerance(t);
      for (const char *op : {"add", "mul", "relu_backward"})
        expectSameOnGpu(*device_, op, [&](KernelHarness &h) {
          h.input(t, {1031}, cudaTestValues(1031, 41, -2, 2));
          h.input(t, {1031}, cudaTestValues(1031, 42, -2, 2));
          h.output(t, {1031});
          if (inPlace)
            h.aliasOutputToInput(0, 1);
        }, tol);
      expectSameOnGpu(*device_, "relu", [&](KernelHarness &h) {
        h.input(t, {1031}, cudaTestValues(1031, 43, -2, 2));
        h.output(t, {1031});
        if (inPlace)
          h.aliasOutputToInput(0, 0);
      }, tol);
      expectSameOnGpu(*device_, "add", [&](KernelHarness &h) {
        h.input(t, {7, 33, 5}, cudaTestValues(7 * 33 * 5, 44, -2, 2));
        h.input(t, {33, 1}, cudaTestValues(33, 45, -2, 2));
        h.output(t, {7, 33, 5});
      }, tol);
    }
}

TEST_F(Cuda, UnaryAndActivationBackward) {
  for (DType t : {DType::F32, DType::F64}) {
    for (const char *op : {"relu", "neg", "abs", "exp", "tanh", "sigmoid",
                           "sin", "cos", "erf"})
      expectSameOnGpu(*device_, op, [&](KernelHarness &h) {
        h.input(t, {3, 7}, cudaTestValues(21, 3, -2, 2));
        h.output(t, {3, 7});
      }, cudaTestTolerance(t));
    for (const char *op : {"sqrt", "log", "reciprocal"})
      expectSameOnGpu(*device_, op, [&](KernelHarness &h) {
        h.input(t, {3, 7}, cudaTestValues(21, 4, 0.1, 3));
        h.output(t, {3, 7});
      }, cudaTestTolerance(t));
    for (const char *op : {"relu_backward", "sigmoid_backward",
                           "tanh_backward"})
      expectSameOnGpu(*device_, op, [&](KernelHarness &h) {
        h.input(t, {5, 4}, cudaTestValues(20, 5));
        h.input(t, {5, 4}, cudaTestValues(20, 6));
        h.output(t, {5, 4});
      }, cudaTestTolerance(t));
  }
}

// The activations with attributes (their defaults, then other values),
// the smooth ones and the roundings, on both sides of their kinks (0 and
// the hard sigmoid's clamps) and on halves for the rounding.
TEST_F(Cuda, ParametricUnaryAndRounding) {
  struct Case {
    const char *op;
    std::vector<std::pair<const char *, double>> attrs;
  } cases[] = {{"leaky_relu", {}},
               {"leaky_relu", {{"alpha", 0.3}}},
               {"elu", {}},
               {"elu", {{"alpha", 0.5}}},
               {"selu", {}},
               {"selu", {{"alpha", 2.0}, {"gamma", 1.5}}},
               {"hard_sigmoid", {}},
               {"hard_sigmoid", {{"alpha", 1.0 / 6}, {"beta", 0.5}}},
               {"softplus", {}},
               {"softsign", {}},
               {"floor", {}},
               {"ceil", {}},
               {"round", {}}};
  std::vector<double> halves;
  for (int i = -8; i <= 8; ++i)
    halves.push_back(i * 0.5);
  for (DType t : {DType::F32, DType::F64, DType::F16})
    for (const Case &c : cases)
      for (const std::vector<double> &values :
           {cudaTestValues(1031, 7, -30, 30), halves})
        expectSameOnGpu(*device_, c.op, [&](KernelHarness &h) {
          int64_t n = int64_t(values.size());
          h.input(t, {n}, values);
          h.output(t, {n});
          for (auto [name, value] : c.attrs)
            h.attrs().set(name, value);
        }, t == DType::F16 ? 1e-3 : cudaTestTolerance(t));
}

TEST_F(Cuda, ExpandAndCopy) {
  expectSameOnGpu(*device_, "expand", [&](KernelHarness &h) {
    h.input(DType::F32, {3, 1}, cudaTestValues(3, 7));
    h.output(DType::F32, {2, 3, 4});
  }, 0);
  expectSameOnGpu(*device_, "copy", [&](KernelHarness &h) {
    h.input(DType::F64, {17}, cudaTestValues(17, 8));
    h.output(DType::F64, {17});
  }, 0);
}

TEST_F(Cuda, Reductions) {
  for (DType t : {DType::F32, DType::F64})
    for (const char *op :
         {"reduce_sum", "reduce_mean", "reduce_max", "reduce_min",
          "reduce_l1", "reduce_l2", "reduce_sum_square", "reduce_log_sum",
          "reduce_log_sum_exp"})
      for (auto [axes, out] : std::vector<std::pair<std::vector<int64_t>,
                                                    Shape>>{
               {{0}, {1, 3, 4}}, {{0, 2}, {1, 3, 1}}, {{1}, {2, 1, 4}}})
        expectSameOnGpu(*device_, op, [&](KernelHarness &h) {
          // Positive values where a log of their sum is taken.
          bool positive = std::string(op) == "reduce_log_sum";
          h.input(t, {2, 3, 4},
                  positive ? cudaTestValues(24, 9, 0.1, 3)
                           : cudaTestValues(24, 9, -20, 20));
          h.output(t, out);
          h.attrs().set("axes", axes);
          h.attrs().set("keepdims", true);
        }, cudaTestTolerance(t));
}

// Sums and means split over many blocks: long rows (vectorized or not),
// columns of short rows, everything, and the block-per-output fallback for
// axes that interleave with kept ones.
TEST_F(Cuda, SplitSumsEveryForm) {
  struct Case {
    Shape in;
    std::vector<int64_t> axes;
    Shape out;
  };
  for (DType t : {DType::F32, DType::F64})
    for (const char *op : {"reduce_sum", "reduce_mean"})
      for (const Case &k : std::vector<Case>{
               {{64, 3, 40, 36}, {0, 2, 3}, {1, 3, 1, 1}}, // bias gradients
               {{3, 5, 4100}, {2}, {3, 5, 1}},             // pieces of rows
               {{4, 2, 33}, {0, 2}, {1, 2, 1}},            // odd rows
               {{300, 70}, {0}, {1, 70}},                  // columns
               {{200, 6, 9}, {0, 2}, {1, 6, 1}},           // short rows
               {{50000}, {0}, {1}},                        // everything
               {{1, 7, 1, 40}, {3}, {1, 7, 1, 1}},         // unit axes
               {{6, 5, 7}, {0, 2}, {1, 5, 1}},
               {{5, 6, 7, 8}, {0, 2}, {1, 6, 1, 8}}}) // interleaved
        expectSameOnGpu(*device_, op, [&](KernelHarness &h) {
          h.input(t, k.in, cudaTestValues(cudaTestNumel(k.in), 31, -1, 3));
          h.output(t, k.out);
          h.attrs().set("axes", k.axes);
          h.attrs().set("keepdims", true);
        }, cudaTestTolerance(t));
}

TEST_F(Cuda, GemmEveryTransposeWithBias) {
  for (DType t : {DType::F32, DType::F64})
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        expectSameOnGpu(*device_, "gemm", [&](KernelHarness &h) {
          int64_t m = 5, n = 7, k = 3;
          h.input(t, ta ? Shape{k, m} : Shape{m, k}, cudaTestValues(m * k, 10));
          h.input(t, tb ? Shape{n, k} : Shape{k, n}, cudaTestValues(n * k, 11));
          h.input(t, {n}, cudaTestValues(n, 12));
          h.output(t, {m, n});
          h.attrs().set("alpha", 0.5);
          h.attrs().set("beta", 2.0);
          h.attrs().set("trans_a", ta);
          h.attrs().set("trans_b", tb);
        }, cudaTestTolerance(t));
}

TEST_F(Cuda, MatMulBatches) {
  for (auto [a, b, out] : std::vector<std::tuple<Shape, Shape, Shape>>{
           {{2, 3, 4, 5}, {5, 6}, {2, 3, 4, 6}},
           {{3, 4, 5}, {3, 5, 2}, {3, 4, 2}},
           {{4, 5}, {3, 5, 2}, {3, 4, 2}}})
    expectSameOnGpu(*device_, "matmul", [&](KernelHarness &h) {
      h.input(DType::F64, a, cudaTestValues(cudaTestNumel(a), 13));
      h.input(DType::F64, b, cudaTestValues(cudaTestNumel(b), 14));
      h.output(DType::F64, out);
    }, 1e-12);
}

TEST_F(Cuda, SoftmaxCrossEntropyAndItsGradient) {
  for (DType t : {DType::F32, DType::F64}) {
    std::vector<double> labels = {3, 0, 9, 5, 5, 1};
    expectSameOnGpu(*device_, "softmax_cross_entropy", [&](KernelHarness &h) {
      h.input(t, {6, 10}, cudaTestValues(60, 15, -3, 3));
      h.input(DType::I64, {6}, labels);
      h.output(t, {});
    }, cudaTestTolerance(t));
    expectSameOnGpu(*device_, "softmax_cross_entropy_backward",
               [&](KernelHarness &h) {
                 h.input(t, {}, std::vector<double>{1.5});
                 h.input(t, {6, 10}, cudaTestValues(60, 16, -3, 3));
                 h.input(DType::I64, {6}, labels);
                 h.output(t, {6, 10});
               },
               cudaTestTolerance(t));
  }
}

TEST_F(Cuda, OptimizerUpdates) {
  for (DType t : {DType::F32, DType::F64}) {
    auto common = [&](KernelHarness &h) {
      h.attrs().set("lr", 0.1);
      h.attrs().set("weight_decay", 0.01);
    };
    expectSameOnGpu(*device_, "sgd_update", [&](KernelHarness &h) {
      h.input(t, {40}, cudaTestValues(40, 17));
      h.output(t, {40});
      common(h);
    }, cudaTestTolerance(t));
    for (bool nesterov : {false, true})
      expectSameOnGpu(*device_, "momentum_update", [&](KernelHarness &h) {
        h.input(t, {40}, cudaTestValues(40, 18));
        h.output(t, {40});
        h.output(t, {40});
        common(h);
        h.attrs().set("momentum", 0.9);
        h.attrs().set("nesterov", nesterov);
      }, cudaTestTolerance(t));
    expectSameOnGpu(*device_, "adam_update", [&](KernelHarness &h) {
      h.input(t, {40}, cudaTestValues(40, 19));
      h.input(DType::I64, {}, std::vector<double>{3});
      h.output(t, {40});
      h.output(t, {40});
      h.output(t, {40});
      common(h);
      h.attrs().set("beta1", 0.9);
      h.attrs().set("beta2", 0.999);
      h.attrs().set("epsilon", 1e-8);
    }, cudaTestTolerance(t));
  }
  expectSameOnGpu(*device_, "increment_step", [&](KernelHarness &h) {
    h.output(DType::I64, {});
  }, 0);
}

TEST_F(Cuda, LabelOutOfRangeIsAnError) {
  KernelHarness h("softmax_cross_entropy");
  h.input(DType::F32, {2, 4}, cudaTestValues(8, 20));
  h.input(DType::I64, {2}, std::vector<double>{1, 7});
  h.output(DType::F32, {});
  Status s = h.runOn(*device_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("not one of the classes"),
            std::string::npos)
      << s.message();
}

} // namespace

//===----------------------------------------------------------------------===//
// Data-movement kernels (tensor.cu) and their backwards
//===----------------------------------------------------------------------===//

namespace {

using Ints = std::vector<int64_t>;

/// Integers in [-50, 50]: exact in every element type, and their sums
/// exact in f16 and bf16 whatever the order of the additions.
std::vector<double> smallInts(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-50, 50);
  std::vector<double> v(static_cast<size_t>(n));
  for (double &x : v)
    x = dist(rng);
  return v;
}

/// Zeros and ones (bool conditions and operands).
std::vector<double> randomBits(int64_t n, uint32_t seed) {
  std::vector<double> v = smallInts(n, seed);
  for (double &x : v)
    x = x > 0 ? 1 : 0;
  return v;
}

/// Values of type `t`: integers for integer types, bits for bool, random
/// reals otherwise.
std::vector<double> valuesOf(DType t, int64_t n, uint32_t seed) {
  if (t == DType::Bool)
    return randomBits(n, seed);
  if (!isFloat(t))
    return smallInts(n, seed);
  return cudaTestValues(n, seed, -50, 50);
}

/// Fills result `o`'s host buffer with garbage before it is copied to the
/// device, so a kernel that does not write every element is caught.
void poison(KernelHarness &h, DType t, const Shape &s, size_t o = 0) {
  if (cudaTestNumel(s) > 0)
    std::memset(h.outputData(o), 0x7f, size_t(cudaTestNumel(s) * dtypeBytes(t)));
}

const DType kLayoutTypes[] = {DType::F32, DType::F64, DType::F16,
                              DType::I64, DType::I8,  DType::Bool};

TEST_F(Cuda, Transpose) {
  struct Case {
    Shape in;
    Ints perm;
  } cases[] = {{{2, 3, 4}, {2, 0, 1}}, {{2, 3, 4}, {1, 0, 2}},
               {{2, 3, 4}, {0, 1, 2}}, {{5, 7}, {1, 0}},
               {{2, 3, 1, 4, 2}, {4, 2, 0, 3, 1}}, {{}, {}},
               {{3, 0, 2}, {2, 1, 0}}};
  for (DType t : kLayoutTypes)
    for (const Case &c : cases) {
      Shape out;
      for (int64_t p : c.perm)
        out.push_back(c.in[p]);
      expectSameOnGpu(*device_, "transpose", [&](KernelHarness &h) {
        h.input(t, c.in, valuesOf(t, cudaTestNumel(c.in), 30));
        h.output(t, out);
        h.attrs().set("perm", c.perm);
        poison(h, t, out);
      }, 0);
    }
}

TEST_F(Cuda, ConcatAndSplit) {
  struct Case {
    std::vector<Shape> parts;
    int64_t axis;
  } cases[] = {
      {{{2, 3}, {4, 3}, {1, 3}}, 0},
      {{{2, 3, 4}, {2, 1, 4}, {2, 0, 4}, {2, 5, 4}}, 1},
      {{{2, 3, 1}, {2, 3, 2}, {2, 3, 3}}, 2},
      // More pieces than one launch takes.
      {{{3, 1}, {3, 2}, {3, 3}, {3, 1}, {3, 2}, {3, 3}, {3, 1}, {3, 2},
        {3, 3}, {3, 4}, {3, 1}},
       1},
      {{{5}}, 0},
  };
  for (DType t : kLayoutTypes)
    for (const Case &c : cases) {
      Shape whole = c.parts[0];
      whole[c.axis] = 0;
      Ints sizes;
      for (const Shape &p : c.parts) {
        whole[c.axis] += p[c.axis];
        sizes.push_back(p[c.axis]);
      }
      expectSameOnGpu(*device_, "concat", [&](KernelHarness &h) {
        uint32_t seed = 40;
        for (const Shape &p : c.parts)
          h.input(t, p, valuesOf(t, cudaTestNumel(p), seed++));
        h.output(t, whole);
        h.attrs().set("axis", c.axis);
        poison(h, t, whole);
      }, 0);
      expectSameOnGpu(*device_, "split", [&](KernelHarness &h) {
        h.input(t, whole, valuesOf(t, cudaTestNumel(whole), 41));
        for (const Shape &p : c.parts)
          h.output(t, p);
        for (size_t o = 0; o < c.parts.size(); ++o)
          poison(h, t, c.parts[o], o);
        h.attrs().set("axis", c.axis);
        h.attrs().set("sizes", sizes);
      }, 0);
    }
}

struct SliceCase {
  Shape in, out;
  Ints starts, ends, steps;
};

const SliceCase kSlices[] = {
    {{4, 10}, {2, 4}, {1, 4}, {3, 8}, {1, 1}},
    {{4, 10}, {2, 4}, {0, 1}, {4, 9}, {2, 2}},
    {{4, 10}, {4, 5}, {3, 9}, {-1, -1}, {-1, -2}},
    {{4, 10}, {2, 3}, {3, 8}, {0, 0}, {-2, -3}},
    {{3, 5}, {1, 5}, {2, 4}, {3, -1}, {INT64_MAX, -1}},
    {{2, 3, 4}, {2, 3, 2}, {0, 2, 1}, {2, -1, 4}, {1, -1, 2}},
    {{5}, {5}, {0}, {5}, {1}},
    {{4, 10}, {0, 10}, {4, 0}, {4, 10}, {1, 1}},
    {{}, {}, {}, {}, {}},
};

TEST_F(Cuda, SliceAndSliceBackward) {
  for (DType t : kLayoutTypes)
    for (const SliceCase &c : kSlices) {
      auto attrs = [&](KernelHarness &h) {
        h.attrs().set("starts", c.starts);
        h.attrs().set("ends", c.ends);
        h.attrs().set("steps", c.steps);
      };
      expectSameOnGpu(*device_, "slice", [&](KernelHarness &h) {
        h.input(t, c.in, valuesOf(t, cudaTestNumel(c.in), 50));
        h.output(t, c.out);
        attrs(h);
        poison(h, t, c.out);
      }, 0);
      expectSameOnGpu(*device_, "slice_backward", [&](KernelHarness &h) {
        h.input(t, c.out, valuesOf(t, cudaTestNumel(c.out), 51));
        h.output(t, c.in);
        attrs(h);
        poison(h, t, c.in);
      }, 0);
    }
}

struct GatherCase {
  Shape data, indicesShape;
  std::vector<double> indices;
  int64_t axis;
};

const GatherCase kGathers[] = {
    {{5, 3}, {2, 3}, {0, 2, 0, 4, 2, 2}, 0},
    {{2, 4, 3}, {4}, {-1, 0, 3, -1}, 1},
    {{2, 3}, {}, {2}, 1},
    {{4}, {6}, {1, 1, 1, -3, 0, 3}, 0},
    {{3, 2}, {0}, {}, 0},
    {{6, 8}, {5}, {5, -6, 2, 2, 0}, 0}, // rows of 8 elements: wide words
    {{3, 4, 2}, {2, 2}, {3, 0, -4, 1}, 1},
};

Shape gatheredShape(const GatherCase &c) {
  Shape s(c.data.begin(), c.data.begin() + c.axis);
  s.insert(s.end(), c.indicesShape.begin(), c.indicesShape.end());
  s.insert(s.end(), c.data.begin() + c.axis + 1, c.data.end());
  return s;
}

TEST_F(Cuda, GatherAndGatherBackward) {
  for (const GatherCase &c : kGathers) {
    Shape out = gatheredShape(c);
    for (DType indexType : {DType::I64, DType::I32}) {
      for (DType t : kLayoutTypes)
        expectSameOnGpu(*device_, "gather", [&](KernelHarness &h) {
          h.input(t, c.data, valuesOf(t, cudaTestNumel(c.data), 60));
          h.input(indexType, c.indicesShape, c.indices);
          h.output(t, out);
          h.attrs().set("axis", c.axis);
          poison(h, t, out);
        }, 0);
      for (DType t : {DType::F32, DType::F64, DType::F16, DType::BF16})
        expectSameOnGpu(*device_, "gather_backward", [&](KernelHarness &h) {
          h.input(t, out, smallInts(cudaTestNumel(out), 61));
          h.input(indexType, c.indicesShape, c.indices);
          h.output(t, c.data);
          h.attrs().set("axis", c.axis);
          poison(h, t, c.data);
        }, 0);
    }
  }
  // Many rows into few: the atomic additions of an embedding gradient.
  expectSameOnGpu(*device_, "gather_backward", [&](KernelHarness &h) {
    std::vector<double> idx = smallInts(500, 62);
    for (double &i : idx)
      i = std::fmod(std::fabs(i), 7);
    h.input(DType::F32, {500, 16}, cudaTestValues(500 * 16, 63));
    h.input(DType::I64, {500}, idx);
    h.output(DType::F32, {7, 16});
    h.attrs().set("axis", int64_t(0));
  }, 1e-5);
}

TEST_F(Cuda, GatherIndexOutOfRangeIsAnError) {
  for (const char *kernel : {"gather", "gather_backward"})
    for (double bad : {3.0, -4.0}) {
      KernelHarness h(kernel);
      if (std::string(kernel) == "gather") {
        h.input(DType::F32, {3, 2}, cudaTestValues(6, 64));
        h.input(DType::I64, {2}, std::vector<double>{0, bad});
        h.output(DType::F32, {2, 2});
      } else {
        h.input(DType::F32, {2, 2}, cudaTestValues(4, 64));
        h.input(DType::I32, {2}, std::vector<double>{bad, 1});
        h.output(DType::F32, {3, 2});
      }
      h.attrs().set("axis", int64_t(0));
      Status s = h.runOn(*device_);
      ASSERT_FALSE(s.ok()) << kernel;
      EXPECT_NE(std::string(s.message()).find("index is out of range"),
                std::string::npos)
          << s.message();
    }
  // The error is reported once: the device runs the next step normally.
  expectSameOnGpu(*device_, "gather", [&](KernelHarness &h) {
    h.input(DType::F32, {3, 2}, cudaTestValues(6, 65));
    h.input(DType::I64, {2}, std::vector<double>{2, -3});
    h.output(DType::F32, {2, 2});
    h.attrs().set("axis", int64_t(0));
  }, 0);
}

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
    {{2, 3, 4}, {5, 6, 9}, "edge", {2, 1, 3, 1, 2, 2}},
    {{2, 3, 4, 5}, {2, 5, 4, 8}, "reflect", {0, 1, 0, 2, 0, 1, 0, 1}},
    {{0, 2}, {2, 3}, "constant", {1, 0, 1, 1}},
    {{}, {}, "reflect", {}},
};

TEST_F(Cuda, PadAndPadBackward) {
  for (const PadCase &c : kPads) {
    for (DType t : {DType::F32, DType::F64, DType::F16, DType::BF16,
                    DType::I32, DType::I8, DType::U8, DType::Bool})
      for (double value : {0.0, -7.5, 1e9}) {
        if (t == DType::F16 && value == 1e9)
          continue; // infinite in f16 (an infinite result compares as NaN)
        expectSameOnGpu(*device_, "pad", [&](KernelHarness &h) {
          h.input(t, c.in, valuesOf(t, cudaTestNumel(c.in), 70));
          h.output(t, c.out);
          h.attrs().set("mode", std::string(c.mode));
          h.attrs().set("pads", c.pads);
          h.attrs().set("value", value);
          poison(h, t, c.out);
        }, 0);
      }
    for (DType t : {DType::F32, DType::F64, DType::F16, DType::BF16})
      expectSameOnGpu(*device_, "pad_backward", [&](KernelHarness &h) {
        h.input(t, c.out, smallInts(cudaTestNumel(c.out), 71));
        h.output(t, c.in);
        h.attrs().set("mode", std::string(c.mode));
        h.attrs().set("pads", c.pads);
        poison(h, t, c.in);
      }, 0);
  }
  // Reals in f16: the device adds in the CPU's order, rounding alike.
  expectSameOnGpu(*device_, "pad_backward", [&](KernelHarness &h) {
    h.input(DType::F16, {9, 12}, cudaTestValues(108, 72));
    h.output(DType::F16, {3, 4});
    h.attrs().set("mode", std::string("edge"));
    h.attrs().set("pads", Ints{3, 4, 3, 4});
  }, 0);
}

TEST_F(Cuda, Tile) {
  struct Case {
    Shape in;
    Ints repeats;
  } cases[] = {{{2, 3}, {2, 3}}, {{2, 1, 3}, {1, 4, 2}}, {{3}, {0}},
               {{}, {}}, {{1, 2, 1, 2, 1, 2}, {2, 1, 2, 2, 3, 1}}};
  for (DType t : kLayoutTypes)
    for (const Case &c : cases) {
      Shape out;
      for (size_t d = 0; d < c.in.size(); ++d)
        out.push_back(c.in[d] * c.repeats[d]);
      expectSameOnGpu(*device_, "tile", [&](KernelHarness &h) {
        h.input(t, c.in, valuesOf(t, cudaTestNumel(c.in), 80));
        h.output(t, out);
        h.attrs().set("repeats", c.repeats);
        poison(h, t, out);
      }, 0);
    }
}

TEST_F(Cuda, Where) {
  struct Case {
    Shape cond, x, y, out;
  } cases[] = {{{2, 3, 4}, {2, 3, 4}, {2, 3, 4}, {2, 3, 4}},
               {{3, 1}, {2, 1, 4}, {4}, {2, 3, 4}},
               {{}, {5}, {1}, {5}},
               {{2, 1, 3, 1, 2}, {1, 4, 1, 3, 1}, {2, 4, 3, 3, 2},
                {2, 4, 3, 3, 2}}};
  for (DType t : kLayoutTypes)
    for (const Case &c : cases)
      expectSameOnGpu(*device_, "where", [&](KernelHarness &h) {
        h.input(DType::Bool, c.cond, randomBits(cudaTestNumel(c.cond), 90));
        h.input(t, c.x, valuesOf(t, cudaTestNumel(c.x), 91));
        h.input(t, c.y, valuesOf(t, cudaTestNumel(c.y), 92));
        h.output(t, c.out);
        poison(h, t, c.out);
      }, 0);
}

// Comparisons into bool for every kind of operand type (values from a
// small set, so that equal pairs occur), the logical ops on bools, with
// broadcasting; every element of the result written.
TEST_F(Cuda, ComparisonsAndLogic) {
  std::pair<Shape, Shape> shapes[] = {
      {{4, 5}, {4, 5}}, {{2, 3, 4}, {4}}, {{2, 1, 4}, {3, 1}}, {{}, {3, 2}}};
  auto broadcast = [](const Shape &a, const Shape &b) {
    size_t rank = std::max(a.size(), b.size());
    Shape out(rank, 1);
    for (size_t d = 0; d < rank; ++d) {
      int64_t da = d + a.size() >= rank ? a[d + a.size() - rank] : 1;
      int64_t db = d + b.size() >= rank ? b[d + b.size() - rank] : 1;
      out[d] = std::max(da, db);
    }
    return out;
  };
  auto few = [](DType t, int64_t n, uint32_t seed) {
    std::vector<double> v = smallInts(n, seed);
    for (double &x : v)
      x = t == DType::Bool
              ? double(std::abs(int64_t(x)) & 1)
              : double(std::abs(int64_t(x)) % 3) * (isFloat(t) ? 0.5 : 1);
    return v;
  };
  for (auto [a, b] : shapes) {
    Shape out = broadcast(a, b);
    for (DType t : {DType::F32, DType::F64, DType::F16, DType::I64,
                    DType::I32, DType::U8, DType::Bool})
      for (const char *op :
           {"equal", "less", "less_or_equal", "greater", "greater_or_equal"})
        expectSameOnGpu(*device_, op, [&](KernelHarness &h) {
          h.input(t, a, few(t, cudaTestNumel(a), 93));
          h.input(t, b, few(t, cudaTestNumel(b), 94));
          h.output(DType::Bool, out);
          poison(h, DType::Bool, out);
        }, 0);
    for (const char *op : {"and", "or", "xor"})
      expectSameOnGpu(*device_, op, [&](KernelHarness &h) {
        h.input(DType::Bool, a, randomBits(cudaTestNumel(a), 95));
        h.input(DType::Bool, b, randomBits(cudaTestNumel(b), 96));
        h.output(DType::Bool, out);
        poison(h, DType::Bool, out);
      }, 0);
  }
  expectSameOnGpu(*device_, "not", [&](KernelHarness &h) {
    h.input(DType::Bool, {37}, randomBits(37, 97));
    h.output(DType::Bool, {37});
    poison(h, DType::Bool, {37});
  }, 0);
}

// argmax and argmin over each axis, with and without keepdims, ties (small
// integers) going to the first index or, with select_last_index, the last.
TEST_F(Cuda, ArgMaxAndArgMin) {
  Shape in = {3, 5, 4};
  for (DType t : {DType::F32, DType::F64, DType::F16, DType::I64, DType::I32})
    for (const char *op : {"argmax", "argmin"})
      for (int64_t axis = 0; axis < 3; ++axis)
        for (bool keep : {true, false})
          for (bool last : {false, true}) {
            Shape out;
            for (int64_t d = 0; d < 3; ++d)
              if (d != axis)
                out.push_back(in[d]);
              else if (keep)
                out.push_back(1);
            expectSameOnGpu(*device_, op, [&](KernelHarness &h) {
              std::vector<double> v = smallInts(60, 98);
              for (double &x : v)
                x = double(int64_t(x) % 4);
              h.input(t, in, v);
              h.output(DType::I64, out);
              h.attrs().set("axis", axis);
              h.attrs().set("keepdims", keep);
              h.attrs().set("select_last_index", last);
              poison(h, DType::I64, out);
            }, 0);
          }
}

TEST_F(Cuda, CastBetweenEveryPairOfTypes) {
  const DType types[] = {DType::F32, DType::F64, DType::F16, DType::BF16,
                         DType::I8,  DType::I16, DType::I32, DType::I64,
                         DType::U8,  DType::U16, DType::U32, DType::U64,
                         DType::Bool};
  for (DType from : types)
    for (DType to : types) {
      // Values whose conversion is finite (an infinite result compares as
      // NaN): f16 operands and results stay below its largest value.
      std::vector<double> v;
      if (from == DType::Bool) {
        v = {0, 1, 1, 0, 1};
      } else {
        v = {0, 1, 2, 5, 7, 100, 127, 128, 200, 255, 1000, 30000};
        if (!isUnsignedInt(from))
          v.insert(v.end(), {-1, -5, -128, -129, -30000});
        if (isFloat(from))
          v.insert(v.end(), {0.5, -0.5, 2.5, -2.5, 3.7, -3.7, 100.25, NAN});
        if (from != DType::F16 && to != DType::F16)
          v.insert(v.end(), {300, 65535, 65536, 1e9, -1e9, 5e9});
        if (isFloat(from) && !isFloat(to))
          v.insert(v.end(), {1e10, -1e10, 1e19, -1e19, 3e38, INFINITY,
                             -INFINITY});
      }
      int64_t n = int64_t(v.size());
      expectSameOnGpu(*device_, "cast", [&](KernelHarness &h) {
        h.input(from, {n}, v);
        h.output(to, {n});
        poison(h, to, {n});
      }, 0);
    }
}

} // namespace

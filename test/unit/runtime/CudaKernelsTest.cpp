// CudaKernelsTest.cpp - every CUDA kernel against the CPU backend on fresh
// random inputs: the same step (operands, attributes, workspace) runs on
// both and the results must agree (f64 to 1e-12, f32 to 1e-5 relative; the
// convolutions' TF32 to 2e-3). Dropout masks must be identical. Skipped
// where the build has no CUDA or the machine no GPU.

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <tuple>

using namespace mlg_rt;
using mlg_rt::test::KernelHarness;

namespace {

class Cuda : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    Status s = createCudaDevice(&device_);
    if (!s.ok())
      why_ = s.message();
  }
  static void TearDownTestSuite() { device_.reset(); }
  void SetUp() override {
    if (!device_)
      GTEST_SKIP() << "no CUDA device: " << why_;
  }
  static std::unique_ptr<Device> device_;
  static std::string why_;
};
std::unique_ptr<Device> Cuda::device_;
std::string Cuda::why_;

using Shape = std::vector<int64_t>;

std::vector<double> randomValues(int64_t n, uint32_t seed, double lo = -1,
                                 double hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(static_cast<size_t>(n));
  for (double &x : v)
    x = dist(rng);
  return v;
}

int64_t numel(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

/// Builds the same step twice (by `setup`), runs one on the CPU and one on
/// the GPU, and compares every result.
void expectSame(Device &device, const std::string &kernel,
                const std::function<void(KernelHarness &)> &setup,
                double tolerance, uint64_t runIndex = 0) {
  KernelHarness cpu(kernel), gpu(kernel);
  setup(cpu);
  setup(gpu);
  Status s = cpu.run(runIndex);
  ASSERT_TRUE(s.ok()) << kernel << " on the CPU: " << s.message();
  s = gpu.runOn(device, runIndex);
  ASSERT_TRUE(s.ok()) << kernel << " on the GPU: " << s.message();
  for (size_t o = 0; o < cpu.numOutputs(); ++o) {
    std::vector<double> a = cpu.outputAs<double>(o), b = gpu.outputAs<double>(o);
    double scale = 0;
    for (double x : a)
      scale = std::max(scale, std::fabs(x));
    for (size_t i = 0; i < a.size(); ++i) {
      bool bothNaN = std::isnan(a[i]) && std::isnan(b[i]);
      ASSERT_TRUE(bothNaN || std::fabs(a[i] - b[i]) <=
                                 tolerance * std::max(1.0, scale))
          << kernel << " result " << o << " element " << i << ": CPU "
          << a[i] << ", GPU " << b[i];
    }
  }
}

double tol(DType t) { return t == DType::F64 ? 1e-12 : 1e-5; }

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
        expectSame(*device_, op, [&](KernelHarness &h) {
          h.input(t, a, randomValues(numel(a), 1, 0.5, 2));
          h.input(t, b, randomValues(numel(b), 2, 0.5, 2));
          h.output(t, out);
        }, tol(t));
      }
}

TEST_F(Cuda, UnaryAndActivationBackward) {
  for (DType t : {DType::F32, DType::F64}) {
    for (const char *op : {"relu", "neg", "abs", "exp", "tanh", "sigmoid",
                           "sin", "cos", "erf"})
      expectSame(*device_, op, [&](KernelHarness &h) {
        h.input(t, {3, 7}, randomValues(21, 3, -2, 2));
        h.output(t, {3, 7});
      }, tol(t));
    for (const char *op : {"sqrt", "log", "reciprocal"})
      expectSame(*device_, op, [&](KernelHarness &h) {
        h.input(t, {3, 7}, randomValues(21, 4, 0.1, 3));
        h.output(t, {3, 7});
      }, tol(t));
    for (const char *op : {"relu_backward", "sigmoid_backward",
                           "tanh_backward"})
      expectSame(*device_, op, [&](KernelHarness &h) {
        h.input(t, {5, 4}, randomValues(20, 5));
        h.input(t, {5, 4}, randomValues(20, 6));
        h.output(t, {5, 4});
      }, tol(t));
  }
}

TEST_F(Cuda, ExpandAndCopy) {
  expectSame(*device_, "expand", [&](KernelHarness &h) {
    h.input(DType::F32, {3, 1}, randomValues(3, 7));
    h.output(DType::F32, {2, 3, 4});
  }, 0);
  expectSame(*device_, "copy", [&](KernelHarness &h) {
    h.input(DType::F64, {17}, randomValues(17, 8));
    h.output(DType::F64, {17});
  }, 0);
}

TEST_F(Cuda, Reductions) {
  for (DType t : {DType::F32, DType::F64})
    for (const char *op : {"reduce_sum", "reduce_mean", "reduce_max",
                           "reduce_min"})
      for (auto [axes, out] : std::vector<std::pair<std::vector<int64_t>,
                                                    Shape>>{
               {{0}, {1, 3, 4}}, {{0, 2}, {1, 3, 1}}, {{1}, {2, 1, 4}}})
        expectSame(*device_, op, [&](KernelHarness &h) {
          h.input(t, {2, 3, 4}, randomValues(24, 9));
          h.output(t, out);
          h.attrs().set("axes", axes);
          h.attrs().set("keepdims", true);
        }, tol(t));
}

TEST_F(Cuda, GemmEveryTransposeWithBias) {
  for (DType t : {DType::F32, DType::F64})
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        expectSame(*device_, "gemm", [&](KernelHarness &h) {
          int64_t m = 5, n = 7, k = 3;
          h.input(t, ta ? Shape{k, m} : Shape{m, k}, randomValues(m * k, 10));
          h.input(t, tb ? Shape{n, k} : Shape{k, n}, randomValues(n * k, 11));
          h.input(t, {n}, randomValues(n, 12));
          h.output(t, {m, n});
          h.attrs().set("alpha", 0.5);
          h.attrs().set("beta", 2.0);
          h.attrs().set("trans_a", ta);
          h.attrs().set("trans_b", tb);
        }, tol(t));
}

TEST_F(Cuda, MatMulBatches) {
  for (auto [a, b, out] : std::vector<std::tuple<Shape, Shape, Shape>>{
           {{2, 3, 4, 5}, {5, 6}, {2, 3, 4, 6}},
           {{3, 4, 5}, {3, 5, 2}, {3, 4, 2}},
           {{4, 5}, {3, 5, 2}, {3, 4, 2}}})
    expectSame(*device_, "matmul", [&](KernelHarness &h) {
      h.input(DType::F64, a, randomValues(numel(a), 13));
      h.input(DType::F64, b, randomValues(numel(b), 14));
      h.output(DType::F64, out);
    }, 1e-12);
}

TEST_F(Cuda, SoftmaxCrossEntropyAndItsGradient) {
  for (DType t : {DType::F32, DType::F64}) {
    std::vector<double> labels = {3, 0, 9, 5, 5, 1};
    expectSame(*device_, "softmax_cross_entropy", [&](KernelHarness &h) {
      h.input(t, {6, 10}, randomValues(60, 15, -3, 3));
      h.input(DType::I64, {6}, labels);
      h.output(t, {});
    }, tol(t));
    expectSame(*device_, "softmax_cross_entropy_backward",
               [&](KernelHarness &h) {
                 h.input(t, {}, std::vector<double>{1.5});
                 h.input(t, {6, 10}, randomValues(60, 16, -3, 3));
                 h.input(DType::I64, {6}, labels);
                 h.output(t, {6, 10});
               },
               tol(t));
  }
}

TEST_F(Cuda, OptimizerUpdates) {
  for (DType t : {DType::F32, DType::F64}) {
    auto common = [&](KernelHarness &h) {
      h.attrs().set("lr", 0.1);
      h.attrs().set("weight_decay", 0.01);
    };
    expectSame(*device_, "sgd_update", [&](KernelHarness &h) {
      h.input(t, {40}, randomValues(40, 17));
      h.output(t, {40});
      common(h);
    }, tol(t));
    for (bool nesterov : {false, true})
      expectSame(*device_, "momentum_update", [&](KernelHarness &h) {
        h.input(t, {40}, randomValues(40, 18));
        h.output(t, {40});
        h.output(t, {40});
        common(h);
        h.attrs().set("momentum", 0.9);
        h.attrs().set("nesterov", nesterov);
      }, tol(t));
    expectSame(*device_, "adam_update", [&](KernelHarness &h) {
      h.input(t, {40}, randomValues(40, 19));
      h.input(DType::I64, {}, std::vector<double>{3});
      h.output(t, {40});
      h.output(t, {40});
      h.output(t, {40});
      common(h);
      h.attrs().set("beta1", 0.9);
      h.attrs().set("beta2", 0.999);
      h.attrs().set("epsilon", 1e-8);
    }, tol(t));
  }
  expectSame(*device_, "increment_step", [&](KernelHarness &h) {
    h.output(DType::I64, {});
  }, 0);
}

TEST_F(Cuda, LabelOutOfRangeIsAnError) {
  KernelHarness h("softmax_cross_entropy");
  h.input(DType::F32, {2, 4}, randomValues(8, 20));
  h.input(DType::I64, {2}, std::vector<double>{1, 7});
  h.output(DType::F32, {});
  Status s = h.runOn(*device_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(std::string(s.message()).find("not one of the classes"),
            std::string::npos)
      << s.message();
}

} // namespace

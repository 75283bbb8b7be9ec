// TrainingKernelsTest.cpp - losses, optimizer updates, the step counter and
// copies against direct references (PyTorch's formulas, written out).

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace mlg_rt;
using namespace mlg_rt::test;

namespace {

std::vector<double> randomVector(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> v(n);
  for (double &x : v)
    x = normal(rng);
  return v;
}

void setDoubles(void *data, const std::vector<double> &v) {
  std::memcpy(data, v.data(), v.size() * sizeof(double));
}

void expectNear(const std::vector<double> &got, const std::vector<double> &want,
                double tol = 1e-12) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol * std::max(1.0, std::fabs(want[i])))
        << "element " << i;
}

} // namespace

TEST(TrainingKernels, SgdWithWeightDecay) {
  std::vector<double> w = randomVector(6, 1), g = randomVector(6, 2);
  KernelHarness h("sgd_update");
  h.input(DType::F64, {2, 3}, g);
  h.output(DType::F64, {2, 3});
  setDoubles(h.outputData(0), w);
  h.attrs().set("lr", 0.1);
  h.attrs().set("weight_decay", 0.01);
  ASSERT_TRUE(h.run().ok());
  std::vector<double> want(6);
  for (int i = 0; i < 6; ++i)
    want[i] = w[i] - 0.1 * (g[i] + 0.01 * w[i]);
  expectNear(h.outputAs<double>(0), want);
}

TEST(TrainingKernels, MomentumMatchesPyTorchOverSteps) {
  for (bool nesterov : {false, true}) {
    std::vector<double> w = randomVector(5, 3), v(5, 0.0);
    std::vector<double> refW = w, refBuf;
    KernelHarness h("momentum_update");
    std::vector<double> g0 = randomVector(5, 4);
    h.input(DType::F64, {5}, g0);
    h.output(DType::F64, {5});
    h.output(DType::F64, {5});
    setDoubles(h.outputData(0), w);
    h.attrs().set("lr", 0.05);
    h.attrs().set("momentum", 0.9);
    h.attrs().set("weight_decay", 0.001);
    h.attrs().set("nesterov", nesterov);
    for (int step = 0; step < 3; ++step) {
      // The harness's input is fixed at construction: rerun with it.
      ASSERT_TRUE(h.run().ok());
      // torch.optim.SGD(momentum=0.9, dampening=0): buf = g on the first step.
      std::vector<double> d(5);
      for (int i = 0; i < 5; ++i)
        d[i] = g0[i] + 0.001 * refW[i];
      if (refBuf.empty())
        refBuf = d;
      else
        for (int i = 0; i < 5; ++i)
          refBuf[i] = 0.9 * refBuf[i] + d[i];
      for (int i = 0; i < 5; ++i)
        refW[i] -= 0.05 * (nesterov ? d[i] + 0.9 * refBuf[i] : refBuf[i]);
      expectNear(h.outputAs<double>(0), refW);
      expectNear(h.outputAs<double>(1), refBuf);
    }
  }
}

TEST(TrainingKernels, AdamMatchesPyTorchOverSteps) {
  std::vector<double> w = randomVector(4, 5), g = randomVector(4, 6);
  KernelHarness h("adam_update");
  h.input(DType::F64, {4}, g);
  h.input<int64_t>(DType::I64, {}, {1});
  h.output(DType::F64, {4});
  h.output(DType::F64, {4});
  h.output(DType::F64, {4});
  setDoubles(h.outputData(0), w);
  h.attrs().set("lr", 0.01);
  h.attrs().set("beta1", 0.9);
  h.attrs().set("beta2", 0.999);
  h.attrs().set("epsilon", 1e-8);
  h.attrs().set("weight_decay", 0.0);
  ASSERT_TRUE(h.run().ok());
  // torch.optim.Adam, step 1: m = 0.1 g, v = 0.001 g^2, and the bias
  // corrections make the step lr * g / (|g| + eps).
  std::vector<double> want(4), m(4), v(4);
  for (int i = 0; i < 4; ++i) {
    m[i] = 0.1 * g[i];
    v[i] = 0.001 * g[i] * g[i];
    want[i] = w[i] - 0.01 * (m[i] / 0.1) / (std::sqrt(v[i] / 0.001) + 1e-8);
  }
  expectNear(h.outputAs<double>(0), want);
  expectNear(h.outputAs<double>(1), m);
  expectNear(h.outputAs<double>(2), v);
}

TEST(TrainingKernels, AdamNeedsAStartedCounter) {
  KernelHarness h("adam_update");
  h.input<double>(DType::F32, {4}, {1, 2, 3, 4});
  h.input<int64_t>(DType::I64, {}, {0});
  for (int i = 0; i < 3; ++i)
    h.output(DType::F32, {4});
  for (const char *a : {"lr", "beta1", "beta2", "epsilon", "weight_decay"})
    h.attrs().set(a, 0.5);
  ASSERT_TRUE(h.check().ok());
  Status s = h.run();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("increment_step must run first"),
            std::string::npos);
}

TEST(TrainingKernels, IncrementStepAndCopy) {
  KernelHarness inc("increment_step");
  inc.output(DType::I64, {});
  ASSERT_TRUE(inc.run().ok());
  ASSERT_TRUE(inc.run().ok());
  EXPECT_EQ(inc.outputAs<int64_t>(0)[0], 2);

  KernelHarness copy("copy");
  copy.input<double>(DType::F32, {3}, {1.5, -2, 3});
  copy.output(DType::F32, {3});
  ASSERT_TRUE(copy.run().ok());
  EXPECT_EQ(copy.outputAs<double>(0), (std::vector<double>{1.5, -2, 3}));
}

TEST(TrainingKernels, SoftmaxCrossEntropyAndBackward) {
  const int rows = 6, classes = 5;
  std::vector<double> x = randomVector(rows * classes, 7);
  x[3] = 800; // large logits must not overflow
  std::vector<int64_t> labels = {0, 4, 2, 2, 1, 3};
  double loss = 0;
  std::vector<double> grad(rows * classes);
  double dloss = 0.7;
  for (int r = 0; r < rows; ++r) {
    double m = -INFINITY, s = 0;
    for (int k = 0; k < classes; ++k)
      m = std::max(m, x[r * classes + k]);
    for (int k = 0; k < classes; ++k)
      s += std::exp(x[r * classes + k] - m);
    loss += m + std::log(s) - x[r * classes + labels[r]];
    for (int k = 0; k < classes; ++k)
      grad[r * classes + k] =
          (std::exp(x[r * classes + k] - m) / s - (k == labels[r])) * dloss /
          rows;
  }
  loss /= rows;

  KernelHarness f("softmax_cross_entropy");
  f.input(DType::F64, {2, 3, classes}, x);
  f.input(DType::I64, {2, 3}, labels);
  f.output(DType::F64, {});
  ASSERT_TRUE(f.run().ok());
  EXPECT_NEAR(f.outputAs<double>(0)[0], loss, 1e-12 * std::fabs(loss));

  KernelHarness b("softmax_cross_entropy_backward");
  b.input<double>(DType::F64, {}, {dloss});
  b.input(DType::F64, {2, 3, classes}, x);
  b.input(DType::I64, {2, 3}, labels);
  b.output(DType::F64, {2, 3, classes});
  ASSERT_TRUE(b.run().ok());
  expectNear(b.outputAs<double>(0), grad);

  // A label outside [0, C) is an error of the data, at run time.
  KernelHarness bad("softmax_cross_entropy");
  bad.input(DType::F64, {2, classes}, std::vector<double>(2 * classes, 0.0));
  bad.input<int64_t>(DType::I64, {2}, {1, classes});
  bad.output(DType::F64, {});
  ASSERT_TRUE(bad.check().ok());
  Status s = bad.run();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("label 5 at position 1"), std::string::npos);
}

TEST(TrainingKernels, MeanSquaredError) {
  std::vector<double> p = randomVector(8, 8), t = randomVector(8, 9);
  double want = 0;
  for (int i = 0; i < 8; ++i)
    want += (p[i] - t[i]) * (p[i] - t[i]) / 8;
  KernelHarness h("mse_loss");
  h.input(DType::F64, {2, 4}, p);
  h.input(DType::F64, {2, 4}, t);
  h.output(DType::F64, {});
  ASSERT_TRUE(h.run().ok());
  EXPECT_NEAR(h.outputAs<double>(0)[0], want, 1e-12);
}

TEST(TrainingKernels, ChecksReject) {
  { // an update of another shape than its gradient
    KernelHarness h("sgd_update");
    h.input<double>(DType::F32, {4}, {});
    h.output(DType::F32, {5});
    h.attrs().set("lr", 0.1);
    h.attrs().set("weight_decay", 0.0);
    EXPECT_FALSE(h.check().ok());
  }
  { // a missing attribute
    KernelHarness h("sgd_update");
    h.input<double>(DType::F32, {4}, {});
    h.output(DType::F32, {4});
    h.attrs().set("lr", 0.1);
    EXPECT_FALSE(h.check().ok());
  }
  { // an integer gradient
    KernelHarness h("sgd_update");
    h.input<double>(DType::I32, {4}, {});
    h.output(DType::I32, {4});
    h.attrs().set("lr", 0.1);
    h.attrs().set("weight_decay", 0.0);
    EXPECT_FALSE(h.check().ok());
  }
  { // a float step counter
    KernelHarness h("adam_update");
    h.input<double>(DType::F32, {4}, {});
    h.input<double>(DType::F32, {}, {});
    for (int i = 0; i < 3; ++i)
      h.output(DType::F32, {4});
    for (const char *a : {"lr", "beta1", "beta2", "epsilon", "weight_decay"})
      h.attrs().set(a, 0.5);
    EXPECT_FALSE(h.check().ok());
  }
  { // labels that do not match the logits
    KernelHarness h("softmax_cross_entropy");
    h.input<double>(DType::F32, {4, 3}, {});
    h.input<int64_t>(DType::I64, {3}, {});
    h.output(DType::F32, {});
    EXPECT_FALSE(h.check().ok());
  }
  { // a loss that is not a scalar
    KernelHarness h("mse_loss");
    h.input<double>(DType::F32, {4}, {});
    h.input<double>(DType::F32, {4}, {});
    h.output(DType::F32, {1});
    EXPECT_FALSE(h.check().ok());
  }
  { // a copy between sizes
    KernelHarness h("copy");
    h.input<double>(DType::F32, {4}, {});
    h.output(DType::F32, {3});
    EXPECT_FALSE(h.check().ok());
  }
}

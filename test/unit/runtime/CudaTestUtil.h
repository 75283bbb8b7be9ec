// CudaTestUtil.h - running a step on the CUDA backend and on the CPU
// backend and comparing the results (CudaKernelsTest.cpp,
// CudaNNKernelsTest.cpp). Tests use the `Cuda` fixture, which skips where
// the build has no CUDA or the machine no GPU.

#ifndef MLG_TEST_UNIT_RUNTIME_CUDATESTUTIL_H
#define MLG_TEST_UNIT_RUNTIME_CUDATESTUTIL_H

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace mlg_rt::test {

class Cuda : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    Status s = createCudaDevice(CudaOptions(), &device_);
    if (!s.ok())
      why_ = s.message();
  }
  static void TearDownTestSuite() { device_.reset(); }
  void SetUp() override {
    if (!device_)
      GTEST_SKIP() << "no CUDA device: " << why_;
  }
  static inline std::unique_ptr<Device> device_;
  static inline std::string why_;
};

inline int64_t cudaTestNumel(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// The comparison tolerance of a float type's results.
inline double cudaTestTolerance(DType t) {
  return t == DType::F64 ? 1e-12 : 1e-5;
}

inline std::vector<double> cudaTestValues(int64_t n, uint32_t seed,
                                          double lo = -1, double hi = 1) {
  return uniformValues(n, seed, lo, hi);
}

/// Builds the same step twice (by `setup`), runs one on the CPU and one on
/// the GPU, and compares every result: |gpu - cpu| <= tolerance * max(1,
/// max|cpu|) elementwise (NaN matches NaN).
inline void expectSameOnGpu(Device &device, const std::string &kernel,
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
    std::vector<double> a = cpu.outputAs<double>(o),
                        b = gpu.outputAs<double>(o);
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

} // namespace mlg_rt::test

#endif // MLG_TEST_UNIT_RUNTIME_CUDATESTUTIL_H

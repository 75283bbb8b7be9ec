// CudaNNKernelsTest.cpp - the CUDA backend's convolution, pooling,
// normalization, dropout and softmax kernels against the CPU backend on
// fresh random inputs (CudaTestUtil.h). Convolutions and the LSTM's cells
// run with TF32 (as PyTorch's cuDNN does) and are compared at 2e-3; the
// rest at 1e-5 (f32) or 1e-12 (f64). Dropout masks and the window pools' results
// must be bit-identical.

#include "CudaTestUtil.h"

#include "mlg_rt/shape_math.h"

using namespace mlg_rt;
using namespace mlg_rt::test;

namespace {

/// The NN kernels' suite (the fixture of CudaTestUtil.h).
class CudaNN : public Cuda {};

using Shape = std::vector<int64_t>;

TEST_F(CudaNN, BatchNormBothForms) {
  for (DType t : {DType::F32, DType::F64})
    for (bool training : {true, false})
      for (bool inPlace : {false, true})
        expectSameOnGpu(*device_, "batch_norm", [&](KernelHarness &h) {
          Shape x = {4, 3, 5, 2};
          h.input(t, x, cudaTestValues(cudaTestNumel(x), 1, -2, 3));
          h.input(t, {3}, cudaTestValues(3, 2, 0.5, 1.5));
          h.input(t, {3}, cudaTestValues(3, 3));
          h.input(t, {3}, cudaTestValues(3, 4));
          h.input(t, {3}, cudaTestValues(3, 5, 0.5, 2));
          h.output(t, x);
          h.output(t, {3});
          h.output(t, {3});
          h.attrs().set("epsilon", 1e-5);
          h.attrs().set("momentum", 0.9);
          h.attrs().set("training", training);
          if (inPlace)
            h.aliasOutputToInput(0, 0);
        }, cudaTestTolerance(t));
}

TEST_F(CudaNN, BatchNormBackwardBothForms) {
  for (DType t : {DType::F32, DType::F64})
    for (bool training : {true, false})
      expectSameOnGpu(*device_, "batch_norm_backward", [&](KernelHarness &h) {
        Shape x = {3, 4, 2, 3};
        h.input(t, x, cudaTestValues(cudaTestNumel(x), 6));
        h.input(t, x, cudaTestValues(cudaTestNumel(x), 7, -2, 3));
        h.input(t, {4}, cudaTestValues(4, 8, 0.5, 2));
        if (!training) {
          h.input(t, {4}, cudaTestValues(4, 9));
          h.input(t, {4}, cudaTestValues(4, 10, 0.5, 2));
        }
        h.output(t, x);
        h.output(t, {4});
        h.output(t, {4});
        h.attrs().set("epsilon", 1e-5);
      }, cudaTestTolerance(t));
}

// Shapes that take each path of the parallel channel sums: rows of whole
// 16-byte vectors split into pieces and shared by several blocks, rows of
// odd length read element by element, and data far from zero (the shifted
// sums must not cancel).
TEST_F(CudaNN, BatchNormLargeShapesBothPasses) {
  for (DType t : {DType::F32, DType::F64})
    for (Shape x : {Shape{6, 3, 40, 36}, Shape{5, 2, 33}, Shape{64, 2, 5000},
                    Shape{3, 5, 4100}})
      for (bool training : {true, false}) {
        int64_t ch = x[1], n = cudaTestNumel(x);
        expectSameOnGpu(*device_, "batch_norm", [&](KernelHarness &h) {
          h.input(t, x, cudaTestValues(n, 21, 9, 11));
          h.input(t, {ch}, cudaTestValues(ch, 22, 0.5, 1.5));
          h.input(t, {ch}, cudaTestValues(ch, 23));
          h.input(t, {ch}, cudaTestValues(ch, 24, 9, 11));
          h.input(t, {ch}, cudaTestValues(ch, 25, 0.1, 0.5));
          h.output(t, x);
          h.output(t, {ch});
          h.output(t, {ch});
          h.attrs().set("epsilon", 1e-5);
          h.attrs().set("momentum", 0.9);
          h.attrs().set("training", training);
        }, cudaTestTolerance(t));
        expectSameOnGpu(*device_, "batch_norm_backward",
                        [&](KernelHarness &h) {
          h.input(t, x, cudaTestValues(n, 26));
          h.input(t, x, cudaTestValues(n, 27, 9, 11));
          h.input(t, {ch}, cudaTestValues(ch, 28, 0.5, 2));
          if (!training) {
            h.input(t, {ch}, cudaTestValues(ch, 29, 9, 11));
            h.input(t, {ch}, cudaTestValues(ch, 30, 0.1, 0.5));
          }
          h.output(t, x);
          h.output(t, {ch});
          h.output(t, {ch});
          h.attrs().set("epsilon", 1e-5);
        }, cudaTestTolerance(t));
      }
}

TEST_F(CudaNN, LayerNormAndItsGradient) {
  for (DType t : {DType::F32, DType::F64}) {
    Shape x = {2, 3, 8}, stats = {2, 3, 1};
    expectSameOnGpu(*device_, "layer_norm", [&](KernelHarness &h) {
      h.input(t, x, cudaTestValues(cudaTestNumel(x), 11, -2, 2));
      h.input(t, {8}, cudaTestValues(8, 12, 0.5, 1.5));
      h.input(t, {8}, cudaTestValues(8, 13));
      h.output(t, x);
      h.output(t, stats);
      h.output(t, stats);
      h.attrs().set("axis", int64_t(2));
      h.attrs().set("epsilon", 1e-5);
    }, cudaTestTolerance(t));
    // The statistics the backward reads, from the CPU's forward.
    KernelHarness f("layer_norm");
    auto xs = cudaTestValues(cudaTestNumel(x), 14, -2, 2);
    f.input(t, x, xs);
    f.input(t, {8}, cudaTestValues(8, 15, 0.5, 1.5));
    f.output(t, x);
    f.output(t, stats);
    f.output(t, stats);
    f.attrs().set("axis", int64_t(2));
    f.attrs().set("epsilon", 1e-5);
    ASSERT_TRUE(f.run().ok());
    expectSameOnGpu(*device_, "layer_norm_backward", [&](KernelHarness &h) {
      h.input(t, x, cudaTestValues(cudaTestNumel(x), 16));
      h.input(t, x, xs);
      h.input(t, {8}, cudaTestValues(8, 15, 0.5, 1.5));
      h.input(t, stats, f.outputAs<double>(1));
      h.input(t, stats, f.outputAs<double>(2));
      h.output(t, x);
      h.output(t, {8});
      h.attrs().set("axis", int64_t(2));
    }, cudaTestTolerance(t));
  }
}

TEST_F(CudaNN, DropoutMasksAreIdentical) {
  for (DType t : {DType::F32, DType::F64})
    for (uint64_t step : {0u, 7u}) {
      Shape x = {33, 65};
      expectSameOnGpu(*device_, "dropout", [&](KernelHarness &h) {
        h.input(t, x, cudaTestValues(cudaTestNumel(x), 17));
        h.output(t, x);
        h.output(DType::Bool, x);
        h.attrs().set("ratio", 0.3);
        h.attrs().set("training", true);
        h.attrs().set("seed", int64_t(1234));
      }, cudaTestTolerance(t), step); // masks: 0 or 1, so exactly
      expectSameOnGpu(*device_, "dropout_backward", [&](KernelHarness &h) {
        h.input(t, x, cudaTestValues(cudaTestNumel(x), 18));
        std::vector<double> mask = cudaTestValues(cudaTestNumel(x), 19, 0, 2);
        for (double &m : mask)
          m = m > 1;
        h.input(DType::Bool, x, mask);
        h.output(t, x);
        h.attrs().set("ratio", 0.3);
      }, cudaTestTolerance(t));
    }
}

TEST_F(CudaNN, SoftmaxFamilyEveryAxis) {
  for (DType t : {DType::F32, DType::F64})
    for (int64_t axis : {0, 1, 2})
      for (bool log : {false, true}) {
        Shape x = {3, 70, 5};
        expectSameOnGpu(*device_, log ? "log_softmax" : "softmax",
                        [&](KernelHarness &h) {
                          h.input(t, x, cudaTestValues(cudaTestNumel(x), 20, -4, 4));
                          h.output(t, x);
                          h.attrs().set("axis", axis);
                        },
                        cudaTestTolerance(t));
        expectSameOnGpu(*device_,
                        log ? "log_softmax_backward" : "softmax_backward",
                        [&](KernelHarness &h) {
                          h.input(t, x, cudaTestValues(cudaTestNumel(x), 21));
                          h.input(t, x, cudaTestValues(cudaTestNumel(x), 22, 0, 1));
                          h.output(t, x);
                          h.attrs().set("axis", axis);
                        },
                        cudaTestTolerance(t));
      }
}

} // namespace

namespace {

/// A 2-D window case: input [N, C, H, W], kernel, strides, pads (begin,
/// end), dilations.
struct Window2D {
  Shape x;
  int64_t kh, kw;
  Shape strides, pads, dilations;
  bool ceil = false;

  int64_t out(int d) const {
    int64_t in = x[2 + d], k = d ? kw : kh;
    int64_t span = dilations[d] * (k - 1) + 1;
    int64_t padded = in + pads[d] + pads[2 + d];
    int64_t o = ceil ? (padded - span + strides[d] - 1) / strides[d] + 1
                     : (padded - span) / strides[d] + 1;
    if (ceil && (o - 1) * strides[d] >= in + pads[d])
      --o;
    return o;
  }
  void set(KernelHarness &h) const {
    h.attrs().set("strides", strides);
    h.attrs().set("pads", pads);
    h.attrs().set("dilations", dilations);
  }
};

const std::vector<Window2D> &convCases() {
  static const std::vector<Window2D> cases = {
      {{2, 4, 9, 9}, 3, 3, {1, 1}, {1, 1, 1, 1}, {1, 1}},
      {{2, 4, 11, 10}, 3, 3, {2, 2}, {1, 1, 1, 1}, {1, 1}},
      {{1, 4, 12, 12}, 3, 3, {1, 1}, {2, 2, 2, 2}, {2, 2}},
      {{3, 8, 6, 6}, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}},
      {{2, 3, 16, 16}, 7, 7, {2, 2}, {3, 3, 3, 3}, {1, 1}},
  };
  return cases;
}

TEST_F(CudaNN, ConvolutionAndItsGradients) {
  for (int64_t group : {1, 2, 4})
    for (const Window2D &k : convCases()) {
      if (k.x[1] % group)
        continue;
      int64_t m = 8, cg = k.x[1] / group;
      Shape w = {m, cg, k.kh, k.kw};
      Shape y = {k.x[0], m, k.out(0), k.out(1)};
      int64_t workspace = cg * k.kh * k.kw * k.out(0) * k.out(1) * 4;
      auto attrs = [&](KernelHarness &h) {
        k.set(h);
        h.attrs().set("group", group);
        h.workspace(uint64_t(workspace));
      };
      expectSameOnGpu(*device_, "conv", [&](KernelHarness &h) {
        h.input(DType::F32, k.x, cudaTestValues(cudaTestNumel(k.x), 30));
        h.input(DType::F32, w, cudaTestValues(cudaTestNumel(w), 31));
        h.input(DType::F32, {m}, cudaTestValues(m, 32));
        h.output(DType::F32, y);
        attrs(h);
      }, 2e-3);
      expectSameOnGpu(*device_, "conv_backward_data", [&](KernelHarness &h) {
        h.input(DType::F32, y, cudaTestValues(cudaTestNumel(y), 33));
        h.input(DType::F32, w, cudaTestValues(cudaTestNumel(w), 34));
        h.output(DType::F32, k.x);
        attrs(h);
      }, 2e-3);
      expectSameOnGpu(*device_, "conv_backward_filter", [&](KernelHarness &h) {
        h.input(DType::F32, y, cudaTestValues(cudaTestNumel(y), 35));
        h.input(DType::F32, k.x, cudaTestValues(cudaTestNumel(k.x), 36));
        h.output(DType::F32, w);
        attrs(h);
      }, 2e-3);
    }
}

TEST_F(CudaNN, PoolsAndTheirGradients) {
  std::vector<Window2D> cases = {
      {{2, 3, 8, 8}, 2, 2, {2, 2}, {0, 0, 0, 0}, {1, 1}},
      {{2, 3, 9, 9}, 3, 3, {2, 2}, {1, 1, 1, 1}, {1, 1}},
      {{1, 2, 10, 7}, 3, 2, {2, 1}, {1, 0, 1, 1}, {1, 1}, true},
  };
  for (DType t : {DType::F32, DType::F64})
    for (const Window2D &k : cases) {
      Shape y = {k.x[0], k.x[1], k.out(0), k.out(1)};
      auto attrs = [&](KernelHarness &h) {
        k.set(h);
        h.attrs().set("kernel_shape", Shape{k.kh, k.kw});
        h.attrs().set("ceil_mode", k.ceil);
      };
      auto xs = cudaTestValues(cudaTestNumel(k.x), 40);
      expectSameOnGpu(*device_, "max_pool", [&](KernelHarness &h) {
        h.input(t, k.x, xs);
        h.output(t, y);
        attrs(h);
      }, cudaTestTolerance(t));
      expectSameOnGpu(*device_, "max_pool_backward", [&](KernelHarness &h) {
        h.input(t, y, cudaTestValues(cudaTestNumel(y), 41));
        h.input(t, k.x, xs);
        h.output(t, k.x);
        attrs(h);
      }, cudaTestTolerance(t));
      for (bool include : {false, true}) {
        expectSameOnGpu(*device_, "average_pool", [&](KernelHarness &h) {
          h.input(t, k.x, xs);
          h.output(t, y);
          attrs(h);
          h.attrs().set("count_include_pad", include);
        }, cudaTestTolerance(t));
        expectSameOnGpu(*device_, "average_pool_backward",
                        [&](KernelHarness &h) {
                          h.input(t, y, cudaTestValues(cudaTestNumel(y), 42));
                          h.output(t, k.x);
                          attrs(h);
                          h.attrs().set("count_include_pad", include);
                        },
                        cudaTestTolerance(t));
      }
      for (const char *op : {"global_average_pool", "global_max_pool"})
        expectSameOnGpu(*device_, op, [&](KernelHarness &h) {
          h.input(t, k.x, xs);
          h.output(t, {k.x[0], k.x[1], 1, 1});
        }, cudaTestTolerance(t));
    }
}

/// A pool of any rank: input [N, C, spatial...], kernel sizes, strides, pads
/// (begins, then ends) and dilations.
struct PoolCase {
  Shape x, kernel, strides, pads, dilations;
  bool ceil = false;

  /// The pooled shape, by the compiler's rule.
  Shape y() const {
    Shape s = {x[0], x[1]};
    size_t n = kernel.size();
    for (size_t d = 0; d < n; ++d)
      s.push_back(*windowOutputSize(x[2 + d], kernel[d], strides[d],
                                    dilations[d], pads[d], pads[n + d], ceil));
    return s;
  }
  void set(KernelHarness &h) const {
    h.attrs().set("kernel_shape", kernel);
    h.attrs().set("strides", strides);
    h.attrs().set("pads", pads);
    h.attrs().set("dilations", dilations);
    h.attrs().set("ceil_mode", ceil);
  }
};

/// As expectSameOnGpu, but every result must be the CPU's exactly: the same
/// value with the same sign of zero, or a NaN for a NaN.
void expectIdenticalOnGpu(Device &device, const std::string &kernel,
                          const std::function<void(KernelHarness &)> &setup) {
  KernelHarness cpu(kernel), gpu(kernel);
  setup(cpu);
  setup(gpu);
  Status s = cpu.run();
  ASSERT_TRUE(s.ok()) << kernel << " on the CPU: " << s.message();
  s = gpu.runOn(device);
  ASSERT_TRUE(s.ok()) << kernel << " on the GPU: " << s.message();
  for (size_t o = 0; o < cpu.numOutputs(); ++o) {
    std::vector<double> a = cpu.outputAs<double>(o),
                        b = gpu.outputAs<double>(o);
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_TRUE(std::isnan(a[i]) ? std::isnan(b[i])
                                   : a[i] == b[i] && std::signbit(a[i]) ==
                                                         std::signbit(b[i]))
          << kernel << " result " << o << " element " << i << ": CPU " << a[i]
          << ", GPU " << b[i];
  }
}

/// Max pool inputs: small integers (many equal maxima, +0 and -0) and, where
/// `nan`, one NaN.
std::vector<double> tiedValues(int64_t n, uint32_t seed, bool nan) {
  std::vector<double> v = cudaTestValues(n, seed, -3, 3);
  for (double &x : v)
    x = std::round(x);
  if (nan && n > 4)
    v[size_t(n / 2)] = NAN;
  return v;
}

/// Runs every window pool and pool gradient of `k` on both backends, in
/// type `t`, and expects the CPU's results bit for bit.
void expectPoolsIdentical(Device &device, const PoolCase &k, DType t) {
  SCOPED_TRACE(::testing::Message()
               << "x " << ::testing::PrintToString(k.x) << ", kernel "
               << ::testing::PrintToString(k.kernel) << ", type "
               << dtypeName(t));
  Shape y = k.y();
  auto xTied = tiedValues(cudaTestNumel(k.x), 60, true);
  auto xs = cudaTestValues(cudaTestNumel(k.x), 61);
  auto dy = cudaTestValues(cudaTestNumel(y), 62);
  if (!dy.empty())
    dy[0] = -0.0; // the CPU's gradient sums start at +0: 0 + -0 is +0
  expectIdenticalOnGpu(device, "max_pool", [&](KernelHarness &h) {
    h.input(t, k.x, xTied);
    h.output(t, y);
    k.set(h);
  });
  expectIdenticalOnGpu(device, "max_pool_backward", [&](KernelHarness &h) {
    h.input(t, y, dy);
    h.input(t, k.x, xTied);
    h.output(t, k.x);
    k.set(h);
  });
  for (bool include : {false, true}) {
    expectIdenticalOnGpu(device, "average_pool", [&](KernelHarness &h) {
      h.input(t, k.x, xs);
      h.output(t, y);
      k.set(h);
      h.attrs().set("count_include_pad", include);
    });
    expectIdenticalOnGpu(device, "average_pool_backward",
                         [&](KernelHarness &h) {
                           h.input(t, y, dy);
                           h.output(t, k.x);
                           k.set(h);
                           h.attrs().set("count_include_pad", include);
                         });
  }
}

/// The pools and their gradients must round as the CPU's do: window order,
/// first of equal maxima, NaN winning, sums in double divided by the CPU's
/// count. Over ranks 1 to 3, disjoint and overlapping windows (the two
/// max_pool_backward paths), padding, ceil_mode, dilation and every float
/// type.
TEST_F(CudaNN, PoolsMatchTheCpuExactly) {
  const std::vector<PoolCase> cases = {
      // 2x2 stride 2 (VGG): disjoint windows.
      {{2, 3, 8, 9}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}},
      // 3x3 stride 2 pad 1 (ResNet) and stride 2 unpadded (Inception).
      {{2, 3, 9, 10}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}},
      {{2, 3, 11, 9}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}},
      // 3x3 stride 1 pad 1 (Inception's average pools): 9 windows an input.
      {{2, 3, 7, 6}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {1, 1}},
      // A stride longer than the window: inputs no window holds.
      {{1, 2, 11, 10}, {2, 2}, {3, 4}, {0, 1, 1, 0}, {1, 1}},
      // Dilated, disjoint, with inputs between the taps, and ceil_mode.
      {{1, 2, 12, 11}, {2, 2}, {3, 3}, {1, 0, 1, 1}, {2, 2}, true},
      // Dilated and overlapping.
      {{1, 2, 12, 12}, {3, 2}, {1, 2}, {2, 1, 2, 1}, {2, 3}},
      // A kernel past the planar kernels' 3x3.
      {{1, 2, 11, 10}, {5, 4}, {2, 3}, {2, 1, 2, 1}, {1, 1}},
      // ceil_mode windows past the end padding.
      {{2, 2, 10, 7}, {3, 2}, {2, 1}, {1, 0, 1, 1}, {1, 1}, true},
      {{1, 3, 8, 8}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, true},
      // Pads wider than the window: windows wholly in the padding.
      {{1, 2, 5, 5}, {2, 2}, {2, 2}, {3, 3, 3, 3}, {1, 1}},
      // 1-D and 3-D.
      {{2, 3, 16}, {3}, {2}, {1, 1}, {1}, true},
      {{2, 3, 15}, {2}, {2}, {0, 0}, {1}},
      {{1, 2, 5, 6, 7}, {2, 3, 2}, {2, 1, 2}, {0, 1, 1, 1, 0, 1}, {1, 1, 1}},
      {{1, 2, 6, 6, 6}, {2, 2, 2}, {2, 2, 2}, {0, 0, 0, 0, 0, 0}, {1, 1, 1}},
      // Empty: an input row of none (windows in the padding alone), and no
      // planes.
      {{1, 2, 0, 4}, {2, 2}, {1, 1}, {1, 0, 1, 0}, {1, 1}},
      {{0, 3, 4, 4}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}},
  };
  for (DType t : {DType::F32, DType::F64, DType::F16, DType::BF16})
    for (const PoolCase &k : cases)
      expectPoolsIdentical(*device_, k, t);
  // Max pool also takes integers; a window wholly in the padding gives the
  // type's lowest value.
  PoolCase padded{{2, 3, 5, 5}, {2, 2}, {2, 2}, {3, 3, 3, 3}, {1, 1}};
  for (DType t : {DType::I32, DType::U8})
    expectIdenticalOnGpu(*device_, "max_pool", [&](KernelHarness &h) {
      h.input(t, padded.x, tiedValues(cudaTestNumel(padded.x), 63, false));
      h.output(t, padded.y());
      padded.set(h);
    });
}

/// Windows reaching past 2^31 (a stride or a dilation of 2^31) take the
/// kernels' 64-bit index arithmetic.
TEST_F(CudaNN, PoolsWithIndicesPast32Bits) {
  const int64_t big = int64_t(1) << 31;
  const std::vector<PoolCase> cases = {
      // One window a column; disjoint, then overlapping across rows.
      {{2, 3, 5, 6}, {3, 2}, {big, 2}, {1, 0, 1, 0}, {1, 1}},
      {{2, 3, 5, 6}, {3, 2}, {big, 1}, {1, 0, 1, 0}, {1, 1}},
      // Every window's second tap in the end padding.
      {{2, 3, 4, 5}, {2, 2}, {1, 1}, {0, 0, 0, big}, {1, big}},
      // A dilation past 2^32 that a kernel of 1 never uses.
      {{2, 3, 4, 5}, {1, 2}, {1, 2}, {0, 0, 0, 0}, {4 * big, 1}},
  };
  for (DType t : {DType::F32, DType::F64})
    for (const PoolCase &k : cases)
      expectPoolsIdentical(*device_, k, t);
}

} // namespace

namespace {

TEST_F(CudaNN, ClipPowStackUnstack) {
  for (DType t : {DType::F32, DType::F64}) {
    for (auto [lo, hi] : std::vector<std::pair<double, double>>{
             {0, 6}, {-0.5, 0.5}, {-INFINITY, 0.25}}) {
      auto bounds = [&](KernelHarness &h) {
        if (lo > -INFINITY)
          h.attrs().set("min", lo);
        h.attrs().set("max", hi);
      };
      expectSameOnGpu(*device_, "clip", [&](KernelHarness &h) {
        h.input(t, {4, 9}, cudaTestValues(36, 50, -8, 8));
        h.output(t, {4, 9});
        bounds(h);
      }, cudaTestTolerance(t));
      expectSameOnGpu(*device_, "clip_backward", [&](KernelHarness &h) {
        h.input(t, {4, 9}, cudaTestValues(36, 51));
        h.input(t, {4, 9}, cudaTestValues(36, 52, -8, 8));
        h.output(t, {4, 9});
        bounds(h);
      }, cudaTestTolerance(t));
    }
    expectSameOnGpu(*device_, "pow", [&](KernelHarness &h) {
      h.input(t, {3, 5}, cudaTestValues(15, 53, 0.1, 3));
      h.input(t, {}, std::vector<double>{2.0});
      h.output(t, {3, 5});
    }, cudaTestTolerance(t));
    expectSameOnGpu(*device_, "pow", [&](KernelHarness &h) {
      h.input(t, {3, 5}, cudaTestValues(15, 54, 0.1, 3));
      h.input(t, {5}, cudaTestValues(5, 55, -2, 2));
      h.output(t, {3, 5});
    }, cudaTestTolerance(t));
    expectSameOnGpu(*device_, "stack", [&](KernelHarness &h) {
      for (uint32_t k = 0; k < 4; ++k)
        h.input(t, {2, 3}, cudaTestValues(6, 56 + k));
      h.output(t, {2, 2, 2, 3});
    }, 0);
    expectSameOnGpu(*device_, "unstack", [&](KernelHarness &h) {
      h.input(t, {3, 2, 5}, cudaTestValues(30, 60));
      for (int k = 0; k < 3; ++k)
        h.output(t, {2, 5});
    }, 0);
    // More pieces than one launch takes (256), of sizes that are no
    // multiple of 16 bytes, as an LSTM's sequence.
    expectSameOnGpu(*device_, "stack", [&](KernelHarness &h) {
      for (uint32_t k = 0; k < 300; ++k)
        h.input(t, {3}, cudaTestValues(3, 100 + k));
      h.output(t, {300, 3});
    }, 0);
    expectSameOnGpu(*device_, "unstack", [&](KernelHarness &h) {
      h.input(t, {300, 1, 5}, cudaTestValues(1500, 61));
      for (int k = 0; k < 300; ++k)
        h.output(t, {1, 5});
    }, 0);
  }
  // Bytes one at a time.
  expectSameOnGpu(*device_, "stack", [&](KernelHarness &h) {
    for (uint32_t k = 0; k < 5; ++k)
      h.input(DType::U8, {3}, std::vector<double>{double(k), 7, 200});
    h.output(DType::U8, {5, 3});
  }, 0);
}

} // namespace

namespace {

TEST_F(CudaNN, LstmCellAndItsBackward) {
  const int64_t N = 3, I = 5, H = 4, G = 4 * H;
  for (DType t : {DType::F32, DType::F64})
    for (bool inputForget : {false, true})
      for (double clip : {0.0, 0.8}) {
        // f32 products in TF32 (10-bit mantissas), as the convolutions'.
        double tolerance = t == DType::F32 ? 2e-3 : cudaTestTolerance(t);
        auto xs = cudaTestValues(N * I, 70), h0 = cudaTestValues(N * H, 71),
             c0 = cudaTestValues(N * H, 72), w = cudaTestValues(G * I, 73),
             r = cudaTestValues(G * H, 74), b = cudaTestValues(2 * G, 75),
             p = cudaTestValues(3 * H, 76);
        auto cellAttrs = [&](KernelHarness &h) {
          h.attrs().set("operandSegmentSizes",
                        std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1});
          h.attrs().set("input_forget", inputForget);
          if (clip > 0)
            h.attrs().set("clip", clip);
        };
        auto forward = [&](KernelHarness &h) {
          h.input(t, {N, I}, xs);
          h.input(t, {N, H}, h0);
          h.input(t, {N, H}, c0);
          h.input(t, {G, I}, w);
          h.input(t, {G, H}, r);
          h.input(t, {2 * G}, b);
          h.input(t, {3 * H}, p);
          h.output(t, {N, H});
          h.output(t, {N, H});
          h.output(t, {N, G});
          cellAttrs(h);
        };
        expectSameOnGpu(*device_, "lstm_cell", forward, tolerance);
        // The backward reads the forward's c and gates (from the CPU). It
        // finds clamped gates by comparing them with the activations of
        // -clip and clip computed with its own device's functions, which
        // may differ from the CPU's in the last bit: with a clip, only the
        // same device's forward and backward agree.
        if (clip > 0)
          continue;
        KernelHarness f("lstm_cell");
        forward(f);
        ASSERT_TRUE(f.run().ok());
        // Without accumulators, and with them (sums so far of dW, dR, dB).
        for (int64_t acc : {0, 1})
        expectSameOnGpu(*device_, "lstm_cell_backward", [&](KernelHarness &h) {
          h.input(t, {N, H}, cudaTestValues(N * H, 77));
          h.input(t, {N, H}, cudaTestValues(N * H, 78));
          h.input(t, {N, I}, xs);
          h.input(t, {N, H}, h0);
          h.input(t, {N, H}, c0);
          h.input(t, {N, H}, f.outputAs<double>(1));
          h.input(t, {N, G}, f.outputAs<double>(2));
          h.input(t, {G, I}, w);
          h.input(t, {G, H}, r);
          h.input(t, {3 * H}, p);
          if (acc) {
            h.input(t, {G, I}, cudaTestValues(G * I, 79));
            h.input(t, {G, H}, cudaTestValues(G * H, 80));
            h.input(t, {2 * G}, cudaTestValues(2 * G, 81));
          }
          h.output(t, {N, I});
          h.output(t, {N, H});
          h.output(t, {N, H});
          h.output(t, {G, I});
          h.output(t, {G, H});
          h.output(t, {2 * G});
          h.output(t, {3 * H});
          h.attrs().set("operandSegmentSizes",
                        std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, acc,
                                             acc, acc});
          h.attrs().set("resultSegmentSizes",
                        std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1});
          h.attrs().set("input_forget", inputForget);
          if (clip > 0)
            h.attrs().set("clip", clip);
          h.workspace(uint64_t(N * G * dtypeBytes(t)));
        }, tolerance);
      }
}

// A projected cell (x W^T given) and its backward (no x, dx = dZ, no dW).
TEST_F(CudaNN, LstmCellProjectedAndItsBackward) {
  const int64_t N = 3, I = 5, H = 4, G = 4 * H;
  for (DType t : {DType::F32, DType::F64}) {
    double tolerance = t == DType::F32 ? 2e-3 : cudaTestTolerance(t);
    auto xw = cudaTestValues(N * G, 90), h0 = cudaTestValues(N * H, 91),
         c0 = cudaTestValues(N * H, 92), w = cudaTestValues(G * I, 93),
         r = cudaTestValues(G * H, 94), b = cudaTestValues(2 * G, 95);
    auto forward = [&](KernelHarness &h) {
      h.input(t, {N, G}, xw);
      h.input(t, {N, H}, h0);
      h.input(t, {N, H}, c0);
      h.input(t, {G, I}, w);
      h.input(t, {G, H}, r);
      h.input(t, {2 * G}, b);
      h.output(t, {N, H});
      h.output(t, {N, H});
      h.output(t, {N, G});
      h.attrs().set("operandSegmentSizes",
                    std::vector<int64_t>{1, 1, 1, 1, 1, 1, 0});
      h.attrs().set("input_forget", false);
      h.attrs().set("projected", true);
    };
    expectSameOnGpu(*device_, "lstm_cell", forward, tolerance);
    KernelHarness f("lstm_cell");
    forward(f);
    ASSERT_TRUE(f.run().ok());
    // With dR (accumulated), and without (left to one product over the
    // sequence).
    for (int64_t withR : {1, 0})
    expectSameOnGpu(*device_, "lstm_cell_backward", [&](KernelHarness &h) {
      h.input(t, {N, H}, cudaTestValues(N * H, 96));
      h.input(t, {N, H}, cudaTestValues(N * H, 97));
      h.input(t, {N, H}, h0);
      h.input(t, {N, H}, c0);
      h.input(t, {N, H}, f.outputAs<double>(1));
      h.input(t, {N, G}, f.outputAs<double>(2));
      h.input(t, {G, I}, w);
      h.input(t, {G, H}, r);
      if (withR)
        h.input(t, {G, H}, cudaTestValues(G * H, 98)); // accumulate_r
      h.output(t, {N, G});
      h.output(t, {N, H});
      h.output(t, {N, H});
      if (withR)
        h.output(t, {G, H});
      h.output(t, {2 * G});
      h.attrs().set("operandSegmentSizes",
                    std::vector<int64_t>{1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0,
                                         withR, 0});
      h.attrs().set("resultSegmentSizes",
                    std::vector<int64_t>{1, 1, 1, 0, withR, 1, 0});
      h.attrs().set("input_forget", false);
      h.attrs().set("projected", true);
    }, tolerance);
  }
}

} // namespace

// CudaNNKernelsTest.cpp - the CUDA backend's convolution, pooling,
// normalization, dropout and softmax kernels against the CPU backend on
// fresh random inputs (CudaTestUtil.h). Convolutions run with TF32 (as
// PyTorch's cuDNN convolutions do) and are compared at 2e-3; the rest at
// 1e-5 (f32) or 1e-12 (f64). Dropout masks must be bit-identical.

#include "CudaTestUtil.h"

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
  }
}

} // namespace

namespace {

TEST_F(CudaNN, LstmCellAndItsBackward) {
  const int64_t N = 3, I = 5, H = 4, G = 4 * H;
  for (DType t : {DType::F32, DType::F64})
    for (bool inputForget : {false, true})
      for (double clip : {0.0, 0.8}) {
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
        expectSameOnGpu(*device_, "lstm_cell", forward, cudaTestTolerance(t));
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
          h.output(t, {N, I});
          h.output(t, {N, H});
          h.output(t, {N, H});
          h.output(t, {G, I});
          h.output(t, {G, H});
          h.output(t, {2 * G});
          h.output(t, {3 * H});
          h.attrs().set("operandSegmentSizes",
                        std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
          h.attrs().set("resultSegmentSizes",
                        std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1});
          h.attrs().set("input_forget", inputForget);
          if (clip > 0)
            h.attrs().set("clip", clip);
          h.workspace(uint64_t(N * G * dtypeBytes(t)));
        }, cudaTestTolerance(t));
      }
}

} // namespace

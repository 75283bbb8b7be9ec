// NNGradientsTest.cpp - gradients of the nn ops against finite
// differences (GradientCheck.h).
//
// Dropout in training form with a ratio that drops elements cannot be
// checked here: its mask comes from a Philox stream keyed by the seed and
// the session's run index, and the finite differences run the forward
// program once per perturbation (run indices 1, 2, ...) while the training
// step runs once (index 0), so the masks differ. A ratio that drops nothing
// at any of those run indices still takes the dropout_backward path end to
// end; the zeroing and scaling are checked in NNGradKernelsTest.cpp.

#include "GradientCheck.h"

#include <string>
#include <vector>

namespace {

using Shape = std::vector<int64_t>;

std::string type(const Shape &shape) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + "f64>";
}

/// @forward(%x, %w[, %b]) = conv(%x, %w[, %b]) with `attrs`.
std::string conv(const Shape &x, const Shape &w, const Shape &y, bool bias,
                 const std::string &attrs) {
  std::string b = bias ? type({w[0]}) : "";
  return "func.func @forward(%x: " + type(x) + ", %w: " + type(w) +
         (bias ? ", %b: " + b : "") + ") -> " + type(y) +
         " {\n  %y = mlg.conv %x, %w" + (bias ? ", %b" : "") + " {" + attrs +
         "} : (" + type(x) + ", " + type(w) + (bias ? ", " + b : "") + ") -> " +
         type(y) + "\n  return %y : " + type(y) + "\n}";
}

/// @forward(%x) = op(%x) with `attrs`, one result.
std::string unary(const std::string &op, const Shape &x, const Shape &y,
                  const std::string &attrs) {
  return "func.func @forward(%x: " + type(x) + ") -> " + type(y) +
         " {\n  %y = mlg." + op + " %x {" + attrs + "} : (" + type(x) +
         ") -> " + type(y) + "\n  return %y : " + type(y) + "\n}";
}

} // namespace

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

TEST(NNGradients, ConvPaddedWithBias) {
  EXPECT_GRADIENT(conv({2, 3, 5, 5}, {4, 3, 3, 3}, {2, 4, 5, 5}, true,
                       "dilations = array<i64: 1, 1>, group = 1 : i64, pads = "
                       "array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>"));
}

TEST(NNGradients, ConvGroupedStridedDilatedAsymmetricPads) {
  // H: 7 padded by 1 and 0, kernel 3, stride 2 -> 3. W: 6 padded by 0 and
  // 1, kernel 2 dilated by 2, stride 2 -> 3.
  EXPECT_GRADIENT(conv({1, 4, 7, 6}, {6, 2, 3, 2}, {1, 6, 3, 3}, true,
                       "dilations = array<i64: 1, 2>, group = 2 : i64, pads = "
                       "array<i64: 1, 0, 0, 1>, strides = array<i64: 2, 2>"));
}

TEST(NNGradients, ConvDepthwiseStrided) {
  EXPECT_GRADIENT(conv({2, 3, 5, 5}, {3, 1, 3, 3}, {2, 3, 3, 3}, false,
                       "dilations = array<i64: 1, 1>, group = 3 : i64, pads = "
                       "array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>"));
}

TEST(NNGradients, ConvPointwise) {
  // 1x1 with unit strides and no padding: the kernels skip the column
  // matrix.
  EXPECT_GRADIENT(conv({2, 4, 3, 3}, {6, 2, 1, 1}, {2, 6, 3, 3}, true,
                       "dilations = array<i64: 1, 1>, group = 2 : i64, pads = "
                       "array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>"));
}

TEST(NNGradients, Conv1D) {
  // 9 padded by 2 and 1, kernel 3 dilated by 2, stride 2 -> 4.
  EXPECT_GRADIENT(conv({2, 3, 9}, {2, 3, 3}, {2, 2, 4}, true,
                       "dilations = array<i64: 2>, group = 1 : i64, pads = "
                       "array<i64: 2, 1>, strides = array<i64: 2>"));
}

TEST(NNGradients, Conv3D) {
  // D: 4 padded by 0 and 1, kernel 2 -> 4; H: 4 padded by 1 and 0, kernel 3,
  // stride 2 -> 2; W: 3 padded by 1 and 0, kernel 2 -> 3.
  EXPECT_GRADIENT(conv({1, 2, 4, 4, 3}, {2, 2, 2, 3, 2}, {1, 2, 4, 2, 3}, true,
                       "dilations = array<i64: 1, 1, 1>, group = 1 : i64, "
                       "pads = array<i64: 0, 1, 1, 1, 0, 0>, strides = "
                       "array<i64: 1, 2, 1>"));
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

TEST(NNGradients, MaxPoolOverlappingPadded) {
  // Windows of 3 at stride 2 overlap: an input may win two windows.
  EXPECT_GRADIENT(unary("max_pool", {2, 2, 5, 5}, {2, 2, 3, 3},
                        "ceil_mode = false, dilations = array<i64: 1, 1>, "
                        "kernel_shape = array<i64: 3, 3>, pads = array<i64: "
                        "1, 1, 1, 1>, strides = array<i64: 2, 2>"));
}

TEST(NNGradients, MaxPoolCeilModeAndDilation) {
  // 6 with kernel 3 at stride 2 in ceil mode -> 3 (the last window runs past
  // the end); 5 with kernel 2 dilated by 2 -> 3.
  EXPECT_GRADIENT(unary("max_pool", {1, 2, 6, 5}, {1, 2, 3, 3},
                        "ceil_mode = true, dilations = array<i64: 1, 2>, "
                        "kernel_shape = array<i64: 3, 2>, pads = array<i64: "
                        "0, 0, 0, 0>, strides = array<i64: 2, 1>"));
}

TEST(NNGradients, MaxPool1DAnd3D) {
  EXPECT_GRADIENT(unary("max_pool", {2, 2, 7}, {2, 2, 4},
                        "ceil_mode = true, dilations = array<i64: 1>, "
                        "kernel_shape = array<i64: 2>, pads = array<i64: 0, "
                        "0>, strides = array<i64: 2>"));
  EXPECT_GRADIENT(unary("max_pool", {1, 2, 5, 4, 4}, {1, 2, 3, 2, 2},
                        "ceil_mode = true, dilations = array<i64: 1, 1, 1>, "
                        "kernel_shape = array<i64: 2, 2, 2>, pads = "
                        "array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 2, "
                        "2, 2>"));
}

TEST(NNGradients, MaxPoolWithIndicesValues) {
  // Only the values flow on; the indices have no gradient.
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x2x5x5xf64>) -> tensor<2x2x3x3xf64> {
      %y, %i = mlg.max_pool_with_indices %x {ceil_mode = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, storage_order = 1 : i64, strides = array<i64: 2, 2>} : (tensor<2x2x5x5xf64>) -> (tensor<2x2x3x3xf64>, tensor<2x2x3x3xi64>)
      return %y : tensor<2x2x3x3xf64>
    })mlir");
}

TEST(NNGradients, AveragePoolCountingPaddingBothWays) {
  for (const char *include : {"false", "true"})
    EXPECT_GRADIENT(
        unary("average_pool", {2, 2, 5, 5}, {2, 2, 3, 3},
              std::string("ceil_mode = false, count_include_pad = ") + include +
                  ", dilations = array<i64: 1, 1>, kernel_shape = "
                  "array<i64: 3, 3>, pads = array<i64: 1, 1, 1, "
                  "1>, strides = array<i64: 2, 2>"))
        << "count_include_pad = " << include;
}

TEST(NNGradients, AveragePoolCeilMode) {
  // 6 padded by 1 and 1, kernel 3, stride 2, ceil mode -> 4: the last window
  // starts on the last input, covers the end padding and runs past it, which
  // count_include_pad counts (the padding) and does not (the overhang).
  for (const char *include : {"false", "true"})
    EXPECT_GRADIENT(
        unary("average_pool", {1, 2, 6, 6}, {1, 2, 4, 4},
              std::string("ceil_mode = true, count_include_pad = ") + include +
                  ", dilations = array<i64: 1, 1>, kernel_shape = "
                  "array<i64: 3, 3>, pads = array<i64: 1, 1, 1, "
                  "1>, strides = array<i64: 2, 2>"))
        << "count_include_pad = " << include;
}

TEST(NNGradients, AveragePool1DDilatedAnd3D) {
  EXPECT_GRADIENT(
      unary("average_pool", {2, 2, 9}, {2, 2, 4},
            "ceil_mode = false, count_include_pad = true, "
            "dilations = array<i64: 2>, kernel_shape = array<i64: "
            "3>, pads = array<i64: 2, 1>, strides = array<i64: 2>"));
  EXPECT_GRADIENT(unary("average_pool", {1, 2, 4, 4, 3}, {1, 2, 2, 2, 2},
                        "ceil_mode = false, count_include_pad = false, "
                        "dilations = array<i64: 1, 1, 1>, kernel_shape = "
                        "array<i64: 2, 2, 2>, pads = array<i64: 0, 0, 1, 0, 0, "
                        "0>, strides = array<i64: 2, 2, 2>"));
}

TEST(NNGradients, GlobalPools) {
  for (const char *op : {"global_average_pool", "global_max_pool"}) {
    EXPECT_GRADIENT(unary(op, {2, 3, 4, 5}, {2, 3, 1, 1}, "")) << op;
    EXPECT_GRADIENT(unary(op, {2, 3, 3}, {2, 3, 1}, "")) << op;
  }
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

namespace {

/// Batch norm over x [4, 3, 2, 2] with scale and bias arguments; its mean
/// and var are constants (they have no gradient to check).
std::string batchNorm(bool training, const Shape &x) {
  std::string t = type(x), c = type({3});
  return "func.func @forward(%x: " + t + ", %s: " + c + ", %b: " + c + ") -> " +
         t + " {\n  %m = mlg.constant dense<[0.5, -0.25, 0.0]> : " + c +
         "\n  %v = mlg.constant dense<[0.8, 1.5, 2.0]> : " + c +
         "\n  %y, %rm, %rv = mlg.batch_norm %x, %s, %b, %m, %v {epsilon = "
         "1.0e-05 : f64, momentum = 0.9 : f64, training = " +
         (training ? "true" : "false") + "} : (" + t + ", " + c + ", " + c +
         ", " + c + ", " + c + ") -> (" + t + ", " + c + ", " + c +
         ")\n  return %y : " + t + "\n}";
}

} // namespace

TEST(NNGradients, BatchNormTrainingThroughBatchStatistics) {
  EXPECT_GRADIENT(batchNorm(true, {4, 3, 2, 2}));
  EXPECT_GRADIENT(batchNorm(true, {5, 3}));
}

TEST(NNGradients, BatchNormInference) {
  EXPECT_GRADIENT(batchNorm(false, {4, 3, 2, 2}));
  EXPECT_GRADIENT(batchNorm(false, {5, 3}));
}

TEST(NNGradients, BatchNormRunningStatisticsHaveNoGradient) {
  // A loss that reads the running mean needs a gradient the op refuses.
  ::testing::AssertionResult result = mlg::test::checkGradient(R"mlir(
    func.func @forward(%x: tensor<4x3xf64>, %s: tensor<3xf64>, %b: tensor<3xf64>) -> (tensor<4x3xf64>, tensor<3xf64>) {
      %m = mlg.constant dense<0.0> : tensor<3xf64>
      %v = mlg.constant dense<1.0> : tensor<3xf64>
      %y, %rm, %rv = mlg.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64, training = true} : (tensor<4x3xf64>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64>) -> (tensor<4x3xf64>, tensor<3xf64>, tensor<3xf64>)
      return %y, %rm : tensor<4x3xf64>, tensor<3xf64>
    })mlir");
  EXPECT_FALSE(result);
  EXPECT_NE(std::string(result.message()).find("running statistics"),
            std::string::npos)
      << result.message();
}

TEST(NNGradients, LayerNormLastAxes) {
  // Normalized over [3, 4], a scale broadcast over the rows ([1, 4]) and a
  // bias broadcast further ([4]).
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x3x4xf64>, %g: tensor<1x4xf64>, %b: tensor<4xf64>) -> tensor<2x3x4xf64> {
      %y, %m, %r = mlg.layer_norm %x, %g, %b {axis = 1 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3x4xf64>, tensor<1x4xf64>, tensor<4xf64>) -> (tensor<2x3x4xf64>, tensor<2x1x1xf64>, tensor<2x1x1xf64>)
      return %y : tensor<2x3x4xf64>
    })mlir");
  // The last axis, with a full scale and a bias.
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x3x5xf64>, %g: tensor<5xf64>, %b: tensor<5xf64>) -> tensor<2x3x5xf64> {
      %y, %m, %r = mlg.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-05 : f64} : (tensor<2x3x5xf64>, tensor<5xf64>, tensor<5xf64>) -> (tensor<2x3x5xf64>, tensor<2x3x1xf64>, tensor<2x3x1xf64>)
      return %y : tensor<2x3x5xf64>
    })mlir");
  // Everything (axis 0), without a bias.
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<3x4xf64>, %g: tensor<3x4xf64>) -> tensor<3x4xf64> {
      %y, %m, %r = mlg.layer_norm %x, %g {axis = 0 : i64, epsilon = 1.0e-05 : f64} : (tensor<3x4xf64>, tensor<3x4xf64>) -> (tensor<3x4xf64>, tensor<1x1xf64>, tensor<1x1xf64>)
      return %y : tensor<3x4xf64>
    })mlir");
}

//===----------------------------------------------------------------------===//
// Softmax and dropout
//===----------------------------------------------------------------------===//

TEST(NNGradients, SoftmaxAndLogSoftmaxEveryAxis) {
  for (const char *op : {"softmax", "log_softmax"})
    for (int axis = 0; axis < 3; ++axis) {
      std::string text = "func.func @forward(%x: tensor<3x4x5xf64>) -> "
                         "tensor<3x4x5xf64> {\n  %y = mlg." +
                         std::string(op) +
                         " %x {axis = " + std::to_string(axis) +
                         " : i64} : tensor<3x4x5xf64>\n  return %y : "
                         "tensor<3x4x5xf64>\n}";
      EXPECT_GRADIENT(text) << op << " axis " << axis;
    }
}

TEST(NNGradients, DropoutIdentityForms) {
  // Ratio 0 in training form, and the inference form: the identity.
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<3x4xf64>) -> tensor<3x4xf64> {
      %y, %mask = mlg.dropout %x {ratio = 0.0 : f64, seed = 3 : i64, training = true} : (tensor<3x4xf64>) -> (tensor<3x4xf64>, tensor<3x4xi1>)
      return %y : tensor<3x4xf64>
    })mlir");
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<3x4xf64>) -> tensor<3x4xf64> {
      %y, %mask = mlg.dropout %x {ratio = 0.5 : f64, seed = 3 : i64, training = false} : (tensor<3x4xf64>) -> (tensor<3x4xf64>, tensor<3x4xi1>)
      return %y : tensor<3x4xf64>
    })mlir");
}

TEST(NNGradients, DropoutTrainingThroughItsMask) {
  // A ratio below 2^-24 drops only where the 24-bit Philox draw is 0, which
  // none of these elements' is at any run index used: the mask is all ones
  // in every run, the gradient the mask scaled by 1 / (1 - ratio).
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<3x4xf64>) -> tensor<3x4xf64> {
      %y, %mask = mlg.dropout %x {ratio = 1.0e-08 : f64, seed = 3 : i64, training = true} : (tensor<3x4xf64>) -> (tensor<3x4xf64>, tensor<3x4xi1>)
      %z = mlg.mul %y, %x : (tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3x4xf64>
      return %z : tensor<3x4xf64>
    })mlir");
}

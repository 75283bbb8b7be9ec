// TrainingGradientsTest.cpp - gradients of the losses against finite
// differences (GradientCheck.h).

#include "GradientCheck.h"

TEST(TrainingGradients, SoftmaxCrossEntropy) {
  mlg::test::GradientCheckOptions options;
  options.intHigh = 5; // class labels
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x3x5xf64>, %labels: tensor<2x3xi64>) -> tensor<f64> {
      %l = mlg.softmax_cross_entropy %x, %labels : (tensor<2x3x5xf64>, tensor<2x3xi64>) -> tensor<f64>
      return %l : tensor<f64>
    })mlir",
                  options);
}

TEST(TrainingGradients, MeanSquaredError) {
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%p: tensor<4x3xf64>, %t: tensor<4x3xf64>) -> tensor<f64> {
      %l = mlg.mse_loss %p, %t : (tensor<4x3xf64>, tensor<4x3xf64>) -> tensor<f64>
      return %l : tensor<f64>
    })mlir");
}

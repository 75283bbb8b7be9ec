// MatMulGradientsTest.cpp - gradients of gemm and matmul against finite
// differences (GradientCheck.h).

#include "GradientCheck.h"

TEST(MatMulGradients, GemmEveryTransposeWithBias) {
  for (const char *flags :
       {"trans_a = false, trans_b = false", "trans_a = true, trans_b = false",
        "trans_a = false, trans_b = true", "trans_a = true, trans_b = true"}) {
    bool ta = std::string(flags).find("trans_a = true") != std::string::npos;
    bool tb = std::string(flags).find("trans_b = true") != std::string::npos;
    std::string a = ta ? "4x3" : "3x4", b = tb ? "5x4" : "4x5";
    std::string text = "func.func @forward(%a: tensor<" + a +
                       "xf64>, %b: tensor<" + b +
                       "xf64>, %c: tensor<5xf64>) -> tensor<3x5xf64> {\n"
                       "  %y = mlg.gemm %a, %b, %c {alpha = 0.5 : f64, beta = "
                       "2.0 : f64, " +
                       flags + "} : (tensor<" + a + "xf64>, tensor<" + b +
                       "xf64>, tensor<5xf64>) -> tensor<3x5xf64>\n"
                       "  return %y : tensor<3x5xf64>\n}";
    EXPECT_GRADIENT(text) << flags;
  }
}

TEST(MatMulGradients, MatMulWeightsAndBatches) {
  // A batch of rows times a weight matrix (the Transformer's projections).
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x3x4xf64>, %w: tensor<4x5xf64>) -> tensor<2x3x5xf64> {
      %y = mlg.matmul %x, %w : (tensor<2x3x4xf64>, tensor<4x5xf64>) -> tensor<2x3x5xf64>
      return %y : tensor<2x3x5xf64>
    })mlir");
  // Batched with broadcasting (attention scores).
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%q: tensor<2x1x3x4xf64>, %k: tensor<3x4x2xf64>) -> tensor<2x3x3x2xf64> {
      %y = mlg.matmul %q, %k : (tensor<2x1x3x4xf64>, tensor<3x4x2xf64>) -> tensor<2x3x3x2xf64>
      return %y : tensor<2x3x3x2xf64>
    })mlir");
  // 1-D operands on either side.
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%v: tensor<4xf64>, %m: tensor<2x4x3xf64>, %u: tensor<3xf64>) -> tensor<2xf64> {
      %a = mlg.matmul %v, %m : (tensor<4xf64>, tensor<2x4x3xf64>) -> tensor<2x3xf64>
      %b = mlg.matmul %a, %u : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2xf64>
      return %b : tensor<2xf64>
    })mlir");
}

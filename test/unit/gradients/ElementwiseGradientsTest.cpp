// ElementwiseGradientsTest.cpp - gradients of the elementwise ops against
// finite differences (GradientCheck.h).

#include "GradientCheck.h"

TEST(ElementwiseGradients, AddSubMulNegBroadcast) {
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x3xf64>, %y: tensor<3xf64>, %z: tensor<2x1xf64>) -> tensor<2x3xf64> {
      %a = mlg.add %x, %y : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>
      %b = mlg.mul %a, %z : (tensor<2x3xf64>, tensor<2x1xf64>) -> tensor<2x3xf64>
      %c = mlg.sub %b, %x : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
      %d = mlg.neg %c : tensor<2x3xf64>
      %e = mlg.mul %d, %d : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
      return %e : tensor<2x3xf64>
    })mlir");
}

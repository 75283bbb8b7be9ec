// GradientCheck.h - an op's gradient against central finite differences.
//
// A test writes a forward function over float64 arguments (and any integer
// arguments an op needs, such as indices):
//
//   EXPECT_GRADIENT(R"mlir(
//     func.func @forward(%x: tensor<2x3xf64>, %y: tensor<3xf64>)
//         -> tensor<2x3xf64> {
//       %z = mlg.mul %x, %y : (tensor<2x3xf64>, tensor<3xf64>) ->
//       tensor<2x3xf64> return %z : tensor<2x3xf64>
//     })mlir");
//
// The harness makes the scalar L = sum(output * R) with R a fixed random
// tensor, builds the training step with -mlg-build-training-step
// (loss=none, optimizer=none, input-gradients) and -mlg-dead-node-elim,
// lowers both it and the forward to programs, and runs them on the CPU
// backend: the gradient of every float argument must match
// (L(x + h e_i) - L(x - h e_i)) / 2h for every element i.

#ifndef MLG_TEST_UNIT_GRADIENTS_GRADIENTCHECK_H
#define MLG_TEST_UNIT_GRADIENTS_GRADIENTCHECK_H

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mlg::test {

struct GradientCheckOptions {
  /// Random integer arguments are drawn from [intLow, intHigh).
  int64_t intLow = 0, intHigh = 2;
  /// Float arguments are drawn from N(0, 1) scaled by `scale` and shifted
  /// by `shift` (e.g. shift > 3 keeps log and sqrt away from 0).
  double scale = 1.0, shift = 0.0;
  /// Finite-difference step and tolerance: |analytic - numeric| <=
  /// tolerance * max(1, max |numeric|).
  double step = 1e-6, tolerance = 1e-6;
  uint64_t seed = 1;
  /// Values for specific arguments (by index), instead of random data; an
  /// argument given here is not perturbed.
  std::vector<std::pair<unsigned, std::vector<double>>> fixed;
  /// More mlg-build-training-step options, e.g. "projection-steps=2".
  std::string stepOptions;
};

/// Checks every float argument's gradient. Returns a failure message for
/// EXPECT_TRUE, naming the argument, element and both values.
::testing::AssertionResult
checkGradient(const std::string &forwardFunction,
              const GradientCheckOptions &options = {});

} // namespace mlg::test

#define EXPECT_GRADIENT(...)                                                   \
  EXPECT_TRUE(::mlg::test::checkGradient(__VA_ARGS__))

#endif // MLG_TEST_UNIT_GRADIENTS_GRADIENTCHECK_H

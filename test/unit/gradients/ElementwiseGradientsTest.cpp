// ElementwiseGradientsTest.cpp - gradients of the elementwise ops against
// finite differences (GradientCheck.h).
//
// Random inputs are N(0, 1) unless a test shifts or scales them away from a
// kink or a pole (sqrt, log and reciprocal at 0; clip's bounds are far from
// any draw of this seed).

#include "GradientCheck.h"

#include <string>

using mlg::test::GradientCheckOptions;

namespace {

/// @forward applying the unary `op` (with `attrs`, e.g. "{alpha = 0.1 :
/// f64}") to a tensor<2x3x4xf64>.
std::string unary(const std::string &op, const std::string &attrs = "") {
  return "func.func @forward(%x: tensor<2x3x4xf64>) -> tensor<2x3x4xf64> {\n"
         "  %y = mlg." +
         op + " %x " + attrs +
         " : tensor<2x3x4xf64>\n"
         "  return %y : tensor<2x3x4xf64>\n}";
}

/// @forward applying the binary `op` to x: tensor<2x3xf64> and a broadcast
/// y of type `rhs`.
std::string binary(const std::string &op, const std::string &rhs,
                   const std::string &attrs = "") {
  return "func.func @forward(%x: tensor<2x3xf64>, %y: " + rhs +
         ") -> tensor<2x3xf64> {\n"
         "  %z = mlg." +
         op + " %x, %y " + attrs + " : (tensor<2x3xf64>, " + rhs +
         ") -> tensor<2x3xf64>\n"
         "  return %z : tensor<2x3xf64>\n}";
}

GradientCheckOptions positive() {
  GradientCheckOptions o;
  o.shift = 3.0;
  o.scale = 0.5;
  return o;
}

} // namespace

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

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

TEST(ElementwiseGradients, SmoothUnary) {
  for (const char *op : {"exp", "tanh", "sigmoid", "erf", "sin", "cos",
                         "softplus", "softsign", "abs", "relu"})
    EXPECT_GRADIENT(unary(op)) << op;
}

TEST(ElementwiseGradients, UnaryOnPositiveInputs) {
  for (const char *op : {"sqrt", "log", "reciprocal"})
    EXPECT_GRADIENT(unary(op), positive()) << op;
  // Reciprocal on the negative side too.
  GradientCheckOptions negative;
  negative.shift = -3.0;
  negative.scale = 0.5;
  EXPECT_GRADIENT(unary("reciprocal"), negative);
}

TEST(ElementwiseGradients, SoftplusLinearRegion) {
  // Around 20, where the kernel switches from log1p(exp(x)) to x.
  GradientCheckOptions o;
  o.shift = 20.0;
  o.scale = 2.0;
  EXPECT_GRADIENT(unary("softplus"), o);
}

TEST(ElementwiseGradients, ActivationChainInPlace) {
  // Every backward here reads a forward output, so the plan may run each op
  // in place over its operand; poisoning catches a read of a dead buffer.
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x3x4xf64>) -> tensor<2x3x4xf64> {
      %a = mlg.relu %x : tensor<2x3x4xf64>
      %b = mlg.sigmoid %a : tensor<2x3x4xf64>
      %c = mlg.tanh %b : tensor<2x3x4xf64>
      %d = mlg.exp %c : tensor<2x3x4xf64>
      %e = mlg.sqrt %d : tensor<2x3x4xf64>
      %f = mlg.leaky_relu %e {alpha = 0.1 : f64} : tensor<2x3x4xf64>
      return %f : tensor<2x3x4xf64>
    })mlir");
}

TEST(ElementwiseGradients, ParametricActivations) {
  // Positive parameters read the output; the others read the input.
  for (const char *attrs :
       {"{alpha = 0.1 : f64}", "{alpha = -0.2 : f64}", "{alpha = 0.0 : f64}"})
    EXPECT_GRADIENT(unary("leaky_relu", attrs)) << attrs;
  for (const char *attrs :
       {"{alpha = 1.0 : f64}", "{alpha = 0.3 : f64}", "{alpha = -0.5 : f64}"})
    EXPECT_GRADIENT(unary("elu", attrs)) << attrs;
  for (const char *attrs :
       {"{alpha = 1.6732632423543772 : f64, gamma = 1.0507009873554805 : f64}",
        "{alpha = -1.0 : f64, gamma = 2.0 : f64}",
        "{alpha = 0.5 : f64, gamma = -1.5 : f64}"})
    EXPECT_GRADIENT(unary("selu", attrs)) << attrs;
  // Standard normal inputs land on both clamps and in between.
  for (const char *attrs : {"{alpha = 0.2 : f64, beta = 0.5 : f64}",
                            "{alpha = -0.6 : f64, beta = 0.3 : f64}"})
    EXPECT_GRADIENT(unary("hard_sigmoid", attrs)) << attrs;
}

TEST(ElementwiseGradients, Clip) {
  for (const char *attrs : {"{max = 0.5 : f64, min = -0.5 : f64}",
                            "{min = 0.25 : f64}", "{max = -0.25 : f64}", ""})
    EXPECT_GRADIENT(unary("clip", attrs)) << attrs;
}

TEST(ElementwiseGradients, PiecewiseConstantHaveNoGradient) {
  // x * op(x): the gradient op(x) + x op'(x) = op(x), so op' must be 0.
  for (const char *op : {"floor", "ceil", "round", "sign"}) {
    std::string text =
        "func.func @forward(%x: tensor<2x3x4xf64>) -> tensor<2x3x4xf64> {\n"
        "  %f = mlg." +
        std::string(op) +
        " %x : tensor<2x3x4xf64>\n"
        "  %y = mlg.mul %x, %f : (tensor<2x3x4xf64>, tensor<2x3x4xf64>) -> "
        "tensor<2x3x4xf64>\n"
        "  return %y : tensor<2x3x4xf64>\n}";
    GradientCheckOptions o;
    o.scale = 3.0;
    EXPECT_GRADIENT(text, o) << op;
  }
}

//===----------------------------------------------------------------------===//
// Cast
//===----------------------------------------------------------------------===//

TEST(ElementwiseGradients, CastBetweenFloats) {
  // Through f32: the forward rounds to f32, so the difference step must be
  // far above f32's resolution; the function is linear, so a large step
  // costs nothing.
  GradientCheckOptions o;
  o.step = 1e-2;
  o.tolerance = 1e-5;
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x3xf64>) -> tensor<2x3xf64> {
      %a = mlg.cast %x : tensor<2x3xf64> to tensor<2x3xf32>
      %b = mlg.cast %a : tensor<2x3xf32> to tensor<2x3xf64>
      return %b : tensor<2x3xf64>
    })mlir",
                  o);
}

TEST(ElementwiseGradients, CastToIntegerHasNoGradient) {
  // x + float(int(3 x)) has gradient 1: the integer path carries none.
  GradientCheckOptions o;
  o.scale = 2.0;
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x3xf64>, %n: tensor<2x3xi64>) -> tensor<2x3xf64> {
      %c = mlg.constant dense<3.0> : tensor<f64>
      %s = mlg.mul %x, %c : (tensor<2x3xf64>, tensor<f64>) -> tensor<2x3xf64>
      %i = mlg.cast %s : tensor<2x3xf64> to tensor<2x3xi64>
      %j = mlg.add %i, %n : (tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<2x3xi64>
      %f = mlg.cast %j : tensor<2x3xi64> to tensor<2x3xf64>
      %y = mlg.add %x, %f : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
      return %y : tensor<2x3xf64>
    })mlir",
                  o);
}

//===----------------------------------------------------------------------===//
// Binary
//===----------------------------------------------------------------------===//

TEST(ElementwiseGradients, DivBroadcast) {
  GradientCheckOptions o;
  o.shift = 2.0;
  o.scale = 0.5;
  for (const char *rhs :
       {"tensor<3xf64>", "tensor<2x1xf64>", "tensor<f64>", "tensor<2x3xf64>"})
    EXPECT_GRADIENT(binary("div", rhs), o) << rhs;
  // Negative divisors, and the result read again downstream.
  o.shift = -2.0;
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<3xf64>, %y: tensor<2x1xf64>) -> tensor<2x3xf64> {
      %z = mlg.div %x, %y : (tensor<3xf64>, tensor<2x1xf64>) -> tensor<2x3xf64>
      %w = mlg.mul %z, %z : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
      return %w : tensor<2x3xf64>
    })mlir",
                  o);
}

TEST(ElementwiseGradients, MaxMinBroadcast) {
  for (const char *op : {"max", "min"})
    for (const char *rhs : {"tensor<3xf64>", "tensor<2x1xf64>", "tensor<f64>"})
      EXPECT_GRADIENT(binary(op, rhs)) << op << " " << rhs;
}

TEST(ElementwiseGradients, MaxMinTiesSplitEvenly) {
  // max(x, x) = x: the halves of the tie add up to the whole gradient.
  // max(x, 2x) - min(x, 2x) = |x|: no tie, each operand gets its own.
  for (const char *op : {"max", "min"}) {
    std::string text =
        "func.func @forward(%x: tensor<2x3xf64>) -> tensor<2x3xf64> {\n"
        "  %y = mlg." +
        std::string(op) +
        " %x, %x : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>\n"
        "  return %y : tensor<2x3xf64>\n}";
    EXPECT_GRADIENT(text) << op;
  }
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x3xf64>) -> tensor<2x3xf64> {
      %c = mlg.constant dense<2.0> : tensor<f64>
      %d = mlg.mul %x, %c : (tensor<2x3xf64>, tensor<f64>) -> tensor<2x3xf64>
      %a = mlg.max %x, %d : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
      %b = mlg.min %x, %d : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
      %y = mlg.sub %a, %b : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
      return %y : tensor<2x3xf64>
    })mlir");
}

TEST(ElementwiseGradients, PowBothOperands) {
  GradientCheckOptions o;
  o.shift = 2.0;
  o.scale = 0.5;
  for (const char *rhs : {"tensor<3xf64>", "tensor<2x1xf64>", "tensor<f64>"})
    EXPECT_GRADIENT(binary("pow", rhs), o) << rhs;
}

TEST(ElementwiseGradients, PowConstantExponents) {
  // Splat exponents take the constant path (2 and 1 without a pow); the
  // base may be negative for integral ones.
  for (const char *e : {"2.0", "1.0", "3.0", "0.0", "-2.0"}) {
    std::string text =
        "func.func @forward(%x: tensor<2x3xf64>) -> tensor<2x3xf64> {\n"
        "  %e = mlg.constant dense<" +
        std::string(e) +
        "> : tensor<1xf64>\n"
        "  %y = mlg.pow %x, %e : (tensor<2x3xf64>, tensor<1xf64>) -> "
        "tensor<2x3xf64>\n"
        "  %z = mlg.add %y, %x : (tensor<2x3xf64>, tensor<2x3xf64>) -> "
        "tensor<2x3xf64>\n"
        "  return %z : tensor<2x3xf64>\n}";
    GradientCheckOptions o;
    o.shift = std::string(e) == "-2.0" ? 2.0 : 0.0;
    EXPECT_GRADIENT(text, o) << e;
  }
  GradientCheckOptions o = positive();
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x3xf64>) -> tensor<2x3xf64> {
      %e = mlg.constant dense<0.5> : tensor<f32>
      %y = mlg.pow %x, %e : (tensor<2x3xf64>, tensor<f32>) -> tensor<2x3xf64>
      return %y : tensor<2x3xf64>
    })mlir",
                  o);
}

TEST(ElementwiseGradients, PowIntegerExponentHasNoGradient) {
  GradientCheckOptions o;
  o.intLow = 0;
  o.intHigh = 4;
  for (const char *type : {"i64", "i32"}) {
    std::string rhs = std::string("tensor<3x") + type + ">";
    EXPECT_GRADIENT(binary("pow", rhs), o) << type;
  }
}

TEST(ElementwiseGradients, PowExponentOfAnotherFloatType) {
  // The exponent is an f32; its gradient is cast back to f32, so the
  // difference step must be far above f32's resolution.
  GradientCheckOptions o;
  o.shift = 2.0;
  o.scale = 0.5;
  o.step = 1e-3;
  o.tolerance = 1e-4;
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x3xf64>, %y: tensor<3xf64>) -> tensor<2x3xf64> {
      %e = mlg.cast %y : tensor<3xf64> to tensor<3xf32>
      %z = mlg.pow %x, %e : (tensor<2x3xf64>, tensor<3xf32>) -> tensor<2x3xf64>
      return %z : tensor<2x3xf64>
    })mlir",
                  o);
}

TEST(ElementwiseGradients, PowExponentGradientAtZeroBase) {
  // 0^e = 0 for every e > 0: the exponent's gradient is 0 there, not NaN.
  GradientCheckOptions o;
  o.shift = 2.0;
  o.scale = 0.5;
  o.fixed = {{0, {0.0, 1.5, 0.0, 2.0, 0.7, 0.0}}};
  EXPECT_GRADIENT(binary("pow", "tensor<2x3xf64>"), o);
}

TEST(ElementwiseGradients, WhereBroadcast) {
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%c: tensor<2x1xi1>, %x: tensor<2x3xf64>, %y: tensor<3xf64>) -> tensor<2x3xf64> {
      %z = mlg.where %c, %x, %y : (tensor<2x1xi1>, tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>
      return %z : tensor<2x3xf64>
    })mlir");
  // Conditions that differ per element, and a scalar branch.
  GradientCheckOptions o;
  o.fixed = {{0, {1, 0, 0, 1, 1, 0}}};
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%c: tensor<2x3xi1>, %x: tensor<f64>, %y: tensor<2x3xf64>) -> tensor<2x3xf64> {
      %z = mlg.where %c, %x, %y : (tensor<2x3xi1>, tensor<f64>, tensor<2x3xf64>) -> tensor<2x3xf64>
      return %z : tensor<2x3xf64>
    })mlir",
                  o);
}

TEST(ElementwiseGradients, ModBothConventions) {
  // The divisor is kept away from 0 (and takes both signs) by an offset.
  for (const char *fmod : {"true", "false"}) {
    std::string text =
        "func.func @forward(%x: tensor<2x3xf64>, %y: tensor<3xf64>) -> "
        "tensor<2x3xf64> {\n"
        "  %four = mlg.constant dense<4.0> : tensor<f64>\n"
        "  %xs = mlg.mul %x, %four : (tensor<2x3xf64>, tensor<f64>) -> "
        "tensor<2x3xf64>\n"
        "  %tenth = mlg.constant dense<0.1> : tensor<f64>\n"
        "  %off = mlg.constant dense<[1.5, -1.5, 2.5]> : tensor<3xf64>\n"
        "  %a = mlg.mul %y, %tenth : (tensor<3xf64>, tensor<f64>) -> "
        "tensor<3xf64>\n"
        "  %ys = mlg.add %a, %off : (tensor<3xf64>, tensor<3xf64>) -> "
        "tensor<3xf64>\n"
        "  %z = mlg.mod %xs, %ys {fmod = " +
        std::string(fmod) +
        "} : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>\n"
        "  return %z : tensor<2x3xf64>\n}";
    EXPECT_GRADIENT(text) << "fmod = " << fmod;
  }
}

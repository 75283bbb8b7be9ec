// TensorGradientsTest.cpp - gradients of the tensor ops against finite
// differences (GradientCheck.h).

#include "GradientCheck.h"

#include <string>

using mlg::test::GradientCheckOptions;

namespace {

/// @forward slicing x: tensor<`in`> into tensor<`out`>.
std::string slice(const std::string &in, const std::string &out,
                  const std::string &starts, const std::string &ends,
                  const std::string &steps) {
  return "func.func @forward(%x: tensor<" + in + "xf64>) -> tensor<" + out +
         "xf64> {\n"
         "  %y = mlg.slice %x {ends = array<i64: " +
         ends + ">, starts = array<i64: " + starts +
         ">, steps = array<i64: " + steps + ">} : (tensor<" + in +
         "xf64>) -> tensor<" + out +
         "xf64>\n"
         "  return %y : tensor<" +
         out + "xf64>\n}";
}

/// @forward padding x: tensor<`in`> into tensor<`out`>.
std::string pad(const std::string &in, const std::string &out,
                const std::string &mode, const std::string &pads) {
  return "func.func @forward(%x: tensor<" + in + "xf64>) -> tensor<" + out +
         "xf64> {\n"
         "  %y = mlg.pad %x {mode = #mlg<pad_mode " +
         mode + ">, pads = array<i64: " + pads +
         ">, value = 0.5 : f64} : (tensor<" + in + "xf64>) -> tensor<" + out +
         "xf64>\n"
         "  return %y : tensor<" +
         out + "xf64>\n}";
}

/// @forward splitting x: tensor<2x6xf64> into 1, 2 and 3 columns and
/// returning the pieces named in `used` (a subset of "abc").
std::string split(const std::string &used) {
  const char *types[] = {"tensor<2x1xf64>", "tensor<2x2xf64>",
                         "tensor<2x3xf64>"};
  std::string results, values;
  for (char c : used) {
    results += std::string(results.empty() ? "" : ", ") + types[c - 'a'];
    values += std::string(values.empty() ? "" : ", ") + "%" + c;
  }
  return "func.func @forward(%x: tensor<2x6xf64>) -> (" + results +
         ") {\n"
         "  %a, %b, %c = mlg.split %x {axis = 1 : i64, sizes = array<i64: 1, "
         "2, 3>} : (tensor<2x6xf64>) -> (tensor<2x1xf64>, tensor<2x2xf64>, "
         "tensor<2x3xf64>)\n"
         "  return " +
         values + " : " + results + "\n}";
}

} // namespace

TEST(TensorGradients, Transpose) {
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x3x4xf64>) -> tensor<4x2x3xf64> {
      %y = mlg.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf64>) -> tensor<4x2x3xf64>
      return %y : tensor<4x2x3xf64>
    })mlir");
}

TEST(TensorGradients, ConcatOneSlicePerInput) {
  // With an operand that needs no gradient (a constant) in the middle.
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%a: tensor<2x1x3xf64>, %b: tensor<2x2x3xf64>, %c: tensor<2x3x3xf64>) -> tensor<2x8x3xf64> {
      %k = mlg.constant dense<1.0> : tensor<2x2x3xf64>
      %y = mlg.concat %a, %b, %k, %c {axis = 1 : i64} : (tensor<2x1x3xf64>, tensor<2x2x3xf64>, tensor<2x2x3xf64>, tensor<2x3x3xf64>) -> tensor<2x8x3xf64>
      return %y : tensor<2x8x3xf64>
    })mlir");
  // The same operand twice, along the first axis.
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%a: tensor<2x3xf64>) -> tensor<4x3xf64> {
      %y = mlg.concat %a, %a {axis = 0 : i64} : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<4x3xf64>
      return %y : tensor<4x3xf64>
    })mlir");
}

TEST(TensorGradients, SplitWithResultsWithoutGradient) {
  // Every subset of the results: unused ones get zeros by padding.
  for (const char *used : {"abc", "a", "b", "c", "ab", "ac", "bc"})
    EXPECT_GRADIENT(split(used)) << used;
}

TEST(TensorGradients, SliceSteps) {
  // Unit steps, larger steps and negative steps, mixed over dimensions.
  EXPECT_GRADIENT(slice("4x10", "2x4", "1, 4", "3, 8", "1, 1"));
  EXPECT_GRADIENT(slice("4x10", "2x4", "0, 1", "4, 9", "2, 2"));
  EXPECT_GRADIENT(slice("4x10", "4x5", "3, 9", "-1, -1", "-1, -2"));
  EXPECT_GRADIENT(slice("4x10", "2x3", "3, 8", "0, 0", "-2, -3"));
  // A dimension of one element with a huge step, and a reversed copy.
  EXPECT_GRADIENT(
      slice("3x5", "1x5", "2, 4", "3, -1", "9223372036854775807, -1"));
  EXPECT_GRADIENT(slice("2x3x4", "2x3x4", "0, 2, 0", "2, -1, 4", "1, -1, 1"));
}

TEST(TensorGradients, PadEveryMode) {
  // Constant padding, with and without crops (negative pads).
  EXPECT_GRADIENT(pad("3x4", "6x5", "constant", "1, 0, 2, 1"));
  EXPECT_GRADIENT(pad("3x4", "2x3", "constant", "-1, 1, 0, -2"));
  EXPECT_GRADIENT(pad("3x4", "1x2", "constant", "-2, 0, 0, -2"));
  // Reflections and edge copies feed an element several times.
  EXPECT_GRADIENT(pad("3x4", "6x7", "reflect", "2, 1, 1, 2"));
  EXPECT_GRADIENT(pad("3x4", "4x4", "reflect", "-1, 2, 2, -2"));
  EXPECT_GRADIENT(pad("3x4", "8x5", "edge", "2, 0, 3, 1"));
  EXPECT_GRADIENT(pad("1x2x3", "4x2x5", "edge", "1, 0, 2, 2, 0, 0"));
  EXPECT_GRADIENT(pad("3x4", "2x6", "edge", "0, 2, -1, 0"));
}

TEST(TensorGradients, Expand) {
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<3x1xf64>) -> tensor<2x3x4xf64> {
      %y = mlg.expand %x : tensor<3x1xf64> to tensor<2x3x4xf64>
      return %y : tensor<2x3x4xf64>
    })mlir");
}

TEST(TensorGradients, Tile) {
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x3xf64>) -> tensor<4x3xf64> {
      %y = mlg.tile %x {repeats = array<i64: 2, 1>} : (tensor<2x3xf64>) -> tensor<4x3xf64>
      return %y : tensor<4x3xf64>
    })mlir");
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x1x3xf64>) -> tensor<2x3x6xf64> {
      %y = mlg.tile %x {repeats = array<i64: 1, 3, 2>} : (tensor<2x1x3xf64>) -> tensor<2x3x6xf64>
      return %y : tensor<2x3x6xf64>
    })mlir");
}

TEST(TensorGradients, GatherRepeatedIndicesAccumulate) {
  // The embedding lookup: rows 0 and 2 are used several times, 1 and 3 not
  // at all.
  GradientCheckOptions o;
  o.fixed = {{1, {0, 2, 0, 4, 2, 2}}};
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%table: tensor<5x3xf64>, %ids: tensor<2x3xi64>) -> tensor<2x3x3xf64> {
      %e = mlg.gather %table, %ids {axis = 0 : i64} : (tensor<5x3xf64>, tensor<2x3xi64>) -> tensor<2x3x3xf64>
      return %e : tensor<2x3x3xf64>
    })mlir",
                  o);
  // A middle axis, i32 and negative indices.
  o.fixed = {{1, {-1, 0, 3, -1}}};
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x4x3xf64>, %ids: tensor<4xi32>) -> tensor<2x4x3xf64> {
      %e = mlg.gather %x, %ids {axis = 1 : i64} : (tensor<2x4x3xf64>, tensor<4xi32>) -> tensor<2x4x3xf64>
      return %e : tensor<2x4x3xf64>
    })mlir",
                  o);
  // The last axis, rank-0 indices.
  o.fixed = {{1, {2}}};
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<2x3xf64>, %i: tensor<i64>) -> tensor<2xf64> {
      %e = mlg.gather %x, %i {axis = 1 : i64} : (tensor<2x3xf64>, tensor<i64>) -> tensor<2xf64>
      return %e : tensor<2xf64>
    })mlir",
                  o);
}

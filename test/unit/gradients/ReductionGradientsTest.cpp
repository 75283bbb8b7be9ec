// ReductionGradientsTest.cpp - gradients of the reduction ops against finite
// differences (GradientCheck.h).

#include "GradientCheck.h"

#include <string>
#include <vector>

using mlg::test::GradientCheckOptions;

namespace {

struct Reduction {
  std::vector<int64_t> axes;
  bool keepdims;
};

/// Every way the ops are checked on a 2x3x4 input: one axis, several, all
/// (to a rank-0 result), none.
const Reduction kReductions[] = {{{1}, true},        {{1}, false},
                                 {{0, 2}, false},    {{0, 2}, true},
                                 {{0, 1, 2}, false}, {{}, true}};

std::string typeOf(const std::vector<int64_t> &shape) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + "f64>";
}

/// @forward reducing x: tensor<2x3x4xf64> with `op`.
std::string reduce(const std::string &op, const Reduction &r) {
  std::vector<int64_t> in = {2, 3, 4}, out;
  std::string axes;
  for (int64_t d = 0; d < 3; ++d) {
    bool reduced = false;
    for (int64_t a : r.axes)
      reduced |= a == d;
    if (!reduced)
      out.push_back(in[d]);
    else if (r.keepdims)
      out.push_back(1);
  }
  for (int64_t a : r.axes)
    axes += (axes.empty() ? "" : ", ") + std::to_string(a);
  return "func.func @forward(%x: " + typeOf(in) + ") -> " + typeOf(out) +
         " {\n"
         "  %y = mlg." +
         op + " %x {axes = array<i64" + (axes.empty() ? "" : ": ") + axes +
         ">, keepdims = " + (r.keepdims ? "true" : "false") + "} : (" +
         typeOf(in) + ") -> " + typeOf(out) +
         "\n"
         "  return %y : " +
         typeOf(out) + "\n}";
}

std::string describe(const std::string &op, const Reduction &r) {
  std::string s = op + " axes [";
  for (int64_t a : r.axes)
    s += std::to_string(a) + " ";
  return s + "] keepdims " + (r.keepdims ? "true" : "false");
}

} // namespace

TEST(ReductionGradients, EveryReductionEveryAxes) {
  for (const char *op :
       {"reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
        "reduce_sum_square", "reduce_l1", "reduce_l2", "reduce_log_sum_exp"})
    for (const Reduction &r : kReductions)
      EXPECT_GRADIENT(reduce(op, r)) << describe(op, r);
}

TEST(ReductionGradients, LogSumOfPositiveInputs) {
  GradientCheckOptions o;
  o.shift = 2.0;
  o.scale = 0.5;
  for (const Reduction &r : kReductions)
    EXPECT_GRADIENT(reduce("reduce_log_sum", r), o)
        << describe("reduce_log_sum", r);
}

TEST(ReductionGradients, ExtremumTiesShareTheGradient) {
  // Every group of the reduction holds three copies of one value (each
  // gets a third, which the expand's gradient sums back), and the maximum
  // of concat(x, x) is a tie of two.
  for (const char *op : {"reduce_max", "reduce_min"}) {
    std::string text =
        "func.func @forward(%x: tensor<2x1x4xf64>) -> tensor<2x4xf64> {\n"
        "  %e = mlg.expand %x : tensor<2x1x4xf64> to tensor<2x3x4xf64>\n"
        "  %y = mlg." +
        std::string(op) +
        " %e {axes = array<i64: 1>, keepdims = false} : (tensor<2x3x4xf64>) "
        "-> tensor<2x4xf64>\n"
        "  return %y : tensor<2x4xf64>\n}";
    EXPECT_GRADIENT(text) << op;
    text = "func.func @forward(%x: tensor<2x3xf64>) -> tensor<2xf64> {\n"
           "  %c = mlg.concat %x, %x {axis = 1 : i64} : (tensor<2x3xf64>, "
           "tensor<2x3xf64>) -> tensor<2x6xf64>\n"
           "  %y = mlg." +
           std::string(op) +
           " %c {axes = array<i64: 1>, keepdims = false} : (tensor<2x6xf64>) "
           "-> tensor<2xf64>\n"
           "  return %y : tensor<2xf64>\n}";
    EXPECT_GRADIENT(text) << op;
  }
}

TEST(ReductionGradients, ProdWithZeros) {
  // All inputs are 0 (scale 0); the constant makes rows with no zero, one
  // zero and two zeros. With one zero, that element's gradient is the
  // product of the others, which x / y would get as 0 / 0.
  GradientCheckOptions o;
  o.scale = 0.0;
  EXPECT_GRADIENT(R"mlir(
    func.func @forward(%x: tensor<3x3xf64>) -> tensor<3xf64> {
      %c = mlg.constant dense<[[1.5, -2.0, 3.0], [0.0, 2.0, -3.0], [0.0, 0.0, 2.0]]> : tensor<3x3xf64>
      %a = mlg.add %x, %c : (tensor<3x3xf64>, tensor<3x3xf64>) -> tensor<3x3xf64>
      %y = mlg.reduce_prod %a {axes = array<i64: 1>, keepdims = false} : (tensor<3x3xf64>) -> tensor<3xf64>
      return %y : tensor<3xf64>
    })mlir",
                  o);
}

TEST(ReductionGradients, L2AtZeroIsZero) {
  // The norm is not differentiable at 0; its gradient there is taken as 0,
  // which is the central difference of |x| at 0 too.
  GradientCheckOptions o;
  o.scale = 0.0;
  EXPECT_GRADIENT(reduce("reduce_l2", {{1}, false}), o);
}

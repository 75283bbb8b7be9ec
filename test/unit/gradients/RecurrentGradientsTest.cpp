// RecurrentGradientsTest.cpp - gradients of the recurrent ops against finite
// differences (GradientCheck.h).
//
// The training step unrolls mlg.lstm into one mlg.lstm_cell per step and
// direction (mlg.unstack / mlg.stack around them); these tests write the
// whole-sequence op and so check the unrolling, the cells' backward and the
// summing of every step's weight gradients together.

#include "GradientCheck.h"

#include <sstream>

namespace {

struct Lstm {
  int64_t steps = 3, batch = 2, input = 3, hidden = 2;
  const char *direction = "forward";
  bool bias = true, initialH = false, initialC = false, peepholes = false;
  bool zeroInitialState = false, inputForget = false;
  double clip = 0;
  /// Which of Y, Y_h, Y_c the function returns.
  bool returnY = true, returnYH = true, returnYC = true;
};

std::string shape(std::initializer_list<int64_t> dims) {
  std::string s = "tensor<";
  for (int64_t d : dims)
    s += std::to_string(d) + "x";
  return s + "f64>";
}

/// @forward over X, W, R and the optional operands `l` asks for.
std::string lstm(const Lstm &l) {
  int64_t d = std::string(l.direction) == "bidirectional" ? 2 : 1;
  int64_t t = l.steps, n = l.batch, in = l.input, h = l.hidden;
  std::string x = shape({t, n, in}), w = shape({d, 4 * h, in}),
              r = shape({d, 4 * h, h}), b = shape({d, 8 * h}),
              state = shape({d, n, h}), p = shape({d, 3 * h}),
              y = shape({t, d, n, h});
  std::ostringstream args, operands, types, body;
  args << "%x: " << x << ", %w: " << w << ", %r: " << r;
  operands << "%x, %w, %r";
  types << x << ", " << w << ", " << r;
  if (l.bias) {
    args << ", %b: " << b;
    operands << " bias %b";
    types << ", " << b;
  }
  if (l.zeroInitialState) {
    body << "      %h0 = mlg.constant dense<0.0> : " << state << "\n"
         << "      %c0 = mlg.constant dense<0.0> : " << state << "\n";
  } else {
    if (l.initialH)
      args << ", %h0: " << state;
    if (l.initialC)
      args << ", %c0: " << state;
  }
  if (l.initialH || l.zeroInitialState) {
    operands << " initial_h %h0";
    types << ", " << state;
  }
  if (l.initialC || l.zeroInitialState) {
    operands << " initial_c %c0";
    types << ", " << state;
  }
  if (l.peepholes) {
    args << ", %p: " << p;
    operands << " peepholes %p";
    types << ", " << p;
  }
  std::ostringstream attrs;
  attrs << "{hidden_size = " << h << " : i64, direction = #mlg<direction "
        << l.direction << ">, input_forget = "
        << (l.inputForget ? "true" : "false");
  if (l.clip > 0)
    attrs << ", clip = " << l.clip << " : f64";
  attrs << "}";
  std::vector<std::pair<std::string, std::string>> results;
  if (l.returnY)
    results.push_back({"%y#0", y});
  if (l.returnYH)
    results.push_back({"%y#1", state});
  if (l.returnYC)
    results.push_back({"%y#2", state});
  std::ostringstream out;
  out << "func.func @forward(" << args.str() << ") -> (";
  for (size_t i = 0; i < results.size(); ++i)
    out << (i ? ", " : "") << results[i].second;
  out << ") {\n"
      << body.str() << "      %y:3 = mlg.lstm " << operands.str() << " "
      << attrs.str() << " : (" << types.str() << ") -> (" << y << ", "
      << state << ", " << state << ")\n      return ";
  for (size_t i = 0; i < results.size(); ++i)
    out << (i ? ", " : "") << results[i].first;
  out << " : ";
  for (size_t i = 0; i < results.size(); ++i)
    out << (i ? ", " : "") << results[i].second;
  out << "\n    }";
  return out.str();
}

mlg::test::GradientCheckOptions options() {
  mlg::test::GradientCheckOptions o;
  o.scale = 0.7; // gates neither saturated nor linear
  o.tolerance = 1e-6;
  return o;
}

TEST(RecurrentGradients, LstmForwardEveryOutput) {
  Lstm l;
  EXPECT_GRADIENT(lstm(l), options());
}

TEST(RecurrentGradients, LstmWithInitialStatesAndPeepholes) {
  Lstm l;
  l.initialH = l.initialC = l.peepholes = true;
  EXPECT_GRADIENT(lstm(l), options());
  // One initial state only: the other starts at zero.
  Lstm onlyC;
  onlyC.initialC = true;
  onlyC.bias = false;
  EXPECT_GRADIENT(lstm(onlyC), options());
}

TEST(RecurrentGradients, LstmReverseAndBidirectional) {
  Lstm reverse;
  reverse.direction = "reverse";
  reverse.initialH = true;
  EXPECT_GRADIENT(lstm(reverse), options());
  Lstm both;
  both.direction = "bidirectional";
  both.initialH = both.initialC = both.peepholes = true;
  EXPECT_GRADIENT(lstm(both), options());
}

TEST(RecurrentGradients, LstmZeroInitialStateConstants) {
  // What exporters write for "no initial state": the first cell reads no
  // state, and the gradients still flow through every step.
  Lstm l;
  l.zeroInitialState = true;
  l.direction = "bidirectional";
  EXPECT_GRADIENT(lstm(l), options());
}

TEST(RecurrentGradients, LstmOnlySomeOutputsRead) {
  // Only Y_h: Y is not built, and the last step alone starts the backward.
  Lstm lastH;
  lastH.returnY = lastH.returnYC = false;
  EXPECT_GRADIENT(lstm(lastH), options());
  // Only Y_c: no gradient reaches the last hidden state.
  Lstm lastC;
  lastC.returnY = lastC.returnYH = false;
  lastC.initialH = true;
  EXPECT_GRADIENT(lstm(lastC), options());
}

TEST(RecurrentGradients, LstmOneStepAndLongerSequence) {
  Lstm one;
  one.steps = 1;
  one.initialH = one.initialC = true;
  EXPECT_GRADIENT(lstm(one), options());
  Lstm longer;
  longer.steps = 7;
  longer.batch = 1;
  longer.hidden = 3;
  EXPECT_GRADIENT(lstm(longer), options());
}

TEST(RecurrentGradients, LstmProjectedInBlocks) {
  // projection-steps=2 over 5 steps: blocks of 2, 2 and 1 steps, each
  // projected by its own product; the recurrent weights' gradient is one
  // product per block's stack of gate gradients.
  mlg::test::GradientCheckOptions o = options();
  o.stepOptions = "projection-steps=2";
  Lstm l;
  l.steps = 5;
  EXPECT_GRADIENT(lstm(l), o);
  Lstm both;
  both.steps = 5;
  both.direction = "bidirectional";
  both.initialH = both.initialC = true;
  EXPECT_GRADIENT(lstm(both), o);
  Lstm reverse;
  reverse.steps = 4;
  reverse.direction = "reverse";
  reverse.zeroInitialState = true;
  EXPECT_GRADIENT(lstm(reverse), o);
  // A block of one step is its cell's own product.
  o.stepOptions = "projection-steps=1";
  EXPECT_GRADIENT(lstm(l), o);
}

TEST(RecurrentGradients, LstmInputForgetAndClip) {
  Lstm coupled;
  coupled.inputForget = true;
  coupled.peepholes = true;
  EXPECT_GRADIENT(lstm(coupled), options());
  // Some pre-activations beyond the clip pass no gradient.
  Lstm clipped;
  clipped.clip = 0.9;
  mlg::test::GradientCheckOptions o = options();
  o.scale = 1.0;
  EXPECT_GRADIENT(lstm(clipped), o);
}

} // namespace

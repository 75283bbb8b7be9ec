//===- RecurrentKernelsTest.cpp - the LSTM against the ONNX equations -----===//
//
// The reference is the ONNX LSTM written out one scalar at a time, in
// double: for each direction, time step, batch row and hidden unit, the
// four gates as explicit dot products over X_t and H_{t-1} (gate order i, o,
// f, c), then
//   i = sigmoid(Xi + Hi + Wbi + Rbi + Pi . C_{t-1})
//   f = sigmoid(Xf + Hf + Wbf + Rbf + Pf . C_{t-1})   (1 - i if coupled)
//   c = tanh(Xc + Hc + Wbc + Rbc)
//   C_t = f . C_{t-1} + i . c
//   o = sigmoid(Xo + Ho + Wbo + Rbo + Po . C_t)
//   H_t = o . tanh(C_t)
// with each pre-activation clamped to [-clip, clip] when clip is set.

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <optional>
#include <random>

using namespace mlg_rt;
using namespace mlg_rt::test;

namespace {

struct LstmCase {
  int64_t T, N, I, H;
  std::string direction;
  bool hasB, hasH0, hasC0, hasP, inputForget;
  std::optional<double> clip;
};

struct LstmData {
  std::vector<double> x, w, r, b, h0, c0, p;
};

struct LstmResult {
  std::vector<double> y, yh, yc;
};

int64_t dirsOf(const LstmCase &k) {
  return k.direction == "bidirectional" ? 2 : 1;
}

double sigmoid(double v) { return 1 / (1 + std::exp(-v)); }

LstmResult reference(const LstmCase &k, const LstmData &in) {
  int64_t T = k.T, N = k.N, I = k.I, H = k.H, D = dirsOf(k);
  LstmResult out;
  out.y.assign(T * D * N * H, 0);
  out.yh.assign(D * N * H, 0);
  out.yc.assign(D * N * H, 0);
  auto clip = [&](double v) {
    return k.clip ? std::min(*k.clip, std::max(-*k.clip, v)) : v;
  };
  for (int64_t d = 0; d < D; ++d) {
    bool reverse = k.direction == "reverse" || d == 1;
    std::vector<double> hPrev(N * H, 0), cPrev(N * H, 0);
    for (int64_t e = 0; e < N * H; ++e) {
      if (k.hasH0)
        hPrev[e] = in.h0[d * N * H + e];
      if (k.hasC0)
        cPrev[e] = in.c0[d * N * H + e];
    }
    for (int64_t s = 0; s < T; ++s) {
      int64_t t = reverse ? T - 1 - s : s;
      std::vector<double> hNext(N * H), cNext(N * H);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t h = 0; h < H; ++h) {
          double gate[4];
          for (int g = 0; g < 4; ++g) {
            int64_t row = g * H + h;
            double v = 0;
            for (int64_t i = 0; i < I; ++i)
              v += in.x[(t * N + n) * I + i] * in.w[(d * 4 * H + row) * I + i];
            for (int64_t j = 0; j < H; ++j)
              v += hPrev[n * H + j] * in.r[(d * 4 * H + row) * H + j];
            if (k.hasB)
              v += in.b[d * 8 * H + row] + in.b[d * 8 * H + 4 * H + row];
            gate[g] = v;
          }
          double cp = cPrev[n * H + h];
          double pi = k.hasP ? in.p[d * 3 * H + h] : 0;
          double po = k.hasP ? in.p[d * 3 * H + H + h] : 0;
          double pf = k.hasP ? in.p[d * 3 * H + 2 * H + h] : 0;
          double i = sigmoid(clip(gate[0] + pi * cp));
          double f = k.inputForget ? 1 - i : sigmoid(clip(gate[2] + pf * cp));
          double c = std::tanh(clip(gate[3]));
          double cell = f * cp + i * c;
          double o = sigmoid(clip(gate[1] + po * cell));
          cNext[n * H + h] = cell;
          hNext[n * H + h] = o * std::tanh(cell);
          out.y[((t * D + d) * N + n) * H + h] = hNext[n * H + h];
        }
      hPrev = hNext;
      cPrev = cNext;
    }
    for (int64_t e = 0; e < N * H; ++e) {
      out.yh[d * N * H + e] = hPrev[e];
      out.yc[d * N * H + e] = cPrev[e];
    }
  }
  return out;
}

/// Multiples of 1/64 in [-1, 1]: exact in f16 and bf16.
std::vector<double> randomValues(std::mt19937 &rng, int64_t n) {
  std::vector<double> v(n);
  for (double &x : v)
    x = double(int(rng() % 129) - 64) / 64;
  return v;
}

/// A harness with the case's operands, attributes and results; the
/// workspace is the compiler's size plus `extraWorkspace` bytes.
std::unique_ptr<KernelHarness> makeHarness(const LstmCase &k,
                                           const LstmData &in, DType t,
                                           int64_t extraWorkspace = 0) {
  int64_t D = dirsOf(k), H = k.H;
  auto h = std::make_unique<KernelHarness>("lstm");
  h->input(t, {k.T, k.N, k.I}, in.x);
  h->input(t, {D, 4 * H, k.I}, in.w);
  h->input(t, {D, 4 * H, H}, in.r);
  if (k.hasB)
    h->input(t, {D, 8 * H}, in.b);
  if (k.hasH0)
    h->input(t, {D, k.N, H}, in.h0);
  if (k.hasC0)
    h->input(t, {D, k.N, H}, in.c0);
  if (k.hasP)
    h->input(t, {D, 3 * H}, in.p);
  h->output(t, {k.T, D, k.N, H});
  h->output(t, {D, k.N, H});
  h->output(t, {D, k.N, H});
  h->attrs().set("hidden_size", H);
  h->attrs().set("direction", k.direction);
  h->attrs().set("input_forget", k.inputForget);
  if (k.clip)
    h->attrs().set("clip", *k.clip);
  h->attrs().set(
      "operandSegmentSizes",
      std::vector<int64_t>{1, 1, 1, k.hasB, k.hasH0, k.hasC0, k.hasP});
  h->workspace(uint64_t(D * k.N * 4 * H * dtypeBytes(t) + extraWorkspace));
  return h;
}

LstmData randomData(std::mt19937 &rng, const LstmCase &k) {
  int64_t D = dirsOf(k), H = k.H;
  LstmData in;
  in.x = randomValues(rng, k.T * k.N * k.I);
  in.w = randomValues(rng, D * 4 * H * k.I);
  in.r = randomValues(rng, D * 4 * H * H);
  in.b = randomValues(rng, D * 8 * H);
  in.h0 = randomValues(rng, D * k.N * H);
  in.c0 = randomValues(rng, D * k.N * H);
  in.p = randomValues(rng, D * 3 * H);
  return in;
}

void runCase(const LstmCase &k, DType t, bool naive, uint32_t seed,
             int64_t extraWorkspace = 0) {
  std::mt19937 rng(seed);
  LstmData in = randomData(rng, k);
  LstmResult want = reference(k, in);
  auto h = makeHarness(k, in, t, extraWorkspace);
  h->options().naiveGemm = naive;
  int64_t D = dirsOf(k);
  // Poison the results: every element must be written.
  std::memset(h->outputData(0), 0xff, k.T * D * k.N * k.H * dtypeBytes(t));
  std::memset(h->outputData(1), 0xff, D * k.N * k.H * dtypeBytes(t));
  std::memset(h->outputData(2), 0xff, D * k.N * k.H * dtypeBytes(t));
  std::string what =
      k.direction + " T" + std::to_string(k.T) + " N" + std::to_string(k.N) +
      " I" + std::to_string(k.I) + " H" + std::to_string(k.H) +
      (k.hasB ? " B" : "") + (k.hasH0 ? " h0" : "") + (k.hasC0 ? " c0" : "") +
      (k.hasP ? " P" : "") + (k.inputForget ? " coupled" : "") +
      (k.clip ? " clip" : "") + " " + dtypeName(t) + (naive ? " naive" : "");
  Status s = h->run();
  ASSERT_TRUE(s.ok()) << what << ": " << s.message();
  double tol = t == DType::F64   ? 1e-12
               : t == DType::F32 ? 1e-5
               : t == DType::F16 ? 2e-3
                                 : 1e-2;
  const std::vector<double> *wants[] = {&want.y, &want.yh, &want.yc};
  for (size_t o = 0; o < 3; ++o) {
    std::vector<double> got = h->outputAs<double>(o);
    ASSERT_EQ(got.size(), wants[o]->size()) << what;
    for (size_t e = 0; e < got.size(); ++e)
      ASSERT_NEAR(got[e], (*wants[o])[e], tol * (1 + std::fabs((*wants[o])[e])))
          << what << " output " << o << " element " << e;
  }
}

TEST(RecurrentKernels, LstmAgainstEquations) {
  uint32_t seed = 1;
  for (const char *dir : {"forward", "reverse", "bidirectional"})
    for (int options = 0; options < 16; ++options) {
      LstmCase k{3 + options % 3,
                 1 + options % 2,
                 2 + options % 4,
                 1 + (options * 7) % 5,
                 dir,
                 bool(options & 1),
                 bool(options & 2),
                 bool(options & 4),
                 bool(options & 8),
                 false,
                 std::nullopt};
      for (DType t : {DType::F32, DType::F64})
        for (bool naive : {false, true})
          runCase(k, t, naive, seed++);
    }
}

TEST(RecurrentKernels, LstmClipAndCoupledGates) {
  uint32_t seed = 100;
  for (const char *dir : {"forward", "reverse", "bidirectional"})
    for (bool coupled : {false, true})
      for (std::optional<double> clip :
           {std::optional<double>(), std::optional<double>(0.3),
            std::optional<double>(0.0)}) {
        LstmCase k{4, 3, 5, 4, dir, true, true, true, true, coupled, clip};
        runCase(k, DType::F32, false, seed++);
        runCase(k, DType::F64, true, seed++);
      }
}

TEST(RecurrentKernels, LstmLargerThroughBlas) {
  // Shapes where BLAS takes the real path (and rows of several gates).
  LstmCase k{6,    5,    37,   24,    "bidirectional", true,
             true, true, true, false, std::nullopt};
  runCase(k, DType::F32, false, 7);
  runCase(k, DType::F64, false, 8);
}

TEST(RecurrentKernels, LstmChunksOfStepsInALargerWorkspace) {
  // A workspace larger than the compiler's holds several steps' input
  // projections: chunks of 1 to T steps (and a ragged last chunk), both
  // directions.
  uint32_t seed = 200;
  for (const char *dir : {"forward", "reverse", "bidirectional"})
    for (int64_t steps : {1, 2, 3, 5, 7, 9})
      for (DType t : {DType::F32, DType::F16}) {
        LstmCase k{7, 3, 4, 2, dir, true, true, true, true, false, 0.9};
        int64_t step = k.N * 4 * k.H * dtypeBytes(t);
        int64_t D = dirsOf(k);
        // `steps` steps' gates, and a few bytes that do not make another.
        int64_t extra = std::max<int64_t>(steps - D, 0) * step + 3;
        runCase(k, t, false, seed++, extra);
      }
}

TEST(RecurrentKernels, LstmHalfThroughFloat) {
  LstmCase k{3, 2, 4, 3, "bidirectional", true, true, true, true, false, 0.5};
  runCase(k, DType::F16, false, 9);
  runCase(k, DType::BF16, false, 10);
}

TEST(RecurrentKernels, LstmEmptySequenceKeepsInitialState) {
  LstmCase k{0,    2,    3,     2,     "bidirectional", true,
             true, true, false, false, std::nullopt};
  runCase(k, DType::F32, false, 11);
  k.hasH0 = k.hasC0 = false;
  runCase(k, DType::F32, false, 12);
}

TEST(RecurrentKernels, LstmCheckRejects) {
  std::mt19937 rng(3);
  LstmCase base{3,    2,    4,    5,     "bidirectional", true,
                true, true, true, false, std::nullopt};
  LstmData in = randomData(rng, base);
  EXPECT_TRUE(makeHarness(base, in, DType::F32)->check().ok());
  // One byte short of the compiler's workspace.
  EXPECT_FALSE(makeHarness(base, in, DType::F32, -1)->check().ok());
  {
    auto h = makeHarness(base, in, DType::F32);
    h->workspace(0);
    EXPECT_FALSE(h->check().ok());
  }
  // Attributes.
  {
    auto h = makeHarness(base, in, DType::F32);
    h->attrs().set("hidden_size", int64_t(4));
    EXPECT_FALSE(h->check().ok());
    h->attrs().set("hidden_size", int64_t(0));
    EXPECT_FALSE(h->check().ok());
  }
  {
    auto h = makeHarness(base, in, DType::F32);
    h->attrs().set("direction", std::string("forward"));
    EXPECT_FALSE(h->check().ok()); // shapes say two directions
    h->attrs().set("direction", std::string("sideways"));
    EXPECT_FALSE(h->check().ok());
  }
  {
    auto h = makeHarness(base, in, DType::F32);
    h->attrs().set("clip", -1.0);
    EXPECT_FALSE(h->check().ok());
    h->attrs().set("clip", NAN);
    EXPECT_FALSE(h->check().ok());
    h->attrs().set("clip", 2.0);
    EXPECT_TRUE(h->check().ok());
  }
  {
    auto h = makeHarness(base, in, DType::F32);
    // Segments that do not add up to the operands, or are not 0/1.
    h->attrs().set("operandSegmentSizes",
                   std::vector<int64_t>{1, 1, 1, 1, 1, 1, 0});
    EXPECT_FALSE(h->check().ok());
    h->attrs().set("operandSegmentSizes",
                   std::vector<int64_t>{1, 1, 1, 2, 1, 1, 0});
    EXPECT_FALSE(h->check().ok());
    h->attrs().set("operandSegmentSizes",
                   std::vector<int64_t>{1, 1, 1, 1, 1, 1});
    EXPECT_FALSE(h->check().ok());
  }
  {
    // Segments that add up but name the wrong operands: P where B is.
    LstmCase k = base;
    k.hasP = false;
    auto h = makeHarness(k, in, DType::F32);
    h->attrs().set("operandSegmentSizes",
                   std::vector<int64_t>{1, 1, 1, 0, 1, 1, 1});
    EXPECT_FALSE(h->check().ok());
  }
  {
    auto h = makeHarness(base, in, DType::F32);
    h->attrs() = Attributes();
    EXPECT_FALSE(h->check().ok());
  }
  // Shapes: each operand and result off by one somewhere.
  struct Bad {
    int operand; // input index, or 100 + result index
    std::vector<int64_t> shape;
  };
  const Bad bads[] = {
      {0, {3, 2, 4, 1}}, {1, {2, 20, 5}},     {2, {2, 20, 4}},
      {3, {2, 39}},      {4, {2, 3, 5}},      {5, {1, 2, 5}},
      {6, {2, 16}},      {100, {3, 2, 2, 4}}, {100, {2, 2, 2, 5}},
      {101, {2, 2, 4}},  {102, {1, 2, 5}},
  };
  for (const Bad &bad : bads) {
    int64_t D = 2, N = 2, H = 5, I = 4, T = 3;
    std::vector<std::vector<int64_t>> ins = {
        {T, N, I}, {D, 4 * H, I}, {D, 4 * H, H}, {D, 8 * H},
        {D, N, H}, {D, N, H},     {D, 3 * H}};
    std::vector<std::vector<int64_t>> outs = {
        {T, D, N, H}, {D, N, H}, {D, N, H}};
    if (bad.operand < 100)
      ins[bad.operand] = bad.shape;
    else
      outs[bad.operand - 100] = bad.shape;
    KernelHarness h("lstm");
    for (auto &s : ins)
      h.input<double>(DType::F32, s, {});
    for (auto &s : outs)
      h.output(DType::F32, s);
    h.attrs().set("hidden_size", H);
    h.attrs().set("direction", std::string("bidirectional"));
    h.attrs().set("input_forget", false);
    h.attrs().set("operandSegmentSizes",
                  std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1});
    h.workspace(uint64_t(D * N * 4 * H * 4));
    EXPECT_FALSE(h.check().ok()) << "operand " << bad.operand;
  }
  // Mixed element types, and integers.
  auto withTypes = [](DType x, DType w, DType r) {
    KernelHarness h("lstm");
    h.input<double>(x, {3, 2, 4}, {});
    h.input<double>(w, {1, 8, 4}, {});
    h.input<double>(r, {1, 8, 2}, {});
    h.output(x, {3, 1, 2, 2});
    h.output(x, {1, 2, 2});
    h.output(x, {1, 2, 2});
    h.attrs().set("hidden_size", int64_t(2));
    h.attrs().set("direction", std::string("forward"));
    h.attrs().set("input_forget", false);
    h.attrs().set("operandSegmentSizes",
                  std::vector<int64_t>{1, 1, 1, 0, 0, 0, 0});
    h.workspace(1 << 10);
    return h.check();
  };
  EXPECT_TRUE(withTypes(DType::F32, DType::F32, DType::F32).ok());
  EXPECT_FALSE(withTypes(DType::F32, DType::F64, DType::F32).ok());
  EXPECT_FALSE(withTypes(DType::I32, DType::I32, DType::I32).ok());
}

} // namespace

namespace {

/// A projected cell (x W^T given, see mlg.lstm_cell) computes what the
/// plain cell computes from x, and its backward's dx is the plain one's
/// pre-activation gradient: dx_plain = dx_projected W, every other gradient
/// the same.
TEST(RecurrentKernels, LstmCellProjectedMatchesPlain) {
  const int64_t N = 3, I = 5, H = 4, G = 4 * H;
  auto values = [](int64_t n, uint32_t seed) {
    return uniformValues(n, seed);
  };
  auto x = values(N * I, 1), h0 = values(N * H, 2), c0 = values(N * H, 3),
       w = values(G * I, 4), r = values(G * H, 5), b = values(2 * G, 6),
       p = values(3 * H, 7), dh = values(N * H, 8), dc = values(N * H, 9);
  std::vector<double> xw(size_t(N * G), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t g = 0; g < G; ++g)
      for (int64_t i = 0; i < I; ++i)
        xw[n * G + g] += x[n * I + i] * w[g * I + i];
  const DType t = DType::F64;
  auto cell = [&](bool projected) {
    KernelHarness k("lstm_cell");
    k.input(t, {N, projected ? G : I}, projected ? xw : x);
    k.input(t, {N, H}, h0);
    k.input(t, {N, H}, c0);
    k.input(t, {G, I}, w);
    k.input(t, {G, H}, r);
    k.input(t, {2 * G}, b);
    k.input(t, {3 * H}, p);
    k.output(t, {N, H});
    k.output(t, {N, H});
    k.output(t, {N, G});
    k.attrs().set("operandSegmentSizes",
                  std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1});
    k.attrs().set("input_forget", false);
    if (projected)
      k.attrs().set("projected", true);
    Status s = k.run();
    EXPECT_TRUE(s.ok()) << s.message();
    return std::vector<std::vector<double>>{
        k.outputAs<double>(0), k.outputAs<double>(1), k.outputAs<double>(2)};
  };
  auto plain = cell(false), projected = cell(true);
  for (size_t o = 0; o < 3; ++o)
    for (size_t e = 0; e < plain[o].size(); ++e)
      ASSERT_NEAR(plain[o][e], projected[o][e], 1e-12) << "result " << o;

  auto backward = [&](bool proj) {
    KernelHarness k("lstm_cell_backward");
    k.input(t, {N, H}, dh);
    k.input(t, {N, H}, dc);
    if (!proj)
      k.input(t, {N, I}, x);
    k.input(t, {N, H}, h0);
    k.input(t, {N, H}, c0);
    k.input(t, {N, H}, plain[1]);
    k.input(t, {N, G}, plain[2]);
    k.input(t, {G, I}, w);
    k.input(t, {G, H}, r);
    k.input(t, {3 * H}, p);
    k.output(t, {N, proj ? G : I}); // dx
    k.output(t, {N, H});             // dh_prev
    k.output(t, {N, H});             // dc_prev
    if (!proj)
      k.output(t, {G, I}); // dW
    k.output(t, {G, H});   // dR
    k.output(t, {2 * G});  // dB
    k.output(t, {3 * H});  // dP
    k.attrs().set("operandSegmentSizes",
                  std::vector<int64_t>{1, 1, proj ? 0 : 1, 1, 1, 1, 1, 1, 1, 1,
                                       0, 0, 0});
    k.attrs().set("resultSegmentSizes",
                  std::vector<int64_t>{1, 1, 1, proj ? 0 : 1, 1, 1, 1});
    k.attrs().set("input_forget", false);
    if (proj)
      k.attrs().set("projected", true);
    else
      k.workspace(uint64_t(N * G * 8));
    Status s = k.run();
    EXPECT_TRUE(s.ok()) << s.message();
    std::vector<std::vector<double>> out;
    for (size_t o = 0; o < (proj ? 6u : 7u); ++o)
      out.push_back(k.outputAs<double>(o));
    return out;
  };
  auto bp = backward(false), bq = backward(true);
  ASSERT_EQ(bp.size(), 7u);
  ASSERT_EQ(bq.size(), 6u);
  // dx = dZ W.
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < I; ++i) {
      double dx = 0;
      for (int64_t g = 0; g < G; ++g)
        dx += bq[0][n * G + g] * w[g * I + i];
      ASSERT_NEAR(bp[0][n * I + i], dx, 1e-12) << "dx " << n << ", " << i;
    }
  // dh_prev, dc_prev, then dR, dB, dP (the plain one's dW left out).
  const std::pair<int, int> same[] = {{1, 1}, {2, 2}, {4, 3}, {5, 4}, {6, 5}};
  for (auto [a, q] : same)
    for (size_t e = 0; e < bp[a].size(); ++e)
      ASSERT_NEAR(bp[a][e], bq[q][e], 1e-12) << "result " << a;
}

} // namespace

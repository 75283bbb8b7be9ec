// recurrent.cc - the LSTM kernel.
//
// ONNX LSTM (opset 14) with the default activations (sigmoid, tanh, tanh),
// sequence-major. Directions run one after the other. For each time step
// the gates' pre-activations [N, 4H] are built in the step's workspace: the
// summed biases, plus X_t W^T, plus H_{t-1} R^T, by gemm(). A pass over them
// applies the peepholes, the clip and the activations, updates the cell
// state (kept in Y_c) and writes the hidden state into Y, where the next
// step reads it.
//
// The compiler's workspace holds D steps' gates (D * N * 4H elements); the
// kernel fills it with as many steps' input projections X_t W^T as fit, in
// one gemm(). With small batches that matters: each product packs all of W,
// so a chunk of steps reads W once instead of once per step. A workspace of
// T * N * 4H elements does the whole sequence's input projection at once.
//
// Gate order in W, R and B is i, o, f, c; in P it is i, o, f. f16 and bf16
// run the float kernel on converted copies (their workspace, sized for the
// 16-bit gates, is too small for float ones).

#include "common.h"
#include "gemm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

namespace mlg_rt::cpu {
namespace {

/// Inputs after X, W, R, in operandSegmentSizes order.
enum Optional { kB, kInitialH, kInitialC, kP, kNumOptional };

struct LstmConfig {
  int64_t T = 0, N = 0, I = 0, H = 0, D = 1;
  bool reverse = false; // direction "reverse" (bidirectional: d = 1 is)
  bool inputForget = false;
  std::optional<double> clip;
  /// Index into the inputs of each optional operand, or -1.
  int index[kNumOptional] = {-1, -1, -1, -1};
};

/// Reads and validates the attributes and the operand layout; also what
/// run() re-reads, so the two cannot disagree.
Status readConfig(const KernelCall &c, LstmConfig *k) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(3, 7, 3));
  auto segments = c.attrs().getInts("operandSegmentSizes");
  if (!segments || segments->size() != 3 + kNumOptional)
    return c.error("needs operandSegmentSizes of 7 entries");
  size_t next = 3;
  for (size_t s = 0; s < segments->size(); ++s) {
    int64_t v = (*segments)[s];
    if (s < 3 ? v != 1 : (v != 0 && v != 1))
      return c.error("operandSegmentSizes entry ", s, " is ", v);
    if (s >= 3 && v == 1)
      k->index[s - 3] = int(next++);
  }
  if (next != c.in.size())
    return c.error("operandSegmentSizes names ", next, " operands, got ",
                   c.in.size());

  auto hidden = c.attrs().getInt("hidden_size");
  auto direction = c.attrs().getString("direction");
  auto inputForget = c.attrs().getBool("input_forget");
  if (!hidden || !direction || !inputForget)
    return c.error("needs the hidden_size, direction and input_forget "
                   "attributes");
  // 8H (the bias) must not overflow.
  if (*hidden <= 0 || *hidden > std::numeric_limits<int64_t>::max() / 8)
    return c.error("hidden_size ", *hidden, " is out of range");
  k->H = *hidden;
  if (*direction == "forward")
    k->D = 1;
  else if (*direction == "reverse")
    k->D = 1, k->reverse = true;
  else if (*direction == "bidirectional")
    k->D = 2;
  else
    return c.error("unknown direction '", *direction, "'");
  k->inputForget = *inputForget;
  if (c.attrs().has("clip")) {
    k->clip = c.attrs().getFloat("clip");
    if (!k->clip || !(*k->clip >= 0))
      return c.error("clip must be a non-negative number");
  }
  const Tensor &x = c.in[0];
  if (x.rank() != 3)
    return c.error("X must be [sequence, batch, input]");
  k->T = x.dim(0);
  k->N = x.dim(1);
  k->I = x.dim(2);
  return Status();
}

Status checkLstm(const KernelCall &c) {
  LstmConfig k;
  MLG_RT_RETURN_IF_ERROR(readConfig(c, &k));
  DType t = c.in[0].dtype;
  if (!isFloat(t))
    return c.error("unsupported element type ", dtypeName(t));
  for (const std::vector<Tensor> *list : {&c.in, &c.out})
    for (const Tensor &v : *list)
      if (v.dtype != t)
        return c.error("operands and results must have one element type");
  int64_t D = k.D, N = k.N, H = k.H, G = 4 * H;
  auto expect = [&](const Tensor &v, const char *name,
                    std::vector<int64_t> shape) -> Status {
    if (*v.shape != shape)
      return c.error(name, " has the wrong shape");
    return Status();
  };
  MLG_RT_RETURN_IF_ERROR(expect(c.in[1], "W", {D, G, k.I}));
  MLG_RT_RETURN_IF_ERROR(expect(c.in[2], "R", {D, G, H}));
  static const char *names[] = {"B", "initial_h", "initial_c", "P"};
  std::vector<int64_t> shapes[] = {
      {D, 8 * H}, {D, N, H}, {D, N, H}, {D, 3 * H}};
  for (int o = 0; o < kNumOptional; ++o)
    if (k.index[o] >= 0)
      MLG_RT_RETURN_IF_ERROR(expect(c.in[k.index[o]], names[o], shapes[o]));
  MLG_RT_RETURN_IF_ERROR(expect(c.out[0], "Y", {k.T, D, N, H}));
  MLG_RT_RETURN_IF_ERROR(expect(c.out[1], "Y_h", {D, N, H}));
  MLG_RT_RETURN_IF_ERROR(expect(c.out[2], "Y_c", {D, N, H}));
  // The compiler's workspace: the gates of one step, D * N * 4H elements.
  // N and H come from arbitrary shapes (Y may be empty), so check overflow.
  int64_t need;
  if (__builtin_mul_overflow(D, N, &need) ||
      __builtin_mul_overflow(need, G, &need) ||
      __builtin_mul_overflow(need, dtypeBytes(t), &need))
    return c.error("the workspace size overflows");
  if (c.workspaceBytes < uint64_t(need))
    return c.error("needs a workspace of ", need, " bytes, got ",
                   c.workspaceBytes);
  return Status();
}

template <typename C> C sigmoid(C x) { return C(1) / (C(1) + std::exp(-x)); }

struct LstmData {
  const void *x, *w, *r, *b, *h0, *c0, *p;
  void *y, *yh, *yc, *gates;
  int64_t gateElems; // how many elements `gates` holds
};

template <typename C>
void lstm(const LstmConfig &k, const LstmData &io, bool naive) {
  const C *x = static_cast<const C *>(io.x), *w = static_cast<const C *>(io.w),
          *r = static_cast<const C *>(io.r), *b = static_cast<const C *>(io.b),
          *h0 = static_cast<const C *>(io.h0),
          *c0 = static_cast<const C *>(io.c0),
          *p = static_cast<const C *>(io.p);
  C *y = static_cast<C *>(io.y), *yh = static_cast<C *>(io.yh),
    *yc = static_cast<C *>(io.yc), *gates = static_cast<C *>(io.gates);
  const int64_t T = k.T, N = k.N, I = k.I, H = k.H, D = k.D, G = 4 * H;
  C lo = -std::numeric_limits<C>::infinity(), hi = -lo;
  if (k.clip)
    lo = C(-*k.clip), hi = C(*k.clip);
  auto clip = [&](C v) { return v < lo ? lo : (v > hi ? hi : v); };
  // Steps per chunk: as many steps' gates as the workspace holds (at least
  // one, and D with the compiler's size, since directions run one after
  // the other and each may use all of it).
  int64_t chunk = N * G == 0 ? 1 : std::max<int64_t>(1, io.gateElems / (N * G));
  chunk = std::min(chunk, std::max<int64_t>(T, 1));
  std::vector<C> bias(G);
  for (int64_t d = 0; d < D; ++d) {
    bool reverse = k.reverse || d == 1;
    const C *wd = w + d * G * I, *rd = r + d * G * H;
    const C *pi = p ? p + d * 3 * H : nullptr, *po = pi ? pi + H : nullptr,
            *pf = pi ? pi + 2 * H : nullptr;
    C *cd = yc + d * N * H;
    for (int64_t j = 0; j < G; ++j)
      bias[j] = b ? b[d * 2 * G + j] + b[d * 2 * G + G + j] : C(0);
    if (c0)
      std::copy(c0 + d * N * H, c0 + (d + 1) * N * H, cd);
    else
      std::fill(cd, cd + N * H, C(0));
    const C *hprev = h0 ? h0 + d * N * H : nullptr; // null: zeros
    for (int64_t s0 = 0; s0 < T; s0 += chunk) {
      // The chunk's steps cover times [low, low + count) in either order:
      // their input projections are one product over consecutive rows of X
      // (each step's gates at gates + (t - low) * N * G), so W is read once
      // per chunk rather than once per step.
      int64_t count = std::min(chunk, T - s0);
      int64_t low = reverse ? T - s0 - count : s0;
      for (int64_t row = 0; row < count * N; ++row)
        std::copy(bias.begin(), bias.end(), gates + row * G);
      gemm(false, true, count * N, G, I, C(1), x + low * N * I, I, wd, I, C(1),
           gates, G, naive);
      for (int64_t s = s0; s < s0 + count; ++s) {
        int64_t t = reverse ? T - 1 - s : s;
        C *gd = gates + (t - low) * N * G;
        if (hprev)
          gemm(false, true, N, G, H, C(1), hprev, H, rd, H, C(1), gd, G, naive);
        C *hd = y + (t * D + d) * N * H;
        for (int64_t n = 0; n < N; ++n) {
          const C *gi = gd + n * G, *go = gi + H, *gf = gi + 2 * H,
                  *gc = gi + 3 * H;
          C *cn = cd + n * H, *hn = hd + n * H;
          for (int64_t j = 0; j < H; ++j) {
            C prev = cn[j];
            C i = sigmoid(clip(gi[j] + (pi ? pi[j] * prev : C(0))));
            C f = k.inputForget
                      ? C(1) - i
                      : sigmoid(clip(gf[j] + (pf ? pf[j] * prev : C(0))));
            C g = std::tanh(clip(gc[j]));
            C cell = f * prev + i * g;
            C o = sigmoid(clip(go[j] + (po ? po[j] * cell : C(0))));
            cn[j] = cell;
            hn[j] = o * std::tanh(cell);
          }
        }
        hprev = hd;
      }
    }
    C *hout = yh + d * N * H;
    if (hprev)
      std::copy(hprev, hprev + N * H, hout);
    else
      std::fill(hout, hout + N * H, C(0));
  }
}

Status runLstm(KernelCall &c) {
  LstmConfig k;
  MLG_RT_RETURN_IF_ERROR(readConfig(c, &k));
  auto opt = [&](int o) -> const Tensor * {
    return k.index[o] >= 0 ? &c.in[k.index[o]] : nullptr;
  };
  bool naive = c.options && c.options->naiveGemm;
  return dispatchFloat(c.in[0].dtype, [&]<typename T>() {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      auto data = [&](int o) -> const void * {
        return opt(o) ? opt(o)->data : nullptr;
      };
      // The workspace is check()ed to hold at least D steps' gates.
      int64_t elems = int64_t(std::min<uint64_t>(
          c.workspaceBytes / sizeof(T), std::numeric_limits<int64_t>::max()));
      LstmData io{c.in[0].data,    c.in[1].data,    c.in[2].data, data(kB),
                  data(kInitialH), data(kInitialC), data(kP),     c.out[0].data,
                  c.out[1].data,   c.out[2].data,   c.workspace,  elems};
      lstm<T>(k, io, naive);
    } else {
      // Float copies of everything; gates of float size.
      auto widen = [](const Tensor *v) {
        std::vector<float> f(v ? v->numel : 0);
        for (size_t i = 0; i < f.size(); ++i)
          f[i] = Elem<T>::load(v->as<T>()[i]);
        return f;
      };
      std::vector<float> in[7] = {widen(&c.in[0]),       widen(&c.in[1]),
                                  widen(&c.in[2]),       widen(opt(kB)),
                                  widen(opt(kInitialH)), widen(opt(kInitialC)),
                                  widen(opt(kP))};
      std::vector<float> out[3] = {std::vector<float>(c.out[0].numel),
                                   std::vector<float>(c.out[1].numel),
                                   std::vector<float>(c.out[2].numel)};
      // As many steps' float gates as the workspace holds 16-bit ones (at
      // most the whole sequence).
      int64_t step = k.N * 4 * k.H;
      uint64_t fits = step == 0 ? 1 : c.workspaceBytes / sizeof(T) / step;
      int64_t steps = int64_t(
          std::min<uint64_t>(fits, uint64_t(std::max<int64_t>(k.T, 1))));
      std::vector<float> gates(size_t(std::max<int64_t>(steps, k.D) * step));
      auto ptr = [&](int o) -> const void * {
        return opt(o) ? in[3 + o].data() : nullptr;
      };
      LstmData io{in[0].data(),  in[1].data(),   in[2].data(),
                  ptr(kB),       ptr(kInitialH), ptr(kInitialC),
                  ptr(kP),       out[0].data(),  out[1].data(),
                  out[2].data(), gates.data(),   int64_t(gates.size())};
      lstm<float>(k, io, naive);
      for (int o = 0; o < 3; ++o)
        for (size_t i = 0; i < out[o].size(); ++i)
          c.out[o].as<T>()[i] = Elem<T>::store(out[o][i]);
    }
    return Status();
  });
}

} // namespace

void registerRecurrentKernels(KernelRegistry &r) {
  r.add({"lstm", checkLstm, runLstm});
}

} // namespace mlg_rt::cpu

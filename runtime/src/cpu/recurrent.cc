// recurrent.cc - the LSTM kernel, and the kernels of its unrolled form.
//
// ONNX LSTM (opset 14) with the default activations (sigmoid, tanh, tanh),
// sequence-major. Directions run one after the other. For each time step
// the gates' pre-activations [N, 4H] are built in the step's workspace: the
// summed biases, plus X_t W^T, plus H_{t-1} R^T, by gemm(). A pass over them
// (lstmRow) applies the peepholes, the clip and the activations, updates the
// cell state (kept in Y_c) and writes the hidden state into Y, where the
// next step reads it.
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
//
// Training unrolls the LSTM (passes/Transforms/UnrollLstm.cpp): lstm_cell is
// one step of one direction, the same products and the same lstmRow, keeping
// the activated gates for lstm_cell_backward. That one computes the
// pre-activations' gradients dZ [N, 4H] in its workspace, row by row
// (lstmRowBackward), then dx = dZ W, dh_prev = dZ R, dW = dZ^T x,
// dR = dZ^T h_prev and dB, dP as sums over the batch (dW, dR and dB added
// to their accumulators where given, possibly in place). stack and unstack
// copy the pieces of a sequence together and apart.

#include "common.h"
#include "gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
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

/// The clamp of every pre-activation: [-clip, clip], or none.
template <typename C> struct Clamp {
  explicit Clamp(std::optional<double> clip) {
    if (clip)
      lo = C(-*clip), hi = C(*clip);
  }
  C operator()(C v) const { return v < lo ? lo : (v > hi ? hi : v); }
  C lo = -std::numeric_limits<C>::infinity(), hi = -lo;
};

/// One batch row of one step: from the pre-activations `pre` [4H] (gates i,
/// o, f, c: the products and the biases, without the peepholes) and the
/// previous cell state (null: zeros), writes the cell and hidden states
/// and, when `act` is given, the activated gates (`act` may be `pre`,
/// `cPrev` may be `cOut`: each element is read before it is written). `p`
/// is the peepholes [3H] (i, o, f) or null. Every LSTM kernel computes a
/// step with this, so the unrolled form computes what mlg.lstm does.
template <typename C>
void lstmRow(int64_t H, const C *pre, const C *cPrev, const C *p,
             bool inputForget, const Clamp<C> &clip, C *cOut, C *hOut,
             C *act) {
  for (int64_t j = 0; j < H; ++j) {
    C prev = cPrev ? cPrev[j] : C(0);
    C i = sigmoid(clip(pre[j] + (p ? p[j] * prev : C(0))));
    C f = inputForget
              ? C(1) - i
              : sigmoid(clip(pre[2 * H + j] + (p ? p[2 * H + j] * prev : C(0))));
    C g = std::tanh(clip(pre[3 * H + j]));
    C cell = f * prev + i * g;
    C o = sigmoid(clip(pre[H + j] + (p ? p[H + j] * cell : C(0))));
    cOut[j] = cell;
    hOut[j] = o * std::tanh(cell);
    if (act) {
      act[j] = i;
      act[H + j] = o;
      act[2 * H + j] = f;
      act[3 * H + j] = g;
    }
  }
}

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
  Clamp<C> clip(k.clip);
  // Steps per chunk: as many steps' gates as the workspace holds (at least
  // one, and D with the compiler's size, since directions run one after
  // the other and each may use all of it).
  int64_t chunk = N * G == 0 ? 1 : std::max<int64_t>(1, io.gateElems / (N * G));
  chunk = std::min(chunk, std::max<int64_t>(T, 1));
  std::vector<C> bias(G);
  for (int64_t d = 0; d < D; ++d) {
    bool reverse = k.reverse || d == 1;
    const C *wd = w + d * G * I, *rd = r + d * G * H;
    const C *pd = p ? p + d * 3 * H : nullptr;
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
        for (int64_t n = 0; n < N; ++n)
          lstmRow(H, gd + n * G, cd + n * H, pd, k.inputForget, clip,
                  cd + n * H, hd + n * H, static_cast<C *>(nullptr));
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


//===----------------------------------------------------------------------===//
// lstm_cell and lstm_cell_backward
//===----------------------------------------------------------------------===//

/// Which of the values a segment attribute declares are present.
struct Segments {
  std::vector<int> index; // among the present values, or -1
  int present = 0;
};

/// Reads the segment attribute `name`: one entry per declared value, 1
/// where `required`, 0 or 1 elsewhere, naming `actual` values in all.
Status readSegments(const KernelCall &c, const char *name,
                    std::initializer_list<bool> required, size_t actual,
                    Segments *out) {
  auto sizes = c.attrs().getInts(name);
  if (!sizes || sizes->size() != required.size())
    return c.error("needs ", name, " of ", required.size(), " entries");
  size_t s = 0;
  for (bool mandatory : required) {
    int64_t v = (*sizes)[s];
    if (mandatory ? v != 1 : (v != 0 && v != 1))
      return c.error(name, " entry ", s, " is ", v);
    out->index.push_back(v ? out->present++ : -1);
    ++s;
  }
  if (size_t(out->present) != actual)
    return c.error(name, " names ", out->present, " values, got ", actual);
  return Status();
}

/// Declared operands and results, in ODS order.
enum CellIn { kCellX, kCellH, kCellC, kCellW, kCellR, kCellB, kCellP };
enum BackIn { kDh, kDc, kBackX, kBackH, kBackC, kBackCell, kGates, kBackW,
              kBackR, kBackP, kAccW, kAccR, kAccB };
enum BackOut { kDx, kDhPrev, kDcPrev, kDW, kDR, kDB, kDP };

struct CellConfig {
  int64_t N = 0, I = 0, H = 0;
  bool inputForget = false;
  /// x is x W^T [N, 4H] (see mlg.lstm_cell); I is then W's.
  bool projected = false;
  std::optional<double> clip;
  Segments in, out;
  const Tensor *input(const KernelCall &c, int s) const {
    return in.index[s] < 0 ? nullptr : &c.in[in.index[s]];
  }
  const Tensor *output(const KernelCall &c, int s) const {
    return out.index[s] < 0 ? nullptr : &c.out[out.index[s]];
  }
};

/// What both cell kernels share: one float element type, input_forget and
/// clip as the lstm's, x [N, I] and R [4H, H] giving the sizes.
Status readCellCommon(const KernelCall &c, const Tensor &x, const Tensor &r,
                      CellConfig *k) {
  DType t = c.in[0].dtype;
  if (!isFloat(t))
    return c.error("unsupported element type ", dtypeName(t));
  for (const std::vector<Tensor> *list : {&c.in, &c.out})
    for (const Tensor &v : *list)
      if (v.dtype != t)
        return c.error("operands and results must have one element type");
  auto inputForget = c.attrs().getBool("input_forget");
  if (!inputForget)
    return c.error("needs the input_forget attribute");
  k->inputForget = *inputForget;
  if (c.attrs().has("clip")) {
    k->clip = c.attrs().getFloat("clip");
    if (!k->clip || !(*k->clip >= 0))
      return c.error("clip must be a non-negative number");
  }
  if (x.rank() != 2)
    return c.error("x must be [batch, input]");
  // 8H (the bias) must not overflow.
  if (r.rank() != 2 || r.dim(1) <= 0 ||
      r.dim(1) > std::numeric_limits<int64_t>::max() / 8 ||
      r.dim(0) != 4 * r.dim(1))
    return c.error("R must be [4H, H] with H > 0");
  k->N = x.dim(0);
  k->I = x.dim(1);
  k->H = r.dim(1);
  k->projected = c.attrs().getBool("projected").value_or(false);
  return Status();
}

/// A projected cell's I is W's [4H, I].
Status readProjectedWidth(const KernelCall &c, const Tensor &w,
                          CellConfig *k) {
  if (!k->projected)
    return Status();
  if (w.rank() != 2)
    return c.error("W must be [4H, I]");
  k->I = w.dim(1);
  return Status();
}

Status expectShape(const KernelCall &c, const Tensor *v, const char *name,
                   const std::vector<int64_t> &shape) {
  if (v && *v->shape != shape)
    return c.error(name, " has the wrong shape");
  return Status();
}

Status readCellConfig(const KernelCall &c, CellConfig *k) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(3, 7, 3));
  MLG_RT_RETURN_IF_ERROR(
      readSegments(c, "operandSegmentSizes",
                   {true, false, false, true, true, false, false}, c.in.size(),
                   &k->in));
  MLG_RT_RETURN_IF_ERROR(readCellCommon(c, *k->input(c, kCellX),
                                        *k->input(c, kCellR), k));
  if (k->projected &&
      *k->input(c, kCellX)->shape != std::vector<int64_t>{k->N, 4 * k->H})
    return c.error("a projected x must be [N, 4H]");
  MLG_RT_RETURN_IF_ERROR(readProjectedWidth(c, *k->input(c, kCellW), k));
  int64_t N = k->N, H = k->H, G = 4 * H;
  struct {
    int operand;
    const char *name;
    std::vector<int64_t> shape;
  } expected[] = {{kCellH, "h_prev", {N, H}}, {kCellC, "c_prev", {N, H}},
                  {kCellW, "W", {G, k->I}},   {kCellB, "B", {2 * G}},
                  {kCellP, "P", {3 * H}}};
  for (const auto &e : expected)
    MLG_RT_RETURN_IF_ERROR(
        expectShape(c, k->input(c, e.operand), e.name, e.shape));
  MLG_RT_RETURN_IF_ERROR(expectShape(c, &c.out[0], "h", {N, H}));
  MLG_RT_RETURN_IF_ERROR(expectShape(c, &c.out[1], "c", {N, H}));
  return expectShape(c, &c.out[2], "gates", {N, G});
}

Status checkLstmCell(const KernelCall &c) {
  CellConfig k;
  return readCellConfig(c, &k);
}

/// Calls `fn(ins, outs)` with every input's and output's data as pointers
/// of the compute type: the tensors themselves for f32 and f64, float
/// copies for f16 and bf16 (the outputs narrowed afterwards).
template <typename T, typename Fn> void withComputeType(KernelCall &c, Fn fn) {
  using C = typename Elem<T>::Compute;
  std::vector<const C *> ins;
  std::vector<C *> outs;
  if constexpr (std::is_same_v<T, C>) {
    for (const Tensor &t : c.in)
      ins.push_back(t.as<const C>());
    for (const Tensor &t : c.out)
      outs.push_back(t.as<C>());
    fn(ins, outs);
  } else {
    std::vector<std::vector<C>> inCopies, outCopies;
    for (const Tensor &t : c.in) {
      std::vector<C> &v = inCopies.emplace_back(t.numel);
      for (int64_t e = 0; e < t.numel; ++e)
        v[e] = Elem<T>::load(t.as<T>()[e]);
      ins.push_back(v.data());
    }
    for (const Tensor &t : c.out)
      outs.push_back(outCopies.emplace_back(t.numel).data());
    fn(ins, outs);
    for (size_t o = 0; o < c.out.size(); ++o)
      for (int64_t e = 0; e < c.out[o].numel; ++e)
        c.out[o].as<T>()[e] = Elem<T>::store(outCopies[o][e]);
  }
}

Status runLstmCell(KernelCall &c) {
  CellConfig k;
  MLG_RT_RETURN_IF_ERROR(readCellConfig(c, &k));
  bool naive = c.options && c.options->naiveGemm;
  return dispatchFloat(c.in[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    withComputeType<T>(c, [&](const std::vector<const C *> &ins,
                              const std::vector<C *> &outs) {
      auto in = [&](int s) {
        return k.in.index[s] < 0 ? nullptr : ins[k.in.index[s]];
      };
      const int64_t N = k.N, I = k.I, H = k.H, G = 4 * H;
      const C *b = in(kCellB), *h = in(kCellH), *cPrev = in(kCellC);
      C *gates = outs[2];
      // The pre-activations in `gates`, as mlg.lstm builds them; lstmRow
      // then overwrites them with the activated gates.
      const C *x = in(kCellX);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t j = 0; j < G; ++j)
          gates[n * G + j] = (b ? b[j] + b[G + j] : C(0)) +
                             (k.projected ? x[n * G + j] : C(0));
      if (!k.projected)
        gemm(false, true, N, G, I, C(1), x, I, in(kCellW), I, C(1), gates, G,
             naive);
      if (h)
        gemm(false, true, N, G, H, C(1), h, H, in(kCellR), H, C(1), gates, G,
             naive);
      Clamp<C> clip(k.clip);
      for (int64_t n = 0; n < N; ++n)
        lstmRow(H, gates + n * G, cPrev ? cPrev + n * H : nullptr, in(kCellP),
                k.inputForget, clip, outs[1] + n * H, outs[0] + n * H,
                gates + n * G);
    });
    return Status();
  });
}

/// The activated gates a clamped pre-activation gives: the gate's value
/// equals one of these exactly where the clip was active (the forward
/// computed it from exactly -clip or clip, with the same functions, and
/// stored it as T). Pre-activations within rounding of the boundary, where
/// the derivative is undefined, count as clamped too. Without a clip
/// nothing is clamped.
template <typename T> struct ClampedGates {
  using C = typename Elem<T>::Compute;
  explicit ClampedGates(std::optional<double> clip) : active(bool(clip)) {
    Clamp<C> clamp(clip);
    auto stored = [](C v) { return Elem<T>::load(Elem<T>::store(v)); };
    sigmoidLo = stored(sigmoid(clamp.lo));
    sigmoidHi = stored(sigmoid(clamp.hi));
    tanhLo = stored(std::tanh(clamp.lo));
    tanhHi = stored(std::tanh(clamp.hi));
  }
  /// 0 where the sigmoid gate `v` was clamped, else 1.
  C sigmoidPasses(C v) const {
    return active && (v == sigmoidLo || v == sigmoidHi) ? C(0) : C(1);
  }
  C tanhPasses(C v) const {
    return active && (v == tanhLo || v == tanhHi) ? C(0) : C(1);
  }
  bool active;
  C sigmoidLo, sigmoidHi, tanhLo, tanhHi;
};

/// The backward of lstmRow for one batch row: from the activated gates
/// `act` [4H], the new and previous cell states (`cPrev` null: zeros), the
/// peepholes `p` (or null) and the incoming gradients (null: zeros), writes
/// the pre-activations' gradients `dz` [4H] and, when given, `dcPrev`.
template <typename T, typename C = typename Elem<T>::Compute>
void lstmRowBackward(int64_t H, const C *act, const C *cell, const C *cPrev,
                     const C *p, const C *dh, const C *dc, bool inputForget,
                     const ClampedGates<T> &clamped, C *dz, C *dcPrev) {
  for (int64_t j = 0; j < H; ++j) {
    C i = act[j], o = act[H + j], f = act[2 * H + j], g = act[3 * H + j];
    C prev = cPrev ? cPrev[j] : C(0);
    C dhj = dh ? dh[j] : C(0), tc = std::tanh(cell[j]);
    // h = o tanh(c); o's peephole reads the new c.
    C dzo = dhj * tc * o * (C(1) - o) * clamped.sigmoidPasses(o);
    C dcell = (dc ? dc[j] : C(0)) + dhj * o * (C(1) - tc * tc) +
              (p ? p[H + j] * dzo : C(0));
    // c = f c_prev + i g, with f = 1 - i when coupled.
    C di = dcell * g, df = dcell * prev;
    C dzf = C(0);
    if (inputForget)
      di -= df;
    else
      dzf = df * f * (C(1) - f) * clamped.sigmoidPasses(f);
    C dzi = di * i * (C(1) - i) * clamped.sigmoidPasses(i);
    C dzg = dcell * i * (C(1) - g * g) * clamped.tanhPasses(g);
    dz[j] = dzi;
    dz[H + j] = dzo;
    dz[2 * H + j] = dzf;
    dz[3 * H + j] = dzg;
    if (dcPrev)
      dcPrev[j] = dcell * f + (p ? p[j] * dzi + p[2 * H + j] * dzf : C(0));
  }
}

Status readBackwardConfig(const KernelCall &c, CellConfig *k) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(5, 13, c.out.size()));
  if (c.out.size() < 2 || c.out.size() > 7)
    return c.error("has between 2 and 7 outputs, got ", c.out.size());
  MLG_RT_RETURN_IF_ERROR(readSegments(
      c, "operandSegmentSizes",
      {false, false, false, false, false, true, true, true, true, false, false,
       false, false},
      c.in.size(), &k->in));
  MLG_RT_RETURN_IF_ERROR(
      readSegments(c, "resultSegmentSizes",
                   {true, false, false, false, false, false, false},
                   c.out.size(), &k->out));
  // Projected, there is no x (the cell state gives N) and no dW; else both.
  bool projected = c.attrs().getBool("projected").value_or(false);
  if (projected ? k->input(c, kBackX) || k->output(c, kDW) ||
                      k->input(c, kAccW)
                : !k->input(c, kBackX) || !k->output(c, kDW))
    return c.error(projected ? "a projected cell's backward has no x and no dW"
                             : "needs x and dW");
  MLG_RT_RETURN_IF_ERROR(readCellCommon(
      c, *k->input(c, projected ? kBackCell : kBackX), *k->input(c, kBackR),
      k));
  MLG_RT_RETURN_IF_ERROR(readProjectedWidth(c, *k->input(c, kBackW), k));
  // A gradient exists exactly for what the forward had.
  bool hasH = k->input(c, kBackH), hasC = k->input(c, kBackC),
       hasP = k->input(c, kBackP);
  // Projected, dR may be left to one product over the sequence.
  bool dROk = bool(k->output(c, kDR)) == hasH ||
              (projected && !k->output(c, kDR));
  if (bool(k->output(c, kDhPrev)) != hasH || !dROk ||
      bool(k->output(c, kDcPrev)) != hasC || bool(k->output(c, kDP)) != hasP)
    return c.error("dh_prev and dR need h_prev, dc_prev needs c_prev, dP "
                   "needs P");
  // An accumulator only for a result that exists.
  if ((k->input(c, kAccR) && !k->output(c, kDR)) ||
      (k->input(c, kAccB) && !k->output(c, kDB)))
    return c.error("accumulate_r needs dR, accumulate_b needs dB");
  int64_t N = k->N, I = k->I, H = k->H, G = 4 * H;
  std::vector<int64_t> state = {N, H};
  const std::pair<int, const char *> states[] = {{kDh, "dh"},
                                                 {kDc, "dc"},
                                                 {kBackH, "h_prev"},
                                                 {kBackC, "c_prev"},
                                                 {kBackCell, "c"}};
  for (auto [s, name] : states)
    MLG_RT_RETURN_IF_ERROR(expectShape(c, k->input(c, s), name, state));
  MLG_RT_RETURN_IF_ERROR(
      expectShape(c, k->input(c, kGates), "gates", {N, G}));
  MLG_RT_RETURN_IF_ERROR(expectShape(c, k->input(c, kBackW), "W", {G, I}));
  MLG_RT_RETURN_IF_ERROR(expectShape(c, k->input(c, kBackP), "P", {3 * H}));
  MLG_RT_RETURN_IF_ERROR(
      expectShape(c, k->output(c, kDx), "dx", {N, k->projected ? G : I}));
  MLG_RT_RETURN_IF_ERROR(
      expectShape(c, k->output(c, kDhPrev), "dh_prev", state));
  MLG_RT_RETURN_IF_ERROR(
      expectShape(c, k->output(c, kDcPrev), "dc_prev", state));
  MLG_RT_RETURN_IF_ERROR(expectShape(c, k->output(c, kDW), "dW", {G, I}));
  MLG_RT_RETURN_IF_ERROR(expectShape(c, k->output(c, kDR), "dR", {G, H}));
  MLG_RT_RETURN_IF_ERROR(expectShape(c, k->output(c, kDB), "dB", {2 * G}));
  MLG_RT_RETURN_IF_ERROR(
      expectShape(c, k->input(c, kAccW), "accumulate_w", {G, I}));
  MLG_RT_RETURN_IF_ERROR(
      expectShape(c, k->input(c, kAccR), "accumulate_r", {G, H}));
  MLG_RT_RETURN_IF_ERROR(
      expectShape(c, k->input(c, kAccB), "accumulate_b", {2 * G}));
  return expectShape(c, k->output(c, kDP), "dP", {3 * H});
}

Status checkLstmCellBackward(const KernelCall &c) {
  CellConfig k;
  MLG_RT_RETURN_IF_ERROR(readBackwardConfig(c, &k));
  // The compiler's workspace: dZ, N * 4H elements (f16 and bf16 use float
  // copies instead; projected, dZ is dx).
  if (k.projected)
    return Status();
  int64_t need;
  if (__builtin_mul_overflow(k.N, 4 * k.H, &need) ||
      __builtin_mul_overflow(need, dtypeBytes(c.in[0].dtype), &need))
    return c.error("the workspace size overflows");
  if (c.workspaceBytes < uint64_t(need))
    return c.error("needs a workspace of ", need, " bytes, got ",
                   c.workspaceBytes);
  return Status();
}

Status runLstmCellBackward(KernelCall &c) {
  CellConfig k;
  MLG_RT_RETURN_IF_ERROR(readBackwardConfig(c, &k));
  bool naive = c.options && c.options->naiveGemm;
  return dispatchFloat(c.in[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    withComputeType<T>(c, [&](const std::vector<const C *> &ins,
                              const std::vector<C *> &outs) {
      auto in = [&](int s) {
        return k.in.index[s] < 0 ? nullptr : ins[k.in.index[s]];
      };
      auto out = [&](int s) {
        return k.out.index[s] < 0 ? nullptr : outs[k.out.index[s]];
      };
      const int64_t N = k.N, I = k.I, H = k.H, G = 4 * H;
      std::vector<C> own;
      C *dz = reinterpret_cast<C *>(c.workspace);
      if constexpr (!std::is_same_v<T, C>) {
        own.resize(size_t(N * G));
        dz = own.data();
      }
      if (k.projected)
        dz = out(kDx);
      const C *dh = in(kDh), *dc = in(kDc), *hPrev = in(kBackH),
              *cPrev = in(kBackC), *cell = in(kBackCell), *p = in(kBackP);
      C *dcPrev = out(kDcPrev);
      ClampedGates<T> clamped(k.clip);
      for (int64_t n = 0; n < N; ++n) {
        auto row = [&](const C *v) { return v ? v + n * H : nullptr; };
        lstmRowBackward<T>(H, in(kGates) + n * G, cell + n * H, row(cPrev), p,
                           row(dh), row(dc), k.inputForget, clamped,
                           dz + n * G, dcPrev ? dcPrev + n * H : nullptr);
      }
      if (!k.projected)
        gemm(false, false, N, I, G, C(1), dz, G, in(kBackW), I, C(0),
             out(kDx), I, naive);
      // With an accumulator, the weight gradients are its sum plus this
      // step's: the product adds into a copy (or, in place, into it).
      auto accumulated = [&](int acc, C *result, int64_t numel) {
        const C *from = in(acc);
        if (from && from != result)
          std::copy(from, from + numel, result);
        return from ? C(1) : C(0);
      };
      if (!k.projected) {
        C betaW = accumulated(kAccW, out(kDW), G * I);
        gemm(true, false, G, I, N, C(1), dz, G, in(kBackX), I, betaW,
             out(kDW), I, naive);
      }
      if (hPrev) {
        gemm(false, false, N, H, G, C(1), dz, G, in(kBackR), H, C(0),
             out(kDhPrev), H, naive);
        if (out(kDR)) {
          C betaR = accumulated(kAccR, out(kDR), G * H);
          gemm(true, false, G, H, N, C(1), dz, G, hPrev, H, betaR, out(kDR),
               H, naive);
        }
      }
      // B holds W's and R's biases, which act alike.
      if (C *db = out(kDB)) {
        const C *acc = in(kAccB);
        for (int64_t j = 0; j < G; ++j) {
          C sum = 0;
          for (int64_t n = 0; n < N; ++n)
            sum += dz[n * G + j];
          db[j] = acc ? acc[j] + sum : sum;
          db[G + j] = acc ? acc[G + j] + sum : sum;
        }
      }
      // P is (i, o, f): i and f read c_prev, o reads the new c.
      if (C *dp = out(kDP))
        for (int64_t j = 0; j < H; ++j) {
          C di = 0, dO = 0, df = 0;
          for (int64_t n = 0; n < N; ++n) {
            const C *z = dz + n * G;
            C prev = cPrev ? cPrev[n * H + j] : C(0);
            di += z[j] * prev;
            dO += z[H + j] * cell[n * H + j];
            df += z[2 * H + j] * prev;
          }
          dp[j] = di;
          dp[H + j] = dO;
          dp[2 * H + j] = df;
        }
    });
    return Status();
  });
}

//===----------------------------------------------------------------------===//
// stack and unstack
//===----------------------------------------------------------------------===//

/// `whole` is the pieces (of one type and shape) under leading dimensions
/// that index exactly that many of them.
Status checkStacked(const KernelCall &c, const Tensor &whole,
                    const std::vector<Tensor> &pieces) {
  if (pieces.empty())
    return c.error("needs at least one piece");
  const Tensor &first = pieces.front();
  for (const Tensor &t : pieces)
    if (t.dtype != first.dtype || *t.shape != *first.shape)
      return c.error("the pieces must have one type and shape");
  int64_t lead = whole.rank() - first.rank();
  if (whole.dtype != first.dtype || lead < 1 ||
      !std::equal(first.shape->begin(), first.shape->end(),
                  whole.shape->begin() + lead))
    return c.error("the stacked tensor must be the pieces' shape under "
                   "leading dimensions");
  int64_t count = 1;
  for (int64_t d = 0; d < lead; ++d)
    if (__builtin_mul_overflow(count, whole.dim(d), &count))
      return c.error("the leading dimensions overflow");
  if (count != int64_t(pieces.size()))
    return c.error("the leading dimensions index ", count, " pieces, got ",
                   pieces.size());
  return Status();
}

Status checkStack(const KernelCall &c) {
  if (c.out.size() != 1)
    return c.error("has 1 output, got ", c.out.size());
  return checkStacked(c, c.out[0], c.in);
}

Status runStack(KernelCall &c) {
  uint8_t *o = c.out[0].as<uint8_t>();
  for (const Tensor &t : c.in) {
    size_t bytes = size_t(t.numel) * dtypeBytes(t.dtype);
    std::memcpy(o, t.data, bytes);
    o += bytes;
  }
  return Status();
}

Status checkUnstack(const KernelCall &c) {
  if (c.in.size() != 1)
    return c.error("takes 1 input, got ", c.in.size());
  return checkStacked(c, c.in[0], c.out);
}

Status runUnstack(KernelCall &c) {
  const uint8_t *s = c.in[0].as<const uint8_t>();
  for (const Tensor &t : c.out) {
    size_t bytes = size_t(t.numel) * dtypeBytes(t.dtype);
    std::memcpy(t.data, s, bytes);
    s += bytes;
  }
  return Status();
}

} // namespace

void registerRecurrentKernels(KernelRegistry &r) {
  r.add({"lstm", checkLstm, runLstm});
  r.add({"lstm_cell", checkLstmCell, runLstmCell});
  r.add({"lstm_cell_backward", checkLstmCellBackward, runLstmCellBackward});
  r.add({"stack", checkStack, runStack});
  r.add({"unstack", checkUnstack, runUnstack});
}

} // namespace mlg_rt::cpu

// recurrent.cu - the unrolled LSTM's cell and its backward on the device.
//
// As on the CPU (runtime/src/cpu/recurrent.cc): the gates' pre-activations
// [N, 4H] are the summed biases plus x W^T plus h_prev R^T (two cuBLAS
// products into the `gates` result), then one thread per (row, hidden unit)
// applies the peepholes, the clip and the activations, writes c and h, and
// leaves the activated gates in `gates` for the backward. The backward
// computes dZ [N, 4H] into the step's workspace, one thread per (row,
// unit), then dx, dh_prev, dW and dR by cuBLAS, and dB and dP by column
// sums (added to their accumulators where given). Gate order i, o, f, c;
// peepholes i, o, f. f32 and f64. The cells'
// f32 products may use TF32 as the convolutions do (PyTorch's default for
// cuDNN, whose RNNs its LSTM runs on: torch.backends.cudnn.allow_tf32).

#include "common.cuh"

#include <optional>

namespace mlg_rt::cuda {
namespace {

enum CellIn { kCellX, kCellH, kCellC, kCellW, kCellR, kCellB, kCellP };
enum BackIn { kDh, kDc, kBackX, kBackH, kBackC, kBackCell, kGates, kBackW,
              kBackR, kBackP, kAccW, kAccR, kAccB };
enum BackOut { kDx, kDhPrev, kDcPrev, kDW, kDR, kDB, kDP };

/// Which declared operands (or results) are present, from the step's
/// segment sizes (the CPU check has validated them): index into c.in or
/// c.out, or -1.
std::vector<int> segments(const cpu::KernelCall &c, const char *name) {
  std::vector<int> index;
  int next = 0;
  std::vector<int64_t> sizes = *c.attrs().getInts(name);
  for (int64_t v : sizes)
    index.push_back(v ? next++ : -1);
  return index;
}

template <typename C> __device__ __forceinline__ C sigmoidOf(C x) {
  return C(1) / (C(1) + exp(-x));
}

struct Clip {
  bool active;
  double lo, hi;
  template <typename C> __device__ __forceinline__ C operator()(C v) const {
    return v < C(lo) ? C(lo) : (v > C(hi) ? C(hi) : v);
  }
};

Clip clipOf(const cpu::KernelCall &c) {
  std::optional<double> clip = c.attrs().getFloat("clip");
  if (!clip)
    return {false, -INFINITY, INFINITY};
  return {true, -*clip, *clip};
}

/// gates[n, :] = b[:G] + b[G:] (or 0).
template <typename C>
__global__ void biasRows(const C *b, const C *projected, C *gates, int64_t n,
                         int64_t g) {
  MLG_CUDA_GRID_LOOP(e, n) {
    int64_t j = e % g;
    gates[e] = (b ? b[j] + b[g + j] : C(0)) + (projected ? projected[e] : C(0));
  }
}

template <typename C>
__global__ void cellKernel(int64_t N, int64_t H, C *gates, const C *cPrev,
                           const C *p, bool inputForget, Clip clip, C *cOut,
                           C *hOut) {
  MLG_CUDA_GRID_LOOP(e, N * H) {
    int64_t n = e / H, j = e - n * H, G = 4 * H;
    C *pre = gates + n * G;
    C prev = cPrev ? cPrev[n * H + j] : C(0);
    C i = sigmoidOf(clip(pre[j] + (p ? p[j] * prev : C(0))));
    C f = inputForget
              ? C(1) - i
              : sigmoidOf(clip(pre[2 * H + j] + (p ? p[2 * H + j] * prev : C(0))));
    C g = tanh(clip(pre[3 * H + j]));
    C cell = f * prev + i * g;
    C o = sigmoidOf(clip(pre[H + j] + (p ? p[H + j] * cell : C(0))));
    cOut[n * H + j] = cell;
    hOut[n * H + j] = o * tanh(cell);
    pre[j] = i;
    pre[H + j] = o;
    pre[2 * H + j] = f;
    pre[3 * H + j] = g;
  }
}

template <typename C> Status cellOf(cpu::KernelCall &c, Context &ctx) {
  std::vector<int> in = segments(c, "operandSegmentSizes");
  auto ptr = [&](int s) -> const C * {
    return in[s] < 0 ? nullptr : c.in[size_t(in[s])].as<const C>();
  };
  const cpu::Tensor &x = c.in[size_t(in[kCellX])],
                    &r = c.in[size_t(in[kCellR])];
  int64_t N = x.dim(0), I = x.dim(1), H = r.dim(1), G = 4 * H;
  // Projected, x is x W^T already (mlg.lstm_cell): added, not multiplied.
  bool projected = c.attrs().getBool("projected").value_or(false);
  C *gates = c.out[2].as<C>();
  if (N == 0)
    return Status();
  biasRows<C><<<blocksFor(N * G, kThreads, ctx), kThreads, 0, ctx.stream>>>(
      ptr(kCellB), projected ? ptr(kCellX) : nullptr, gates, N * G, G);
  MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "biasRows"));
  if (!projected)
    MLG_RT_RETURN_IF_ERROR(gemm(c, ctx, false, true, N, G, I, 1.0,
                                ptr(kCellX), I, ptr(kCellW), I, 1.0, gates, G,
                                ctx.tf32Convolutions));
  if (const C *h = ptr(kCellH))
    MLG_RT_RETURN_IF_ERROR(
        gemm(c, ctx, false, true, N, G, H, 1.0, h, H, ptr(kCellR), H, 1.0,
             gates, G, ctx.tf32Convolutions));
  cellKernel<C><<<blocksFor(N * H, kThreads, ctx), kThreads, 0, ctx.stream>>>(
      N, H, gates, ptr(kCellC), ptr(kCellP),
      c.attrs().getBool("input_forget").value_or(false), clipOf(c),
      c.out[1].as<C>(), c.out[0].as<C>());
  return checkLaunch(c, "cellKernel");
}

Status runLstmCell(cpu::KernelCall &c, Context &ctx) {
  switch (c.in[0].dtype) {
  case DType::F32:
    return cellOf<float>(c, ctx);
  case DType::F64:
    return cellOf<double>(c, ctx);
  default:
    return c.error("the CUDA backend's LSTM cell takes f32 and f64");
  }
}

/// dZ and dc_prev, one thread per (row, unit), as the CPU's lstmRowBackward.
/// A gate equal to the activation of -clip or clip (computed here with the
/// forward's functions) was clamped and passes no gradient.
template <typename C>
__global__ void cellBackwardKernel(int64_t N, int64_t H, const C *act,
                                   const C *cell, const C *cPrev, const C *p,
                                   const C *dh, const C *dc, bool inputForget,
                                   Clip clip, C *dz, C *dcPrev) {
  C sLo = sigmoidOf(C(clip.lo)), sHi = sigmoidOf(C(clip.hi));
  C tLo = tanh(C(clip.lo)), tHi = tanh(C(clip.hi));
  auto sPass = [&](C v) {
    return clip.active && (v == sLo || v == sHi) ? C(0) : C(1);
  };
  auto tPass = [&](C v) {
    return clip.active && (v == tLo || v == tHi) ? C(0) : C(1);
  };
  MLG_CUDA_GRID_LOOP(e, N * H) {
    int64_t n = e / H, j = e - n * H, G = 4 * H;
    const C *a = act + n * G;
    C i = a[j], o = a[H + j], f = a[2 * H + j], g = a[3 * H + j];
    C prev = cPrev ? cPrev[e] : C(0);
    C dhj = dh ? dh[e] : C(0), tc = tanh(cell[e]);
    C dzo = dhj * tc * o * (C(1) - o) * sPass(o);
    C dcell = (dc ? dc[e] : C(0)) + dhj * o * (C(1) - tc * tc) +
              (p ? p[H + j] * dzo : C(0));
    C di = dcell * g, df = dcell * prev;
    C dzf = C(0);
    if (inputForget)
      di -= df;
    else
      dzf = df * f * (C(1) - f) * sPass(f);
    C dzi = di * i * (C(1) - i) * sPass(i);
    C dzg = dcell * i * (C(1) - g * g) * tPass(g);
    C *z = dz + n * G;
    z[j] = dzi;
    z[H + j] = dzo;
    z[2 * H + j] = dzf;
    z[3 * H + j] = dzg;
    if (dcPrev)
      dcPrev[e] = dcell * f + (p ? p[j] * dzi + p[2 * H + j] * dzf : C(0));
  }
}

/// dB (both halves, added to `accB` where given) and dP as column sums over
/// the batch, in a fixed order.
template <typename C>
__global__ void biasPeepholeGrads(int64_t N, int64_t H, const C *dz,
                                  const C *cell, const C *cPrev,
                                  const C *accB, C *db, C *dp) {
  int64_t G = 4 * H;
  MLG_CUDA_GRID_LOOP(j, G) {
    C sum = 0;
    for (int64_t n = 0; n < N; ++n)
      sum += dz[n * G + j];
    if (db) {
      db[j] = accB ? accB[j] + sum : sum;
      db[G + j] = accB ? accB[G + j] + sum : sum;
    }
    if (dp && j < H) {
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
  }
}

template <typename C> Status backwardOf(cpu::KernelCall &c, Context &ctx) {
  std::vector<int> in = segments(c, "operandSegmentSizes"),
                   out = segments(c, "resultSegmentSizes");
  auto ptr = [&](int s) -> const C * {
    return in[s] < 0 ? nullptr : c.in[size_t(in[s])].as<const C>();
  };
  auto res = [&](int s) -> C * {
    return out[s] < 0 ? nullptr : c.out[size_t(out[s])].as<C>();
  };
  // Projected, there is no x and dZ is dx itself (no dx or dW products).
  bool projected = c.attrs().getBool("projected").value_or(false);
  const cpu::Tensor &r = c.in[size_t(in[kBackR])],
                    &w = c.in[size_t(in[kBackW])];
  int64_t N = c.in[size_t(in[kBackCell])].dim(0), I = w.dim(1), H = r.dim(1),
          G = 4 * H;
  C *dz = projected ? res(kDx) : reinterpret_cast<C *>(c.workspace);
  if (N > 0) {
    cellBackwardKernel<C><<<blocksFor(N * H, kThreads, ctx), kThreads, 0,
                            ctx.stream>>>(
        N, H, ptr(kGates), ptr(kBackCell), ptr(kBackC), ptr(kBackP), ptr(kDh),
        ptr(kDc), c.attrs().getBool("input_forget").value_or(false),
        clipOf(c), dz, res(kDcPrev));
    MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "cellBackwardKernel"));
  }
  // With no rows the products still write zeros.
  if (!projected)
    MLG_RT_RETURN_IF_ERROR(gemm(c, ctx, false, false, N, I, G, 1.0, dz, G,
                                ptr(kBackW), I, 0.0, res(kDx), I,
                                ctx.tf32Convolutions));
  // With an accumulator, the product adds into it (in place, or into a
  // copy of it).
  auto accumulated = [&](int acc, C *result, int64_t numel,
                         double *beta) -> Status {
    const C *from = ptr(acc);
    *beta = from ? 1.0 : 0.0;
    if (from && from != result && numel > 0)
      MLG_CUDA_TRY(c, cudaMemcpyAsync(result, from, size_t(numel) * sizeof(C),
                                      cudaMemcpyDeviceToDevice, ctx.stream));
    return Status();
  };
  double betaW = 0, betaR = 0;
  if (!projected) {
    MLG_RT_RETURN_IF_ERROR(accumulated(kAccW, res(kDW), G * I, &betaW));
    MLG_RT_RETURN_IF_ERROR(gemm(c, ctx, true, false, G, I, N, 1.0, dz, G,
                                ptr(kBackX), I, betaW, res(kDW), I,
                                ctx.tf32Convolutions));
  }
  if (const C *hPrev = ptr(kBackH)) {
    MLG_RT_RETURN_IF_ERROR(gemm(c, ctx, false, false, N, H, G, 1.0, dz, G,
                                ptr(kBackR), H, 0.0, res(kDhPrev), H,
                                ctx.tf32Convolutions));
    if (res(kDR)) {
      MLG_RT_RETURN_IF_ERROR(accumulated(kAccR, res(kDR), G * H, &betaR));
      MLG_RT_RETURN_IF_ERROR(gemm(c, ctx, true, false, G, H, N, 1.0, dz, G,
                                  hPrev, H, betaR, res(kDR), H,
                                  ctx.tf32Convolutions));
    }
  }
  if (res(kDB) || res(kDP)) {
    biasPeepholeGrads<C><<<blocksFor(G, kThreads, ctx), kThreads, 0,
                           ctx.stream>>>(N, H, dz, ptr(kBackCell), ptr(kBackC),
                                         ptr(kAccB), res(kDB), res(kDP));
    MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "biasPeepholeGrads"));
  }
  return Status();
}

Status runLstmCellBackward(cpu::KernelCall &c, Context &ctx) {
  switch (c.in[0].dtype) {
  case DType::F32:
    return backwardOf<float>(c, ctx);
  case DType::F64:
    return backwardOf<double>(c, ctx);
  default:
    return c.error("the CUDA backend's LSTM cell takes f32 and f64");
  }
}

} // namespace

void registerRecurrentKernels(KernelRegistry &r) {
  r.add({"lstm_cell", runLstmCell});
  r.add({"lstm_cell_backward", runLstmCellBackward});
}

} // namespace mlg_rt::cuda

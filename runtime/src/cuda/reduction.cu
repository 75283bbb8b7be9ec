// reduction.cu - reduce_sum, reduce_mean, reduce_max, reduce_min and the
// norms (reduce_l1, reduce_l2, reduce_sum_square, reduce_log_sum,
// reduce_log_sum_exp) over any sorted set of axes; argmax and argmin.
//
// Sums and means whose axes, once adjacent axes of the same kind are merged
// and unit axes dropped, leave the input as [A, K, B] with the A and B
// axes reduced (either may be absent: bias gradients, batch sums, row sums)
// are split over many blocks that each write partial sums in double to
// backend scratch; a kernel with a thread per output adds them in a fixed
// order (deterministic). Rows of at least a warp's length (B >= 32) are cut
// into pieces that warps read with 16-byte accesses; shorter rows are read
// as columns of the contiguous [K * B] rows, a thread per column.
//
// Other reductions (max, min, the norms, and axes that interleave with kept
// ones) give each output element a block: its threads walk the reduced
// index space (the input seen as kept x reduced dimensions through strides)
// and combine by a block reduction, accumulating in double for sums, means
// and norms (as the CPU backend does). NaN wins in max and min; an empty
// max or min is an error here (the CPU gives the type's extreme value).

#include "common.cuh"

#include <algorithm>
#include <cfloat>
#include <optional>
#include <vector>

namespace mlg_rt::cuda {
namespace {

constexpr int kMaxRank = 8;
constexpr int kReduceThreads = 256;

/// The kept and reduced dimensions of the input, with its strides.
struct Reduction {
  int kept = 0, reduced = 0;
  int64_t keptDims[kMaxRank], keptStrides[kMaxRank];
  int64_t reducedDims[kMaxRank], reducedStrides[kMaxRank];
  int64_t reducedCount = 1;
};

enum class Red { Sum, Mean, Max, Min, L1, L2, SumSquare, LogSum, LogSumExp };

/// The norms: a sum of f(v) in double, then a final map, as the CPU
/// backend computes them (log_sum_exp shifted by the finite maximum).
template <Red Op> constexpr bool isNorm() {
  return Op == Red::L1 || Op == Red::L2 || Op == Red::SumSquare ||
         Op == Red::LogSum || Op == Red::LogSumExp;
}

__device__ __forceinline__ int64_t offsetOf(int64_t i, int n,
                                            const int64_t *dims,
                                            const int64_t *strides) {
  int64_t off = 0;
  for (int d = n - 1; d >= 0; --d) {
    int64_t q = i / dims[d];
    off += (i - q * dims[d]) * strides[d];
    i = q;
  }
  return off;
}

template <Red Op, typename T>
__global__ void reduceKernel(const T *x, T *y, Reduction r) {
  using C = typename Elem<T>::Compute;
  int64_t base = offsetOf(blockIdx.x, r.kept, r.keptDims, r.keptStrides);
  if constexpr (Op == Red::Sum || Op == Red::Mean) {
    double acc = 0;
    for (int64_t j = threadIdx.x; j < r.reducedCount; j += blockDim.x)
      acc += double(Elem<T>::load(
          x[base + offsetOf(j, r.reduced, r.reducedDims, r.reducedStrides)]));
    acc = blockReduce<double>(acc);
    if (threadIdx.x == 0)
      y[blockIdx.x] = Elem<T>::store(
          C(Op == Red::Mean ? (r.reducedCount ? acc / double(r.reducedCount)
                                              : NAN)
                            : acc));
  } else if constexpr (isNorm<Op>()) {
    auto at = [&](int64_t j) {
      return double(Elem<T>::load(
          x[base + offsetOf(j, r.reduced, r.reducedDims, r.reducedStrides)]));
    };
    double shift = 0;
    if constexpr (Op == Red::LogSumExp) {
      // The maximum, NaN winning; not subtracted unless finite.
      double m = -INFINITY, nan = 0;
      for (int64_t j = threadIdx.x; j < r.reducedCount; j += blockDim.x) {
        double v = at(j);
        if (v != v)
          nan = 1;
        else
          m = fmax(m, v);
      }
      nan = blockReduce<double, true>(nan);
      m = blockReduce<double, true>(m);
      shift = nan > 0 || !isfinite(m) ? 0 : m;
    }
    double acc = 0;
    for (int64_t j = threadIdx.x; j < r.reducedCount; j += blockDim.x) {
      double v = at(j);
      if constexpr (Op == Red::L1)
        acc += fabs(v);
      else if constexpr (Op == Red::L2 || Op == Red::SumSquare)
        acc += v * v;
      else if constexpr (Op == Red::LogSum)
        acc += v;
      else
        acc += exp(v - shift);
    }
    acc = blockReduce<double>(acc);
    if (threadIdx.x == 0) {
      if constexpr (Op == Red::L2)
        acc = sqrt(acc);
      else if constexpr (Op == Red::LogSum)
        acc = log(acc);
      else if constexpr (Op == Red::LogSumExp)
        acc = log(acc) + shift;
      y[blockIdx.x] = Elem<T>::store(C(acc));
    }
  } else {
    // NaN wins, as on the CPU: carried as a flag beside the extremum.
    double acc = Op == Red::Max ? -INFINITY : INFINITY;
    double nan = 0;
    for (int64_t j = threadIdx.x; j < r.reducedCount; j += blockDim.x) {
      double v = double(Elem<T>::load(
          x[base + offsetOf(j, r.reduced, r.reducedDims, r.reducedStrides)]));
      if (v != v)
        nan = 1;
      else
        acc = Op == Red::Max ? fmax(acc, v) : fmin(acc, v);
    }
    nan = blockReduce<double, true>(nan);
    acc = Op == Red::Max ? blockReduce<double, true>(acc)
                         : -blockReduce<double, true>(-acc);
    if (threadIdx.x == 0)
      y[blockIdx.x] = Elem<T>::store(C(nan > 0 ? NAN : acc));
  }
}

/// The input as [outer, kept, inner] with outer and inner reduced.
struct SumShape {
  int64_t outer = 1, kept = 1, inner = 1;
};

/// Rows of at least a warp are cut into pieces of at most this many
/// elements.
constexpr int64_t kMaxPiece = 4096;
constexpr int kSumThreads = 256;

/// Long rows (inner >= 32): partial[k * splits + split] is the sum of the
/// block's units of output k's rows, a unit being a piece of `pieceLen`
/// elements of one row, a warp per unit.
template <typename T>
__global__ void rowSumsKernel(const T *x, SumShape s, int64_t pieces,
                              int64_t pieceLen, bool vector, double *partial) {
  using V = Vec16<T>;
  const int lane = threadIdx.x % 32;
  const int64_t warps = blockDim.x / 32,
                warp = blockIdx.x * warps + threadIdx.x / 32,
                allWarps = int64_t(gridDim.x) * warps;
  for (int64_t k = blockIdx.y; k < s.kept; k += gridDim.y) {
    double acc = 0;
    for (int64_t u = warp; u < s.outer * pieces; u += allWarps) {
      int64_t a = u / pieces, piece = u - a * pieces;
      int64_t begin = piece * pieceLen;
      int64_t end = begin + pieceLen < s.inner ? begin + pieceLen : s.inner;
      const T *row = x + (a * s.kept + k) * s.inner;
      if (vector) {
        const V *rv = reinterpret_cast<const V *>(row);
        for (int64_t i = begin / V::size + lane; i < end / V::size; i += 32) {
          V v = rv[i];
#pragma unroll
          for (int e = 0; e < V::size; ++e)
            acc += double(Elem<T>::load(v.v[e]));
        }
      } else {
        for (int64_t i = begin + lane; i < end; i += 32)
          acc += double(Elem<T>::load(row[i]));
      }
    }
    acc = blockReduce<double>(acc);
    if (threadIdx.x == 0)
      partial[k * gridDim.x + blockIdx.x] = acc;
  }
}

/// Short rows (inner < 32): the input is `outer` rows of kept * inner
/// contiguous columns; partial[split * columns + q] is the sum of column q
/// over the split's rows [split * rowsPer, ...), a thread per column.
template <typename T>
__global__ void columnSumsKernel(const T *x, int64_t rows, int64_t columns,
                                 int64_t rowsPer, double *partial) {
  int64_t q = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (q >= columns)
    return;
  int64_t first = blockIdx.y * rowsPer;
  int64_t last = first + rowsPer < rows ? first + rowsPer : rows;
  double acc = 0;
  for (int64_t r = first; r < last; ++r)
    acc += double(Elem<T>::load(x[r * columns + q]));
  partial[blockIdx.y * columns + q] = acc;
}

/// y[k]: the partial sums of output k in a fixed order (row sums: by block;
/// column sums: by split, then by inner position), divided by `count` for a
/// mean.
template <typename T>
__global__ void finishSumsKernel(const double *partial, T *y, SumShape s,
                                 int64_t splits, bool columns, bool mean) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(k, s.kept) {
    double acc = 0;
    if (columns) {
      for (int64_t b = 0; b < splits; ++b)
        for (int64_t j = 0; j < s.inner; ++j)
          acc += partial[b * s.kept * s.inner + k * s.inner + j];
    } else {
      for (int64_t b = 0; b < splits; ++b)
        acc += partial[k * splits + b];
    }
    double count = double(s.outer) * double(s.inner);
    y[k] = Elem<T>::store(C(mean ? (count > 0 ? acc / count : NAN) : acc));
  }
}

/// The [outer, kept, inner] form of reducing `dims` over the axes `mask`
/// marks, if it has one: unit axes dropped, runs of the same kind merged,
/// the kept run (if any) not interleaved with reduced ones.
std::optional<SumShape> sumShapeOf(const std::vector<int64_t> &dims,
                                   const std::vector<bool> &mask) {
  SumShape s;
  int stage = 0; // 0: outer reduced, 1: kept, 2: inner reduced
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] == 1)
      continue;
    if (mask[d]) {
      if (stage == 1)
        stage = 2;
      (stage == 0 ? s.outer : s.inner) *= dims[d];
    } else {
      if (stage == 2)
        return std::nullopt;
      stage = 1;
      s.kept *= dims[d];
    }
  }
  return s;
}

/// Sums (or means) `x` into `y` in the [outer, kept, inner] form `s`.
template <typename T>
Status runSplitSum(cpu::KernelCall &c, Context &ctx, const T *x, T *y,
                   const SumShape &s, bool mean) {
  const int64_t target =
      int64_t(ctx.multiprocessors > 0 ? ctx.multiprocessors : 132) * 4;
  void *scratch = nullptr;
  if (s.inner >= 32) {
    const int vec = Vec16<T>::size;
    bool vector = aligned16({x}) && s.inner % vec == 0;
    int64_t pieces = (s.inner + kMaxPiece - 1) / kMaxPiece;
    int64_t len = (s.inner + pieces - 1) / pieces;
    if (vector)
      len = (len + vec - 1) / vec * vec;
    pieces = (s.inner + len - 1) / len;
    int64_t units = s.outer * pieces, warps = kSumThreads / 32;
    int64_t splits = std::clamp<int64_t>((target + s.kept - 1) / s.kept, 1,
                                         (units + warps - 1) / warps);
    MLG_RT_RETURN_IF_ERROR(scratchBuffer(
        c, ctx, uint64_t(s.kept) * splits * sizeof(double), &scratch));
    double *partial = static_cast<double *>(scratch);
    dim3 grid(unsigned(splits), unsigned(std::min<int64_t>(s.kept, 65535)));
    rowSumsKernel<T><<<grid, kSumThreads, 0, ctx.stream>>>(
        x, s, pieces, len, vector, partial);
    MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "rowSumsKernel"));
    finishSumsKernel<T><<<blocksFor(s.kept, kThreads, ctx), kThreads, 0,
                          ctx.stream>>>(partial, y, s, splits, false, mean);
    return checkLaunch(c, "finishSumsKernel");
  }
  // Columns: enough splits of the rows to fill the device, at least 16 rows
  // each.
  int64_t columns = s.kept * s.inner;
  int64_t columnBlocks = (columns + kSumThreads - 1) / kSumThreads;
  int64_t splits = std::clamp<int64_t>(
      (target + columnBlocks - 1) / columnBlocks, 1,
      std::clamp<int64_t>(s.outer / 16, 1, 65535));
  int64_t rowsPer = (s.outer + splits - 1) / splits;
  splits = std::max<int64_t>((s.outer + rowsPer - 1) / rowsPer, 1);
  if (columnBlocks > INT32_MAX)
    return c.error("the CUDA backend sums rows of at most 2^31 blocks");
  MLG_RT_RETURN_IF_ERROR(scratchBuffer(
      c, ctx, uint64_t(columns) * splits * sizeof(double), &scratch));
  double *partial = static_cast<double *>(scratch);
  dim3 grid{unsigned(columnBlocks), unsigned(splits)};
  columnSumsKernel<T><<<grid, kSumThreads, 0, ctx.stream>>>(
      x, s.outer, columns, rowsPer, partial);
  MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "columnSumsKernel"));
  finishSumsKernel<T><<<blocksFor(s.kept, kThreads, ctx), kThreads, 0,
                        ctx.stream>>>(partial, y, s, splits, true, mean);
  return checkLaunch(c, "finishSumsKernel");
}

template <Red Op> Status runReduce(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0];
  if (x.rank() > kMaxRank)
    return c.error("the CUDA backend reduces at most ", kMaxRank,
                   " dimensions, got ", x.rank());
  std::vector<bool> mask(size_t(x.rank()), false);
  std::vector<int64_t> axes = *c.attrs().getInts("axes");
  for (int64_t a : axes)
    mask[size_t(a)] = true;
  Reduction r;
  int64_t stride = 1;
  std::vector<int64_t> strides(size_t(x.rank()));
  for (int64_t d = x.rank() - 1; d >= 0; --d) {
    strides[size_t(d)] = stride;
    stride *= x.dim(d);
  }
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (mask[size_t(d)]) {
      r.reducedDims[r.reduced] = x.dim(d);
      r.reducedStrides[r.reduced++] = strides[size_t(d)];
      r.reducedCount *= x.dim(d);
    } else {
      r.keptDims[r.kept] = x.dim(d);
      r.keptStrides[r.kept++] = strides[size_t(d)];
    }
  }
  if (y.numel == 0)
    return Status();
  if (y.numel > int64_t(INT32_MAX))
    return c.error("the CUDA backend reduces into at most 2^31 elements");
  if ((Op == Red::Max || Op == Red::Min) && r.reducedCount == 0)
    return c.error("a max or min over no elements has no value");
  std::optional<SumShape> split;
  if (Op == Red::Sum || Op == Red::Mean)
    split = sumShapeOf(*x.shape, mask);
  // Column sums keep a double per column and split: very wide short rows
  // take the block-per-output path instead.
  if (split && split->inner < 32 && split->kept * split->inner > (1 << 24))
    split.reset();
  return dispatchFloat(c, y.dtype, [&]<typename T>() -> Status {
    if (split && x.numel > 0)
      return runSplitSum<T>(c, ctx, x.as<T>(), y.as<T>(), *split,
                            Op == Red::Mean);
    reduceKernel<Op, T><<<unsigned(y.numel), kReduceThreads, 0,
                          ctx.stream>>>(x.as<T>(), y.as<T>(), r);
    return checkLaunch(c, "reduceKernel");
  });
}

/// argmax and argmin over one axis, the input seen as [outer, len, inner]:
/// a thread per output element walks its `len` values. NaN counts as the
/// extreme, as on the CPU: the first NaN wins, or the last with
/// select_last_index; ties go to the first index, or the last.
template <bool IsMax, typename C>
__device__ __forceinline__ bool better(C x, C best, bool last) {
  if (best != best)
    return last && x != x;
  if (x != x)
    return true;
  if (last)
    return IsMax ? x >= best : x <= best;
  return IsMax ? x > best : x < best;
}

template <bool IsMax, typename T>
__global__ void argReduceKernel(const T *x, int64_t *y, int64_t n,
                                int64_t len, int64_t inner, bool last) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(k, n) {
    int64_t a = k / inner, i = k - a * inner;
    const T *base = x + a * len * inner + i;
    C best = Elem<T>::load(base[0]);
    int64_t index = 0;
    for (int64_t j = 1; j < len; ++j) {
      C v = Elem<T>::load(base[j * inner]);
      if (better<IsMax>(v, best, last)) {
        best = v;
        index = j;
      }
    }
    y[k] = index;
  }
}

template <bool IsMax> Status runArgReduce(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0];
  if (y.numel == 0)
    return Status();
  int64_t axis = *c.attrs().getInt("axis");
  bool last = *c.attrs().getBool("select_last_index");
  int64_t len = x.dim(axis), inner = 1;
  for (int64_t d = axis + 1; d < x.rank(); ++d)
    inner *= x.dim(d);
  if (len == 0) { // nothing to choose from: index 0, as on the CPU
    MLG_CUDA_TRY(c, cudaMemsetAsync(y.data, 0, uint64_t(y.numel) * 8,
                                    ctx.stream));
    return Status();
  }
  return dispatchNumeric(c, x.dtype, [&]<typename T>() -> Status {
    argReduceKernel<IsMax, T><<<blocksFor(y.numel, kThreads, ctx), kThreads,
                                0, ctx.stream>>>(x.as<T>(), y.as<int64_t>(),
                                                 y.numel, len, inner, last);
    return checkLaunch(c, "argReduceKernel");
  });
}

} // namespace

void registerReductionKernels(KernelRegistry &r) {
  r.add({"argmax", runArgReduce<true>});
  r.add({"argmin", runArgReduce<false>});
  r.add({"reduce_sum", runReduce<Red::Sum>});
  r.add({"reduce_mean", runReduce<Red::Mean>});
  r.add({"reduce_max", runReduce<Red::Max>});
  r.add({"reduce_min", runReduce<Red::Min>});
  r.add({"reduce_l1", runReduce<Red::L1>});
  r.add({"reduce_l2", runReduce<Red::L2>});
  r.add({"reduce_sum_square", runReduce<Red::SumSquare>});
  r.add({"reduce_log_sum", runReduce<Red::LogSum>});
  r.add({"reduce_log_sum_exp", runReduce<Red::LogSumExp>});
}

} // namespace mlg_rt::cuda

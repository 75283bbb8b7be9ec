// tensor.cu - the data-movement kernels on the device (transpose, concat,
// split, slice, gather, pad, tile, where, cast) and the layout backwards
// (slice_backward, pad_backward, gather_backward), with the CPU kernels'
// semantics (cpu/tensor.cc, cpu/tensor_grad.cc, cpu/elementwise.cc).
//
// Layout ops only move elements, so they copy words of the element's byte
// width (1, 2, 4 or 8 bytes) and serve every element type alike. Each is
// one thread per result element in a grid-stride loop:
//  - transpose, slice and tile are a strided view of the operand (as the
//    CPU's stridedCopy): the result's flat index is split into coordinates
//    and dotted with the view's strides. The host first drops unit
//    dimensions and merges dimensions a single stride can walk, so views of
//    any rank run, and index arithmetic is 32-bit where the sizes allow.
//  - concat, split and gather copy contiguous blocks (all dimensions after
//    the axis), moved in the widest word that divides the block and the
//    pointers' alignment; concat and split handle up to kParts operands
//    (results) per launch.
//  - pad reads each result element's source through cpu/pad.h's padSource
//    (host and device), or writes the constant.
//  - where is NumPy broadcasting over three operands (strides 0 along
//    broadcast dimensions, as elementwise.cu's Broadcast).
//  - cast converts every pair of element types with the CPU's rules
//    (float to integer saturates and NaN gives 0; != 0 for bool; f16 and
//    bf16 go through float).
// The backwards:
//  - slice_backward zeroes dx and scatters dy (each dx element is written
//    at most once), for any element type.
//  - pad_backward is a deterministic gather: one thread per dx element
//    walks, in row-major order, the dy positions that read it (per
//    dimension at most three ranges: the element itself, plus a reflection
//    or an edge's clamped run on each side), adding in the compute type and
//    rounding to the storage type after each addition exactly as the CPU
//    does, so f16/bf16 results match it bit for bit.
//  - gather_backward zeroes dx and atomically adds each dy element into the
//    indexed row (the order of the additions, hence f16/bf16 rounding, is
//    not fixed).
// An index outside [-dim, dim) in gather or gather_backward (which the CPU
// rejects before writing anything) is reported through the device error
// word (kIndexOutOfRange) at the next synchronization; the kernel skips it
// (gather writes zeros there).

#include "../cpu/pad.h"
#include "common.cuh"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

namespace mlg_rt::cuda {
namespace {

using cpu::PadMode;

/// Most dimensions of an operand of pad and where (after merging).
constexpr int kMaxRank = 8;
/// Most dimensions of a strided view after merging: tile's view has two per
/// operand dimension.
constexpr int kMaxViewDims = 16;
/// Operands of concat (results of split) per launch.
constexpr int kParts = 8;

//===----------------------------------------------------------------------===//
// Host helpers
//===----------------------------------------------------------------------===//

std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

int64_t product(const std::vector<int64_t> &shape, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t d = from; d < to; ++d)
    n *= shape[d];
  return n;
}

/// Calls fn.template operator()<W>() with W the unsigned integer of `bytes`
/// bytes.
template <typename Fn>
Status dispatchWord(const cpu::KernelCall &c, int64_t bytes, Fn &&fn) {
  switch (bytes) {
  case 1:
    return fn.template operator()<uint8_t>();
  case 2:
    return fn.template operator()<uint16_t>();
  case 4:
    return fn.template operator()<uint32_t>();
  case 8:
    return fn.template operator()<uint64_t>();
  default:
    return c.error("the CUDA backend cannot move elements of ", bytes,
                   " bytes");
  }
}

/// Calls fn.template operator()<I>() with I the unsigned type that index
/// arithmetic over `n` elements needs (32-bit division is much cheaper).
template <typename Fn> Status dispatchIndexWidth(int64_t n, Fn &&fn) {
  if (n <= int64_t(std::numeric_limits<uint32_t>::max()))
    return fn.template operator()<uint32_t>();
  return fn.template operator()<uint64_t>();
}

/// The widest word (8, 4, 2 or 1 bytes) that divides `blockBytes` and
/// every pointer's address: blocks of that many bytes can then be moved in
/// such words.
int64_t wordBytes(int64_t blockBytes, const std::vector<const void *> &ptrs) {
  for (int64_t w : {8, 4, 2}) {
    bool ok = blockBytes % w == 0;
    for (const void *p : ptrs)
      ok = ok && reinterpret_cast<uintptr_t>(p) % uint64_t(w) == 0;
    if (ok)
      return w;
  }
  return 1;
}

//===----------------------------------------------------------------------===//
// Strided layouts
//===----------------------------------------------------------------------===//

/// Dimensions walked in row-major order and, for each of K operands, its
/// element stride along each (0 where it is broadcast; negative for a
/// reversed slice).
template <int K, int N> struct Layout {
  int rank = 0;
  int64_t dims[N];
  int64_t stride[K][N];
};

/// The layout of `dims` with operand strides `strides[k]`, without unit
/// dimensions and with a dimension merged into the next where one stride
/// walks both for every operand. False if more than N dimensions remain.
/// Every dimension must be non-zero.
template <int K, int N>
bool makeLayout(const std::vector<int64_t> &dims,
                const std::vector<int64_t> (&strides)[K], Layout<K, N> &l) {
  l.rank = 0;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] == 1)
      continue;
    if (l.rank > 0) {
      bool merge = true;
      for (int k = 0; k < K; ++k)
        merge = merge && l.stride[k][l.rank - 1] == strides[k][d] * dims[d];
      if (merge) {
        l.dims[l.rank - 1] *= dims[d];
        for (int k = 0; k < K; ++k)
          l.stride[k][l.rank - 1] = strides[k][d];
        continue;
      }
    }
    if (l.rank == N)
      return false;
    l.dims[l.rank] = dims[d];
    for (int k = 0; k < K; ++k)
      l.stride[k][l.rank] = strides[k][d];
    ++l.rank;
  }
  return true;
}

/// Each operand's element offset for row-major index `i` of the layout,
/// dividing in the index type I.
template <typename I, int K, int N>
__device__ __forceinline__ void offsetsOf(const Layout<K, N> &l, int64_t i,
                                          int64_t (&off)[K]) {
#pragma unroll
  for (int k = 0; k < K; ++k)
    off[k] = 0;
  I rem = I(i);
  for (int d = l.rank - 1; d >= 0; --d) {
    I dim = I(l.dims[d]);
    I q = rem / dim, r = rem - q * dim;
#pragma unroll
    for (int k = 0; k < K; ++k)
      off[k] += int64_t(r) * l.stride[k][d];
    rem = q;
  }
}

using View = Layout<1, kMaxViewDims>;

/// y[i] = x[base + view offset of i]: transpose, slice and tile.
template <typename W, typename I>
__global__ void viewKernel(const W *x, W *y, int64_t n, int64_t base,
                           View view) {
  MLG_CUDA_GRID_LOOP(i, n) {
    int64_t off[1];
    offsetsOf<I>(view, i, off);
    y[i] = x[base + off[0]];
  }
}

/// dx[base + view offset of i] = dy[i]: slice_backward (the view visits
/// every dx element at most once).
template <typename W, typename I>
__global__ void scatterKernel(const W *dy, W *dx, int64_t n, int64_t base,
                              View view) {
  MLG_CUDA_GRID_LOOP(i, n) {
    int64_t off[1];
    offsetsOf<I>(view, i, off);
    dx[base + off[0]] = dy[i];
  }
}

/// Copies the view of `x` (element `base`, dimensions `dims`, element
/// strides `strides`) into `y` in row-major order.
Status copyView(const cpu::KernelCall &c, Context &ctx, const cpu::Tensor &x,
                const cpu::Tensor &y, int64_t base,
                const std::vector<int64_t> &dims,
                const std::vector<int64_t> &strides, const char *op) {
  if (y.numel == 0)
    return Status();
  View view;
  const std::vector<int64_t> s[1] = {strides};
  if (!makeLayout(dims, s, view))
    return c.error("the CUDA backend's ", op, " handles views of at most ",
                   kMaxViewDims, " dimensions, got ", dims.size());
  return dispatchWord(c, dtypeBytes(y.dtype), [&]<typename W>() -> Status {
    return dispatchIndexWidth(y.numel, [&]<typename I>() -> Status {
      viewKernel<W, I>
          <<<blocksFor(y.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
              x.as<W>(), y.as<W>(), y.numel, base, view);
      return checkLaunch(c, "viewKernel");
    });
  });
}

//===----------------------------------------------------------------------===//
// transpose, slice, tile
//===----------------------------------------------------------------------===//

Status runTranspose(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &in = c.in[0], &out = c.out[0];
  std::vector<int64_t> perm = *c.attrs().getInts("perm");
  std::vector<int64_t> inStrides = stridesOf(*in.shape), strides;
  for (int64_t p : perm)
    strides.push_back(inStrides[p]);
  return copyView(c, ctx, in, out, 0, *out.shape, strides, "transpose");
}

Status runSlice(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &in = c.in[0], &out = c.out[0];
  if (out.numel == 0)
    return Status(); // starts may be one past the end: touch nothing
  std::vector<int64_t> starts = *c.attrs().getInts("starts");
  std::vector<int64_t> steps = *c.attrs().getInts("steps");
  std::vector<int64_t> inStrides = stridesOf(*in.shape), strides;
  int64_t base = 0;
  for (size_t d = 0; d < starts.size(); ++d) {
    base += starts[d] * inStrides[d];
    // A dimension of one element never steps, and its step may be huge.
    strides.push_back(out.dim(d) == 1 ? 0 : steps[d] * inStrides[d]);
  }
  return copyView(c, ctx, in, out, base, *out.shape, strides, "slice");
}

Status runTile(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &in = c.in[0], &out = c.out[0];
  std::vector<int64_t> repeats = *c.attrs().getInts("repeats");
  // Result dimension d of size repeats[d] * dim(d) is, row-major, the pair
  // (repeat, index): a view of shape [r0, d0, r1, d1, ...] whose repeat
  // dimensions have stride 0.
  std::vector<int64_t> inStrides = stridesOf(*in.shape), dims, strides;
  for (int64_t d = 0; d < in.rank(); ++d) {
    dims.insert(dims.end(), {repeats[d], in.dim(d)});
    strides.insert(strides.end(), {0, inStrides[d]});
  }
  return copyView(c, ctx, in, out, 0, dims, strides, "tile");
}

//===----------------------------------------------------------------------===//
// concat and split
//===----------------------------------------------------------------------===//

/// Up to kParts tensors side by side along a row of words: tensor t holds
/// columns [start[t], start[t + 1]) of each row.
struct Parts {
  void *ptr[kParts];
  int64_t start[kParts + 1];
  int n = 0;
};

/// The part holding column `col` of a row.
__device__ __forceinline__ int partOf(const Parts &p, int64_t col) {
  int t = 0;
  while (t + 1 < p.n && p.start[t + 1] <= col)
    ++t;
  return t;
}

/// The parts' rows into columns [offset, offset + width) of the result's
/// rows of `outRow` words.
template <typename W>
__global__ void concatKernel(Parts p, W *out, int64_t n, int64_t width,
                             int64_t outRow, int64_t offset) {
  MLG_CUDA_GRID_LOOP(i, n) {
    int64_t r = i / width, col = i - r * width;
    int t = partOf(p, col);
    int64_t w = p.start[t + 1] - p.start[t];
    out[r * outRow + offset + col] =
        static_cast<const W *>(p.ptr[t])[r * w + col - p.start[t]];
  }
}

/// Columns [offset, offset + width) of the operand's rows of `inRow` words
/// into the parts' rows.
template <typename W>
__global__ void splitKernel(Parts p, const W *in, int64_t n, int64_t width,
                            int64_t inRow, int64_t offset) {
  MLG_CUDA_GRID_LOOP(i, n) {
    int64_t r = i / width, col = i - r * width;
    int t = partOf(p, col);
    int64_t w = p.start[t + 1] - p.start[t];
    static_cast<W *>(p.ptr[t])[r * w + col - p.start[t]] =
        in[r * inRow + offset + col];
  }
}

/// concat (`toWhole`) or split: `whole` is the concatenated tensor, `parts`
/// the pieces along `axis`. Each piece is `outer` blocks of dim(axis) *
/// inner elements, interleaved in the whole block by block.
Status moveParts(const cpu::KernelCall &c, Context &ctx,
                 const cpu::Tensor &whole,
                 const std::vector<cpu::Tensor> &parts, bool toWhole) {
  if (whole.numel == 0)
    return Status();
  int64_t axis = *c.attrs().getInt("axis");
  int64_t elem = dtypeBytes(whole.dtype);
  int64_t outer = product(*whole.shape, 0, axis);
  int64_t inner = product(*whole.shape, axis + 1, whole.shape->size());
  std::vector<const void *> ptrs = {whole.data};
  for (const cpu::Tensor &t : parts)
    if (t.numel)
      ptrs.push_back(t.data);
  int64_t word = wordBytes(inner * elem, ptrs);
  int64_t innerWords = inner * elem / word;
  int64_t row = whole.dim(axis) * innerWords;
  return dispatchWord(c, word, [&]<typename W>() -> Status {
    int64_t offset = 0;
    size_t k = 0;
    while (k < parts.size()) {
      // The next (up to) kParts non-empty pieces, adjacent in the whole.
      Parts p;
      p.start[0] = 0;
      int64_t first = offset;
      for (; k < parts.size() && p.n < kParts; ++k) {
        const cpu::Tensor &t = parts[k];
        if (t.numel == 0)
          continue;
        int64_t w = t.dim(axis) * innerWords;
        p.ptr[p.n] = t.data;
        p.start[p.n + 1] = p.start[p.n] + w;
        ++p.n;
        offset += w;
      }
      if (p.n == 0)
        break;
      int64_t width = p.start[p.n], n = outer * width;
      unsigned blocks = blocksFor(n, kThreads, ctx);
      if (toWhole) {
        concatKernel<W><<<blocks, kThreads, 0, ctx.stream>>>(
            p, whole.as<W>(), n, width, row, first);
        MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "concatKernel"));
      } else {
        splitKernel<W><<<blocks, kThreads, 0, ctx.stream>>>(
            p, whole.as<W>(), n, width, row, first);
        MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "splitKernel"));
      }
    }
    return Status();
  });
}

Status runConcat(cpu::KernelCall &c, Context &ctx) {
  return moveParts(c, ctx, c.out[0], c.in, true);
}

Status runSplit(cpu::KernelCall &c, Context &ctx) {
  return moveParts(c, ctx, c.in[0], c.out, false);
}

//===----------------------------------------------------------------------===//
// gather and gather_backward
//===----------------------------------------------------------------------===//

/// Index `j` made non-negative, or -1 (and the device error raised) if it is
/// outside [-dim, dim).
template <typename Idx>
__device__ __forceinline__ int64_t indexAt(const Idx *indices, int64_t j,
                                           int64_t dim, int32_t *error,
                                           int32_t step) {
  int64_t i = int64_t(indices[j]);
  if (i < -dim || i >= dim) {
    failOnDevice(error, kIndexOutOfRange, step);
    return -1;
  }
  return i < 0 ? i + dim : i;
}

/// Validates the indices alone (when there is nothing to move, the CPU
/// still rejects a bad index).
template <typename Idx>
__global__ void checkIndicesKernel(const Idx *indices, int64_t count,
                                   int64_t dim, int32_t *error, int32_t step) {
  MLG_CUDA_GRID_LOOP(j, count) { indexAt(indices, j, dim, error, step); }
}

/// The result is [outer, count, inner words]: row (r, j) is row
/// (r, indices[j]) of the data, [outer, dim, inner words].
template <typename W, typename Idx>
__global__ void gatherKernel(const W *data, const Idx *indices, W *out,
                             int64_t n, int64_t count, int64_t innerWords,
                             int64_t dim, int32_t *error, int32_t step) {
  MLG_CUDA_GRID_LOOP(i, n) {
    int64_t row = i / innerWords, k = i - row * innerWords;
    int64_t r = row / count, j = row - r * count;
    int64_t idx = indexAt(indices, j, dim, error, step);
    out[i] = idx < 0 ? W(0) : data[(r * dim + idx) * innerWords + k];
  }
}

/// dy is [outer, count, inner]: element (r, j, k) adds into dx element
/// (r, indices[j], k) of [outer, dim, inner].
template <typename T, typename Idx>
__global__ void gatherBackwardKernel(const T *dy, const Idx *indices, T *dx,
                                     int64_t n, int64_t count, int64_t inner,
                                     int64_t dim, int32_t *error,
                                     int32_t step) {
  MLG_CUDA_GRID_LOOP(i, n) {
    int64_t row = i / inner, k = i - row * inner;
    int64_t r = row / count, j = row - r * count;
    int64_t idx = indexAt(indices, j, dim, error, step);
    if (idx >= 0)
      atomicAdd(dx + (r * dim + idx) * inner + k, dy[i]);
  }
}

/// Calls fn.template operator()<Idx>() with Idx the indices' type (i32 or
/// i64, as the CPU check requires).
template <typename Fn>
Status dispatchIndices(const cpu::KernelCall &c, DType dtype, Fn &&fn) {
  if (dtype == DType::I32)
    return fn.template operator()<int32_t>();
  if (dtype == DType::I64)
    return fn.template operator()<int64_t>();
  return c.error("indices must be i32 or i64, got ", dtypeName(dtype));
}

/// Launches checkIndicesKernel over every index.
Status checkIndices(const cpu::KernelCall &c, Context &ctx,
                    const cpu::Tensor &indices, int64_t dim) {
  if (indices.numel == 0)
    return Status();
  return dispatchIndices(c, indices.dtype, [&]<typename Idx>() -> Status {
    checkIndicesKernel<Idx><<<blocksFor(indices.numel, kThreads, ctx),
                              kThreads, 0, ctx.stream>>>(
        indices.as<Idx>(), indices.numel, dim, ctx.deviceError,
        int32_t(c.stepIndex));
    return checkLaunch(c, "checkIndicesKernel");
  });
}

Status runGather(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &data = c.in[0], &indices = c.in[1], &out = c.out[0];
  int64_t axis = *c.attrs().getInt("axis");
  int64_t dim = data.dim(axis);
  if (out.numel == 0)
    return checkIndices(c, ctx, indices, dim);
  int64_t elem = dtypeBytes(data.dtype);
  int64_t inner = product(*data.shape, axis + 1, data.shape->size());
  int64_t word = wordBytes(inner * elem, {data.data, out.data});
  int64_t innerWords = inner * elem / word;
  return dispatchWord(c, word, [&]<typename W>() -> Status {
    return dispatchIndices(c, indices.dtype, [&]<typename Idx>() -> Status {
      int64_t n = out.numel * elem / word;
      gatherKernel<W, Idx>
          <<<blocksFor(n, kThreads, ctx), kThreads, 0, ctx.stream>>>(
              data.as<W>(), indices.as<Idx>(), out.as<W>(), n,
              indices.numel, innerWords, dim, ctx.deviceError,
              int32_t(c.stepIndex));
      return checkLaunch(c, "gatherKernel");
    });
  });
}

Status runGatherBackward(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dy = c.in[0], &indices = c.in[1], &dx = c.out[0];
  int64_t axis = *c.attrs().getInt("axis");
  int64_t dim = dx.dim(axis);
  if (dx.numel)
    MLG_CUDA_TRY(c, cudaMemsetAsync(dx.data, 0,
                                    size_t(dx.numel * dtypeBytes(dx.dtype)),
                                    ctx.stream));
  if (dy.numel == 0)
    return checkIndices(c, ctx, indices, dim);
  int64_t inner = product(*dx.shape, axis + 1, dx.shape->size());
  return dispatchFloat(c, dx.dtype, [&]<typename T>() -> Status {
    return dispatchIndices(c, indices.dtype, [&]<typename Idx>() -> Status {
      gatherBackwardKernel<T, Idx>
          <<<blocksFor(dy.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
              dy.as<T>(), indices.as<Idx>(), dx.as<T>(), dy.numel,
              indices.numel, inner, dim, ctx.deviceError,
              int32_t(c.stepIndex));
      return checkLaunch(c, "gatherBackwardKernel");
    });
  });
}

//===----------------------------------------------------------------------===//
// pad and pad_backward
//===----------------------------------------------------------------------===//

/// The operand's and the padded result's dimensions, the amounts before,
/// and both tensors' row-major strides.
struct PadGeometry {
  int rank = 0;
  PadMode mode = PadMode::Constant;
  int64_t inDims[kMaxRank], outDims[kMaxRank], before[kMaxRank];
  int64_t inStrides[kMaxRank], outStrides[kMaxRank];
};

/// The geometry of padding an operand of shape `in` by `pads` (ONNX order:
/// all befores, then all afters). Unpadded unit dimensions are dropped and
/// adjacent unpadded dimensions merged, so only padded dimensions count
/// towards kMaxRank.
Status padGeometry(const cpu::KernelCall &c, const std::vector<int64_t> &in,
                   const std::vector<int64_t> &pads, PadMode mode,
                   PadGeometry &g) {
  size_t rank = in.size();
  std::vector<int64_t> dims, before, after;
  for (size_t d = 0; d < rank; ++d) {
    int64_t b = pads[d], a = pads[rank + d];
    bool unpadded = b == 0 && a == 0;
    if (unpadded && in[d] == 1)
      continue;
    if (unpadded && !dims.empty() && before.back() == 0 && after.back() == 0) {
      dims.back() *= in[d];
      continue;
    }
    dims.push_back(in[d]);
    before.push_back(b);
    after.push_back(a);
  }
  if (dims.size() > size_t(kMaxRank))
    return c.error("the CUDA backend pads at most ", kMaxRank,
                   " dimensions, got ", dims.size());
  g.rank = int(dims.size());
  g.mode = mode;
  int64_t inStride = 1, outStride = 1;
  for (int d = g.rank - 1; d >= 0; --d) {
    g.inDims[d] = dims[d];
    g.outDims[d] = dims[d] + before[d] + after[d];
    g.before[d] = before[d];
    g.inStrides[d] = inStride;
    g.outStrides[d] = outStride;
    inStride *= g.inDims[d];
    outStride *= g.outDims[d];
  }
  return Status();
}

template <typename W>
__global__ void padKernel(const W *x, W *y, int64_t n, PadGeometry g,
                          W fill) {
  MLG_CUDA_GRID_LOOP(i, n) {
    int64_t rem = i, src = 0;
    bool inside = true;
    for (int d = g.rank - 1; d >= 0; --d) {
      int64_t q = rem / g.outDims[d], o = rem - q * g.outDims[d];
      rem = q;
      int64_t s = cpu::padSource(o, g.before[d], g.inDims[d], g.mode);
      if (s < 0)
        inside = false;
      else
        src += s * g.inStrides[d];
    }
    y[i] = inside ? x[src] : fill;
  }
}

/// `v` as integer type T: saturating, NaN gives 0 (cpu padValue).
template <typename T> T saturate(double v) {
  if (std::isnan(v))
    return T(0);
  if (v <= double(std::numeric_limits<T>::lowest()))
    return std::numeric_limits<T>::lowest();
  if (v >= double(std::numeric_limits<T>::max()))
    return std::numeric_limits<T>::max();
  return T(v);
}

/// The bytes of constant padding `v` as one element of `dtype` (low bytes of
/// the result), with the CPU's conversion (padValue).
uint64_t padFill(DType dtype, double v) {
  uint64_t bits = 0;
  auto put = [&](auto x) { std::memcpy(&bits, &x, sizeof x); };
  switch (dtype) {
  case DType::F32:
    put(float(v));
    break;
  case DType::F64:
    put(v);
    break;
  case DType::F16:
    put(floatToHalf(float(v)));
    break;
  case DType::BF16:
    put(floatToBf16(float(v)));
    break;
  case DType::I8:
    put(saturate<int8_t>(v));
    break;
  case DType::I16:
    put(saturate<int16_t>(v));
    break;
  case DType::I32:
    put(saturate<int32_t>(v));
    break;
  case DType::I64:
    put(saturate<int64_t>(v));
    break;
  case DType::U8:
    put(saturate<uint8_t>(v));
    break;
  case DType::U16:
    put(saturate<uint16_t>(v));
    break;
  case DType::U32:
    put(saturate<uint32_t>(v));
    break;
  case DType::U64:
    put(saturate<uint64_t>(v));
    break;
  case DType::Bool:
    put(uint8_t(v != 0 ? 1 : 0));
    break;
  default:
    break;
  }
  return bits;
}

Status runPad(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &in = c.in[0], &out = c.out[0];
  if (out.numel == 0)
    return Status();
  PadMode mode = *cpu::padMode(c);
  std::vector<int64_t> pads = *c.attrs().getInts("pads");
  double value = c.attrs().getFloat("value").value_or(0.0);
  PadGeometry g;
  MLG_RT_RETURN_IF_ERROR(padGeometry(c, *in.shape, pads, mode, g));
  uint64_t fill = mode == PadMode::Constant ? padFill(in.dtype, value) : 0;
  return dispatchWord(c, dtypeBytes(in.dtype), [&]<typename W>() -> Status {
    padKernel<W><<<blocksFor(out.numel, kThreads, ctx), kThreads, 0,
                   ctx.stream>>>(in.as<W>(), out.as<W>(), out.numel, g,
                                 W(fill));
    return checkLaunch(c, "padKernel");
  });
}

/// The result indices of one dimension that read operand index `x`, as up
/// to three ranges [lo, hi) in increasing order: a reflection or edge run
/// before, the index itself, a reflection or edge run after.
__device__ __forceinline__ void readersOf(int64_t x, int64_t dim,
                                          int64_t outDim, int64_t before,
                                          PadMode mode, int64_t (&lo)[3],
                                          int64_t (&hi)[3]) {
  for (int k = 0; k < 3; ++k)
    lo[k] = hi[k] = 0;
  auto one = [&](int k, int64_t o) {
    if (o >= 0 && o < outDim) {
      lo[k] = o;
      hi[k] = o + 1;
    }
  };
  one(1, x + before);
  if (mode == PadMode::Edge) {
    // Result indices o with o - before < 0 clamp to 0, those with
    // o - before >= dim to dim - 1.
    if (x == 0) {
      int64_t h = before < outDim ? before : outDim;
      hi[0] = h > 0 ? h : 0;
    }
    if (x == dim - 1) {
      int64_t l = before + dim > 0 ? before + dim : 0;
      lo[2] = l < outDim ? l : outDim;
      hi[2] = outDim;
    }
  } else if (mode == PadMode::Reflect) {
    // i = o - before < 0 reads -i; i >= dim reads 2 (dim - 1) - i.
    if (x >= 1)
      one(0, before - x);
    if (x <= dim - 2)
      one(2, 2 * (dim - 1) - x + before);
  }
}

/// dx element i: the sum of the dy elements that read it, in row-major
/// order, each addition rounded to T as the CPU kernel does.
template <typename T>
__global__ void padBackwardKernel(const T *dy, T *dx, int64_t n,
                                  PadGeometry g) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(i, n) {
    int64_t lo[kMaxRank][3], hi[kMaxRank][3], count[kMaxRank],
        pos[kMaxRank];
    int64_t rem = i;
    bool any = true;
    for (int d = g.rank - 1; d >= 0; --d) {
      int64_t q = rem / g.inDims[d], x = rem - q * g.inDims[d];
      rem = q;
      readersOf(x, g.inDims[d], g.outDims[d], g.before[d], g.mode, lo[d],
                hi[d]);
      count[d] = (hi[d][0] - lo[d][0]) + (hi[d][1] - lo[d][1]) +
                 (hi[d][2] - lo[d][2]);
      pos[d] = 0;
      any = any && count[d] > 0;
    }
    C acc = C(0);
    while (any) {
      int64_t off = 0;
      for (int d = 0; d < g.rank; ++d) {
        // The pos[d]-th reader of this dimension.
        int64_t k = pos[d], o = 0;
        for (int r = 0; r < 3; ++r) {
          int64_t len = hi[d][r] - lo[d][r];
          if (k < len) {
            o = lo[d][r] + k;
            break;
          }
          k -= len;
        }
        off += o * g.outStrides[d];
      }
      acc = Elem<T>::load(Elem<T>::store(acc + C(Elem<T>::load(dy[off]))));
      int d = g.rank - 1;
      for (; d >= 0; --d) {
        if (++pos[d] < count[d])
          break;
        pos[d] = 0;
      }
      any = d >= 0;
    }
    dx[i] = Elem<T>::store(acc);
  }
}

Status runPadBackward(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dy = c.in[0], &dx = c.out[0];
  if (dx.numel == 0)
    return Status();
  PadMode mode = *cpu::padMode(c);
  std::vector<int64_t> pads = *c.attrs().getInts("pads");
  PadGeometry g;
  MLG_RT_RETURN_IF_ERROR(padGeometry(c, *dx.shape, pads, mode, g));
  return dispatchFloat(c, dx.dtype, [&]<typename T>() -> Status {
    padBackwardKernel<T><<<blocksFor(dx.numel, kThreads, ctx), kThreads, 0,
                           ctx.stream>>>(dy.as<T>(), dx.as<T>(), dx.numel,
                                         g);
    return checkLaunch(c, "padBackwardKernel");
  });
}

//===----------------------------------------------------------------------===//
// slice_backward
//===----------------------------------------------------------------------===//

Status runSliceBackward(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dy = c.in[0], &dx = c.out[0];
  int64_t elem = dtypeBytes(dx.dtype);
  // All-zero bytes are zero in every element type.
  if (dx.numel)
    MLG_CUDA_TRY(c, cudaMemsetAsync(dx.data, 0, size_t(dx.numel * elem),
                                    ctx.stream));
  if (dy.numel == 0)
    return Status(); // starts may be one past the end: touch nothing else
  std::vector<int64_t> starts = *c.attrs().getInts("starts");
  std::vector<int64_t> steps = *c.attrs().getInts("steps");
  std::vector<int64_t> dxStrides = stridesOf(*dx.shape), strides;
  // dy element (i0, i1, ...) goes to dx element sum (start + i step) stride.
  int64_t base = 0;
  for (size_t d = 0; d < starts.size(); ++d) {
    base += starts[d] * dxStrides[d];
    // A dimension of one element never steps, and its step may be huge.
    strides.push_back(dy.dim(d) == 1 ? 0 : steps[d] * dxStrides[d]);
  }
  View view;
  const std::vector<int64_t> s[1] = {strides};
  if (!makeLayout(*dy.shape, s, view))
    return c.error("the CUDA backend's slice_backward handles at most ",
                   kMaxViewDims, " dimensions, got ", dy.rank());
  return dispatchWord(c, elem, [&]<typename W>() -> Status {
    return dispatchIndexWidth(dy.numel, [&]<typename I>() -> Status {
      scatterKernel<W, I>
          <<<blocksFor(dy.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
              dy.as<W>(), dx.as<W>(), dy.numel, base, view);
      return checkLaunch(c, "scatterKernel");
    });
  });
}

//===----------------------------------------------------------------------===//
// where
//===----------------------------------------------------------------------===//

using Select = Layout<3, kMaxRank>;

template <typename W, typename I>
__global__ void whereKernel(const uint8_t *cond, const W *x, const W *y,
                            W *out, int64_t n, Select l) {
  MLG_CUDA_GRID_LOOP(i, n) {
    int64_t off[3];
    offsetsOf<I>(l, i, off);
    out[i] = cond[off[0]] ? x[off[1]] : y[off[2]];
  }
}

Status runWhere(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &out = c.out[0];
  if (out.numel == 0)
    return Status();
  // Each operand right-aligned to the result, stride 0 where it has size 1
  // (or no dimension at all).
  int64_t rank = out.rank();
  std::vector<int64_t> strides[3];
  for (int k = 0; k < 3; ++k) {
    const cpu::Tensor &t = c.in[k];
    strides[k].assign(rank, 0);
    int64_t stride = 1;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t td = d - (rank - t.rank());
      int64_t size = td >= 0 ? t.dim(td) : 1;
      strides[k][d] = size == 1 ? 0 : stride;
      stride *= size;
    }
  }
  Select l;
  if (!makeLayout(*out.shape, strides, l))
    return c.error("the CUDA backend broadcasts at most ", kMaxRank,
                   " dimensions, got ", rank);
  return dispatchWord(c, dtypeBytes(out.dtype), [&]<typename W>() -> Status {
    return dispatchIndexWidth(out.numel, [&]<typename I>() -> Status {
      whereKernel<W, I>
          <<<blocksFor(out.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
              c.in[0].as<uint8_t>(), c.in[1].as<W>(), c.in[2].as<W>(),
              out.as<W>(), out.numel, l);
      return checkLaunch(c, "whereKernel");
    });
  });
}

//===----------------------------------------------------------------------===//
// cast
//===----------------------------------------------------------------------===//

/// A compute-type value `v` as storage type To (cpu convert): != 0 for
/// bool, saturating from floats to integers (NaN gives 0), otherwise the
/// plain conversion (to f16/bf16 through float, rounding to nearest even).
template <typename To, typename V>
__device__ __forceinline__ To convertOnDevice(V v, bool toBool) {
  using C = typename Elem<To>::Compute;
  if constexpr (std::is_same_v<To, uint8_t>)
    if (toBool)
      return To(v != V(0) ? 1 : 0);
  if constexpr (std::is_integral_v<C> && !std::is_integral_v<V>) {
    if (v != v)
      return To(0);
    if (v <= V(std::numeric_limits<C>::lowest()))
      return std::numeric_limits<C>::lowest();
    if (v >= V(std::numeric_limits<C>::max()))
      return std::numeric_limits<C>::max();
    return To(C(v));
  } else {
    return Elem<To>::store(C(v));
  }
}

template <typename From, typename To>
__global__ void castKernel(const From *x, To *y, int64_t n, bool toBool) {
  MLG_CUDA_GRID_LOOP(i, n) {
    y[i] = convertOnDevice<To>(Elem<From>::load(x[i]), toBool);
  }
}

Status runCast(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &in = c.in[0], &out = c.out[0];
  if (out.numel == 0)
    return Status();
  if (in.dtype == out.dtype) {
    // The identity conversion: the operand's bytes.
    if (in.data != out.data)
      MLG_CUDA_TRY(c, cudaMemcpyAsync(
                          out.data, in.data,
                          size_t(out.numel * dtypeBytes(out.dtype)),
                          cudaMemcpyDeviceToDevice, ctx.stream));
    return Status();
  }
  bool toBool = out.dtype == DType::Bool;
  return dispatchAnyType(c, in.dtype, [&]<typename From>() -> Status {
    return dispatchAnyType(c, out.dtype, [&]<typename To>() -> Status {
      castKernel<From, To>
          <<<blocksFor(out.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
              in.as<From>(), out.as<To>(), out.numel, toBool);
      return checkLaunch(c, "castKernel");
    });
  });
}

} // namespace

void registerTensorKernels(KernelRegistry &r) {
  r.add({"transpose", runTranspose});
  r.add({"concat", runConcat});
  r.add({"split", runSplit});
  r.add({"slice", runSlice});
  r.add({"gather", runGather});
  r.add({"pad", runPad});
  r.add({"tile", runTile});
  r.add({"where", runWhere});
  r.add({"cast", runCast});
  r.add({"slice_backward", runSliceBackward});
  r.add({"pad_backward", runPadBackward});
  r.add({"gather_backward", runGatherBackward});
}

} // namespace mlg_rt::cuda

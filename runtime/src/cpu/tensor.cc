// tensor.cc - data-movement kernels: shape, transpose, concat, split, slice,
// gather, pad, expand and tile.
//
// These kernels only move elements, so they copy bytes (one element is
// dtypeBytes of its type) and work for every element type alike. Transpose,
// slice, expand and tile are all a strided view of their operand copied out
// in row-major order (stridedCopy); concat, split and gather copy contiguous
// blocks. check() recomputes every result shape from the operands and the
// attributes, so run() can index without bounds checks; the only thing check
// cannot see is gather's index values, which run() validates before copying.
// No result aliases an operand.

#include "common.h"
#include "pad.h"

#include <algorithm>
#include <limits>
#include <string>
#include <type_traits>

namespace mlg_rt::cpu {
namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// Errors unless result `i` has element type `dtype` and shape `shape`.
Status expectResult(const KernelCall &c, size_t i, DType dtype,
                    const std::vector<int64_t> &shape) {
  const Tensor &o = c.out[i];
  if (o.dtype != dtype)
    return c.error("result #", i, " has type ", dtypeName(o.dtype),
                   ", expected ", dtypeName(dtype));
  if (*o.shape != shape)
    return c.error("result #", i, " has shape ", shapeString(*o.shape),
                   ", expected ", shapeString(shape));
  return Status();
}

Status requireInts(const KernelCall &c, const char *name,
                   std::vector<int64_t> *out) {
  auto v = c.attrs().getInts(name);
  if (!v)
    return c.error("needs the integer list attribute '", name, "'");
  *out = std::move(*v);
  return Status();
}

Status requireInt(const KernelCall &c, const char *name, int64_t *out) {
  auto v = c.attrs().getInt(name);
  if (!v)
    return c.error("needs the integer attribute '", name, "'");
  *out = *v;
  return Status();
}

Status requireAxis(const KernelCall &c, int64_t rank, int64_t *axis) {
  MLG_RT_RETURN_IF_ERROR(requireInt(c, "axis", axis));
  if (*axis < 0 || *axis >= rank)
    return c.error("axis ", *axis, " is out of range for rank ", rank);
  return Status();
}

int64_t product(const std::vector<int64_t> &shape, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t d = from; d < to; ++d)
    n *= shape[d];
  return n;
}

/// Calls fn.template operator()<W>() with W an unsigned integer of `bytes`
/// bytes (1, 2, 4 or 8: every element type's size), so that strided element
/// copies are single moves.
template <typename Fn> void dispatchWord(int64_t bytes, Fn &&fn) {
  switch (bytes) {
  case 1:
    return fn.template operator()<uint8_t>();
  case 2:
    return fn.template operator()<uint16_t>();
  case 4:
    return fn.template operator()<uint32_t>();
  default:
    return fn.template operator()<uint64_t>();
  }
}

/// Copies the strided view of `src` (element `base`, element strides
/// `strides`, which may be 0 or negative) of shape `shape` into `dst` in
/// row-major order. The caller guarantees every element of the view lies in
/// `src`.
void stridedCopy(const void *src, int64_t base, std::vector<int64_t> shape,
                 std::vector<int64_t> strides, void *dst, int64_t elemBytes) {
  for (int64_t d : shape)
    if (d == 0)
      return;
  // Drop unit dimensions and merge a dimension into the next when stepping
  // over it is the same as running through the next: fewer, longer runs.
  std::vector<int64_t> dims, st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1)
      continue;
    if (!dims.empty() && st.back() == strides[d] * shape[d]) {
      dims.back() *= shape[d];
      st.back() = strides[d];
      continue;
    }
    dims.push_back(shape[d]);
    st.push_back(strides[d]);
  }
  const uint8_t *s = static_cast<const uint8_t *>(src);
  uint8_t *o = static_cast<uint8_t *>(dst);
  if (dims.empty()) {
    std::memcpy(o, s + base * elemBytes, elemBytes);
    return;
  }
  // The innermost dimension is one run; the outer ones are walked with a
  // counter, keeping the source offset up to date incrementally.
  int64_t rank = int64_t(dims.size());
  int64_t inner = dims.back(), innerStride = st.back();
  std::vector<int64_t> counter(rank - 1, 0);
  int64_t offset = base;
  int64_t runs = product(dims, 0, rank - 1);
  dispatchWord(elemBytes, [&]<typename W>() {
    for (int64_t r = 0; r < runs; ++r) {
      if (innerStride == 1) {
        std::memcpy(o, s + offset * elemBytes, inner * elemBytes);
      } else {
        const uint8_t *p = s + offset * elemBytes;
        for (int64_t i = 0; i < inner; ++i) {
          W w;
          std::memcpy(&w, p + i * innerStride * elemBytes, sizeof(W));
          std::memcpy(o + i * elemBytes, &w, sizeof(W));
        }
      }
      o += inner * elemBytes;
      for (int64_t d = rank - 2; d >= 0; --d) {
        offset += st[d];
        if (++counter[d] < dims[d])
          break;
        offset -= st[d] * dims[d];
        counter[d] = 0;
      }
    }
  });
}

//===----------------------------------------------------------------------===//
// shape
//===----------------------------------------------------------------------===//

Status checkShape(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  int64_t start, end, rank = c.in[0].rank();
  MLG_RT_RETURN_IF_ERROR(requireInt(c, "start", &start));
  MLG_RT_RETURN_IF_ERROR(requireInt(c, "end", &end));
  if (start < 0 || end < start || end > rank)
    return c.error("start ", start, " and end ", end,
                   " must satisfy 0 <= start <= end <= rank ", rank);
  return expectResult(c, 0, DType::I64, {end - start});
}

Status runShape(KernelCall &c) {
  int64_t start = *c.attrs().getInt("start");
  int64_t *o = c.out[0].as<int64_t>();
  for (int64_t i = 0; i < c.out[0].numel; ++i)
    o[i] = c.in[0].dim(start + i);
  return Status();
}

//===----------------------------------------------------------------------===//
// transpose
//===----------------------------------------------------------------------===//

Status checkTranspose(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  std::vector<int64_t> perm;
  MLG_RT_RETURN_IF_ERROR(requireInts(c, "perm", &perm));
  const Tensor &in = c.in[0];
  if (int64_t(perm.size()) != in.rank())
    return c.error("perm has ", perm.size(), " entries for rank ", in.rank());
  std::vector<bool> seen(perm.size(), false);
  std::vector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= in.rank() || seen[p])
      return c.error("perm is not a permutation of [0, ", in.rank(), ")");
    seen[p] = true;
    shape.push_back(in.dim(p));
  }
  return expectResult(c, 0, in.dtype, shape);
}

Status runTranspose(KernelCall &c) {
  const Tensor &in = c.in[0], &out = c.out[0];
  std::vector<int64_t> perm = *c.attrs().getInts("perm");
  std::vector<int64_t> inStrides = stridesOf(*in.shape), strides;
  for (int64_t p : perm)
    strides.push_back(inStrides[p]);
  stridedCopy(in.data, 0, *out.shape, strides, out.data, dtypeBytes(in.dtype));
  return Status();
}

//===----------------------------------------------------------------------===//
// concat and split
//===----------------------------------------------------------------------===//

Status checkConcat(const KernelCall &c) {
  if (c.in.empty())
    return c.error("needs at least one operand");
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, c.in.size(), 1));
  const Tensor &first = c.in[0];
  int64_t axis;
  MLG_RT_RETURN_IF_ERROR(requireAxis(c, first.rank(), &axis));
  std::vector<int64_t> shape = *first.shape;
  shape[axis] = 0;
  for (size_t i = 0; i < c.in.size(); ++i) {
    const Tensor &t = c.in[i];
    if (t.dtype != first.dtype || t.rank() != first.rank())
      return c.error("operand #", i,
                     " differs from operand #0 in type or "
                     "rank");
    for (int64_t d = 0; d < t.rank(); ++d)
      if (d != axis && t.dim(d) != first.dim(d))
        return c.error("operand #", i, " has dimension ", d, " of size ",
                       t.dim(d), ", expected ", first.dim(d));
    if (__builtin_add_overflow(shape[axis], t.dim(axis), &shape[axis]))
      return c.error("the concatenated dimension overflows");
  }
  return expectResult(c, 0, first.dtype, shape);
}

Status runConcat(KernelCall &c) {
  const Tensor &out = c.out[0];
  int64_t axis = *c.attrs().getInt("axis");
  int64_t elem = dtypeBytes(out.dtype);
  // Each operand is `outer` blocks of dim(axis) * inner elements; the result
  // interleaves them block by block.
  int64_t outer = product(*out.shape, 0, axis);
  int64_t inner = product(*out.shape, axis + 1, out.shape->size());
  uint8_t *o = out.as<uint8_t>();
  for (int64_t r = 0; r < outer; ++r) {
    for (const Tensor &t : c.in) {
      int64_t block = t.dim(axis) * inner * elem;
      std::memcpy(o, t.as<uint8_t>() + r * block, block);
      o += block;
    }
  }
  return Status();
}

Status checkSplit(const KernelCall &c) {
  std::vector<int64_t> sizes;
  MLG_RT_RETURN_IF_ERROR(requireInts(c, "sizes", &sizes));
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, sizes.size()));
  const Tensor &in = c.in[0];
  int64_t axis;
  MLG_RT_RETURN_IF_ERROR(requireAxis(c, in.rank(), &axis));
  int64_t total = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] < 0 || __builtin_add_overflow(total, sizes[i], &total))
      return c.error("split sizes must be non-negative");
    std::vector<int64_t> shape = *in.shape;
    shape[axis] = sizes[i];
    MLG_RT_RETURN_IF_ERROR(expectResult(c, i, in.dtype, shape));
  }
  if (total != in.dim(axis))
    return c.error("split sizes add up to ", total, " but dimension ", axis,
                   " has ", in.dim(axis));
  return Status();
}

Status runSplit(KernelCall &c) {
  const Tensor &in = c.in[0];
  int64_t axis = *c.attrs().getInt("axis");
  int64_t elem = dtypeBytes(in.dtype);
  int64_t outer = product(*in.shape, 0, axis);
  int64_t inner = product(*in.shape, axis + 1, in.shape->size());
  const uint8_t *s = in.as<uint8_t>();
  for (int64_t r = 0; r < outer; ++r) {
    for (const Tensor &t : c.out) {
      int64_t block = t.dim(axis) * inner * elem;
      std::memcpy(t.as<uint8_t>() + r * block, s, block);
      s += block;
    }
  }
  return Status();
}

//===----------------------------------------------------------------------===//
// slice
//===----------------------------------------------------------------------===//

/// Elements in the normalized [start, end) with step `step`.
int64_t sliceLength(int64_t start, int64_t end, int64_t step) {
  if (step > 0)
    return end > start ? (end - start - 1) / step + 1 : 0;
  return start > end ? (start - end - 1) / -step + 1 : 0;
}

Status checkSlice(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  std::vector<int64_t> starts, ends, steps;
  MLG_RT_RETURN_IF_ERROR(requireInts(c, "starts", &starts));
  MLG_RT_RETURN_IF_ERROR(requireInts(c, "ends", &ends));
  MLG_RT_RETURN_IF_ERROR(requireInts(c, "steps", &steps));
  const Tensor &in = c.in[0];
  int64_t rank = in.rank();
  if (int64_t(starts.size()) != rank || int64_t(ends.size()) != rank ||
      int64_t(steps.size()) != rank)
    return c.error("starts, ends and steps need one entry per dimension (",
                   rank, ")");
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = in.dim(d), s = starts[d], e = ends[d], st = steps[d];
    // The normalized form keeps every visited index inside [0, dim), and
    // excludes INT64_MIN steps, which -step would overflow.
    bool ok = st > 0 ? (0 <= s && s <= dim && 0 <= e && e <= dim)
                     : (st < 0 && st != std::numeric_limits<int64_t>::min() &&
                        -1 <= s && s <= dim - 1 && -1 <= e && e <= dim - 1);
    if (!ok)
      return c.error("dimension ", d, " (size ", dim, "): start ", s, ", end ",
                     e, ", step ", st, " are not normalized");
    shape.push_back(sliceLength(s, e, st));
  }
  return expectResult(c, 0, in.dtype, shape);
}

Status runSlice(KernelCall &c) {
  const Tensor &in = c.in[0], &out = c.out[0];
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
  stridedCopy(in.data, base, *out.shape, strides, out.data,
              dtypeBytes(in.dtype));
  return Status();
}

//===----------------------------------------------------------------------===//
// gather
//===----------------------------------------------------------------------===//

Status checkGather(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 2, 1));
  const Tensor &data = c.in[0], &indices = c.in[1];
  if (indices.dtype != DType::I32 && indices.dtype != DType::I64)
    return c.error("indices must be i32 or i64, got ",
                   dtypeName(indices.dtype));
  int64_t axis;
  MLG_RT_RETURN_IF_ERROR(requireAxis(c, data.rank(), &axis));
  std::vector<int64_t> shape(data.shape->begin(), data.shape->begin() + axis);
  shape.insert(shape.end(), indices.shape->begin(), indices.shape->end());
  shape.insert(shape.end(), data.shape->begin() + axis + 1, data.shape->end());
  return expectResult(c, 0, data.dtype, shape);
}

Status runGather(KernelCall &c) {
  const Tensor &data = c.in[0], &indices = c.in[1], &out = c.out[0];
  int64_t axis = *c.attrs().getInt("axis");
  int64_t dim = data.dim(axis);
  // Every index is checked (and made non-negative) before anything is read:
  // the values come from the program's inputs, which check() cannot see.
  std::vector<int64_t> idx(indices.numel);
  for (int64_t j = 0; j < indices.numel; ++j) {
    int64_t i = indices.dtype == DType::I32 ? int64_t(indices.as<int32_t>()[j])
                                            : indices.as<int64_t>()[j];
    if (i < -dim || i >= dim)
      return c.error("index ", i, " is out of range for dimension ", axis,
                     " of size ", dim);
    idx[j] = i < 0 ? i + dim : i;
  }
  int64_t elem = dtypeBytes(data.dtype);
  int64_t outer = product(*data.shape, 0, axis);
  int64_t block = product(*data.shape, axis + 1, data.shape->size()) * elem;
  const uint8_t *s = data.as<uint8_t>();
  uint8_t *o = out.as<uint8_t>();
  for (int64_t r = 0; r < outer; ++r) {
    for (int64_t i : idx) {
      std::memcpy(o, s + (r * dim + i) * block, block);
      o += block;
    }
  }
  return Status();
}

//===----------------------------------------------------------------------===//
// pad
//===----------------------------------------------------------------------===//

Status checkPad(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  std::vector<int64_t> pads;
  MLG_RT_RETURN_IF_ERROR(requireInts(c, "pads", &pads));
  std::optional<PadMode> mode = padMode(c);
  if (!mode)
    return c.error("needs 'mode' to be constant, reflect or edge");
  if (*mode == PadMode::Constant && !c.attrs().getFloat("value"))
    return c.error("constant padding needs the float attribute 'value'");
  const Tensor &in = c.in[0];
  std::vector<int64_t> shape;
  MLG_RT_RETURN_IF_ERROR(paddedShape(c, in, pads, *mode, &shape));
  return expectResult(c, 0, in.dtype, shape);
}

/// `v` as storage type T: saturating for integers (NaN gives 0), != 0 for
/// bool, so no value is undefined behaviour.
template <typename T> T padValue(double v, bool isBool) {
  using C = typename Elem<T>::Compute;
  if (isBool)
    return T(v != 0 ? 1 : 0);
  if constexpr (std::is_integral_v<C>) {
    if (std::isnan(v))
      return T(0);
    if (v <= double(std::numeric_limits<C>::lowest()))
      return std::numeric_limits<C>::lowest();
    if (v >= double(std::numeric_limits<C>::max()))
      return std::numeric_limits<C>::max();
    return T(C(v));
  } else {
    return Elem<T>::store(C(v));
  }
}

Status runPad(KernelCall &c) {
  const Tensor &in = c.in[0], &out = c.out[0];
  if (out.numel == 0)
    return Status();
  PadMode mode = *padMode(c);
  std::vector<int64_t> pads = *c.attrs().getInts("pads");
  double value = c.attrs().getFloat("value").value_or(0.0);
  int64_t rank = in.rank(), elem = dtypeBytes(in.dtype);
  const uint8_t *s = in.as<uint8_t>();
  uint8_t *o = out.as<uint8_t>();
  if (rank == 0) {
    std::memcpy(o, s, elem);
    return Status();
  }
  // The constant as one element, and a whole result row of it.
  uint8_t fill[8] = {};
  if (mode == PadMode::Constant)
    MLG_RT_RETURN_IF_ERROR(dispatchAny(in.dtype, [&]<typename T>() {
      T v = padValue<T>(value, in.dtype == DType::Bool);
      std::memcpy(fill, &v, sizeof(T));
      return Status();
    }));
  int64_t last = rank - 1, outLast = out.dim(last), inLast = in.dim(last);
  std::vector<uint8_t> fillRow(outLast * elem);
  for (int64_t j = 0; j < outLast; ++j)
    std::memcpy(fillRow.data() + j * elem, fill, elem);
  // Along the last dimension, result indices [lo, hi) read the operand
  // contiguously; the others are padding, each with its source index.
  int64_t before = pads[last];
  int64_t lo = std::clamp<int64_t>(before, 0, outLast);
  int64_t hi = std::clamp<int64_t>(before + inLast, lo, outLast);
  std::vector<int64_t> lastSrc(outLast);
  for (int64_t j = 0; j < outLast; ++j)
    lastSrc[j] = padSource(j, before, inLast, mode);
  // Walk the result's rows (every index but the last); each maps to one
  // operand row, or to none when a dimension falls in constant padding.
  std::vector<int64_t> inStrides = stridesOf(*in.shape);
  std::vector<int64_t> counter(rank - 1, 0);
  int64_t rows = out.numel / outLast;
  for (int64_t r = 0; r < rows; ++r, o += outLast * elem) {
    int64_t row = 0;
    bool inside = true;
    for (int64_t d = 0; d < last && inside; ++d) {
      int64_t i = padSource(counter[d], pads[d], in.dim(d), mode);
      inside = i >= 0;
      row += i * inStrides[d];
    }
    if (!inside) {
      std::memcpy(o, fillRow.data(), outLast * elem);
    } else {
      const uint8_t *src = s + row * elem;
      for (int64_t j = 0; j < lo; ++j)
        std::memcpy(o + j * elem,
                    lastSrc[j] < 0 ? fill : src + lastSrc[j] * elem, elem);
      if (hi > lo)
        std::memcpy(o + lo * elem, src + (lo - before) * elem,
                    (hi - lo) * elem);
      for (int64_t j = hi; j < outLast; ++j)
        std::memcpy(o + j * elem,
                    lastSrc[j] < 0 ? fill : src + lastSrc[j] * elem, elem);
    }
    for (int64_t d = last - 1; d >= 0; --d) {
      if (++counter[d] < out.dim(d))
        break;
      counter[d] = 0;
    }
  }
  return Status();
}

//===----------------------------------------------------------------------===//
// expand and tile
//===----------------------------------------------------------------------===//

Status checkExpand(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  const Tensor &in = c.in[0], &out = c.out[0];
  auto shape = broadcast(*in.shape, *out.shape);
  if (!shape || *shape != *out.shape)
    return c.error("cannot broadcast ", shapeString(*in.shape), " to ",
                   shapeString(*out.shape));
  return expectResult(c, 0, in.dtype, *out.shape);
}

Status runExpand(KernelCall &c) {
  const Tensor &in = c.in[0], &out = c.out[0];
  // The operand aligned to the result's trailing dimensions, with stride 0
  // where it has size 1 (or no dimension at all).
  std::vector<int64_t> inStrides = stridesOf(*in.shape);
  std::vector<int64_t> strides(out.rank(), 0);
  int64_t off = out.rank() - in.rank();
  for (int64_t d = 0; d < in.rank(); ++d)
    strides[off + d] = in.dim(d) == 1 ? 0 : inStrides[d];
  stridedCopy(in.data, 0, *out.shape, strides, out.data, dtypeBytes(in.dtype));
  return Status();
}

Status checkTile(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  std::vector<int64_t> repeats;
  MLG_RT_RETURN_IF_ERROR(requireInts(c, "repeats", &repeats));
  const Tensor &in = c.in[0];
  if (int64_t(repeats.size()) != in.rank())
    return c.error("repeats has ", repeats.size(), " entries for rank ",
                   in.rank());
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < in.rank(); ++d) {
    int64_t size;
    if (repeats[d] < 0 || __builtin_mul_overflow(in.dim(d), repeats[d], &size))
      return c.error("repeats must be non-negative and the result size must "
                     "fit in 64 bits");
    shape.push_back(size);
  }
  return expectResult(c, 0, in.dtype, shape);
}

Status runTile(KernelCall &c) {
  const Tensor &in = c.in[0], &out = c.out[0];
  std::vector<int64_t> repeats = *c.attrs().getInts("repeats");
  // Result dimension d of size repeats[d] * dim(d) is, row-major, the pair
  // (repeat, index): a view of shape [r0, d0, r1, d1, ...] whose repeat
  // dimensions have stride 0.
  std::vector<int64_t> inStrides = stridesOf(*in.shape), shape, strides;
  for (int64_t d = 0; d < in.rank(); ++d) {
    shape.insert(shape.end(), {repeats[d], in.dim(d)});
    strides.insert(strides.end(), {0, inStrides[d]});
  }
  stridedCopy(in.data, 0, shape, strides, out.data, dtypeBytes(in.dtype));
  return Status();
}

} // namespace

void registerTensorKernels(KernelRegistry &r) {
  r.add({"shape", checkShape, runShape});
  r.add({"transpose", checkTranspose, runTranspose});
  r.add({"concat", checkConcat, runConcat});
  r.add({"split", checkSplit, runSplit});
  r.add({"slice", checkSlice, runSlice});
  r.add({"gather", checkGather, runGather});
  r.add({"pad", checkPad, runPad});
  r.add({"expand", checkExpand, runExpand});
  r.add({"tile", checkTile, runTile});
}

} // namespace mlg_rt::cpu

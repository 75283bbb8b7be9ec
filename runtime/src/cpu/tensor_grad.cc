// tensor_grad.cc - backward kernels of the elementwise and layout ops (see
// dialects/MLG/MLGTensorGradOps.td).
//
// The activation backwards are elementwise over three tensors of one type
// and shape and read element i of both operands before writing element i of
// the result, so the result may alias either operand (the plan's in-place
// reuse). The layout backwards fill their result with zeros and then write
// the incoming gradient where the forward op read its operand: a slice
// visits each position once, so slice_backward copies bytes (any element
// type); padding and gather may visit a position several times, so
// pad_backward and gather_backward add, in the element type's compute type
// (float for f16 and bf16). check() recomputes the forward op's result shape
// from the result and the attributes and compares it with dy's; the only
// thing it cannot see is gather's index values, which run() validates
// before writing anything.

#include "common.h"
#include "pad.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>

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

Status requireInts(const KernelCall &c, const char *name,
                   std::vector<int64_t> *out) {
  auto v = c.attrs().getInts(name);
  if (!v)
    return c.error("needs the integer list attribute '", name, "'");
  *out = std::move(*v);
  return Status();
}

int64_t product(const std::vector<int64_t> &shape, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t d = from; d < to; ++d)
    n *= shape[d];
  return n;
}

/// Errors unless dy's shape is `expected` (what the forward op gives for
/// an operand of dx's shape).
Status expectDyShape(const KernelCall &c,
                     const std::vector<int64_t> &expected) {
  if (*c.in[0].shape != expected)
    return c.error("dy has shape ", shapeString(*c.in[0].shape),
                   ", the forward result of this dx has ",
                   shapeString(expected));
  return Status();
}

//===----------------------------------------------------------------------===//
// Activations: relu, sigmoid, tanh, clip
//===----------------------------------------------------------------------===//

/// dy, a forward value and dx: one float type, one shape.
Status checkActivationBackward(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 2, 1));
  const Tensor &dy = c.in[0], &v = c.in[1], &dx = c.out[0];
  if (!isFloat(dy.dtype))
    return c.error("needs a floating-point gradient, got ",
                   dtypeName(dy.dtype));
  if (v.dtype != dy.dtype || dx.dtype != dy.dtype || !sameShape(v, dy) ||
      !sameShape(dx, dy))
    return c.error("dy, the forward value and dx must have one type and "
                   "shape");
  return Status();
}

/// dx[i] = f(dy[i], v[i]) in the compute type.
template <typename F> Status runActivationBackward(KernelCall &c, F f) {
  return dispatchFloat(c.in[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    const T *dy = c.in[0].as<T>(), *v = c.in[1].as<T>();
    T *dx = c.out[0].as<T>();
    for (int64_t i = 0; i < c.in[0].numel; ++i)
      dx[i] = Elem<T>::store(C(f(Elem<T>::load(dy[i]), Elem<T>::load(v[i]))));
    return Status();
  });
}

Status runReluBackward(KernelCall &c) {
  return runActivationBackward(
      c, [](auto g, auto y) { return y > 0 ? g : decltype(g)(0); });
}

Status runSigmoidBackward(KernelCall &c) {
  return runActivationBackward(
      c, [](auto g, auto y) { return g * y * (decltype(y)(1) - y); });
}

Status runTanhBackward(KernelCall &c) {
  return runActivationBackward(
      c, [](auto g, auto y) { return g * (decltype(y)(1) - y * y); });
}

Status checkClipBackward(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(checkActivationBackward(c));
  for (const char *bound : {"min", "max"})
    if (c.attrs().has(bound) && !c.attrs().getFloat(bound))
      return c.error("'", bound, "' must be a number");
  return Status();
}

Status runClipBackward(KernelCall &c) {
  double lo = c.attrs().getFloat("min").value_or(-INFINITY);
  double hi = c.attrs().getFloat("max").value_or(INFINITY);
  return dispatchFloat(c.in[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    // The bounds as the forward kernel compares them.
    C l = C(lo), h = C(hi);
    const T *dy = c.in[0].as<T>(), *x = c.in[1].as<T>();
    T *dx = c.out[0].as<T>();
    for (int64_t i = 0; i < c.in[0].numel; ++i) {
      C v = Elem<T>::load(x[i]);
      dx[i] = v >= l && v <= h ? dy[i] : Elem<T>::store(C(0));
    }
    return Status();
  });
}

//===----------------------------------------------------------------------===//
// slice_backward
//===----------------------------------------------------------------------===//

/// Elements in the normalized [start, end) with step `step`.
int64_t sliceLength(int64_t start, int64_t end, int64_t step) {
  if (step > 0)
    return end > start ? (end - start - 1) / step + 1 : 0;
  return start > end ? (start - end - 1) / -step + 1 : 0;
}

Status checkSliceBackward(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  const Tensor &dy = c.in[0], &dx = c.out[0];
  if (dx.dtype != dy.dtype)
    return c.error("dx and dy must have one element type");
  std::vector<int64_t> starts, ends, steps;
  MLG_RT_RETURN_IF_ERROR(requireInts(c, "starts", &starts));
  MLG_RT_RETURN_IF_ERROR(requireInts(c, "ends", &ends));
  MLG_RT_RETURN_IF_ERROR(requireInts(c, "steps", &steps));
  int64_t rank = dx.rank();
  if (int64_t(starts.size()) != rank || int64_t(ends.size()) != rank ||
      int64_t(steps.size()) != rank)
    return c.error("starts, ends and steps need one entry per dimension (",
                   rank, ")");
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = dx.dim(d), s = starts[d], e = ends[d], st = steps[d];
    // As the forward slice: every visited index inside [0, dim), and no
    // INT64_MIN step, which -step would overflow.
    bool ok = st > 0 ? (0 <= s && s <= dim && 0 <= e && e <= dim)
                     : (st < 0 && st != std::numeric_limits<int64_t>::min() &&
                        -1 <= s && s <= dim - 1 && -1 <= e && e <= dim - 1);
    if (!ok)
      return c.error("dimension ", d, " (size ", dim, "): start ", s, ", end ",
                     e, ", step ", st, " are not normalized");
    shape.push_back(sliceLength(s, e, st));
  }
  return expectDyShape(c, shape);
}

Status runSliceBackward(KernelCall &c) {
  const Tensor &dy = c.in[0], &dx = c.out[0];
  int64_t elem = dtypeBytes(dx.dtype);
  // All-zero bytes are zero in every element type.
  std::memset(dx.data, 0, size_t(dx.numel * elem));
  if (dy.numel == 0)
    return Status(); // starts may be one past the end: touch nothing else
  std::vector<int64_t> starts = *c.attrs().getInts("starts");
  std::vector<int64_t> steps = *c.attrs().getInts("steps");
  std::vector<int64_t> dxStrides = stridesOf(*dx.shape);
  int64_t rank = dx.rank();
  // dy element (i0, i1, ...) goes to dx element sum (start + i step) stride.
  int64_t base = 0;
  std::vector<int64_t> stride(rank);
  for (int64_t d = 0; d < rank; ++d) {
    base += starts[d] * dxStrides[d];
    // A dimension of one element never steps, and its step may be huge.
    stride[d] = dy.dim(d) == 1 ? 0 : steps[d] * dxStrides[d];
  }
  const uint8_t *src = dy.as<uint8_t>();
  uint8_t *dst = dx.as<uint8_t>();
  if (rank == 0) {
    std::memcpy(dst, src, elem);
    return Status();
  }
  int64_t inner = dy.dim(rank - 1), innerStride = stride[rank - 1];
  std::vector<int64_t> counter(rank - 1, 0);
  int64_t offset = base;
  for (int64_t row = 0, rows = dy.numel / inner; row < rows; ++row) {
    for (int64_t i = 0; i < inner; ++i, src += elem)
      std::memcpy(dst + (offset + i * innerStride) * elem, src, elem);
    for (int64_t d = rank - 2; d >= 0; --d) {
      offset += stride[d];
      if (++counter[d] < dy.dim(d))
        break;
      offset -= stride[d] * dy.dim(d);
      counter[d] = 0;
    }
  }
  return Status();
}

//===----------------------------------------------------------------------===//
// pad_backward
//===----------------------------------------------------------------------===//

Status checkPadBackward(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  const Tensor &dy = c.in[0], &dx = c.out[0];
  if (!isFloat(dy.dtype) || dx.dtype != dy.dtype)
    return c.error("needs a floating-point dy and a dx of its type");
  std::vector<int64_t> pads;
  MLG_RT_RETURN_IF_ERROR(requireInts(c, "pads", &pads));
  std::optional<PadMode> mode = padMode(c);
  if (!mode)
    return c.error("needs 'mode' to be constant, reflect or edge");
  std::vector<int64_t> shape;
  MLG_RT_RETURN_IF_ERROR(paddedShape(c, dx, pads, *mode, &shape));
  return expectDyShape(c, shape);
}

Status runPadBackward(KernelCall &c) {
  const Tensor &dy = c.in[0], &dx = c.out[0];
  std::memset(dx.data, 0, size_t(dx.numel * dtypeBytes(dx.dtype)));
  if (dy.numel == 0)
    return Status();
  PadMode mode = *padMode(c);
  std::vector<int64_t> pads = *c.attrs().getInts("pads");
  int64_t rank = dx.rank();
  // Per dimension, the operand index each result index came from (-1: a
  // constant), so the walk below does no index arithmetic.
  std::vector<std::vector<int64_t>> source(rank);
  for (int64_t d = 0; d < rank; ++d)
    for (int64_t o = 0; o < dy.dim(d); ++o)
      source[d].push_back(padSource(o, pads[d], dx.dim(d), mode));
  std::vector<int64_t> dxStrides = stridesOf(*dx.shape);
  return dispatchFloat(dy.dtype, [&]<typename T>() {
    const T *g = dy.as<T>();
    T *out = dx.as<T>();
    auto add = [](T &to, T v) {
      to = Elem<T>::store(Elem<T>::load(to) + Elem<T>::load(v));
    };
    if (rank == 0) {
      out[0] = g[0];
      return Status();
    }
    int64_t last = rank - 1, inner = dy.dim(last);
    const std::vector<int64_t> &lastSource = source[last];
    std::vector<int64_t> counter(last, 0);
    for (int64_t row = 0, rows = dy.numel / inner; row < rows;
         ++row, g += inner) {
      int64_t base = 0;
      bool inside = true;
      for (int64_t d = 0; d < last && inside; ++d) {
        int64_t i = source[d][counter[d]];
        inside = i >= 0;
        base += i * dxStrides[d];
      }
      if (inside)
        for (int64_t j = 0; j < inner; ++j)
          if (lastSource[j] >= 0)
            add(out[base + lastSource[j]], g[j]);
      for (int64_t d = last - 1; d >= 0; --d) {
        if (++counter[d] < dy.dim(d))
          break;
        counter[d] = 0;
      }
    }
    return Status();
  });
}

//===----------------------------------------------------------------------===//
// gather_backward
//===----------------------------------------------------------------------===//

Status checkGatherBackward(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 2, 1));
  const Tensor &dy = c.in[0], &indices = c.in[1], &dx = c.out[0];
  if (!isFloat(dy.dtype) || dx.dtype != dy.dtype)
    return c.error("needs a floating-point dy and a dx of its type");
  if (indices.dtype != DType::I32 && indices.dtype != DType::I64)
    return c.error("indices must be i32 or i64, got ",
                   dtypeName(indices.dtype));
  auto axis = c.attrs().getInt("axis");
  if (!axis)
    return c.error("needs the integer attribute 'axis'");
  if (*axis < 0 || *axis >= dx.rank())
    return c.error("axis ", *axis, " is out of range for rank ", dx.rank());
  std::vector<int64_t> shape(dx.shape->begin(), dx.shape->begin() + *axis);
  shape.insert(shape.end(), indices.shape->begin(), indices.shape->end());
  shape.insert(shape.end(), dx.shape->begin() + *axis + 1, dx.shape->end());
  return expectDyShape(c, shape);
}

Status runGatherBackward(KernelCall &c) {
  const Tensor &dy = c.in[0], &indices = c.in[1], &dx = c.out[0];
  int64_t axis = *c.attrs().getInt("axis");
  int64_t dim = dx.dim(axis);
  // Every index is checked (and made non-negative) before anything is
  // written: the values come from the program's inputs.
  std::vector<int64_t> idx(indices.numel);
  for (int64_t j = 0; j < indices.numel; ++j) {
    int64_t i = indices.dtype == DType::I32 ? int64_t(indices.as<int32_t>()[j])
                                            : indices.as<int64_t>()[j];
    if (i < -dim || i >= dim)
      return c.error("index ", i, " is out of range for dimension ", axis,
                     " of size ", dim);
    idx[j] = i < 0 ? i + dim : i;
  }
  std::memset(dx.data, 0, size_t(dx.numel * dtypeBytes(dx.dtype)));
  int64_t outer = product(*dx.shape, 0, axis);
  int64_t inner = product(*dx.shape, axis + 1, dx.shape->size());
  return dispatchFloat(dy.dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    const T *g = dy.as<T>();
    T *out = dx.as<T>();
    // Row j of dy adds into row idx[j] of dx, outer block by outer block.
    for (int64_t r = 0; r < outer; ++r) {
      for (int64_t i : idx) {
        T *to = out + (r * dim + i) * inner;
        for (int64_t k = 0; k < inner; ++k)
          to[k] = Elem<T>::store(C(Elem<T>::load(to[k]) + Elem<T>::load(g[k])));
        g += inner;
      }
    }
    return Status();
  });
}

} // namespace

void registerTensorGradKernels(KernelRegistry &r) {
  r.add({"relu_backward", checkActivationBackward, runReluBackward});
  r.add({"sigmoid_backward", checkActivationBackward, runSigmoidBackward});
  r.add({"tanh_backward", checkActivationBackward, runTanhBackward});
  r.add({"clip_backward", checkClipBackward, runClipBackward});
  r.add({"slice_backward", checkSliceBackward, runSliceBackward});
  r.add({"pad_backward", checkPadBackward, runPadBackward});
  r.add({"gather_backward", checkGatherBackward, runGatherBackward});
}

} // namespace mlg_rt::cpu

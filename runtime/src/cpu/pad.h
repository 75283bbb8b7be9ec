// pad.h - ONNX Pad's modes and index rule, shared by the pad kernels and
// their gradients on the CPU (tensor.cc, tensor_grad.cc) and the GPU
// (cuda/tensor.cu).

#ifndef MLG_RT_SRC_CPU_PAD_H
#define MLG_RT_SRC_CPU_PAD_H

#include "kernel.h"

#include "mlg_rt/philox.h" // MLG_RT_HOST_DEVICE

#include <cstdint>
#include <optional>
#include <vector>

namespace mlg_rt::cpu {

enum class PadMode { Constant, Reflect, Edge };

/// The step's `mode` attribute, or nothing if it is missing or unknown.
inline std::optional<PadMode> padMode(const KernelCall &c) {
  auto m = c.attrs().getString("mode");
  if (!m)
    return std::nullopt;
  if (*m == "constant")
    return PadMode::Constant;
  if (*m == "reflect")
    return PadMode::Reflect;
  if (*m == "edge")
    return PadMode::Edge;
  return std::nullopt;
}

/// The shape `operand` padded by `pads` (ONNX order: every dimension's
/// begin, then every end; negative pads crop) in `mode` has, into `shape`;
/// an error for a wrong pad count, a negative or overflowing size, a
/// reflection not shorter than its dimension or edge padding of an empty
/// one.
inline Status paddedShape(const KernelCall &c, const Tensor &operand,
                          const std::vector<int64_t> &pads, PadMode mode,
                          std::vector<int64_t> *shape) {
  int64_t rank = operand.rank();
  if (int64_t(pads.size()) != 2 * rank)
    return c.error("pads has ", pads.size(),
                   " entries, expected 2 * rank = ", 2 * rank);
  shape->clear();
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = operand.dim(d), before = pads[d], after = pads[rank + d],
            size;
    if (__builtin_add_overflow(dim, before, &size) ||
        __builtin_add_overflow(size, after, &size) || size < 0)
      return c.error("padding dimension ", d, " (size ", dim, ") by ", before,
                     " and ", after, " gives a negative or overflowing size");
    // One reflection (and edge's clamp) must land inside the dimension.
    if (mode == PadMode::Reflect && (before >= dim || after >= dim) &&
        (before > 0 || after > 0))
      return c.error("reflect padding of dimension ", d,
                     " must be smaller than its size ", dim);
    if (mode == PadMode::Edge && dim == 0 && (before > 0 || after > 0))
      return c.error("edge padding of the empty dimension ", d);
    shape->push_back(size);
  }
  return Status();
}

/// The operand index that result index `o` of a dimension reads, or -1 for
/// constant padding. Negative pads crop: `o - before` is then inside. The
/// CUDA kernels call it on the device.
MLG_RT_HOST_DEVICE inline int64_t padSource(int64_t o, int64_t before,
                                            int64_t dim, PadMode mode) {
  int64_t i = o - before;
  if (i >= 0 && i < dim)
    return i;
  switch (mode) {
  case PadMode::Constant:
    return -1;
  case PadMode::Edge:
    return i < 0 ? 0 : dim - 1;
  case PadMode::Reflect:
    return i < 0 ? -i : 2 * (dim - 1) - i;
  }
  return -1;
}

} // namespace mlg_rt::cpu

#endif // MLG_RT_SRC_CPU_PAD_H

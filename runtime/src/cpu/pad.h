// pad.h - ONNX Pad's modes and index rule, shared by the pad kernels and
// their gradients on the CPU (tensor.cc, tensor_grad.cc) and the GPU
// (cuda/tensor.cu).

#ifndef MLG_RT_SRC_CPU_PAD_H
#define MLG_RT_SRC_CPU_PAD_H

#include "kernel.h"

#include "mlg_rt/philox.h" // MLG_RT_HOST_DEVICE

#include <cstdint>
#include <optional>

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

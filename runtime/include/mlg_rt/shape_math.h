// shape_math.h - shape arithmetic shared by the compiler and the runtime.
//
// Header-only and dependency-free: the compiler's shape inference
// (dialects/MLG/ShapeUtils.cpp) and the runtime's kernel checks call the same
// functions, so a program the compiler accepts is one the runtime accepts.

#ifndef MLG_RT_SHAPE_MATH_H
#define MLG_RT_SHAPE_MATH_H

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace mlg_rt {

/// NumPy multidirectional broadcast of two shapes, or nothing if they are
/// incompatible.
inline std::optional<std::vector<int64_t>>
broadcastShapes(const int64_t *a, size_t ra, const int64_t *b, size_t rb) {
  size_t rank = std::max(ra, rb);
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - ra ? 1 : a[i - (rank - ra)];
    int64_t db = i < rank - rb ? 1 : b[i - (rank - rb)];
    if (da == db || db == 1)
      out[i] = da;
    else if (da == 1)
      out[i] = db;
    else
      return std::nullopt;
  }
  return out;
}

/// Output size of one sliding-window dimension (convolution or pooling), or
/// nothing if the window does not fit. With ceil mode the last window may
/// start inside the input or its leading padding and run past the end
/// (PyTorch's rule, and later ONNX opsets').
inline std::optional<int64_t> windowOutputSize(int64_t in, int64_t kernel,
                                               int64_t stride, int64_t dilation,
                                               int64_t padBegin, int64_t padEnd,
                                               bool ceilMode) {
  if (in < 0 || kernel <= 0 || stride <= 0 || dilation <= 0 || padBegin < 0 ||
      padEnd < 0)
    return std::nullopt;
  int64_t span, padded;
  if (__builtin_mul_overflow(kernel - 1, dilation, &span) ||
      __builtin_add_overflow(in, padBegin, &padded) ||
      __builtin_add_overflow(padded, padEnd, &padded))
    return std::nullopt;
  int64_t room = padded - (span + 1);
  if (room < 0)
    return std::nullopt;
  int64_t out = room / stride + 1;
  if (ceilMode && room % stride != 0) {
    ++out;
    if ((out - 1) * stride >= in + padBegin)
      --out;
  }
  return out;
}

} // namespace mlg_rt

#endif // MLG_RT_SHAPE_MATH_H

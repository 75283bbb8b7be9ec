//===- ShapeUtils.cpp - shape arithmetic shared by ops and import ---------===//
//
// Every product of dimensions is overflow-checked: an ONNX file can declare
// any shape, and a wrapped byte count would plan memory for the wrong size.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace mlg {

std::optional<int64_t> checkedNumElements(llvm::ArrayRef<int64_t> shape) {
  if (llvm::any_of(shape, [](int64_t d) { return d < 0; }))
    return std::nullopt;
  // An empty dimension makes the tensor empty, however large the others.
  if (llvm::is_contained(shape, 0))
    return 0;
  int64_t n = 1;
  for (int64_t d : shape)
    if (llvm::MulOverflow(n, d, n))
      return std::nullopt;
  return n;
}

std::optional<int64_t> elementByteSize(Type type) {
  if (type.isInteger(1))
    return 1;
  if (type.isIntOrFloat())
    return (type.getIntOrFloatBitWidth() + 7) / 8;
  return std::nullopt;
}

std::optional<int64_t> checkedByteSize(ShapedType type) {
  if (!type.hasStaticShape())
    return std::nullopt;
  std::optional<int64_t> n = checkedNumElements(type.getShape());
  std::optional<int64_t> e = elementByteSize(type.getElementType());
  int64_t bytes;
  if (!n || !e || llvm::MulOverflow(*n, *e, bytes))
    return std::nullopt;
  return bytes;
}

std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  llvm::SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == db || db == 1)
      out[i] = da;
    else if (da == 1)
      out[i] = db;
    else
      return std::nullopt;
  }
  return out;
}

std::optional<int64_t> windowOutputSize(int64_t in, int64_t kernel,
                                        int64_t stride, int64_t dilation,
                                        int64_t padBegin, int64_t padEnd,
                                        bool ceilMode) {
  if (in < 0 || kernel <= 0 || stride <= 0 || dilation <= 0)
    return std::nullopt;
  int64_t span, padded;
  if (llvm::MulOverflow(kernel - 1, dilation, span) ||
      llvm::AddOverflow(in, padBegin, padded) ||
      llvm::AddOverflow(padded, padEnd, padded))
    return std::nullopt;
  int64_t room = padded - (span + 1);
  if (room < 0)
    return std::nullopt;
  int64_t out = room / stride + 1;
  if (ceilMode && room % stride != 0) {
    ++out;
    // As PyTorch and later ONNX opsets: the last window must start inside
    // the input or its leading padding.
    if ((out - 1) * stride >= in + padBegin)
      --out;
  }
  return out;
}

} // namespace mlg

//===- ShapeUtils.cpp - shape arithmetic shared by ops and import ---------===//
//
// Every product of dimensions is overflow-checked: an ONNX file can declare
// any shape, and a wrapped byte count would plan memory for the wrong size.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "mlg_rt/shape_math.h"

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

// The two below are the runtime's (mlg_rt/shape_math.h), so that a program
// the compiler accepts is one the runtime's kernel checks accept.

std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b) {
  auto out = mlg_rt::broadcastShapes(a.data(), a.size(), b.data(), b.size());
  if (!out)
    return std::nullopt;
  return llvm::SmallVector<int64_t>(out->begin(), out->end());
}

std::optional<int64_t> windowOutputSize(int64_t in, int64_t kernel,
                                        int64_t stride, int64_t dilation,
                                        int64_t padBegin, int64_t padEnd,
                                        bool ceilMode) {
  return mlg_rt::windowOutputSize(in, kernel, stride, dilation, padBegin,
                                  padEnd, ceilMode);
}

} // namespace mlg

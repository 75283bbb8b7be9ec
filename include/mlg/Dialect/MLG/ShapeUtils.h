//===- ShapeUtils.h - shape arithmetic shared by ops and import -*- C++ -*-===//
//
// Overflow-checked element and byte counts, NumPy broadcasting and the window
// arithmetic of convolution and pooling. The op verifiers and the ONNX
// importer both use these, so a shape is judged the same way everywhere.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_SHAPEUTILS_H
#define MLG_DIALECT_MLG_SHAPEUTILS_H

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <optional>

namespace mlg {

/// The number of elements of `shape`, or nothing if a dimension is negative
/// (dynamic) or the product does not fit in int64.
std::optional<int64_t> checkedNumElements(llvm::ArrayRef<int64_t> shape);

/// Bytes of one element of `type` (i1 is stored as one byte), or nothing for
/// a type mlg does not store.
std::optional<int64_t> elementByteSize(mlir::Type type);

/// Bytes of a static-shaped tensor, or nothing on overflow or dynamic shape.
std::optional<int64_t> checkedByteSize(mlir::ShapedType type);

/// NumPy multidirectional broadcast of two shapes, or nothing if they are
/// incompatible.
std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);

/// Output size of one sliding-window dimension (convolution or pooling), or
/// nothing if the window does not fit. `padBegin + padEnd` is added to `in`.
std::optional<int64_t> windowOutputSize(int64_t in, int64_t kernel,
                                        int64_t stride, int64_t dilation,
                                        int64_t padBegin, int64_t padEnd,
                                        bool ceilMode);

} // namespace mlg

#endif // MLG_DIALECT_MLG_SHAPEUTILS_H

//===- FoldUtils.h - constant folding helpers for mlg ops -------*- C++ -*-===//
//
// Folding works on DenseElementsAttr values of bounded size: enough for shape
// arithmetic and small constants, never for weights.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_FOLDUTILS_H
#define MLG_DIALECT_MLG_FOLDUTILS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APInt.h"

namespace mlg {

/// `type` as a static-shaped ranked tensor type, or null. Shape inference
/// runs before verification on imported ops, so it checks its operands.
inline mlir::RankedTensorType getStaticTensorType(mlir::Type type) {
  auto ranked = mlir::dyn_cast<mlir::RankedTensorType>(type);
  return ranked && ranked.hasStaticShape() ? ranked : nullptr;
}

/// Folds produce at most this many elements.
constexpr int64_t kMaxFoldElements = 1 << 18;

/// The operand as dense elements small enough to fold, or null.
mlir::DenseElementsAttr getFoldable(mlir::Attribute attr);

/// True for unsigned integer types and i1 (ONNX bool).
bool isUnsignedLike(mlir::Type elementType);

/// For every flat index of `outShape`, the flat index into a tensor of
/// `inShape` that broadcasts to it.
llvm::SmallVector<int64_t> broadcastIndexMap(llvm::ArrayRef<int64_t> outShape,
                                             llvm::ArrayRef<int64_t> inShape);

/// Row-major strides of `shape`.
llvm::SmallVector<int64_t> rowMajorStrides(llvm::ArrayRef<int64_t> shape);

} // namespace mlg

#endif // MLG_DIALECT_MLG_FOLDUTILS_H

//===- GradientUtils.h - building blocks of op gradients --------*- C++ -*-===//
//
// What the ops' buildGradient implementations share: undoing broadcasting,
// scalar constants, reshapes and expansions. Every helper creates mlg ops at
// the builder's insertion point and returns their result.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_GRADIENTUTILS_H
#define MLG_DIALECT_MLG_GRADIENTUTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlg {

/// Sums `grad` over the dimensions NumPy broadcasting added or stretched to
/// give it `target`'s shape: the gradient of an operand that was broadcast.
/// Returns `grad` unchanged when the shapes already agree.
mlir::Value sumToShape(mlir::OpBuilder &b, mlir::Location loc, mlir::Value grad,
                       mlir::ShapedType target);

/// A rank-0 constant of `elementType` (broadcasts against any tensor).
mlir::Value scalarConstant(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Type elementType, double value);

/// `value` viewed under `shape` (same element count); no op if equal.
mlir::Value reshapeTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value,
                      llvm::ArrayRef<int64_t> shape);

/// `value` broadcast (NumPy rules) to `shape`; no op if equal.
mlir::Value expandTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value,
                     llvm::ArrayRef<int64_t> shape);

/// The element type of a tensor value.
mlir::Type elementTypeOf(mlir::Value value);

/// The static shape of a tensor value.
llvm::ArrayRef<int64_t> shapeOf(mlir::Value value);

} // namespace mlg

#endif // MLG_DIALECT_MLG_GRADIENTUTILS_H

//===- MLGInterfaces.h - mlg op interfaces and traits -----------*- C++ -*-===//
//
// The workspace interface and the in-place trait the memory passes query;
// the gradient and global-update interfaces of training.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGINTERFACES_H
#define MLG_DIALECT_MLG_MLGINTERFACES_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

namespace mlg {
/// A ranked tensor of floating-point elements: what has a gradient.
bool isDifferentiableType(mlir::Type type);

/// An elementwise op whose result may reuse the buffer of a same-sized operand
/// that dies at the op.
template <typename ConcreteType>
class InPlaceElementwise
    : public mlir::OpTrait::TraitBase<ConcreteType, InPlaceElementwise> {};
} // namespace mlg

#include "mlg/Dialect/MLG/MLGInterfaces.h.inc"

#endif // MLG_DIALECT_MLG_MLGINTERFACES_H

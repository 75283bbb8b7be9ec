//===- MLGDialect.h - the mlg dialect ---------------------------*- C++ -*-===//
//
// Declares the mlg dialect: static-shaped tensor ops with ONNX semantics.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGDIALECT_H
#define MLG_DIALECT_MLG_MLGDIALECT_H

#include "mlir/IR/Dialect.h"

#include "mlg/Dialect/MLG/MLGDialect.h.inc"

#endif // MLG_DIALECT_MLG_MLGDIALECT_H

//===- MLGOps.h - mlg ops ---------------------------------------*- C++ -*-===//
//
// The op classes of the mlg dialect (generated from dialects/MLG/*.td).
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGOPS_H
#define MLG_DIALECT_MLG_MLGOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "mlg/Dialect/MLG/MLGDialect.h"
#include "mlg/Dialect/MLG/MLGInterfaces.h"

#include "mlg/Dialect/MLG/MLGEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "mlg/Dialect/MLG/MLGAttributes.h.inc"

#define GET_OP_CLASSES
#include "mlg/Dialect/MLG/MLGOps.h.inc"

#endif // MLG_DIALECT_MLG_MLGOPS_H

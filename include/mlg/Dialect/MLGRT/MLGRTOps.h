//===- MLGRTOps.h - the runtime dialect -------------------------*- C++ -*-===//
//
// Buffers at arena offsets and kernel steps: the lowered program
// (generated from dialects/MLGRT/MLGRTOps.td).
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLGRT_MLGRTOPS_H
#define MLG_DIALECT_MLGRT_MLGRTOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/RegionKindInterface.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "mlg/Dialect/MLGRT/MLGRTDialect.h.inc"
#include "mlg/Dialect/MLGRT/MLGRTEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "mlg/Dialect/MLGRT/MLGRTAttributes.h.inc"

#define GET_OP_CLASSES
#include "mlg/Dialect/MLGRT/MLGRTOps.h.inc"

#endif // MLG_DIALECT_MLGRT_MLGRTOPS_H

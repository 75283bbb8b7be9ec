//===- Passes.h - mlg passes ------------------------------------*- C++ -*-===//
//
// Declarations of every mlg pass (generated from passes/Passes.td) and their
// registration.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_PASSES_PASSES_H
#define MLG_PASSES_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include "mlg/Dialect/MLGRT/MLGRTOps.h"

#include <memory>

namespace mlg {

#define GEN_PASS_DECL
#include "mlg/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "mlg/Passes/Passes.h.inc"

} // namespace mlg

#endif // MLG_PASSES_PASSES_H

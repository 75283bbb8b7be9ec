//===- InitAll.h - register everything mlg provides -------------*- C++ -*-===//
//
// What a tool or an embedding compiler calls to get mlg's dialects and
// passes, as upstream's InitAllDialects.h / InitAllPasses.h.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_INITALL_H
#define MLG_INITALL_H

#include "mlg/Dialect/MLG/MLGDialect.h"
#include "mlg/Dialect/MLGRT/MLGRTOps.h"
#include "mlg/Passes/Passes.h"
#include "mlg/Passes/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

namespace mlg {

/// The dialects of mlg programs: mlg, the runtime dialect mlgrt, and the
/// upstream dialects imported models use (func, ml_program).
inline void registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<MLGDialect, rt::MLGRTDialect, mlir::func::FuncDialect,
                  mlir::ml_program::MLProgramDialect>();
}

/// mlg's passes and pipelines, plus upstream's generic transformations
/// (canonicalize, cse, symbol-dce, ...).
inline void registerAllPasses() {
  registerMLGPasses();
  registerMLGPipelines();
  mlir::registerTransformsPasses();
}

} // namespace mlg

#endif // MLG_INITALL_H

//===- Program.h - runtime programs to and from .mlgp files -----*- C++ -*-===//
//
// Serializes an mlgrt.program into the Protobuf format defined in
// runtime/proto/program.proto (with its magic header and version), and reads
// one back into the runtime dialect. mlg-translate exposes both as
// --mlg-to-program and --mlg-program-to-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_TARGET_PROGRAM_PROGRAM_H
#define MLG_TARGET_PROGRAM_PROGRAM_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/raw_ostream.h"

namespace mlg {

/// Writes the single mlgrt.program in `module` as a .mlgp file to `os`.
/// Emits diagnostics and fails if the module holds no program or several,
/// or something in it has no encoding.
mlir::LogicalResult writeProgram(mlir::ModuleOp module, llvm::raw_ostream &os);

/// Reads a .mlgp file's bytes into a module holding one mlgrt.program.
/// Emits a diagnostic at `loc` and returns null if the file is not a valid
/// program.
mlir::OwningOpRef<mlir::ModuleOp> readProgram(llvm::StringRef bytes,
                                              mlir::Location loc);

/// Registers the translations --mlg-to-program and --mlg-program-to-mlir.
void registerProgramTranslations();

} // namespace mlg

#endif // MLG_TARGET_PROGRAM_PROGRAM_H

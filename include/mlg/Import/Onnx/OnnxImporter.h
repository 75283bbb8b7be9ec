//===- OnnxImporter.h - ONNX model to the mlg dialect -----------*- C++ -*-===//
//
// Imports an ONNX ModelProto into a module holding `func.func @forward` over
// mlg ops, with the initializers as `ml_program.global`s. Every shape is
// static after import: symbolic dimensions are bound by the options, and a
// dimension left dynamic is an error naming the input and the dimension.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_IMPORT_ONNX_ONNXIMPORTER_H
#define MLG_IMPORT_ONNX_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mlg {

struct OnnxImportOptions {
  /// Binds the symbolic (or unknown) leading dimension of every input.
  std::optional<int64_t> batchSize;
  /// Whole shapes of named inputs ("NAME:AxBxC" on the command line).
  std::vector<std::pair<std::string, std::vector<int64_t>>> inputShapes;
  /// Inputs bound to the value in a serialized TensorProto file; they become
  /// constants (node tests feed shape operands this way).
  std::vector<std::pair<std::string, std::string>> boundInputs;
  /// Load every initializer's data as a `dense_resource` blob. Without it,
  /// parameters are `#ml_program.extern` references by initializer name.
  bool importWeights = false;
  /// Name of the imported function.
  std::string functionName = "forward";
};

/// Imports the ONNX model at `path`. Errors are emitted as diagnostics on
/// `context`, located at the file and the node; returns null after an error.
mlir::OwningOpRef<mlir::ModuleOp>
importOnnxFile(llvm::StringRef path, mlir::MLIRContext *context,
               const OnnxImportOptions &options);

/// Parses "NAME:AxBxC" (a scalar is "NAME:"). Returns false and sets `error`
/// on malformed text.
bool parseInputShapeSpec(llvm::StringRef spec, std::string &name,
                         std::vector<int64_t> &dims, std::string &error);

/// Parses "NAME=PATH".
bool parseBindInputSpec(llvm::StringRef spec, std::string &name,
                        std::string &path, std::string &error);

/// The dialects imported IR uses.
void registerOnnxImportDialects(mlir::DialectRegistry &registry);

/// The ONNX operator types (default domain) the importer handles, sorted.
std::vector<std::string> getSupportedOnnxOps();

} // namespace mlg

#endif // MLG_IMPORT_ONNX_ONNXIMPORTER_H

//===- ModelFile.h - an ONNX file read without its weights ------*- C++ -*-===//
//
// Reads an ONNX ModelProto from a memory-mapped file while leaving the
// initializers' raw_data where it lies in the file, and resolves the bytes of
// any tensor (inline, in the mapped file, or in external data) on demand. So
// importing a 500 MB model without its weights touches only its graph.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_LIB_IMPORT_ONNX_MODELFILE_H
#define MLG_LIB_IMPORT_ONNX_MODELFILE_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"

#include "onnx/onnx_pb.h"

#include <memory>
#include <string>

namespace mlg::onnx_import {

/// The bytes of one tensor, kept alive by `owner` (a mapped file) or held in
/// `storage` when they had to be converted.
struct TensorBytes {
  llvm::ArrayRef<char> data;
  std::shared_ptr<const llvm::MemoryBuffer> owner;
  std::shared_ptr<std::string> storage;
};

class ModelFile {
public:
  /// Maps and parses `path`. Emits a diagnostic at `loc` and fails on any
  /// unreadable, empty, oversized or malformed file.
  static mlir::FailureOr<std::unique_ptr<ModelFile>> open(llvm::StringRef path,
                                                          mlir::Location loc);

  onnx::ModelProto &model() { return model_; }
  const onnx::ModelProto &model() const { return model_; }
  llvm::StringRef path() const { return path_; }

  /// The bytes of `tensor`, checked against the element count its dims and
  /// data type imply. `what` names the tensor in diagnostics. With `inModel`
  /// false the tensor comes from elsewhere (a bound input) and may only hold
  /// inline data.
  mlir::FailureOr<TensorBytes> getBytes(const onnx::TensorProto &tensor,
                                        mlir::Location loc,
                                        const llvm::Twine &what,
                                        bool inModel = true) const;

  /// Checks that `tensor` has data of the size its type needs, reading as
  /// little as possible (nothing for data left in the file).
  mlir::LogicalResult checkData(const onnx::TensorProto &tensor,
                                mlir::Location loc,
                                const llvm::Twine &what) const;

  /// Whether `tensor` is an initializer whose raw data was left in the file.
  bool hasDataInFile(const onnx::TensorProto &tensor) const {
    return !tensor.has_raw_data() && rawData_.count(tensor.name());
  }

  /// Puts every initializer's data back into the ModelProto, for libonnx code
  /// that needs whole tensors (the version converter).
  mlir::LogicalResult inlineAllData(mlir::Location loc);

private:
  ModelFile() = default;
  mlir::FailureOr<TensorBytes> getExternalBytes(const onnx::TensorProto &tensor,
                                                mlir::Location loc,
                                                const llvm::Twine &what) const;

  std::string path_;
  std::string directory_;
  uint64_t size_ = 0;
  onnx::ModelProto model_;
  /// Where each stripped initializer's raw_data lies in the file.
  struct Span {
    uint64_t offset, size;
  };
  llvm::StringMap<Span> rawData_;
  mutable llvm::StringMap<std::shared_ptr<const llvm::MemoryBuffer>> external_;
};

/// Checks that an external-data `location` stays inside `directory`: no
/// absolute path, no `..`, and no symbolic link leading out of it. Returns the
/// resolved path or an explanation.
mlir::FailureOr<std::string> resolveExternalPath(llvm::StringRef directory,
                                                 llvm::StringRef location,
                                                 std::string &why);

} // namespace mlg::onnx_import

#endif // MLG_LIB_IMPORT_ONNX_MODELFILE_H

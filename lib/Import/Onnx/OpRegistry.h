//===- OpRegistry.h - ONNX operator importers by op type --------*- C++ -*-===//
//
// One table from (domain, op type) to the function that imports it. Each
// category file (Ops/*.cpp) adds its operators in its register function, so
// supporting a new operator is one function and one line.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_LIB_IMPORT_ONNX_OPREGISTRY_H
#define MLG_LIB_IMPORT_ONNX_OPREGISTRY_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"

#include <string>
#include <vector>

namespace mlg::onnx_import {

class NodeContext;
using OpImportFn = mlir::LogicalResult (*)(NodeContext &);

class OpRegistry {
public:
  /// The registry with every category's operators.
  static const OpRegistry &get();

  /// Registers `fn` for default-domain `opType` from opset `sinceVersion`.
  void add(llvm::StringRef opType, OpImportFn fn, int64_t sinceVersion = 1);
  /// The importer of a default-domain op at `opset`, or null.
  OpImportFn lookup(llvm::StringRef opType, int64_t opset) const;
  std::vector<std::string> names() const;

private:
  struct Entry {
    OpImportFn fn;
    int64_t sinceVersion;
  };
  llvm::StringMap<Entry> entries;
};

void registerElementwiseOps(OpRegistry &registry);
void registerTensorOps(OpRegistry &registry);
void registerNNOps(OpRegistry &registry);
void registerReductionOps(OpRegistry &registry);
void registerRecurrentOps(OpRegistry &registry);

} // namespace mlg::onnx_import

#endif // MLG_LIB_IMPORT_ONNX_OPREGISTRY_H

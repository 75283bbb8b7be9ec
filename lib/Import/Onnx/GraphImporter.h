//===- GraphImporter.h - one ONNX graph into one function -------*- C++ -*-===//
//
// Validates the graph (names, topological order, supported operators,
// external data), binds the input shapes, and imports the nodes in order into
// `func.func @forward`. Constants and parameter loads form the function's
// prologue; nodes follow in a topological order of the ONNX graph.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_LIB_IMPORT_ONNX_GRAPHIMPORTER_H
#define MLG_LIB_IMPORT_ONNX_GRAPHIMPORTER_H

#include "ModelFile.h"

#include "mlg/Import/Onnx/OnnxImporter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

namespace mlg::onnx_import {

class GraphImporter {
public:
  GraphImporter(ModelFile &file, mlir::MLIRContext *context,
                const OnnxImportOptions &options);

  /// Checks the model with mlg's rules, then libonnx's checker, and computes
  /// the order in which to import the nodes.
  mlir::LogicalResult validate();
  /// Imports a model that validate() accepted.
  mlir::OwningOpRef<mlir::ModuleOp> import();
  /// The default-domain opset the model imports.
  int64_t getOpset() { return opsets.lookup(""); }

  //===--------------------------------------------------------------------===//
  // Used by NodeContext
  //===--------------------------------------------------------------------===//

  mlir::OpBuilder &getBuilder() { return builder; }
  const ModelFile &getFile() const { return file; }
  /// The value named `name`, importing an initializer on first use.
  mlir::Value lookup(llvm::StringRef name);
  /// The compile-time value of `name`, or a diagnostic at `loc` saying why it
  /// is not known (naming the graph input to bind, if that is the reason).
  mlir::FailureOr<mlir::DenseElementsAttr>
  constantValueOf(llvm::StringRef name, mlir::Location loc,
                  const llvm::Twine &what);
  mlir::Value getConstant(mlir::DenseElementsAttr value);
  /// Marks the global `value` is loaded from (if it is) as state that is
  /// not trained, initialized to `init` ("zeros", "ones") without weights.
  void markState(mlir::Value value, llvm::StringRef init);
  void define(llvm::StringRef name, mlir::Value value) { values[name] = value; }

private:
  mlir::LogicalResult validateModel();
  mlir::LogicalResult validateGraph(llvm::SmallVectorImpl<int> &order);
  mlir::LogicalResult checkInitializerData();
  mlir::LogicalResult runChecker();
  mlir::LogicalResult createSignature();
  mlir::LogicalResult importNodes(llvm::ArrayRef<int> order);
  mlir::LogicalResult createReturn();
  void removeUnused();

  /// Inserts `op`-creating code into the prologue (constants, loads).
  template <typename Fn> auto inPrologue(Fn &&fn);
  mlir::Value importInitializer(const onnx::TensorProto &tensor);
  mlir::Location nodeLoc(const onnx::NodeProto &node, int index);

  ModelFile &file;
  const onnx::GraphProto &graph;
  mlir::MLIRContext *context;
  const OnnxImportOptions &options;
  mlir::OpBuilder builder;
  mlir::Location fileLoc;
  mlir::ModuleOp module;
  mlir::func::FuncOp func;
  mlir::Operation *prologueEnd = nullptr;

  llvm::StringMap<int64_t> opsets;
  llvm::SmallVector<int> order;
  llvm::StringMap<mlir::Value> values;
  llvm::StringMap<const onnx::TensorProto *> initializers;
  llvm::DenseMap<mlir::Attribute, mlir::Value> constants;
  /// Graph inputs that are not initializers, in order.
  llvm::SmallVector<const onnx::ValueInfoProto *> inputs;
};

} // namespace mlg::onnx_import

#endif // MLG_LIB_IMPORT_ONNX_GRAPHIMPORTER_H

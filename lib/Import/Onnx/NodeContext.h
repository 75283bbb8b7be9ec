//===- NodeContext.h - what an op importer sees of its node -----*- C++ -*-===//
//
// Each ONNX operator is imported by one function `LogicalResult(NodeContext&)`
// registered under its op type (OpRegistry.h). The context gives it the
// node's inputs as values, typed attribute access with clear errors, the
// inputs that must be compile-time constants, and op creation that infers,
// verifies and folds.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_LIB_IMPORT_ONNX_NODECONTEXT_H
#define MLG_LIB_IMPORT_ONNX_NODECONTEXT_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

#include "onnx/onnx_pb.h"

#include <optional>
#include <string>

namespace mlg::onnx_import {

class GraphImporter;

class NodeContext {
public:
  NodeContext(GraphImporter &importer, const onnx::NodeProto &node,
              int64_t opset, mlir::Location loc);

  const onnx::NodeProto &node;
  /// The opset version of the node's domain.
  const int64_t opset;
  const mlir::Location loc;

  mlir::OpBuilder &builder();
  mlir::MLIRContext *getContext() { return loc.getContext(); }
  mlir::InFlightDiagnostic emitError();

  //===--------------------------------------------------------------------===//
  // Inputs and outputs
  //===--------------------------------------------------------------------===//

  /// Checks that inputs [0, min) are present and no more than `max` are
  /// given (optional inputs may be empty names).
  mlir::LogicalResult checkArity(unsigned min, unsigned max);
  bool hasInput(unsigned i) const;
  mlir::Value input(unsigned i);
  mlir::RankedTensorType inputType(unsigned i);
  /// The input if present, else null.
  mlir::Value optionalInput(unsigned i) {
    return hasInput(i) ? input(i) : nullptr;
  }
  bool hasOutput(unsigned i) const;
  /// Maps the node's outputs to `values`, in order; an empty output name
  /// skips its value. Fails if the node names more outputs than `values`.
  mlir::LogicalResult setOutputs(mlir::ValueRange values);

  //===--------------------------------------------------------------------===//
  // Inputs that must be known at compile time
  //===--------------------------------------------------------------------===//

  mlir::FailureOr<mlir::DenseElementsAttr> constantInput(unsigned i,
                                                         llvm::StringRef what);
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  constantInts(unsigned i, llvm::StringRef what);
  /// A single-element constant as double.
  mlir::FailureOr<double> constantScalar(unsigned i, llvm::StringRef what);

  //===--------------------------------------------------------------------===//
  // Attributes
  //===--------------------------------------------------------------------===//

  const onnx::AttributeProto *findAttr(llvm::StringRef name) const;
  bool hasAttr(llvm::StringRef name) const { return findAttr(name); }
  mlir::FailureOr<int64_t> getInt(llvm::StringRef name,
                                  std::optional<int64_t> dflt = std::nullopt);
  mlir::FailureOr<double> getFloat(llvm::StringRef name,
                                   std::optional<double> dflt = std::nullopt);
  mlir::FailureOr<std::string>
  getString(llvm::StringRef name,
            std::optional<std::string> dflt = std::nullopt);
  mlir::FailureOr<llvm::SmallVector<int64_t>>
  getInts(llvm::StringRef name,
          std::optional<llvm::SmallVector<int64_t>> dflt = std::nullopt);
  mlir::FailureOr<llvm::SmallVector<double>> getFloats(llvm::StringRef name);
  mlir::FailureOr<llvm::SmallVector<std::string>>
  getStrings(llvm::StringRef name);
  mlir::FailureOr<mlir::DenseElementsAttr> getTensor(llvm::StringRef name);

  /// `axis` in [-rank, rank) as a non-negative axis.
  mlir::FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank,
                                         llvm::StringRef what = "axis");

  //===--------------------------------------------------------------------===//
  // Building
  //===--------------------------------------------------------------------===//

  /// Creates an op of `OpTy`: result types are inferred unless given, the op
  /// is verified and folded. Returns its results (or the folded values).
  template <typename OpTy>
  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  create(mlir::ValueRange operands,
         llvm::ArrayRef<mlir::NamedAttribute> attrs = {},
         mlir::TypeRange types = {}, unsigned numResults = 1) {
    return createImpl(OpTy::getOperationName(), operands, attrs, types,
                      numResults);
  }
  /// As create, for single-result ops.
  template <typename OpTy>
  mlir::FailureOr<mlir::Value>
  create1(mlir::ValueRange operands,
          llvm::ArrayRef<mlir::NamedAttribute> attrs = {},
          mlir::TypeRange types = {}) {
    auto results = create<OpTy>(operands, attrs, types, 1);
    if (mlir::failed(results))
      return mlir::failure();
    return results->front();
  }
  /// Marks input `i`, if it is a global, as state (not trained) that starts
  /// as `init` ("zeros", "ones") when no weights are given.
  void markState(unsigned i, llvm::StringRef init);

  /// A (deduplicated) constant.
  mlir::Value constant(mlir::DenseElementsAttr value);

  mlir::NamedAttribute attr(llvm::StringRef name, mlir::Attribute value) {
    return builder().getNamedAttr(name, value);
  }
  mlir::NamedAttribute i64Attr(llvm::StringRef name, int64_t v) {
    return attr(name, builder().getI64IntegerAttr(v));
  }
  mlir::NamedAttribute f64Attr(llvm::StringRef name, double v) {
    return attr(name, builder().getF64FloatAttr(v));
  }
  mlir::NamedAttribute boolAttr(llvm::StringRef name, bool v) {
    return attr(name, builder().getBoolAttr(v));
  }
  mlir::NamedAttribute i64ArrayAttr(llvm::StringRef name,
                                    llvm::ArrayRef<int64_t> v) {
    return attr(name, builder().getDenseI64ArrayAttr(v));
  }

private:
  mlir::FailureOr<llvm::SmallVector<mlir::Value>>
  createImpl(llvm::StringRef opName, mlir::ValueRange operands,
             llvm::ArrayRef<mlir::NamedAttribute> attrs, mlir::TypeRange types,
             unsigned numResults);
  mlir::FailureOr<const onnx::AttributeProto *>
  typedAttr(llvm::StringRef name, onnx::AttributeProto::AttributeType type);

  GraphImporter &importer;
};

} // namespace mlg::onnx_import

#endif // MLG_LIB_IMPORT_ONNX_NODECONTEXT_H

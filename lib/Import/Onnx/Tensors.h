//===- Tensors.h - ONNX data types and tensors as MLIR types ----*- C++ -*-===//
//
// The mapping from ONNX element types to MLIR types (signed integers are
// signless, unsigned ones `ui`, BOOL is i1) and the checked construction of
// tensor types and constants from TensorProto messages.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_LIB_IMPORT_ONNX_TENSORS_H
#define MLG_LIB_IMPORT_ONNX_TENSORS_H

#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Location.h"

#include "onnx/onnx_pb.h"

namespace mlg::onnx_import {

/// The MLIR element type of an ONNX data type, or null if mlg has none
/// (STRING, COMPLEX, 8-bit floats, UNDEFINED).
mlir::Type elementTypeOf(int32_t dataType, mlir::MLIRContext *context);

/// "FLOAT", "INT64", ...; "type N" for unknown values.
std::string dataTypeName(int32_t dataType);

/// A static tensor type of `dims` and `dataType`, or a diagnostic naming
/// `what` if a dimension is negative, the byte count overflows or the type
/// is unsupported.
mlir::FailureOr<mlir::RankedTensorType>
makeTensorType(llvm::ArrayRef<int64_t> dims, int32_t dataType,
               mlir::Location loc, const llvm::Twine &what);

/// The type of a TensorProto, checked as by makeTensorType.
mlir::FailureOr<mlir::RankedTensorType>
tensorTypeOf(const onnx::TensorProto &tensor, mlir::MLIRContext *context,
             mlir::Location loc, const llvm::Twine &what);

/// Byte size of a type that makeTensorType accepted.
inline std::optional<int64_t> checkedByteSizeOf(mlir::RankedTensorType type) {
  return checkedByteSize(mlir::cast<mlir::ShapedType>(type));
}

/// Dense elements from ONNX's little-endian storage (one byte per bool).
mlir::DenseElementsAttr denseFromBytes(mlir::RankedTensorType type,
                                       llvm::ArrayRef<char> bytes);

} // namespace mlg::onnx_import

#endif // MLG_LIB_IMPORT_ONNX_TENSORS_H

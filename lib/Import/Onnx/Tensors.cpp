//===- Tensors.cpp - ONNX data types and tensors as MLIR types ------------===//

#include "Tensors.h"

#include "mlir/IR/Diagnostics.h"

using namespace mlir;

namespace mlg::onnx_import {

Type elementTypeOf(int32_t dataType, MLIRContext *ctx) {
  auto u = [&](unsigned w) {
    return IntegerType::get(ctx, w, IntegerType::Unsigned);
  };
  auto s = [&](unsigned w) { return IntegerType::get(ctx, w); };
  switch (dataType) {
  case onnx::TensorProto::FLOAT:
    return Float32Type::get(ctx);
  case onnx::TensorProto::DOUBLE:
    return Float64Type::get(ctx);
  case onnx::TensorProto::FLOAT16:
    return Float16Type::get(ctx);
  case onnx::TensorProto::BFLOAT16:
    return BFloat16Type::get(ctx);
  case onnx::TensorProto::BOOL:
    return s(1);
  case onnx::TensorProto::INT8:
    return s(8);
  case onnx::TensorProto::INT16:
    return s(16);
  case onnx::TensorProto::INT32:
    return s(32);
  case onnx::TensorProto::INT64:
    return s(64);
  case onnx::TensorProto::UINT8:
    return u(8);
  case onnx::TensorProto::UINT16:
    return u(16);
  case onnx::TensorProto::UINT32:
    return u(32);
  case onnx::TensorProto::UINT64:
    return u(64);
  default:
    return nullptr;
  }
}

std::string dataTypeName(int32_t dataType) {
  if (onnx::TensorProto_DataType_IsValid(dataType))
    return onnx::TensorProto_DataType_Name(
        static_cast<onnx::TensorProto_DataType>(dataType));
  return "type " + std::to_string(dataType);
}

FailureOr<RankedTensorType> makeTensorType(ArrayRef<int64_t> dims,
                                           int32_t dataType, Location loc,
                                           const llvm::Twine &what) {
  Type element = elementTypeOf(dataType, loc.getContext());
  if (!element)
    return emitError(loc) << what << " has element type "
                          << dataTypeName(dataType)
                          << ", which mlg does not support";
  for (auto [i, d] : llvm::enumerate(dims)) {
    if (d < 0)
      return emitError(loc) << what << " has a negative dimension " << d
                            << " at position " << i;
  }
  auto type = RankedTensorType::get(dims, element);
  if (!checkedByteSizeOf(type))
    return emitError(loc) << what << " of shape [" << dims
                          << "] would need more than 2^63 bytes";
  return type;
}

FailureOr<RankedTensorType> tensorTypeOf(const onnx::TensorProto &tensor,
                                         MLIRContext *, Location loc,
                                         const llvm::Twine &what) {
  SmallVector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  return makeTensorType(dims, tensor.data_type(), loc, what);
}

DenseElementsAttr denseFromBytes(RankedTensorType type, ArrayRef<char> bytes) {
  if (type.getElementType().isInteger(1)) {
    SmallVector<bool> values;
    values.reserve(bytes.size());
    for (char c : bytes)
      values.push_back(c != 0);
    return DenseElementsAttr::get(type, values);
  }
  return DenseElementsAttr::getFromRawBuffer(type, bytes);
}

} // namespace mlg::onnx_import

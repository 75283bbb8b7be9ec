//===- Checker.h - libonnx's checker and version converter ------*- C++ -*-===//
//
// libonnx reports errors by throwing C++ exceptions, which the rest of mlg
// (built like LLVM, without exceptions) cannot catch. Checker.cpp is the one
// translation unit built with -fexceptions; it turns every exception into an
// error string.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_LIB_IMPORT_ONNX_CHECKER_H
#define MLG_LIB_IMPORT_ONNX_CHECKER_H

#include "onnx/onnx_pb.h"

#include <optional>
#include <string>

namespace mlg::onnx_import {

/// The newest default-domain opset libonnx 1.12 knows.
constexpr int64_t kMaxOnnxOpset = 17;

/// Runs onnx::checker::check_model on `model`. Returns the checker's message
/// if it rejects the model.
std::optional<std::string> runOnnxChecker(const onnx::ModelProto &model);

/// Converts `model` to default-domain opset `target` with libonnx's version
/// converter. Returns the converter's message on failure.
std::optional<std::string> convertOpset(onnx::ModelProto &model,
                                        int64_t target);

} // namespace mlg::onnx_import

#endif // MLG_LIB_IMPORT_ONNX_CHECKER_H

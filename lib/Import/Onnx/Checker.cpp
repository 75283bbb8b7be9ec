//===- Checker.cpp - libonnx's checker and version converter --------------===//
//
// Built with -fexceptions (see CMakeLists.txt). Nothing thrown by libonnx may
// leave this file.
//
//===----------------------------------------------------------------------===//

#include "Checker.h"

#include "onnx/checker.h"
#include "onnx/version_converter/convert.h"

#include <exception>

namespace mlg::onnx_import {

std::optional<std::string> runOnnxChecker(const onnx::ModelProto &model) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception &e) {
    return std::string(e.what());
  } catch (...) {
    return std::string("the ONNX checker failed with an unknown error");
  }
  return std::nullopt;
}

std::optional<std::string> convertOpset(onnx::ModelProto &model,
                                        int64_t target) {
  try {
    model = onnx::version_conversion::ConvertVersion(model,
                                                     static_cast<int>(target));
  } catch (const std::exception &e) {
    return std::string(e.what());
  } catch (...) {
    return std::string(
        "the ONNX version converter failed with an unknown error");
  }
  return std::nullopt;
}

} // namespace mlg::onnx_import

// onnx_io.h - tensors and weights in ONNX files.
//
// Reading and writing TensorProto files (inputs and outputs of mlg-run, the
// node tests' data), and reading and writing a model's initializers by name
// (the weights of a program). External data follows the importer's path
// rules (external_data.h). Writes are atomic: a temporary file renamed into
// place.

#ifndef MLG_RT_SRC_ONNX_IO_H
#define MLG_RT_SRC_ONNX_IO_H

#include "dtype.h"
#include "status.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

namespace onnx {
class TensorProto;
}

namespace mlg_rt {

/// The runtime type of an ONNX TensorProto data type, or Invalid.
DType dtypeFromOnnx(int onnxType);
int onnxFromDtype(DType t);

/// A tensor's type, shape and little-endian bytes (one byte per bool).
struct HostTensor {
  std::string name;
  DType dtype = DType::Invalid;
  std::vector<int64_t> shape;
  std::string data;
};

/// The bytes of `tensor` (raw, typed fields, or external data resolved in
/// `directory`), checked against its type and shape.
Status tensorProtoToHost(const onnx::TensorProto &tensor,
                         const std::string &directory, HostTensor *out);

Status readTensorFile(const std::string &path, HostTensor *out);
Status writeTensorFile(const std::string &path, const HostTensor &tensor);

/// Reads the initializers of the ONNX model at `path` whose names `wanted`
/// accepts, calling `found` with each.
Status readInitializers(const std::string &path,
                        const std::function<bool(const std::string &)> &wanted,
                        const std::function<Status(const HostTensor &)> &found);

/// Writes a copy of the model at `templatePath` to `outPath` with the
/// initializers named in `tensors` replaced (data inline), atomically. A
/// tensor the template has no initializer for is an error unless its name is
/// in `optional` (then it is left out).
Status writeModelWithInitializers(const std::string &templatePath,
                                  const std::string &outPath,
                                  const std::vector<HostTensor> &tensors,
                                  const std::set<std::string> &optional = {});

/// Like writeModelWithInitializers, in the model's inference form: every
/// BatchNormalization computes with its running statistics (training_mode
/// 0) and has its first output only; every Dropout loses its training_mode
/// input (so it is the identity), or gets is_test = 1 before opset 7; nodes,
/// initializers and value infos that then feed no graph output are removed.
/// The graph's inputs and outputs stay as they are.
Status writeInferenceModel(const std::string &templatePath,
                           const std::string &outPath,
                           const std::vector<HostTensor> &tensors,
                           const std::set<std::string> &optional = {});

/// Writes `bytes` to `path` through a temporary file in the same folder.
Status writeFileAtomically(const std::string &path, const std::string &bytes);

} // namespace mlg_rt

#endif // MLG_RT_SRC_ONNX_IO_H

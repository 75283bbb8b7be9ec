// onnx_io.cc - tensors and weights in ONNX files.

#include "onnx_io.h"

#include "mlg_rt/external_data.h"
#include "program.h"

#include "onnx/onnx_pb.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>

namespace mlg_rt {

DType dtypeFromOnnx(int t) {
  switch (t) {
  case onnx::TensorProto::FLOAT:
    return DType::F32;
  case onnx::TensorProto::DOUBLE:
    return DType::F64;
  case onnx::TensorProto::FLOAT16:
    return DType::F16;
  case onnx::TensorProto::BFLOAT16:
    return DType::BF16;
  case onnx::TensorProto::INT8:
    return DType::I8;
  case onnx::TensorProto::INT16:
    return DType::I16;
  case onnx::TensorProto::INT32:
    return DType::I32;
  case onnx::TensorProto::INT64:
    return DType::I64;
  case onnx::TensorProto::UINT8:
    return DType::U8;
  case onnx::TensorProto::UINT16:
    return DType::U16;
  case onnx::TensorProto::UINT32:
    return DType::U32;
  case onnx::TensorProto::UINT64:
    return DType::U64;
  case onnx::TensorProto::BOOL:
    return DType::Bool;
  default:
    return DType::Invalid;
  }
}

int onnxFromDtype(DType t) {
  switch (t) {
  case DType::F32:
    return onnx::TensorProto::FLOAT;
  case DType::F64:
    return onnx::TensorProto::DOUBLE;
  case DType::F16:
    return onnx::TensorProto::FLOAT16;
  case DType::BF16:
    return onnx::TensorProto::BFLOAT16;
  case DType::I8:
    return onnx::TensorProto::INT8;
  case DType::I16:
    return onnx::TensorProto::INT16;
  case DType::I32:
    return onnx::TensorProto::INT32;
  case DType::I64:
    return onnx::TensorProto::INT64;
  case DType::U8:
    return onnx::TensorProto::UINT8;
  case DType::U16:
    return onnx::TensorProto::UINT16;
  case DType::U32:
    return onnx::TensorProto::UINT32;
  case DType::U64:
    return onnx::TensorProto::UINT64;
  case DType::Bool:
    return onnx::TensorProto::BOOL;
  default:
    return onnx::TensorProto::UNDEFINED;
  }
}

static Status readWholeFile(const std::string &path, std::string *out,
                            uint64_t offset = 0,
                            std::optional<uint64_t> length = {}) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return Status::errorf("cannot read '", path, "': ", std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return Status::errorf("cannot read '", path, "': not a regular file");
  uint64_t size = st.st_size;
  if (offset > size)
    return Status::errorf("'", path, "': offset ", offset, " is past its end (",
                          size, " bytes)");
  uint64_t len = length.value_or(size - offset);
  if (len > size - offset)
    return Status::errorf("'", path, "': [", offset, ", +", len,
                          ") runs past its end (", size, " bytes)");
  std::ifstream in(path, std::ios::binary);
  in.seekg(std::streamoff(offset));
  out->resize(len);
  if (len && !in.read(out->data(), std::streamsize(len)))
    return Status::errorf("cannot read '", path, "'");
  return Status();
}

static std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "."
                                    : path.substr(0, slash == 0 ? 1 : slash);
}

Status tensorProtoToHost(const onnx::TensorProto &t,
                         const std::string &directory, HostTensor *out) {
  out->name = t.name();
  out->dtype = dtypeFromOnnx(t.data_type());
  if (out->dtype == DType::Invalid)
    return Status::errorf("tensor '", t.name(),
                          "' has an unsupported data type ", t.data_type());
  out->shape.assign(t.dims().begin(), t.dims().end());
  int64_t numel, bytes;
  MLG_RT_RETURN_IF_ERROR(checkedSizes(out->shape, out->dtype, &numel, &bytes)
                             .withContext("tensor '" + t.name() + "'"));
  std::string &data = out->data;
  data.clear();
  int64_t size = dtypeBytes(out->dtype);
  auto append = [&](auto v) {
    data.append(reinterpret_cast<const char *>(&v), size);
  };
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    uint64_t offset = 0;
    std::optional<uint64_t> length;
    for (const auto &e : t.external_data()) {
      if (e.key() == "location") {
        location = e.value();
      } else if (e.key() == "offset" || e.key() == "length") {
        char *end = nullptr;
        unsigned long long v = std::strtoull(e.value().c_str(), &end, 10);
        if (e.value().empty() || *end)
          return Status::errorf("tensor '", t.name(), "': malformed external ",
                                e.key());
        if (e.key() == "offset")
          offset = v;
        else
          length = v;
      }
    }
    std::string resolved, why;
    if (!resolveExternalDataPath(directory, location, &resolved, &why))
      return Status::errorf("tensor '", t.name(),
                            "' cannot be read from external data: ", why);
    MLG_RT_RETURN_IF_ERROR(readWholeFile(resolved, &data, offset, length));
  } else if (t.has_raw_data()) {
    data = t.raw_data();
  } else {
    switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      for (float v : t.float_data())
        append(v);
      break;
    case onnx::TensorProto::DOUBLE:
      for (double v : t.double_data())
        append(v);
      break;
    case onnx::TensorProto::INT64:
      for (int64_t v : t.int64_data())
        append(v);
      break;
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64:
      for (uint64_t v : t.uint64_data())
        append(v);
      break;
    default: // int32_data holds everything narrower, little-endian low bytes
      for (int32_t v : t.int32_data())
        append(v);
      break;
    }
  }
  if (int64_t(data.size()) != bytes)
    return Status::errorf("tensor '", t.name(), "' holds ", data.size(),
                          " bytes of data; its shape and type need ", bytes);
  return Status();
}

Status readTensorFile(const std::string &path, HostTensor *out) {
  std::string bytes;
  MLG_RT_RETURN_IF_ERROR(readWholeFile(path, &bytes));
  onnx::TensorProto t;
  if (bytes.size() > size_t(std::numeric_limits<int>::max()) ||
      !t.ParseFromArray(bytes.data(), int(bytes.size())))
    return Status::errorf("'", path, "' is not a serialized ONNX TensorProto");
  return tensorProtoToHost(t, directoryOf(path), out)
      .withContext("'" + path + "'");
}

static void hostToTensorProto(const HostTensor &h, onnx::TensorProto *t) {
  t->set_name(h.name);
  t->set_data_type(onnxFromDtype(h.dtype));
  t->clear_dims();
  for (int64_t d : h.shape)
    t->add_dims(d);
  t->clear_float_data();
  t->clear_double_data();
  t->clear_int32_data();
  t->clear_int64_data();
  t->clear_uint64_data();
  t->clear_external_data();
  t->clear_data_location();
  t->set_raw_data(h.data);
}

Status writeFileAtomically(const std::string &path, const std::string &bytes) {
  std::string temp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0)
    return Status::errorf("cannot create a file next to '", path,
                          "': ", std::strerror(errno));
  ::fchmod(fd, 0644);
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) {
      int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      ::unlink(temp.c_str());
      return Status::errorf("cannot write '", path, "': ", std::strerror(err));
    }
    written += size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 ||
      ::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return Status::errorf("cannot write '", path, "': ", std::strerror(err));
  }
  return Status();
}

Status writeTensorFile(const std::string &path, const HostTensor &tensor) {
  onnx::TensorProto t;
  hostToTensorProto(tensor, &t);
  std::string bytes;
  if (!t.SerializeToString(&bytes))
    return Status::errorf("tensor '", tensor.name,
                          "' is too large to serialize");
  return writeFileAtomically(path, bytes);
}

static Status readModel(const std::string &path, onnx::ModelProto *model) {
  std::string bytes;
  MLG_RT_RETURN_IF_ERROR(readWholeFile(path, &bytes));
  if (bytes.size() > size_t(std::numeric_limits<int>::max()) ||
      !model->ParseFromArray(bytes.data(), int(bytes.size())))
    return Status::errorf("'", path, "' is not a valid ONNX model");
  return Status();
}

Status
readInitializers(const std::string &path,
                 const std::function<bool(const std::string &)> &wanted,
                 const std::function<Status(const HostTensor &)> &found) {
  onnx::ModelProto model;
  MLG_RT_RETURN_IF_ERROR(readModel(path, &model));
  std::string dir = directoryOf(path);
  for (const onnx::TensorProto &t : model.graph().initializer()) {
    if (!wanted(t.name()))
      continue;
    HostTensor host;
    MLG_RT_RETURN_IF_ERROR(
        tensorProtoToHost(t, dir, &host).withContext("'" + path + "'"));
    MLG_RT_RETURN_IF_ERROR(found(host));
  }
  return Status();
}

// The model at `templatePath` with the initializers named in `tensors`
// replaced and every other external initializer inlined.
static Status modelWithInitializers(const std::string &templatePath,
                                    const std::vector<HostTensor> &tensors,
                                    const std::set<std::string> &optional,
                                    onnx::ModelProto *model) {
  MLG_RT_RETURN_IF_ERROR(readModel(templatePath, model));
  std::map<std::string, const HostTensor *> byName;
  for (const HostTensor &h : tensors)
    byName[h.name] = &h;
  std::set<std::string> replaced;
  std::string dir = directoryOf(templatePath);
  for (onnx::TensorProto &t : *model->mutable_graph()->mutable_initializer()) {
    auto it = byName.find(t.name());
    if (it != byName.end()) {
      if (t.data_type() != onnxFromDtype(it->second->dtype) ||
          !std::equal(t.dims().begin(), t.dims().end(),
                      it->second->shape.begin(), it->second->shape.end()))
        return Status::errorf("'", templatePath, "': initializer '", t.name(),
                              "' has another type or shape than the "
                              "program's tensor");
      hostToTensorProto(*it->second, &t);
      replaced.insert(t.name());
    } else if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      // The copy may live elsewhere: inline the data it refers to.
      HostTensor host;
      MLG_RT_RETURN_IF_ERROR(tensorProtoToHost(t, dir, &host));
      hostToTensorProto(host, &t);
    }
  }
  for (const HostTensor &h : tensors)
    if (!replaced.count(h.name) && !optional.count(h.name))
      return Status::errorf("'", templatePath, "' has no initializer '", h.name,
                            "'");
  return Status();
}

static Status writeModel(const onnx::ModelProto &model,
                         const std::string &outPath) {
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return Status::errorf("the model is too large to write as one file");
  return writeFileAtomically(outPath, bytes);
}

Status writeModelWithInitializers(const std::string &templatePath,
                                  const std::string &outPath,
                                  const std::vector<HostTensor> &tensors,
                                  const std::set<std::string> &optional) {
  onnx::ModelProto model;
  MLG_RT_RETURN_IF_ERROR(
      modelWithInitializers(templatePath, tensors, optional, &model));
  return writeModel(model, outPath);
}

static bool isOnnxOp(const onnx::NodeProto &node, const char *type) {
  return node.op_type() == type &&
         (node.domain().empty() || node.domain() == "ai.onnx");
}

static void setIntAttribute(onnx::NodeProto *node, const char *name,
                            int64_t value) {
  for (onnx::AttributeProto &a : *node->mutable_attribute())
    if (a.name() == name) {
      a.set_i(value);
      return;
    }
}

// Every name a node reads, those its subgraphs read from outer scopes
// included (over-approximated: every input of every subgraph node).
static void collectReads(const onnx::NodeProto &node,
                         std::set<std::string> *reads) {
  for (const std::string &in : node.input())
    if (!in.empty())
      reads->insert(in);
  for (const onnx::AttributeProto &a : node.attribute()) {
    auto visit = [&](const onnx::GraphProto &g) {
      for (const onnx::NodeProto &n : g.node())
        collectReads(n, reads);
      for (const onnx::ValueInfoProto &o : g.output())
        reads->insert(o.name());
    };
    if (a.has_g())
      visit(a.g());
    for (const onnx::GraphProto &g : a.graphs())
      visit(g);
  }
}

// Switches batch norm and dropout to inference and removes what then feeds
// no graph output.
static Status toInferenceForm(onnx::GraphProto *graph) {
  std::set<std::string> graphOutputs;
  for (const onnx::ValueInfoProto &o : graph->output())
    graphOutputs.insert(o.name());
  for (onnx::NodeProto &node : *graph->mutable_node()) {
    if (isOnnxOp(node, "BatchNormalization")) {
      for (int i = 1; i < node.output_size(); ++i)
        if (graphOutputs.count(node.output(i)))
          return Status::errorf(
              "BatchNormalization node '", node.name(), "' has its output '",
              node.output(i),
              "' (a training statistic) among the graph's outputs, which "
              "its inference form does not compute");
      while (node.output_size() > 1)
        node.mutable_output()->RemoveLast();
      setIntAttribute(&node, "training_mode", 0);
      setIntAttribute(&node, "is_test", 1);
    } else if (isOnnxOp(node, "Dropout")) {
      // Without training_mode (opset 12) Dropout is the identity; opset 6
      // and older ask for is_test.
      while (node.input_size() > 2 ||
             (node.input_size() == 2 && node.input(1).empty()))
        node.mutable_input()->RemoveLast();
      setIntAttribute(&node, "is_test", 1);
    }
  }

  // Nodes are topologically sorted: walk them backwards from the outputs.
  std::set<std::string> live = graphOutputs;
  std::vector<bool> keep(size_t(graph->node_size()), false);
  for (int i = graph->node_size() - 1; i >= 0; --i) {
    const onnx::NodeProto &node = graph->node(i);
    for (const std::string &out : node.output())
      if (!out.empty() && live.count(out))
        keep[size_t(i)] = true;
    if (keep[size_t(i)])
      collectReads(node, &live);
  }
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  std::set<std::string> defined;
  for (int i = 0; i < graph->node_size(); ++i)
    if (keep[size_t(i)]) {
      for (const std::string &out : graph->node(i).output())
        defined.insert(out);
      nodes.Add()->Swap(graph->mutable_node(i));
    }
  graph->mutable_node()->Swap(&nodes);

  std::set<std::string> inputs;
  for (const onnx::ValueInfoProto &in : graph->input())
    inputs.insert(in.name());
  auto *inits = graph->mutable_initializer();
  for (int i = inits->size() - 1; i >= 0; --i)
    if (!live.count(inits->Get(i).name()) &&
        !inputs.count(inits->Get(i).name()))
      inits->DeleteSubrange(i, 1);
  for (const onnx::TensorProto &t : graph->initializer())
    defined.insert(t.name());
  defined.insert(inputs.begin(), inputs.end());
  auto *infos = graph->mutable_value_info();
  for (int i = infos->size() - 1; i >= 0; --i)
    if (!defined.count(infos->Get(i).name()))
      infos->DeleteSubrange(i, 1);
  return Status();
}

Status writeInferenceModel(const std::string &templatePath,
                           const std::string &outPath,
                           const std::vector<HostTensor> &tensors,
                           const std::set<std::string> &optional) {
  onnx::ModelProto model;
  MLG_RT_RETURN_IF_ERROR(
      modelWithInitializers(templatePath, tensors, optional, &model));
  MLG_RT_RETURN_IF_ERROR(toInferenceForm(model.mutable_graph())
                             .withContext("'" + templatePath + "'"));
  return writeModel(model, outPath);
}

} // namespace mlg_rt

//===- ModelFile.cpp - an ONNX file read without its weights --------------===//
//
// The model is parsed from a memory map in pieces: the protobuf wire format is
// walked down ModelProto.graph (field 7) -> GraphProto.initializer (field 5)
// -> TensorProto.raw_data (field 9), and every field except raw_data is
// re-parsed with the generated classes. The raw_data spans are remembered by
// initializer name, so the weights stay on disk (or in the page cache) until a
// pass asks for them.
//
//===----------------------------------------------------------------------===//

#include "ModelFile.h"
#include "Tensors.h"

#include "mlg_rt/external_data.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/wire_format_lite.h>

#include <climits>

using namespace mlir;
using namespace mlg::onnx_import;
namespace pbio = google::protobuf::io;
using WFL = google::protobuf::internal::WireFormatLite;

namespace {
/// Field numbers from onnx.proto (ONNX 1.12).
enum : uint32_t {
  kModelGraph = 7,
  kGraphInitializer = 5,
  kTensorRawData = 9,
};

void appendVarint(std::string &out, uint64_t value) {
  uint8_t buf[16];
  uint8_t *end = pbio::CodedOutputStream::WriteVarint64ToArray(value, buf);
  out.append(reinterpret_cast<const char *>(buf), end - buf);
}

/// Streams a model's wire format from a file. Every field is copied into a
/// per-message "rest" string that the generated classes parse afterwards,
/// except ModelProto.graph and GraphProto.initializer, which it descends
/// into, and TensorProto.raw_data, which it skips (with lseek) and records.
class LeanParser {
public:
  LeanParser(
      pbio::CodedInputStream &in,
      llvm::function_ref<void(const std::string &, uint64_t, uint64_t)> onRaw)
      : in(in), onRaw(onRaw) {}

  bool parseModel(onnx::ModelProto &model) {
    std::string rest;
    uint32_t tag;
    while ((tag = in.ReadTag()) != 0) {
      if (tag == WFL::MakeTag(kModelGraph, WFL::WIRETYPE_LENGTH_DELIMITED)) {
        if (!nested([&] { return parseGraph(*model.mutable_graph()); }))
          return false;
      } else if (!copyField(tag, rest)) {
        return false;
      }
    }
    // A clean end is the end of the file, not a bad tag.
    return in.BytesUntilTotalBytesLimit() == 0 && model.MergeFromString(rest);
  }

private:
  /// Runs `body` within the limit of a length-delimited field.
  template <typename Fn> bool nested(Fn body) {
    uint32_t len;
    if (!in.ReadVarint32(&len) ||
        static_cast<int64_t>(len) > in.BytesUntilTotalBytesLimit())
      return false;
    pbio::CodedInputStream::Limit limit = in.PushLimit(static_cast<int>(len));
    bool ok = body() && in.BytesUntilLimit() == 0;
    in.PopLimit(limit);
    return ok;
  }

  bool parseGraph(onnx::GraphProto &graph) {
    std::string rest;
    uint32_t tag;
    while ((tag = in.ReadTag()) != 0) {
      if (tag ==
          WFL::MakeTag(kGraphInitializer, WFL::WIRETYPE_LENGTH_DELIMITED)) {
        if (!nested([&] { return parseTensor(*graph.add_initializer()); }))
          return false;
      } else if (!copyField(tag, rest)) {
        return false;
      }
    }
    return graph.MergeFromString(rest);
  }

  bool parseTensor(onnx::TensorProto &tensor) {
    std::string rest;
    std::optional<std::pair<uint64_t, uint64_t>> raw;
    uint32_t tag;
    while ((tag = in.ReadTag()) != 0) {
      if (tag == WFL::MakeTag(kTensorRawData, WFL::WIRETYPE_LENGTH_DELIMITED)) {
        uint32_t len;
        if (!in.ReadVarint32(&len) ||
            static_cast<int64_t>(len) > in.BytesUntilLimit())
          return false;
        raw = {static_cast<uint64_t>(in.CurrentPosition()), len};
        if (!in.Skip(static_cast<int>(len)))
          return false;
      } else if (!copyField(tag, rest)) {
        return false;
      }
    }
    if (!tensor.MergeFromString(rest))
      return false;
    if (raw)
      onRaw(tensor.name(), raw->first, raw->second);
    return true;
  }

  /// Copies one field (its tag already read) into `out`.
  bool copyField(uint32_t tag, std::string &out) {
    appendVarint(out, tag);
    switch (WFL::GetTagWireType(tag)) {
    case WFL::WIRETYPE_VARINT: {
      uint64_t v;
      if (!in.ReadVarint64(&v))
        return false;
      appendVarint(out, v);
      return true;
    }
    case WFL::WIRETYPE_FIXED64: {
      uint64_t v;
      if (!in.ReadLittleEndian64(&v))
        return false;
      out.append(reinterpret_cast<const char *>(&v), 8);
      return true;
    }
    case WFL::WIRETYPE_FIXED32: {
      uint32_t v;
      if (!in.ReadLittleEndian32(&v))
        return false;
      out.append(reinterpret_cast<const char *>(&v), 4);
      return true;
    }
    case WFL::WIRETYPE_LENGTH_DELIMITED: {
      uint32_t len;
      if (!in.ReadVarint32(&len) ||
          static_cast<int64_t>(len) > in.BytesUntilTotalBytesLimit())
        return false;
      appendVarint(out, len);
      std::string payload;
      if (!in.ReadString(&payload, static_cast<int>(len)))
        return false;
      out += payload;
      return true;
    }
    default:
      return false; // groups: ONNX has none
    }
  }

  pbio::CodedInputStream &in;
  llvm::function_ref<void(const std::string &, uint64_t, uint64_t)> onRaw;
};
} // namespace

FailureOr<std::unique_ptr<ModelFile>> ModelFile::open(StringRef path,
                                                      Location loc) {
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status))
    return emitError(loc) << "cannot open '" << path << "': " << ec.message();
  if (status.type() != llvm::sys::fs::file_type::regular_file)
    return emitError(loc) << "'" << path << "' is not a regular file";
  if (status.getSize() == 0)
    return emitError(loc) << "'" << path << "' is empty, not an ONNX model";
  if (status.getSize() > static_cast<uint64_t>(INT_MAX))
    return emitError(loc) << "'" << path
                          << "' is larger than 2 GiB, the protobuf "
                          << "limit; store its weights as ONNX external data";
  int fd;
  if (std::error_code ec = llvm::sys::fs::openFileForRead(path, fd))
    return emitError(loc) << "cannot read '" << path << "': " << ec.message();

  std::unique_ptr<ModelFile> file(new ModelFile());
  file->path_ = path.str();
  file->size_ = status.getSize();
  SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  file->directory_ = std::string(dir);

  bool ok;
  {
    // Read through a file stream, not a map: skipped weights are never read.
    pbio::FileInputStream stream(fd);
    stream.SetCloseOnDelete(true);
    pbio::CodedInputStream in(&stream);
    in.SetTotalBytesLimit(static_cast<int>(file->size_));
    auto onRaw = [&](const std::string &name, uint64_t offset, uint64_t len) {
      file->rawData_[name] = Span{offset, len};
    };
    LeanParser parser(in, onRaw);
    ok = parser.parseModel(file->model_);
  }
  if (!ok)
    return emitError(loc)
           << "'" << path
           << "' is not a valid ONNX model (its protobuf encoding "
              "is malformed or truncated)";
  return file;
}

FailureOr<std::string>
mlg::onnx_import::resolveExternalPath(StringRef directory, StringRef location,
                                      std::string &why) {
  // The runtime's weight loader applies the same rules (one implementation).
  std::string resolved;
  if (!mlg_rt::resolveExternalDataPath(directory.str(), location.str(),
                                       &resolved, &why))
    return failure();
  return resolved;
}

FailureOr<TensorBytes>
ModelFile::getExternalBytes(const onnx::TensorProto &tensor, Location loc,
                            const llvm::Twine &what) const {
  std::string location;
  std::optional<uint64_t> offset, length;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location") {
      location = entry.value();
      continue;
    }
    if (entry.key() != "offset" && entry.key() != "length")
      continue;
    uint64_t value;
    if (StringRef(entry.value()).getAsInteger(10, value))
      return emitError(loc) << what << " has external data with a malformed "
                            << entry.key() << " '" << entry.value() << "'";
    (entry.key() == "offset" ? offset : length) = value;
  }
  std::string why;
  FailureOr<std::string> resolved =
      resolveExternalPath(directory_, location, why);
  if (failed(resolved))
    return emitError(loc) << what
                          << " cannot be read from external data: " << why;
  std::shared_ptr<const llvm::MemoryBuffer> &mapped = external_[*resolved];
  if (!mapped) {
    llvm::sys::fs::file_status status;
    if (llvm::sys::fs::status(*resolved, status) ||
        status.type() != llvm::sys::fs::file_type::regular_file)
      return emitError(loc) << what << ": external data '" << location
                            << "' is not a regular file";
    auto buffer = llvm::MemoryBuffer::getFile(*resolved, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!buffer)
      return emitError(loc) << what << ": cannot read external data '"
                            << location << "': " << buffer.getError().message();
    mapped = std::move(*buffer);
  }
  uint64_t fileSize = mapped->getBufferSize();
  uint64_t begin = offset.value_or(0);
  if (begin > fileSize)
    return emitError(loc) << what << ": external data offset " << begin
                          << " is past the end of '" << location << "' ("
                          << fileSize << " bytes)";
  uint64_t len = length.value_or(fileSize - begin);
  if (len > fileSize - begin)
    return emitError(loc) << what << ": external data [" << begin << ", +"
                          << len << ") runs past the end of '" << location
                          << "' (" << fileSize << " bytes)";
  TensorBytes bytes;
  bytes.data = ArrayRef<char>(mapped->getBufferStart() + begin, len);
  bytes.owner = mapped;
  return bytes;
}

/// Converts the typed repeated fields of `tensor` into raw little-endian
/// storage of `elementSize` bytes per element.
static bool typedFieldsToBytes(const onnx::TensorProto &tensor,
                               int64_t elementSize, std::string &out) {
  auto append = [&](auto value) {
    out.append(reinterpret_cast<const char *>(&value), elementSize);
  };
  switch (tensor.data_type()) {
  case onnx::TensorProto::FLOAT:
    for (float v : tensor.float_data())
      append(v);
    return true;
  case onnx::TensorProto::DOUBLE:
    for (double v : tensor.double_data())
      append(v);
    return true;
  case onnx::TensorProto::INT64:
    for (int64_t v : tensor.int64_data())
      append(v);
    return true;
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64:
    for (uint64_t v : tensor.uint64_data())
      append(v);
    return true;
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT16:
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::BOOL:
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::BFLOAT16:
    // Little-endian: the low bytes of the int32 are the value's bytes.
    for (int32_t v : tensor.int32_data())
      append(v);
    return true;
  default:
    return false;
  }
}

FailureOr<TensorBytes> ModelFile::getBytes(const onnx::TensorProto &tensor,
                                           Location loc,
                                           const llvm::Twine &what,
                                           bool inModel) const {
  FailureOr<mlir::RankedTensorType> type =
      tensorTypeOf(tensor, loc.getContext(), loc, what);
  if (failed(type))
    return failure();
  int64_t expected = *checkedByteSizeOf(*type);

  FailureOr<TensorBytes> result = TensorBytes();
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    if (!inModel)
      return emitError(loc) << what
                            << " refers to external data, which is only "
                               "read for initializers of the model";
    result = getExternalBytes(tensor, loc, what);
  } else if (auto it = rawData_.find(tensor.name());
             inModel && it != rawData_.end() && !tensor.has_raw_data()) {
    auto slice = llvm::MemoryBuffer::getFileSlice(path_, it->second.size,
                                                  it->second.offset);
    if (!slice || (*slice)->getBufferSize() != it->second.size)
      return emitError(loc) << what << " cannot be read from '" << path_ << "'";
    result->owner = std::move(*slice);
    result->data =
        ArrayRef<char>(result->owner->getBufferStart(), it->second.size);
  } else if (tensor.has_raw_data()) {
    result->data =
        ArrayRef<char>(tensor.raw_data().data(), tensor.raw_data().size());
  } else {
    int64_t elementSize = *mlg::elementByteSize(type->getElementType());
    auto storage = std::make_shared<std::string>();
    if (!typedFieldsToBytes(tensor, elementSize, *storage))
      return emitError(loc) << what << " has no data mlg can read";
    result->data = ArrayRef<char>(storage->data(), storage->size());
    result->storage = std::move(storage);
  }
  if (failed(result))
    return failure();
  if (static_cast<int64_t>(result->data.size()) != expected)
    return emitError(loc) << what << " holds " << result->data.size()
                          << " bytes of data, but its shape and type " << *type
                          << " need " << expected;
  return result;
}

LogicalResult ModelFile::inlineAllData(Location loc) {
  for (onnx::TensorProto &init :
       *model_.mutable_graph()->mutable_initializer()) {
    if (!hasDataInFile(init))
      continue;
    FailureOr<TensorBytes> bytes =
        getBytes(init, loc, "initializer '" + init.name() + "'");
    if (failed(bytes))
      return failure();
    init.set_raw_data(bytes->data.data(), bytes->data.size());
  }
  rawData_.clear();
  return success();
}

LogicalResult ModelFile::checkData(const onnx::TensorProto &tensor,
                                   Location loc,
                                   const llvm::Twine &what) const {
  if (!hasDataInFile(tensor))
    return failed(getBytes(tensor, loc, what)) ? failure() : success();
  FailureOr<RankedTensorType> type =
      tensorTypeOf(tensor, loc.getContext(), loc, what);
  if (failed(type))
    return failure();
  uint64_t expected = *checkedByteSizeOf(*type);
  uint64_t actual = rawData_.lookup(tensor.name()).size;
  if (actual != expected)
    return emitError(loc) << what << " holds " << actual
                          << " bytes of data, but its shape and type " << *type
                          << " need " << expected;
  return success();
}

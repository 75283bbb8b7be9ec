// idx.cc - IDX files (the format of MNIST and Fashion-MNIST), plain or gzip.

#include "data/idx.h"

#include <sys/stat.h>

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

namespace mlg_rt::data {

// IDX allows up to 255 dimensions; no real data set has more than a few.
static constexpr size_t kMaxIdxRank = 16;

int idxTypeBytes(uint8_t type) {
  switch (IdxType(type)) {
  case IdxType::U8:
  case IdxType::I8:
    return 1;
  case IdxType::I16:
    return 2;
  case IdxType::I32:
  case IdxType::F32:
    return 4;
  case IdxType::F64:
    return 8;
  }
  return 0;
}

uint64_t IdxArray::numel() const {
  uint64_t n = 1;
  for (uint32_t d : dims)
    n *= d;
  return n;
}

namespace {

/// What an IDX header says, once all of it has been seen.
struct IdxHeader {
  bool complete = false;
  IdxType type = IdxType::U8;
  std::vector<uint32_t> dims;
  uint64_t headerBytes = 0, totalBytes = 0;
};

uint32_t bigEndian32(const unsigned char *p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 |
         uint32_t(p[3]);
}

/// Decodes as much of the header as `bytes` holds. An error means the bytes
/// seen so far cannot start an IDX file; an incomplete header is not an
/// error here (the caller decides whether more bytes can come).
Status parseHeader(std::string_view bytes, const std::string &what,
                   IdxHeader *h) {
  auto *p = reinterpret_cast<const unsigned char *>(bytes.data());
  if (bytes.size() < 4)
    return Status();
  if (p[0] != 0 || p[1] != 0)
    return Status::errorf("'", what,
                          "' is not an IDX file (bad magic: it must start "
                          "with two zero bytes)");
  int elementBytes = idxTypeBytes(p[2]);
  if (elementBytes == 0)
    return Status::errorf("'", what, "' has an unknown IDX element type 0x",
                          "0123456789abcdef"[p[2] >> 4],
                          "0123456789abcdef"[p[2] & 15]);
  size_t rank = p[3];
  if (rank == 0 || rank > kMaxIdxRank)
    return Status::errorf("'", what, "' has ", rank,
                          " dimensions (an IDX file has 1 to ", kMaxIdxRank,
                          ")");
  h->headerBytes = 4 + 4 * rank;
  if (bytes.size() < h->headerBytes)
    return Status();
  h->type = IdxType(p[2]);
  h->dims.clear();
  uint64_t total = uint64_t(elementBytes);
  for (size_t i = 0; i < rank; ++i) {
    uint32_t d = bigEndian32(p + 4 + 4 * i);
    h->dims.push_back(d);
    if (d != 0 && total > std::numeric_limits<uint64_t>::max() / d)
      return Status::errorf("'", what, "': its dimensions overflow 64 bits");
    total *= d;
  }
  if (total > std::numeric_limits<uint64_t>::max() - h->headerBytes)
    return Status::errorf("'", what, "': its dimensions overflow 64 bits");
  h->totalBytes = h->headerBytes + total;
  h->complete = true;
  return Status();
}

std::string dimsString(const std::vector<uint32_t> &dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? "x" : "") + std::to_string(dims[i]);
  return s;
}

/// Inflates a gzip stream. `limitFor` says, from the output so far, how many
/// output bytes may come at most (UINT64_MAX: not known yet), or fails.
template <typename LimitFn>
Status inflateGzip(std::string_view in, const std::string &what,
                   LimitFn &&limitFor, std::string *out) {
  out->clear();
  z_stream z;
  std::memset(&z, 0, sizeof z);
  // 16 + MAX_WBITS: a gzip header and trailer (whose CRC-32 zlib checks).
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
    return Status::errorf("cannot decompress '", what,
                          "': zlib failed to initialize");
  struct End {
    z_stream *z;
    ~End() { inflateEnd(z); }
  } end{&z};
  z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
  // zlib counts in uInt; feed a huge input in pieces.
  size_t fed = 0;
  auto feed = [&] {
    size_t n = std::min<size_t>(in.size() - fed, 1u << 30);
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data())) + fed;
    z.avail_in = uInt(n);
    fed += n;
  };
  feed();
  unsigned char chunk[1 << 16];
  for (;;) {
    z.next_out = chunk;
    z.avail_out = sizeof chunk;
    int ret = inflate(&z, Z_NO_FLUSH);
    size_t produced = sizeof chunk - z.avail_out;
    out->append(reinterpret_cast<const char *>(chunk), produced);
    if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT)
      return Status::errorf("'", what, "' is not valid gzip data (",
                            z.msg ? z.msg : "corrupt stream", ")");
    if (ret == Z_MEM_ERROR)
      return Status::errorf("cannot decompress '", what, "': out of memory");
    uint64_t limit = 0;
    MLG_RT_RETURN_IF_ERROR(limitFor(*out, &limit));
    if (out->size() > limit)
      return Status::errorf("'", what, "' decompresses to more than ", limit,
                            " bytes");
    if (ret == Z_STREAM_END) {
      if (z.avail_in != 0 || fed != in.size())
        return Status::errorf("'", what,
                              "' has data after the end of its gzip stream");
      return Status();
    }
    if (z.avail_in == 0 && fed < in.size()) {
      feed();
      continue;
    }
    // Z_BUF_ERROR, or all input consumed with room left in the output:
    // the stream ended before its end marker.
    if (ret == Z_BUF_ERROR || (z.avail_in == 0 && produced < sizeof chunk))
      return Status::errorf("'", what,
                            "' is truncated (its gzip stream ends early)");
  }
}

bool isGzip(std::string_view bytes) {
  return bytes.size() >= 2 && (unsigned char)bytes[0] == 0x1f &&
         (unsigned char)bytes[1] == 0x8b;
}

Status readFile(const std::string &path, std::string *out) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return Status::errorf("cannot read '", path, "': ", std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return Status::errorf("cannot read '", path, "': not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::errorf("cannot read '", path, "': ", std::strerror(errno));
  out->resize(size_t(st.st_size));
  if (st.st_size && !in.read(out->data(), std::streamsize(st.st_size)))
    return Status::errorf("cannot read '", path, "'");
  return Status();
}

} // namespace

Status parseIdx(std::string_view bytes, const std::string &what,
                IdxArray *out) {
  IdxHeader h;
  MLG_RT_RETURN_IF_ERROR(parseHeader(bytes, what, &h));
  if (!h.complete)
    return Status::errorf("'", what, "' is truncated (", bytes.size(),
                          " bytes, shorter than its IDX header)");
  if (bytes.size() < h.totalBytes)
    return Status::errorf(
        "'", what, "' is truncated: dimensions ", dimsString(h.dims), " need ",
        h.totalBytes - h.headerBytes, " bytes of data, it has ",
        bytes.size() - h.headerBytes);
  if (bytes.size() > h.totalBytes)
    return Status::errorf("'", what, "' has ", bytes.size() - h.totalBytes,
                          " bytes after the data its dimensions ",
                          dimsString(h.dims), " describe");
  out->type = h.type;
  out->dims = h.dims;
  int e = idxTypeBytes(uint8_t(h.type));
  const auto *src =
      reinterpret_cast<const uint8_t *>(bytes.data()) + h.headerBytes;
  out->data.assign(src, src + (h.totalBytes - h.headerBytes));
  // Big-endian to host order (little-endian on every machine mlg runs on).
  if (e > 1)
    for (size_t i = 0; i < out->data.size(); i += size_t(e))
      std::reverse(out->data.begin() + i, out->data.begin() + i + e);
  return Status();
}

Status gunzip(std::string_view compressed, const std::string &what,
              uint64_t maxBytes, std::string *out) {
  uint64_t limit = maxBytes ? maxBytes : std::numeric_limits<uint64_t>::max();
  return inflateGzip(
      compressed, what,
      [&](const std::string &, uint64_t *l) {
        *l = limit;
        return Status();
      },
      out);
}

Status readIdxFile(const std::string &path, IdxArray *out) {
  std::string bytes;
  MLG_RT_RETURN_IF_ERROR(readFile(path, &bytes));
  if (!isGzip(bytes))
    return parseIdx(bytes, path, out);
  std::string plain;
  MLG_RT_RETURN_IF_ERROR(inflateGzip(
      bytes, path,
      [&](const std::string &sofar, uint64_t *limit) {
        IdxHeader h;
        MLG_RT_RETURN_IF_ERROR(parseHeader(sofar, path, &h));
        *limit = std::numeric_limits<uint64_t>::max();
        if (h.complete && sofar.size() > h.totalBytes)
          return Status::errorf("'", path,
                                "' has more bytes than its dimensions ",
                                dimsString(h.dims), " describe (",
                                h.totalBytes - h.headerBytes, ")");
        return Status();
      },
      &plain));
  bytes.clear();
  bytes.shrink_to_fit();
  return parseIdx(plain, path, out);
}

} // namespace mlg_rt::data

// idx.h - IDX files (the format of MNIST and Fashion-MNIST), plain or gzip.
//
// An IDX file is two zero bytes, a type code (0x08 unsigned byte, 0x09 signed
// byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of
// dimensions, each dimension as a big-endian uint32, then the elements in
// row-major order, big-endian. The reader checks all of it: the magic, the
// type, the dimensions (their product overflow-checked) and that the data is
// exactly as long as the dimensions say, so a truncated or corrupt file is an
// error naming the file and what is wrong. A gzip file (recognized by its
// magic bytes, whatever its name) is decompressed as a stream that stops as
// soon as it holds more than the header announces, so a small hostile file
// cannot make the reader allocate more than its own header claims.

#ifndef MLG_RT_SRC_DATA_IDX_H
#define MLG_RT_SRC_DATA_IDX_H

#include "status.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mlg_rt::data {

enum class IdxType : uint8_t {
  U8 = 0x08,
  I8 = 0x09,
  I16 = 0x0B,
  I32 = 0x0C,
  F32 = 0x0D,
  F64 = 0x0E,
};

/// Bytes per element of `type`, or 0 for a code that is not an IDX type.
int idxTypeBytes(uint8_t type);

/// A decoded IDX array; `data` holds the elements in host byte order.
struct IdxArray {
  IdxType type = IdxType::U8;
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data;

  uint64_t numel() const;
};

/// Decodes the bytes of an (uncompressed) IDX file; `what` names it in
/// messages.
Status parseIdx(std::string_view bytes, const std::string &what, IdxArray *out);

/// Decompresses the gzip stream `compressed`. Stops with an error once the
/// output exceeds `maxBytes` (0: no limit).
Status gunzip(std::string_view compressed, const std::string &what,
              uint64_t maxBytes, std::string *out);

/// Reads the IDX file at `path`, decompressing it first if it is gzip.
Status readIdxFile(const std::string &path, IdxArray *out);

} // namespace mlg_rt::data

#endif // MLG_RT_SRC_DATA_IDX_H

// program_file.cc - reading and writing .mlgp program files.

#include "mlg_rt/program_file.h"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace mlg_rt {

uint32_t crc32(const void *data, size_t size, uint32_t crc) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  const auto *p = static_cast<const unsigned char *>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i)
    crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static void putLE(unsigned char *out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out[i] = static_cast<unsigned char>((value >> (8 * i)) & 0xff);
}

static uint64_t getLE(const unsigned char *in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i)
    value |= uint64_t(in[i]) << (8 * i);
  return value;
}

void writeProgramHeader(const void *payload, size_t size,
                        unsigned char *header) {
  std::memcpy(header, kProgramMagic, sizeof(kProgramMagic));
  putLE(header + 8, kProgramFormatVersion, 4);
  putLE(header + 12, crc32(payload, size), 4);
  putLE(header + 16, size, 8);
}

bool encodeProgram(const mlg::program::Program &program, std::string *out) {
  std::string body;
  if (!program.SerializeToString(&body))
    return false;
  unsigned char header[kProgramHeaderBytes];
  writeProgramHeader(body.data(), body.size(), header);
  out->assign(reinterpret_cast<const char *>(header), sizeof(header));
  out->append(body);
  return true;
}

bool decodeProgram(const void *data, size_t size,
                   mlg::program::Program *program, std::string *error) {
  const auto *bytes = static_cast<const unsigned char *>(data);
  if (size < sizeof(kProgramMagic) ||
      std::memcmp(bytes, kProgramMagic, sizeof(kProgramMagic)) != 0) {
    *error = "not an mlg program (bad magic)";
    return false;
  }
  if (size < kProgramHeaderBytes) {
    *error = "the program is truncated (its header has " +
             std::to_string(size) + " of " +
             std::to_string(kProgramHeaderBytes) + " bytes)";
    return false;
  }
  uint64_t version = getLE(bytes + 8, 4);
  if (version != kProgramFormatVersion) {
    *error = "program format version " + std::to_string(version) +
             " is not supported (this runtime reads version " +
             std::to_string(kProgramFormatVersion) +
             "; compile the model again)";
    return false;
  }
  uint64_t crc = getLE(bytes + 12, 4);
  uint64_t expected = getLE(bytes + 16, 8);
  uint64_t actual = size - kProgramHeaderBytes;
  if (actual < expected) {
    *error = "the program is truncated (" + std::to_string(actual) + " of " +
             std::to_string(expected) + " payload bytes)";
    return false;
  }
  if (actual > expected) {
    *error = "the program has " + std::to_string(actual - expected) +
             " bytes after its end (" + std::to_string(expected) +
             " payload bytes expected)";
    return false;
  }
  if (crc32(bytes + kProgramHeaderBytes, actual) != crc) {
    *error = "the program is corrupt (its checksum does not match)";
    return false;
  }
  if (actual > static_cast<uint64_t>(std::numeric_limits<int>::max()) ||
      !program->ParseFromArray(bytes + kProgramHeaderBytes,
                               static_cast<int>(actual))) {
    *error = "the program is malformed (not a valid program message)";
    return false;
  }
  return true;
}

bool readProgramFile(const std::string &path, mlg::program::Program *program,
                     std::string *error) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *error = "cannot read '" + path + "': " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = "cannot read '" + path + "': not a regular file";
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) >
      static_cast<uint64_t>(std::numeric_limits<int>::max())) {
    *error = "'" + path + "' is larger than 2 GiB";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    *error = "cannot read '" + path + "'";
    return false;
  }
  if (!decodeProgram(data.data(), data.size(), program, error)) {
    *error = "'" + path + "': " + *error;
    return false;
  }
  return true;
}

} // namespace mlg_rt

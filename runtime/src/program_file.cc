// program_file.cc - reading and writing .mlgp program files.

#include "mlg_rt/program_file.h"

#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace mlg_rt {

bool encodeProgram(const mlg::program::Program &program, std::string *out) {
  std::string body;
  if (!program.SerializeToString(&body))
    return false;
  out->assign(kProgramMagic, sizeof(kProgramMagic));
  uint32_t version = kProgramFormatVersion;
  for (int i = 0; i < 4; ++i)
    out->push_back(static_cast<char>((version >> (8 * i)) & 0xff));
  out->append(body);
  return true;
}

bool decodeProgram(const void *data, size_t size,
                   mlg::program::Program *program, std::string *error) {
  const auto *bytes = static_cast<const unsigned char *>(data);
  if (size < sizeof(kProgramMagic) + 4 ||
      std::memcmp(bytes, kProgramMagic, sizeof(kProgramMagic)) != 0) {
    *error = "not an mlg program (bad magic)";
    return false;
  }
  uint32_t version = 0;
  for (int i = 0; i < 4; ++i)
    version |= uint32_t(bytes[sizeof(kProgramMagic) + i]) << (8 * i);
  if (version != kProgramFormatVersion) {
    *error = "program format version " + std::to_string(version) +
             " is not supported (this runtime reads version " +
             std::to_string(kProgramFormatVersion) + ")";
    return false;
  }
  size_t offset = sizeof(kProgramMagic) + 4;
  if (size - offset > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !program->ParseFromArray(bytes + offset,
                               static_cast<int>(size - offset))) {
    *error = "the program is malformed or truncated";
    return false;
  }
  return true;
}

bool readProgramFile(const std::string &path, mlg::program::Program *program,
                     std::string *error) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
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

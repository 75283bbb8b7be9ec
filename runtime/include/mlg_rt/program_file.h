// program_file.h - reading and writing .mlgp program files.
//
// No MLIR here: the runtime reads programs with this, the compiler writes
// them with it. The file is the magic "MLGPROG\n", a little-endian uint32
// format version, and a serialized mlg.program.Program.

#ifndef MLG_RT_PROGRAM_FILE_H
#define MLG_RT_PROGRAM_FILE_H

#include "program.pb.h"

#include <cstdint>
#include <string>

namespace mlg_rt {

inline constexpr char kProgramMagic[8] = {'M', 'L', 'G', 'P',
                                          'R', 'O', 'G', '\n'};
inline constexpr uint32_t kProgramFormatVersion = 1;

// Serializes `program` with the header. Returns false if it cannot be
// serialized (over 2 GiB).
bool encodeProgram(const mlg::program::Program &program, std::string *out);

// Parses a whole file's bytes. On failure returns false and says why in
// `error` (bad magic, unknown version, malformed or truncated message).
bool decodeProgram(const void *data, size_t size,
                   mlg::program::Program *program, std::string *error);

// Reads `path` (a regular file of at most 2 GiB) and decodes it.
bool readProgramFile(const std::string &path, mlg::program::Program *program,
                     std::string *error);

} // namespace mlg_rt

#endif // MLG_RT_PROGRAM_FILE_H

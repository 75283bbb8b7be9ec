// program_file.h - reading and writing .mlgp program files.
//
// No MLIR here: the runtime reads programs with this, the compiler writes
// them with it. The file is a 24-byte header and a serialized
// mlg.program.Program (the payload). The header, little-endian:
//
//   bytes  0..7   the magic "MLGPROG\n"
//   bytes  8..11  uint32 format version
//   bytes 12..15  uint32 CRC-32 of the payload (zlib's crc32)
//   bytes 16..23  uint64 payload size
//
// The size and checksum make a truncated, extended or bit-flipped file an
// error before a single field of it is trusted.

#ifndef MLG_RT_PROGRAM_FILE_H
#define MLG_RT_PROGRAM_FILE_H

#include "program.pb.h"

#include <cstdint>
#include <string>

namespace mlg_rt {

inline constexpr char kProgramMagic[8] = {'M', 'L', 'G', 'P',
                                          'R', 'O', 'G', '\n'};
inline constexpr uint32_t kProgramFormatVersion = 2;
inline constexpr size_t kProgramHeaderBytes = 24;

// CRC-32 (the polynomial of zlib, PNG and Ethernet) of `size` bytes,
// continuing from `crc` (0 to start).
uint32_t crc32(const void *data, size_t size, uint32_t crc = 0);

// Writes the header of `payload` into `header` (kProgramHeaderBytes bytes).
void writeProgramHeader(const void *payload, size_t size,
                        unsigned char *header);

// Serializes `program` with the header. Returns false if it cannot be
// serialized (over 2 GiB).
bool encodeProgram(const mlg::program::Program &program, std::string *out);

// Parses a whole file's bytes. On failure returns false and says why in
// `error` (bad magic, unknown version, truncated or extended file, checksum
// mismatch, malformed message).
bool decodeProgram(const void *data, size_t size,
                   mlg::program::Program *program, std::string *error);

// Reads `path` (a regular file of at most 2 GiB) and decodes it.
bool readProgramFile(const std::string &path, mlg::program::Program *program,
                     std::string *error);

} // namespace mlg_rt

#endif // MLG_RT_PROGRAM_FILE_H

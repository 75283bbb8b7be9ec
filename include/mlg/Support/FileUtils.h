//===- FileUtils.h - writing output files safely ----------------*- C++ -*-===//
//
// Output files are written to a temporary file in the same folder and renamed
// into place only once complete, so a failed or interrupted run never leaves a
// half-written file. Standard output ("-") and special files (devices, pipes)
// are written directly.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_SUPPORT_FILEUTILS_H
#define MLG_SUPPORT_FILEUTILS_H

#include "llvm/Support/raw_ostream.h"

#include <memory>
#include <string>

namespace mlg {

class AtomicOutputFile {
public:
  /// Opens `path` for writing; returns null and sets `error` on failure.
  static std::unique_ptr<AtomicOutputFile> open(llvm::StringRef path,
                                                std::string &error);
  ~AtomicOutputFile();

  llvm::raw_ostream &os() { return *stream; }
  /// Flushes and moves the file into place. Without a commit, the temporary
  /// file is removed and `path` is left as it was.
  bool commit(std::string &error);

private:
  AtomicOutputFile() = default;
  std::string path, tempPath;
  std::unique_ptr<llvm::raw_fd_ostream> ownedStream;
  llvm::raw_ostream *stream = nullptr;
  bool committed = false;
};

} // namespace mlg

#endif // MLG_SUPPORT_FILEUTILS_H

//===- FileUtils.cpp - writing output files safely ------------------------===//

#include "mlg/Support/FileUtils.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Signals.h"

using namespace mlg;

std::unique_ptr<AtomicOutputFile> AtomicOutputFile::open(llvm::StringRef path,
                                                         std::string &error) {
  std::unique_ptr<AtomicOutputFile> file(new AtomicOutputFile());
  file->path = path.str();
  if (path == "-") {
    file->stream = &llvm::outs();
    return file;
  }
  llvm::sys::fs::file_status status;
  bool exists = !llvm::sys::fs::status(path, status);
  if (exists && status.type() == llvm::sys::fs::file_type::directory_file) {
    error = "'" + path.str() + "' is a directory";
    return nullptr;
  }
  std::error_code ec;
  if (exists && status.type() != llvm::sys::fs::file_type::regular_file) {
    // A device or a pipe: there is nothing to replace atomically.
    file->ownedStream = std::make_unique<llvm::raw_fd_ostream>(path, ec);
    if (ec) {
      error = "cannot open '" + path.str() + "': " + ec.message();
      return nullptr;
    }
    file->stream = file->ownedStream.get();
    return file;
  }
  llvm::SmallString<256> temp;
  int fd;
  ec = llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%%%", fd, temp);
  if (ec) {
    error =
        "cannot create a file next to '" + path.str() + "': " + ec.message();
    return nullptr;
  }
  file->tempPath = std::string(temp);
  llvm::sys::RemoveFileOnSignal(file->tempPath);
  file->ownedStream =
      std::make_unique<llvm::raw_fd_ostream>(fd, /*shouldClose=*/true);
  file->stream = file->ownedStream.get();
  return file;
}

bool AtomicOutputFile::commit(std::string &error) {
  stream->flush();
  if (!ownedStream) {
    committed = true;
    return true;
  }
  ownedStream->close();
  if (ownedStream->has_error()) {
    error = "cannot write '" + path + "': " + ownedStream->error().message();
    ownedStream->clear_error();
    return false;
  }
  if (!tempPath.empty()) {
    if (std::error_code ec = llvm::sys::fs::rename(tempPath, path)) {
      error = "cannot move the output into '" + path + "': " + ec.message();
      return false;
    }
    llvm::sys::DontRemoveFileOnSignal(tempPath);
  }
  committed = true;
  return true;
}

AtomicOutputFile::~AtomicOutputFile() {
  if (committed || tempPath.empty())
    return;
  if (ownedStream) {
    ownedStream->close();
    ownedStream->clear_error();
  }
  llvm::sys::fs::remove(tempPath);
  llvm::sys::DontRemoveFileOnSignal(tempPath);
}

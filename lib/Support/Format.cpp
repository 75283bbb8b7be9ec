//===- Format.cpp - human-readable figures --------------------------------===//

#include "mlg/Support/Format.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

std::string mlg::formatBytes(int64_t bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while ((v >= 1024 || v <= -1024) && u < 4) {
    v /= 1024;
    ++u;
  }
  std::string out;
  llvm::raw_string_ostream os(out);
  if (u == 0)
    os << bytes << " B";
  else
    os << llvm::format("%.1f %s", v, units[u]);
  return out;
}

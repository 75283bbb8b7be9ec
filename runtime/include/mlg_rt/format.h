// format.h - human-readable figures, shared by the runtime, its tools and
// the compiler (no dependencies).

#ifndef MLG_RT_FORMAT_H
#define MLG_RT_FORMAT_H

#include <cstdint>
#include <cstdio>
#include <string>

namespace mlg_rt {

/// "512 B", "1.4 KiB", "882.8 MiB", "3.2 GiB"; negative for differences.
inline std::string formatBytes(int64_t bytes) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while ((v >= 1024 || v <= -1024) && u < 6) {
    v /= 1024;
    ++u;
  }
  char buf[64];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

} // namespace mlg_rt

#endif // MLG_RT_FORMAT_H

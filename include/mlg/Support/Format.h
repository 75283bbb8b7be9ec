//===- Format.h - human-readable figures ------------------------*- C++ -*-===//

#ifndef MLG_SUPPORT_FORMAT_H
#define MLG_SUPPORT_FORMAT_H

#include <cstdint>
#include <string>

namespace mlg {

/// "512 B", "1.4 KiB", "882.8 MiB", "3.2 GiB".
std::string formatBytes(int64_t bytes);

} // namespace mlg

#endif // MLG_SUPPORT_FORMAT_H

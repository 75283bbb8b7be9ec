//===- Format.cpp - human-readable figures --------------------------------===//

#include "mlg/Support/Format.h"

#include "mlg_rt/format.h"

std::string mlg::formatBytes(int64_t bytes) {
  return mlg_rt::formatBytes(bytes);
}

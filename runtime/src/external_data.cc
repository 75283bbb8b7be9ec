// external_data.cc - where ONNX external data may live.

#include "mlg_rt/external_data.h"

#include <climits>
#include <cstdlib>
#include <sstream>

namespace mlg_rt {

static bool realPath(const std::string &path, std::string *out) {
  char buffer[PATH_MAX];
  if (!::realpath(path.c_str(), buffer))
    return false;
  *out = buffer;
  return true;
}

bool resolveExternalDataPath(const std::string &directory,
                             const std::string &location, std::string *resolved,
                             std::string *why) {
  if (location.empty()) {
    *why = "its location is empty";
    return false;
  }
  if (location[0] == '/' || location.find('\\') != std::string::npos ||
      location.find(':') != std::string::npos) {
    *why = "its location '" + location +
           "' is absolute; it must be relative to the model's folder";
    return false;
  }
  std::stringstream parts(location);
  for (std::string part; std::getline(parts, part, '/');) {
    if (part == "..") {
      *why = "its location '" + location + "' leaves the model's folder";
      return false;
    }
  }
  std::string joined =
      (directory.empty() ? std::string(".") : directory) + "/" + location;
  std::string realFile, realDir;
  if (!realPath(joined, &realFile) ||
      !realPath(directory.empty() ? std::string(".") : directory, &realDir)) {
    *why = "its file '" + joined + "' does not exist";
    return false;
  }
  if (realFile.size() <= realDir.size() ||
      realFile.compare(0, realDir.size(), realDir) != 0 ||
      (realDir != "/" && realFile[realDir.size()] != '/')) {
    *why = "its location '" + location +
           "' resolves (through a symbolic link) outside the model's folder";
    return false;
  }
  *resolved = realFile;
  return true;
}

} // namespace mlg_rt

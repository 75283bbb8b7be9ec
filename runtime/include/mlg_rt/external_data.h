// external_data.h - where ONNX external data may live.
//
// The one implementation of the path rules, used by the compiler's importer
// and the runtime's weight loader alike: a location must be relative, must
// not contain "..", and must resolve (through symbolic links) to a file
// inside the model's folder. ONNX 1.12's own checker lets several of these
// through; this was a real vulnerability.

#ifndef MLG_RT_EXTERNAL_DATA_H
#define MLG_RT_EXTERNAL_DATA_H

#include <string>

namespace mlg_rt {

/// Resolves `location` against `directory`. Returns false and explains in
/// `why` if it breaks a rule or does not exist.
bool resolveExternalDataPath(const std::string &directory,
                             const std::string &location, std::string *resolved,
                             std::string *why);

} // namespace mlg_rt

#endif // MLG_RT_EXTERNAL_DATA_H

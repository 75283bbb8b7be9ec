// status.h - the runtime's error type.
//
// A Status is ok or carries a message that says what went wrong and where
// (the step, the tensor, the file). Every fallible runtime call returns one.

#ifndef MLG_RT_SRC_STATUS_H
#define MLG_RT_SRC_STATUS_H

#include <sstream>
#include <string>
#include <utility>

namespace mlg_rt {

class Status {
public:
  Status() = default;
  static Status error(std::string message) {
    return Status(std::move(message));
  }
  /// Concatenates its arguments with operator<< into the message.
  template <typename... Args> static Status errorf(const Args &...args) {
    std::ostringstream os;
    (os << ... << args);
    return Status(os.str());
  }
  bool ok() const { return !failed_; }
  const std::string &message() const { return message_; }
  /// Prefixes the message with context ("step 'conv1': ...").
  Status withContext(const std::string &context) const {
    return failed_ ? Status(context + ": " + message_) : *this;
  }

private:
  explicit Status(std::string message)
      : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

} // namespace mlg_rt

#define MLG_RT_RETURN_IF_ERROR(expr)                                           \
  do {                                                                         \
    ::mlg_rt::Status _status = (expr);                                         \
    if (!_status.ok())                                                         \
      return _status;                                                          \
  } while (0)

#endif // MLG_RT_SRC_STATUS_H

// program.h - a validated program, ready for a backend.
//
// Program::load decodes a .mlgp file and checks everything a backend will
// rely on: data types, shapes and byte counts (overflow-checked), every
// arena tensor, workspace and release range inside the arena, every index in
// range, constants the size their shape says, names unique, streams and
// events in range, every awaited event recorded by an earlier step, host
// tensors only where offload and prefetch steps copy. A hostile file gets an error naming what is wrong; it can
// neither make the runtime read out of bounds nor allocate more than the
// file itself says it needs (and a session refuses an arena larger than the
// machine's memory).

#ifndef MLG_RT_SRC_PROGRAM_H
#define MLG_RT_SRC_PROGRAM_H

#include "dtype.h"
#include "status.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mlg_rt {

struct TensorInfo {
  enum class Storage { Arena, Persistent, Constant, Host };
  DType dtype = DType::Invalid;
  std::vector<int64_t> shape;
  int64_t numel = 0;
  int64_t bytes = 0;
  Storage storage = Storage::Arena;
  uint64_t offset = 0; // Arena or Host
  uint32_t index = 0;  // Persistent or Constant
};

struct PersistentInfo {
  enum class Kind { Parameter = 0, State = 1, Table = 2 };
  enum class Init { Random = 0, Zeros = 1, Ones = 2 };
  std::string name;
  Kind kind = Kind::Parameter;
  Init init = Init::Random;
  DType dtype = DType::Invalid;
  std::vector<int64_t> shape;
  int64_t numel = 0;
  int64_t bytes = 0;
};

struct ConstantInfo {
  DType dtype = DType::Invalid;
  std::vector<int64_t> shape;
  int64_t numel = 0;
  int64_t bytes = 0;
  std::string data; // little-endian; one element if splat
  bool splat = false;
};

/// A step's attributes by name.
class Attributes {
public:
  using Value = std::variant<int64_t, double, bool, std::string,
                             std::vector<int64_t>, std::vector<double>>;
  void set(std::string name, Value value) {
    values_[std::move(name)] = std::move(value);
  }
  bool has(const std::string &name) const { return values_.count(name) != 0; }
  std::optional<int64_t> getInt(const std::string &name) const;
  std::optional<double> getFloat(const std::string &name) const;
  std::optional<bool> getBool(const std::string &name) const;
  std::optional<std::string> getString(const std::string &name) const;
  std::optional<std::vector<int64_t>> getInts(const std::string &name) const;

private:
  std::map<std::string, Value> values_;
};

struct StepInfo {
  std::string kernel;
  std::string name;
  std::vector<uint32_t> inputs, outputs;
  Attributes attrs;
  bool hasWorkspace = false;
  uint64_t workspaceOffset = 0, workspaceBytes = 0;
  uint32_t stream = 0;
  std::vector<uint32_t> waitEvents;
  int32_t recordEvent = -1;
  std::vector<std::pair<uint64_t, uint64_t>> release; // (offset, bytes)

  /// "step 12 'conv' (node '/conv1/Conv')", for messages.
  std::string describe(size_t index) const;
};

struct BindingInfo {
  std::string name;
  uint32_t tensor = 0;
};

/// What a program needs: its arena, persistent tensors and constants, and
/// the largest workspace within the arena.
struct MemoryStats {
  uint64_t arenaBytes = 0;
  uint64_t persistentBytes = 0;
  uint64_t constantBytes = 0;
  uint64_t maxWorkspaceBytes = 0;
  /// Pinned host memory for offloaded tensors.
  uint64_t hostBytes = 0;
  /// The device memory the step may use in all, 0 for no budget.
  uint64_t memoryBudget = 0;
};

class Program {
public:
  /// Decodes and validates a program file's bytes.
  static Status load(const void *data, size_t size,
                     std::shared_ptr<const Program> *out);
  static Status loadFile(const std::string &path,
                         std::shared_ptr<const Program> *out);

  std::string name, source;
  uint64_t arenaBytes = 0, hostBytes = 0;
  /// The device memory the step may use in all, 0 for no budget.
  uint64_t memoryBudget = 0;
  uint32_t numStreams = 1, numEvents = 0;
  std::vector<TensorInfo> tensors;
  std::vector<PersistentInfo> persistents;
  std::vector<ConstantInfo> constants;
  std::vector<StepInfo> steps;
  std::vector<BindingInfo> inputs, outputs;

  uint64_t persistentBytes() const;
  uint64_t constantBytes() const;
  /// The largest workspace any step uses.
  uint64_t maxWorkspaceBytes() const;
  MemoryStats memory() const {
    return {arenaBytes,          persistentBytes(), constantBytes(),
            maxWorkspaceBytes(), hostBytes,         memoryBudget};
  }
};

/// Element count and byte count of `shape` of `dtype`, overflow-checked.
Status checkedSizes(const std::vector<int64_t> &shape, DType dtype,
                    int64_t *numel, int64_t *bytes);

} // namespace mlg_rt

#endif // MLG_RT_SRC_PROGRAM_H

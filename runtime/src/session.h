// session.h - a program bound to a backend, its memory and its weights.
//
// A session allocates the arena (once, the size the program states), the
// host pool (pinned for a device), the persistent tensors and the constants,
// checks every step against the backend's kernel (shapes, types, attributes,
// workspace), and then runs the program as often as asked: inputs are copied
// into their arena buffers, steps run in order (on a device each on its
// stream, ordered across streams by the events the program names), outputs
// are read where the program says. With poisoning on, the arena starts as
// 0xFF bytes each run and every range is poisoned again when its live
// interval ends, so a wrong plan or rewrite gives NaNs instead of passing
// by luck.

#ifndef MLG_RT_SRC_SESSION_H
#define MLG_RT_SRC_SESSION_H

#include "arena_spare.h"
#include "cpu/kernel.h"
#include "device.h"
#include "onnx_io.h"
#include "program.h"

#include <memory>
#include <set>
#include <vector>

namespace mlg_rt {

enum class Backend { Cpu, Cuda };

struct SessionOptions {
  bool poison = false;
  /// Where memory lives and steps run: the host, or CUDA device 0.
  Backend backend = Backend::Cpu;
  /// Time every step of every run (see Session::profileJson).
  bool profile = false;
  cpu::CpuOptions cpu;
  CudaOptions cuda;
};

class Session {
public:
  static Status create(std::shared_ptr<const Program> program,
                       const SessionOptions &options,
                       std::unique_ptr<Session> *out);
  ~Session();

  const Program &program() const { return *program_; }

  /// Every persistent tensor from a seed, as its init says.
  Status initWeights(uint64_t seed);
  /// Persistent tensors from an ONNX model's initializers, by name. Fails if
  /// one has another type or shape than the program's, or if a parameter or
  /// table is missing; state the file does not have (optimizer moments, the
  /// step counter: a training step's own additions) starts as its init
  /// says. `numInitialized`, if given, counts those.
  Status loadWeightsOnnx(const std::string &path,
                         size_t *numInitialized = nullptr);
  /// Writes a copy of `templatePath` with the current parameters and state,
  /// atomically. State the template does not have (optimizer state) is not
  /// written; a parameter it does not have is an error.
  Status saveWeightsOnnx(const std::string &templatePath,
                         const std::string &outPath) const;
  /// Like saveWeightsOnnx, in the template's inference form (see
  /// writeInferenceModel): training-mode batch norm and dropout switched to
  /// inference, the running statistics' outputs dropped.
  Status saveInferenceModel(const std::string &templatePath,
                            const std::string &outPath) const;

  /// The index of an input or output by name, or -1.
  int findInput(const std::string &name) const;
  int findOutput(const std::string &name) const;
  /// Stages input `index` for the next runs; its type and shape must match.
  Status setInput(size_t index, const HostTensor &tensor);
  /// Stages input `index` from raw little-endian bytes, exactly as many as
  /// its type and shape need.
  Status setInputBytes(size_t index, const void *data, size_t bytes);
  bool isInputSet(size_t index) const { return staged_set_[index]; }
  Status run();
  /// Output `index` as a host tensor (a copy).
  HostTensor output(size_t index) const;
  /// Copies output `index` to `data`, which holds exactly its bytes.
  Status readOutput(size_t index, void *data, size_t bytes) const;

  MemoryStats memory() const { return program_->memory(); }
  /// With SessionOptions::profile: every step's kernel, stream, name and
  /// mean time over the runs so far (device time between events on a
  /// device, host time on the CPU) as JSON, for the cost model and for
  /// people. On a device the first run (which also chooses algorithms) is
  /// left out once there are later ones.
  Status profileJson(std::string *out);
  /// On a device: the last run's device time, from before its first step
  /// to after its last (CUDA events), without copying inputs in.
  Status lastRunDeviceMs(double *ms) const;
  /// The device the session runs on, or null on the host.
  const Device *device() const { return device_.get(); }
  uint64_t runs() const { return runs_; }

private:
  Session() = default;
  Status prepare();
  Status runOnDevice();
  /// Step `i`'s call with its tensors' current addresses.
  cpu::KernelCall &bindStep(size_t i);
  /// Persistent tensor `i` as its init says (random ones from `seed`).
  void initPersistent(size_t i, uint64_t seed);
  /// The parameters and state to save, and which of them a template may
  /// lack.
  std::vector<HostTensor> tensorsToSave(std::set<std::string> *optional) const;
  uint8_t *dataOf(uint32_t tensor) const;
  /// With a device: the persistent tensors' host copies to the device, and
  /// back.
  Status uploadPersistents();
  Status downloadPersistents() const;

  std::shared_ptr<const Program> program_;
  SessionOptions options_;
  uint8_t *arena_ = nullptr;
  /// The host pool (pinned with a device), or null when the program has
  /// none.
  uint8_t *host_ = nullptr;
  /// On the host: the persistent tensors and constants. With a device they
  /// are the host copies that weights are loaded into and saved from.
  std::vector<std::unique_ptr<uint8_t[]>> persistent_, constants_;
  std::unique_ptr<Device> device_;
  /// With a device: the arena (arena_), persistent tensors and constants in
  /// device memory.
  std::vector<uint8_t *> devicePersistent_, deviceConstants_;
  std::vector<const cpu::KernelDef *> kernels_;
  std::vector<cpu::KernelCall> calls_;
  std::vector<std::string> staged_;
  std::vector<bool> staged_set_;
  /// On a device: input i's staged value is in device memory, and
  /// `inputKept_[i]` says no step ever writes over it, so a run need not
  /// copy it again until it is set anew.
  std::vector<bool> inputOnDevice_, inputKept_;
  /// On a device: each step's spare arena range (arena_spare.h).
  std::vector<ArenaRange> spare_;
  uint64_t runs_ = 0;
  /// With a profile: each step's total milliseconds over the runs.
  std::vector<double> stepMs_;
  /// On a device, the first run's step times (it also chooses algorithms
  /// and grows scratch): kept out of the profile once later runs exist.
  std::vector<double> firstRunMs_;
};

/// The number of classes of the program's `labels` input: the class axis of
/// the softmax cross-entropy step that reads it.
Status labelClasses(const Program &program, int64_t *out);

} // namespace mlg_rt

#endif // MLG_RT_SRC_SESSION_H

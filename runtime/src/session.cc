// session.cc - a program bound to a backend, its memory and its weights.

#include "session.h"

#include "check.h"
#include "mlg_rt/format.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <random>
#include <set>

namespace mlg_rt {

static constexpr uint64_t kArenaAlignment = 256;

/// `bytes` rounded up to the arena's (and host pool's) alignment.
static uint64_t alignedSize(uint64_t bytes) {
  return (bytes + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
}

// [2x3x32x32]; [] for a scalar.
static std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s + "]";
}

static std::string bytes(uint64_t n) {
  return formatBytes(int64_t(std::min<uint64_t>(n, INT64_MAX)));
}

Session::~Session() {
  if (!device_) {
    std::free(arena_);
    std::free(host_);
    return;
  }
  (void)device_->synchronize();
  device_->release(arena_);
  device_->releaseHost(host_);
  for (uint8_t *d : devicePersistent_)
    device_->release(d);
  for (uint8_t *d : deviceConstants_)
    device_->release(d);
}

Status Session::create(std::shared_ptr<const Program> program,
                       const SessionOptions &options,
                       std::unique_ptr<Session> *out) {
  std::unique_ptr<Session> s(new Session());
  s->program_ = std::move(program);
  s->options_ = options;
  const Program &p = *s->program_;

  if (options.backend == Backend::Cuda)
    MLG_RT_RETURN_IF_ERROR(createCudaDevice(options.cuda, &s->device_));
  Device *device = s->device_.get();

  // Refuse what the machine cannot hold rather than be killed for it (a
  // device says so when it allocates).
  uint64_t physical =
      uint64_t(::sysconf(_SC_PHYS_PAGES)) * uint64_t(::sysconf(_SC_PAGE_SIZE));
  // The host pool is host memory on every backend.
  uint64_t needed = p.arenaBytes + p.persistentBytes() + p.constantBytes() +
                    p.hostBytes;
  uint64_t neededHere = device ? p.hostBytes : needed;
  if (needed < p.arenaBytes || needed < p.hostBytes || neededHere > physical)
    return Status::errorf(
        "the program needs more memory than this machine has (",
        bytes(needed < p.arenaBytes || needed < p.hostBytes ? UINT64_MAX
                                                            : neededHere),
        ": arena ", bytes(p.arenaBytes), ", persistent ",
        bytes(p.persistentBytes()), ", constants ", bytes(p.constantBytes()),
        ", host pool ", bytes(p.hostBytes), "; this machine has ",
        bytes(physical), ")");
  uint64_t arenaSize = alignedSize(p.arenaBytes);
  if (device) {
    void *arena = nullptr;
    MLG_RT_RETURN_IF_ERROR(device->allocate(
        std::max<uint64_t>(arenaSize, kArenaAlignment), "the arena", &arena));
    s->arena_ = static_cast<uint8_t *>(arena);
    MLG_RT_RETURN_IF_ERROR(
        device->fill(s->arena_, options.poison ? 0xff : 0, arenaSize));
  } else {
    s->arena_ = static_cast<uint8_t *>(std::aligned_alloc(
        kArenaAlignment, std::max<uint64_t>(arenaSize, kArenaAlignment)));
    if (!s->arena_)
      return Status::errorf("cannot allocate the arena of ", p.arenaBytes,
                            " bytes");
    std::memset(s->arena_, options.poison ? 0xff : 0, arenaSize);
  }
  if (p.hostBytes) {
    uint64_t hostSize = alignedSize(p.hostBytes);
    void *host = nullptr;
    if (device) {
      MLG_RT_RETURN_IF_ERROR(device->allocateHost(hostSize, &host));
    } else if (!(host = std::aligned_alloc(kArenaAlignment, hostSize))) {
      return Status::errorf("cannot allocate the host pool of ", p.hostBytes,
                            " bytes");
    }
    s->host_ = static_cast<uint8_t *>(host);
    std::memset(s->host_, options.poison ? 0xff : 0, hostSize);
  }
  for (const PersistentInfo &q : p.persistents) {
    s->persistent_.emplace_back(new (std::nothrow)
                                    uint8_t[std::max<int64_t>(q.bytes, 1)]());
    if (!s->persistent_.back())
      return Status::errorf("cannot allocate persistent tensor '", q.name, "'");
  }
  for (const ConstantInfo &c : p.constants) {
    auto buffer = std::unique_ptr<uint8_t[]>(
        new (std::nothrow) uint8_t[std::max<int64_t>(c.bytes, 1)]);
    if (!buffer)
      return Status::error("cannot allocate a constant");
    if (c.splat) {
      int64_t e = dtypeBytes(c.dtype);
      for (int64_t i = 0; i < c.numel; ++i)
        std::memcpy(buffer.get() + i * e, c.data.data(), e);
    } else {
      std::memcpy(buffer.get(), c.data.data(), c.bytes);
    }
    s->constants_.push_back(std::move(buffer));
  }
  if (device) {
    for (size_t i = 0; i < p.persistents.size(); ++i) {
      void *d = nullptr;
      MLG_RT_RETURN_IF_ERROR(device->allocate(
          std::max<int64_t>(p.persistents[i].bytes, 1),
          "persistent tensor '" + p.persistents[i].name + "'", &d));
      s->devicePersistent_.push_back(static_cast<uint8_t *>(d));
    }
    MLG_RT_RETURN_IF_ERROR(s->uploadPersistents());
    for (size_t i = 0; i < p.constants.size(); ++i) {
      void *d = nullptr;
      uint64_t bytes = std::max<int64_t>(p.constants[i].bytes, 1);
      MLG_RT_RETURN_IF_ERROR(device->allocate(bytes, "a constant", &d));
      s->deviceConstants_.push_back(static_cast<uint8_t *>(d));
      MLG_RT_RETURN_IF_ERROR(
          device->copyToDevice(d, s->constants_[i].get(), bytes));
    }
  }
  s->staged_.resize(p.inputs.size());
  s->staged_set_.assign(p.inputs.size(), false);
  MLG_RT_RETURN_IF_ERROR(s->prepare());
  *out = std::move(s);
  return Status();
}

uint8_t *Session::dataOf(uint32_t tensor) const {
  const TensorInfo &t = program_->tensors[tensor];
  switch (t.storage) {
  case TensorInfo::Storage::Arena:
    return arena_ + t.offset;
  case TensorInfo::Storage::Persistent:
    return device_ ? devicePersistent_[t.index] : persistent_[t.index].get();
  case TensorInfo::Storage::Constant:
    return device_ ? deviceConstants_[t.index] : constants_[t.index].get();
  case TensorInfo::Storage::Host:
    return host_ + t.offset;
  }
  return nullptr;
}

Status Session::uploadPersistents() {
  if (!device_)
    return Status();
  for (size_t i = 0; i < persistent_.size(); ++i)
    MLG_RT_RETURN_IF_ERROR(device_->copyToDevice(
        devicePersistent_[i], persistent_[i].get(),
        program_->persistents[i].bytes));
  return Status();
}

Status Session::downloadPersistents() const {
  if (!device_)
    return Status();
  MLG_RT_RETURN_IF_ERROR(device_->synchronize());
  for (size_t i = 0; i < persistent_.size(); ++i)
    MLG_RT_RETURN_IF_ERROR(device_->copyToHost(
        persistent_[i].get(), devicePersistent_[i],
        program_->persistents[i].bytes));
  return Status();
}

Status Session::prepare() {
  MLG_RT_RETURN_IF_ERROR(
      checkForCpu(*program_, options_.cpu, &calls_, &kernels_));
  if (options_.profile) {
    stepMs_.assign(calls_.size(), 0.0);
    if (device_)
      MLG_RT_RETURN_IF_ERROR(device_->enableProfile(calls_.size()));
  }
  if (!device_)
    return Status();
  // An input is kept on the device between runs unless a step writes into
  // its bytes (the plan may reuse them once the input is dead).
  const Program &p = *program_;
  inputOnDevice_.assign(p.inputs.size(), false);
  inputKept_.assign(p.inputs.size(), true);
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    const TensorInfo &in = p.tensors[p.inputs[i].tensor];
    if (in.storage != TensorInfo::Storage::Arena)
      continue;
    auto overlaps = [&](uint64_t offset, uint64_t bytes) {
      return bytes > 0 && offset < in.offset + uint64_t(in.bytes) &&
             in.offset < offset + bytes;
    };
    for (const StepInfo &step : p.steps) {
      bool written = step.hasWorkspace &&
                     overlaps(step.workspaceOffset, step.workspaceBytes);
      for (uint32_t out : step.outputs) {
        const TensorInfo &t = p.tensors[out];
        written |= t.storage == TensorInfo::Storage::Arena &&
                   overlaps(t.offset, uint64_t(t.bytes));
      }
      if (written) {
        inputKept_[i] = false;
        break;
      }
    }
  }
  std::vector<bool> wanted(p.steps.size());
  for (size_t i = 0; i < p.steps.size(); ++i)
    wanted[i] = device_->wantsSpareArena(p.steps[i].kernel);
  spare_ = spareArenaRanges(p, wanted);
  return device_->prepare(*program_, calls_);
}

Status Session::profileJson(std::string *out) {
  if (!options_.profile)
    return Status::error("the session was made without profiling");
  // On a device the first run is left out once there are others.
  uint64_t counted = runs_;
  const std::vector<double> *ms = &stepMs_;
  if (device_) {
    counted = runs_ > 1 ? runs_ - 1 : runs_;
    if (runs_ == 1)
      ms = &firstRunMs_;
  }
  const Program &p = *program_;
  auto quoted = [](const std::string &v) {
    std::string q = "\"";
    for (char ch : v) {
      if (ch == '"' || ch == '\\')
        q += '\\';
      if (uint8_t(ch) >= 0x20)
        q += ch;
    }
    return q + "\"";
  };
  double runs = double(std::max<uint64_t>(counted, 1)), total = 0;
  for (double t : *ms)
    total += t;
  std::string j = "{\"version\": 1, \"program\": " + quoted(p.name) +
                  ", \"device\": " +
                  quoted(device_ ? device_->describe() : "CPU") +
                  ", \"runs\": " + std::to_string(counted) +
                  ", \"first_run_excluded\": " +
                  (counted < runs_ ? "true" : "false") +
                  ", \"step_ms\": " + std::to_string(total / runs) +
                  ", \"steps\": [";
  for (size_t i = 0; i < ms->size(); ++i)
    j += std::string(i ? ",\n " : "\n ") + "{\"index\": " + std::to_string(i) +
         ", \"kernel\": " + quoted(p.steps[i].kernel) +
         ", \"stream\": " + std::to_string(p.steps[i].stream) +
         ", \"name\": " + quoted(p.steps[i].name) +
         ", \"ms\": " + std::to_string((*ms)[i] / runs) + "}";
  *out = j + "]}\n";
  return Status();
}

Status checkForCpu(const Program &p, const cpu::CpuOptions &options,
                   std::vector<cpu::KernelCall> *calls,
                   std::vector<const cpu::KernelDef *> *kernels) {
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const StepInfo &step = p.steps[i];
    const cpu::KernelDef *kernel = cpu::kernels().find(step.kernel);
    if (!kernel)
      return Status::errorf(step.describe(i),
                            ": the CPU backend has no such kernel");
    cpu::KernelCall call;
    call.step = &step;
    call.stepIndex = i;
    call.options = &options;
    for (uint32_t t : step.inputs)
      call.in.push_back({p.tensors[t].dtype, &p.tensors[t].shape,
                         p.tensors[t].numel, nullptr});
    for (uint32_t t : step.outputs)
      call.out.push_back({p.tensors[t].dtype, &p.tensors[t].shape,
                          p.tensors[t].numel, nullptr});
    call.workspaceBytes = step.hasWorkspace ? step.workspaceBytes : 0;
    MLG_RT_RETURN_IF_ERROR(kernel->check(call));
    if (kernels)
      kernels->push_back(kernel);
    if (calls)
      calls->push_back(std::move(call));
  }
  return Status();
}

void Session::initPersistent(size_t i, uint64_t seed) {
  const PersistentInfo &q = program_->persistents[i];
  uint8_t *data = persistent_[i].get();
  // Each tensor draws from its own stream: the seed and its name.
  std::seed_seq seq{seed, std::hash<std::string>{}(q.name)};
  std::mt19937_64 rng(seq);
  int64_t fanIn = 1;
  for (size_t d = 1; d < q.shape.size(); ++d)
    fanIn *= std::max<int64_t>(q.shape[d], 1);
  double bound = 1.0 / std::sqrt(double(std::max<int64_t>(fanIn, 1)));
  std::uniform_real_distribution<double> uniform(-bound, bound);
  for (int64_t e = 0; e < q.numel; ++e) {
    double v = q.init == PersistentInfo::Init::Zeros  ? 0.0
               : q.init == PersistentInfo::Init::Ones ? 1.0
                                                      : uniform(rng);
    switch (q.dtype) {
    case DType::F32:
      reinterpret_cast<float *>(data)[e] = float(v);
      break;
    case DType::F64:
      reinterpret_cast<double *>(data)[e] = v;
      break;
    case DType::F16:
      reinterpret_cast<uint16_t *>(data)[e] = floatToHalf(float(v));
      break;
    case DType::BF16:
      reinterpret_cast<uint16_t *>(data)[e] = floatToBf16(float(v));
      break;
    default: { // integer tables: small non-negative values
      uint64_t x =
          q.init == PersistentInfo::Init::Ones
              ? 1
              : (q.init == PersistentInfo::Init::Zeros ? 0 : rng() % 2);
      std::memcpy(data + e * dtypeBytes(q.dtype), &x, dtypeBytes(q.dtype));
    }
    }
  }
}

Status Session::initWeights(uint64_t seed) {
  for (size_t i = 0; i < program_->persistents.size(); ++i)
    initPersistent(i, seed);
  return uploadPersistents();
}

Status Session::loadWeightsOnnx(const std::string &path,
                                size_t *numInitialized) {
  const Program &p = *program_;
  std::map<std::string, size_t> byName;
  for (size_t i = 0; i < p.persistents.size(); ++i)
    byName[p.persistents[i].name] = i;
  std::set<std::string> loaded;
  MLG_RT_RETURN_IF_ERROR(readInitializers(
      path, [&](const std::string &name) { return byName.count(name) != 0; },
      [&](const HostTensor &t) -> Status {
        const PersistentInfo &q = p.persistents[byName[t.name]];
        if (t.dtype != q.dtype || t.shape != q.shape)
          return Status::errorf("initializer '", t.name,
                                "' has another type or shape than ",
                                "the program's persistent tensor");
        std::memcpy(persistent_[byName[t.name]].get(), t.data.data(),
                    t.data.size());
        loaded.insert(t.name);
        return Status();
      }));
  // Check everything before changing anything more: a failed load leaves
  // the state the file does not have as it was.
  for (const PersistentInfo &q : p.persistents)
    if (!loaded.count(q.name) && q.kind != PersistentInfo::Kind::State)
      return Status::errorf("'", path, "' has no initializer '", q.name, "'");
  size_t initialized = 0;
  for (size_t i = 0; i < p.persistents.size(); ++i)
    if (!loaded.count(p.persistents[i].name)) {
      initPersistent(i, /*seed=*/0);
      ++initialized;
    }
  if (numInitialized)
    *numInitialized = initialized;
  return uploadPersistents();
}

std::vector<HostTensor>
Session::tensorsToSave(std::set<std::string> *optional) const {
  std::vector<HostTensor> tensors;
  const Program &p = *program_;
  for (size_t i = 0; i < p.persistents.size(); ++i) {
    const PersistentInfo &q = p.persistents[i];
    if (q.kind == PersistentInfo::Kind::Table)
      continue;
    if (q.kind == PersistentInfo::Kind::State)
      optional->insert(q.name);
    HostTensor h;
    h.name = q.name;
    h.dtype = q.dtype;
    h.shape = q.shape;
    h.data.assign(reinterpret_cast<const char *>(persistent_[i].get()),
                  q.bytes);
    tensors.push_back(std::move(h));
  }
  return tensors;
}

Status Session::saveWeightsOnnx(const std::string &templatePath,
                                const std::string &outPath) const {
  MLG_RT_RETURN_IF_ERROR(downloadPersistents());
  std::set<std::string> optional;
  std::vector<HostTensor> tensors = tensorsToSave(&optional);
  return writeModelWithInitializers(templatePath, outPath, tensors, optional);
}

Status Session::saveInferenceModel(const std::string &templatePath,
                                   const std::string &outPath) const {
  MLG_RT_RETURN_IF_ERROR(downloadPersistents());
  std::set<std::string> optional;
  std::vector<HostTensor> tensors = tensorsToSave(&optional);
  return writeInferenceModel(templatePath, outPath, tensors, optional);
}

int Session::findInput(const std::string &name) const {
  for (size_t i = 0; i < program_->inputs.size(); ++i)
    if (program_->inputs[i].name == name)
      return int(i);
  return -1;
}

int Session::findOutput(const std::string &name) const {
  for (size_t i = 0; i < program_->outputs.size(); ++i)
    if (program_->outputs[i].name == name)
      return int(i);
  return -1;
}

Status Session::setInput(size_t index, const HostTensor &tensor) {
  if (index >= program_->inputs.size())
    return Status::errorf("the program has no input #", index);
  const BindingInfo &b = program_->inputs[index];
  const TensorInfo &t = program_->tensors[b.tensor];
  if (tensor.dtype != t.dtype || tensor.shape != t.shape)
    return Status::errorf("input '", b.name, "' must be ", dtypeName(t.dtype),
                          " of shape ", shapeString(t.shape), ", got ",
                          dtypeName(tensor.dtype), " of shape ",
                          shapeString(tensor.shape));
  return setInputBytes(index, tensor.data.data(), tensor.data.size());
}

Status Session::setInputBytes(size_t index, const void *data, size_t bytes) {
  if (index >= program_->inputs.size())
    return Status::errorf("the program has no input #", index);
  const BindingInfo &b = program_->inputs[index];
  const TensorInfo &t = program_->tensors[b.tensor];
  if (int64_t(bytes) != t.bytes)
    return Status::errorf("input '", b.name, "' (", dtypeName(t.dtype), " of ",
                          "shape ", shapeString(t.shape), ") needs ", t.bytes,
                          " bytes, got ", bytes);
  if (bytes && !data)
    return Status::errorf("input '", b.name, "': no data given");
  staged_[index].assign(static_cast<const char *>(data), bytes);
  staged_set_[index] = true;
  if (!inputOnDevice_.empty())
    inputOnDevice_[index] = false;
  return Status();
}

cpu::KernelCall &Session::bindStep(size_t i) {
  cpu::KernelCall &call = calls_[i];
  const StepInfo &step = program_->steps[i];
  for (size_t k = 0; k < step.inputs.size(); ++k)
    call.in[k].data = dataOf(step.inputs[k]);
  for (size_t k = 0; k < step.outputs.size(); ++k)
    call.out[k].data = dataOf(step.outputs[k]);
  call.workspace = step.hasWorkspace ? arena_ + step.workspaceOffset : nullptr;
  if (i < spare_.size() && spare_[i].bytes) {
    call.spare = arena_ + spare_[i].offset;
    call.spareBytes = spare_[i].bytes;
  }
  call.runIndex = runs_;
  return call;
}

Status Session::run() {
  if (device_)
    return runOnDevice();
  const Program &p = *program_;
  if (options_.poison)
    std::memset(arena_, 0xff, p.arenaBytes);
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    if (!staged_set_[i])
      return Status::errorf("input '", p.inputs[i].name, "' is not set");
    std::memcpy(dataOf(p.inputs[i].tensor), staged_[i].data(),
                staged_[i].size());
  }
  for (size_t i = 0; i < calls_.size(); ++i) {
    const StepInfo &step = p.steps[i];
    auto start = std::chrono::steady_clock::now();
    MLG_RT_RETURN_IF_ERROR(kernels_[i]->run(bindStep(i)));
    if (!stepMs_.empty())
      stepMs_[i] += std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    if (options_.poison) {
      for (auto [offset, bytes] : step.release)
        std::memset(arena_ + offset, 0xff, bytes);
      if (step.hasWorkspace)
        std::memset(arena_ + step.workspaceOffset, 0xff, step.workspaceBytes);
    }
  }
  ++runs_;
  return Status();
}

Status Session::runOnDevice() {
  const Program &p = *program_;
  if (options_.poison)
    MLG_RT_RETURN_IF_ERROR(device_->fill(arena_, 0xff, p.arenaBytes));
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    if (!staged_set_[i])
      return Status::errorf("input '", p.inputs[i].name, "' is not set");
    // Poisoning fills the whole arena: inputs go in again.
    if (inputOnDevice_[i] && inputKept_[i] && !options_.poison)
      continue;
    MLG_RT_RETURN_IF_ERROR(device_->copyToDevice(
        dataOf(p.inputs[i].tensor), staged_[i].data(), staged_[i].size()));
    inputOnDevice_[i] = true;
  }
  auto enqueueSteps = [&]() -> Status {
    for (size_t i = 0; i < calls_.size(); ++i)
      MLG_RT_RETURN_IF_ERROR(
          device_->runStep(i, bindStep(i), options_.poison, arena_));
    return Status();
  };
  bool replayable = options_.cuda.graphs && !options_.poison &&
                    !options_.profile;
  MLG_RT_RETURN_IF_ERROR(device_->runSteps(runs_, replayable, enqueueSteps));
  MLG_RT_RETURN_IF_ERROR(device_->synchronize());
  if (!stepMs_.empty()) {
    if (runs_ == 0) {
      firstRunMs_.assign(stepMs_.size(), 0.0);
      MLG_RT_RETURN_IF_ERROR(device_->addStepTimes(firstRunMs_));
    } else {
      MLG_RT_RETURN_IF_ERROR(device_->addStepTimes(stepMs_));
    }
  }
  ++runs_;
  return Status();
}

Status Session::lastRunDeviceMs(double *ms) const {
  if (!device_)
    return Status::error("the session runs on the CPU, not a device");
  if (runs_ == 0)
    return Status::error("the session has not run yet");
  return device_->lastRunMs(ms);
}

HostTensor Session::output(size_t index) const {
  const BindingInfo &b = program_->outputs[index];
  const TensorInfo &t = program_->tensors[b.tensor];
  HostTensor h;
  h.name = b.name;
  h.dtype = t.dtype;
  h.shape = t.shape;
  if (device_) {
    h.data.resize(t.bytes);
    if (!device_->copyToHost(h.data.data(), dataOf(b.tensor), t.bytes).ok())
      h.data.clear();
    return h;
  }
  h.data.assign(reinterpret_cast<const char *>(dataOf(b.tensor)), t.bytes);
  return h;
}

Status Session::readOutput(size_t index, void *data, size_t bytes) const {
  if (index >= program_->outputs.size())
    return Status::errorf("the program has no output #", index);
  const BindingInfo &b = program_->outputs[index];
  const TensorInfo &t = program_->tensors[b.tensor];
  if (int64_t(bytes) != t.bytes)
    return Status::errorf("output '", b.name, "' (", dtypeName(t.dtype),
                          " of shape ", shapeString(t.shape), ") has ", t.bytes,
                          " bytes, the buffer ", bytes);
  if (bytes && !data)
    return Status::errorf("output '", b.name, "': no buffer given");
  if (runs_ == 0)
    return Status::errorf("output '", b.name,
                          "' is not computed yet (run the program first)");
  if (device_)
    return device_->copyToHost(data, dataOf(b.tensor), bytes);
  std::memcpy(data, dataOf(b.tensor), bytes);
  return Status();
}

Status labelClasses(const Program &p, int64_t *out) {
  int label = -1;
  for (size_t i = 0; i < p.inputs.size(); ++i)
    if (p.inputs[i].name == "labels")
      label = int(i);
  if (label < 0)
    return Status::error("the program has no input 'labels' (compile a "
                         "training step with --mlg-build-training-step)");
  uint32_t labels = p.inputs[size_t(label)].tensor;
  for (const StepInfo &step : p.steps) {
    if (step.kernel != "softmax_cross_entropy" || step.inputs.size() != 2 ||
        step.inputs[1] != labels)
      continue;
    const TensorInfo &logits = p.tensors[step.inputs[0]];
    if (logits.shape.empty())
      break;
    *out = logits.shape.back();
    return Status();
  }
  return Status::error("no softmax cross-entropy step reads the program's "
                       "'labels' input, so it has no number of classes");
}

} // namespace mlg_rt

// program.cc - decoding and validating programs.

#include "program.h"

#include "mlg_rt/program_file.h"

#include <limits>
#include <set>

namespace mlg_rt {

namespace pb = mlg::program;

// Generous limits that no real program reaches; they keep a hostile file from
// making the loader build enormous tables.
static constexpr size_t kMaxRank = 16;

std::optional<int64_t> Attributes::getInt(const std::string &name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return std::nullopt;
  if (auto *v = std::get_if<int64_t>(&it->second))
    return *v;
  if (auto *v = std::get_if<bool>(&it->second))
    return *v ? 1 : 0;
  return std::nullopt;
}

std::optional<double> Attributes::getFloat(const std::string &name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return std::nullopt;
  if (auto *v = std::get_if<double>(&it->second))
    return *v;
  if (auto *v = std::get_if<int64_t>(&it->second))
    return double(*v);
  return std::nullopt;
}

std::optional<bool> Attributes::getBool(const std::string &name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return std::nullopt;
  if (auto *v = std::get_if<bool>(&it->second))
    return *v;
  if (auto *v = std::get_if<int64_t>(&it->second))
    return *v != 0;
  return std::nullopt;
}

std::optional<std::string>
Attributes::getString(const std::string &name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return std::nullopt;
  if (auto *v = std::get_if<std::string>(&it->second))
    return *v;
  return std::nullopt;
}

std::optional<std::vector<int64_t>>
Attributes::getInts(const std::string &name) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return std::nullopt;
  if (auto *v = std::get_if<std::vector<int64_t>>(&it->second))
    return *v;
  return std::nullopt;
}

std::string StepInfo::describe(size_t index) const {
  std::string out = "step " + std::to_string(index) + " '" + kernel + "'";
  if (!name.empty())
    out += " (node '" + name + "')";
  return out;
}

Status checkedSizes(const std::vector<int64_t> &shape, DType dtype,
                    int64_t *numel, int64_t *bytes) {
  if (shape.size() > kMaxRank)
    return Status::errorf("rank ", shape.size(), " exceeds ", kMaxRank);
  int64_t n = 1;
  bool empty = false;
  for (int64_t d : shape) {
    if (d < 0)
      return Status::errorf("negative dimension ", d);
    if (d == 0)
      empty = true;
  }
  if (!empty)
    for (int64_t d : shape)
      if (__builtin_mul_overflow(n, d, &n))
        return Status::error("element count overflows");
  if (empty)
    n = 0;
  int64_t b;
  if (dtypeBytes(dtype) == 0)
    return Status::error("invalid data type");
  if (__builtin_mul_overflow(n, dtypeBytes(dtype), &b))
    return Status::error("byte count overflows");
  *numel = n;
  *bytes = b;
  return Status();
}

static bool inArena(uint64_t offset, uint64_t bytes, uint64_t arena) {
  return offset <= arena && bytes <= arena - offset;
}

static Status convertAttribute(const pb::Attribute &a, Attributes &attrs) {
  switch (a.value_case()) {
  case pb::Attribute::kIntValue:
    attrs.set(a.name(), a.int_value());
    return Status();
  case pb::Attribute::kFloatValue:
    attrs.set(a.name(), a.float_value());
    return Status();
  case pb::Attribute::kBoolValue:
    attrs.set(a.name(), a.bool_value());
    return Status();
  case pb::Attribute::kStringValue:
    attrs.set(a.name(), a.string_value());
    return Status();
  case pb::Attribute::kInts:
    attrs.set(a.name(), std::vector<int64_t>(a.ints().values().begin(),
                                             a.ints().values().end()));
    return Status();
  case pb::Attribute::kFloats:
    attrs.set(a.name(), std::vector<double>(a.floats().values().begin(),
                                            a.floats().values().end()));
    return Status();
  default:
    return Status::errorf("attribute '", a.name(), "' has no value");
  }
}

static Status validate(const pb::Program &in, Program &p) {
  p.name = in.name();
  p.source = in.source();
  p.arenaBytes = in.arena_bytes();
  if (p.arenaBytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return Status::error("the arena size overflows");
  p.hostBytes = in.host_bytes();
  if (p.hostBytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return Status::error("the host pool size overflows");
  p.memoryBudget = in.memory_budget();
  if (p.memoryBudget >
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return Status::error("the memory budget overflows");
  p.numStreams = in.num_streams();
  p.numEvents = in.num_events();
  if (p.numStreams < 1)
    return Status::error("the program has no stream");

  std::set<std::string> names;
  for (int i = 0; i < in.persistents_size(); ++i) {
    const pb::Persistent &q = in.persistents(i);
    PersistentInfo info;
    info.name = q.name();
    info.kind = static_cast<PersistentInfo::Kind>(q.kind());
    info.init = static_cast<PersistentInfo::Init>(q.init());
    if (!pb::Persistent::Kind_IsValid(q.kind()) ||
        !pb::Persistent::Init_IsValid(q.init()))
      return Status::errorf("persistent tensor ", i,
                            " has an unknown kind or init");
    info.dtype = dtypeFromProgram(q.dtype());
    info.shape.assign(q.shape().begin(), q.shape().end());
    if (info.name.empty() || !names.insert(info.name).second)
      return Status::errorf("persistent tensor ", i,
                            " has an empty or repeated name '", info.name, "'");
    MLG_RT_RETURN_IF_ERROR(
        checkedSizes(info.shape, info.dtype, &info.numel, &info.bytes)
            .withContext("persistent tensor '" + info.name + "'"));
    p.persistents.push_back(std::move(info));
  }
  for (int i = 0; i < in.constants_size(); ++i) {
    const pb::Constant &c = in.constants(i);
    ConstantInfo info;
    info.dtype = dtypeFromProgram(c.dtype());
    info.shape.assign(c.shape().begin(), c.shape().end());
    MLG_RT_RETURN_IF_ERROR(
        checkedSizes(info.shape, info.dtype, &info.numel, &info.bytes)
            .withContext("constant " + std::to_string(i)));
    info.splat = c.splat();
    int64_t expected = info.splat ? dtypeBytes(info.dtype) : info.bytes;
    if (static_cast<int64_t>(c.data().size()) != expected)
      return Status::errorf("constant ", i, " holds ", c.data().size(),
                            " bytes of data, its shape needs ", expected);
    // A splat is expanded when the session starts: its size must be sane.
    if (info.splat && info.bytes > (int64_t(1) << 40))
      return Status::errorf("constant ", i, " is implausibly large");
    info.data = c.data();
    p.constants.push_back(std::move(info));
  }
  for (int i = 0; i < in.tensors_size(); ++i) {
    const pb::Tensor &t = in.tensors(i);
    TensorInfo info;
    info.dtype = dtypeFromProgram(t.dtype());
    info.shape.assign(t.shape().begin(), t.shape().end());
    std::string what = "tensor " + std::to_string(i);
    MLG_RT_RETURN_IF_ERROR(
        checkedSizes(info.shape, info.dtype, &info.numel, &info.bytes)
            .withContext(what));
    // A view of the arena or the host pool lies inside it.
    auto place = [&](TensorInfo::Storage storage, uint64_t offset,
                     uint64_t poolBytes, const char *pool) -> Status {
      info.storage = storage;
      info.offset = offset;
      if (!inArena(offset, info.bytes, poolBytes))
        return Status::errorf(what, " [", offset, ", +", info.bytes,
                              ") lies outside the ", pool, " of ", poolBytes,
                              " bytes");
      return Status();
    };
    switch (t.storage_case()) {
    case pb::Tensor::kArenaOffset:
      MLG_RT_RETURN_IF_ERROR(place(TensorInfo::Storage::Arena,
                                   t.arena_offset(), p.arenaBytes, "arena"));
      break;
    case pb::Tensor::kPersistent: {
      info.storage = TensorInfo::Storage::Persistent;
      info.index = t.persistent();
      if (info.index >= p.persistents.size())
        return Status::errorf(what, " refers to missing persistent tensor ",
                              info.index);
      const PersistentInfo &q = p.persistents[info.index];
      if (q.dtype != info.dtype || q.numel != info.numel)
        return Status::errorf(what, " views persistent tensor '", q.name,
                              "' with another type or size");
      break;
    }
    case pb::Tensor::kConstant: {
      info.storage = TensorInfo::Storage::Constant;
      info.index = t.constant();
      if (info.index >= p.constants.size())
        return Status::errorf(what, " refers to missing constant ", info.index);
      const ConstantInfo &c = p.constants[info.index];
      if (c.dtype != info.dtype || c.numel != info.numel)
        return Status::errorf(what, " views constant ", info.index,
                              " with another type or size");
      break;
    }
    case pb::Tensor::kHostOffset:
      MLG_RT_RETURN_IF_ERROR(place(TensorInfo::Storage::Host, t.host_offset(),
                                   p.hostBytes, "host pool"));
      break;
    default:
      return Status::errorf(what, " has no storage");
    }
    p.tensors.push_back(std::move(info));
  }
  auto checkTensor = [&](uint32_t t, const std::string &what) -> Status {
    if (t >= p.tensors.size())
      return Status::errorf(what, " refers to missing tensor ", t);
    return Status();
  };
  // Host tensors move only through copies: an offload step copies an arena
  // tensor into the host pool, a prefetch step copies one back.
  auto checkHostUse = [&](const StepInfo &step,
                          const std::string &what) -> Status {
    auto isHost = [&](uint32_t t) {
      return p.tensors[t].storage == TensorInfo::Storage::Host;
    };
    auto isArena = [&](uint32_t t) {
      return p.tensors[t].storage == TensorInfo::Storage::Arena;
    };
    bool offload = step.kernel == "offload", prefetch = step.kernel == "prefetch";
    if (offload || prefetch) {
      if (step.inputs.size() != 1 || step.outputs.size() != 1)
        return Status::errorf(what, ": copies one tensor to one tensor");
      uint32_t from = step.inputs[0], to = step.outputs[0];
      if (offload && !(isArena(from) && isHost(to)))
        return Status::errorf(what, ": an offload copies an arena tensor "
                                    "into the host pool");
      if (prefetch && !(isHost(from) && isArena(to)))
        return Status::errorf(what, ": a prefetch copies a host-pool tensor "
                                    "into the arena");
      return Status();
    }
    for (const auto *list : {&step.inputs, &step.outputs})
      for (uint32_t t : *list)
        if (isHost(t))
          return Status::errorf(what, ": tensor ", t, " lies in the host "
                                "pool, which only offload and prefetch "
                                "steps touch");
    return Status();
  };
  std::vector<bool> recorded(p.numEvents, false);
  for (int i = 0; i < in.steps_size(); ++i) {
    const pb::Step &s = in.steps(i);
    StepInfo step;
    step.kernel = s.kernel();
    step.name = s.name();
    std::string what = step.describe(i);
    if (step.kernel.empty())
      return Status::errorf("step ", i, " has no kernel");
    for (uint32_t t : s.inputs()) {
      MLG_RT_RETURN_IF_ERROR(checkTensor(t, what));
      step.inputs.push_back(t);
    }
    for (uint32_t t : s.outputs()) {
      MLG_RT_RETURN_IF_ERROR(checkTensor(t, what));
      if (p.tensors[t].storage == TensorInfo::Storage::Constant)
        return Status::errorf(what, " writes a constant");
      step.outputs.push_back(t);
    }
    for (const pb::Attribute &a : s.attributes())
      MLG_RT_RETURN_IF_ERROR(convertAttribute(a, step.attrs).withContext(what));
    step.hasWorkspace = s.has_workspace();
    step.workspaceOffset = s.workspace_offset();
    step.workspaceBytes = s.workspace_bytes();
    if (step.hasWorkspace &&
        !inArena(step.workspaceOffset, step.workspaceBytes, p.arenaBytes))
      return Status::errorf(what, ": workspace lies outside the arena");
    step.stream = s.stream();
    if (step.stream >= p.numStreams)
      return Status::errorf(what, ": stream ", step.stream, " does not exist");
    for (uint32_t e : s.wait_events()) {
      if (e >= p.numEvents)
        return Status::errorf(what, ": waits for event ", e,
                              ", which does not exist");
      // Else a run could wait forever, or for the last run's record.
      if (!recorded[e])
        return Status::errorf(what, ": waits for event ", e,
                              ", which no earlier step records");
      step.waitEvents.push_back(e);
    }
    step.recordEvent = s.record_event();
    if (step.recordEvent < -1 || step.recordEvent >= int64_t(p.numEvents))
      return Status::errorf(what, ": records event ", step.recordEvent,
                            ", which does not exist");
    if (step.recordEvent >= 0)
      recorded[size_t(step.recordEvent)] = true;
    MLG_RT_RETURN_IF_ERROR(checkHostUse(step, what));
    if (s.release_size() % 2)
      return Status::errorf(what,
                            ": release ranges come in (offset, bytes) pairs");
    for (int r = 0; r < s.release_size(); r += 2) {
      if (!inArena(s.release(r), s.release(r + 1), p.arenaBytes))
        return Status::errorf(what,
                              ": a released range lies outside the arena");
      step.release.push_back({s.release(r), s.release(r + 1)});
    }
    p.steps.push_back(std::move(step));
  }
  auto bindings = [&](const auto &list, std::vector<BindingInfo> &out,
                      const char *kind) -> Status {
    std::set<std::string> seen;
    for (const pb::Binding &b : list) {
      std::string what = std::string(kind) + " '" + b.name() + "'";
      MLG_RT_RETURN_IF_ERROR(checkTensor(b.tensor(), what));
      if (!seen.insert(b.name()).second)
        return Status::errorf(what, " is bound twice");
      out.push_back({b.name(), b.tensor()});
    }
    return Status();
  };
  MLG_RT_RETURN_IF_ERROR(bindings(in.inputs(), p.inputs, "input"));
  MLG_RT_RETURN_IF_ERROR(bindings(in.outputs(), p.outputs, "output"));
  for (const BindingInfo &b : p.inputs)
    if (p.tensors[b.tensor].storage != TensorInfo::Storage::Arena)
      return Status::errorf("input '", b.name, "' is not an arena tensor");
  for (const BindingInfo &b : p.outputs)
    if (p.tensors[b.tensor].storage == TensorInfo::Storage::Host)
      return Status::errorf("output '", b.name,
                            "' lies in the host pool; outputs are read from "
                            "the arena or persistent tensors");
  return Status();
}

Status Program::load(const void *data, size_t size,
                     std::shared_ptr<const Program> *out) {
  pb::Program in;
  std::string error;
  if (!decodeProgram(data, size, &in, &error))
    return Status::error(error);
  auto program = std::make_shared<Program>();
  MLG_RT_RETURN_IF_ERROR(validate(in, *program).withContext("invalid program"));
  *out = std::move(program);
  return Status();
}

Status Program::loadFile(const std::string &path,
                         std::shared_ptr<const Program> *out) {
  pb::Program in;
  std::string error;
  if (!readProgramFile(path, &in, &error))
    return Status::error(error);
  auto program = std::make_shared<Program>();
  MLG_RT_RETURN_IF_ERROR(validate(in, *program).withContext("'" + path + "'"));
  *out = std::move(program);
  return Status();
}

uint64_t Program::persistentBytes() const {
  uint64_t total = 0;
  for (const PersistentInfo &p : persistents)
    total += p.bytes;
  return total;
}

uint64_t Program::constantBytes() const {
  uint64_t total = 0;
  for (const ConstantInfo &c : constants)
    total += c.bytes;
  return total;
}

uint64_t Program::maxWorkspaceBytes() const {
  uint64_t m = 0;
  for (const StepInfo &s : steps)
    if (s.hasWorkspace)
      m = std::max(m, s.workspaceBytes);
  return m;
}

} // namespace mlg_rt

// c_api.cc - the C API over the runtime's C++ classes.

#include "mlg_rt/mlg_rt.h"

#include "data/synthetic.h"
#include "session.h"

#include <cstring>

using namespace mlg_rt;

struct mlg_rt_status {
  std::string message;
};

struct mlg_rt_program {
  std::shared_ptr<const Program> program;
};

struct mlg_rt_session {
  std::unique_ptr<Session> session;
  mlg_rt_program program; // the session's, for mlg_rt_session_program
  std::string device;
};

static_assert(int(MLG_RT_DTYPE_F32) == int(DType::F32) &&
                  int(MLG_RT_DTYPE_F64) == int(DType::F64) &&
                  int(MLG_RT_DTYPE_F16) == int(DType::F16) &&
                  int(MLG_RT_DTYPE_BF16) == int(DType::BF16) &&
                  int(MLG_RT_DTYPE_I8) == int(DType::I8) &&
                  int(MLG_RT_DTYPE_I16) == int(DType::I16) &&
                  int(MLG_RT_DTYPE_I32) == int(DType::I32) &&
                  int(MLG_RT_DTYPE_I64) == int(DType::I64) &&
                  int(MLG_RT_DTYPE_U8) == int(DType::U8) &&
                  int(MLG_RT_DTYPE_U16) == int(DType::U16) &&
                  int(MLG_RT_DTYPE_U32) == int(DType::U32) &&
                  int(MLG_RT_DTYPE_U64) == int(DType::U64) &&
                  int(MLG_RT_DTYPE_BOOL) == int(DType::Bool),
              "mlg_rt_dtype_t must match the program format's data types");

static mlg_rt_status_t wrap(const Status &s) {
  return s.ok() ? nullptr : new mlg_rt_status{s.message()};
}

extern "C" {

const char *mlg_rt_status_message(mlg_rt_status_t status) {
  return status ? status->message.c_str() : "ok";
}

void mlg_rt_status_free(mlg_rt_status_t status) { delete status; }

mlg_rt_status_t mlg_rt_program_load_file(const char *path,
                                         mlg_rt_program_t **out_program) {
  auto p = std::make_unique<mlg_rt_program>();
  if (mlg_rt_status_t s = wrap(Program::loadFile(path, &p->program)))
    return s;
  *out_program = p.release();
  return nullptr;
}

mlg_rt_status_t mlg_rt_program_load_memory(const void *data, size_t size,
                                           mlg_rt_program_t **out_program) {
  auto p = std::make_unique<mlg_rt_program>();
  if (mlg_rt_status_t s = wrap(Program::load(data, size, &p->program)))
    return s;
  *out_program = p.release();
  return nullptr;
}

void mlg_rt_program_release(mlg_rt_program_t *program) { delete program; }

size_t mlg_rt_program_input_count(const mlg_rt_program_t *p) {
  return p->program->inputs.size();
}
size_t mlg_rt_program_output_count(const mlg_rt_program_t *p) {
  return p->program->outputs.size();
}
const char *mlg_rt_program_input_name(const mlg_rt_program_t *p, size_t i) {
  return i < p->program->inputs.size() ? p->program->inputs[i].name.c_str()
                                       : nullptr;
}
const char *mlg_rt_program_output_name(const mlg_rt_program_t *p, size_t i) {
  return i < p->program->outputs.size() ? p->program->outputs[i].name.c_str()
                                        : nullptr;
}

const char *mlg_rt_dtype_name(mlg_rt_dtype_t dtype) {
  DType t = dtypeFromProgram(int(dtype));
  return t == DType::Invalid ? "invalid" : dtypeName(t);
}

size_t mlg_rt_dtype_size(mlg_rt_dtype_t dtype) {
  return size_t(dtypeBytes(dtypeFromProgram(int(dtype))));
}

static mlg_rt_status_t describe(const Program &p, const BindingInfo &b,
                                mlg_rt_tensor_desc_t *out) {
  if (!out)
    return new mlg_rt_status{"no descriptor to fill"};
  const TensorInfo &t = p.tensors[b.tensor];
  out->name = b.name.c_str();
  out->dtype = mlg_rt_dtype_t(int(t.dtype));
  out->rank = t.shape.size();
  out->shape = t.shape.data();
  out->numel = uint64_t(t.numel);
  out->bytes = uint64_t(t.bytes);
  return nullptr;
}

mlg_rt_status_t mlg_rt_program_input_desc(const mlg_rt_program_t *p, size_t i,
                                          mlg_rt_tensor_desc_t *out) {
  if (i >= p->program->inputs.size())
    return new mlg_rt_status{"the program has no input #" + std::to_string(i)};
  return describe(*p->program, p->program->inputs[i], out);
}

mlg_rt_status_t mlg_rt_program_output_desc(const mlg_rt_program_t *p, size_t i,
                                           mlg_rt_tensor_desc_t *out) {
  if (i >= p->program->outputs.size())
    return new mlg_rt_status{"the program has no output #" + std::to_string(i)};
  return describe(*p->program, p->program->outputs[i], out);
}

static mlg_rt_status_t find(const std::vector<BindingInfo> &bindings,
                            const char *kind, const char *name,
                            size_t *out_index) {
  if (!name || !out_index)
    return new mlg_rt_status{std::string("no ") + kind +
                             (name ? " index to fill" : " name given")};
  for (size_t i = 0; i < bindings.size(); ++i)
    if (bindings[i].name == name) {
      *out_index = i;
      return nullptr;
    }
  return new mlg_rt_status{std::string("the program has no ") + kind + " '" +
                           name + "'"};
}

mlg_rt_status_t mlg_rt_program_find_input(const mlg_rt_program_t *p,
                                          const char *name, size_t *out) {
  return find(p->program->inputs, "input", name, out);
}

mlg_rt_status_t mlg_rt_program_find_output(const mlg_rt_program_t *p,
                                           const char *name, size_t *out) {
  return find(p->program->outputs, "output", name, out);
}

mlg_rt_status_t mlg_rt_program_label_classes(const mlg_rt_program_t *p,
                                             int64_t *out_classes) {
  if (!out_classes)
    return new mlg_rt_status{"no class count to fill"};
  return wrap(labelClasses(*p->program, out_classes));
}

void mlg_rt_session_options_initialize(mlg_rt_session_options_t *options) {
  options->backend = MLG_RT_BACKEND_CPU;
  options->poison = 0;
  options->naive_gemm = 0;
  options->profile = 0;
  options->tf32_convolutions = 1;
  options->tf32_gemm = 0;
  options->measure_convolutions = 1;
  options->conv_scratch_bytes = uint64_t(1) << 30;
  options->cuda_graphs = 1;
}

mlg_rt_status_t mlg_rt_session_create(mlg_rt_program_t *program,
                                      const mlg_rt_session_options_t *options,
                                      mlg_rt_session_t **out_session) {
  if (options->backend != MLG_RT_BACKEND_CPU &&
      options->backend != MLG_RT_BACKEND_CUDA)
    return new mlg_rt_status{"unknown backend"};
  SessionOptions o;
  o.backend = options->backend == MLG_RT_BACKEND_CUDA ? Backend::Cuda
                                                      : Backend::Cpu;
  o.poison = options->poison != 0;
  o.cpu.naiveGemm = options->naive_gemm != 0;
  o.profile = options->profile != 0;
  o.cuda.tf32Convolutions = options->tf32_convolutions != 0;
  o.cuda.tf32Gemm = options->tf32_gemm != 0;
  o.cuda.measureConvolutions = options->measure_convolutions != 0;
  o.cuda.convScratchBytes = options->conv_scratch_bytes;
  o.cuda.graphs = options->cuda_graphs != 0;
  auto s = std::make_unique<mlg_rt_session>();
  if (mlg_rt_status_t st =
          wrap(Session::create(program->program, o, &s->session)))
    return st;
  s->program.program = program->program;
  const Device *device = s->session->device();
  s->device = device ? device->describe() : "CPU";
  *out_session = s.release();
  return nullptr;
}

const char *mlg_rt_session_device(const mlg_rt_session_t *s) {
  return s->device.c_str();
}

mlg_rt_status_t mlg_rt_session_device_memory(const mlg_rt_session_t *s,
                                             mlg_rt_device_memory_t *out) {
  const Device *device = s->session->device();
  if (!device)
    return new mlg_rt_status{"the session runs on the CPU, not a device"};
  return wrap(device->memoryUse(&out->scratch_bytes, &out->measured_bytes));
}

mlg_rt_status_t mlg_rt_session_last_run_device_ms(const mlg_rt_session_t *s,
                                                  double *out_ms) {
  if (!out_ms)
    return new mlg_rt_status{"no result pointer given"};
  return wrap(s->session->lastRunDeviceMs(out_ms));
}

mlg_rt_status_t mlg_rt_session_write_profile(mlg_rt_session_t *s,
                                             const char *path) {
  if (!path)
    return new mlg_rt_status{"no profile path given"};
  std::string json;
  if (mlg_rt_status_t st = wrap(s->session->profileJson(&json)))
    return st;
  return wrap(writeFileAtomically(path, json));
}

void mlg_rt_session_release(mlg_rt_session_t *session) { delete session; }

const mlg_rt_program_t *mlg_rt_session_program(const mlg_rt_session_t *s) {
  return &s->program;
}

mlg_rt_status_t mlg_rt_session_load_weights(mlg_rt_session_t *s,
                                            const char *path) {
  if (!path)
    return new mlg_rt_status{"no weights path given"};
  return wrap(s->session->loadWeightsOnnx(path));
}

mlg_rt_status_t mlg_rt_session_init_weights(mlg_rt_session_t *s,
                                            uint64_t seed) {
  return wrap(s->session->initWeights(seed));
}

mlg_rt_status_t mlg_rt_session_save_weights(mlg_rt_session_t *s,
                                            const char *templatePath,
                                            const char *outPath) {
  if (!templatePath || !outPath)
    return new mlg_rt_status{"no template or output path given"};
  return wrap(s->session->saveWeightsOnnx(templatePath, outPath));
}

mlg_rt_status_t mlg_rt_session_save_inference_model(mlg_rt_session_t *s,
                                                    const char *templatePath,
                                                    const char *outPath) {
  if (!templatePath || !outPath)
    return new mlg_rt_status{"no template or output path given"};
  return wrap(s->session->saveInferenceModel(templatePath, outPath));
}

mlg_rt_status_t mlg_rt_session_set_input(mlg_rt_session_t *s, size_t index,
                                         const void *data, size_t bytes) {
  return wrap(s->session->setInputBytes(index, data, bytes));
}

mlg_rt_status_t mlg_rt_session_set_input_by_name(mlg_rt_session_t *s,
                                                 const char *name,
                                                 const void *data,
                                                 size_t bytes) {
  size_t index = 0;
  if (mlg_rt_status_t st =
          find(s->session->program().inputs, "input", name, &index))
    return st;
  return wrap(s->session->setInputBytes(index, data, bytes));
}

mlg_rt_status_t mlg_rt_session_read_output(mlg_rt_session_t *s, size_t index,
                                           void *out_data, size_t bytes) {
  return wrap(s->session->readOutput(index, out_data, bytes));
}

mlg_rt_status_t mlg_rt_session_set_input_file(mlg_rt_session_t *s,
                                              const char *name,
                                              const char *path) {
  int index = s->session->findInput(name);
  if (index < 0)
    return new mlg_rt_status{std::string("the program has no input '") + name +
                             "'"};
  HostTensor t;
  if (mlg_rt_status_t st = wrap(readTensorFile(path, &t)))
    return st;
  return wrap(s->session->setInput(size_t(index), t));
}

mlg_rt_status_t mlg_rt_session_set_random_inputs(mlg_rt_session_t *s,
                                                 uint64_t seed,
                                                 int64_t intRange) {
  const Program &p = s->session->program();
  data::RandomFiller filler(seed);
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    if (s->session->isInputSet(i))
      continue;
    const TensorInfo &t = p.tensors[p.inputs[i].tensor];
    std::string bytes(size_t(t.bytes), '\0');
    filler.fill(t.dtype, t.numel, intRange, bytes.data());
    if (mlg_rt_status_t st =
            wrap(s->session->setInputBytes(i, bytes.data(), bytes.size())))
      return st;
  }
  return nullptr;
}

mlg_rt_status_t mlg_rt_session_run(mlg_rt_session_t *s) {
  return wrap(s->session->run());
}

mlg_rt_status_t mlg_rt_session_write_output_file(mlg_rt_session_t *s,
                                                 size_t index,
                                                 const char *path) {
  if (index >= s->session->program().outputs.size())
    return new mlg_rt_status{"the program has no output #" +
                             std::to_string(index)};
  return wrap(writeTensorFile(path, s->session->output(index)));
}

static void toC(const MemoryStats &m, mlg_rt_memory_stats_t *out) {
  out->arena_bytes = m.arenaBytes;
  out->persistent_bytes = m.persistentBytes;
  out->constant_bytes = m.constantBytes;
  out->max_workspace_bytes = m.maxWorkspaceBytes;
  out->host_bytes = m.hostBytes;
  out->memory_budget = m.memoryBudget;
}

void mlg_rt_program_memory(const mlg_rt_program_t *p,
                           mlg_rt_memory_stats_t *out) {
  toC(p->program->memory(), out);
}

void mlg_rt_session_memory(const mlg_rt_session_t *s,
                           mlg_rt_memory_stats_t *out) {
  toC(s->session->memory(), out);
}

} // extern "C"

// c_api.cc - the C API over the runtime's C++ classes.

#include "mlg_rt/mlg_rt.h"

#include "session.h"

#include <cstring>
#include <random>

using namespace mlg_rt;

struct mlg_rt_status {
  std::string message;
};

struct mlg_rt_program {
  std::shared_ptr<const Program> program;
};

struct mlg_rt_session {
  std::unique_ptr<Session> session;
};

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

void mlg_rt_session_options_initialize(mlg_rt_session_options_t *options) {
  options->backend = MLG_RT_BACKEND_CPU;
  options->poison = 0;
  options->naive_gemm = 0;
}

mlg_rt_status_t mlg_rt_session_create(mlg_rt_program_t *program,
                                      const mlg_rt_session_options_t *options,
                                      mlg_rt_session_t **out_session) {
  if (options->backend != MLG_RT_BACKEND_CPU)
    return new mlg_rt_status{"unknown backend"};
  SessionOptions o;
  o.poison = options->poison != 0;
  o.cpu.naiveGemm = options->naive_gemm != 0;
  auto s = std::make_unique<mlg_rt_session>();
  if (mlg_rt_status_t st =
          wrap(Session::create(program->program, o, &s->session)))
    return st;
  *out_session = s.release();
  return nullptr;
}

void mlg_rt_session_release(mlg_rt_session_t *session) { delete session; }

mlg_rt_status_t mlg_rt_session_load_weights(mlg_rt_session_t *s,
                                            const char *path) {
  return wrap(s->session->loadWeightsOnnx(path));
}

mlg_rt_status_t mlg_rt_session_init_weights(mlg_rt_session_t *s,
                                            uint64_t seed) {
  return wrap(s->session->initWeights(seed));
}

mlg_rt_status_t mlg_rt_session_save_weights(mlg_rt_session_t *s,
                                            const char *templatePath,
                                            const char *outPath) {
  return wrap(s->session->saveWeightsOnnx(templatePath, outPath));
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
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    if (s->session->isInputSet(i))
      continue;
    const TensorInfo &t = p.tensors[p.inputs[i].tensor];
    HostTensor h;
    h.name = p.inputs[i].name;
    h.dtype = t.dtype;
    h.shape = t.shape;
    h.data.resize(t.bytes);
    for (int64_t e = 0; e < t.numel; ++e) {
      char *dst = h.data.data() + e * dtypeBytes(t.dtype);
      if (t.dtype == DType::F32) {
        float v = float(normal(rng));
        std::memcpy(dst, &v, 4);
      } else if (t.dtype == DType::F64) {
        double v = normal(rng);
        std::memcpy(dst, &v, 8);
      } else if (t.dtype == DType::F16 || t.dtype == DType::BF16) {
        float v = float(normal(rng));
        uint16_t b = t.dtype == DType::F16 ? floatToHalf(v) : floatToBf16(v);
        std::memcpy(dst, &b, 2);
      } else {
        uint64_t v = intRange > 0 ? rng() % uint64_t(intRange) : 0;
        if (t.dtype == DType::Bool)
          v &= 1;
        std::memcpy(dst, &v, dtypeBytes(t.dtype));
      }
    }
    if (mlg_rt_status_t st = wrap(s->session->setInput(i, h)))
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

/* mlg_rt.h - the mlg runtime's C API.
 *
 * Load a program (.mlgp), create a session that binds it to a backend, give
 * it weights (an ONNX file, or a seed) and inputs, run it, read its outputs.
 *
 *   mlg_rt_program_t *program;
 *   mlg_rt_status_t status = mlg_rt_program_load_file("m.mlgp", &program);
 *   mlg_rt_session_options_t options;
 *   mlg_rt_session_options_initialize(&options);
 *   mlg_rt_session_t *session;
 *   status = mlg_rt_session_create(program, &options, &session);
 *   status = mlg_rt_session_load_weights(session, "m.onnx");
 *   status = mlg_rt_session_set_input_file(session, "input", "input_0.pb");
 *   status = mlg_rt_session_run(session);
 *   status = mlg_rt_session_write_output_file(session, 0, "output_0.pb");
 *
 * Conventions: every fallible call returns an mlg_rt_status_t, NULL on
 * success; a non-NULL status owns its message and must be freed with
 * mlg_rt_status_free. Outputs come last and are prefixed out_. Objects
 * created by *_create or *_load are owned by the caller and released with
 * the matching *_release; a session keeps its program alive.
 */

#ifndef MLG_RT_MLG_RT_H
#define MLG_RT_MLG_RT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mlg_rt_status *mlg_rt_status_t;
typedef struct mlg_rt_program mlg_rt_program_t;
typedef struct mlg_rt_session mlg_rt_session_t;

/* The status's message; valid until the status is freed. */
const char *mlg_rt_status_message(mlg_rt_status_t status);
void mlg_rt_status_free(mlg_rt_status_t status);

/* Loads and validates a program file. */
mlg_rt_status_t mlg_rt_program_load_file(const char *path,
                                         mlg_rt_program_t **out_program);
/* Loads and validates a program from memory (the bytes are copied). */
mlg_rt_status_t mlg_rt_program_load_memory(const void *data, size_t size,
                                           mlg_rt_program_t **out_program);
void mlg_rt_program_release(mlg_rt_program_t *program);
size_t mlg_rt_program_input_count(const mlg_rt_program_t *program);
size_t mlg_rt_program_output_count(const mlg_rt_program_t *program);
/* Names valid while the program lives. */
const char *mlg_rt_program_input_name(const mlg_rt_program_t *program,
                                      size_t index);
const char *mlg_rt_program_output_name(const mlg_rt_program_t *program,
                                       size_t index);

typedef struct mlg_rt_memory_stats {
  uint64_t arena_bytes;
  uint64_t persistent_bytes;
  uint64_t constant_bytes;
  uint64_t max_workspace_bytes;
} mlg_rt_memory_stats_t;

/* What the program needs, without allocating it. */
void mlg_rt_program_memory(const mlg_rt_program_t *program,
                           mlg_rt_memory_stats_t *out_stats);

typedef enum mlg_rt_backend {
  MLG_RT_BACKEND_CPU = 0,
} mlg_rt_backend_t;

typedef struct mlg_rt_session_options {
  mlg_rt_backend_t backend;
  /* Poison every arena range (0xFF bytes) when its live interval ends. */
  int poison;
  /* Use naive loops instead of BLAS for GEMM-shaped work. */
  int naive_gemm;
} mlg_rt_session_options_t;

/* Fills the defaults: the CPU backend, no poisoning, BLAS. */
void mlg_rt_session_options_initialize(mlg_rt_session_options_t *options);

/* Allocates the program's memory and checks every step against the backend. */
mlg_rt_status_t mlg_rt_session_create(mlg_rt_program_t *program,
                                      const mlg_rt_session_options_t *options,
                                      mlg_rt_session_t **out_session);
void mlg_rt_session_release(mlg_rt_session_t *session);

/* Persistent tensors from an ONNX model's initializers, by name. */
mlg_rt_status_t mlg_rt_session_load_weights(mlg_rt_session_t *session,
                                            const char *onnx_path);
/* Persistent tensors from a seed. */
mlg_rt_status_t mlg_rt_session_init_weights(mlg_rt_session_t *session,
                                            uint64_t seed);
/* A copy of template_path with the session's parameters and state, written
 * atomically to out_path. */
mlg_rt_status_t mlg_rt_session_save_weights(mlg_rt_session_t *session,
                                            const char *template_path,
                                            const char *out_path);

/* An input from a serialized ONNX TensorProto file. */
mlg_rt_status_t mlg_rt_session_set_input_file(mlg_rt_session_t *session,
                                              const char *name,
                                              const char *tensor_path);
/* Fills every input not set yet with seeded random data: floats from a
 * standard normal, integers uniform in [0, int_range). */
mlg_rt_status_t mlg_rt_session_set_random_inputs(mlg_rt_session_t *session,
                                                 uint64_t seed,
                                                 int64_t int_range);
mlg_rt_status_t mlg_rt_session_run(mlg_rt_session_t *session);
/* Writes output `index` as a serialized ONNX TensorProto, atomically. */
mlg_rt_status_t mlg_rt_session_write_output_file(mlg_rt_session_t *session,
                                                 size_t index,
                                                 const char *tensor_path);

void mlg_rt_session_memory(const mlg_rt_session_t *session,
                           mlg_rt_memory_stats_t *out_stats);

#ifdef __cplusplus
}
#endif

#endif /* MLG_RT_MLG_RT_H */

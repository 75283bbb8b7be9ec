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
 * A training step is a program like any other: its inputs are the model's
 * plus `labels`, its output the loss, and each run updates the parameters
 * and the optimizer state in place. A training loop sets the inputs from
 * memory and reads the loss back:
 *
 *   mlg_rt_tensor_desc_t x;
 *   status = mlg_rt_program_input_desc(program, 0, &x);
 *   for (each batch) {
 *     status = mlg_rt_session_set_input(session, 0, images, x.bytes);
 *     status = mlg_rt_session_set_input_by_name(session, "labels", labels,
 *                                               labels_bytes);
 *     status = mlg_rt_session_run(session);
 *     float loss;
 *     status = mlg_rt_session_read_output(session, 0, &loss, sizeof loss);
 *   }
 *   status = mlg_rt_session_save_inference_model(session, "m.onnx",
 *                                                 "trained.onnx");
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
/* Names valid while the program lives; NULL for an index out of range. */
const char *mlg_rt_program_input_name(const mlg_rt_program_t *program,
                                      size_t index);
const char *mlg_rt_program_output_name(const mlg_rt_program_t *program,
                                       size_t index);

/* Element types; the values are those of the program format. */
typedef enum mlg_rt_dtype {
  MLG_RT_DTYPE_INVALID = 0,
  MLG_RT_DTYPE_F32 = 1,
  MLG_RT_DTYPE_F64 = 2,
  MLG_RT_DTYPE_F16 = 3,
  MLG_RT_DTYPE_BF16 = 4,
  MLG_RT_DTYPE_I8 = 5,
  MLG_RT_DTYPE_I16 = 6,
  MLG_RT_DTYPE_I32 = 7,
  MLG_RT_DTYPE_I64 = 8,
  MLG_RT_DTYPE_U8 = 9,
  MLG_RT_DTYPE_U16 = 10,
  MLG_RT_DTYPE_U32 = 11,
  MLG_RT_DTYPE_U64 = 12,
  MLG_RT_DTYPE_BOOL = 13, /* one byte per element */
} mlg_rt_dtype_t;

/* "f32", "i64", ...; "invalid" for anything else. Static storage. */
const char *mlg_rt_dtype_name(mlg_rt_dtype_t dtype);
/* Bytes per element; 0 for an invalid type. */
size_t mlg_rt_dtype_size(mlg_rt_dtype_t dtype);

/* An input or output of a program. Its name and shape point into the
 * program and are valid while the program lives. Data is little-endian,
 * row-major, `bytes` long. */
typedef struct mlg_rt_tensor_desc {
  const char *name;
  mlg_rt_dtype_t dtype;
  size_t rank;
  const int64_t *shape; /* rank dimensions */
  uint64_t numel;
  uint64_t bytes;
} mlg_rt_tensor_desc_t;

mlg_rt_status_t mlg_rt_program_input_desc(const mlg_rt_program_t *program,
                                          size_t index,
                                          mlg_rt_tensor_desc_t *out_desc);
mlg_rt_status_t mlg_rt_program_output_desc(const mlg_rt_program_t *program,
                                           size_t index,
                                           mlg_rt_tensor_desc_t *out_desc);
/* The index of the input or output named `name`; an error if none is. */
mlg_rt_status_t mlg_rt_program_find_input(const mlg_rt_program_t *program,
                                          const char *name, size_t *out_index);
mlg_rt_status_t mlg_rt_program_find_output(const mlg_rt_program_t *program,
                                           const char *name, size_t *out_index);
/* For a training step with the softmax cross-entropy loss: how many classes
 * its `labels` input indexes (labels must lie in [0, classes)). An error for
 * other programs. */
mlg_rt_status_t mlg_rt_program_label_classes(const mlg_rt_program_t *program,
                                             int64_t *out_classes);

typedef struct mlg_rt_memory_stats {
  uint64_t arena_bytes;
  uint64_t persistent_bytes;
  uint64_t constant_bytes;
  uint64_t max_workspace_bytes;
  /* Host memory for offloaded tensors (pinned for a device); not in the
   * arena. */
  uint64_t host_bytes;
  /* The device memory the compiler was told the step may use in all (a
   * recompute budget), 0 for none; a device's scratch stays within it. */
  uint64_t memory_budget;
} mlg_rt_memory_stats_t;

/* What the program needs, without allocating it. */
void mlg_rt_program_memory(const mlg_rt_program_t *program,
                           mlg_rt_memory_stats_t *out_stats);

typedef enum mlg_rt_backend {
  MLG_RT_BACKEND_CPU = 0,
  /* CUDA device 0; an error where the build or the machine has no CUDA. */
  MLG_RT_BACKEND_CUDA = 1,
} mlg_rt_backend_t;

typedef struct mlg_rt_session_options {
  mlg_rt_backend_t backend;
  /* Poison every arena range (0xFF bytes) when its live interval ends. */
  int poison;
  /* Use naive loops instead of BLAS for GEMM-shaped work. */
  int naive_gemm;
  /* Time every step of every run (mlg_rt_session_write_profile). */
  int profile;
  /* CUDA: f32 convolutions and LSTM cells may use TF32 tensor cores
   * (PyTorch's default for cuDNN, which runs both there). */
  int tf32_convolutions;
  /* CUDA: f32 matrix products may use TF32 (off, as in PyTorch). */
  int tf32_gemm;
  /* CUDA: choose each convolution's algorithm by timing the candidates on
   * first use (as PyTorch's cudnn.benchmark); else cuDNN's heuristics. */
  int measure_convolutions;
  /* CUDA: device memory beyond the program's that a convolution's algorithm
   * may take as scratch (default 1 GiB), used only where that algorithm is
   * much faster than those that fit in arena bytes free at the step. */
  uint64_t conv_scratch_bytes;
  /* CUDA: from the second run on, replay the steps as one recorded CUDA
   * graph (not while profiling or poisoning). */
  int cuda_graphs;
} mlg_rt_session_options_t;

/* Fills the defaults: the CPU backend, no poisoning, BLAS; on CUDA, TF32 in
 * convolutions and LSTM cells only, measured convolution algorithms, up to
 * 1 GiB of convolution scratch, CUDA graphs. */
void mlg_rt_session_options_initialize(mlg_rt_session_options_t *options);

/* Allocates the program's memory and checks every step against the backend. */
mlg_rt_status_t mlg_rt_session_create(mlg_rt_program_t *program,
                                      const mlg_rt_session_options_t *options,
                                      mlg_rt_session_t **out_session);
void mlg_rt_session_release(mlg_rt_session_t *session);
/* Where the session runs: "CPU", or the GPU with its cuDNN and cuBLAS
 * versions. Valid while the session lives. */
const char *mlg_rt_session_device(const mlg_rt_session_t *session);
/* With options.profile: writes each step's kernel, name and mean time over
 * the runs so far (device time on a GPU, leaving out the first run, which
 * also chooses algorithms, once there are others) as JSON to `path`,
 * atomically. */
mlg_rt_status_t mlg_rt_session_write_profile(mlg_rt_session_t *session,
                                             const char *path);
typedef struct mlg_rt_device_memory {
  /* The backend's own device buffers beyond the program's (convolution
   * workspaces, partial sums), kept across runs. */
  uint64_t scratch_bytes;
  /* Device memory taken since the session's device was set up, as
   * cudaMemGetInfo sees it: the program's buffers, the scratch, and what
   * cuDNN and cuBLAS allocated. */
  uint64_t measured_bytes;
} mlg_rt_device_memory_t;

/* On a device: its memory beyond the program's stated figures, and all of
 * it as the driver counts it. An error for a session on the CPU. */
mlg_rt_status_t mlg_rt_session_device_memory(const mlg_rt_session_t *session,
                                             mlg_rt_device_memory_t *out);
/* The session's program (for the queries above); valid while the session
 * lives, also after the caller released its own reference. */
const mlg_rt_program_t *mlg_rt_session_program(const mlg_rt_session_t *session);

/* Persistent tensors from an ONNX model's initializers, by name. Every
 * parameter must be there, of the program's type and shape; state the model
 * does not have (a training step's optimizer moments and step counter)
 * starts from its initial value (zeros). */
mlg_rt_status_t mlg_rt_session_load_weights(mlg_rt_session_t *session,
                                            const char *onnx_path);
/* Persistent tensors from a seed. */
mlg_rt_status_t mlg_rt_session_init_weights(mlg_rt_session_t *session,
                                            uint64_t seed);
/* A copy of template_path with the session's parameters and state, written
 * atomically to out_path (a temporary file renamed into place: a failed save
 * leaves an existing out_path as it was). Only the initializers the template
 * has are written: a training step's optimizer state is left out. */
mlg_rt_status_t mlg_rt_session_save_weights(mlg_rt_session_t *session,
                                            const char *template_path,
                                            const char *out_path);
/* Like mlg_rt_session_save_weights, turning the template into its inference
 * form: every BatchNormalization uses its running statistics
 * (training_mode = 0) and keeps only its first output, every Dropout is the
 * identity (its training_mode input removed), and what fed only the dropped
 * outputs is removed. The graph's inputs and outputs are unchanged. This is
 * the model to compile for evaluation after training. */
mlg_rt_status_t mlg_rt_session_save_inference_model(mlg_rt_session_t *session,
                                                    const char *template_path,
                                                    const char *out_path);

/* An input from a serialized ONNX TensorProto file. */
mlg_rt_status_t mlg_rt_session_set_input_file(mlg_rt_session_t *session,
                                              const char *name,
                                              const char *tensor_path);
/* Input `index` from `bytes` bytes at `data` (copied): exactly the input's
 * size, little-endian, row-major, of its type. Kept for every later run until
 * set again. */
mlg_rt_status_t mlg_rt_session_set_input(mlg_rt_session_t *session,
                                         size_t index, const void *data,
                                         size_t bytes);
mlg_rt_status_t mlg_rt_session_set_input_by_name(mlg_rt_session_t *session,
                                                 const char *name,
                                                 const void *data,
                                                 size_t bytes);
/* Fills every input not set yet with seeded random data: floats from a
 * standard normal, integers uniform in [0, int_range). */
mlg_rt_status_t mlg_rt_session_set_random_inputs(mlg_rt_session_t *session,
                                                 uint64_t seed,
                                                 int64_t int_range);
mlg_rt_status_t mlg_rt_session_run(mlg_rt_session_t *session);
/* On a device: the last run's device time in milliseconds, from before its
 * first step to after its last (CUDA events; copying inputs in is not
 * counted). An error for a session on the CPU or before the first run. */
mlg_rt_status_t mlg_rt_session_last_run_device_ms(const mlg_rt_session_t *session,
                                                  double *out_ms);
/* Copies output `index` of the last run into `out_data`, which has room for
 * exactly `bytes` bytes (the output's size). */
mlg_rt_status_t mlg_rt_session_read_output(mlg_rt_session_t *session,
                                           size_t index, void *out_data,
                                           size_t bytes);
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

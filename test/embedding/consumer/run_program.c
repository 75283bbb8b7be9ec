/* A C program that runs an mlg program through the runtime's C API alone:
 * load, create a CPU session, initialize the weights from a seed, fill the
 * inputs with random data, run, and write the first output.
 *
 *   run_program PROGRAM.mlgp OUTPUT.pb
 */
#include "mlg_rt/mlg_rt.h"

#include <stdio.h>

static int check(mlg_rt_status_t status) {
  if (!status)
    return 0;
  fprintf(stderr, "run_program: %s\n", mlg_rt_status_message(status));
  mlg_rt_status_free(status);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: run_program PROGRAM.mlgp OUTPUT.pb\n");
    return 1;
  }
  mlg_rt_program_t *program = NULL;
  if (check(mlg_rt_program_load_file(argv[1], &program)))
    return 1;
  printf("inputs %zu outputs %zu first output %s\n",
         mlg_rt_program_input_count(program),
         mlg_rt_program_output_count(program),
         mlg_rt_program_output_name(program, 0));
  mlg_rt_session_options_t options;
  mlg_rt_session_options_initialize(&options);
  options.poison = 1;
  mlg_rt_session_t *session = NULL;
  int failed = check(mlg_rt_session_create(program, &options, &session));
  mlg_rt_program_release(program);
  if (failed)
    return 1;
  failed = check(mlg_rt_session_init_weights(session, 1)) ||
           check(mlg_rt_session_set_random_inputs(session, 2, 2)) ||
           check(mlg_rt_session_run(session)) ||
           check(mlg_rt_session_write_output_file(session, 0, argv[2]));
  if (!failed) {
    mlg_rt_memory_stats_t m;
    mlg_rt_session_memory(session, &m);
    printf("ran: arena %llu bytes, persistent %llu bytes\n",
           (unsigned long long)m.arena_bytes,
           (unsigned long long)m.persistent_bytes);
  }
  mlg_rt_session_release(session);
  return failed;
}

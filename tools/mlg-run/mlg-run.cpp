// mlg-run - runs compiled mlg programs (.mlgp) on the runtime's C API.
//
// No MLIR or LLVM here: the tool links the runtime alone, so it can be
// carried to a machine without them. `run` and `info` are in this file;
// `train` and `eval` (a training loop over a data set, and a classifier's
// accuracy) in train.cpp.

#include "mlg-run.h"

#include "mlg_rt/format.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

using namespace mlg_run;

static const char *kUsage =
    R"(mlg-run: runs compiled mlg programs (.mlgp files written by
mlg-translate --mlg-to-program): inference, training, evaluation.

Usage:
  mlg-run run PROGRAM.mlgp [options]     run the program and write its outputs
  mlg-run train PROGRAM.mlgp [options]   train: run a training-step program
                                         over a data set, save the result
  mlg-run eval PROGRAM.mlgp [options]    a classifier's accuracy on a data set
  mlg-run info PROGRAM.mlgp              print its inputs, outputs and memory
  mlg-run --help

Options of `run`:
  --weights=MODEL.onnx     load parameters and state from the ONNX model's
                           initializers, by name (the model it was compiled from)
  --seed=N                 without --weights, initialize them from seed N
                           (default 0)
  --input=NAME=FILE.pb     input NAME from a serialized ONNX TensorProto file
                           (repeatable)
  --random-inputs[=SEED]   fill the inputs given no file with random data:
                           floats from N(0, 1), integers in [0, --int-range)
  --int-range=N            range of random integer inputs (default 2)
  --output-dir=DIR         write output i to DIR/output_i.pb (a TensorProto
                           named after the output); DIR is created if needed
  --save-weights=OUT.onnx  after the run, write the --weights model with the
                           session's parameters and state to OUT.onnx
  --runs=N                 run N times and report the time per run (default 1):
                           host time around each run, on a device also the
                           steps' device time (CUDA events)
  --poison                 fill each buffer with 0xFF bytes when its live
                           interval ends, so a wrong memory plan shows as NaNs
  --naive-gemm             plain loops instead of BLAS for matrix products
  --backend=cpu|cuda       where the program runs (default cpu): cuda runs
                           every step on GPU 0 (an error where there is none)
  --profile=FILE.json      time every step of every run (device time on a
                           GPU) and write each step's mean as JSON
  --tf32=conv|all|none     on CUDA, where f32 products may use TF32 tensor
                           cores: convolutions and the LSTM's products
                           (default, as PyTorch's cuDNN), also matrix
                           products, or nowhere
  --conv-algo=measure|heuristic
                           on CUDA, choose each convolution's algorithm by
                           timing the candidates on first use (default, as
                           PyTorch's cudnn.benchmark) or by cuDNN's heuristics
  --conv-scratch-mib=N     on CUDA, device memory beyond the program's that a
                           convolution's algorithm may take as workspace
                           (default 1024), only where it is at least 1.5x
                           as fast as those that fit in arena bytes free at
                           its step, and never past a program's memory
                           budget (a recompute budget); 0: never
  --cuda-graph=on|off      on CUDA, replay every run after the first as one
                           recorded CUDA graph (default on; off while
                           profiling or poisoning)

Options of `train` (PROGRAM is a training step: compiled with
--mlg-build-training-step; inputs: the model's and `labels`; output: `loss`;
each run is one step that updates the weights in place):
  --weights=MODEL.onnx     start from the model's initializers (the model the
                           program was compiled from); the optimizer state
                           the model does not have starts at zero
  --seed=N                 or start from random weights drawn from seed N
  --data=fashion-mnist[:DIR]
                           Fashion-MNIST's training images (in DIR; default
                           /usr/share/datasets/fashion-mnist, Debian's
                           dataset-fashion-mnist) to the program's first input
                           (f32 [B, 1, 28, 28], scaled to [0, 1], normalized
                           with mean 0.2860 and std 0.3530), its labels to
                           `labels` (i64 [B]); `fashion-mnist:test` or
                           `:DIR:test` takes the test images instead
  --data=synthetic         random batches of the program's input types:
                           floats from N(0, 1), labels in [0, classes), for
                           benchmarks (--synthetic-batches distinct batches)
  --epochs=N | --steps=N   train N passes over the data (the last partial
                           batch of each is left out) or N steps; one of the two
  --save=OUT.onnx          after training, write the model in its inference
                           form (batch norm with running statistics, dropout
                           off) with the trained weights under the model's
                           initializer names: the model to compile for eval
  --model=MODEL.onnx       the model --save starts from (default: --weights;
                           needed with --seed)
  --shuffle-seed=N         the order of the samples, shuffled anew each epoch,
                           or the synthetic data drawn (default 0)
  --log-every=K            when the output is not a terminal, print a line
                           every K steps (default 100); on a terminal a
                           progress bar. Both show the mean loss of the last
                           K steps, samples/s and memory
  --classes=N              synthetic labels lie in [0, N) (default: the
                           program's number of classes)
  --synthetic-batches=K    distinct synthetic batches, reused in turn
                           (default: 8, fewer if they would take over 512 MiB)
  --poison, --naive-gemm, --backend, --tf32, --conv-algo,
                           --conv-scratch-mib, --cuda-graph
                           as for `run`

Options of `eval` (PROGRAM is compiled from an inference model whose output
is the logits [B, C]):
  --weights=MODEL.onnx     the weights (or --seed=N)
  --data=fashion-mnist[:DIR][:test|:train]
                           the images and labels (default: the test split);
                           a last partial batch is padded, its padding ignored
  --poison, --naive-gemm, --backend, --tf32, --conv-algo,
                           --conv-scratch-mib, --cuda-graph
                           as for `run`
  Prints `accuracy: A (n of N)`: the share of samples whose largest logit is
  their label's.

Example: inference
  mlg-opt model.onnx --batch-size=8 --mlg-lower-pipeline -o model.rt.mlir
  mlg-translate --mlg-to-program model.rt.mlir -o model.mlgp
  mlg-run run model.mlgp --weights=model.onnx --random-inputs --output-dir=out

Example: compile a training step, train, save, compile the saved model for
evaluation, evaluate (fashion_cnn-train.onnx is exported by
scripts/export_models.py; any model exported in training mode works)
  mlg-opt fashion_cnn-train.onnx --batch-size=64 \
      --mlg-build-training-step="optimizer=adam lr=0.001" \
      --mlg-dead-node-elim --mlg-lower-pipeline -o train.rt.mlir
  mlg-translate --mlg-to-program train.rt.mlir -o train.mlgp
  mlg-run train train.mlgp --weights=fashion_cnn-train.onnx \
      --data=fashion-mnist --epochs=2 --save=trained.onnx
  mlg-opt trained.onnx --batch-size=500 --mlg-lower-pipeline -o eval.rt.mlir
  mlg-translate --mlg-to-program eval.rt.mlir -o eval.mlgp
  mlg-run eval eval.mlgp --weights=trained.onnx --data=fashion-mnist:test

Exit status: 0 on success; 1 on any error, with a message saying what and where.
)";

namespace mlg_run {

int fail(mlg_rt_status_t status) {
  std::fprintf(stderr, "mlg-run: error: %s\n", mlg_rt_status_message(status));
  mlg_rt_status_free(status);
  return 1;
}

int fail(const std::string &message) {
  std::fprintf(stderr, "mlg-run: error: %s\n", message.c_str());
  return 1;
}

int usageError(const std::string &message) {
  std::fprintf(stderr, "mlg-run: error: %s (see mlg-run --help)\n",
               message.c_str());
  return 1;
}

void printMemory(const mlg_rt_memory_stats_t &m) {
  std::printf(
      "memory: arena %s (largest workspace %s), persistent %s, "
      "constants %s; total %s\n",
      mlg_rt::formatBytes(m.arena_bytes).c_str(),
      mlg_rt::formatBytes(m.max_workspace_bytes).c_str(),
      mlg_rt::formatBytes(m.persistent_bytes).c_str(),
      mlg_rt::formatBytes(m.constant_bytes).c_str(),
      mlg_rt::formatBytes(m.arena_bytes + m.persistent_bytes + m.constant_bytes)
          .c_str());
  if (m.host_bytes)
    std::printf("host pool: %s for offloaded tensors\n",
                mlg_rt::formatBytes(m.host_bytes).c_str());
  if (m.memory_budget)
    std::printf("memory budget: %s in all (a device's scratch stays within "
                "it)\n",
                mlg_rt::formatBytes(m.memory_budget).c_str());
}

bool parseBackend(const std::string &text, mlg_rt_backend_t *out) {
  if (text == "cpu")
    *out = MLG_RT_BACKEND_CPU;
  else if (text == "cuda")
    *out = MLG_RT_BACKEND_CUDA;
  else
    return false;
  return true;
}

int parseCudaFlag(const std::string &arg, CudaFlags *flags) {
  if (arg.rfind("--tf32=", 0) == 0) {
    std::string v = arg.substr(7);
    if (v != "conv" && v != "all" && v != "none") {
      usageError("--tf32 is conv, all or none");
      return -1;
    }
    flags->tf32Convolutions = v != "none";
    flags->tf32Gemm = v == "all";
    return 1;
  }
  if (arg.rfind("--conv-algo=", 0) == 0) {
    std::string v = arg.substr(12);
    if (v != "measure" && v != "heuristic") {
      usageError("--conv-algo is measure or heuristic");
      return -1;
    }
    flags->measureConvolutions = v == "measure";
    return 1;
  }
  if (arg.rfind("--conv-scratch-mib=", 0) == 0) {
    uint64_t mib = 0;
    if (!parseUnsigned(arg.substr(19), &mib) || mib > (uint64_t(1) << 40)) {
      usageError("--conv-scratch-mib takes a number of MiB");
      return -1;
    }
    flags->convScratchBytes = mib << 20;
    return 1;
  }
  if (arg.rfind("--cuda-graph=", 0) == 0) {
    std::string v = arg.substr(13);
    if (v != "on" && v != "off") {
      usageError("--cuda-graph is on or off");
      return -1;
    }
    flags->graphs = v == "on";
    return 1;
  }
  return 0;
}

bool parseUnsigned(const std::string &text, uint64_t *out) {
  if (text.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (errno || *end || text[0] == '-' || text[0] == '+' || text[0] == ' ')
    return false;
  *out = v;
  return true;
}

uint64_t peakResidentBytes() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return uint64_t(usage.ru_maxrss) * 1024;
}

} // namespace mlg_run

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return usageError("no command given");
  }
  if (args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::string command = args[0];
  if (command != "run" && command != "info" && command != "train" &&
      command != "eval")
    return usageError("unknown command '" + command + "'");
  if (args.size() < 2 || args[1].compare(0, 2, "--") == 0)
    return usageError("missing the program file");
  if (command == "train")
    return trainCommand({args.begin() + 1, args.end()});
  if (command == "eval")
    return evalCommand({args.begin() + 1, args.end()});
  std::string programPath = args[1];

  std::string weights, outputDir, saveWeights;
  uint64_t seed = 0, runs = 1, randomSeed = 0, intRange = 2;
  bool random = false, poison = false, naive = false;
  mlg_rt_backend_t backend = MLG_RT_BACKEND_CPU;
  std::string profile;
  CudaFlags cudaFlags;
  std::vector<std::pair<std::string, std::string>> inputs;
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string &a = args[i];
    auto value = [&](const char *flag) -> const char * {
      size_t n = std::strlen(flag);
      return a.compare(0, n, flag) == 0 ? a.c_str() + n : nullptr;
    };
    if (command != "run")
      return usageError("'info' takes no options");
    if (int r = parseCudaFlag(a, &cudaFlags)) {
      if (r < 0)
        return 1;
    } else if (const char *v = value("--weights=")) {
      weights = v;
    } else if (const char *v = value("--seed=")) {
      if (!parseUnsigned(v, &seed))
        return usageError("--seed needs a non-negative integer");
    } else if (const char *v = value("--input=")) {
      std::string spec = v;
      size_t eq = spec.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
        return usageError("--input needs NAME=FILE.pb");
      inputs.push_back({spec.substr(0, eq), spec.substr(eq + 1)});
    } else if (a == "--random-inputs") {
      random = true;
    } else if (const char *v = value("--random-inputs=")) {
      random = true;
      if (!parseUnsigned(v, &randomSeed))
        return usageError("--random-inputs needs a non-negative seed");
    } else if (const char *v = value("--int-range=")) {
      if (!parseUnsigned(v, &intRange) || intRange == 0)
        return usageError("--int-range needs a positive integer");
    } else if (const char *v = value("--output-dir=")) {
      outputDir = v;
    } else if (const char *v = value("--save-weights=")) {
      saveWeights = v;
    } else if (const char *v = value("--runs=")) {
      if (!parseUnsigned(v, &runs) || runs == 0)
        return usageError("--runs needs a positive integer");
    } else if (a == "--poison") {
      poison = true;
    } else if (a == "--naive-gemm") {
      naive = true;
    } else if (const char *v = value("--backend=")) {
      if (!parseBackend(v, &backend))
        return usageError("--backend is cpu or cuda");
    } else if (const char *v = value("--profile=")) {
      profile = v;
      if (profile.empty())
        return usageError("--profile needs a file");
    } else {
      return usageError("unknown option '" + a + "'");
    }
  }

  if (!saveWeights.empty() && weights.empty())
    return usageError("--save-weights needs --weights (the model to copy)");
  if (!outputDir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(outputDir, ec);
    if (ec || !std::filesystem::is_directory(outputDir))
      return usageError("cannot create the output directory '" + outputDir +
                        "'" + (ec ? ": " + ec.message() : std::string()));
  }

  mlg_rt_program_t *program = nullptr;
  if (mlg_rt_status_t s =
          mlg_rt_program_load_file(programPath.c_str(), &program))
    return fail(s);
  size_t numOutputs = mlg_rt_program_output_count(program);
  if (command == "info") {
    for (size_t i = 0; i < mlg_rt_program_input_count(program); ++i)
      std::printf("input %zu: %s\n", i, mlg_rt_program_input_name(program, i));
    for (size_t i = 0; i < numOutputs; ++i)
      std::printf("output %zu: %s\n", i,
                  mlg_rt_program_output_name(program, i));
    mlg_rt_memory_stats_t m;
    mlg_rt_program_memory(program, &m);
    printMemory(m);
    mlg_rt_program_release(program);
    return 0;
  }
  mlg_rt_session_options_t options;
  mlg_rt_session_options_initialize(&options);
  options.poison = poison;
  options.naive_gemm = naive;
  options.backend = backend;
  options.profile = !profile.empty();
  cudaFlags.applyTo(&options);
  mlg_rt_session_t *session = nullptr;
  mlg_rt_status_t status = mlg_rt_session_create(program, &options, &session);
  mlg_rt_program_release(program);
  if (status)
    return fail(status);
  if (backend != MLG_RT_BACKEND_CPU)
    std::printf("device: %s\n", mlg_rt_session_device(session));

  status = weights.empty()
               ? mlg_rt_session_init_weights(session, seed)
               : mlg_rt_session_load_weights(session, weights.c_str());
  for (auto &[name, file] : inputs)
    if (!status)
      status =
          mlg_rt_session_set_input_file(session, name.c_str(), file.c_str());
  if (!status && random)
    status = mlg_rt_session_set_random_inputs(session, randomSeed,
                                              int64_t(intRange));
  // Host time around each synchronized run and, on a device, the device
  // time of its steps (CUDA events).
  std::vector<double> times, deviceTimes;
  for (uint64_t r = 0; r < runs && !status; ++r) {
    auto start = std::chrono::steady_clock::now();
    status = mlg_rt_session_run(session);
    times.push_back(std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count());
    double ms = 0;
    if (!status && backend != MLG_RT_BACKEND_CPU) {
      status = mlg_rt_session_last_run_device_ms(session, &ms);
      deviceTimes.push_back(ms);
    }
  }
  // The first runs include one-time work (a device's algorithm choices,
  // recording the CUDA graph): the median leaves two out when there are
  // more.
  auto sortedTimed = [](const std::vector<double> &all) {
    std::vector<double> timed(all.begin() + (all.size() > 2 ? 2 : 0),
                              all.end());
    std::sort(timed.begin(), timed.end());
    return timed;
  };
  std::vector<double> timed = sortedTimed(times),
                      deviceTimed = sortedTimed(deviceTimes);
  double best = timed.empty() ? 0 : timed.front();
  double median = timed.empty() ? 0 : timed[timed.size() / 2];
  for (size_t i = 0; i < numOutputs && !outputDir.empty() && !status; ++i) {
    std::string path = outputDir + "/output_" + std::to_string(i) + ".pb";
    status = mlg_rt_session_write_output_file(session, i, path.c_str());
  }
  if (!status && !saveWeights.empty())
    status = mlg_rt_session_save_weights(session, weights.c_str(),
                                         saveWeights.c_str());
  if (!status && !profile.empty())
    status = mlg_rt_session_write_profile(session, profile.c_str());
  if (status) {
    mlg_rt_session_release(session);
    return fail(status);
  }
  std::printf("ran %llu time(s), best %.3f ms", (unsigned long long)runs, best);
  if (runs > 2)
    std::printf(", median %.3f ms after 2 warm-up runs", median);
  if (!deviceTimed.empty())
    std::printf("; device time (CUDA events) best %.3f ms, median %.3f ms",
                deviceTimed.front(), deviceTimed[deviceTimed.size() / 2]);
  if (!outputDir.empty())
    std::printf("; wrote %zu output(s) to %s", numOutputs, outputDir.c_str());
  std::printf("\n");
  mlg_rt_memory_stats_t m;
  mlg_rt_session_memory(session, &m);
  printMemory(m);
  if (backend != MLG_RT_BACKEND_CPU) {
    mlg_rt_device_memory_t d;
    if (mlg_rt_status_t s = mlg_rt_session_device_memory(session, &d)) {
      mlg_rt_session_release(session);
      return fail(s);
    }
    uint64_t program = m.arena_bytes + m.persistent_bytes + m.constant_bytes;
    std::printf("device memory: program %s + backend scratch %s = %s; the "
                "driver counts %s in use\n",
                mlg_rt::formatBytes(program).c_str(),
                mlg_rt::formatBytes(d.scratch_bytes).c_str(),
                mlg_rt::formatBytes(program + d.scratch_bytes).c_str(),
                mlg_rt::formatBytes(d.measured_bytes).c_str());
  }
  std::printf("peak resident memory of mlg-run: %s\n",
              mlg_rt::formatBytes(peakResidentBytes()).c_str());
  mlg_rt_session_release(session);
  return 0;
}

// train.cpp - `mlg-run train` and `mlg-run eval`.
//
// train runs a training-step program (each run is one step that updates the
// weights in place) over batches of a data set: Fashion-MNIST from its IDX
// files, shuffled each epoch, or fixed synthetic batches for benchmarks. It
// reads the loss after every step, reports progress (a bar on a terminal,
// plain lines otherwise) and at the end writes the trained weights into the
// model's inference form. eval runs a classifier over a whole split and
// counts the samples whose largest logit is their label's, padding a last
// partial batch and ignoring the padding.

#include "mlg-run.h"

#include "data/dataset.h"
#include "data/synthetic.h"
#include "mlg_rt/format.h"

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlg_run {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string bytes(uint64_t n) { return mlg_rt::formatBytes(int64_t(n)); }

std::string shapeString(const mlg_rt_tensor_desc_t &d) {
  std::string s = std::string(mlg_rt_dtype_name(d.dtype)) + " [";
  for (size_t i = 0; i < d.rank; ++i)
    s += (i ? "x" : "") + std::to_string(d.shape[i]);
  return s + "]";
}

int failStatus(const mlg_rt::Status &s) { return fail(s.message()); }

/// Owns a program and a session; releases them on every path out.
struct Runner {
  mlg_rt_program_t *program = nullptr;
  mlg_rt_session_t *session = nullptr;
  ~Runner() {
    mlg_rt_session_release(session);
    mlg_rt_program_release(program);
  }
};

/// The options train and eval share, and those of train alone.
struct Options {
  std::string program, weights, model, save, data;
  uint64_t seed = 0, steps = 0, epochs = 0, shuffleSeed = 0, logEvery = 100,
           classes = 0, syntheticBatches = 0; // 0: as many as fit, up to 8
  bool haveSeed = false, poison = false, naive = false;
  mlg_rt_backend_t backend = MLG_RT_BACKEND_CPU;
  CudaFlags cuda;
};

/// Parses `args` (the program path first). `train` accepts train's options.
int parseOptions(const std::vector<std::string> &args, bool train, Options *o) {
  o->program = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string &a = args[i];
    auto value = [&](const char *flag) -> const char * {
      size_t n = std::strlen(flag);
      return a.compare(0, n, flag) == 0 ? a.c_str() + n : nullptr;
    };
    // A numeric option: 1 if `a` is `flag` with a valid value, -1 if with an
    // invalid one (after printing the error), 0 if `a` is another option.
    auto number = [&](const char *flag, uint64_t *out, bool positive) {
      const char *v = value(flag);
      if (!v)
        return 0;
      if (parseUnsigned(v, out) && (!positive || *out > 0))
        return 1;
      usageError(std::string(flag, std::strlen(flag) - 1) +
                 (positive ? " needs a positive integer"
                           : " needs a non-negative integer"));
      return -1;
    };
    int n = 0;
    if ((n = parseCudaFlag(a, &o->cuda))) {
    } else if (const char *v = value("--weights=")) {
      o->weights = v;
    } else if ((n = number("--seed=", &o->seed, false))) {
      o->haveSeed = true;
    } else if (const char *v = value("--data=")) {
      o->data = v;
    } else if (a == "--poison") {
      o->poison = true;
    } else if (const char *v = value("--backend=")) {
      if (!parseBackend(v, &o->backend))
        return usageError("--backend is cpu or cuda");
    } else if (a == "--naive-gemm") {
      o->naive = true;
    } else if (!train) {
      return usageError("unknown option '" + a + "' for eval");
    } else if ((n = number("--steps=", &o->steps, true)) ||
               (n = number("--epochs=", &o->epochs, true)) ||
               (n = number("--shuffle-seed=", &o->shuffleSeed, false)) ||
               (n = number("--log-every=", &o->logEvery, true)) ||
               (n = number("--classes=", &o->classes, true)) ||
               (n = number("--synthetic-batches=", &o->syntheticBatches,
                           true))) {
    } else if (const char *v = value("--save=")) {
      o->save = v;
    } else if (const char *v = value("--model=")) {
      o->model = v;
    } else {
      return usageError("unknown option '" + a + "'");
    }
    if (n < 0)
      return 1;
  }
  if (!o->weights.empty() && o->haveSeed)
    return usageError("give --weights or --seed, not both");
  if (o->data.empty())
    return usageError(std::string(train ? "train" : "eval") +
                      " needs --data=fashion-mnist[:DIR]" +
                      (train ? " or --data=synthetic" : ""));
  if (!train && o->weights.empty() && !o->haveSeed)
    return usageError("eval needs --weights=MODEL.onnx (or --seed=N)");
  if (train) {
    if (!o->steps == !o->epochs)
      return usageError(o->steps ? "give --steps or --epochs, not both"
                                 : "train needs --steps=N or --epochs=N");
    if (o->weights.empty() && !o->haveSeed)
      return usageError("train needs --weights=MODEL.onnx or --seed=N");
    if (o->model.empty())
      o->model = o->weights;
    if (!o->save.empty() && o->model.empty())
      return usageError("--save needs the model to write the weights into: "
                        "--weights or --model=MODEL.onnx");
  }
  return 0;
}

/// A Fashion-MNIST spec: fashion-mnist, fashion-mnist:test,
/// fashion-mnist:DIR, fashion-mnist:DIR:test.
bool parseFashionMnist(const std::string &spec, bool defaultTrain,
                       std::string *dir, bool *train) {
  const std::string prefix = "fashion-mnist";
  if (spec.compare(0, prefix.size(), prefix) != 0)
    return false;
  std::string rest = spec.substr(prefix.size());
  if (!rest.empty() && rest[0] != ':')
    return false;
  *dir = mlg_rt::data::kFashionMnistDir;
  *train = defaultTrain;
  if (rest.empty())
    return true;
  rest = rest.substr(1);
  for (const char *split : {"train", "test"}) {
    std::string s = split;
    if (rest == s) {
      *train = s == "train";
      return true;
    }
    if (rest.size() > s.size() + 1 &&
        rest.compare(rest.size() - s.size() - 1, s.size() + 1, ":" + s) == 0) {
      *train = s == "train";
      rest.resize(rest.size() - s.size() - 1);
      break;
    }
  }
  if (rest.empty())
    return false;
  *dir = rest;
  return true;
}

/// Loads the program, creates the session, loads or draws the weights.
int open(const Options &o, Runner *r) {
  if (mlg_rt_status_t s =
          mlg_rt_program_load_file(o.program.c_str(), &r->program))
    return fail(s);
  mlg_rt_session_options_t options;
  mlg_rt_session_options_initialize(&options);
  options.poison = o.poison;
  options.naive_gemm = o.naive;
  options.backend = o.backend;
  o.cuda.applyTo(&options);
  if (mlg_rt_status_t s =
          mlg_rt_session_create(r->program, &options, &r->session))
    return fail(s);
  if (o.backend != MLG_RT_BACKEND_CPU)
    std::printf("device: %s\n", mlg_rt_session_device(r->session));
  mlg_rt_status_t s =
      o.weights.empty()
          ? mlg_rt_session_init_weights(r->session, o.seed)
          : mlg_rt_session_load_weights(r->session, o.weights.c_str());
  return s ? fail(s) : 0;
}

/// Checks that `path` can be written (a file can be created beside it), so
/// that a long run does not end in a failed save.
int checkWritable(const std::string &path) {
  std::string temp = path + ".probe-XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0)
    return fail("cannot write '" + path + "': " + std::strerror(errno));
  ::close(fd);
  ::unlink(temp.c_str());
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return fail("cannot write '" + path + "': it is a directory");
  return 0;
}

/// The input the images go to (the program's first) and its batch size,
/// checked against the data set's image shape.
int imageInput(const mlg_rt_program_t *p, const mlg_rt::data::ImageDataset &d,
               mlg_rt_tensor_desc_t *out) {
  if (mlg_rt_status_t s = mlg_rt_program_input_desc(p, 0, out))
    return fail(s);
  std::vector<int64_t> want = {d.channels, d.rows, d.cols};
  if (out->dtype != MLG_RT_DTYPE_F32 || out->rank != 4 ||
      !std::equal(want.begin(), want.end(), out->shape + 1) ||
      out->shape[0] < 1)
    return fail("the data's images are " + std::to_string(d.channels) + "x" +
                std::to_string(d.rows) + "x" + std::to_string(d.cols) +
                " but the program's first input '" + out->name + "' is " +
                shapeString(*out) + " (it must be f32 [Bx" +
                std::to_string(d.channels) + "x" + std::to_string(d.rows) +
                "x" + std::to_string(d.cols) + "])");
  return 0;
}

/// Progress: a bar redrawn in place on a terminal, lines every K steps
/// otherwise. Both show the mean loss over the last K steps.
class Progress {
public:
  Progress(uint64_t total, uint64_t batch, uint64_t window,
           const mlg_rt_memory_stats_t &memory)
      : total_(total), batch_(batch), window_(window), memory_(memory),
        terminal_(::isatty(STDOUT_FILENO)), start_(Clock::now()),
        lastDraw_(start_) {}

  void step(uint64_t i, double loss) {
    recent_.push_back(loss);
    if (recent_.size() > window_)
      recent_.pop_front();
    if (i < window_)
      first_ += loss;
    bool last = i + 1 == total_;
    if (terminal_) {
      if (last || secondsSince(lastDraw_) >= 0.1) {
        lastDraw_ = Clock::now();
        draw(i + 1);
      }
    } else if ((i + 1) % window_ == 0 || last) {
      std::printf("step %llu/%llu: loss %.4f (mean of the last %zu), %s\n",
                  (unsigned long long)(i + 1), (unsigned long long)total_,
                  mean(), recent_.size(), rates(i + 1).c_str());
      std::fflush(stdout);
    }
  }

  void finish() {
    if (terminal_)
      std::printf("\n");
  }
  double mean() const {
    double sum = 0;
    for (double l : recent_)
      sum += l;
    return recent_.empty() ? 0.0 : sum / double(recent_.size());
  }
  double firstMean() const {
    return first_ / double(std::min<uint64_t>(window_, total_));
  }
  size_t window() const { return recent_.size(); }
  double seconds() const { return secondsSince(start_); }
  double samplesPerSecond(uint64_t steps) const {
    double s = seconds();
    return s > 0 ? double(steps * batch_) / s : 0.0;
  }
  std::string memory() const {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "memory: arena %s + persistent %s, peak RSS %s",
                  bytes(memory_.arena_bytes).c_str(),
                  bytes(memory_.persistent_bytes).c_str(),
                  bytes(peakResidentBytes()).c_str());
    return buf;
  }

private:
  std::string rates(uint64_t steps) const {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f samples/s, ", samplesPerSecond(steps));
    return buf + memory();
  }
  void draw(uint64_t done) {
    constexpr int kWidth = 24;
    int filled = int(double(kWidth) * double(done) / double(total_));
    std::string bar(size_t(filled), '#');
    bar.resize(kWidth, '.');
    char buf[512];
    std::snprintf(buf, sizeof buf, "[%s] step %llu/%llu  loss %.4f  %s",
                  bar.c_str(), (unsigned long long)done,
                  (unsigned long long)total_, mean(), rates(done).c_str());
    std::string line = buf;
    struct winsize ws;
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
        line.size() >= ws.ws_col)
      line.resize(ws.ws_col - 1);
    std::printf("\r%s\033[K", line.c_str());
    std::fflush(stdout);
  }

  uint64_t total_, batch_, window_;
  mlg_rt_memory_stats_t memory_;
  bool terminal_;
  Clock::time_point start_, lastDraw_;
  std::deque<double> recent_;
  double first_ = 0;
};

/// A scalar floating-point output, as a double.
int readScalar(mlg_rt_session_t *session, size_t index,
               const mlg_rt_tensor_desc_t &d, double *out) {
  if (d.dtype == MLG_RT_DTYPE_F32) {
    float v = 0;
    if (mlg_rt_status_t s =
            mlg_rt_session_read_output(session, index, &v, sizeof v))
      return fail(s);
    *out = v;
  } else {
    double v = 0;
    if (mlg_rt_status_t s =
            mlg_rt_session_read_output(session, index, &v, sizeof v))
      return fail(s);
    *out = v;
  }
  return 0;
}

} // namespace

int trainCommand(const std::vector<std::string> &args) {
  Options o;
  if (int rc = parseOptions(args, /*train=*/true, &o))
    return rc;
  std::string dataDir;
  bool trainSplit = true;
  bool synthetic = o.data == "synthetic";
  if (!synthetic && !parseFashionMnist(o.data, true, &dataDir, &trainSplit))
    return usageError("unknown data '" + o.data +
                      "' (fashion-mnist[:DIR][:test], or synthetic)");
  if (!o.save.empty()) {
    struct stat st;
    if (::stat(o.model.c_str(), &st) != 0)
      return fail("cannot read '" + o.model + "' (the model --save writes " +
                  "the weights into): " + std::strerror(errno));
    if (int rc = checkWritable(o.save))
      return rc;
  }

  Runner r;
  if (int rc = open(o, &r))
    return rc;
  const mlg_rt_program_t *p = r.program;
  size_t numInputs = mlg_rt_program_input_count(p);

  // The loss: the output named `loss`, a floating-point scalar.
  size_t lossIndex = 0;
  mlg_rt_tensor_desc_t loss;
  if (mlg_rt_status_t s = mlg_rt_program_find_output(p, "loss", &lossIndex)) {
    mlg_rt_status_free(s);
    return fail("'" + o.program +
                "' has no output 'loss': is it a training step? (compile "
                "the model with --mlg-build-training-step)");
  }
  if (mlg_rt_status_t s = mlg_rt_program_output_desc(p, lossIndex, &loss))
    return fail(s);
  if (loss.numel != 1 ||
      (loss.dtype != MLG_RT_DTYPE_F32 && loss.dtype != MLG_RT_DTYPE_F64))
    return fail("the output 'loss' is " + shapeString(loss) +
                ", not a f32 or f64 scalar");

  // The batches: one tensor per input, refilled before each step.
  std::vector<mlg_rt_tensor_desc_t> inputs(numInputs);
  for (size_t i = 0; i < numInputs; ++i)
    if (mlg_rt_status_t s = mlg_rt_program_input_desc(p, i, &inputs[i]))
      return fail(s);
  int64_t programClasses = 0;
  if (mlg_rt_status_t s = mlg_rt_program_label_classes(p, &programClasses)) {
    mlg_rt_status_free(s);
    programClasses = 0;
  }

  uint64_t stepsPerEpoch = 0, batch = 0;
  mlg_rt::data::ImageDataset dataset;
  mlg_rt::data::SyntheticBatches batches;
  size_t labelIndex = 0;
  std::vector<float> images;
  std::vector<int64_t> labels;
  auto loadStart = Clock::now();
  if (synthetic) {
    std::vector<mlg_rt::data::TensorSpec> specs;
    for (const mlg_rt_tensor_desc_t &d : inputs) {
      mlg_rt::data::TensorSpec spec;
      spec.name = d.name;
      spec.dtype = static_cast<mlg_rt::DType>(int(d.dtype));
      spec.shape.assign(d.shape, d.shape + d.rank);
      bool isLabels = std::string(d.name) == "labels";
      bool isInt = d.dtype != MLG_RT_DTYPE_F32 && d.dtype != MLG_RT_DTYPE_F64 &&
                   d.dtype != MLG_RT_DTYPE_F16 && d.dtype != MLG_RT_DTYPE_BF16;
      if (isLabels && isInt) {
        spec.intRange = o.classes ? int64_t(o.classes) : programClasses;
        if (spec.intRange < 1)
          return fail("cannot tell how many classes the labels have; give "
                      "--classes=N");
      }
      specs.push_back(std::move(spec));
    }
    uint64_t count = o.syntheticBatches;
    if (!count) {
      // By default up to 8 batches, in at most 512 MiB.
      uint64_t perBatch = 0;
      if (mlg_rt::Status s =
              mlg_rt::data::SyntheticBatches::batchBytes(specs, &perBatch);
          !s.ok())
        return failStatus(s);
      count = std::clamp<uint64_t>(
          (512ull << 20) / std::max<uint64_t>(perBatch, 1), 1, 8);
    }
    if (mlg_rt::Status s = mlg_rt::data::SyntheticBatches::create(
            specs, int64_t(count), o.shuffleSeed, &batches);
        !s.ok())
      return failStatus(s);
    stepsPerEpoch = count;
    batch = inputs.empty() || inputs[0].rank == 0 ? 1 : inputs[0].shape[0];
  } else {
    if (mlg_rt::Status s =
            mlg_rt::data::loadFashionMnist(dataDir, trainSplit, &dataset);
        !s.ok())
      return failStatus(s);
    if (int rc = imageInput(p, dataset, &inputs[0]))
      return rc;
    batch = uint64_t(inputs[0].shape[0]);
    if (mlg_rt_status_t s = mlg_rt_program_find_input(p, "labels", &labelIndex))
      return fail(s);
    const mlg_rt_tensor_desc_t &l = inputs[labelIndex];
    if (labelIndex == 0 || l.dtype != MLG_RT_DTYPE_I64 || l.rank != 1 ||
        uint64_t(l.shape[0]) != batch)
      return fail(std::string("the program's input 'labels' is ") +
                  shapeString(l) + "; class labels need i64 [" +
                  std::to_string(batch) +
                  "] (a training step with the softmax cross-entropy loss)");
    if (programClasses && programClasses < dataset.classes)
      return fail("the program's classifier has " +
                  std::to_string(programClasses) + " classes; " + dataset.name +
                  " has " + std::to_string(dataset.classes));
    for (size_t i = 1; i < numInputs; ++i)
      if (i != labelIndex)
        return fail(std::string("the program's input '") + inputs[i].name +
                    "' gets no data (" + dataset.name +
                    " gives images and labels)");
    stepsPerEpoch = uint64_t(dataset.count) / batch;
    if (stepsPerEpoch == 0)
      return fail(dataset.name + " has " + std::to_string(dataset.count) +
                  " samples, fewer than a batch of " + std::to_string(batch));
    images.resize(size_t(inputs[0].numel));
    labels.resize(size_t(batch));
  }
  double loadSeconds = secondsSince(loadStart);

  uint64_t total = o.steps ? o.steps : o.epochs * stepsPerEpoch;
  mlg_rt_memory_stats_t memory;
  mlg_rt_program_memory(p, &memory);
  if (synthetic)
    std::printf("data: %llu synthetic batch(es) of %llu; %llu steps\n",
                (unsigned long long)stepsPerEpoch, (unsigned long long)batch,
                (unsigned long long)total);
  else
    std::printf("data: %s, %lld samples (loaded in %.2f s); %llu batches of "
                "%llu per epoch, %llu steps\n",
                dataset.name.c_str(), (long long)dataset.count, loadSeconds,
                (unsigned long long)stepsPerEpoch, (unsigned long long)batch,
                (unsigned long long)total);
  std::fflush(stdout);

  Progress progress(total, batch, std::min(o.logEvery, total), memory);
  std::vector<int64_t> order;
  for (uint64_t step = 0; step < total; ++step) {
    uint64_t epoch = step / stepsPerEpoch, b = step % stepsPerEpoch;
    if (synthetic) {
      for (size_t i = 0; i < numInputs; ++i) {
        const std::string &t = batches.tensor(int64_t(b), i);
        if (mlg_rt_status_t s =
                mlg_rt_session_set_input(r.session, i, t.data(), t.size()))
          return fail(s);
      }
    } else {
      if (b == 0)
        order = mlg_rt::data::epochOrder(dataset.count, o.shuffleSeed, epoch);
      dataset.gather(order.data() + b * batch, batch, images.data(),
                     labels.data());
      if (mlg_rt_status_t s = mlg_rt_session_set_input(
              r.session, 0, images.data(), images.size() * sizeof(float)))
        return fail(s);
      if (mlg_rt_status_t s =
              mlg_rt_session_set_input(r.session, labelIndex, labels.data(),
                                       labels.size() * sizeof(int64_t)))
        return fail(s);
    }
    if (mlg_rt_status_t s = mlg_rt_session_run(r.session))
      return fail(s);
    double value = 0;
    if (int rc = readScalar(r.session, lossIndex, loss, &value))
      return rc;
    if (!std::isfinite(value)) {
      progress.finish();
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", value);
      return fail("step " + std::to_string(step + 1) + ": the loss is " + buf +
                  " (training diverged, or the program is wrong)");
    }
    progress.step(step, value);
  }
  progress.finish();

  double seconds = progress.seconds();
  std::printf("trained %llu steps (%.2f epochs) in %.1f s: %.1f samples/s\n",
              (unsigned long long)total, double(total) / double(stepsPerEpoch),
              seconds, progress.samplesPerSecond(total));
  std::printf("loss: first %.4f, final %.4f (means of the first and the last "
              "%zu steps)\n",
              progress.firstMean(), progress.mean(), progress.window());
  std::printf("%s\n", progress.memory().c_str());
  if (!o.save.empty()) {
    if (mlg_rt_status_t s = mlg_rt_session_save_inference_model(
            r.session, o.model.c_str(), o.save.c_str()))
      return fail(s);
    std::printf("saved the trained model (inference form) to %s\n",
                o.save.c_str());
  }
  return 0;
}

int evalCommand(const std::vector<std::string> &args) {
  Options o;
  if (int rc = parseOptions(args, /*train=*/false, &o))
    return rc;
  std::string dataDir;
  bool trainSplit = false;
  if (!parseFashionMnist(o.data, false, &dataDir, &trainSplit))
    return usageError("unknown data '" + o.data +
                      "' for eval (fashion-mnist[:DIR][:test|:train])");
  Runner r;
  if (int rc = open(o, &r))
    return rc;
  const mlg_rt_program_t *p = r.program;
  size_t unused = 0;
  if (mlg_rt_status_t s = mlg_rt_program_find_input(p, "labels", &unused); !s) {
    return fail("'" + o.program +
                "' is a training step (it has a 'labels' input); eval needs a "
                "program compiled from an inference model (see --save)");
  } else {
    mlg_rt_status_free(s);
  }
  if (mlg_rt_program_input_count(p) != 1)
    return fail("eval needs a program with one input (the images); '" +
                o.program + "' has " +
                std::to_string(mlg_rt_program_input_count(p)));
  mlg_rt_tensor_desc_t logits;
  if (mlg_rt_status_t s = mlg_rt_program_output_desc(p, 0, &logits))
    return fail(s);

  auto loadStart = Clock::now();
  mlg_rt::data::ImageDataset dataset;
  if (mlg_rt::Status s =
          mlg_rt::data::loadFashionMnist(dataDir, trainSplit, &dataset);
      !s.ok())
    return failStatus(s);
  double loadSeconds = secondsSince(loadStart);
  mlg_rt_tensor_desc_t input;
  if (int rc = imageInput(p, dataset, &input))
    return rc;
  uint64_t batch = uint64_t(input.shape[0]);
  if (logits.dtype != MLG_RT_DTYPE_F32 || logits.rank != 2 ||
      uint64_t(logits.shape[0]) != batch)
    return fail(std::string("the program's output '") + logits.name + "' is " +
                shapeString(logits) + "; eval needs the logits, f32 [" +
                std::to_string(batch) + "xC]");
  int64_t classes = logits.shape[1];
  if (classes < dataset.classes)
    return fail("the program's output has " + std::to_string(classes) +
                " classes; " + dataset.name + " has " +
                std::to_string(dataset.classes));

  std::vector<float> images(size_t(input.numel));
  std::vector<float> out(size_t(logits.numel));
  std::vector<int64_t> labels(static_cast<size_t>(batch));
  std::vector<int64_t> indices(static_cast<size_t>(batch));
  uint64_t correct = 0;
  auto start = Clock::now();
  for (int64_t first = 0; first < dataset.count; first += int64_t(batch)) {
    size_t n = size_t(std::min<int64_t>(int64_t(batch), dataset.count - first));
    for (size_t i = 0; i < n; ++i)
      indices[i] = first + int64_t(i);
    dataset.gather(indices.data(), n, images.data(), labels.data());
    // Padding: zero images whose outputs are ignored.
    std::fill(images.begin() + int64_t(n) * dataset.imageNumel(), images.end(),
              0.0f);
    if (mlg_rt_status_t s = mlg_rt_session_set_input(
            r.session, 0, images.data(), images.size() * sizeof(float)))
      return fail(s);
    if (mlg_rt_status_t s = mlg_rt_session_run(r.session))
      return fail(s);
    if (mlg_rt_status_t s = mlg_rt_session_read_output(
            r.session, 0, out.data(), out.size() * sizeof(float)))
      return fail(s);
    for (size_t i = 0; i < n; ++i) {
      const float *row = out.data() + i * size_t(classes);
      int64_t best = std::max_element(row, row + classes) - row;
      correct += best == labels[i];
    }
  }
  double seconds = secondsSince(start);
  std::printf("accuracy: %.4f (%llu of %lld)\n",
              double(correct) / double(dataset.count),
              (unsigned long long)correct, (long long)dataset.count);
  mlg_rt_memory_stats_t memory;
  mlg_rt_program_memory(p, &memory);
  std::printf("evaluated %s (loaded in %.2f s) in batches of %llu in %.1f s: "
              "%.1f samples/s\n",
              dataset.name.c_str(), loadSeconds, (unsigned long long)batch,
              seconds, seconds > 0 ? double(dataset.count) / seconds : 0.0);
  std::printf("memory: arena %s + persistent %s, peak RSS %s\n",
              bytes(memory.arena_bytes).c_str(),
              bytes(memory.persistent_bytes).c_str(),
              bytes(peakResidentBytes()).c_str());
  return 0;
}

} // namespace mlg_run

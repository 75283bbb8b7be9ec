// CudaStreamsTest.cpp - a program on three streams with a host pool, as the
// offload passes will emit it, runs on the GPU as it runs on the CPU: the
// events order an offload before the arena bytes it read are written over
// and a prefetch before its result is read, while another stream computes
// at the same time; the first run, the recorded second and the replayed
// third all give the CPU's result. Skipped without a GPU.

#include "CudaTestUtil.h"

#include "session.h"

using namespace mlg_rt;
using namespace mlg_rt::test;

namespace {

using CudaStreams = Cuda;

/// x -> relu(x) - x + sigmoid(x), through an offload of relu(x) to the host
/// pool (its arena bytes then hold -x) and a prefetch back, on three
/// streams: 0 computes, 1 computes sigmoid(x) and then copies out, 2 copies
/// in. Tensors of `n` floats, large enough that an unordered copy would
/// race visibly.
std::shared_ptr<Program> offloadProgram(int64_t n) {
  auto p = std::make_shared<Program>();
  int64_t bytes = n * 4;
  p->arenaBytes = uint64_t(4 * bytes);
  p->hostBytes = uint64_t(bytes);
  p->numStreams = 3;
  p->numEvents = 4;
  auto tensor = [&](TensorInfo::Storage storage, uint64_t offset) {
    TensorInfo t;
    t.dtype = DType::F32;
    t.shape = {n};
    t.numel = n;
    t.bytes = bytes;
    t.storage = storage;
    t.offset = offset;
    p->tensors.push_back(t);
    return uint32_t(p->tensors.size() - 1);
  };
  using S = TensorInfo::Storage;
  uint32_t x = tensor(S::Arena, 0), y = tensor(S::Arena, uint64_t(bytes)),
           z = tensor(S::Arena, uint64_t(2 * bytes)),
           a = tensor(S::Arena, uint64_t(3 * bytes)), h = tensor(S::Host, 0);
  auto step = [&](const char *kernel, std::vector<uint32_t> in, uint32_t out,
                  uint32_t stream, std::vector<uint32_t> wait, int32_t record) {
    StepInfo s;
    s.kernel = kernel;
    s.name = kernel;
    s.inputs = std::move(in);
    s.outputs = {out};
    s.stream = stream;
    s.waitEvents = std::move(wait);
    s.recordEvent = record;
    p->steps.push_back(std::move(s));
  };
  step("relu", {x}, y, 0, {}, 0);
  step("sigmoid", {x}, a, 1, {}, 3);
  step("offload", {y}, h, 1, {0}, 1);
  p->steps.back().release = {{uint64_t(bytes), uint64_t(bytes)}};
  step("neg", {x}, y, 0, {1}, -1); // over relu(x)'s bytes, once copied out
  step("prefetch", {h}, z, 2, {1}, 2);
  step("add", {z, y}, z, 0, {2}, -1);
  step("add", {z, a}, z, 0, {3}, -1);
  p->inputs.push_back({"x", x});
  p->outputs.push_back({"out", z});
  return p;
}

std::vector<float> runProgram(std::shared_ptr<const Program> program,
                              Backend backend, const std::vector<float> &x,
                              int runs, bool poison = false) {
  SessionOptions options;
  options.backend = backend;
  options.poison = poison;
  std::unique_ptr<Session> session;
  Status s = Session::create(program, options, &session);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok())
    return {};
  s = session->setInputBytes(0, x.data(), x.size() * 4);
  EXPECT_TRUE(s.ok()) << s.message();
  std::vector<float> out(x.size());
  for (int r = 0; r < runs && s.ok(); ++r) {
    s = session->run();
    EXPECT_TRUE(s.ok()) << "run " << r << ": " << s.message();
    if (s.ok())
      s = session->readOutput(0, out.data(), out.size() * 4);
    EXPECT_TRUE(s.ok()) << s.message();
  }
  return out;
}

TEST_F(CudaStreams, OffloadAndPrefetchOrderedByEvents) {
  const int64_t n = int64_t(1) << 22; // 16 MiB a tensor
  std::shared_ptr<const Program> program = offloadProgram(n);
  std::vector<double> values = cudaTestValues(n, 7);
  std::vector<float> x(values.begin(), values.end());
  std::vector<float> cpu = runProgram(program, Backend::Cpu, x, 1);
  // Run 1 plain, run 2 recorded as a CUDA graph, run 3 replayed.
  std::vector<float> gpu = runProgram(program, Backend::Cuda, x, 3);
  // Poisoning fills what each step releases on its stream before its event:
  // relu(x)'s bytes once copied out, before -x is written over them.
  std::vector<float> poisoned =
      runProgram(program, Backend::Cuda, x, 2, /*poison=*/true);
  ASSERT_EQ(cpu.size(), size_t(n));
  ASSERT_EQ(gpu.size(), size_t(n));
  ASSERT_EQ(poisoned.size(), size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    float expect = std::max(x[i], 0.0f) - x[i] + 1 / (1 + std::exp(-x[i]));
    ASSERT_NEAR(cpu[i], expect, 1e-6) << "CPU element " << i;
    ASSERT_NEAR(gpu[i], cpu[i], 1e-6) << "GPU element " << i;
    ASSERT_NEAR(poisoned[i], cpu[i], 1e-6) << "GPU element " << i
                                           << " with poisoning";
  }
}

} // namespace

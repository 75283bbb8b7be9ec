// KernelTestUtil.h - running one CPU kernel in a unit test.
//
//   KernelHarness h("softmax");
//   h.input(DType::F32, {2, 3}, values);
//   h.output(DType::F32, {2, 3});
//   h.attrs.set("axis", int64_t(1));
//   ASSERT_TRUE(h.check().ok());
//   ASSERT_TRUE(h.run().ok());
//   std::vector<float> y = h.outputAs<float>(0);

#ifndef MLG_TEST_UNIT_RUNTIME_KERNELTESTUTIL_H
#define MLG_TEST_UNIT_RUNTIME_KERNELTESTUTIL_H

#include "cpu/kernel.h"
#include "device.h"

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace mlg_rt::test {

/// Element count of a shape (small test shapes: no overflow check).
inline int64_t numelOf(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

inline bool isIntType(DType t) { return isSignedInt(t) || isUnsignedInt(t); }

/// A value as the type stores it: wrapped to the type's width for integers.
inline double wrapTo(DType t, uint64_t v) {
  switch (t) {
  case DType::I8:
    return int8_t(v);
  case DType::I16:
    return int16_t(v);
  case DType::I32:
    return int32_t(v);
  case DType::I64:
    return double(int64_t(v));
  case DType::U8:
    return uint8_t(v);
  case DType::U16:
    return uint16_t(v);
  case DType::U32:
    return uint32_t(v);
  default:
    return double(v);
  }
}

/// `n` values drawn uniformly from [lo, hi) by a generator seeded with
/// `seed`.
inline std::vector<double> uniformValues(int64_t n, uint32_t seed,
                                         double lo = -1, double hi = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(static_cast<size_t>(n));
  for (double &x : v)
    x = dist(rng);
  return v;
}

class KernelHarness {
public:
  explicit KernelHarness(std::string kernel);

  /// Adds an operand holding `values` (converted to its type's storage).
  template <typename T>
  void input(DType dtype, std::vector<int64_t> shape,
             const std::vector<T> &values) {
    addTensor(dtype, std::move(shape), true);
    Buffer &b = buffers_.back();
    for (size_t i = 0; i < values.size() && i < size_t(b.numel); ++i)
      store(dtype, b.data.get(), int64_t(i), double(values[i]));
  }
  /// Adds a result (zero-filled).
  void output(DType dtype, std::vector<int64_t> shape) {
    addTensor(dtype, std::move(shape), false);
  }
  /// Gives the kernel a workspace of `bytes`.
  void workspace(uint64_t bytes);

  Attributes &attrs() { return step_.attrs; }
  cpu::CpuOptions &options() { return options_; }

  Status check();
  /// Checks, then runs (`runIndex` is the dropout step counter).
  Status run(uint64_t runIndex = 0);
  /// Checks on the CPU, then runs the device's kernel of the same name on
  /// copies of the operands in device memory and copies the results back
  /// (outputAs then reads the device's results).
  Status runOn(Device &device, uint64_t runIndex = 0);

  template <typename T> std::vector<T> outputAs(size_t i) const {
    const Buffer &b = buffers_[outputs_[i]];
    std::vector<T> out(b.numel);
    for (int64_t e = 0; e < b.numel; ++e)
      out[e] = T(loadAsDouble(b.dtype, b.data.get(), e));
    return out;
  }
  size_t numOutputs() const { return outputs_.size(); }
  /// Raw pointer to output i (for aliasing tests: make it the input's).
  void *outputData(size_t i) { return buffers_[outputs_[i]].data.get(); }
  /// Makes output `o` share operand `i`'s memory (in-place kernels).
  void aliasOutputToInput(size_t o, size_t i) { aliases_.push_back({o, i}); }

private:
  struct Buffer {
    DType dtype;
    std::vector<int64_t> shape;
    int64_t numel;
    std::unique_ptr<uint8_t[]> data;
  };
  void addTensor(DType dtype, std::vector<int64_t> shape, bool isInput);
  static void store(DType dtype, uint8_t *data, int64_t i, double v);
  cpu::KernelCall makeCall(bool withData);

  std::string kernel_;
  StepInfo step_;
  cpu::CpuOptions options_;
  std::vector<Buffer> buffers_;
  std::vector<size_t> inputs_, outputs_;
  std::vector<std::pair<size_t, size_t>> aliases_;
  std::unique_ptr<uint8_t[]> workspace_;
  uint64_t workspaceBytes_ = 0;
};

} // namespace mlg_rt::test

#endif // MLG_TEST_UNIT_RUNTIME_KERNELTESTUTIL_H

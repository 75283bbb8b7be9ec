// synthetic.h - random data of a program's input types, for benchmarks.
//
// RandomFiller draws tensors element by element from one seeded stream:
// floating-point elements from a standard normal, integers uniform in
// [0, range), booleans 0 or 1. SyntheticBatches draws a fixed number of
// whole batches once (one tensor per input, each from its own stream), so
// that a benchmark measures the program and not the generator, and a model
// trained on them can still lower its loss by fitting them.

#ifndef MLG_RT_SRC_DATA_SYNTHETIC_H
#define MLG_RT_SRC_DATA_SYNTHETIC_H

#include "dtype.h"
#include "status.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace mlg_rt::data {

class RandomFiller {
public:
  explicit RandomFiller(uint64_t seed) : rng_(seed) {}
  /// Writes `numel` random elements of `dtype` at `out`; integers are drawn
  /// from [0, intRange) (0 if intRange < 1).
  void fill(DType dtype, int64_t numel, int64_t intRange, void *out);

private:
  std::mt19937_64 rng_;
  std::normal_distribution<double> normal_;
};

/// One tensor of a batch: its type, shape and, for integers, the range of
/// its values.
struct TensorSpec {
  std::string name;
  DType dtype = DType::Invalid;
  std::vector<int64_t> shape;
  int64_t intRange = 2;
};

class SyntheticBatches {
public:
  /// Draws `batches` batches of `specs` from `seed`.
  static Status create(const std::vector<TensorSpec> &specs, int64_t batches,
                       uint64_t seed, SyntheticBatches *out);
  /// The bytes of one batch (every spec's tensor) in bytes.
  static Status batchBytes(const std::vector<TensorSpec> &specs, uint64_t *out);

  int64_t size() const { return int64_t(batches_.size()); }
  /// Tensor `k` of batch `i` (little-endian bytes).
  const std::string &tensor(int64_t i, size_t k) const {
    return batches_[size_t(i)][k];
  }

private:
  std::vector<std::vector<std::string>> batches_;
};

} // namespace mlg_rt::data

#endif // MLG_RT_SRC_DATA_SYNTHETIC_H

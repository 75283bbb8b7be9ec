// synthetic.cc - random data of a program's input types, for benchmarks.

#include "data/synthetic.h"

#include "program.h"

#include <cstring>

namespace mlg_rt::data {

// SplitMix64's finalizer: nearby seeds give unrelated streams.
static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void RandomFiller::fill(DType dtype, int64_t numel, int64_t intRange,
                        void *out) {
  auto *bytes = static_cast<char *>(out);
  int64_t size = dtypeBytes(dtype);
  for (int64_t e = 0; e < numel; ++e) {
    char *dst = bytes + e * size;
    if (dtype == DType::F32) {
      float v = float(normal_(rng_));
      std::memcpy(dst, &v, 4);
    } else if (dtype == DType::F64) {
      double v = normal_(rng_);
      std::memcpy(dst, &v, 8);
    } else if (dtype == DType::F16 || dtype == DType::BF16) {
      float v = float(normal_(rng_));
      uint16_t b = dtype == DType::F16 ? floatToHalf(v) : floatToBf16(v);
      std::memcpy(dst, &b, 2);
    } else {
      uint64_t v = intRange > 0 ? rng_() % uint64_t(intRange) : 0;
      if (dtype == DType::Bool)
        v &= 1;
      std::memcpy(dst, &v, size_t(size));
    }
  }
}

Status SyntheticBatches::batchBytes(const std::vector<TensorSpec> &specs,
                                    uint64_t *out) {
  uint64_t total = 0;
  for (const TensorSpec &s : specs) {
    int64_t numel = 0, bytes = 0;
    MLG_RT_RETURN_IF_ERROR(checkedSizes(s.shape, s.dtype, &numel, &bytes)
                               .withContext("input '" + s.name + "'"));
    total += uint64_t(bytes);
  }
  *out = total;
  return Status();
}

Status SyntheticBatches::create(const std::vector<TensorSpec> &specs,
                                int64_t batches, uint64_t seed,
                                SyntheticBatches *out) {
  if (batches < 1)
    return Status::error("a synthetic data set needs at least one batch");
  uint64_t perBatch = 0;
  MLG_RT_RETURN_IF_ERROR(batchBytes(specs, &perBatch));
  out->batches_.assign(size_t(batches), {});
  for (int64_t i = 0; i < batches; ++i) {
    for (size_t k = 0; k < specs.size(); ++k) {
      const TensorSpec &s = specs[k];
      int64_t numel = 0, bytes = 0;
      MLG_RT_RETURN_IF_ERROR(checkedSizes(s.shape, s.dtype, &numel, &bytes));
      // Each tensor its own stream, so that one input's values do not
      // depend on the other inputs' sizes.
      RandomFiller filler(mix(mix(mix(seed) ^ uint64_t(i)) ^ k));
      std::string data(size_t(bytes), '\0');
      filler.fill(s.dtype, numel, s.intRange, data.data());
      out->batches_[size_t(i)].push_back(std::move(data));
    }
  }
  return Status();
}

} // namespace mlg_rt::data

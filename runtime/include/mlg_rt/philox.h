// philox.h - the counter-based random generator every backend shares.
//
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC'11): a bijection of a 128-bit counter under a 64-bit key. Dropout
// draws element i's number from key = the op's seed and counter = (i, the
// run's step), so the CPU and CUDA backends draw the same masks and a
// recomputed dropout reproduces its mask. Header-only; usable from CUDA.

#ifndef MLG_RT_PHILOX_H
#define MLG_RT_PHILOX_H

#include <cstdint>

#ifdef __CUDACC__
#define MLG_RT_HOST_DEVICE __host__ __device__
#else
#define MLG_RT_HOST_DEVICE
#endif

namespace mlg_rt {

struct Philox4x32 {
  uint32_t v[4];
};

MLG_RT_HOST_DEVICE inline Philox4x32 philox4x32(uint32_t c0, uint32_t c1,
                                                uint32_t c2, uint32_t c3,
                                                uint32_t k0, uint32_t k1) {
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  const uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(M0) * c0, p1 = uint64_t(M1) * c2;
    uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
    uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += W0;
    k1 += W1;
  }
  return {{c0, c1, c2, c3}};
}

/// A uniform number in [0, 1) for element `index` of a dropout with `seed`
/// at training step `step`.
MLG_RT_HOST_DEVICE inline float dropoutUniform(uint64_t seed, uint64_t step,
                                               uint64_t index) {
  Philox4x32 r =
      philox4x32(uint32_t(index), uint32_t(index >> 32), uint32_t(step),
                 uint32_t(step >> 32), uint32_t(seed), uint32_t(seed >> 32));
  // 24 random bits make an exact float in [0, 1).
  return float(r.v[0] >> 8) * (1.0f / 16777216.0f);
}

} // namespace mlg_rt

#endif // MLG_RT_PHILOX_H

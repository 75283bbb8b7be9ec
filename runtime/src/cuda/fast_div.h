// fast_div.h - division by a divisor fixed at launch, for the CUDA kernels'
// index arithmetic (host code too, so that it can be tested without a GPU).

#ifndef MLG_RT_SRC_CUDA_FAST_DIV_H
#define MLG_RT_SRC_CUDA_FAST_DIV_H

#include <cstdint>

#ifdef __CUDACC__
#define MLG_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define MLG_HOST_DEVICE inline
#endif

namespace mlg_rt::cuda {

/// Division of unsigned numerators below 2^31 by a divisor in [1, 2^31]: a
/// multiply-high, an add and a shift instead of a hardware-less 32-bit
/// division (Granlund and Montgomery's method, as PyTorch's IntDivider).
/// With s = ceil(log2 d) and m = floor(2^32 (2^s - d) / d) + 1,
/// n / d = (mulhi(n, m) + n) >> s; the sum stays below 2^32 for n < 2^31.
struct FastDiv {
  uint32_t divisor = 1, magic = 0, shift = 0;

  FastDiv() = default;
  explicit FastDiv(uint32_t d) : divisor(d) {
    while ((uint64_t(1) << shift) < d)
      ++shift;
    magic = uint32_t((uint64_t(1) << 32) * ((uint64_t(1) << shift) - d) / d +
                     1);
  }
  MLG_HOST_DEVICE uint32_t div(uint32_t n) const {
#ifdef __CUDA_ARCH__
    uint32_t t = __umulhi(n, magic);
#else
    uint32_t t = uint32_t((uint64_t(n) * magic) >> 32);
#endif
    return (t + n) >> shift;
  }
  MLG_HOST_DEVICE uint32_t mod(uint32_t n) const {
    return n - div(n) * divisor;
  }
};

} // namespace mlg_rt::cuda

#endif // MLG_RT_SRC_CUDA_FAST_DIV_H

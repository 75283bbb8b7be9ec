// common.cuh - helpers of the CUDA kernels: element types (f16 and bf16
// compute in float, as on the CPU backend), type dispatch, launch shapes.

#ifndef MLG_RT_SRC_CUDA_COMMON_CUH
#define MLG_RT_SRC_CUDA_COMMON_CUH

#include "fast_div.h"
#include "kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <initializer_list>

namespace mlg_rt::cuda {

/// Storage and compute types, as cpu::Elem: f16 and bf16 compute in float.
template <typename T> struct Elem {
  using Compute = T;
  static __device__ __forceinline__ T load(T v) { return v; }
  static __device__ __forceinline__ T store(T v) { return v; }
};
template <> struct Elem<__half> {
  using Compute = float;
  static __device__ __forceinline__ float load(__half v) {
    return __half2float(v);
  }
  static __device__ __forceinline__ __half store(float v) {
    return __float2half_rn(v);
  }
};
template <> struct Elem<__nv_bfloat16> {
  using Compute = float;
  static __device__ __forceinline__ float load(__nv_bfloat16 v) {
    return __bfloat162float(v);
  }
  static __device__ __forceinline__ __nv_bfloat16 store(float v) {
    return __float2bfloat16_rn(v);
  }
};

/// Calls `fn.template operator()<T>()` with T the device storage type of a
/// floating-point `dtype`; an error for other types.
template <typename Fn>
Status dispatchFloat(const cpu::KernelCall &c, DType dtype, Fn &&fn) {
  switch (dtype) {
  case DType::F32:
    return fn.template operator()<float>();
  case DType::F64:
    return fn.template operator()<double>();
  case DType::F16:
    return fn.template operator()<__half>();
  case DType::BF16:
    return fn.template operator()<__nv_bfloat16>();
  default:
    return c.error("the CUDA backend has no ", dtypeName(dtype),
                   " version of this kernel");
  }
}

/// Calls `fn.template operator()<T>()` with T the device storage type of a
/// numeric `dtype` (the CPU's dispatchNumeric).
template <typename Fn>
Status dispatchNumeric(const cpu::KernelCall &c, DType dtype, Fn &&fn) {
  switch (dtype) {
  case DType::I8:
    return fn.template operator()<int8_t>();
  case DType::I16:
    return fn.template operator()<int16_t>();
  case DType::I32:
    return fn.template operator()<int32_t>();
  case DType::I64:
    return fn.template operator()<int64_t>();
  case DType::U8:
    return fn.template operator()<uint8_t>();
  case DType::U16:
    return fn.template operator()<uint16_t>();
  case DType::U32:
    return fn.template operator()<uint32_t>();
  case DType::U64:
    return fn.template operator()<uint64_t>();
  default:
    return dispatchFloat(c, dtype, fn);
  }
}

/// As dispatchNumeric, for any element type (bool as uint8_t).
template <typename Fn>
Status dispatchAnyType(const cpu::KernelCall &c, DType dtype, Fn &&fn) {
  if (dtype == DType::Bool)
    return fn.template operator()<uint8_t>();
  return dispatchNumeric(c, dtype, fn);
}

/// A vector of V elements of T loaded or stored in one 16-byte access.
template <typename T> struct alignas(16) Vec16 {
  static constexpr int size = 16 / sizeof(T);
  T v[size];
};

/// Whether every pointer is aligned for Vec16 accesses.
inline bool aligned16(std::initializer_list<const void *> ptrs) {
  for (const void *p : ptrs)
    if (reinterpret_cast<uintptr_t>(p) % 16 != 0)
      return false;
  return true;
}

/// Threads per block of the elementwise kernels.
constexpr int kThreads = 256;

#define MLG_CUDA_GRID_LOOP(i, n)                                               \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n);    \
       i += int64_t(blockDim.x) * gridDim.x)

/// Records a device-side failure (the first one wins).
__device__ __forceinline__ void failOnDevice(int32_t *error, int32_t code,
                                             int32_t step) {
  if (atomicCAS(error, 0, code) == 0)
    error[1] = step;
}

/// The sum (or maximum) of `v` over the block, returned to every thread.
/// Every thread of the block must call it; blockDim.x a multiple of 32, at
/// most 1024.
template <typename C, bool Max = false>
__device__ C blockReduce(C v) {
  __shared__ C partial[32];
  for (int o = 16; o > 0; o >>= 1) {
    C other = __shfl_xor_sync(0xffffffffu, v, o);
    v = Max ? (other > v ? other : v) : v + other;
  }
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  __syncthreads(); // partial may still be read by a previous call
  if (lane == 0)
    partial[warp] = v;
  __syncthreads();
  int warps = blockDim.x / 32;
  v = lane < warps ? partial[lane] : (Max ? partial[0] : C(0));
  for (int o = 16; o > 0; o >>= 1) {
    C other = __shfl_xor_sync(0xffffffffu, v, o);
    v = Max ? (other > v ? other : v) : v + other;
  }
  return v;
}

} // namespace mlg_rt::cuda

#endif // MLG_RT_SRC_CUDA_COMMON_CUH

// reduction.cu - reduce_sum, reduce_mean, reduce_max and reduce_min over
// any sorted set of axes.
//
// One block per output element: its threads walk the reduced index space
// (the input seen as kept x reduced dimensions through strides) and combine
// by a block reduction, accumulating in double for sums and means (as the
// CPU backend does). NaN wins in max and min; an empty max or min is an
// error here (the CPU gives the type's extreme value).

#include "common.cuh"

#include <cfloat>

namespace mlg_rt::cuda {
namespace {

constexpr int kMaxRank = 8;
constexpr int kReduceThreads = 256;

/// The kept and reduced dimensions of the input, with its strides.
struct Reduction {
  int kept = 0, reduced = 0;
  int64_t keptDims[kMaxRank], keptStrides[kMaxRank];
  int64_t reducedDims[kMaxRank], reducedStrides[kMaxRank];
  int64_t reducedCount = 1;
};

enum class Red { Sum, Mean, Max, Min };

__device__ __forceinline__ int64_t offsetOf(int64_t i, int n,
                                            const int64_t *dims,
                                            const int64_t *strides) {
  int64_t off = 0;
  for (int d = n - 1; d >= 0; --d) {
    int64_t q = i / dims[d];
    off += (i - q * dims[d]) * strides[d];
    i = q;
  }
  return off;
}

template <Red Op, typename T>
__global__ void reduceKernel(const T *x, T *y, Reduction r) {
  using C = typename Elem<T>::Compute;
  int64_t base = offsetOf(blockIdx.x, r.kept, r.keptDims, r.keptStrides);
  if constexpr (Op == Red::Sum || Op == Red::Mean) {
    double acc = 0;
    for (int64_t j = threadIdx.x; j < r.reducedCount; j += blockDim.x)
      acc += double(Elem<T>::load(
          x[base + offsetOf(j, r.reduced, r.reducedDims, r.reducedStrides)]));
    acc = blockReduce<double>(acc);
    if (threadIdx.x == 0)
      y[blockIdx.x] = Elem<T>::store(
          C(Op == Red::Mean ? (r.reducedCount ? acc / double(r.reducedCount)
                                              : NAN)
                            : acc));
  } else {
    // NaN wins, as on the CPU: carried as a flag beside the extremum.
    double acc = Op == Red::Max ? -INFINITY : INFINITY;
    double nan = 0;
    for (int64_t j = threadIdx.x; j < r.reducedCount; j += blockDim.x) {
      double v = double(Elem<T>::load(
          x[base + offsetOf(j, r.reduced, r.reducedDims, r.reducedStrides)]));
      if (v != v)
        nan = 1;
      else
        acc = Op == Red::Max ? fmax(acc, v) : fmin(acc, v);
    }
    nan = blockReduce<double, true>(nan);
    acc = Op == Red::Max ? blockReduce<double, true>(acc)
                         : -blockReduce<double, true>(-acc);
    if (threadIdx.x == 0)
      y[blockIdx.x] = Elem<T>::store(C(nan > 0 ? NAN : acc));
  }
}

template <Red Op> Status runReduce(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0];
  if (x.rank() > kMaxRank)
    return c.error("the CUDA backend reduces at most ", kMaxRank,
                   " dimensions, got ", x.rank());
  std::vector<bool> mask(size_t(x.rank()), false);
  std::vector<int64_t> axes = *c.attrs().getInts("axes");
  for (int64_t a : axes)
    mask[size_t(a)] = true;
  Reduction r;
  int64_t stride = 1;
  std::vector<int64_t> strides(size_t(x.rank()));
  for (int64_t d = x.rank() - 1; d >= 0; --d) {
    strides[size_t(d)] = stride;
    stride *= x.dim(d);
  }
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (mask[size_t(d)]) {
      r.reducedDims[r.reduced] = x.dim(d);
      r.reducedStrides[r.reduced++] = strides[size_t(d)];
      r.reducedCount *= x.dim(d);
    } else {
      r.keptDims[r.kept] = x.dim(d);
      r.keptStrides[r.kept++] = strides[size_t(d)];
    }
  }
  if (y.numel == 0)
    return Status();
  if (y.numel > int64_t(INT32_MAX))
    return c.error("the CUDA backend reduces into at most 2^31 elements");
  if (Op != Red::Sum && Op != Red::Mean && r.reducedCount == 0)
    return c.error("a max or min over no elements has no value");
  return dispatchFloat(c, y.dtype, [&]<typename T>() -> Status {
    reduceKernel<Op, T><<<unsigned(y.numel), kReduceThreads, 0,
                          ctx.stream>>>(x.as<T>(), y.as<T>(), r);
    return checkLaunch(c, "reduceKernel");
  });
}

} // namespace

void registerReductionKernels(KernelRegistry &r) {
  r.add({"reduce_sum", runReduce<Red::Sum>});
  r.add({"reduce_mean", runReduce<Red::Mean>});
  r.add({"reduce_max", runReduce<Red::Max>});
  r.add({"reduce_min", runReduce<Red::Min>});
}

} // namespace mlg_rt::cuda

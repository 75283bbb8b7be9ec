// training.cu - the losses and optimizer updates on the device.
//
// Softmax cross-entropy takes one block per row (max, then the sum of
// exponentials, by block reductions in double), writes each row's loss into
// backend scratch and sums the rows in a fixed order in one more block, so
// the loss is the same bit for bit from run to run. A label outside the
// classes is reported through the device error word. The updates are
// elementwise over the parameter and its state, with the CPU kernels'
// formulas; Adam reads its step counter on the device.

#include "common.cuh"

namespace mlg_rt::cuda {
namespace {

constexpr int kRowThreads = 256;

__device__ __forceinline__ int64_t labelAt(const void *labels, bool i64,
                                           int64_t r) {
  return i64 ? static_cast<const int64_t *>(labels)[r]
             : static_cast<const int32_t *>(labels)[r];
}

/// The row's max and log-sum-exp in double.
template <typename T>
__device__ void rowStats(const T *row, int64_t classes, double &m,
                         double &logSum) {
  double local = -INFINITY;
  for (int64_t k = threadIdx.x; k < classes; k += blockDim.x)
    local = fmax(local, double(Elem<T>::load(row[k])));
  m = blockReduce<double, true>(local);
  double sum = 0;
  for (int64_t k = threadIdx.x; k < classes; k += blockDim.x)
    sum += exp(double(Elem<T>::load(row[k])) - m);
  logSum = log(blockReduce<double>(sum));
}

template <typename T>
__global__ void crossEntropyRows(const T *logits, const void *labels, bool i64,
                                 int64_t classes, double *rowLoss,
                                 int32_t *error, int32_t step) {
  int64_t r = blockIdx.x;
  const T *row = logits + r * classes;
  double m, logSum;
  rowStats(row, classes, m, logSum);
  if (threadIdx.x == 0) {
    int64_t label = labelAt(labels, i64, r);
    if (label < 0 || label >= classes) {
      failOnDevice(error, kLabelOutOfRange, step);
      rowLoss[r] = 0;
    } else {
      rowLoss[r] = m + logSum - double(Elem<T>::load(row[label]));
    }
  }
}

/// The mean of `n` doubles into `out[0]`, summed in a fixed order.
template <typename T>
__global__ void meanInto(const double *values, int64_t n, T *out) {
  double sum = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    sum += values[i];
  sum = blockReduce<double>(sum);
  if (threadIdx.x == 0) {
    using C = typename Elem<T>::Compute;
    out[0] = Elem<T>::store(C(n ? sum / double(n) : 0.0));
  }
}

Status runSoftmaxCrossEntropy(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &logits = c.in[0], &labels = c.in[1];
  int64_t classes = logits.dim(logits.rank() - 1), rows = labels.numel;
  void *scratch = nullptr;
  MLG_RT_RETURN_IF_ERROR(scratchBuffer(
      c, ctx, uint64_t(std::max<int64_t>(rows, 1)) * sizeof(double),
      &scratch));
  double *rowLoss = static_cast<double *>(scratch);
  return dispatchFloat(c, logits.dtype, [&]<typename T>() -> Status {
    if (rows > 0) {
      crossEntropyRows<T><<<unsigned(rows), kRowThreads, 0, ctx.stream>>>(
          logits.as<T>(), labels.data, labels.dtype == DType::I64, classes,
          rowLoss, ctx.deviceError, int32_t(c.stepIndex));
      MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "crossEntropyRows"));
    }
    meanInto<T><<<1, 1024, 0, ctx.stream>>>(rowLoss, rows, c.out[0].as<T>());
    return checkLaunch(c, "meanInto");
  });
}

/// (softmax(x) - onehot(label)) * dloss / rows; may run in place over the
/// logits: each row's statistics are taken before any of it is written.
template <typename T>
__global__ void crossEntropyBackward(const T *dloss, const T *logits,
                                     const void *labels, bool i64,
                                     int64_t classes, int64_t rows, T *dx,
                                     int32_t *error, int32_t step) {
  using C = typename Elem<T>::Compute;
  int64_t r = blockIdx.x;
  const T *row = logits + r * classes;
  double m, logSum;
  rowStats(row, classes, m, logSum);
  __syncthreads(); // every thread has read the row
  int64_t label = labelAt(labels, i64, r);
  if (label < 0 || label >= classes) {
    if (threadIdx.x == 0)
      failOnDevice(error, kLabelOutOfRange, step);
    return;
  }
  double scale = double(Elem<T>::load(dloss[0])) / double(rows);
  T *out = dx + r * classes;
  for (int64_t k = threadIdx.x; k < classes; k += blockDim.x) {
    double p = exp(double(Elem<T>::load(row[k])) - m - logSum);
    out[k] = Elem<T>::store(C((p - (k == label ? 1.0 : 0.0)) * scale));
  }
}

Status runSoftmaxCrossEntropyBackward(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &logits = c.in[1], &labels = c.in[2];
  int64_t classes = logits.dim(logits.rank() - 1), rows = labels.numel;
  if (rows == 0)
    return Status();
  return dispatchFloat(c, logits.dtype, [&]<typename T>() -> Status {
    crossEntropyBackward<T><<<unsigned(rows), kRowThreads, 0, ctx.stream>>>(
        c.in[0].as<T>(), logits.as<T>(), labels.data,
        labels.dtype == DType::I64, classes, rows, c.out[0].as<T>(),
        ctx.deviceError, int32_t(c.stepIndex));
    return checkLaunch(c, "crossEntropyBackward");
  });
}

template <typename T>
__global__ void squaredErrors(const T *p, const T *t, int64_t n,
                              double *partial) {
  double sum = 0;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += int64_t(blockDim.x) * gridDim.x) {
    double d = double(Elem<T>::load(p[i])) - double(Elem<T>::load(t[i]));
    sum += d * d;
  }
  sum = blockReduce<double>(sum);
  if (threadIdx.x == 0)
    partial[blockIdx.x] = sum;
}

template <typename T>
__global__ void sumDivInto(const double *values, int64_t n, double divisor,
                           T *out) {
  double sum = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x)
    sum += values[i];
  sum = blockReduce<double>(sum);
  if (threadIdx.x == 0) {
    using C = typename Elem<T>::Compute;
    out[0] = Elem<T>::store(C(divisor > 0 ? sum / divisor : 0.0));
  }
}

Status runMseLoss(cpu::KernelCall &c, Context &ctx) {
  int64_t n = c.in[0].numel;
  constexpr unsigned kBlocks = 256;
  void *scratch = nullptr;
  MLG_RT_RETURN_IF_ERROR(
      scratchBuffer(c, ctx, kBlocks * sizeof(double), &scratch));
  double *partial = static_cast<double *>(scratch);
  return dispatchFloat(c, c.in[0].dtype, [&]<typename T>() -> Status {
    squaredErrors<T><<<kBlocks, kThreads, 0, ctx.stream>>>(
        c.in[0].as<T>(), c.in[1].as<T>(), n, partial);
    MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "squaredErrors"));
    sumDivInto<T><<<1, kThreads, 0, ctx.stream>>>(partial, kBlocks, double(n),
                                                   c.out[0].as<T>());
    return checkLaunch(c, "sumDivInto");
  });
}

//===----------------------------------------------------------------------===//
// Optimizer updates
//===----------------------------------------------------------------------===//

struct UpdateParams {
  double lr, weightDecay, momentum, beta1, beta2, epsilon;
  bool nesterov;
};

template <typename T>
__global__ void sgdKernel(const T *g, T *p, int64_t n, UpdateParams u) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(i, n) {
    C w = Elem<T>::load(p[i]);
    C d = C(Elem<T>::load(g[i])) + C(u.weightDecay) * w;
    p[i] = Elem<T>::store(w - C(u.lr) * d);
  }
}

template <typename T>
__global__ void momentumKernel(const T *g, T *p, T *v, int64_t n,
                               UpdateParams u) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(i, n) {
    C w = Elem<T>::load(p[i]);
    C d = C(Elem<T>::load(g[i])) + C(u.weightDecay) * w;
    C vel = C(u.momentum) * C(Elem<T>::load(v[i])) + d;
    v[i] = Elem<T>::store(vel);
    p[i] = Elem<T>::store(w - C(u.lr) *
                                  (u.nesterov ? d + C(u.momentum) * vel : vel));
  }
}

template <typename T>
__global__ void adamKernel(const T *g, const int64_t *stepCounter, T *p, T *m,
                           T *v, int64_t n, UpdateParams u, int32_t *error,
                           int32_t step) {
  using C = typename Elem<T>::Compute;
  int64_t t = stepCounter[0];
  if (t < 1) {
    if (blockIdx.x == 0 && threadIdx.x == 0)
      failOnDevice(error, kStepCounterNotPositive, step);
    return;
  }
  double c1 = 1 - pow(u.beta1, double(t)), c2 = 1 - pow(u.beta2, double(t));
  MLG_CUDA_GRID_LOOP(i, n) {
    C w = Elem<T>::load(p[i]);
    C d = C(Elem<T>::load(g[i])) + C(u.weightDecay) * w;
    C mi = C(u.beta1) * C(Elem<T>::load(m[i])) + C(1 - u.beta1) * d;
    C vi = C(u.beta2) * C(Elem<T>::load(v[i])) + C(1 - u.beta2) * d * d;
    m[i] = Elem<T>::store(mi);
    v[i] = Elem<T>::store(vi);
    C denom = C(sqrt(double(vi) / c2) + u.epsilon);
    p[i] = Elem<T>::store(w - C(u.lr) * (mi / C(c1)) / denom);
  }
}

UpdateParams paramsOf(const cpu::KernelCall &c) {
  const Attributes &a = c.attrs();
  UpdateParams u{};
  u.lr = a.getFloat("lr").value_or(0);
  u.weightDecay = a.getFloat("weight_decay").value_or(0);
  u.momentum = a.getFloat("momentum").value_or(0);
  u.beta1 = a.getFloat("beta1").value_or(0);
  u.beta2 = a.getFloat("beta2").value_or(0);
  u.epsilon = a.getFloat("epsilon").value_or(0);
  u.nesterov = a.getBool("nesterov").value_or(false);
  return u;
}

Status runSgd(cpu::KernelCall &c, Context &ctx) {
  int64_t n = c.in[0].numel;
  if (n == 0)
    return Status();
  return dispatchFloat(c, c.in[0].dtype, [&]<typename T>() -> Status {
    sgdKernel<T><<<blocksFor(n, kThreads, ctx), kThreads, 0, ctx.stream>>>(
        c.in[0].as<T>(), c.out[0].as<T>(), n, paramsOf(c));
    return checkLaunch(c, "sgdKernel");
  });
}

Status runMomentum(cpu::KernelCall &c, Context &ctx) {
  int64_t n = c.in[0].numel;
  if (n == 0)
    return Status();
  return dispatchFloat(c, c.in[0].dtype, [&]<typename T>() -> Status {
    momentumKernel<T><<<blocksFor(n, kThreads, ctx), kThreads, 0,
                        ctx.stream>>>(c.in[0].as<T>(), c.out[0].as<T>(),
                                      c.out[1].as<T>(), n, paramsOf(c));
    return checkLaunch(c, "momentumKernel");
  });
}

Status runAdam(cpu::KernelCall &c, Context &ctx) {
  int64_t n = c.in[0].numel;
  if (n == 0)
    return Status();
  return dispatchFloat(c, c.in[0].dtype, [&]<typename T>() -> Status {
    adamKernel<T><<<blocksFor(n, kThreads, ctx), kThreads, 0, ctx.stream>>>(
        c.in[0].as<T>(), c.in[1].as<int64_t>(), c.out[0].as<T>(),
        c.out[1].as<T>(), c.out[2].as<T>(), n, paramsOf(c), ctx.deviceError,
        int32_t(c.stepIndex));
    return checkLaunch(c, "adamKernel");
  });
}

__global__ void incrementKernel(int64_t *counter) { ++counter[0]; }

Status runIncrementStep(cpu::KernelCall &c, Context &ctx) {
  incrementKernel<<<1, 1, 0, ctx.stream>>>(c.out[0].as<int64_t>());
  return checkLaunch(c, "incrementKernel");
}

} // namespace

void registerTrainingKernels(KernelRegistry &r) {
  r.add({"softmax_cross_entropy", runSoftmaxCrossEntropy});
  r.add({"softmax_cross_entropy_backward", runSoftmaxCrossEntropyBackward});
  r.add({"mse_loss", runMseLoss});
  r.add({"sgd_update", runSgd});
  r.add({"momentum_update", runMomentum});
  r.add({"adam_update", runAdam});
  r.add({"increment_step", runIncrementStep});
}

} // namespace mlg_rt::cuda

// training.cc - losses, optimizer updates, the step counter and copies.
//
// The optimizer kernels update their outputs (persistent parameters and
// state) in place; their inputs are the gradient and, for Adam, the step
// counter. Arithmetic is in double for f32/f64 and in float for f16/bf16
// (Elem<T>::Compute), element by element, so a kernel may run with any
// element order.

#include "common.h"

#include <cmath>
#include <cstring>

namespace mlg_rt::cpu {
namespace {

bool isIndex(DType t) { return t == DType::I32 || t == DType::I64; }

int64_t labelAt(const Tensor &labels, int64_t i) {
  return labels.dtype == DType::I64 ? labels.as<int64_t>()[i]
                                    : labels.as<int32_t>()[i];
}

//===----------------------------------------------------------------------===//
// copy
//===----------------------------------------------------------------------===//

Status checkCopy(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(1, 1, 1));
  if (c.in[0].dtype != c.out[0].dtype || c.in[0].numel != c.out[0].numel)
    return c.error("copies between tensors of different types or sizes");
  return Status();
}

Status runCopy(KernelCall &c) {
  if (c.in[0].data != c.out[0].data)
    std::memmove(c.out[0].data, c.in[0].data,
                 size_t(c.in[0].numel) * dtypeBytes(c.in[0].dtype));
  return Status();
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// logits [..., C] float, labels [...] int, and a rank-0 float (first =
/// the loss or dloss, `grad` the result of the backward).
Status checkClassification(const KernelCall &c, const Tensor &logits,
                           const Tensor &labels) {
  if (!isFloat(logits.dtype) || logits.rank() < 1)
    return c.error("needs float logits with classes on the last axis");
  if (!isIndex(labels.dtype))
    return c.error("needs int32 or int64 labels");
  std::vector<int64_t> outer(logits.shape->begin(), logits.shape->end() - 1);
  if (outer != *labels.shape)
    return c.error("labels do not match the logits without their class axis");
  if (logits.dim(logits.rank() - 1) < 1)
    return c.error("needs at least one class");
  return Status();
}

Status checkScalar(const KernelCall &c, const Tensor &t, DType dtype,
                   const char *what) {
  if (t.dtype != dtype || t.numel != 1 || t.rank() != 0)
    return c.error(what, " must be a rank-0 tensor of the logits' type");
  return Status();
}

Status checkSoftmaxCrossEntropy(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 2, 1));
  MLG_RT_RETURN_IF_ERROR(checkClassification(c, c.in[0], c.in[1]));
  return checkScalar(c, c.out[0], c.in[0].dtype, "the loss");
}

/// Label positions must hold classes in [0, C); anything else is an error
/// at run time (the labels are data).
Status checkLabels(const KernelCall &c, const Tensor &labels, int64_t classes) {
  for (int64_t i = 0; i < labels.numel; ++i) {
    int64_t l = labelAt(labels, i);
    if (l < 0 || l >= classes)
      return c.error("label ", l, " at position ", i, " is not a class in [0, ",
                     classes, ")");
  }
  return Status();
}

Status runSoftmaxCrossEntropy(KernelCall &c) {
  const Tensor &logits = c.in[0], &labels = c.in[1];
  int64_t classes = logits.dim(logits.rank() - 1);
  int64_t rows = labels.numel;
  MLG_RT_RETURN_IF_ERROR(checkLabels(c, labels, classes));
  return dispatchFloat(logits.dtype, [&]<typename T>() {
    const T *x = logits.as<T>();
    double total = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const T *row = x + r * classes;
      double m = -INFINITY;
      for (int64_t k = 0; k < classes; ++k)
        m = std::max(m, double(Elem<T>::load(row[k])));
      double sum = 0;
      for (int64_t k = 0; k < classes; ++k)
        sum += std::exp(double(Elem<T>::load(row[k])) - m);
      total +=
          m + std::log(sum) - double(Elem<T>::load(row[labelAt(labels, r)]));
    }
    using C = typename Elem<T>::Compute;
    c.out[0].as<T>()[0] = Elem<T>::store(C(rows ? total / rows : 0.0));
    return Status();
  });
}

Status checkSoftmaxCrossEntropyBackward(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(3, 3, 1));
  MLG_RT_RETURN_IF_ERROR(checkClassification(c, c.in[1], c.in[2]));
  MLG_RT_RETURN_IF_ERROR(checkScalar(c, c.in[0], c.in[1].dtype, "dloss"));
  if (c.out[0].dtype != c.in[1].dtype || !sameShape(c.out[0], c.in[1]))
    return c.error("the gradient must have the logits' type and shape");
  return Status();
}

/// (softmax(x) - onehot(label)) * dloss / rows. May run in place over the
/// logits (each row is read before it is written).
Status runSoftmaxCrossEntropyBackward(KernelCall &c) {
  const Tensor &logits = c.in[1], &labels = c.in[2];
  int64_t classes = logits.dim(logits.rank() - 1);
  int64_t rows = labels.numel;
  MLG_RT_RETURN_IF_ERROR(checkLabels(c, labels, classes));
  return dispatchFloat(logits.dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    double scale = double(Elem<T>::load(c.in[0].as<T>()[0])) /
                   double(std::max<int64_t>(rows, 1));
    const T *x = logits.as<T>();
    T *dx = c.out[0].as<T>();
    std::vector<double> p(classes);
    for (int64_t r = 0; r < rows; ++r) {
      const T *row = x + r * classes;
      double m = -INFINITY;
      for (int64_t k = 0; k < classes; ++k)
        m = std::max(m, double(Elem<T>::load(row[k])));
      double sum = 0;
      for (int64_t k = 0; k < classes; ++k)
        sum += p[k] = std::exp(double(Elem<T>::load(row[k])) - m);
      int64_t label = labelAt(labels, r);
      for (int64_t k = 0; k < classes; ++k)
        dx[r * classes + k] =
            Elem<T>::store(C((p[k] / sum - (k == label)) * scale));
    }
    return Status();
  });
}

Status checkMseLoss(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 2, 1));
  if (!isFloat(c.in[0].dtype) || c.in[1].dtype != c.in[0].dtype ||
      !sameShape(c.in[0], c.in[1]))
    return c.error("needs a float prediction and a target of its type and "
                   "shape");
  return checkScalar(c, c.out[0], c.in[0].dtype, "the loss");
}

Status runMseLoss(KernelCall &c) {
  return dispatchFloat(c.in[0].dtype, [&]<typename T>() {
    const T *p = c.in[0].as<T>(), *t = c.in[1].as<T>();
    double total = 0;
    for (int64_t i = 0; i < c.in[0].numel; ++i) {
      double d = double(Elem<T>::load(p[i])) - double(Elem<T>::load(t[i]));
      total += d * d;
    }
    using C = typename Elem<T>::Compute;
    c.out[0].as<T>()[0] =
        Elem<T>::store(C(c.in[0].numel ? total / c.in[0].numel : 0.0));
    return Status();
  });
}

//===----------------------------------------------------------------------===//
// Optimizer updates
//===----------------------------------------------------------------------===//

/// The gradient (input 0) and every written tensor (outputs) share one
/// float type and shape.
Status checkUpdate(const KernelCall &c, size_t numIn, size_t numOut,
                   std::initializer_list<const char *> attrs) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(numIn, numIn, numOut));
  const Tensor &g = c.in[0];
  if (!isFloat(g.dtype))
    return c.error("needs a floating-point gradient");
  for (const Tensor &t : c.out)
    if (t.dtype != g.dtype || !sameShape(t, g))
      return c.error("updates a tensor of another type or shape than its "
                     "gradient");
  for (const char *name : attrs)
    if (!c.attrs().getFloat(name))
      return c.error("needs the attribute '", name, "'");
  return Status();
}

Status checkSgd(const KernelCall &c) {
  return checkUpdate(c, 1, 1, {"lr", "weight_decay"});
}

Status runSgd(KernelCall &c) {
  double lr = *c.attrs().getFloat("lr");
  double wd = *c.attrs().getFloat("weight_decay");
  return dispatchFloat(c.in[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    const T *g = c.in[0].as<T>();
    T *p = c.out[0].as<T>();
    for (int64_t i = 0; i < c.in[0].numel; ++i) {
      C w = Elem<T>::load(p[i]);
      C d = Elem<T>::load(g[i]) + C(wd) * w;
      p[i] = Elem<T>::store(w - C(lr) * d);
    }
    return Status();
  });
}

Status checkMomentum(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(
      checkUpdate(c, 1, 2, {"lr", "momentum", "weight_decay"}));
  if (!c.attrs().getBool("nesterov"))
    return c.error("needs the attribute 'nesterov'");
  return Status();
}

Status runMomentum(KernelCall &c) {
  double lr = *c.attrs().getFloat("lr");
  double mu = *c.attrs().getFloat("momentum");
  double wd = *c.attrs().getFloat("weight_decay");
  bool nesterov = *c.attrs().getBool("nesterov");
  return dispatchFloat(c.in[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    const T *g = c.in[0].as<T>();
    T *p = c.out[0].as<T>(), *v = c.out[1].as<T>();
    for (int64_t i = 0; i < c.in[0].numel; ++i) {
      C w = Elem<T>::load(p[i]);
      C d = Elem<T>::load(g[i]) + C(wd) * w;
      C vel = C(mu) * Elem<T>::load(v[i]) + d;
      v[i] = Elem<T>::store(vel);
      p[i] = Elem<T>::store(w - C(lr) * (nesterov ? d + C(mu) * vel : vel));
    }
    return Status();
  });
}

Status checkAdam(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(checkUpdate(
      c, 2, 3, {"lr", "beta1", "beta2", "epsilon", "weight_decay"}));
  if (c.in[1].dtype != DType::I64 || c.in[1].numel != 1)
    return c.error("needs an int64 step counter");
  return Status();
}

Status runAdam(KernelCall &c) {
  double lr = *c.attrs().getFloat("lr");
  double b1 = *c.attrs().getFloat("beta1");
  double b2 = *c.attrs().getFloat("beta2");
  double eps = *c.attrs().getFloat("epsilon");
  double wd = *c.attrs().getFloat("weight_decay");
  int64_t t = c.in[1].as<int64_t>()[0];
  if (t < 1)
    return c.error("the step counter is ", t,
                   "; increment_step must run first");
  double c1 = 1 - std::pow(b1, double(t)), c2 = 1 - std::pow(b2, double(t));
  return dispatchFloat(c.in[0].dtype, [&]<typename T>() {
    using C = typename Elem<T>::Compute;
    const T *g = c.in[0].as<T>();
    T *p = c.out[0].as<T>(), *m = c.out[1].as<T>(), *v = c.out[2].as<T>();
    for (int64_t i = 0; i < c.in[0].numel; ++i) {
      C w = Elem<T>::load(p[i]);
      C d = Elem<T>::load(g[i]) + C(wd) * w;
      C mi = C(b1) * Elem<T>::load(m[i]) + C(1 - b1) * d;
      C vi = C(b2) * Elem<T>::load(v[i]) + C(1 - b2) * d * d;
      m[i] = Elem<T>::store(mi);
      v[i] = Elem<T>::store(vi);
      C denom = C(std::sqrt(double(vi) / c2) + eps);
      p[i] = Elem<T>::store(w - C(lr) * (mi / C(c1)) / denom);
    }
    return Status();
  });
}

Status checkIncrementStep(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(0, 0, 1));
  if (c.out[0].dtype != DType::I64 || c.out[0].numel != 1)
    return c.error("needs an int64 counter");
  return Status();
}

Status runIncrementStep(KernelCall &c) {
  ++c.out[0].as<int64_t>()[0];
  return Status();
}

} // namespace

void registerTrainingKernels(KernelRegistry &r) {
  r.add({"copy", checkCopy, runCopy});
  // Between the arena and the host pool (the loader checks which is which).
  r.add({"offload", checkCopy, runCopy});
  r.add({"prefetch", checkCopy, runCopy});
  r.add({"softmax_cross_entropy", checkSoftmaxCrossEntropy,
         runSoftmaxCrossEntropy});
  r.add({"softmax_cross_entropy_backward", checkSoftmaxCrossEntropyBackward,
         runSoftmaxCrossEntropyBackward});
  r.add({"mse_loss", checkMseLoss, runMseLoss});
  r.add({"sgd_update", checkSgd, runSgd});
  r.add({"momentum_update", checkMomentum, runMomentum});
  r.add({"adam_update", checkAdam, runAdam});
  r.add({"increment_step", checkIncrementStep, runIncrementStep});
}

} // namespace mlg_rt::cpu

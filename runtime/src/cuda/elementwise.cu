// elementwise.cu - elementwise CUDA kernels: unary maps (with the CPU
// backend's attributes and defaults), clip, the arithmetic ops, pow, the
// comparisons and the logical ops with NumPy broadcasting, expand, copy,
// stack and unstack, and the activation and clip backwards.
//
// One thread per output element in a grid-stride loop; a broadcast operand
// is read through strides that are 0 along its broadcast dimensions, so one
// kernel serves every shape pair, its coordinates found by fixed-divisor
// division where the output has fewer than 2^31 elements. Operands of the
// output's shape are read and written 16 bytes at a time where the pointers
// allow. f16 and bf16 compute in float, as on the CPU backend.

#include "common.cuh"

#include <algorithm>
#include <cmath>

namespace mlg_rt::cuda {
namespace {

constexpr int kMaxRank = 8;

/// The output's dimensions and each operand's strides over them (0 where
/// the operand is broadcast).
struct Broadcast {
  int rank = 0;
  int64_t dims[kMaxRank];
  int64_t stride[2][kMaxRank];
  /// Fewer than 2^31 output elements: dims divide through `div`.
  bool narrow = false;
  FastDiv div[kMaxRank];
};

/// Right-aligned NumPy broadcasting of `operands` to `out`.
Status broadcastOf(const cpu::KernelCall &c, const cpu::Tensor &out,
                   std::initializer_list<const cpu::Tensor *> operands,
                   Broadcast &b) {
  if (out.rank() > kMaxRank)
    return c.error("the CUDA backend broadcasts at most ", kMaxRank,
                   " dimensions, got ", out.rank());
  b.rank = int(out.rank());
  b.narrow = out.numel < int64_t(INT32_MAX);
  for (int d = 0; d < b.rank; ++d) {
    b.dims[d] = out.dim(d);
    if (b.narrow && b.dims[d] > 0)
      b.div[d] = FastDiv(uint32_t(b.dims[d]));
  }
  int k = 0;
  for (const cpu::Tensor *t : operands) {
    int64_t stride = 1;
    for (int d = b.rank - 1; d >= 0; --d) {
      int64_t td = d - (b.rank - int(t->rank()));
      int64_t size = td >= 0 ? t->dim(td) : 1;
      b.stride[k][d] = size == 1 ? 0 : stride;
      stride *= size;
    }
    ++k;
  }
  return Status();
}

__device__ __forceinline__ void offsetsOf(const Broadcast &b, int64_t i,
                                          int64_t &a, int64_t &c) {
  a = 0;
  c = 0;
  if (b.narrow) {
    uint32_t j = uint32_t(i);
    for (int d = b.rank - 1; d >= 0; --d) {
      uint32_t q = b.div[d].div(j), r = j - q * uint32_t(b.dims[d]);
      a += int64_t(r) * b.stride[0][d];
      c += int64_t(r) * b.stride[1][d];
      j = q;
    }
    return;
  }
  for (int d = b.rank - 1; d >= 0; --d) {
    int64_t q = i / b.dims[d], r = i - q * b.dims[d];
    a += r * b.stride[0][d];
    c += r * b.stride[1][d];
    i = q;
  }
}

/// y[i] = f(a[i], b[i]) for i in [0, n), 16 bytes at a time (the pointers
/// aligned for it), the tail element by element; y may alias a or b (each
/// element is read before it is written, by one thread).
template <typename T, typename F>
__global__ void vectorMapKernel(const T *a, const T *b, T *y, int64_t n,
                                F f) {
  using V = Vec16<T>;
  const int64_t vectors = n / V::size;
  MLG_CUDA_GRID_LOOP(i, vectors) {
    V va = reinterpret_cast<const V *>(a)[i];
    V vb = reinterpret_cast<const V *>(b)[i];
#pragma unroll
    for (int e = 0; e < V::size; ++e)
      va.v[e] = f(va.v[e], vb.v[e]);
    reinterpret_cast<V *>(y)[i] = va;
  }
  if (blockIdx.x == 0)
    for (int64_t i = vectors * V::size + threadIdx.x; i < n; i += blockDim.x)
      y[i] = f(a[i], b[i]);
}

/// Launches vectorMapKernel over the same-shaped `a`, `b` and `y` (b may be
/// a), if their pointers allow 16-byte accesses; false otherwise.
template <typename T, typename F>
bool launchVectorMap(const T *a, const T *b, T *y, int64_t n, F f,
                     Context &ctx) {
  if (!aligned16({a, b, y}))
    return false;
  int64_t vectors = std::max<int64_t>(n / Vec16<T>::size, 1);
  vectorMapKernel<T, F><<<blocksFor(vectors, kThreads, ctx), kThreads, 0,
                          ctx.stream>>>(a, b, y, n, f);
  return true;
}

enum class Arith { Add, Sub, Mul, Div, Max, Min };

template <Arith Op, typename C> __device__ __forceinline__ C arith(C a, C b) {
  if constexpr (Op == Arith::Add)
    return a + b;
  else if constexpr (Op == Arith::Sub)
    return a - b;
  else if constexpr (Op == Arith::Mul)
    return a * b;
  else if constexpr (Op == Arith::Div)
    return a / b;
  // max/min propagate NaN, as the CPU's do.
  else if constexpr (Op == Arith::Max)
    return (a != a || b != b) ? a + b : (a > b ? a : b);
  else
    return (a != a || b != b) ? a + b : (a < b ? a : b);
}

template <Arith Op, typename T> struct ArithFn {
  __device__ __forceinline__ T operator()(T a, T b) const {
    using C = typename Elem<T>::Compute;
    return Elem<T>::store(
        arith<Op, C>(C(Elem<T>::load(a)), C(Elem<T>::load(b))));
  }
};

/// y[i] = f(a[ia], b[ib]) with NumPy broadcasting (`same`: no operand is
/// broadcast).
template <typename T, typename O, typename F>
__global__ void binaryKernel(const T *a, const T *b, O *y, int64_t n,
                             Broadcast bc, bool same, F f) {
  MLG_CUDA_GRID_LOOP(i, n) {
    int64_t ia = i, ib = i;
    if (!same)
      offsetsOf(bc, i, ia, ib);
    y[i] = f(a[ia], b[ib]);
  }
}

bool sameShape(const cpu::Tensor &a, const cpu::Tensor &b) {
  return *a.shape == *b.shape;
}

template <Arith Op> Status runArith(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &a = c.in[0], &b = c.in[1], &y = c.out[0];
  if (y.numel == 0)
    return Status();
  Broadcast bc;
  MLG_RT_RETURN_IF_ERROR(broadcastOf(c, y, {&a, &b}, bc));
  bool same = sameShape(a, y) && sameShape(b, y);
  return dispatchFloat(c, y.dtype, [&]<typename T>() -> Status {
    if (same && launchVectorMap(a.as<T>(), b.as<T>(), y.as<T>(), y.numel,
                                ArithFn<Op, T>(), ctx))
      return checkLaunch(c, "vectorMapKernel");
    binaryKernel<<<blocksFor(y.numel, kThreads, ctx), kThreads, 0,
                   ctx.stream>>>(a.as<T>(), b.as<T>(), y.as<T>(), y.numel, bc,
                                 same, ArithFn<Op, T>());
    return checkLaunch(c, "binaryKernel");
  });
}

enum class Unary {
  Relu, Neg, Abs, Sqrt, Exp, Log, Tanh, Sigmoid, Reciprocal, Erf, Sin, Cos,
  LeakyRelu, Elu, Selu, HardSigmoid, Softplus, Softsign, Floor, Ceil, Round
};

/// A unary op's float attributes (alpha, beta, gamma), read as the CPU
/// backend reads them, with its defaults.
struct UnaryParams {
  double alpha = 0, beta = 0, gamma = 0;
};

template <Unary Op> UnaryParams unaryParams(const cpu::KernelCall &c) {
  auto get = [&](const char *name, double dflt) {
    return c.attrs().getFloat(name).value_or(dflt);
  };
  UnaryParams p;
  if constexpr (Op == Unary::LeakyRelu)
    p.alpha = get("alpha", 0.01);
  else if constexpr (Op == Unary::Elu)
    p.alpha = get("alpha", 1.0);
  else if constexpr (Op == Unary::Selu) {
    p.alpha = get("alpha", 1.6732632423543772);
    p.gamma = get("gamma", 1.0507009873554805);
  } else if constexpr (Op == Unary::HardSigmoid) {
    p.alpha = get("alpha", 0.2);
    p.beta = get("beta", 0.5);
  }
  return p;
}

template <Unary Op, typename C>
__device__ __forceinline__ C unary(C x, const UnaryParams &p) {
  if constexpr (Op == Unary::LeakyRelu)
    return x < C(0) ? C(p.alpha) * x : x;
  else if constexpr (Op == Unary::Elu)
    return x < C(0) ? C(p.alpha) * expm1(x) : x;
  else if constexpr (Op == Unary::Selu)
    return C(p.gamma) * (x <= C(0) ? C(p.alpha) * expm1(x) : x);
  else if constexpr (Op == Unary::HardSigmoid) {
    // As std::max(0, std::min(1, v)) on the CPU (NaN gives 1).
    C v = C(p.alpha) * x + C(p.beta);
    C m = v < C(1) ? v : C(1);
    return C(0) < m ? m : C(0);
  } else if constexpr (Op == Unary::Softplus)
    return x > C(20) ? x : log1p(exp(x));
  else if constexpr (Op == Unary::Softsign)
    return x / (C(1) + (x < C(0) ? -x : x));
  else if constexpr (Op == Unary::Floor)
    return floor(x);
  else if constexpr (Op == Unary::Ceil)
    return ceil(x);
  else if constexpr (Op == Unary::Round)
    return rint(x); // half to even, as std::nearbyint
  else if constexpr (Op == Unary::Relu)
    return x > C(0) ? x : (x != x ? x : C(0));
  else if constexpr (Op == Unary::Neg)
    return -x;
  else if constexpr (Op == Unary::Abs)
    return x < C(0) ? -x : x;
  else if constexpr (Op == Unary::Sqrt)
    return sqrt(x);
  else if constexpr (Op == Unary::Exp)
    return exp(x);
  else if constexpr (Op == Unary::Log)
    return log(x);
  else if constexpr (Op == Unary::Tanh)
    return tanh(x);
  else if constexpr (Op == Unary::Sigmoid)
    return C(1) / (C(1) + exp(-x));
  else if constexpr (Op == Unary::Reciprocal)
    return C(1) / x;
  else if constexpr (Op == Unary::Erf)
    return erf(x);
  else if constexpr (Op == Unary::Sin)
    return sin(x);
  else
    return cos(x);
}

template <Unary Op, typename T> struct UnaryFn {
  UnaryParams p;
  __device__ __forceinline__ T operator()(T x, T) const {
    using C = typename Elem<T>::Compute;
    return Elem<T>::store(unary<Op, C>(C(Elem<T>::load(x)), p));
  }
};

template <Unary Op, typename T>
__global__ void unaryKernel(const T *x, T *y, int64_t n, UnaryParams p) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(i, n) {
    y[i] = Elem<T>::store(unary<Op, C>(C(Elem<T>::load(x[i])), p));
  }
}

template <Unary Op> Status runUnary(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0];
  if (y.numel == 0)
    return Status();
  UnaryParams p = unaryParams<Op>(c);
  return dispatchFloat(c, y.dtype, [&]<typename T>() -> Status {
    if (launchVectorMap(x.as<T>(), x.as<T>(), y.as<T>(), y.numel,
                        UnaryFn<Op, T>{p}, ctx))
      return checkLaunch(c, "vectorMapKernel");
    unaryKernel<Op, T>
        <<<blocksFor(y.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
            x.as<T>(), y.as<T>(), y.numel, p);
    return checkLaunch(c, "unaryKernel");
  });
}

/// The comparisons (operands of one type, any type) and the logical ops
/// (bool operands) into bool, with broadcasting; `not` is a unary map of
/// bools.
enum class Compare { Eq, Lt, Le, Gt, Ge, And, Or, Xor };

template <Compare Op, typename C>
__device__ __forceinline__ uint8_t compare(C a, C b) {
  if constexpr (Op == Compare::Eq)
    return a == b;
  else if constexpr (Op == Compare::Lt)
    return a < b;
  else if constexpr (Op == Compare::Le)
    return a <= b;
  else if constexpr (Op == Compare::Gt)
    return a > b;
  else if constexpr (Op == Compare::Ge)
    return a >= b;
  else if constexpr (Op == Compare::And)
    return a && b;
  else if constexpr (Op == Compare::Or)
    return a || b;
  else
    return bool(a) != bool(b);
}

template <Compare Op, typename T> struct CompareFn {
  __device__ __forceinline__ uint8_t operator()(T a, T b) const {
    using C = typename Elem<T>::Compute;
    return compare<Op, C>(C(Elem<T>::load(a)), C(Elem<T>::load(b)));
  }
};

template <Compare Op> Status runCompare(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &a = c.in[0], &b = c.in[1], &y = c.out[0];
  if (y.numel == 0)
    return Status();
  Broadcast bc;
  MLG_RT_RETURN_IF_ERROR(broadcastOf(c, y, {&a, &b}, bc));
  bool same = sameShape(a, y) && sameShape(b, y);
  return dispatchAnyType(c, a.dtype, [&]<typename T>() -> Status {
    binaryKernel<<<blocksFor(y.numel, kThreads, ctx), kThreads, 0,
                   ctx.stream>>>(a.as<T>(), b.as<T>(), y.as<uint8_t>(),
                                 y.numel, bc, same, CompareFn<Op, T>());
    return checkLaunch(c, "binaryKernel");
  });
}

__global__ void notKernel(const uint8_t *x, uint8_t *y, int64_t n) {
  MLG_CUDA_GRID_LOOP(i, n) { y[i] = !x[i]; }
}

Status runNot(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &y = c.out[0];
  if (y.numel == 0)
    return Status();
  notKernel<<<blocksFor(y.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
      c.in[0].as<uint8_t>(), y.as<uint8_t>(), y.numel);
  return checkLaunch(c, "notKernel");
}

enum class Backward { Relu, Sigmoid, Tanh };

/// dx from dy and the forward's output y.
template <Backward Op, typename T> struct BackwardFn {
  __device__ __forceinline__ T operator()(T dy, T v) const {
    using C = typename Elem<T>::Compute;
    C g = Elem<T>::load(dy), y = Elem<T>::load(v);
    C r;
    if constexpr (Op == Backward::Relu)
      r = y > C(0) ? g : C(0);
    else if constexpr (Op == Backward::Sigmoid)
      r = g * y * (C(1) - y);
    else
      r = g * (C(1) - y * y);
    return Elem<T>::store(r);
  }
};

template <Backward Op, typename T>
__global__ void activationBackwardKernel(const T *dy, const T *v, T *dx,
                                         int64_t n) {
  MLG_CUDA_GRID_LOOP(i, n) { dx[i] = BackwardFn<Op, T>()(dy[i], v[i]); }
}

template <Backward Op>
Status runActivationBackward(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dx = c.out[0];
  if (dx.numel == 0)
    return Status();
  return dispatchFloat(c, dx.dtype, [&]<typename T>() -> Status {
    if (launchVectorMap(c.in[0].as<T>(), c.in[1].as<T>(), dx.as<T>(),
                        dx.numel, BackwardFn<Op, T>(), ctx))
      return checkLaunch(c, "vectorMapKernel");
    activationBackwardKernel<Op, T>
        <<<blocksFor(dx.numel, kThreads, ctx), kThreads, 0, ctx.stream>>>(
            c.in[0].as<T>(), c.in[1].as<T>(), dx.as<T>(), dx.numel);
    return checkLaunch(c, "activationBackwardKernel");
  });
}

/// expand: the input broadcast to the output's shape, any element type
/// (copied as bytes of its width).
template <typename W>
__global__ void expandKernel(const W *x, W *y, int64_t n, Broadcast bc) {
  MLG_CUDA_GRID_LOOP(i, n) {
    int64_t ix, unused;
    offsetsOf(bc, i, ix, unused);
    y[i] = x[ix];
  }
}

Status runExpand(cpu::KernelCall &c, Context &ctx) {
  return broadcastInto(c, ctx, c.in[0], c.out[0]);
}

/// copy: the operand's bytes into the result (a state store, a view made
/// real).
Status runCopy(cpu::KernelCall &c, Context &ctx) {
  uint64_t bytes = uint64_t(c.out[0].numel) * dtypeBytes(c.out[0].dtype);
  if (bytes && c.in[0].data != c.out[0].data)
    MLG_CUDA_TRY(c, cudaMemcpyAsync(c.out[0].data, c.in[0].data, bytes,
                                    cudaMemcpyDeviceToDevice, ctx.stream));
  return Status();
}

/// offload and prefetch: an arena tensor into the pinned host pool and back,
/// on the step's stream (a copy engine works while kernels run elsewhere).
Status runHostCopy(cpu::KernelCall &c, Context &ctx) {
  uint64_t bytes = uint64_t(c.out[0].numel) * dtypeBytes(c.out[0].dtype);
  if (bytes)
    MLG_CUDA_TRY(c, cudaMemcpyAsync(c.out[0].data, c.in[0].data, bytes,
                                    cudaMemcpyDefault, ctx.stream));
  return Status();
}

/// clip: NaN passes; a missing bound is unbounded.
template <typename T>
__global__ void clipKernel(const T *x, T *y, int64_t n, double lo, double hi) {
  using C = typename Elem<T>::Compute;
  C l = C(lo), h = C(hi);
  MLG_CUDA_GRID_LOOP(i, n) {
    C v = Elem<T>::load(x[i]);
    y[i] = Elem<T>::store(v < l ? l : (v > h ? h : v));
  }
}

Status runClip(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &x = c.in[0], &y = c.out[0];
  double lo = c.attrs().getFloat("min").value_or(-INFINITY);
  double hi = c.attrs().getFloat("max").value_or(INFINITY);
  if (y.numel == 0)
    return Status();
  return dispatchFloat(c, y.dtype, [&]<typename T>() -> Status {
    clipKernel<T><<<blocksFor(y.numel, kThreads, ctx), kThreads, 0,
                    ctx.stream>>>(x.as<T>(), y.as<T>(), y.numel, lo, hi);
    return checkLaunch(c, "clipKernel");
  });
}

/// clip_backward: dy where the forward's input lay within the bounds
/// (inclusive, as the CPU compares them), else 0.
template <typename T>
__global__ void clipBackwardKernel(const T *dy, const T *x, T *dx, int64_t n,
                                   double lo, double hi) {
  using C = typename Elem<T>::Compute;
  C l = C(lo), h = C(hi);
  MLG_CUDA_GRID_LOOP(i, n) {
    C v = Elem<T>::load(x[i]);
    dx[i] = v >= l && v <= h ? dy[i] : Elem<T>::store(C(0));
  }
}

Status runClipBackward(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &dx = c.out[0];
  double lo = c.attrs().getFloat("min").value_or(-INFINITY);
  double hi = c.attrs().getFloat("max").value_or(INFINITY);
  if (dx.numel == 0)
    return Status();
  return dispatchFloat(c, dx.dtype, [&]<typename T>() -> Status {
    clipBackwardKernel<T><<<blocksFor(dx.numel, kThreads, ctx), kThreads, 0,
                            ctx.stream>>>(c.in[0].as<T>(), c.in[1].as<T>(),
                                          dx.as<T>(), dx.numel, lo, hi);
    return checkLaunch(c, "clipBackwardKernel");
  });
}

/// An exponent of any float or integer type, as a double.
__device__ __forceinline__ double exponentAt(const void *p, DType t,
                                             int64_t i) {
  switch (t) {
  case DType::F64:
    return static_cast<const double *>(p)[i];
  case DType::F16:
    return __half2float(static_cast<const __half *>(p)[i]);
  case DType::BF16:
    return __bfloat162float(static_cast<const __nv_bfloat16 *>(p)[i]);
  case DType::I64:
    return double(static_cast<const int64_t *>(p)[i]);
  case DType::I32:
    return double(static_cast<const int32_t *>(p)[i]);
  default:
    return static_cast<const float *>(p)[i];
  }
}

/// pow in double, as the CPU computes it, for a float base.
template <typename T>
__global__ void powKernel(const T *a, const void *b, DType bt, T *y, int64_t n,
                          Broadcast bc) {
  using C = typename Elem<T>::Compute;
  MLG_CUDA_GRID_LOOP(i, n) {
    int64_t ia, ib;
    offsetsOf(bc, i, ia, ib);
    y[i] = Elem<T>::store(
        C(pow(double(Elem<T>::load(a[ia])), exponentAt(b, bt, ib))));
  }
}

Status runPow(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &a = c.in[0], &b = c.in[1], &y = c.out[0];
  if (y.numel == 0)
    return Status();
  DType bt = b.dtype;
  if (bt != DType::F32 && bt != DType::F64 && bt != DType::F16 &&
      bt != DType::BF16 && bt != DType::I64 && bt != DType::I32)
    return c.error("the CUDA backend's pow takes float, int32 or int64 "
                   "exponents, got ",
                   dtypeName(bt));
  Broadcast bc;
  MLG_RT_RETURN_IF_ERROR(broadcastOf(c, y, {&a, &b}, bc));
  return dispatchFloat(c, y.dtype, [&]<typename T>() -> Status {
    powKernel<T><<<blocksFor(y.numel, kThreads, ctx), kThreads, 0,
                   ctx.stream>>>(a.as<T>(), b.data, bt, y.as<T>(), y.numel,
                                 bc);
    return checkLaunch(c, "powKernel");
  });
}

/// unstack: result k is the k-th contiguous piece of the operand; stack the
/// reverse. Both are copies of whole pieces.
/// Up to this many pieces' addresses travel in one launch's parameters
/// (2 KiB of the 4 KiB every CUDA version allows).
constexpr int kPiecesPerLaunch = 256;
struct PieceTable {
  void *piece[kPiecesPerLaunch];
};

/// Copies between the pieces of `table` (all `words` V long) and the whole
/// they make at `whole` (piece k at word k * words): into the whole when
/// `stack`, out of it otherwise. Block row y is piece y.
template <typename V>
__global__ void copyPieces(PieceTable table, V *whole, int64_t words,
                           bool stack) {
  V *piece = static_cast<V *>(table.piece[blockIdx.y]);
  V *slot = whole + int64_t(blockIdx.y) * words;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < words;
       e += int64_t(gridDim.x) * blockDim.x) {
    if (stack)
      slot[e] = piece[e];
    else
      piece[e] = slot[e];
  }
}

/// stack and unstack: one kernel a kPiecesPerLaunch pieces (LSTM sequences
/// have thousands; a copy call each cost more than the bytes), 16, 4 or 1
/// bytes at a time as sizes and addresses allow.
Status copyPiecesOf(cpu::KernelCall &c, Context &ctx,
                    const std::vector<cpu::Tensor> &pieces, void *whole,
                    bool stack) {
  if (pieces.empty())
    return Status();
  uint64_t bytes = uint64_t(pieces[0].numel) * dtypeBytes(pieces[0].dtype);
  if (bytes == 0)
    return Status();
  uintptr_t bits = uintptr_t(whole) | uintptr_t(bytes);
  for (const cpu::Tensor &p : pieces)
    bits |= uintptr_t(p.data);
  int width = bits % 16 == 0 ? 16 : bits % 4 == 0 ? 4 : 1;
  int64_t words = int64_t(bytes / uint64_t(width));
  for (size_t first = 0; first < pieces.size(); first += kPiecesPerLaunch) {
    size_t count = std::min<size_t>(kPiecesPerLaunch, pieces.size() - first);
    // About 32 blocks a multiprocessor in all, at most one a word's
    // kThreads.
    int64_t sms = ctx.multiprocessors > 0 ? ctx.multiprocessors : 132;
    unsigned blocksX = unsigned(std::clamp<int64_t>(
        (32 * sms + int64_t(count) - 1) / int64_t(count), 1,
        (words + kThreads - 1) / kThreads));
    PieceTable table{};
    for (size_t k = 0; k < count; ++k)
      table.piece[k] = pieces[first + k].data;
    uint8_t *at = static_cast<uint8_t *>(whole) + first * bytes;
    dim3 grid(blocksX, unsigned(count));
    switch (width) {
    case 16:
      copyPieces<<<grid, kThreads, 0, ctx.stream>>>(
          table, reinterpret_cast<uint4 *>(at), words, stack);
      break;
    case 4:
      copyPieces<<<grid, kThreads, 0, ctx.stream>>>(
          table, reinterpret_cast<uint32_t *>(at), words, stack);
      break;
    default:
      copyPieces<<<grid, kThreads, 0, ctx.stream>>>(table, at, words, stack);
    }
    MLG_RT_RETURN_IF_ERROR(checkLaunch(c, "copyPieces"));
  }
  return Status();
}

Status runUnstack(cpu::KernelCall &c, Context &ctx) {
  return copyPiecesOf(c, ctx, c.out, c.in[0].data, /*stack=*/false);
}

Status runStack(cpu::KernelCall &c, Context &ctx) {
  return copyPiecesOf(c, ctx, c.in, c.out[0].data, /*stack=*/true);
}

} // namespace

Status broadcastInto(const cpu::KernelCall &c, Context &ctx,
                     const cpu::Tensor &x, const cpu::Tensor &y) {
  if (y.numel == 0)
    return Status();
  Broadcast bc;
  MLG_RT_RETURN_IF_ERROR(broadcastOf(c, y, {&x, &x}, bc));
  unsigned blocks = blocksFor(y.numel, kThreads, ctx);
  switch (dtypeBytes(y.dtype)) {
  case 1:
    expandKernel<<<blocks, kThreads, 0, ctx.stream>>>(
        x.as<uint8_t>(), y.as<uint8_t>(), y.numel, bc);
    break;
  case 2:
    expandKernel<<<blocks, kThreads, 0, ctx.stream>>>(
        x.as<uint16_t>(), y.as<uint16_t>(), y.numel, bc);
    break;
  case 4:
    expandKernel<<<blocks, kThreads, 0, ctx.stream>>>(
        x.as<uint32_t>(), y.as<uint32_t>(), y.numel, bc);
    break;
  case 8:
    expandKernel<<<blocks, kThreads, 0, ctx.stream>>>(
        x.as<uint64_t>(), y.as<uint64_t>(), y.numel, bc);
    break;
  default:
    return c.error("the CUDA backend cannot expand ", dtypeName(y.dtype));
  }
  return checkLaunch(c, "expandKernel");
}

void registerElementwiseKernels(KernelRegistry &r) {
  r.add({"add", runArith<Arith::Add>});
  r.add({"sub", runArith<Arith::Sub>});
  r.add({"mul", runArith<Arith::Mul>});
  r.add({"div", runArith<Arith::Div>});
  r.add({"max", runArith<Arith::Max>});
  r.add({"min", runArith<Arith::Min>});
  r.add({"relu", runUnary<Unary::Relu>});
  r.add({"neg", runUnary<Unary::Neg>});
  r.add({"abs", runUnary<Unary::Abs>});
  r.add({"sqrt", runUnary<Unary::Sqrt>});
  r.add({"exp", runUnary<Unary::Exp>});
  r.add({"log", runUnary<Unary::Log>});
  r.add({"tanh", runUnary<Unary::Tanh>});
  r.add({"sigmoid", runUnary<Unary::Sigmoid>});
  r.add({"reciprocal", runUnary<Unary::Reciprocal>});
  r.add({"erf", runUnary<Unary::Erf>});
  r.add({"sin", runUnary<Unary::Sin>});
  r.add({"cos", runUnary<Unary::Cos>});
  r.add({"leaky_relu", runUnary<Unary::LeakyRelu>});
  r.add({"elu", runUnary<Unary::Elu>});
  r.add({"selu", runUnary<Unary::Selu>});
  r.add({"hard_sigmoid", runUnary<Unary::HardSigmoid>});
  r.add({"softplus", runUnary<Unary::Softplus>});
  r.add({"softsign", runUnary<Unary::Softsign>});
  r.add({"floor", runUnary<Unary::Floor>});
  r.add({"ceil", runUnary<Unary::Ceil>});
  r.add({"round", runUnary<Unary::Round>});
  r.add({"equal", runCompare<Compare::Eq>});
  r.add({"less", runCompare<Compare::Lt>});
  r.add({"less_or_equal", runCompare<Compare::Le>});
  r.add({"greater", runCompare<Compare::Gt>});
  r.add({"greater_or_equal", runCompare<Compare::Ge>});
  r.add({"and", runCompare<Compare::And>});
  r.add({"or", runCompare<Compare::Or>});
  r.add({"xor", runCompare<Compare::Xor>});
  r.add({"not", runNot});
  r.add({"relu_backward", runActivationBackward<Backward::Relu>});
  r.add({"sigmoid_backward", runActivationBackward<Backward::Sigmoid>});
  r.add({"tanh_backward", runActivationBackward<Backward::Tanh>});
  r.add({"expand", runExpand});
  r.add({"copy", runCopy});
  r.add({"offload", runHostCopy});
  r.add({"prefetch", runHostCopy});
  r.add({"clip", runClip});
  r.add({"clip_backward", runClipBackward});
  r.add({"pow", runPow});
  r.add({"stack", runStack});
  r.add({"unstack", runUnstack});
}

} // namespace mlg_rt::cuda

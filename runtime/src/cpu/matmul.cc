// matmul.cc - gemm and matmul kernels.
//
// float and double go through gemm() (OpenBLAS, or the naive loops when
// asked for); f16 and bf16 accumulate in float and integers in uint64_t in
// plain loops, so integer products wrap like two's complement and never
// overflow a signed type. Neither op is in-place: results never alias
// operands.

#include "common.h"
#include "gemm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace mlg_rt::cpu {
namespace {

//===----------------------------------------------------------------------===//
// Plain loops for the types BLAS does not cover
//===----------------------------------------------------------------------===//

/// The accumulator of a product of storage type T: float for f16/bf16,
/// the type itself for float/double, uint64_t (modular) for integers.
template <typename T>
using AccOf = std::conditional_t<std::is_integral_v<typename Elem<T>::Compute>,
                                 uint64_t, typename Elem<T>::Compute>;

template <typename T> AccOf<T> widen(T v) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>)
    return uint64_t(int64_t(v)); // sign-extends, then wraps modulo 2^64
  else if constexpr (std::is_integral_v<T>)
    return uint64_t(v);
  else
    return Elem<T>::load(v);
}

/// Row-major op(A) [m x k] times op(B) [k x n], handing each element's
/// accumulator to finish(i, j, acc). Rows are accumulated i-p-j so B is read
/// along its rows.
template <typename T, typename Finish>
void loopProduct(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
                 const T *a, int64_t lda, const T *b, int64_t ldb,
                 Finish finish) {
  std::vector<AccOf<T>> row(n);
  for (int64_t i = 0; i < m; ++i) {
    std::fill(row.begin(), row.end(), AccOf<T>(0));
    for (int64_t p = 0; p < k; ++p) {
      AccOf<T> av = widen(transA ? a[p * lda + i] : a[i * lda + p]);
      if (transB)
        for (int64_t j = 0; j < n; ++j)
          row[j] += av * widen(b[j * ldb + p]);
      else
        for (int64_t j = 0; j < n; ++j)
          row[j] += av * widen(b[p * ldb + j]);
    }
    for (int64_t j = 0; j < n; ++j)
      finish(i, j, row[j]);
  }
}

/// An integer accumulator or value scaled by a float factor: exact for 1,
/// else through double, truncated and saturated (NaN gives 0) like a cast.
template <typename T> T scaleInt(T v, double factor) {
  if (factor == 1.0)
    return v;
  double r = std::trunc(double(v) * factor);
  if (std::isnan(r))
    return T(0);
  if (r <= double(std::numeric_limits<T>::lowest()))
    return std::numeric_limits<T>::lowest();
  if (r >= double(std::numeric_limits<T>::max()))
    return std::numeric_limits<T>::max();
  return T(r);
}

//===----------------------------------------------------------------------===//
// gemm
//===----------------------------------------------------------------------===//

struct GemmDims {
  int64_t m, n, k;
};

GemmDims gemmDims(const KernelCall &c, bool transA, bool transB) {
  const Tensor &a = c.in[0], &b = c.in[1];
  return {a.dim(transA ? 1 : 0), b.dim(transB ? 0 : 1), a.dim(transA ? 0 : 1)};
}

Status checkGemm(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 3, 1));
  DType t = c.out[0].dtype;
  for (const Tensor &x : c.in)
    if (x.dtype != t)
      return c.error("operands and result must have one element type");
  if (!isFloat(t) && !isSignedInt(t) && !isUnsignedInt(t))
    return c.error("unsupported element type ", dtypeName(t));
  auto alpha = c.attrs().getFloat("alpha"), beta = c.attrs().getFloat("beta");
  auto transA = c.attrs().getBool("trans_a"),
       transB = c.attrs().getBool("trans_b");
  if (!alpha || !beta || !transA || !transB)
    return c.error("needs the alpha, beta, trans_a and trans_b attributes");
  const Tensor &a = c.in[0], &b = c.in[1];
  if (a.rank() != 2 || b.rank() != 2)
    return c.error("A and B must be 2-d");
  GemmDims d = gemmDims(c, *transA, *transB);
  int64_t kb = b.dim(*transB ? 1 : 0);
  if (d.k != kb)
    return c.error("inner dimensions differ: ", d.k, " and ", kb);
  std::vector<int64_t> shape = {d.m, d.n};
  if (*c.out[0].shape != shape)
    return c.error("the result must be ", d.m, "x", d.n);
  if (c.in.size() == 3) {
    // C broadcasts unidirectionally: to [M, N] and nothing larger.
    auto s = broadcast(shape, *c.in[2].shape);
    if (c.in[2].rank() > 2 || !s || *s != shape)
      return c.error("C does not broadcast to ", d.m, "x", d.n);
  }
  return Status();
}

Status runGemm(KernelCall &c) {
  const Tensor &a = c.in[0], &b = c.in[1], &out = c.out[0];
  const Tensor *cin = c.in.size() == 3 ? &c.in[2] : nullptr;
  double alpha = *c.attrs().getFloat("alpha");
  double beta = *c.attrs().getFloat("beta");
  bool transA = *c.attrs().getBool("trans_a");
  bool transB = *c.attrs().getBool("trans_b");
  GemmDims d = gemmDims(c, transA, transB);
  if (out.numel == 0)
    return Status();
  int64_t lda = a.dim(1), ldb = b.dim(1);
  bool naive = c.options && c.options->naiveGemm;
  // Without C (or with beta 0) C does not contribute, not even NaN * 0, as
  // in BLAS.
  if (!cin)
    beta = 0;
  return dispatchNumeric(out.dtype, [&]<typename T>() {
    T *o = out.as<T>();
    const T *cv = cin ? cin->as<T>() : nullptr;
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      if (beta != 0) {
        // Lay C out as [M, N] in the result; gemm then scales it by beta.
        BroadcastIndexer idx(*out.shape, {cin->shape});
        for (int64_t i = 0; i < out.numel; ++i, idx.next())
          o[i] = cv[idx[0]];
      }
      gemm(transA, transB, d.m, d.n, d.k, T(alpha), a.as<T>(), lda, b.as<T>(),
           ldb, T(beta), o, d.n, naive);
    } else {
      // C's flat index for element (i, j) of the result: its strides, 0
      // where it broadcasts.
      int64_t ci = 0, cj = 0;
      if (cin && cin->rank() == 2) {
        ci = cin->dim(0) == 1 ? 0 : cin->dim(1);
        cj = cin->dim(1) == 1 ? 0 : 1;
      } else if (cin && cin->rank() == 1) {
        cj = cin->dim(0) == 1 ? 0 : 1;
      }
      using C = typename Elem<T>::Compute;
      loopProduct<T>(transA, transB, d.m, d.n, d.k, a.as<T>(), lda, b.as<T>(),
                     ldb, [&](int64_t i, int64_t j, AccOf<T> acc) {
                       T *dst = o + i * d.n + j;
                       if constexpr (std::is_integral_v<C>) {
                         T prod = scaleInt(T(acc), alpha);
                         T add = beta == 0
                                     ? T(0)
                                     : scaleInt(cv[i * ci + j * cj], beta);
                         *dst = T(widen(prod) + widen(add));
                       } else {
                         C r = C(alpha) * acc;
                         if (beta != 0)
                           r += C(beta) * Elem<T>::load(cv[i * ci + j * cj]);
                         *dst = Elem<T>::store(r);
                       }
                     });
    }
    return Status();
  });
}

//===----------------------------------------------------------------------===//
// matmul
//===----------------------------------------------------------------------===//

/// A matmul's operands as [batch..., m, k] and [batch..., k, n] (1-d
/// operands promoted), the broadcast batch shape, and the result's shape.
struct MatMulShape {
  std::vector<int64_t> batchA, batchB, batch, result;
  int64_t m = 0, n = 0, k = 0;
};

std::optional<MatMulShape> matmulShape(const std::vector<int64_t> &a,
                                       const std::vector<int64_t> &b) {
  if (a.empty() || b.empty())
    return std::nullopt;
  std::vector<int64_t> sa = a, sb = b;
  bool vecA = sa.size() == 1, vecB = sb.size() == 1;
  if (vecA)
    sa.insert(sa.begin(), 1);
  if (vecB)
    sb.push_back(1);
  MatMulShape s;
  s.m = sa[sa.size() - 2];
  s.k = sa.back();
  s.n = sb.back();
  if (sb[sb.size() - 2] != s.k)
    return std::nullopt;
  s.batchA.assign(sa.begin(), sa.end() - 2);
  s.batchB.assign(sb.begin(), sb.end() - 2);
  auto batch = broadcast(s.batchA, s.batchB);
  if (!batch)
    return std::nullopt;
  s.batch = *batch;
  s.result = s.batch;
  if (!vecA)
    s.result.push_back(s.m);
  if (!vecB)
    s.result.push_back(s.n);
  return s;
}

int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Status checkMatMul(const KernelCall &c) {
  MLG_RT_RETURN_IF_ERROR(c.expectArity(2, 2, 1));
  DType t = c.out[0].dtype;
  if (c.in[0].dtype != t || c.in[1].dtype != t)
    return c.error("operands and result must have one element type");
  if (!isFloat(t) && !isSignedInt(t) && !isUnsignedInt(t))
    return c.error("unsupported element type ", dtypeName(t));
  auto s = matmulShape(*c.in[0].shape, *c.in[1].shape);
  if (!s)
    return c.error("operand shapes do not multiply");
  if (*c.out[0].shape != s->result)
    return c.error("the result shape is not the operands' product shape");
  return Status();
}

Status runMatMul(KernelCall &c) {
  const Tensor &a = c.in[0], &b = c.in[1], &out = c.out[0];
  // An empty result has nothing to write; otherwise every product of its
  // dimensions fits, since the result's element count does.
  if (out.numel == 0)
    return Status();
  MatMulShape s = *matmulShape(*a.shape, *b.shape);
  int64_t m = s.m, n = s.n, k = s.k;
  int64_t batches = product(s.batch);
  bool naive = c.options && c.options->naiveGemm;
  return dispatchNumeric(out.dtype, [&]<typename T>() {
    const T *x = a.as<T>(), *y = b.as<T>();
    T *o = out.as<T>();
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      // One B for every batch (weights): the batches of A are rows of one
      // larger product.
      if (product(s.batchB) == 1) {
        gemm(false, false, batches * m, n, k, T(1), x, k, y, n, T(0), o, n,
             naive);
        return Status();
      }
    }
    BroadcastIndexer idx(s.batch, {&s.batchA, &s.batchB});
    for (int64_t bi = 0; bi < batches; ++bi, idx.next()) {
      const T *xa = x + idx[0] * m * k, *yb = y + idx[1] * k * n;
      T *ob = o + bi * m * n;
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        gemm(false, false, m, n, k, T(1), xa, k, yb, n, T(0), ob, n, naive);
      } else {
        loopProduct<T>(false, false, m, n, k, xa, k, yb, n,
                       [&](int64_t i, int64_t j, AccOf<T> acc) {
                         if constexpr (std::is_integral_v<T>)
                           ob[i * n + j] = T(acc);
                         else
                           ob[i * n + j] = Elem<T>::store(acc);
                       });
      }
    }
    return Status();
  });
}

} // namespace

void registerMatMulKernels(KernelRegistry &r) {
  r.add({"gemm", checkGemm, runGemm});
  r.add({"matmul", checkMatMul, runMatMul});
}

} // namespace mlg_rt::cpu

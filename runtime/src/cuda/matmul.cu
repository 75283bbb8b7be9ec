// matmul.cu - gemm and matmul through cuBLAS.
//
// The tensors are row-major and cuBLAS is column-major: a row-major [M, N]
// result is the column-major [N, M] transpose, so Y = op(A) op(B) is
// computed as Y^T = op(B)^T op(A)^T with the operands swapped. f32 runs
// without TF32 unless the context allows it (PyTorch's default for
// matrix products), f64 in double. matmul's batches: one weight matrix for
// every batch is one larger product; equal batches, or one matrix against
// a batch, a strided batched product.

#include "common.cuh"

namespace mlg_rt::cuda {
namespace {

/// Y[m, n] (row-major, ldy) = alpha * op(A) op(B) + beta * Y, `batches`
/// times with the given element strides (0: the same matrix each time).
template <typename T>
Status gemmRowMajor(const cpu::KernelCall &c, Context &ctx, bool transA,
                    bool transB, int64_t m, int64_t n, int64_t k, double alpha,
                    const T *a, int64_t lda, int64_t strideA, const T *b,
                    int64_t ldb, int64_t strideB, double beta, T *y,
                    int64_t ldy, int64_t strideY, int64_t batches, bool tf32) {
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX || batches > INT32_MAX)
    return c.error("the CUDA backend's products take dimensions below 2^31");
  cublasOperation_t opA = transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t opB = transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  // The default mode keeps f32 products in f32 (no TF32; PyTorch's choice
  // for matrix products); the pedantic mode would also forbid cuBLAS's
  // faster f32 kernels (split-K among them).
  MLG_CUBLAS_TRY(c,
                 cublasSetMathMode(ctx.cublas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                    : CUBLAS_DEFAULT_MATH));
  if constexpr (std::is_same_v<T, float>) {
    float al = float(alpha), be = float(beta);
    MLG_CUBLAS_TRY(c, cublasSgemmStridedBatched(
                          ctx.cublas, opB, opA, int(n), int(m), int(k), &al, b,
                          int(ldb), strideB, a, int(lda), strideA, &be, y,
                          int(ldy), strideY, int(batches)));
  } else if constexpr (std::is_same_v<T, double>) {
    MLG_CUBLAS_TRY(c, cublasDgemmStridedBatched(
                          ctx.cublas, opB, opA, int(n), int(m), int(k), &alpha,
                          b, int(ldb), strideB, a, int(lda), strideA, &beta, y,
                          int(ldy), strideY, int(batches)));
  } else {
    return c.error("the CUDA backend multiplies f32 and f64 matrices only");
  }
  return Status();
}

Status runGemm(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &a = c.in[0], &b = c.in[1], &y = c.out[0];
  double alpha = *c.attrs().getFloat("alpha");
  double beta = *c.attrs().getFloat("beta");
  bool transA = *c.attrs().getBool("trans_a");
  bool transB = *c.attrs().getBool("trans_b");
  // A recurrent layer's product takes the RNNs' precision (mlg.gemm).
  bool recurrent = c.attrs().getBool("recurrent").value_or(false);
  int64_t m = y.dim(0), n = y.dim(1), k = a.dim(transA ? 0 : 1);
  if (y.numel == 0)
    return Status();
  bool withC = c.in.size() == 3 && beta != 0;
  if (withC)
    MLG_RT_RETURN_IF_ERROR(broadcastInto(c, ctx, c.in[2], y));
  return dispatchFloat(c, y.dtype, [&]<typename T>() -> Status {
    return gemmRowMajor<T>(c, ctx, transA, transB, m, n, k, alpha, a.as<T>(),
                           a.dim(1), 0, b.as<T>(), b.dim(1), 0,
                           withC ? beta : 0.0, y.as<T>(), n, 0, 1,
                           recurrent ? ctx.tf32Convolutions : ctx.tf32Gemm);
  });
}

int64_t product(const std::vector<int64_t> &v, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i)
    p *= v[i];
  return p;
}

Status runMatMul(cpu::KernelCall &c, Context &ctx) {
  const cpu::Tensor &a = c.in[0], &b = c.in[1], &y = c.out[0];
  if (y.numel == 0)
    return Status();
  // 1-D operands are promoted to matrices, as NumPy does.
  std::vector<int64_t> sa = *a.shape, sb = *b.shape;
  if (sa.size() == 1)
    sa.insert(sa.begin(), 1);
  if (sb.size() == 1)
    sb.push_back(1);
  int64_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
  int64_t batchA = product(sa, 0, sa.size() - 2);
  int64_t batchB = product(sb, 0, sb.size() - 2);
  std::vector<int64_t> ba(sa.begin(), sa.end() - 2),
      bb(sb.begin(), sb.end() - 2);
  while (ba.size() < bb.size())
    ba.insert(ba.begin(), 1);
  while (bb.size() < ba.size())
    bb.insert(bb.begin(), 1);
  return dispatchFloat(c, y.dtype, [&]<typename T>() -> Status {
    if (batchB == 1) // one weight matrix: the batches of A are more rows
      return gemmRowMajor<T>(c, ctx, false, false, batchA * m, n, k, 1.0,
                             a.as<T>(), k, 0, b.as<T>(), n, 0, 0.0, y.as<T>(),
                             n, 0, 1, ctx.tf32Gemm);
    if (ba == bb || batchA == 1)
      return gemmRowMajor<T>(c, ctx, false, false, m, n, k, 1.0, a.as<T>(), k,
                             batchA == 1 ? 0 : m * k, b.as<T>(), n, k * n, 0.0,
                             y.as<T>(), n, m * n, batchB, ctx.tf32Gemm);
    return c.error("the CUDA backend's matmul needs equal batch dimensions "
                   "or one side without a batch");
  });
}

} // namespace

Status gemm(const cpu::KernelCall &c, Context &ctx, bool transA, bool transB,
            int64_t m, int64_t n, int64_t k, double alpha, const float *a,
            int64_t lda, const float *b, int64_t ldb, double beta, float *y,
            int64_t ldy, bool tf32) {
  return gemmRowMajor<float>(c, ctx, transA, transB, m, n, k, alpha, a, lda, 0,
                             b, ldb, 0, beta, y, ldy, 0, 1, tf32);
}

Status gemm(const cpu::KernelCall &c, Context &ctx, bool transA, bool transB,
            int64_t m, int64_t n, int64_t k, double alpha, const double *a,
            int64_t lda, const double *b, int64_t ldb, double beta, double *y,
            int64_t ldy, bool tf32) {
  return gemmRowMajor<double>(c, ctx, transA, transB, m, n, k, alpha, a, lda, 0,
                              b, ldb, 0, beta, y, ldy, 0, 1, tf32);
}

void registerMatMulKernels(KernelRegistry &r) {
  r.add({"gemm", runGemm});
  r.add({"matmul", runMatMul});
}

} // namespace mlg_rt::cuda

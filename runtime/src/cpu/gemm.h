// gemm.h - matrix products for the CPU kernels: OpenBLAS, or plain loops.
//
// Row-major C[m x n] = alpha * op(A) * op(B) + beta * C, where op(A) is A
// [m x k] or, transposed, A [k x m] (likewise B). The naive path is the
// reference the BLAS path is tested against, and what runs when asked for
// (--naive-gemm) or when a dimension exceeds BLAS's int range.

#ifndef MLG_RT_SRC_CPU_GEMM_H
#define MLG_RT_SRC_CPU_GEMM_H

#include <cstdint>

namespace mlg_rt::cpu {

void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
          float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
          float beta, float *c, int64_t ldc, bool naive);
void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
          double alpha, const double *a, int64_t lda, const double *b,
          int64_t ldb, double beta, double *c, int64_t ldc, bool naive);

} // namespace mlg_rt::cpu

#endif // MLG_RT_SRC_CPU_GEMM_H

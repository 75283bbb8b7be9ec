// gemm.cc - matrix products for the CPU kernels: OpenBLAS, or plain loops.

#include "gemm.h"

#include <cblas.h>

#include <climits>
#include <vector>

namespace mlg_rt::cpu {

template <typename T>
static void naiveGemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
                      T alpha, const T *a, int64_t lda, const T *b, int64_t ldb,
                      T beta, T *c, int64_t ldc) {
  std::vector<T> row(n);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j)
      row[j] = 0;
    for (int64_t p = 0; p < k; ++p) {
      T av = transA ? a[p * lda + i] : a[i * lda + p];
      if (av == T(0))
        continue;
      for (int64_t j = 0; j < n; ++j)
        row[j] += av * (transB ? b[j * ldb + p] : b[p * ldb + j]);
    }
    for (int64_t j = 0; j < n; ++j)
      c[i * ldc + j] =
          alpha * row[j] + (beta == T(0) ? T(0) : beta * c[i * ldc + j]);
  }
}

static bool fitsInt(int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb,
                    int64_t ldc) {
  for (int64_t v : {m, n, k, lda, ldb, ldc})
    if (v > INT_MAX)
      return false;
  return true;
}

void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
          float alpha, const float *a, int64_t lda, const float *b, int64_t ldb,
          float beta, float *c, int64_t ldc, bool naive) {
  if (m == 0 || n == 0)
    return;
  if (naive || k == 0 || !fitsInt(m, n, k, lda, ldb, ldc))
    return naiveGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c,
                     ldc);
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
              transB ? CblasTrans : CblasNoTrans, int(m), int(n), int(k), alpha,
              a, int(lda), b, int(ldb), beta, c, int(ldc));
}

void gemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k,
          double alpha, const double *a, int64_t lda, const double *b,
          int64_t ldb, double beta, double *c, int64_t ldc, bool naive) {
  if (m == 0 || n == 0)
    return;
  if (naive || k == 0 || !fitsInt(m, n, k, lda, ldb, ldc))
    return naiveGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c,
                     ldc);
  cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
              transB ? CblasTrans : CblasNoTrans, int(m), int(n), int(k), alpha,
              a, int(lda), b, int(ldb), beta, c, int(ldc));
}

} // namespace mlg_rt::cpu

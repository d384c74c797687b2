/* cpu-linalg.c: host linear algebra through OpenBLAS (see host-linalg.h). */
#include "host-linalg.h"

#include <cblas.h>
#include <stdlib.h>

/* LAPACK's symmetric eigensolver as OpenBLAS exports it (Fortran ABI: every
 * argument by reference, then the hidden lengths of the character
 * arguments). Debian ships no lapack.h beside OpenBLAS's cblas.h. */
extern void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a,
                    const int *lda, const double *vl, const double *vu, const int *il,
                    const int *iu, const double *abstol, int *m, double *w, double *z,
                    const int *ldz, int *isuppz, double *work, const int *lwork, int *iwork,
                    const int *liwork, int *info, size_t jobz_len, size_t range_len,
                    size_t uplo_len);

static enum CBLAS_TRANSPOSE op(bool t) { return t ? CblasTrans : CblasNoTrans; }

void ll_host_sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc)
{
  cblas_sgemm(CblasRowMajor, op(ta), op(tb), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void ll_host_dgemm(bool ta, bool tb, int m, int n, int k, double alpha, const double *a, int lda,
                   const double *b, int ldb, double beta, double *c, int ldc)
{
  cblas_dgemm(CblasRowMajor, op(ta), op(tb), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void ll_host_dsyrk_upper(bool trans, int n, int k, double alpha, const double *a, int lda,
                         double beta, double *c, int ldc)
{
  cblas_dsyrk(CblasRowMajor, CblasUpper, op(trans), n, k, alpha, a, lda, beta, c, ldc);
}

int ll_host_dsyevr_range(double *s, int m, int il, int iu, int *found, double *w, double *z)
{
  int info = 0, lwork = -1, liwork = -1, iwq = 0;
  double vl = 0, vu = 0, abstol = 0, wq = 0;
  int k = iu - il + 1;
  int *isuppz = malloc(sizeof(int) * 2 * (size_t)(k > 0 ? k : 1));
  if (!isuppz)
    return -1000;
  *found = 0;
  /* the upper triangle in row order is the lower one in LAPACK's column
   * order: "L"; a workspace query, then the solve */
  dsyevr_("V", "I", "L", &m, s, &m, &vl, &vu, &il, &iu, &abstol, found, w, z, &m, isuppz, &wq,
          &lwork, &iwq, &liwork, &info, 1, 1, 1);
  if (info == 0) {
    lwork = (int)wq + 1;
    liwork = iwq + 1;
    double *work = malloc(sizeof(double) * (size_t)lwork);
    int *iwork = malloc(sizeof(int) * (size_t)liwork);
    if (work && iwork)
      dsyevr_("V", "I", "L", &m, s, &m, &vl, &vu, &il, &iu, &abstol, found, w, z, &m, isuppz, work,
              &lwork, iwork, &liwork, &info, 1, 1, 1);
    else
      info = -1000;
    free(work);
    free(iwork);
  }
  free(isuppz);
  return info;
}

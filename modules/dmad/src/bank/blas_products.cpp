// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "bank/blas_products.hpp"
#include "io/configuration.hpp"

#ifdef DMAD_HAVE_BLAS
// The standard CBLAS entry point, declared here so that no particular cblas.h (Debian installs
// several, one per BLAS) is needed; OpenBLAS's thread control and identity are weak, so the
// library also links against another BLAS.
extern "C" void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha,
                            const float* a, int lda, const float* b, int ldb, float beta, float* c,
                            int ldc);
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
extern "C" int openblas_get_num_threads() __attribute__((weak));
extern "C" char* openblas_get_corename() __attribute__((weak));
extern "C" char* openblas_get_config() __attribute__((weak));
#endif

namespace cv {
namespace dmad {
namespace blas {

bool enabled()
{
#ifdef DMAD_HAVE_BLAS
    static const bool useBlas = config::getString("KNN_PRODUCTS", "blas") != "kernels";
    return useBlas;
#else
    return false;
#endif
}

String description()
{
#ifdef DMAD_HAVE_BLAS
    if (openblas_get_corename)
        return format("%s (%s kernels)", openblas_get_config ? openblas_get_config() : "OpenBLAS",
                      openblas_get_corename());
    return "CBLAS";
#else
    return "none";
#endif
}

void productsABt(const float* a, int rows, int lda, const float* b, int cols, int ldb, int dims,
                 float* c, int ldc)
{
#ifdef DMAD_HAVE_BLAS
    const int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
    // OpenBLAS keeps its own thread count; the library's work follows cv::setNumThreads(). The
    // caller's count is put back, so that the rest of the program sees no change.
    const int previous = openblas_get_num_threads ? openblas_get_num_threads() : 0;
    const int wanted = std::max(1, getNumThreads());
    if (openblas_set_num_threads && previous != wanted)
        openblas_set_num_threads(wanted);
    cblas_sgemm(kRowMajor, kNoTrans, kTrans, rows, cols, dims, 1.f, a, lda, b, ldb, 0.f, c, ldc);
    if (openblas_set_num_threads && previous != wanted)
        openblas_set_num_threads(previous);
#else
    CV_UNUSED(a); CV_UNUSED(rows); CV_UNUSED(lda); CV_UNUSED(b); CV_UNUSED(cols); CV_UNUSED(ldb);
    CV_UNUSED(dims); CV_UNUSED(c); CV_UNUSED(ldc);
    CV_Error(Error::StsNotImplemented, "dmad was built without a BLAS");
#endif
}

}}} // namespace cv::dmad::blas

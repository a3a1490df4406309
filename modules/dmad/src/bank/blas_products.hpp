// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_BLAS_PRODUCTS_HPP
#define OPENCV_DMAD_BLAS_PRODUCTS_HPP

#include <opencv2/core.hpp>

namespace cv {
namespace dmad {
namespace blas {

/** Whether the exact search computes its dot-product tiles with the BLAS the library was linked
    with (OpenBLAS from Debian's libopenblas-dev): true when there is one, unless
    OPENCV_DMAD_KNN_PRODUCTS=kernels asks for the library's own (Eigen) products. OpenBLAS's
    sgemm kernels are hand-written per CPU (SkylakeX, Haswell, Zen, ...) and run 1.3 to 1.7 times
    faster than Eigen's on both AVX-512 and AVX2 machines (doc/memory_bank.md). */
CV_EXPORTS bool enabled();

//! "OpenBLAS 0.3.21 (SkylakeX kernels, pthreads)", or "none" when the library has no BLAS.
String description();

/** c(r, j) = sum_d a(r, d) * b(j, d), i.e. C = A * B^T, all row-major (`lda`, `ldb`, `ldc` in
    floats), computed by BLAS with cv::getNumThreads() threads. Only valid when enabled(). */
void productsABt(const float* a, int rows, int lda, const float* b, int cols, int ldb, int dims,
                 float* c, int ldc);

}}} // namespace cv::dmad::blas

#endif // OPENCV_DMAD_BLAS_PRODUCTS_HPP

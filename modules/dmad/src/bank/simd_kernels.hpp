// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_SIMD_KERNELS_HPP
#define OPENCV_DMAD_SIMD_KERNELS_HPP

#include <cstddef>
#include <stdint.h>

namespace cv {
namespace dmad {
namespace kernels {

/** The inner loops of the exact k-NN search and of the coreset, compiled once per instruction
    set (baseline, AVX2+FMA, AVX-512) and chosen at run time. Every entry is single-threaded: the
    callers split the work with cv::parallel_for_. */
struct KernelTable
{
    const char* name;

    /** dots(r, c) = sum_d a(r, d) * b(c, d), i.e. A * B^T (Eigen's blocked product).
        a: rows x dims with row stride lda floats; b: cols x dims with row stride ldb floats;
        dots: rows x cols, contiguous. */
    void (*dotProducts)(const float* a, int rows, size_t lda, const float* b, int cols, size_t ldb,
                        int dims, float* dots);

    /** out(r, d) = row(r, d) - mean[d] in float, for `count` rows of `dims` values: CV_32F rows
        (`half` false) or CV_16F rows (`half` true, uint16 bit patterns, converted exactly). Row r
        starts at `rows + r * rowStep` bytes; out is contiguous. */
    void (*centerRows)(const void* rows, size_t rowStep, bool half, int count, int dims,
                       const float* mean, float* out);

    /** Fused top-k scan of one query's row of a dot-product tile. Entry j has the approximate
        distance value `norms[j] - 2 * dots[j]` (the query's own norm is left out: it does not
        change the order). Values below the current worst candidate are inserted into the
        ascending list candValues/candIndices (kc entries, index = indexOffset + j); equal
        values keep the earlier entry. When imageIds is not null, entries whose id equals
        excludeId are skipped. */
    void (*scanRow)(const float* dots, const float* norms, int count, const int* imageIds,
                    int excludeId, int indexOffset, int kc, float* candValues, int* candIndices);

    /** Coreset update of one block of points stored dimension-major (`points[d * stride + j]`,
        count a multiple of 16): minDist2[j] = min(minDist2[j], |x_j - c|^2) for every center row c
        (nCenters x dims, contiguous), with |x - c|^2 in PatchCore's expanded form, exactly as
        squaredDistanceReference() computes it from the norms of squaredNorms(). */
    void (*applyCenters)(const float* points, size_t stride, int count, int dims,
                         const float* pointNorms, const float* centers, const float* centerNorms,
                         int nCenters, float* minDist2);

    //! out[j] = |x_j|^2, summed over d in order with fused multiply-adds (same layout).
    void (*squaredNorms)(const float* points, size_t stride, int count, int dims, float* out);

    //! |a - b|^2 of two contiguous float16 vectors (uint16 bit patterns), summed in float: the
    //! HNSW graph's distance.
    float (*squaredDistanceHalf)(const uint16_t* a, const uint16_t* b, int dims);
};

/** The fastest table this CPU runs. The environment variable OPENCV_DMAD_KERNELS=baseline|avx2|avx512
    forces a lower (or the named) one, for measurements. */
const KernelTable& bestKernels();

//! The portable table (always available).
const KernelTable& baselineKernels();

/** The scalar definitions the vector coreset kernels reproduce bit for bit, x read with a stride
    (x[d * strideX]): dot products and norms summed over d in order as acc = fma(a, b, acc), and
    |x - c|^2 = max(0, (|x|^2 + |c|^2) - 2 x.c), PatchCore's expanded form. */
float dotReference(const float* x, size_t strideX, const float* c, int dims);
float squaredDistanceReference(float xNorm, float cNorm, float dot);

// Per instruction set tables; null when that file was compiled without the instruction set.
namespace avx2 { const KernelTable* table(); }
namespace avx512 { const KernelTable* table(); }

} // namespace kernels
}} // namespace cv::dmad

#endif // OPENCV_DMAD_SIMD_KERNELS_HPP

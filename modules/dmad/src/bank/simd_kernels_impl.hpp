// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The kernels of simd_kernels.hpp, included once per instruction set by simd_kernels*.cpp, each
// compiled with its own -m flags. Everything here lives in a namespace of its own, and Eigen is
// renamed per file (DMAD_EIGEN_NAMESPACE), so that no inline function or template instance
// compiled for AVX-512 can be merged by the linker into the code that older CPUs run.
// No standard containers are used here for the same reason.

#ifndef DMAD_KERNEL_NS
#error "define DMAD_KERNEL_NS (and DMAD_EIGEN_NAMESPACE) before including simd_kernels_impl.hpp"
#endif

#define Eigen DMAD_EIGEN_NAMESPACE
#define EIGEN_DONT_PARALLELIZE
#ifndef EIGEN_MPL2_ONLY
#define EIGEN_MPL2_ONLY
#endif
#include <Eigen/Core>

#include "bank/simd_kernels.hpp"

#include <cfloat>
#include <cmath>
#include <cstring>
#include <stdint.h>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace cv {
namespace dmad {
namespace kernels {
namespace DMAD_KERNEL_NS {
namespace {

typedef Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> RowMatrix;
typedef Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>> ConstStridedMap;
typedef Eigen::Map<RowMatrix> OutputMap;

void dotProducts(const float* a, int rows, size_t lda, const float* b, int cols, size_t ldb,
                 int dims, float* dots)
{
    const ConstStridedMap A(a, rows, dims, Eigen::OuterStride<>((Eigen::Index)lda));
    const ConstStridedMap B(b, cols, dims, Eigen::OuterStride<>((Eigen::Index)ldb));
    OutputMap C(dots, rows, cols);
    C.noalias() = A * B.transpose();
}

//! IEEE half to float, exact (the portable path; the vector paths use F16C).
inline float halfToFloat(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ffu, bits;
    if (exponent == 0x1f)
        bits = sign | 0x7f800000u | (mantissa << 13);  // Inf, NaN
    else if (exponent != 0)
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    else if (mantissa == 0)
        bits = sign;  // +-0
    else
    {
        // subnormal half: normalise
        int e = 113;
        while (!(mantissa & 0x400u))
        {
            mantissa <<= 1;
            e--;
        }
        bits = sign | ((uint32_t)e << 23) | ((mantissa & 0x3ffu) << 13);
    }
    float f;
    std::memcpy(&f, &bits, sizeof(f));
    return f;
}

void centerRows(const void* rows, size_t rowStep, bool half, int count, int dims, const float* mean,
                float* out)
{
    for (int r = 0; r < count; r++)
    {
        const unsigned char* row = (const unsigned char*)rows + (size_t)r * rowStep;
        float* dst = out + (size_t)r * dims;
        int d = 0;
        if (!half)
        {
            const float* src = (const float*)row;
            for (; d < dims; d++)
                dst[d] = src[d] - mean[d];
            continue;
        }
        const uint16_t* src = (const uint16_t*)row;
#if defined(__AVX512F__)
        for (; d + 16 <= dims; d += 16)
        {
            const __m512 x = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(src + d)));
            _mm512_storeu_ps(dst + d, _mm512_sub_ps(x, _mm512_loadu_ps(mean + d)));
        }
#elif defined(__F16C__)
        for (; d + 8 <= dims; d += 8)
        {
            const __m256 x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(src + d)));
            _mm256_storeu_ps(dst + d, _mm256_sub_ps(x, _mm256_loadu_ps(mean + d)));
        }
#endif
        for (; d < dims; d++)
            dst[d] = halfToFloat(src[d]) - mean[d];
    }
}

//! Bit j set where norms[j] - 2 * dots[j] < threshold, for 16 consecutive entries.
inline unsigned belowThreshold16(const float* dots, const float* norms, float threshold)
{
#if defined(__AVX512F__)
    const __m512 d = _mm512_loadu_ps(dots);
    const __m512 v = _mm512_sub_ps(_mm512_loadu_ps(norms), _mm512_add_ps(d, d));
    return (unsigned)_mm512_cmp_ps_mask(v, _mm512_set1_ps(threshold), _CMP_LT_OQ);
#elif defined(__AVX2__)
    const __m256 t = _mm256_set1_ps(threshold);
    const __m256 d0 = _mm256_loadu_ps(dots), d1 = _mm256_loadu_ps(dots + 8);
    const __m256 v0 = _mm256_sub_ps(_mm256_loadu_ps(norms), _mm256_add_ps(d0, d0));
    const __m256 v1 = _mm256_sub_ps(_mm256_loadu_ps(norms + 8), _mm256_add_ps(d1, d1));
    return (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v0, t, _CMP_LT_OQ)) |
           ((unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v1, t, _CMP_LT_OQ)) << 8);
#elif defined(__SSE2__)
    const __m128 t = _mm_set1_ps(threshold);
    unsigned mask = 0;
    for (int part = 0; part < 4; part++)
    {
        const __m128 d = _mm_loadu_ps(dots + 4 * part);
        const __m128 v = _mm_sub_ps(_mm_loadu_ps(norms + 4 * part), _mm_add_ps(d, d));
        mask |= (unsigned)_mm_movemask_ps(_mm_cmplt_ps(v, t)) << (4 * part);
    }
    return mask;
#else
    unsigned mask = 0;
    for (int j = 0; j < 16; j++)
        if (norms[j] - (dots[j] + dots[j]) < threshold)
            mask |= 1u << j;
    return mask;
#endif
}

//! Inserts (value, index) into the ascending list of kc candidates (the caller checked that
//! value < worst).
inline void insertCandidate(float value, int index, int kc, float* values, int* indices)
{
    int pos = kc - 1;
    while (pos > 0 && values[pos - 1] > value)
    {
        values[pos] = values[pos - 1];
        indices[pos] = indices[pos - 1];
        pos--;
    }
    values[pos] = value;
    indices[pos] = index;
}

void scanRow(const float* dots, const float* norms, int count, const int* imageIds, int excludeId,
             int indexOffset, int kc, float* candValues, int* candIndices)
{
    const bool filter = imageIds != 0 && excludeId >= 0;
    float worst = candValues[kc - 1];
    int j0 = 0;
    for (; j0 + 16 <= count; j0 += 16)
    {
        // Almost every chunk is rejected by one vector compare once the list holds good candidates.
        unsigned mask = belowThreshold16(dots + j0, norms + j0, worst);
        while (mask)
        {
            const int j = j0 + __builtin_ctz(mask);
            mask &= mask - 1;
            const float value = norms[j] - (dots[j] + dots[j]);
            if (value < worst && !(filter && imageIds[j] == excludeId))
            {
                insertCandidate(value, indexOffset + j, kc, candValues, candIndices);
                worst = candValues[kc - 1];
            }
        }
    }
    for (int j = j0; j < count; j++)
    {
        const float value = norms[j] - (dots[j] + dots[j]);
        if (value < worst && !(filter && imageIds[j] == excludeId))
        {
            insertCandidate(value, indexOffset + j, kc, candValues, candIndices);
            worst = candValues[kc - 1];
        }
    }
}

// A vector of floats with the operations the coreset kernels need; the scalar fallback uses
// std::fma so that every instruction set computes the same bits.
#if defined(__AVX512F__)
struct Vec
{
    enum { W = 16, CENTERS = 4 };  // 16 accumulators of the 32 registers
    __m512 v;
};
inline Vec load(const float* p) { return Vec{_mm512_loadu_ps(p)}; }
inline void store(float* p, Vec a) { _mm512_storeu_ps(p, a.v); }
inline Vec splat(float x) { return Vec{_mm512_set1_ps(x)}; }
inline Vec zero() { return Vec{_mm512_setzero_ps()}; }
inline Vec fmadd(Vec a, Vec b, Vec acc) { return Vec{_mm512_fmadd_ps(a.v, b.v, acc.v)}; }
inline Vec add(Vec a, Vec b) { return Vec{_mm512_add_ps(a.v, b.v)}; }
inline Vec sub(Vec a, Vec b) { return Vec{_mm512_sub_ps(a.v, b.v)}; }
inline Vec maximum(Vec a, Vec b) { return Vec{_mm512_max_ps(a.v, b.v)}; }
inline Vec minimum(Vec a, Vec b) { return Vec{_mm512_min_ps(a.v, b.v)}; }
#elif defined(__AVX2__) && defined(__FMA__)
struct Vec
{
    enum { W = 8, CENTERS = 2 };  // 8 accumulators of the 16 registers
    __m256 v;
};
inline Vec load(const float* p) { return Vec{_mm256_loadu_ps(p)}; }
inline void store(float* p, Vec a) { _mm256_storeu_ps(p, a.v); }
inline Vec splat(float x) { return Vec{_mm256_set1_ps(x)}; }
inline Vec zero() { return Vec{_mm256_setzero_ps()}; }
inline Vec fmadd(Vec a, Vec b, Vec acc) { return Vec{_mm256_fmadd_ps(a.v, b.v, acc.v)}; }
inline Vec add(Vec a, Vec b) { return Vec{_mm256_add_ps(a.v, b.v)}; }
inline Vec sub(Vec a, Vec b) { return Vec{_mm256_sub_ps(a.v, b.v)}; }
inline Vec maximum(Vec a, Vec b) { return Vec{_mm256_max_ps(a.v, b.v)}; }
inline Vec minimum(Vec a, Vec b) { return Vec{_mm256_min_ps(a.v, b.v)}; }
#else
struct Vec
{
    enum { W = 1, CENTERS = 1 };
    float v;
};
inline Vec load(const float* p) { return Vec{*p}; }
inline void store(float* p, Vec a) { *p = a.v; }
inline Vec splat(float x) { return Vec{x}; }
inline Vec zero() { return Vec{0.f}; }
inline Vec fmadd(Vec a, Vec b, Vec acc) { return Vec{std::fma(a.v, b.v, acc.v)}; }
inline Vec add(Vec a, Vec b) { return Vec{a.v + b.v}; }
inline Vec sub(Vec a, Vec b) { return Vec{a.v - b.v}; }
inline Vec maximum(Vec a, Vec b) { return Vec{b.v > a.v ? b.v : a.v}; }
inline Vec minimum(Vec a, Vec b) { return Vec{b.v < a.v ? b.v : a.v}; }
#endif

//! max(0, (|x|^2 + |c|^2) - 2 x.c), the arithmetic of squaredDistanceReference().
inline Vec expandedDistance(Vec pointNorm, Vec centerNorm, Vec dot)
{
    return maximum(zero(), sub(add(pointNorm, centerNorm), add(dot, dot)));
}

/** NC centers against 4 vectors of points: 4 * NC accumulators stay in registers while the block's
    coordinates (L1-resident) stream by once for all NC centers. */
template <int NC>
inline void centersAgainstGroup(const float* points, size_t stride, int dims, const float* centers,
                                const float* centerNorms, const Vec (&pointNorms)[4],
                                Vec (&mins)[4])
{
    const int W = Vec::W;
    Vec acc[NC][4];
    for (int c = 0; c < NC; c++)
        for (int v = 0; v < 4; v++)
            acc[c][v] = zero();
    const float* p = points;
    for (int d = 0; d < dims; d++, p += stride)
    {
        const Vec x[4] = {load(p), load(p + W), load(p + 2 * W), load(p + 3 * W)};
        for (int c = 0; c < NC; c++)
        {
            const Vec coordinate = splat(centers[(size_t)c * dims + d]);
            for (int v = 0; v < 4; v++)
                acc[c][v] = fmadd(x[v], coordinate, acc[c][v]);
        }
    }
    for (int c = 0; c < NC; c++)
    {
        const Vec cn = splat(centerNorms[c]);
        for (int v = 0; v < 4; v++)
            mins[v] = minimum(mins[v], expandedDistance(pointNorms[v], cn, acc[c][v]));
    }
}

void applyCenters(const float* points, size_t stride, int count, int dims, const float* pointNorms,
                  const float* centers, const float* centerNorms, int nCenters, float* minDist2)
{
    const int W = Vec::W, group = 4 * W, NC = Vec::CENTERS;
    int j0 = 0;
    for (; j0 + group <= count; j0 += group)
    {
        Vec mins[4], norms[4];
        for (int v = 0; v < 4; v++)
        {
            mins[v] = load(minDist2 + j0 + v * W);
            norms[v] = load(pointNorms + j0 + v * W);
        }
        int c = 0;
        for (; c + NC <= nCenters; c += NC)
            centersAgainstGroup<NC>(points + j0, stride, dims, centers + (size_t)c * dims,
                                    centerNorms + c, norms, mins);
        for (; c < nCenters; c++)
            centersAgainstGroup<1>(points + j0, stride, dims, centers + (size_t)c * dims,
                                   centerNorms + c, norms, mins);
        for (int v = 0; v < 4; v++)
            store(minDist2 + j0 + v * W, mins[v]);
    }
    for (; j0 < count; j0 += W)
    {
        const Vec xn = load(pointNorms + j0);
        Vec m = load(minDist2 + j0);
        for (int c = 0; c < nCenters; c++)
        {
            const float* center = centers + (size_t)c * dims;
            Vec dot = zero();
            const float* p = points + j0;
            for (int d = 0; d < dims; d++, p += stride)
                dot = fmadd(load(p), splat(center[d]), dot);
            m = minimum(m, expandedDistance(xn, splat(centerNorms[c]), dot));
        }
        store(minDist2 + j0, m);
    }
}

void squaredNorms(const float* points, size_t stride, int count, int dims, float* out)
{
    const int W = Vec::W;
    for (int j0 = 0; j0 < count; j0 += W)
    {
        Vec acc = zero();
        const float* p = points + j0;
        for (int d = 0; d < dims; d++, p += stride)
        {
            const Vec x = load(p);
            acc = fmadd(x, x, acc);
        }
        store(out + j0, acc);
    }
}

/* |a - b|^2 of two float16 vectors (uint16 bit patterns), summed in float: the HNSW graph's
   distance. Half the bytes of float32 per visited entry, which is what a graph search over a bank
   that does not fit the cache waits for. */
float squaredDistanceHalf(const uint16_t* a, const uint16_t* b, int dims)
{
    int d = 0;
    float sum = 0.f;
#if defined(__AVX512F__)
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (; d + 32 <= dims; d += 32)
    {
        const __m512 t0 = _mm512_sub_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(a + d))),
                                        _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(b + d))));
        const __m512 t1 = _mm512_sub_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(a + d + 16))),
                                        _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(b + d + 16))));
        acc0 = _mm512_fmadd_ps(t0, t0, acc0);
        acc1 = _mm512_fmadd_ps(t1, t1, acc1);
    }
    for (; d + 16 <= dims; d += 16)
    {
        const __m512 t = _mm512_sub_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(a + d))),
                                       _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)(b + d))));
        acc0 = _mm512_fmadd_ps(t, t, acc0);
    }
    float lanes[16];  // not _mm512_reduce_add_ps: GCC 12's header warns inside it
    _mm512_storeu_ps(lanes, _mm512_add_ps(acc0, acc1));
    for (int l = 0; l < 16; l++)
        sum += lanes[l];
#elif defined(__F16C__) && defined(__FMA__)
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (; d + 16 <= dims; d += 16)
    {
        const __m256 t0 = _mm256_sub_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(a + d))),
                                        _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(b + d))));
        const __m256 t1 = _mm256_sub_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(a + d + 8))),
                                        _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(b + d + 8))));
        acc0 = _mm256_fmadd_ps(t0, t0, acc0);
        acc1 = _mm256_fmadd_ps(t1, t1, acc1);
    }
    for (; d + 8 <= dims; d += 8)
    {
        const __m256 t = _mm256_sub_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(a + d))),
                                       _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(b + d))));
        acc0 = _mm256_fmadd_ps(t, t, acc0);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(acc0, acc1));
    for (int l = 0; l < 8; l++)
        sum += lanes[l];
#endif
    for (; d < dims; d++)
    {
        const float t = halfToFloat(a[d]) - halfToFloat(b[d]);
        sum += t * t;
    }
    return sum;
}

} // namespace

const KernelTable* table()
{
    static const KernelTable kernelTable = {DMAD_KERNEL_NAME, dotProducts, centerRows, scanRow,
                                            applyCenters, squaredNorms, squaredDistanceHalf};
    return &kernelTable;
}

} // namespace DMAD_KERNEL_NS
} // namespace kernels
}} // namespace cv::dmad

#undef Eigen

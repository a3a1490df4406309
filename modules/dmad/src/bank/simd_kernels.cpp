// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Portable kernels and the run-time choice among the instruction-set variants.

#include "precomp.hpp"
#include "io/configuration.hpp"

#define DMAD_KERNEL_NS baseline
#define DMAD_KERNEL_NAME "baseline"
#define DMAD_EIGEN_NAMESPACE dmad_eigen_baseline
#include "bank/simd_kernels_impl.hpp"

#include <cstdlib>
#include <cstring>

namespace cv {
namespace dmad {
namespace kernels {

float dotReference(const float* x, size_t strideX, const float* c, int dims)
{
    float acc = 0.f;
    for (int d = 0; d < dims; d++)
        acc = std::fma(x[d * strideX], c[d], acc);
    return acc;
}

float squaredDistanceReference(float xNorm, float cNorm, float dot)
{
    return std::max(0.f, (xNorm + cNorm) - (dot + dot));
}

const KernelTable& baselineKernels()
{
    return *baseline::table();
}

namespace {

bool cpuHas(const char* feature)
{
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    // __builtin_cpu_supports needs a literal argument.
    if (!std::strcmp(feature, "avx512"))
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("f16c");
    if (!std::strcmp(feature, "avx2"))
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("f16c");
#else
    CV_UNUSED(feature);
#endif
    return false;
}

const KernelTable* chooseKernels()
{
    const String limit = config::getString("KERNELS", "avx512");
    if (limit == "avx512" && avx512::table() && cpuHas("avx512"))
        return avx512::table();
    if ((limit == "avx512" || limit == "avx2") && avx2::table() && cpuHas("avx2"))
        return avx2::table();
    return baseline::table();
}

} // namespace

const KernelTable& bestKernels()
{
    static const KernelTable* chosen = chooseKernels();
    return *chosen;
}

} // namespace kernels
}} // namespace cv::dmad

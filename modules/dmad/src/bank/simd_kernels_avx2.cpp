// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The kernels compiled for AVX2; cmake/dependencies.cmake gives this file its flags and defines
// DMAD_HAVE_AVX2 where the compiler and target support them.

// No precomp.hpp here: OpenCV's inline functions compiled with these flags could be merged by the
// linker into code that CPUs without them run.
#include "bank/simd_kernels.hpp"

#ifdef DMAD_HAVE_AVX2

#define DMAD_KERNEL_NS avx2
#define DMAD_KERNEL_NAME "avx2"
#define DMAD_EIGEN_NAMESPACE dmad_eigen_avx2
#include "bank/simd_kernels_impl.hpp"

#else

namespace cv {
namespace dmad {
namespace kernels {
namespace avx2 {

const KernelTable* table()
{
    return 0;
}

} // namespace avx2
} // namespace kernels
}} // namespace cv::dmad

#endif

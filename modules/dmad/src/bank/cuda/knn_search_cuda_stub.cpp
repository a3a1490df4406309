// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The CUDA search's entry points in a build without CUDA (DMAD_WITH_CUDA off or no toolkit): they
// say so, and MemoryBank turns that into its error. The standalone CMake compiles either this file
// or knn_search_cuda.cu; inside an OpenCV tree this file is always compiled.

#include "precomp.hpp"
#include "bank/knn_search.hpp"
#include "bank/cuda/knn_search_cuda.hpp"

namespace cv {
namespace dmad {

String cudaSearchUnavailableReason()
{
    return "dmad was built without CUDA (configure the standalone build with the CUDA toolkit "
           "installed and -DDMAD_WITH_CUDA=ON)";
}

struct CudaKnnIndex::Impl
{
};

CudaKnnIndex::CudaKnnIndex(const Mat&, const BankStatistics&, const Mat&)
{
    CV_Error(Error::GpuNotSupported, "dmad: " + cudaSearchUnavailableReason());
}

CudaKnnIndex::~CudaKnnIndex() {}

void CudaKnnIndex::search(const Mat&, const Mat&, int, bool, Mat&, Mat&) const
{
    CV_Error(Error::GpuNotSupported, "dmad: " + cudaSearchUnavailableReason());
}

int CudaKnnIndex::maxK()
{
    return 0;
}

}} // namespace cv::dmad

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_KNN_SEARCH_CUDA_HPP
#define OPENCV_DMAD_KNN_SEARCH_CUDA_HPP

// The CUDA brute-force search of MemoryBank. Implemented in knn_search_cuda.cu when dmad is built
// with CUDA (CMake option DMAD_WITH_CUDA), else by knn_search_cuda_stub.cpp, whose functions
// report that CUDA is missing. No CUDA type appears here, so the rest of the module compiles
// without the toolkit.

#include <opencv2/core.hpp>

#include <memory>

namespace cv {
namespace dmad {

struct BankStatistics;

/** Why the CUDA search cannot run in this process ("dmad was built without CUDA ...", "no CUDA
    device ..."), or an empty string when it can. */
String cudaSearchUnavailableReason();

/** A bank resident on the current CUDA device: its rows as stored (CV_32F or CV_16F, for the exact
    recomputation), the same rows centred on the bank mean as CV_32F (for the products), the
    centred row norms and the image ids. Built once per bank; search() may be called from several
    threads (calls are serialised on the index's stream). */
class CudaKnnIndex
{
public:
    /** @param bank N x D CV_32F or CV_16F, continuous
        @param stats computeBankStatistics(bank): the CPU's mean and centred norms, reused as they are
        @param bankImageIds N x 1 CV_32S */
    CudaKnnIndex(const Mat& bank, const BankStatistics& stats, const Mat& bankImageIds);
    ~CudaKnnIndex();

    /** Same contract as bruteForceKnn() (knn_search.hpp): q x k squared distances recomputed in
        double, ascending, ties by index; FLT_MAX / -1 where fewer than k entries remain. Checks
        the queries for NaN and infinities on the device (the same error as the CPU path).
        @param allowTF32 products on tensor cores in TF32 (candidates ranked less precisely) */
    void search(const Mat& queries, const Mat& excludeImageIds, int k, bool allowTF32,
                Mat& distances, Mat& indices) const;

    //! The largest k search() accepts.
    static int maxK();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}} // namespace cv::dmad

#endif // OPENCV_DMAD_KNN_SEARCH_CUDA_HPP

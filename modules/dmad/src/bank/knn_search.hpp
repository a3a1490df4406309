// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_KNN_SEARCH_HPP
#define OPENCV_DMAD_KNN_SEARCH_HPP

#include <opencv2/core.hpp>

#include <memory>

namespace cv {
namespace dmad {

/** The search first keeps this many more candidates than asked for, ranked by the fast but
    rounding-prone `|m|^2 - 2 q.m`, then ranks them again by exactly recomputed distances: a
    neighbour is lost only if more than this many entries lie within float rounding of it. */
constexpr int kExtraCandidates = 3;

/** What the brute-force search precomputes once per bank. Queries and bank tiles are centred on
    the bank's mean before their dot products: distances do not change, but the rounding error of
    `|m|^2 - 2 q.m` then scales with the spread of the features instead of their norm (CNN
    features share a large common component, e.g. all non-negative after a ReLU). */
struct BankStatistics
{
    Mat mean;           //!< 1 x D CV_32F
    Mat centeredNorms;  //!< N x 1 CV_32F, |m - mean|^2
};

//! One pass over the bank (CV_32F or CV_16F), in parallel.
CV_EXPORTS BankStatistics computeBankStatistics(const Mat& bank);

//! Who computes the dot-product tiles of bruteForceKnn().
enum class KnnProducts
{
    Automatic,  //!< BLAS where blas::enabled(), else the kernels
    Kernels,    //!< the library's own (Eigen) products, tile by tile inside each thread
    Blas        //!< one BLAS sgemm per bank tile, threaded by BLAS (needs a BLAS build)
};

/** Exact k nearest neighbours by squared L2: blocked A * B^T products of the centred queries and
    bank tiles with a fused top-k scan, then an exact (double) recomputation of the winners.
    @param queries      q x D CV_32F, continuous
    @param bank         N x D CV_32F or CV_16F (converted tile by tile), continuous
    @param stats        computeBankStatistics(bank)
    @param bankImageIds N x 1 CV_32S (used only with excludeImageIds)
    @param excludeImageIds empty or q x 1 CV_32S
    @param distances, indices  q x k outputs (ascending; FLT_MAX / -1 where fewer than k remain) */
CV_EXPORTS void bruteForceKnn(const Mat& queries, const Mat& bank, const BankStatistics& stats,
                   const Mat& bankImageIds, const Mat& excludeImageIds, int k, Mat& distances,
                   Mat& indices, KnnProducts products = KnnProducts::Automatic);

/** Ranks each query's candidate rows (`candidates`, q x m CV_32S, -1 = none) by their exact
    squared distance (computed in double), ties by index, and keeps the first k. */
void refineCandidates(const Mat& queries, const Mat& bank, const Mat& candidates, int k,
                      Mat& distances, Mat& indices);

/** Exact KD-tree index (nanoflann) over a CV_32F copy of the bank; build once, search from any
    number of threads. */
class KdTreeIndex
{
public:
    explicit KdTreeIndex(const Mat& bank);
    ~KdTreeIndex();
    //! Same contract as bruteForceKnn().
    void search(const Mat& queries, const Mat& bankImageIds, const Mat& excludeImageIds, int k,
                Mat& distances, Mat& indices) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}} // namespace cv::dmad

#endif // OPENCV_DMAD_KNN_SEARCH_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_HNSW_INDEX_HPP
#define OPENCV_DMAD_HNSW_INDEX_HPP

#include <opencv2/core.hpp>

#include <memory>

namespace cv {
namespace dmad {

//! Whether the library was built with hnswlib (Debian: libhnswlib-dev).
CV_EXPORTS bool hnswAvailable();

/** Approximate k-NN over a bank: hnswlib's HNSW graph (Malkov and Yashunin, 2018) over a float16
    copy of the bank with the library's run-time dispatched kernels, and the candidates' distances
    recomputed exactly (double) from the bank as the exact search does. Build once; search from any number of threads.
    The graph is saved without the vectors (they are the bank's): the file grows by about
    (2 M + 1) x 4 bytes per entry, not 2 D; in memory the graph holds 2 D + (2 M + 1) x 4. Exported for the tests. */
class CV_EXPORTS HnswIndex
{
public:
    /** Builds the graph over `bank` (N x D, CV_32F or CV_16F), in parallel.
        @param M graph degree (2 M links per entry on the ground layer)
        @param efConstruction candidate list size while inserting
        @param efSearch candidate list size while searching (at least k + kExtraCandidates) */
    HnswIndex(const Mat& bank, int M, int efConstruction, int efSearch, uint64 seed);
    //! Rebuilds the index from a node written by write(), over the same bank.
    HnswIndex(const Mat& bank, const FileNode& node, int efSearch, const String& where);
    ~HnswIndex();

    /** The k nearest entries found; distances exact (squared L2), ascending; -1 / FLT_MAX where
        fewer than k are found. */
    void search(const Mat& queries, int k, Mat& distances, Mat& indices) const;

    void write(FileStorage& fs) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}} // namespace cv::dmad

#endif // OPENCV_DMAD_HNSW_INDEX_HPP

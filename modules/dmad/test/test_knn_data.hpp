// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Random k-NN problems shared by the CPU and the CUDA memory-bank tests.

#ifndef OPENCV_DMAD_TEST_KNN_DATA_HPP
#define OPENCV_DMAD_TEST_KNN_DATA_HPP

#include "test_precomp.hpp"

namespace opencv_test {

//! Random N(0, 1) bank in images of `patchesPerImage` rows, queries of which the first ones are bank rows.
struct KnnData
{
    Mat bank, queries, ids, exclude;
    KnnData(int N, int D, int Q, int patchesPerImage, uint64 seed)
    {
        RNG rng(seed);
        bank.create(N, D, CV_32F);
        queries.create(Q, D, CV_32F);
        ids.create(N, 1, CV_32S);
        exclude.create(Q, 1, CV_32S);
        rng.fill(bank, RNG::NORMAL, 0, 1);
        rng.fill(queries, RNG::NORMAL, 0, 1);
        const int images = (N + patchesPerImage - 1) / patchesPerImage;
        for (int j = 0; j < N; j++)
            ids.at<int>(j) = j / patchesPerImage;
        for (int i = 0; i < Q; i++)
            exclude.at<int>(i) = i % images;
        // queries that are bank rows: their own image is excluded, or they find themselves at 0
        for (int i = 0; i < std::min(10, Q); i++)
            bank.row(queryRowSource(i, N)).copyTo(queries.row(i));
    }
    static int queryRowSource(int i, int N) { return (i * 290 + 5) % N; }
};

} // namespace opencv_test

#endif // OPENCV_DMAD_TEST_KNN_DATA_HPP

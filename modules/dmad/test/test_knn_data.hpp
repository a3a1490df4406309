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

/** Bank and queries all within N(0, 0.05^2) of one point with |x|^2 about 88,000 (D = 1536): large
    norms, small distances, where |q|^2 - 2 q.m + |m|^2 loses digits. */
inline void nearDuplicates(int N, int Q, int D, uint64 seed, Mat& bank, Mat& queries)
{
    RNG rng(seed);
    Mat base(1, D, CV_32F), noise(1, D, CV_32F);
    bank.create(N, D, CV_32F);
    queries.create(Q, D, CV_32F);
    rng.fill(base, RNG::UNIFORM, 5, 10);
    for (int j = 0; j < N; j++)
    {
        rng.fill(noise, RNG::NORMAL, 0, 0.05);
        bank.row(j) = base + noise;
    }
    for (int i = 0; i < Q; i++)
    {
        rng.fill(noise, RNG::NORMAL, 0, 0.05);
        queries.row(i) = base + noise;
    }
}

/** The search of the 20 x 3 bank whose entries all belong to image 7, with queries excluding image 7
    and nothing: the first query has no neighbour (-1 at FLT_MAX), the second has k. */
inline void expectEverythingExcludedForFirstQuery(const Mat& d, const Mat& idx, int k)
{
    for (int r = 0; r < k; r++)
    {
        EXPECT_EQ(-1, idx.at<int>(0, r));
        EXPECT_EQ(FLT_MAX, d.at<float>(0, r));
        EXPECT_GE(idx.at<int>(1, r), 0);
    }
}

} // namespace opencv_test

#endif // OPENCV_DMAD_TEST_KNN_DATA_HPP

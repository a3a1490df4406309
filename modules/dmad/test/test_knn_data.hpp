// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Random k-NN problems shared by the CPU and the CUDA memory-bank tests.

#ifndef OPENCV_DMAD_TEST_KNN_DATA_HPP
#define OPENCV_DMAD_TEST_KNN_DATA_HPP

#include "test_precomp.hpp"

#include <cfloat>

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

//! The obvious double loop: squared L2 in double, sorted, ties broken by index.
inline void bruteForce(const Mat& bank, const Mat& ids, const Mat& queries, const Mat& exclude, int k,
                Mat& dist, Mat& idx)
{
    dist.create(queries.rows, k, CV_32F);
    idx.create(queries.rows, k, CV_32S);
    for (int i = 0; i < queries.rows; i++)
    {
        std::vector<std::pair<double, int>> all;
        for (int j = 0; j < bank.rows; j++)
        {
            if (!exclude.empty() && exclude.at<int>(i) >= 0 && ids.at<int>(j) == exclude.at<int>(i))
                continue;
            double s = 0;
            for (int c = 0; c < bank.cols; c++)
            {
                const double t = (double)queries.at<float>(i, c) - bank.at<float>(j, c);
                s += t * t;
            }
            all.emplace_back(s, j);
        }
        std::sort(all.begin(), all.end());
        for (int r = 0; r < k; r++)
        {
            dist.at<float>(i, r) = r < (int)all.size() ? (float)all[r].first : FLT_MAX;
            idx.at<int>(i, r) = r < (int)all.size() ? all[r].second : -1;
        }
    }
}

//! Distances to 1e-4 relative, indices equal wherever the reference distances are not tied.
inline void expectSameNeighbours(const Mat& refD, const Mat& refIdx, const Mat& d, const Mat& idx)
{
    ASSERT_EQ(CV_32F, d.type());
    ASSERT_EQ(CV_32S, idx.type());
    ASSERT_EQ(refD.size(), d.size());
    ASSERT_EQ(refIdx.size(), idx.size());
    const int k = refD.cols;
    for (int i = 0; i < refD.rows; i++)
        for (int r = 0; r < k; r++)
        {
            const float expected = refD.at<float>(i, r);
            EXPECT_NEAR(expected, d.at<float>(i, r), 1e-4 * std::max(1.f, expected))
                << i << "," << r;
            const bool tied = (r > 0 && refD.at<float>(i, r - 1) == expected) ||
                              (r + 1 < k && refD.at<float>(i, r + 1) == expected);
            if (!tied)
                EXPECT_EQ(refIdx.at<int>(i, r), idx.at<int>(i, r)) << i << "," << r;
        }
}

} // namespace opencv_test

#endif // OPENCV_DMAD_TEST_KNN_DATA_HPP

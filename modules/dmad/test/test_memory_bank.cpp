// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"

#include <cfloat>

namespace opencv_test { namespace {

//! The obvious double loop: squared L2 in double, sorted, ties broken by index.
void bruteForce(const Mat& bank, const Mat& ids, const Mat& queries, const Mat& exclude, int k,
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

class DMAD_MemoryBankKnn : public ::testing::TestWithParam<std::tuple<int, bool, int>> {};

TEST_P(DMAD_MemoryBankKnn, matches_brute_force)
{
    const int k = std::get<0>(GetParam());
    const bool leaveOneImageOut = std::get<1>(GetParam());
    const int threads = std::get<2>(GetParam());
    const int N = 3000, D = 37, Q = 150;
    RNG rng(1234);
    Mat bank(N, D, CV_32F), queries(Q, D, CV_32F), ids(N, 1, CV_32S), exclude(Q, 1, CV_32S);
    rng.fill(bank, RNG::NORMAL, 0, 1);
    rng.fill(queries, RNG::NORMAL, 0, 1);
    for (int j = 0; j < N; j++)
        ids.at<int>(j) = j / 100;  // 30 images of 100 patches
    for (int i = 0; i < Q; i++)
        exclude.at<int>(i) = leaveOneImageOut ? i % 30 : -1;
    // queries that are bank rows: their own image is excluded, or they find themselves at distance 0
    for (int i = 0; i < 10; i++)
        bank.row(i * 290 + 5).copyTo(queries.row(i));

    Ptr<MemoryBank> mb = MemoryBank::create();
    mb->add(bank.rowRange(0, 1000), ids.rowRange(0, 1000));
    mb->add(bank.rowRange(1000, N), ids.rowRange(1000, N));
    ASSERT_EQ(N, mb->size());
    ASSERT_EQ(D, mb->dims());

    const int savedThreads = getNumThreads();
    setNumThreads(threads);
    Mat d, idx, refD, refIdx;
    mb->search(queries, k, d, idx, leaveOneImageOut ? exclude : Mat());
    setNumThreads(savedThreads);
    bruteForce(bank, ids, queries, leaveOneImageOut ? exclude : Mat(), k, refD, refIdx);

    ASSERT_EQ(CV_32F, d.type());
    ASSERT_EQ(CV_32S, idx.type());
    for (int i = 0; i < Q; i++)
        for (int r = 0; r < k; r++)
        {
            const float expected = refD.at<float>(i, r);
            EXPECT_NEAR(expected, d.at<float>(i, r), 1e-4 * std::max(1.f, expected)) << i << "," << r;
            const bool tied = (r > 0 && refD.at<float>(i, r - 1) == expected) ||
                              (r + 1 < k && refD.at<float>(i, r + 1) == expected);
            if (!tied)
                EXPECT_EQ(refIdx.at<int>(i, r), idx.at<int>(i, r)) << i << "," << r;
        }
    if (!leaveOneImageOut)
        for (int i = 0; i < 10; i++)
            EXPECT_EQ(i * 290 + 5, idx.at<int>(i, 0));
}

INSTANTIATE_TEST_CASE_P(/**/, DMAD_MemoryBankKnn,
                        ::testing::Combine(::testing::Values(1, 5), ::testing::Bool(), ::testing::Values(1, 2)));

}} // namespace

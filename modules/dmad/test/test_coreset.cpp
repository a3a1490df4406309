// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"
#include "../src/bank/coreset.hpp"

#include <algorithm>
#include <mutex>
#include <set>

namespace opencv_test { namespace {

Mat randomFeatures(int N, int D, uint64 seed)
{
    Mat f(N, D, CV_32F);
    RNG rng(seed);
    rng.fill(f, RNG::NORMAL, 0, 1);
    return f;
}

//! Clustered data: many near-duplicates, as CNN patch features of one product have.
Mat clusteredFeatures(int N, int D, int clusters, uint64 seed)
{
    RNG rng(seed);
    Mat centers(clusters, D, CV_32F), f(N, D, CV_32F), noise(1, D, CV_32F);
    rng.fill(centers, RNG::NORMAL, 0, 3);
    for (int i = 0; i < N; i++)
    {
        rng.fill(noise, RNG::NORMAL, 0, 0.1);
        f.row(i) = centers.row(rng.uniform(0, clusters)) + noise;
    }
    return f;
}

typedef std::tuple<int, int, int, int, int> CoresetCase;  // N, D, projection, count, threads
class DMAD_CoresetExact : public ::testing::TestWithParam<CoresetCase> {};

TEST_P(DMAD_CoresetExact, picks_exactly_what_the_naive_greedy_picks)
{
    const int N = std::get<0>(GetParam()), D = std::get<1>(GetParam());
    const int count = std::get<3>(GetParam()), threads = std::get<4>(GetParam());
    CoresetParams params;
    params.projectionDims = std::get<2>(GetParam());
    params.seed = 42;
    for (int data = 0; data < 2; data++)
    {
        const Mat features = data ? clusteredFeatures(N, D, 25, 8) : randomFeatures(N, D, 7);
        const int saved = getNumThreads();
        setNumThreads(threads);
        const std::vector<int> fast = selectCoreset(features, count, params);
        setNumThreads(saved);
        const std::vector<int> naive = selectCoresetNaive(features, count, params);
        ASSERT_EQ(naive.size(), fast.size());
        for (size_t t = 0; t < naive.size(); t++)
            ASSERT_EQ(naive[t], fast[t]) << "pick " << t << (data ? " (clustered)" : " (random)");
        EXPECT_EQ(fast.size(), std::set<int>(fast.begin(), fast.end()).size()) << "no row twice";
    }
}

INSTANTIATE_TEST_CASE_P(/**/, DMAD_CoresetExact, ::testing::Values(
    CoresetCase(2000, 64, 16, 100, 1),
    CoresetCase(2000, 64, 16, 100, 2),
    CoresetCase(1001, 20, 0, 300, 2),     // no projection; a last block with one point
    CoresetCase(20000, 48, 24, 300, 2),   // 128-point blocks
    CoresetCase(300, 8, 0, 300, 2)));     // every row

/* Independent of the implementation: with every row a start point and no projection, the first
   pick maximises the mean Euclidean distance to all rows, and each later pick the smallest distance
   to the earlier picks (or that mean, if smaller), computed here in double. */
TEST(DMAD_Coreset, follows_patchcore_greedy_definition)
{
    const int N = 400, D = 6, count = 40;
    const Mat f = randomFeatures(N, D, 11);
    CoresetParams params;
    params.projectionDims = 0;
    params.startPoints = N;
    const std::vector<int> picks = selectCoreset(f, count, params);
    auto dist = [&](int a, int b) { return cv::norm(f.row(a), f.row(b), NORM_L2); };
    std::vector<double> key(N);
    for (int i = 0; i < N; i++)
    {
        double s = 0;
        for (int j = 0; j < N; j++)
            s += dist(i, j);
        key[i] = s / N;
    }
    for (int t = 0; t < count; t++)
    {
        std::vector<std::pair<double, int>> order;
        for (int i = 0; i < N; i++)
            order.emplace_back(-key[i], i);
        std::sort(order.begin(), order.end());
        const double best = -order[0].first, second = -order[1].first;
        if (best - second > 1e-4 * best)  // not a near tie: the pick is determined
            EXPECT_EQ(order[0].second, picks[t]) << "pick " << t;
        for (int i = 0; i < N; i++)
            key[i] = std::min(key[i], dist(i, picks[t]));
        key[picks[t]] = -1;
    }
}

TEST(DMAD_Coreset, seed_decides_and_arguments_are_checked)
{
    const Mat f = randomFeatures(3000, 32, 5);
    CoresetParams a, b;
    a.projectionDims = b.projectionDims = 16;
    b.seed = 1;
    EXPECT_EQ(selectCoreset(f, 50, a), selectCoreset(f, 50, a));
    EXPECT_NE(selectCoreset(f, 50, a), selectCoreset(f, 50, b));
    EXPECT_CV_ERROR(selectCoreset(f, 0), "coreset size 0 must be in 1..3000");
    EXPECT_CV_ERROR(selectCoreset(f, 3001), "coreset size 3001");
    EXPECT_CV_ERROR(selectCoreset(Mat(), 1), "non-empty 2D CV_32F");
    EXPECT_CV_ERROR(selectCoreset(Mat(10, 4, CV_64F, Scalar(0)), 1), "CV_64F");
    CoresetParams bad;
    bad.startPoints = 0;
    EXPECT_CV_ERROR(selectCoreset(f, 5, bad), "startPoints (0)");
}

TEST(DMAD_Coreset, reports_progress)
{
    const Mat f = randomFeatures(5000, 32, 5);
    std::vector<std::string> tasks;
    int64 lastDone = 0, lastTotal = 0;
    std::mutex m;
    const ProgressCallback saved = getProgressCallback();
    setProgressCallback([&](const String& task, int64 done, int64 total, const String&) {
        std::lock_guard<std::mutex> lock(m);
        tasks.push_back(task);
        if (task == "coreset")
        {
            lastDone = done;
            lastTotal = total;
        }
    });
    selectCoreset(f, 100);
    setProgressCallback(saved);
    EXPECT_NE(tasks.end(), std::find(tasks.begin(), tasks.end(), "coreset"));
    EXPECT_EQ(100, lastDone);
    EXPECT_EQ(100, lastTotal);
}

}} // namespace

namespace opencv_test { namespace {

// Three classes of 300, 40 and 10 rows and 60 rows of no class, cut to 100: the 10 keep all,
// the rest share 90 equally (30 each, the 40-row class too); within a class the picks are the
// class's own greedy coreset.
TEST(DMAD_Coreset, balanced_coreset_shares_the_rows_equally_among_classes)
{
    const int sizes[] = {300, 40, 10, 60}, classOf[] = {0, 1, 2, -1};
    Mat features, classIds;
    RNG rng(5);
    std::vector<Mat> parts;
    for (int c = 0; c < 4; c++)
    {
        Mat part(sizes[c], 16, CV_32F);
        rng.fill(part, RNG::NORMAL, c * 3.0, 1.0);
        parts.push_back(part);
        features.push_back(part);
        classIds.push_back(Mat(sizes[c], 1, CV_32S, Scalar(classOf[c])));
    }
    const std::vector<int> keep = selectBalancedCoreset(features, classIds, 100);
    ASSERT_EQ(100u, keep.size());
    EXPECT_TRUE(std::is_sorted(keep.begin(), keep.end()));
    const int expected[] = {30, 30, 10, 30};
    int offset = 0;
    for (int c = 0; c < 4; c++)
    {
        std::vector<int> inClass;
        for (int r : keep)
            if (r >= offset && r < offset + sizes[c])
                inClass.push_back(r - offset);
        EXPECT_EQ(expected[c], (int)inClass.size()) << "class " << classOf[c];
        if (expected[c] < sizes[c])
        {
            std::vector<int> own = selectCoreset(parts[c], expected[c]);
            std::sort(own.begin(), own.end());
            EXPECT_EQ(own, inClass) << "class " << classOf[c];
        }
        offset += sizes[c];
    }
    // enough room: every row
    EXPECT_EQ(410u, selectBalancedCoreset(features, classIds, 1000).size());
    EXPECT_CV_ERROR(selectBalancedCoreset(features, classIds.rowRange(0, 5), 10), "class id per row");
    EXPECT_CV_ERROR(selectBalancedCoreset(features, classIds, 0), "count = 0");
}

}} // namespace

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"
#include "test_files.hpp"
#include "test_knn_data.hpp"

#include <cfloat>
#include <iterator>
#include <thread>

namespace opencv_test { namespace {


//! Runs `body` with cv::setNumThreads(threads), restoring the previous count.
template <class Body>
void withThreads(int threads, Body body)
{
    const int saved = getNumThreads();
    setNumThreads(threads);
    try
    {
        body();
    }
    catch (...)
    {
        setNumThreads(saved);
        throw;
    }
    setNumThreads(saved);
}

typedef std::tuple<int, bool, int, int> KnnParam;  // k, leave-one-image-out, threads, method
class DMAD_MemoryBankKnn : public ::testing::TestWithParam<KnnParam> {};

TEST_P(DMAD_MemoryBankKnn, matches_brute_force)
{
    const int k = std::get<0>(GetParam());
    const bool leaveOneImageOut = std::get<1>(GetParam());
    const int threads = std::get<2>(GetParam());
    const int method = std::get<3>(GetParam());
    // the KD-tree only makes sense in low dimensions
    const int N = 3000, D = method == MemoryBank::SEARCH_KDTREE ? 5 : 37, Q = 150;
    KnnData data(N, D, Q, 100, 1234);
    const Mat exclude = leaveOneImageOut ? data.exclude : Mat();

    MemoryBank::Params params;
    params.searchMethod = method;
    Ptr<MemoryBank> mb = MemoryBank::create(params);
    mb->add(data.bank.rowRange(0, 1000), data.ids.rowRange(0, 1000));
    mb->add(data.bank.rowRange(1000, N), data.ids.rowRange(1000, N));
    ASSERT_EQ(N, mb->size());
    ASSERT_EQ(D, mb->dims());

    Mat d, idx, refD, refIdx;
    withThreads(threads, [&] { mb->search(data.queries, k, d, idx, exclude); });
    bruteForce(data.bank, data.ids, data.queries, exclude, k, refD, refIdx);
    expectSameNeighbours(refD, refIdx, d, idx);
    if (!leaveOneImageOut)
        for (int i = 0; i < 10; i++)
        {
            EXPECT_EQ(KnnData::queryRowSource(i, N), idx.at<int>(i, 0));
            EXPECT_EQ(0.f, d.at<float>(i, 0));
        }
}

INSTANTIATE_TEST_CASE_P(/**/, DMAD_MemoryBankKnn,
                        ::testing::Combine(::testing::Values(1, 5), ::testing::Bool(),
                                           ::testing::Values(1, 2),
                                           ::testing::Values((int)MemoryBank::SEARCH_BRUTE_FORCE,
                                                             (int)MemoryBank::SEARCH_KDTREE)));

// Few queries against a larger bank: the bank is cut into chunks whose candidates are merged.
TEST(DMAD_MemoryBank, few_queries_large_bank_matches_brute_force)
{
    const int N = 20000, D = 24, Q = 7, k = 5;
    KnnData data(N, D, Q, 1000, 77);
    MemoryBank::Params params;
    params.searchMethod = MemoryBank::SEARCH_BRUTE_FORCE;
    Ptr<MemoryBank> mb = MemoryBank::create(params);
    mb->add(data.bank, data.ids);
    for (int loo = 0; loo < 2; loo++)
    {
        const Mat exclude = loo ? data.exclude : Mat();
        Mat d, idx, refD, refIdx;
        mb->search(data.queries, k, d, idx, exclude);
        bruteForce(data.bank, data.ids, data.queries, exclude, k, refD, refIdx);
        expectSameNeighbours(refD, refIdx, d, idx);
    }
}

// Realistic dimension: large norms, small distances, where |q|^2 - 2q.m + |m|^2 loses digits.
TEST(DMAD_MemoryBank, near_duplicates_in_high_dimension)
{
    const int N = 2000, D = 1536, Q = 40, k = 5;
    Mat bank, queries;
    nearDuplicates(N, Q, D, 5, bank, queries);
    Ptr<MemoryBank> mb = MemoryBank::create();
    mb->add(bank);
    Mat d, idx, refD, refIdx;
    mb->search(queries, k, d, idx);
    bruteForce(bank, Mat(N, 1, CV_32S, Scalar(-1)), queries, Mat(), k, refD, refIdx);
    expectSameNeighbours(refD, refIdx, d, idx);
}

TEST(DMAD_MemoryBank, search_nearest_of_an_exact_bank_is_its_nearest_neighbour)
{
    KnnData data(500, 16, 60, 10, 3);
    MemoryBank::Params p;
    p.searchMethod = MemoryBank::SEARCH_BRUTE_FORCE;
    Ptr<MemoryBank> mb = MemoryBank::create(p);
    mb->add(data.bank);
    Mat refD, refIdx, nearest;
    bruteForce(data.bank, Mat(data.bank.rows, 1, CV_32S, Scalar(-1)), data.queries, Mat(), 1, refD, refIdx);
    mb->searchNearest(data.queries, 12, nearest);
    ASSERT_EQ(refD.rows, nearest.rows);
    for (int i = 0; i < refD.rows; i++)
        EXPECT_NEAR(refD.at<float>(i), nearest.at<float>(i), 1e-6 * std::max(1.f, refD.at<float>(i)));
}

TEST(DMAD_MemoryBank, excluding_everything_leaves_no_neighbours)
{
    Mat bank(20, 3, CV_32F), queries(2, 3, CV_32F);
    randu(bank, 0, 1);
    randu(queries, 0, 1);
    Mat ids(20, 1, CV_32S, Scalar(7)), exclude = (Mat_<int>(2, 1) << 7, -1);
    for (int method : {(int)MemoryBank::SEARCH_BRUTE_FORCE, (int)MemoryBank::SEARCH_KDTREE})
    {
        MemoryBank::Params params;
        params.searchMethod = method;
        Ptr<MemoryBank> mb = MemoryBank::create(params);
        mb->add(bank, ids);
        Mat d, idx;
        mb->search(queries, 3, d, idx, exclude);
        expectEverythingExcludedForFirstQuery(d, idx, 3);
    }
}

TEST(DMAD_MemoryBank, concurrent_searches_equal_single_thread)
{
    for (int method : {(int)MemoryBank::SEARCH_BRUTE_FORCE, (int)MemoryBank::SEARCH_KDTREE})
    {
        const int D = method == MemoryBank::SEARCH_KDTREE ? 4 : 64;
        KnnData data(5000, D, 300, 100, 31);
        MemoryBank::Params params;
        params.searchMethod = method;
        Ptr<MemoryBank> mb = MemoryBank::create(params);
        mb->add(data.bank, data.ids);
        Mat refD, refIdx;
        {
            // a second bank, so that the KD-tree of `mb` is built by the concurrent searches
            Ptr<MemoryBank> single = MemoryBank::create(params);
            single->add(data.bank, data.ids);
            withThreads(1, [&] { single->search(data.queries, 5, refD, refIdx, data.exclude); });
        }
        std::vector<Mat> d(4), idx(4);
        std::vector<std::thread> workers;
        for (int t = 0; t < 4; t++)
            workers.emplace_back(
                [&, t] { mb->search(data.queries, 5, d[t], idx[t], data.exclude); });
        for (std::thread& w : workers)
            w.join();
        for (int t = 0; t < 4; t++)
        {
            EXPECT_EQ(0, cv::norm(refIdx, idx[t])) << "thread " << t << ", method " << method;
            EXPECT_EQ(0, cv::norm(refD, d[t])) << "thread " << t << ", method " << method;
        }
    }
}

TEST(DMAD_MemoryBank, auto_method_follows_the_crossover_rule)
{
    EXPECT_FALSE(MemoryBank::kdTreeIsFaster(500, 2));
    EXPECT_TRUE(MemoryBank::kdTreeIsFaster(1000, 2));
    EXPECT_FALSE(MemoryBank::kdTreeIsFaster(2000, 4));
    EXPECT_TRUE(MemoryBank::kdTreeIsFaster(10000, 4));
    EXPECT_FALSE(MemoryBank::kdTreeIsFaster(10000, 6));
    EXPECT_TRUE(MemoryBank::kdTreeIsFaster(100000, 6));
    EXPECT_FALSE(MemoryBank::kdTreeIsFaster(300000, 8));
    EXPECT_FALSE(MemoryBank::kdTreeIsFaster(1000000, 12));
    EXPECT_FALSE(MemoryBank::kdTreeIsFaster(74321, 1536));
    // and SEARCH_AUTO gives the same neighbours either way
    KnnData data(6000, 3, 50, 100, 4);
    Ptr<MemoryBank> automatic = MemoryBank::create();
    automatic->add(data.bank, data.ids);
    Mat d, idx, refD, refIdx;
    automatic->search(data.queries, 2, d, idx, data.exclude);
    bruteForce(data.bank, data.ids, data.queries, data.exclude, 2, refD, refIdx);
    expectSameNeighbours(refD, refIdx, d, idx);
}

TEST(DMAD_MemoryBank, float16_storage_searches_the_rounded_features)
{
    KnnData data(3000, 40, 100, 100, 9);
    // float16 subnormals, zeros and large values go through the tile conversion too
    for (int j = 0; j < 200; j++)
    {
        data.bank.at<float>(j, j % 40) = (j % 2 ? 1 : -1) * 3e-6f * (j % 7);
        data.bank.at<float>(j + 200, j % 40) = (j % 2 ? 1 : -1) * 1000.f;
    }
    MemoryBank::Params params;
    params.halfPrecisionStorage = true;
    Ptr<MemoryBank> mb = MemoryBank::create(params);
    mb->add(data.bank, data.ids);
    Mat rounded16, rounded;
    data.bank.convertTo(rounded16, CV_16F);
    rounded16.convertTo(rounded, CV_32F);
    EXPECT_EQ(0, cv::norm(rounded, mb->getFeatures()));
    Mat d, idx, refD, refIdx;
    mb->search(data.queries, 5, d, idx, data.exclude);
    bruteForce(rounded, data.ids, data.queries, data.exclude, 5, refD, refIdx);
    expectSameNeighbours(refD, refIdx, d, idx);
}

TEST(DMAD_MemoryBank, bad_input_raises_clear_errors)
{
    Ptr<MemoryBank> mb = MemoryBank::create();
    Mat q(2, 8, CV_32F, Scalar(0)), d, idx;
    EXPECT_TRUE(mb->empty());
    EXPECT_CV_ERROR(mb->search(q, 1, d, idx), "empty memory bank");
    EXPECT_CV_ERROR(mb->add(Mat()), "got no features");
    EXPECT_CV_ERROR(mb->add(Mat(3, 8, CV_64F, Scalar(0))), "CV_32F");
    Mat withNan(3, 8, CV_32F, Scalar(1));
    withNan.at<float>(2, 5) = std::numeric_limits<float>::quiet_NaN();
    EXPECT_CV_ERROR(mb->add(withNan), "NaN");
    EXPECT_TRUE(mb->empty()) << "a rejected add must not change the bank";
    mb->add(Mat(10, 8, CV_32F, Scalar(1)));
    EXPECT_CV_ERROR(mb->add(Mat(3, 9, CV_32F, Scalar(0))), "features have 9 dims, the bank has 8");
    EXPECT_CV_ERROR(mb->add(Mat(3, 8, CV_32F, Scalar(0)), Mat(2, 1, CV_32S)), "imageIds");
    EXPECT_CV_ERROR(mb->add(Mat(3, 8, CV_32F, Scalar(0)), Mat(3, 1, CV_32F)), "imageIds");
    EXPECT_CV_ERROR(mb->search(Mat(2, 7, CV_32F, Scalar(0)), 1, d, idx), "queries have 7 dims");
    EXPECT_CV_ERROR(mb->search(Mat(2, 8, CV_64F, Scalar(0)), 1, d, idx), "CV_32F");
    EXPECT_CV_ERROR(mb->search(q, 0, d, idx), "k = 0");
    EXPECT_CV_ERROR(mb->search(q, 11, d, idx), "k = 11, must be in 1..10");
    EXPECT_CV_ERROR(mb->search(q, 1, d, idx, Mat(3, 1, CV_32S)), "excludeImageIds");
    MemoryBank::Params bad;
    bad.searchMethod = 7;
    EXPECT_CV_ERROR(MemoryBank::create(bad), "unknown MemoryBank search method 7");
    mb->clear();
    EXPECT_EQ(0, mb->size());
    EXPECT_CV_ERROR(mb->search(q, 1, d, idx), "empty memory bank");
}

//! A bank with ids, saved to `path` with the given storage.
Ptr<MemoryBank> savedBank(const std::string& path, bool half, Mat& features)
{
    KnnData data(500, 48, 1, 50, 3);
    features = data.bank;
    MemoryBank::Params params;
    params.halfPrecisionStorage = half;
    Ptr<MemoryBank> mb = MemoryBank::create(params);
    Mat classes(500, 1, CV_32S);
    for (int j = 0; j < 500; j++)
        classes.at<int>(j) = j % 3;
    mb->add(data.bank, data.ids, classes);
    mb->save(path);
    return mb;
}

size_t fileSize(const std::string& path)
{
    std::ifstream f(path.c_str(), std::ios::binary | std::ios::ate);
    return (size_t)f.tellg();
}

TEST(DMAD_MemoryBank, save_load_round_trip)
{
    TempFile f32(".yml"), f16(".yml"), gz(".yml.gz");
    Mat features;
    Ptr<MemoryBank> original = savedBank(f32.path, false, features);
    savedBank(f16.path, true, features);
    savedBank(gz.path, false, features);

    Ptr<MemoryBank> a = MemoryBank::load(f32.path);
    EXPECT_EQ(0, cv::norm(features, a->getFeatures())) << "float32 must round-trip exactly";
    EXPECT_EQ(0, cv::norm(original->getImageIds(), a->getImageIds()));
    EXPECT_EQ(0, cv::norm(original->getClassIds(), a->getClassIds()));
    EXPECT_FALSE(a->getParams().halfPrecisionStorage);

    Ptr<MemoryBank> h = MemoryBank::load(f16.path);
    EXPECT_TRUE(h->getParams().halfPrecisionStorage);
    EXPECT_LE(cv::norm(features, h->getFeatures(), NORM_INF), 1e-3 * 4)
        << "float16 keeps 11 significant bits: |x| < 4 is within 1e-3 * 4";
    Mat rel;
    absdiff(features, h->getFeatures(), rel);
    rel /= (abs(features) + 1e-3);
    EXPECT_LE(cv::norm(rel, Mat::zeros(rel.size(), CV_32F), NORM_INF), 1e-3);
    EXPECT_LT(fileSize(f16.path), fileSize(f32.path) * 6 / 10);

    Ptr<MemoryBank> g = MemoryBank::load(gz.path);
    EXPECT_EQ(0, cv::norm(features, g->getFeatures()));
    EXPECT_LT(fileSize(gz.path), fileSize(f32.path));

    Mat q = features.rowRange(0, 20), d0, i0, d1, i1;
    original->search(q, 3, d0, i0);
    a->search(q, 3, d1, i1);
    EXPECT_EQ(0, cv::norm(i0, i1));
    EXPECT_EQ(0, cv::norm(d0, d1));
}

//! Rewrites one line of a saved YAML file and re-seals its checksum, as a writer of that content would.
void replaceInFile(const std::string& path, const std::string& from, const std::string& to)
{
    ASSERT_TRUE(editSavedFile(path, from, to)) << from;
}

TEST(DMAD_MemoryBank, load_refuses_newer_versions_and_mismatched_shapes)
{
    Mat features;
    {
        TempFile f(".yml");
        savedBank(f.path, false, features);
        replaceInFile(f.path, "dmad_format_version: 1", "dmad_format_version: 99");
        EXPECT_CV_ERROR(MemoryBank::load(f.path), "newer dmad (format version 99");
        EXPECT_CV_ERROR(MemoryBank::load(f.path), f.path);
    }
    {
        TempFile f(".yml");
        savedBank(f.path, false, features);
        replaceInFile(f.path, "size: 500", "size: 400");
        EXPECT_CV_ERROR(MemoryBank::load(f.path),
                        "matrix 'features' is 500x48, but size x dims is 400x48");
        EXPECT_CV_ERROR(MemoryBank::load(f.path), f.path);
    }
    {
        TempFile f(".yml");
        savedBank(f.path, false, features);
        replaceInFile(f.path, "dims: 48", "dims: 47");
        EXPECT_CV_ERROR(MemoryBank::load(f.path), "matrix 'features'");
    }
    EXPECT_CV_ERROR(MemoryBank::load("/nonexistent/bank.yml"), "/nonexistent/bank.yml");
}

}} // namespace

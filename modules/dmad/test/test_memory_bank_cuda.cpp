// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// MemoryBank's CUDA target against its CPU search. The comparisons need a CUDA device and skip,
// saying why, in a build without CUDA or on a machine without a device; the error test runs
// everywhere.

#include "test_precomp.hpp"
#include "test_knn_data.hpp"

#include <opencv2/dnn/dnn.hpp>

#include <cfloat>
#include <limits>
#include <thread>

namespace opencv_test { namespace {

/** Switches `bank` to the CUDA target, or skips the test with the reason the bank gives (built
    without CUDA, no device). */
#define DMAD_REQUIRE_CUDA(bank)                                                                     \
    do {                                                                                            \
        std::string dmad_cuda_reason_;                                                              \
        try { (bank)->setPreferableTarget(dnn::DNN_TARGET_CUDA); }                                  \
        catch (const cv::Exception& e_) { dmad_cuda_reason_ = e_.err; }                             \
        if (!dmad_cuda_reason_.empty())                                                             \
            DMAD_SKIP_TEST("needs CUDA: " << dmad_cuda_reason_);                                    \
    } while (0)

/** The CPU bank's results are the reference: distances to 1e-4 relative, indices equal wherever
    the reference distances are not tied. Returns the number of rows that differ. */
int compareWithCpu(const Mat& refD, const Mat& refIdx, const Mat& d, const Mat& idx)
{
    EXPECT_EQ(CV_32F, d.type());
    EXPECT_EQ(CV_32S, idx.type());
    EXPECT_EQ(refD.size(), d.size());
    EXPECT_EQ(refIdx.size(), idx.size());
    if (refD.size() != d.size() || refIdx.size() != idx.size())
        return refD.rows;
    const int k = refD.cols;
    int differing = 0;
    for (int i = 0; i < refD.rows; i++)
    {
        bool same = true;
        for (int r = 0; r < k; r++)
        {
            const float expected = refD.at<float>(i, r), got = d.at<float>(i, r);
            const bool tied = (r > 0 && refD.at<float>(i, r - 1) == expected) ||
                              (r + 1 < k && refD.at<float>(i, r + 1) == expected);
            same = same && std::abs(expected - got) <= 1e-4f * std::max(1.f, expected) &&
                   (tied || refIdx.at<int>(i, r) == idx.at<int>(i, r));
        }
        differing += same ? 0 : 1;
    }
    return differing;
}

void expectSameAsCpu(const Mat& refD, const Mat& refIdx, const Mat& d, const Mat& idx)
{
    const int differing = compareWithCpu(refD, refIdx, d, idx);
    EXPECT_EQ(0, differing) << differing << " of " << refD.rows << " query rows differ";
    if (differing)
        for (int i = 0, shown = 0; i < refD.rows && shown < 3; i++)
            if (compareWithCpu(refD.row(i), refIdx.row(i), d.row(i), idx.row(i)))
            {
                std::cout << "row " << i << ": cpu " << refIdx.row(i) << " " << refD.row(i)
                          << "\n       cuda " << idx.row(i) << " " << d.row(i) << std::endl;
                shown++;
            }
}

TEST(DMAD_MemoryBankCuda, target_errors_are_clear)
{
    Mat bank(100, 8, CV_32F), queries(3, 8, CV_32F);
    randu(bank, -1, 1);
    randu(queries, -1, 1);
    Ptr<MemoryBank> mb = MemoryBank::create();
    mb->add(bank);
    EXPECT_EQ((int)dnn::DNN_TARGET_CPU, mb->getPreferableTarget());
    EXPECT_CV_ERROR(mb->setPreferableTarget(dnn::DNN_TARGET_OPENCL),
                    "MemoryBank supports the targets DNN_TARGET_CPU");

    bool cudaUsable = true;
    try
    {
        mb->setPreferableTarget(dnn::DNN_TARGET_CUDA);
    }
    catch (const cv::Exception& e)
    {
        cudaUsable = false;
        // either reason, named as such; never a silent switch to the CPU
        const std::string message = e.what();
        EXPECT_EQ((int)Error::GpuNotSupported, e.code);
        EXPECT_NE(std::string::npos, message.find("MemoryBank cannot use DNN_TARGET_CUDA"))
            << message;
        EXPECT_TRUE(message.find("dmad was built without CUDA") != std::string::npos ||
                    message.find("no CUDA device") != std::string::npos)
            << message;
        std::cout << "CUDA target refused as expected here: " << e.err << std::endl;
    }
    if (cudaUsable)
    {
        EXPECT_EQ((int)dnn::DNN_TARGET_CUDA, mb->getPreferableTarget());
        // lists of 64 candidates per query: k + 3 extra must fit
        auto searchTooMany = [&] { Mat d, i; mb->search(queries, 62, d, i); };
        EXPECT_CV_ERROR(searchTooMany(), "the CUDA search supports k = 1..61");
        mb->setPreferableTarget(dnn::DNN_TARGET_CPU);
    }
    // the refused target left the bank on the CPU, where it searches as before
    EXPECT_EQ((int)dnn::DNN_TARGET_CPU, mb->getPreferableTarget());
    Mat d, idx;
    mb->search(queries, 2, d, idx);
    EXPECT_EQ(Size(2, 3), d.size());
}

// N, D, Q, perImage: one tile with 8 segments per query; several tiles of 6656 rows (5000
// queries) ending in a 33-row tile; two query blocks (more than 8192 queries); D = 1536.
typedef std::tuple<int, bool, std::tuple<int, int, int, int>> CudaKnnParam;
class DMAD_MemoryBankCudaKnn : public ::testing::TestWithParam<CudaKnnParam> {};

TEST_P(DMAD_MemoryBankCudaKnn, equals_cpu_search)
{
    const int k = std::get<0>(GetParam());
    const bool leaveOneImageOut = std::get<1>(GetParam());
    const auto shape = std::get<2>(GetParam());
    const int N = std::get<0>(shape), D = std::get<1>(shape), Q = std::get<2>(shape);
    MemoryBank::Params params;
    params.searchMethod = MemoryBank::SEARCH_BRUTE_FORCE;
    Ptr<MemoryBank> mb = MemoryBank::create(params);
    DMAD_REQUIRE_CUDA(mb);  // before the data, so that skipping costs nothing
    KnnData data(N, D, Q, std::get<3>(shape), 4321 + N);
    const Mat exclude = leaveOneImageOut ? data.exclude : Mat();
    mb->add(data.bank, data.ids);

    Mat d, idx, refD, refIdx;
    mb->search(data.queries, k, d, idx, exclude);
    mb->setPreferableTarget(dnn::DNN_TARGET_CPU);
    mb->search(data.queries, k, refD, refIdx, exclude);
    expectSameAsCpu(refD, refIdx, d, idx);
    if (!leaveOneImageOut)
        for (int i = 0; i < 10; i++)
        {
            EXPECT_EQ((i * 290 + 5) % N, idx.at<int>(i, 0)) << i;
            EXPECT_EQ(0.f, d.at<float>(i, 0)) << i;
        }
}

INSTANTIATE_TEST_CASE_P(/**/, DMAD_MemoryBankCudaKnn,
    ::testing::Combine(::testing::Values(1, 5), ::testing::Bool(),
                       ::testing::Values(std::make_tuple(3000, 37, 150, 100),
                                         std::make_tuple(20001, 64, 5000, 700),
                                         std::make_tuple(2000, 16, 9000, 50),
                                         std::make_tuple(5003, 1536, 64, 1024))));

// Large norms, small distances: the centring on the bank mean must hold on the device too.
TEST(DMAD_MemoryBankCuda, near_duplicates_in_high_dimension)
{
    const int N = 2000, D = 1536, Q = 40, k = 5;
    Ptr<MemoryBank> mb = MemoryBank::create();
    DMAD_REQUIRE_CUDA(mb);
    Mat bank, queries;
    nearDuplicates(N, Q, D, 5, bank, queries);
    mb->add(bank);
    Mat d, idx, refD, refIdx;
    mb->search(queries, k, d, idx);
    mb->setPreferableTarget(dnn::DNN_TARGET_CPU);
    mb->search(queries, k, refD, refIdx);
    expectSameAsCpu(refD, refIdx, d, idx);
}

TEST(DMAD_MemoryBankCuda, float16_bank_and_reupload_after_add)
{
    const int N = 4000, D = 96, Q = 300, k = 5;
    DMAD_REQUIRE_CUDA(MemoryBank::create());
    KnnData data(N, D, Q, 200, 99);
    for (bool half : {false, true})
    {
        MemoryBank::Params params;
        params.halfPrecisionStorage = half;
        params.searchMethod = MemoryBank::SEARCH_BRUTE_FORCE;
        Ptr<MemoryBank> mb = MemoryBank::create(params);
        mb->setPreferableTarget(dnn::DNN_TARGET_CUDA);
        mb->add(data.bank.rowRange(0, N / 2), data.ids.rowRange(0, N / 2));
        Mat d, idx, refD, refIdx;
        mb->search(data.queries, k, d, idx, data.exclude);  // uploads the first half
        mb->add(data.bank.rowRange(N / 2, N), data.ids.rowRange(N / 2, N));
        ASSERT_EQ(N, mb->size());
        mb->search(data.queries, k, d, idx, data.exclude);  // must see the whole bank
        mb->setPreferableTarget(dnn::DNN_TARGET_CPU);
        mb->search(data.queries, k, refD, refIdx, data.exclude);
        expectSameAsCpu(refD, refIdx, d, idx);
        EXPECT_GT(cv::countNonZero(idx >= N / 2), 0) << "no neighbour from the added rows";
    }
}

TEST(DMAD_MemoryBankCuda, excluding_everything_leaves_no_neighbours)
{
    Mat bank(20, 3, CV_32F), queries(2, 3, CV_32F);
    randu(bank, 0, 1);
    randu(queries, 0, 1);
    Mat ids(20, 1, CV_32S, Scalar(7)), exclude = (Mat_<int>(2, 1) << 7, -1);
    Ptr<MemoryBank> mb = MemoryBank::create();
    DMAD_REQUIRE_CUDA(mb);
    mb->add(bank, ids);
    Mat d, idx;
    mb->search(queries, 3, d, idx, exclude);
    expectEverythingExcludedForFirstQuery(d, idx, 3);
}

TEST(DMAD_MemoryBankCuda, bad_queries_raise_the_cpu_errors)
{
    Ptr<MemoryBank> mb = MemoryBank::create();
    DMAD_REQUIRE_CUDA(mb);
    Mat bank(200, 16, CV_32F), queries(30, 16, CV_32F);
    randu(bank, -1, 1);
    randu(queries, -1, 1);
    mb->add(bank);
    queries.at<float>(17, 3) = std::numeric_limits<float>::quiet_NaN();
    Mat d, idx;
    EXPECT_CV_ERROR(mb->search(queries, 2, d, idx), "queries contain NaN or infinite values");
    queries.at<float>(17, 3) = std::numeric_limits<float>::infinity();
    EXPECT_CV_ERROR(mb->search(queries, 2, d, idx), "queries contain NaN or infinite values");
    queries.at<float>(17, 3) = 0.f;
    EXPECT_CV_ERROR(mb->search(queries.colRange(0, 8), 2, d, idx), "queries have 8 dims");
    mb->search(queries, 2, d, idx);  // the device state survived the errors
    EXPECT_EQ(Size(2, 30), d.size());
}

TEST(DMAD_MemoryBankCuda, concurrent_searches_agree)
{
    const int N = 6000, D = 48, Q = 500, k = 3;
    Ptr<MemoryBank> mb = MemoryBank::create();
    DMAD_REQUIRE_CUDA(mb);
    KnnData data(N, D, Q, 300, 7);
    mb->add(data.bank, data.ids);
    Mat refD, refIdx;
    mb->search(data.queries, k, refD, refIdx, data.exclude);
    std::vector<Mat> ds(4), idxs(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; t++)
        threads.emplace_back([&, t] { mb->search(data.queries, k, ds[t], idxs[t], data.exclude); });
    for (auto& th : threads)
        th.join();
    for (int t = 0; t < 4; t++)
    {
        EXPECT_EQ(0, cv::norm(refD, ds[t], NORM_INF)) << t;
        EXPECT_EQ(0, cv::norm(refIdx, idxs[t], NORM_INF)) << t;
    }
}

// TF32 ranks candidates less precisely: distances stay exact for what is returned, and recall is
// reported (and must stay high on this data).
TEST(DMAD_MemoryBankCuda, tf32_recall)
{
    const int N = 20000, D = 256, Q = 1000, k = 1;
    Ptr<MemoryBank> mb = MemoryBank::create();
    DMAD_REQUIRE_CUDA(mb);
    KnnData data(N, D, Q, 500, 11);
    mb->add(data.bank, data.ids);
    mb->setCudaAllowTF32(true);
    Mat d, idx, refD, refIdx;
    mb->search(data.queries, k, d, idx);
    mb->setPreferableTarget(dnn::DNN_TARGET_CPU);
    mb->search(data.queries, k, refD, refIdx);
    int same = 0;
    for (int i = 0; i < Q; i++)
        if (idx.at<int>(i) == refIdx.at<int>(i))
        {
            same++;
            EXPECT_EQ(refD.at<float>(i), d.at<float>(i)) << i;  // the same exact recomputation
        }
    std::cout << "TF32 1-NN recall: " << same << " / " << Q << std::endl;
    EXPECT_GE(same, Q * 99 / 100);
}

}} // namespace

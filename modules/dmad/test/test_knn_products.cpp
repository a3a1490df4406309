// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The exact search's two ways of computing its dot-product tiles (the kernels' Eigen products and
// one BLAS sgemm per bank tile) against the double-precision reference, over several BLAS tiles.

#include "test_precomp.hpp"
#include "test_knn_data.hpp"
#include "bank/blas_products.hpp"
#include "bank/knn_search.hpp"

namespace opencv_test { namespace {

using cv::dmad::KnnProducts;

std::vector<KnnProducts> productPaths()
{
    std::vector<KnnProducts> paths = {KnnProducts::Kernels};
    if (cv::dmad::blas::enabled())
        paths.push_back(KnnProducts::Blas);
    return paths;
}

void searchBoth(const Mat& bank, const Mat& ids, const Mat& queries, const Mat& exclude, int k)
{
    Mat refD, refIdx;
    bruteForce(bank, ids, queries, exclude, k, refD, refIdx);
    const cv::dmad::BankStatistics stats = cv::dmad::computeBankStatistics(bank);
    for (KnnProducts products : productPaths())
    {
        SCOPED_TRACE(products == KnnProducts::Blas ? "BLAS products" : "kernel products");
        Mat d, idx;
        cv::dmad::bruteForceKnn(queries, bank, stats, ids, exclude, k, d, idx, products);
        expectSameNeighbours(refD, refIdx, d, idx);
    }
}

// 9,000 rows: two full BLAS tiles of 4,096 and a partial one; leave-one-image-out on and off.
TEST(DMAD_KnnProducts, blas_and_kernels_equal_the_reference_across_tiles)
{
    const int N = 9000, D = 37, Q = 60;
    KnnData data(N, D, Q, 500, 31);
    searchBoth(data.bank, data.ids, data.queries, Mat(), 3);
    searchBoth(data.bank, data.ids, data.queries, data.exclude, 3);
}

// Large norms and small distances, stored as float16 and converted tile by tile.
TEST(DMAD_KnnProducts, blas_and_kernels_equal_the_reference_on_float16_near_duplicates)
{
    Mat bank, queries, half, rounded;
    nearDuplicates(5000, 30, 256, 9, bank, queries);
    bank.convertTo(half, CV_16F);
    half.convertTo(rounded, CV_32F);
    Mat refD, refIdx;
    const Mat ids(bank.rows, 1, CV_32S, Scalar(-1));
    bruteForce(rounded, ids, queries, Mat(), 4, refD, refIdx);
    const cv::dmad::BankStatistics stats = cv::dmad::computeBankStatistics(half);
    for (KnnProducts products : productPaths())
    {
        Mat d, idx;
        cv::dmad::bruteForceKnn(queries, half, stats, ids, Mat(), 4, d, idx, products);
        expectSameNeighbours(refD, refIdx, d, idx);
    }
}

TEST(DMAD_KnnProducts, the_implementation_names_its_kernels_and_blas)
{
    const String name = cv::dmad::MemoryBank::searchImplementation();
    EXPECT_NE(String::npos, name.find("kernels ")) << name;
    EXPECT_NE(String::npos, name.find(cv::dmad::blas::enabled() ? "OpenBLAS" : "products: kernels"))
        << name;
}

}} // namespace

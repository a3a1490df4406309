// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// OpenCV's perf framework, for builds inside an OpenCV tree (opencv_perf_dmad). The standalone
// build's benchmarks, with faiss and sgemm as peers, are bench/dmad_bench_bank.cpp.

#include "perf_precomp.hpp"

namespace opencv_test { namespace {

typedef tuple<int, int> BankShape;  // entries, dims
typedef perf::TestBaseWithParam<BankShape> Perf_MemoryBank;

// One image's 1024 patches against the bank: DMAD's per-image cost at inference.
PERF_TEST_P(Perf_MemoryBank, search_one_image,
            testing::Combine(testing::Values(20000, 74321), testing::Values(288, 1536)))
{
    const int entries = get<0>(GetParam()), dims = get<1>(GetParam()), queries = 1024;
    Mat bank(entries, dims, CV_32F), patches(queries, dims, CV_32F);
    declare.in(bank, patches, WARMUP_RNG);
    Ptr<MemoryBank> memory = MemoryBank::create();
    memory->add(bank);
    Mat distances, indices;
    TEST_CYCLE() memory->search(patches, 1, distances, indices);
    SANITY_CHECK_NOTHING();
}

typedef perf::TestBaseWithParam<int> Perf_Coreset;

PERF_TEST_P(Perf_Coreset, two_percent, testing::Values(100000, 300000))
{
    const int rows = GetParam(), dims = 288;
    Mat features(rows, dims, CV_32F);
    declare.in(features, WARMUP_RNG);
    std::vector<int> picked;
    TEST_CYCLE() picked = selectCoreset(features, rows / 50);
    ASSERT_EQ((size_t)(rows / 50), picked.size());
    SANITY_CHECK_NOTHING();
}

}} // namespace

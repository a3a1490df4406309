// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// MemoryBank::SEARCH_HNSW against the exact search: recall, exact distances of what it finds, the
// graph saved with the bank, exclusion searches staying exact, a damaged graph refused.

#include "test_precomp.hpp"
#include "test_files.hpp"
#include "test_knn_data.hpp"
#include "bank/hnsw_index.hpp"
#include "io/binary_payload.hpp"

namespace opencv_test { namespace {

#define DMAD_REQUIRE_HNSWLIB()                                                             \
    if (!cv::dmad::hnswAvailable())                                                        \
        DMAD_SKIP_TEST("built without hnswlib (Debian: libhnswlib-dev)")

/** Points near a 6-dimensional subspace of R^D, as CNN patch features lie near a low-dimensional
    manifold (random points in 48 dimensions would make every method's recall collapse). */
void subspaceData(int N, int Q, uint64 seed, Mat& bank, Mat& queries, int D = 48)
{
    RNG rng(seed);
    Mat basis(6, D, CV_32F), codes(N + Q, 6, CV_32F), noise(N + Q, D, CV_32F);
    rng.fill(basis, RNG::NORMAL, 0, 1);
    rng.fill(codes, RNG::NORMAL, 0, 1);
    rng.fill(noise, RNG::NORMAL, 0, 0.05);
    Mat all = codes * basis + noise;
    bank = all.rowRange(0, N).clone();
    queries = all.rowRange(N, N + Q).clone();
}

Ptr<MemoryBank> hnswBank(const Mat& bank, const Mat& ids = Mat())
{
    MemoryBank::Params p;
    p.searchMethod = MemoryBank::SEARCH_HNSW;
    Ptr<MemoryBank> mb = MemoryBank::create(p);
    mb->add(bank, ids);
    return mb;
}

/** Recall@1 at least 0.95 against the brute-force indices, and whatever is found has its exact
    distance (that of the row it names), ascending. */
void expectNearlyEveryNeighbour(const Mat& bank, const Mat& queries, const Mat& refIdx, const Mat& d,
                                const Mat& idx)
{
    const int Q = queries.rows, k = idx.cols;
    int hits = 0;
    for (int i = 0; i < Q; i++)
    {
        hits += idx.at<int>(i, 0) == refIdx.at<int>(i, 0);
        for (int r = 0; r < k; r++)
        {
            const int j = idx.at<int>(i, r);
            ASSERT_GE(j, 0);
            const double exact = cv::norm(queries.row(i), bank.row(j), NORM_L2SQR);
            EXPECT_NEAR(exact, d.at<float>(i, r), 1e-5 * std::max(1.0, exact));
            if (r > 0)
                EXPECT_LE(d.at<float>(i, r - 1), d.at<float>(i, r));
        }
    }
    EXPECT_GE(hits, 0.95 * Q) << "recall@1 " << hits / (double)Q;
}

TEST(DMAD_MemoryBankHnsw, finds_the_exact_neighbours_of_nearly_every_query)
{
    DMAD_REQUIRE_HNSWLIB();
    const int N = 6000, Q = 400, k = 3;
    // 48 dimensions: whole vectors of every kernel; 37: the float16 distance's scalar tail too.
    for (int D : {48, 37})
        for (bool halfBank : {false, true})
        {
            SCOPED_TRACE(cv::format("D %d, %s bank", D, halfBank ? "float16" : "float32"));
            Mat bank, queries;
            subspaceData(N, Q, 21, bank, queries, D);
            MemoryBank::Params p;
            p.searchMethod = MemoryBank::SEARCH_HNSW;
            p.halfPrecisionStorage = halfBank;
            Ptr<MemoryBank> mb = MemoryBank::create(p);
            mb->add(bank);
            Mat refD, refIdx, d, idx;
            const Mat stored = mb->getFeatures();  // the values the search sees
            bruteForce(stored, Mat(N, 1, CV_32S, Scalar(-1)), queries, Mat(), k, refD, refIdx);
            mb->search(queries, k, d, idx);
            expectNearlyEveryNeighbour(stored, queries, refIdx, d, idx);
        }
}

TEST(DMAD_MemoryBankHnsw, leave_one_image_out_searches_stay_exact)
{
    DMAD_REQUIRE_HNSWLIB();
    KnnData data(3000, 20, 50, 100, 8);
    Mat refD, refIdx, d, idx;
    bruteForce(data.bank, data.ids, data.queries, data.exclude, 2, refD, refIdx);
    hnswBank(data.bank, data.ids)->search(data.queries, 2, d, idx, data.exclude);
    expectSameNeighbours(refD, refIdx, d, idx);
}

TEST(DMAD_MemoryBankHnsw, search_nearest_makes_every_group_maximum_exact)
{
    DMAD_REQUIRE_HNSWLIB();
    const int N = 4000, groups = 30, groupSize = 40;
    Mat bank, queries;
    subspaceData(N, groups * groupSize, 5, bank, queries);
    Mat refD, refIdx;
    bruteForce(bank, Mat(N, 1, CV_32S, Scalar(-1)), queries, Mat(), 1, refD, refIdx);
    MemoryBank::Params p;
    p.searchMethod = MemoryBank::SEARCH_HNSW;
    p.hnswEfSearch = 1;  // a poor search, so that plain HNSW gets group maxima wrong
    Ptr<MemoryBank> mb = MemoryBank::create(p);
    mb->add(bank);
    Mat approx, idx, nearest;
    mb->search(queries, 1, approx, idx);
    mb->searchNearest(queries, groupSize, nearest);
    ASSERT_EQ(queries.rows, nearest.rows);
    int wrongMaxima = 0;
    for (int g = 0; g < groups; g++)
    {
        const Range rows(g * groupSize, (g + 1) * groupSize);
        double refMax, approxMax, nearestMax;
        minMaxLoc(refD.rowRange(rows), nullptr, &refMax);
        minMaxLoc(approx.rowRange(rows), nullptr, &approxMax);
        minMaxLoc(nearest.rowRange(rows), nullptr, &nearestMax);
        wrongMaxima += approxMax > refMax * (1 + 1e-6);
        EXPECT_NEAR(refMax, nearestMax, 1e-6 * refMax) << "group " << g;
        for (int i = rows.start; i < rows.end; i++)  // the rest: upper bounds of the exact distance
            EXPECT_GE(nearest.at<float>(i), refD.at<float>(i) * (1 - 1e-6)) << "query " << i;
    }
    EXPECT_GT(wrongMaxima, 0) << "the data is too easy: plain HNSW found every maximum";
    EXPECT_CV_ERROR(mb->searchNearest(queries, 7, nearest), "do not form groups of 7");
}

TEST(DMAD_MemoryBankHnsw, the_graph_is_saved_with_the_bank)
{
    DMAD_REQUIRE_HNSWLIB();
    Mat bank, queries;
    subspaceData(3000, 200, 22, bank, queries);
    Ptr<MemoryBank> mb = hnswBank(bank);
    Mat d0, i0;
    mb->search(queries, 2, d0, i0);
    TempDir dir;
    for (const char* name : {"/bank.yml.gz", "/bank.json"})
    {
        const std::string path = dir.path + name;
        mb->save(path);
        Ptr<MemoryBank> back = MemoryBank::load(path);
        EXPECT_EQ(MemoryBank::SEARCH_HNSW, back->getParams().searchMethod);
        Mat d1, i1;
        back->search(queries, 2, d1, i1);
        // the same graph: the same neighbours, not merely as many right ones
        EXPECT_EQ(0, cv::norm(i0, i1, NORM_INF)) << name;
        EXPECT_EQ(0, cv::norm(d0, d1, NORM_INF)) << name;
    }
    // a graph whose entry point lies outside the bank is refused
    const std::string text = readFileBytes(dir.path + "/bank.json");
    const size_t at = text.find("\"entry_point\": ");
    ASSERT_NE(std::string::npos, at);
    const size_t end = text.find_first_of(",\n", at + 15);
    const std::string path = dir.path + "/damaged.json";
    writeFileBytes(path, withChecksum(text.substr(0, at) + "\"entry_point\": 3000" + text.substr(end)));
    EXPECT_CV_ERROR(MemoryBank::load(path), "invalid HNSW header");
}

/** A graph whose links are damaged is refused before any search follows them: a link outside the
    bank, and an upper-level link to an entry that does not reach that level (hnswlib would read
    that entry's missing link list). */
TEST(DMAD_MemoryBankHnsw, damaged_links_are_refused)
{
    DMAD_REQUIRE_HNSWLIB();
    using cv::dmad::HnswIndex;
    namespace persistence = cv::dmad::persistence;
    Mat bank, queries;
    subspaceData(2000, 1, 23, bank, queries);
    const int N = bank.rows, M = 8;
    String text;
    {
        HnswIndex index(bank, M, 50, 16, 1);
        FileStorage out(".yml", FileStorage::WRITE | FileStorage::MEMORY);
        out << "hnsw" << "{";
        index.write(out);
        out << "}";
        text = out.releaseAndGetString();
    }
    FileStorage in(text, FileStorage::READ | FileStorage::MEMORY);
    const FileNode node = in["hnsw"];
    const Mat ground = persistence::readPayload(node["ground_links"], "ground_links", "test");
    const Mat labels = persistence::readPayload(node["labels"], "labels", "test");
    const Mat levels = persistence::readPayload(node["levels"], "levels", "test");
    const Mat upper = persistence::readPayload(node["upper_links"], "upper_links", "test");
    ASSERT_EQ(2 * M + 1, ground.cols);
    // the undamaged parts rebuild the index
    auto rebuilt = [&](const Mat& g, const Mat& u) {
        FileStorage out(".yml", FileStorage::WRITE | FileStorage::MEMORY);
        out << "hnsw" << "{" << "M" << M << "ef_construction" << 50 << "max_level" << (int)node["max_level"]
            << "entry_point" << (int)node["entry_point"];
        persistence::writePayload(out, "ground_links", g);
        persistence::writePayload(out, "labels", labels);
        persistence::writePayload(out, "levels", levels);
        persistence::writePayload(out, "upper_links", u);
        out << "}";
        FileStorage back(out.releaseAndGetString(), FileStorage::READ | FileStorage::MEMORY);
        HnswIndex(bank, back["hnsw"], 16, "test");
    };
    EXPECT_NO_THROW(rebuilt(ground, upper));

    Mat outside = ground.clone();
    ASSERT_GE(outside.at<int>(5, 0) & 0xffff, 1);
    outside.at<int>(5, 1) = N;
    EXPECT_CV_ERROR(rebuilt(outside, upper), "HNSW entry 5 has damaged links");

    // the first entry on level 1 and the first entry that stays on level 0
    int high = -1, low = -1, before = 0;
    for (int i = 0; i < N && (high < 0 || low < 0); i++)
    {
        const int level = levels.at<int>(i);
        if (level == 0 && low < 0)
            low = i;
        if (level > 0 && high < 0)
            high = i;
        if (high < 0)
            before += level;
    }
    ASSERT_GE(high, 0);
    ASSERT_GE(low, 0);
    Mat downward = upper.clone();
    int* list = downward.ptr<int>() + (size_t)before * (M + 1);  // high's level-1 list: M links
    ASSERT_GE(list[0] & 0xffff, 1);
    list[1] = low;
    EXPECT_CV_ERROR(rebuilt(ground, downward), cv::format("HNSW entry %d has damaged links", high));
}

TEST(DMAD_MemoryBankHnsw, parameters_are_checked)
{
    DMAD_REQUIRE_HNSWLIB();
    MemoryBank::Params p;
    p.searchMethod = MemoryBank::SEARCH_HNSW;
    p.hnswM = 1;
    EXPECT_CV_ERROR(MemoryBank::create(p), "HNSW parameters out of range: M 1");
    p.hnswM = 16;
    p.hnswEfSearch = 0;
    EXPECT_CV_ERROR(MemoryBank::create(p), "efSearch 0");
}

}} // namespace

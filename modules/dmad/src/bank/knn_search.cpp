// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "io/configuration.hpp"
#include "bank/knn_search.hpp"
#include "bank/blas_products.hpp"
#include "bank/simd_kernels.hpp"

#include <cfloat>
#include <cstdlib>

namespace cv {
namespace dmad {

namespace {

/* Tile sizes, measured on a 2-core AMD EPYC (1 MB L2 per core) with D = 1536 (doc/memory_bank.md):
   a 128 x 1024 dot-product tile (512 KB) stays in L2 for the top-k scan that follows it, and Eigen
   repacks the 128 query rows only once per 1024 bank rows. */
int queryBlockRows()
{
    static const int rows = [] {
        // for tuning runs only
        return (int)std::min<size_t>(std::max<size_t>(1, config::getSizeT("KNN_QUERY_BLOCK", 128)), 1 << 16);
    }();
    return rows;
}

int bankTileRows()
{
    static const int rows = [] {
        // for tuning runs only
        return (int)std::min<size_t>(std::max<size_t>(16, config::getSizeT("KNN_BANK_TILE", 1024)), 1 << 20);
    }();
    return rows;
}

/* Few queries leave too few query blocks to keep every core busy, so the bank is also cut into
   chunks whose candidates are merged afterwards. The split depends on the sizes alone, never on
   the thread count, so results are the same for any number of threads. */
int bankChunks(int queryBlocks, int bankRows, int tileRows)
{
    const int wantedTasks = 16;
    const int maxChunks = std::max(1, bankRows / (4 * tileRows));  // at least 4 tiles per chunk
    return std::min(maxChunks, std::max(1, (wantedTasks + queryBlocks - 1) / queryBlocks));
}

//! Row `row` of a CV_32F or CV_16F bank as floats (converted into `buffer` when needed).
const float* bankRow(const Mat& bank, int row, std::vector<float>& buffer)
{
    if (bank.depth() == CV_32F)
        return bank.ptr<float>(row);
    buffer.resize(bank.cols);
    const float16_t* src = bank.ptr<float16_t>(row);
    for (int d = 0; d < bank.cols; d++)
        buffer[d] = (float)src[d];
    return buffer.data();
}

/** Rows [row0, row0 + rows) of the bank minus the mean, as CV_32F, into `out` (the operand B of
    A * B^T); float16 rows are converted on the way (F16C where the CPU has it). */
void centeredTile(const Mat& bank, int row0, int rows, const float* mean, std::vector<float>& out)
{
    out.resize((size_t)rows * bank.cols);
    kernels::bestKernels().centerRows(bank.ptr(row0), bank.step[0], bank.depth() == CV_16F, rows,
                                      bank.cols, mean, out.data());
}

/** Bank rows per BLAS product. One sgemm of all queries (up to kBlasQueryBlock) against 4096
    centred bank rows is large enough for BLAS to run at full speed on every core (its packing of
    the queries is paid once per tile), and the product (16 MB for 1024 queries) is scanned once. */
int blasTileRows()
{
    static const int rows = [] {
        // for tuning runs only
        return (int)std::min<size_t>(std::max<size_t>(16, config::getSizeT("KNN_BLAS_TILE", 4096)), 1 << 20);
    }();
    return rows;
}

const int kBlasQueryBlock = 2048;


/** The search with BLAS products: bank tiles one after another, each multiplied with the centred
    queries by one sgemm that uses every thread, then scanned by the fused top-k in parallel over
    queries; kc candidates per query.

    A float32 bank goes to BLAS as it is, uncentred: (q - mean).m differs from (q - mean).(m - mean)
    by (q - mean).mean, the same for every entry, so the ranking is that of the distances. Its
    rounding error grows with |q - mean| |m| rather than |q - mean| |m - mean| (the queries' large
    common component, the larger half of the error, is still removed), and the exact recomputation
    of kExtraCandidates more candidates absorbs it; a copy of the centred bank would cost a memory
    pass per search, 10 to 25% of the product's time. float16 tiles are converted (and centred on
    the way, for free) in parallel. */
void blasCandidates(const Mat& centeredQueries, const Mat& bank, const BankStatistics& stats,
                    const int* imageIds, const int* exclude, int kc, Mat& candIndices)
{
    const kernels::KernelTable& kern = kernels::bestKernels();
    const int Q = centeredQueries.rows, N = bank.rows, D = bank.cols;
    const int tileRows = std::min(blasTileRows(), N), queryBlock = std::min(Q, kBlasQueryBlock);
    const bool convert = bank.depth() != CV_32F;
    const float* norms = stats.centeredNorms.ptr<float>();
    const float* mean = stats.mean.ptr<float>();
    Mat candValues(Q, kc, CV_32F, Scalar::all(FLT_MAX));
    candIndices.create(Q, kc, CV_32S);
    candIndices.setTo(Scalar::all(-1));
    // uninitialised: every value is written before it is read (zeroing 40 MB per search costs more
    // than the scan)
    AutoBuffer<float> tile(convert ? (size_t)tileRows * D : 1), dots((size_t)queryBlock * tileRows);
    const int stripes = 16;  // work items per parallel step: independent of the thread count
    for (int b0 = 0; b0 < N; b0 += tileRows)
    {
        const int bRows = std::min(N, b0 + tileRows) - b0;
        const float* rows = convert ? tile.data() : bank.ptr<float>(b0);
        if (convert)
            parallel_for_(Range(0, stripes), [&](const Range& range) {
                const int r0 = bRows * range.start / stripes, r1 = bRows * range.end / stripes;
                kern.centerRows(bank.ptr(b0 + r0), bank.step[0], true, r1 - r0, D, mean,
                                tile.data() + (size_t)r0 * D);
            });
        for (int q0 = 0; q0 < Q; q0 += queryBlock)
        {
            const int qRows = std::min(Q, q0 + queryBlock) - q0;
            blas::productsABt(centeredQueries.ptr<float>(q0), qRows, D, rows, bRows, D, D,
                              dots.data(), bRows);
            parallel_for_(Range(0, stripes), [&](const Range& range) {
                for (int i = qRows * range.start / stripes; i < qRows * range.end / stripes; i++)
                {
                    const int row = q0 + i;
                    kern.scanRow(dots.data() + (size_t)i * bRows, norms + b0, bRows,
                                 imageIds ? imageIds + b0 : 0, exclude ? exclude[row] : -1, b0,
                                 kc, candValues.ptr<float>(row), candIndices.ptr<int>(row));
                }
            });
        }
    }
}

/** |q - m|^2 in double, in four interleaved partial sums: one dependent chain of D additions
    would take longer than the search's whole scan, and four let the compiler use vector lanes. */
double squaredDistanceInDouble(const float* q, const float* m, int dims)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int d = 0;
    for (; d + 4 <= dims; d += 4)
    {
        const double t0 = (double)q[d] - m[d], t1 = (double)q[d + 1] - m[d + 1];
        const double t2 = (double)q[d + 2] - m[d + 2], t3 = (double)q[d + 3] - m[d + 3];
        s0 += t0 * t0;
        s1 += t1 * t1;
        s2 += t2 * t2;
        s3 += t3 * t3;
    }
    for (; d < dims; d++)
    {
        const double t = (double)q[d] - m[d];
        s0 += t * t;
    }
    return (s0 + s1) + (s2 + s3);
}

} // namespace

BankStatistics computeBankStatistics(const Mat& bank)
{
    CV_TRACE_FUNCTION();
    const int N = bank.rows, D = bank.cols;
    // Mean in double over row stripes whose partial sums are added in stripe order: the same
    // value for any number of threads.
    const int stripes = std::max(1, std::min(64, N / 256));
    Mat partial(stripes, D, CV_64F, Scalar(0));
    parallel_for_(Range(0, stripes), [&](const Range& range) {
        std::vector<float> buffer;
        for (int s = range.start; s < range.end; s++)
        {
            double* acc = partial.ptr<double>(s);
            const int i0 = (int)((int64)N * s / stripes), i1 = (int)((int64)N * (s + 1) / stripes);
            for (int i = i0; i < i1; i++)
            {
                const float* row = bankRow(bank, i, buffer);
                for (int d = 0; d < D; d++)
                    acc[d] += row[d];
            }
        }
    });
    Mat meanD;
    reduce(partial, meanD, 0, REDUCE_SUM, CV_64F);
    BankStatistics stats;
    meanD.convertTo(stats.mean, CV_32F, 1.0 / N);
    stats.centeredNorms.create(N, 1, CV_32F);
    const float* mean = stats.mean.ptr<float>();
    parallel_for_(Range(0, N), [&](const Range& range) {
        std::vector<float> buffer;
        for (int i = range.start; i < range.end; i++)
        {
            // the same float subtraction as centeredTile(), the sum in double
            centeredTile(bank, i, 1, mean, buffer);
            double s = 0;
            for (int d = 0; d < D; d++)
                s += (double)buffer[d] * buffer[d];
            stats.centeredNorms.at<float>(i) = (float)s;
        }
    });
    return stats;
}

void refineCandidates(const Mat& queries, const Mat& bank, const Mat& candidates, int k,
                      Mat& distances, Mat& indices)
{
    const int Q = queries.rows, D = queries.cols, m = candidates.cols;
    distances.create(Q, k, CV_32F);
    indices.create(Q, k, CV_32S);
    parallel_for_(Range(0, Q), [&](const Range& range) {
        std::vector<std::pair<double, int>> ranked;
        std::vector<float> rowBuffer;
        for (int i = range.start; i < range.end; i++)
        {
            const float* q = queries.ptr<float>(i);
            const int* cand = candidates.ptr<int>(i);
            ranked.clear();
            for (int c = 0; c < m; c++)
            {
                if (cand[c] < 0)
                    continue;
                ranked.emplace_back(squaredDistanceInDouble(q, bankRow(bank, cand[c], rowBuffer), D),
                                    cand[c]);
            }
            std::sort(ranked.begin(), ranked.end());
            float* dist = distances.ptr<float>(i);
            int* idx = indices.ptr<int>(i);
            for (int r = 0; r < k; r++)
            {
                const bool found = r < (int)ranked.size();
                dist[r] = found ? (float)ranked[r].first : FLT_MAX;
                idx[r] = found ? ranked[r].second : -1;
            }
        }
    });
}

void bruteForceKnn(const Mat& queries, const Mat& bank, const BankStatistics& stats,
                   const Mat& bankImageIds, const Mat& excludeImageIds, int k, Mat& distances,
                   Mat& indices, KnnProducts products)
{
    CV_TRACE_FUNCTION();
    CV_Assert(queries.type() == CV_32F && queries.isContinuous());
    CV_Assert((bank.depth() == CV_32F || bank.depth() == CV_16F) && bank.isContinuous());
    const kernels::KernelTable& kern = kernels::bestKernels();
    const int Q = queries.rows, N = bank.rows, D = bank.cols;
    const int kc = std::min(k + kExtraCandidates, N);
    const int queryBlock = queryBlockRows(), tileRows = std::min(bankTileRows(), N);
    const int queryBlocks = (Q + queryBlock - 1) / queryBlock;
    const int chunks = bankChunks(queryBlocks, N, tileRows);
    const int tiles = (N + tileRows - 1) / tileRows;
    const float* norms = stats.centeredNorms.ptr<float>();
    const float* mean = stats.mean.ptr<float>();
    Mat centeredQueries;
    subtract(queries, repeat(stats.mean, Q, 1), centeredQueries);
    const int* imageIds = excludeImageIds.empty() ? 0 : bankImageIds.ptr<int>();
    const int* exclude = excludeImageIds.empty() ? 0 : excludeImageIds.ptr<int>();
    if (products == KnnProducts::Automatic)
        products = blas::enabled() ? KnnProducts::Blas : KnnProducts::Kernels;
    if (products == KnnProducts::Blas)
    {
        Mat candidates;
        blasCandidates(centeredQueries, bank, stats, imageIds, exclude, kc, candidates);
        refineCandidates(queries, bank, candidates, k, distances, indices);
        return;
    }

    // Candidates per (chunk, query): kc approximate values, ascending, with their bank rows.
    Mat candValues(chunks * Q, kc, CV_32F, Scalar::all(FLT_MAX));
    Mat candIndices(chunks * Q, kc, CV_32S, Scalar::all(-1));

    parallel_for_(Range(0, queryBlocks * chunks), [&](const Range& range) {
        std::vector<float> dots((size_t)queryBlock * tileRows), tile;
        for (int task = range.start; task < range.end; task++)
        {
            const int qb = task / chunks, chunk = task % chunks;
            const int q0 = qb * queryBlock, qRows = std::min(Q, q0 + queryBlock) - q0;
            const int t0 = (int)((int64)tiles * chunk / chunks);
            const int t1 = (int)((int64)tiles * (chunk + 1) / chunks);
            for (int t = t0; t < t1; t++)
            {
                const int b0 = t * tileRows, bRows = std::min(N, b0 + tileRows) - b0;
                centeredTile(bank, b0, bRows, mean, tile);
                kern.dotProducts(centeredQueries.ptr<float>(q0), qRows, (size_t)D, tile.data(),
                                 bRows, (size_t)D, D, dots.data());
                // Scan the tile while it is still in cache.
                for (int i = 0; i < qRows; i++)
                {
                    const int row = chunk * Q + q0 + i;
                    kern.scanRow(dots.data() + (size_t)i * bRows, norms + b0, bRows,
                                 imageIds ? imageIds + b0 : 0, exclude ? exclude[q0 + i] : -1, b0,
                                 kc, candValues.ptr<float>(row), candIndices.ptr<int>(row));
                }
            }
        }
    });

    Mat merged(Q, chunks * kc, CV_32S);
    for (int chunk = 0; chunk < chunks; chunk++)
        candIndices.rowRange(chunk * Q, (chunk + 1) * Q)
            .copyTo(merged.colRange(chunk * kc, (chunk + 1) * kc));
    refineCandidates(queries, bank, merged, k, distances, indices);
}

}} // namespace cv::dmad

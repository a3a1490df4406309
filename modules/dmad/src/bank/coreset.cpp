// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// PatchCore's approximate greedy coreset: iterative farthest point on a random projection.
//
// The textbook loop rescans every point after each pick: for a million 128-d points that is 512 MB
// read per pick, hours for 20,000 picks. Here the points live in blocks of up to 1024 (stored
// dimension-major, 512 KB at 128-d) and each block keeps an upper bound of its points' distances
// (their maximum when last brought up to date). A pick needs only the block with the largest
// bound to be exact; stale blocks at the top are brought up to date by applying all the centers
// they missed at once, a cache-friendly batch. Distances only shrink, so a bound stays valid until
// its block is updated, and the min over centers does not depend on the order the centers are
// applied in: the picks are exactly those of the textbook loop (selectCoresetNaive), which uses
// the same per-pair arithmetic.

#include "precomp.hpp"

#include <map>
#include "bank/coreset.hpp"
#include "io/progress.hpp"
#include "bank/simd_kernels.hpp"

#include <cfloat>

namespace cv {
namespace dmad {

CoresetParams::CoresetParams() : projectionDims(128), startPoints(10), seed(0) {}

namespace {

//! Points stored block by block, dimension-major inside a block: the layout the kernels stream.
struct BlockedPoints
{
    int count = 0, dims = 0, blockSize = 0, blocks = 0;
    Mat data;  //!< blocks x (dims * blockSize) CV_32F, centred; padding lanes are zero
    std::vector<float> norms;  //!< |x|^2 per lane (squaredNorms kernel), blocks * blockSize

    const float* block(int b) const { return data.ptr<float>(b); }
    float coordinate(int i, int d) const
    {
        return data.ptr<float>(i / blockSize)[(size_t)d * blockSize + i % blockSize];
    }
    void point(int i, float* out) const
    {
        for (int d = 0; d < dims; d++)
            out[d] = coordinate(i, d);
    }
};

//! Blocks of up to 1024 points; smaller ones for small inputs, so the bounds stay selective.
int chooseBlockSize(int n)
{
    int size = 64;
    while (size < 1024 && size * 256 < n)
        size *= 2;
    return size;
}

struct CoresetSetup
{
    BlockedPoints points;
    std::vector<int> starts;
};

void checkArguments(const Mat& features, int count, const CoresetParams& params)
{
    if (features.empty() || features.type() != CV_32F || features.dims != 2)
        CV_Error(Error::StsBadArg,
                 cv::format("dmad: selectCoreset needs a non-empty 2D CV_32F feature matrix "
                            "(got %s)", features.empty() ? "an empty one"
                                                         : typeToString(features.type()).c_str()));
    if (count < 1 || count > features.rows)
        CV_Error(Error::StsBadArg,
                 cv::format("dmad: coreset size %d must be in 1..%d (the number of rows)", count,
                            features.rows));
    if (params.projectionDims < 0 || params.startPoints < 1)
        CV_Error(Error::StsBadArg,
                 cv::format("dmad: coreset projectionDims (%d) must be >= 0 and startPoints (%d) "
                            ">= 1", params.projectionDims, params.startPoints));
    Point bad;
    if (!cv::checkRange(features, true, &bad))  // NaN compares false: the greedy pick breaks
        CV_Error(Error::StsBadArg,
                 cv::format("dmad: selectCoreset got a NaN or infinite value (row %d, column %d)",
                            bad.y, bad.x));
}

/** Centres the points on their mean (distances do not change, but the expanded form
    |x|^2 + |c|^2 - 2 x.c then loses far fewer digits) and computes their squared norms. */
void centerAndMeasure(BlockedPoints& pts)
{
    const int B = pts.blockSize, P = pts.dims;
    // The mean in double, block sums added in block order: the same for any thread count.
    Mat blockSums(pts.blocks, P, CV_64F);
    parallel_for_(Range(0, pts.blocks), [&](const Range& range) {
        for (int b = range.start; b < range.end; b++)
            for (int d = 0; d < P; d++)
            {
                const float* lane = pts.block(b) + (size_t)d * B;
                double s = 0;
                for (int j = 0; j < B; j++)
                    s += lane[j];  // padding lanes are zero
                blockSums.at<double>(b, d) = s;
            }
    });
    Mat sum;
    reduce(blockSums, sum, 0, REDUCE_SUM, CV_64F);
    std::vector<float> mean(P);
    for (int d = 0; d < P; d++)
        mean[d] = (float)(sum.at<double>(d) / pts.count);
    const kernels::KernelTable& kern = kernels::bestKernels();
    pts.norms.assign((size_t)pts.blocks * B, 0.f);
    parallel_for_(Range(0, pts.blocks), [&](const Range& range) {
        for (int b = range.start; b < range.end; b++)
        {
            float* block = pts.data.ptr<float>(b);
            const int lanes = std::min(B, pts.count - b * B);
            for (int d = 0; d < P; d++)
                for (int j = 0; j < lanes; j++)
                    block[(size_t)d * B + j] -= mean[d];
            kern.squaredNorms(block, (size_t)B, B, P, pts.norms.data() + (size_t)b * B);
        }
    });
}

/** Projects the features block by block (never more than one block of products at a time besides
    the result) and draws the start points, both from the seed. */
CoresetSetup prepare(const Mat& features, const CoresetParams& params)
{
    CV_TRACE_FUNCTION();
    const int N = features.rows, D = features.cols;
    RNG rng((uint64)(int64)params.seed ^ 0x9E3779B97F4A7C15ULL);
    const bool project = params.projectionDims > 0 && params.projectionDims < D;
    const int P = project ? params.projectionDims : D;
    Mat W;
    if (project)
    {
        // torch.nn.Linear's default initialisation, as PatchCore's sampler uses
        W.create(P, D, CV_32F);
        const double bound = 1.0 / std::sqrt((double)D);
        rng.fill(W, RNG::UNIFORM, -bound, bound);
    }

    CoresetSetup setup;
    BlockedPoints& pts = setup.points;
    pts.count = N;
    pts.dims = P;
    pts.blockSize = chooseBlockSize(N);
    pts.blocks = (N + pts.blockSize - 1) / pts.blockSize;
    pts.data.create(pts.blocks, P * pts.blockSize, CV_32F);
    const kernels::KernelTable& kern = kernels::bestKernels();
    const size_t featureStride = features.step / sizeof(float);
    ProgressReporter progress("coreset projection", pts.blocks);
    parallel_for_(Range(0, pts.blocks), [&](const Range& range) {
        std::vector<float> rowsBuffer;
        for (int b = range.start; b < range.end; b++)
        {
            const int r0 = b * pts.blockSize, rows = std::min(N, r0 + pts.blockSize) - r0;
            const float* source = features.ptr<float>(r0);
            size_t sourceStride = featureStride;
            if (project)
            {
                rowsBuffer.resize((size_t)rows * P);
                kern.dotProducts(features.ptr<float>(r0), rows, featureStride, W.ptr<float>(), P,
                                 (size_t)D, D, rowsBuffer.data());
                source = rowsBuffer.data();
                sourceStride = (size_t)P;
            }
            float* dst = pts.data.ptr<float>(b);
            std::fill(dst, dst + (size_t)P * pts.blockSize, 0.f);
            for (int j = 0; j < rows; j++)
                for (int d = 0; d < P; d++)
                    dst[(size_t)d * pts.blockSize + j] = source[(size_t)j * sourceStride + d];
            progress.advance(1);
        }
    });
    progress.finish(cv::format("%d x %d -> %d x %d", N, D, N, P));
    centerAndMeasure(pts);

    // Distinct start points, as numpy.random.choice(N, S, replace=False) draws them.
    const int S = std::min(params.startPoints, N);
    while ((int)setup.starts.size() < S)
    {
        const int candidate = rng.uniform(0, N);
        if (std::find(setup.starts.begin(), setup.starts.end(), candidate) == setup.starts.end())
            setup.starts.push_back(candidate);
    }
    return setup;
}

//! coordinates of the start points, S x P
std::vector<float> gatherPoints(const BlockedPoints& pts, const std::vector<int>& which)
{
    std::vector<float> coords(which.size() * pts.dims);
    for (size_t s = 0; s < which.size(); s++)
        pts.point(which[s], coords.data() + s * pts.dims);
    return coords;
}

/** The starting key of a point: the square of its mean distance to the start points (PatchCore
    averages Euclidean distances), summed in start order in float. */
inline float startKey(const float* distances2, size_t stride, int starts)
{
    float sum = 0.f;
    for (int s = 0; s < starts; s++)
        sum += std::sqrt(distances2[s * stride]);
    const float mean = sum / (float)starts;
    return mean * mean;
}

//! Marks picked points and padding lanes: below every real squared distance, never picked again.
const float kRemoved = -1.f;

std::vector<int> greedyLazyBlocks(const CoresetSetup& setup, int count)
{
    CV_TRACE_FUNCTION();
    const BlockedPoints& pts = setup.points;
    const int B = pts.blockSize, nb = pts.blocks, P = pts.dims, N = pts.count;
    const int S = (int)setup.starts.size();
    const kernels::KernelTable& kern = kernels::bestKernels();
    const std::vector<float> startCoords = gatherPoints(pts, setup.starts);

    std::vector<float> key((size_t)nb * B, kRemoved);
    std::vector<float> blockMax(nb, kRemoved);
    std::vector<int> blockArg(nb, 0), blockApplied(nb, 0);

    auto refreshMaximum = [&](int b) {
        const float* k = key.data() + (size_t)b * B;
        int arg = 0;
        for (int j = 1; j < B; j++)
            if (k[j] > k[arg])
                arg = j;
        blockMax[b] = k[arg];
        blockArg[b] = arg;
    };

    std::vector<float> startNorms(S);
    for (int s = 0; s < S; s++)
        startNorms[s] = pts.norms[setup.starts[s]];
    parallel_for_(Range(0, nb), [&](const Range& range) {
        std::vector<float> d2((size_t)S * B);
        for (int b = range.start; b < range.end; b++)
        {
            const float* norms = pts.norms.data() + (size_t)b * B;
            std::fill(d2.begin(), d2.end(), FLT_MAX);  // min(FLT_MAX, d) = d: the distances
            for (int s = 0; s < S; s++)
                kern.applyCenters(pts.block(b), (size_t)B, B, P, norms,
                                  startCoords.data() + (size_t)s * P, &startNorms[s], 1,
                                  d2.data() + (size_t)s * B);
            const int lanes = std::min(B, N - b * B);
            for (int j = 0; j < lanes; j++)
                key[(size_t)b * B + j] = startKey(d2.data() + j, (size_t)B, S);
            refreshMaximum(b);
        }
    });

    std::vector<int> picks;
    picks.reserve(count);
    std::vector<float> centers((size_t)count * P), centerNorms(count);
    ProgressReporter progress("coreset", count);
    const int laneChunk = std::min(B, 256);
    const int chunksPerBlock = B / laneChunk;
    const int maxRefreshBlocks = 4;
    std::vector<int> stale;
    double pairsEvaluated = 0;
    int64 rounds = 0;
    for (int t = 0; t < count; t++)
    {
        for (;;)
        {
            // The largest bound (ties: the lower block, whose points come first, as argmax does).
            int best = 0;
            for (int b = 1; b < nb; b++)
                if (blockMax[b] > blockMax[best])
                    best = b;
            if (blockApplied[best] == t)
                break;
            // Bring the stale blocks with the largest bounds up to date, a few at a time, in
            // parallel.
            stale.clear();
            float bestFresh = -FLT_MAX;
            for (int b = 0; b < nb; b++)
                if (blockApplied[b] == t)
                    bestFresh = std::max(bestFresh, blockMax[b]);
            for (int b = 0; b < nb; b++)
                if (blockApplied[b] < t && blockMax[b] >= bestFresh)
                    stale.push_back(b);
            if ((int)stale.size() > maxRefreshBlocks)
            {
                std::partial_sort(stale.begin(), stale.begin() + maxRefreshBlocks, stale.end(),
                                  [&](int a, int b) {
                                      return blockMax[a] > blockMax[b] ||
                                             (blockMax[a] == blockMax[b] && a < b);
                                  });
                stale.resize(maxRefreshBlocks);
            }
            double work = 0;
            for (int b : stale)
                work += (double)B * (t - blockApplied[b]) * P;
            pairsEvaluated += work / P;
            rounds++;
            auto refreshChunks = [&](const Range& range) {
                for (int task = range.start; task < range.end; task++)
                {
                    const int b = stale[task / chunksPerBlock];
                    const int lane0 = (task % chunksPerBlock) * laneChunk;
                    const int from = blockApplied[b];
                    kern.applyCenters(pts.block(b) + lane0, (size_t)B, laneChunk, P,
                                      pts.norms.data() + (size_t)b * B + lane0,
                                      centers.data() + (size_t)from * P, centerNorms.data() + from,
                                      t - from, key.data() + (size_t)b * B + lane0);
                }
            };
            const Range tasks(0, (int)stale.size() * chunksPerBlock);
            if (work < 4e6)  // too little to be worth waking the other threads
                refreshChunks(tasks);
            else
                parallel_for_(tasks, refreshChunks);
            for (int b : stale)
            {
                blockApplied[b] = t;
                refreshMaximum(b);
            }
        }
        int best = 0;
        for (int b = 1; b < nb; b++)
            if (blockMax[b] > blockMax[best])
                best = b;
        const int pick = best * B + blockArg[best];
        picks.push_back(pick);
        pts.point(pick, centers.data() + (size_t)t * P);
        centerNorms[t] = pts.norms[pick];
        key[pick] = kRemoved;  // the block's bound stays as it was: still an upper bound
        progress.advance(1);
    }
    progress.finish(cv::format("%d of %d rows", count, N));
    CV_LOG_INFO(NULL, cv::format("dmad: coreset: %lld update rounds, %.3g point-center distances "
                                 "(%.1f%% of the textbook loop's)", (long long)rounds,
                                 pairsEvaluated, 100.0 * pairsEvaluated / ((double)N * count)));
    return picks;
}

std::vector<int> greedyNaive(const CoresetSetup& setup, int count)
{
    const BlockedPoints& pts = setup.points;
    const int N = pts.count, P = pts.dims, B = pts.blockSize, S = (int)setup.starts.size();
    auto coordinates = [&](int i) { return pts.block(i / B) + i % B; };  // stride B
    std::vector<float> norms(N), point(P);
    for (int i = 0; i < N; i++)
    {
        pts.point(i, point.data());
        norms[i] = kernels::dotReference(coordinates(i), (size_t)B, point.data(), P);
    }
    auto distance2 = [&](int i, int center, const float* centerCoords) {
        const float dot = kernels::dotReference(coordinates(i), (size_t)B, centerCoords, P);
        return kernels::squaredDistanceReference(norms[i], norms[center], dot);
    };
    const std::vector<float> startCoords = gatherPoints(pts, setup.starts);
    std::vector<float> key(N), d2(S);
    for (int i = 0; i < N; i++)
    {
        for (int s = 0; s < S; s++)
            d2[s] = distance2(i, setup.starts[s], startCoords.data() + (size_t)s * P);
        key[i] = startKey(d2.data(), 1, S);
    }
    std::vector<int> picks;
    std::vector<float> center(P);
    for (int t = 0; t < count; t++)
    {
        const int pick = (int)(std::max_element(key.begin(), key.end()) - key.begin());
        picks.push_back(pick);
        key[pick] = kRemoved;
        pts.point(pick, center.data());
        for (int i = 0; i < N; i++)
            key[i] = std::min(key[i], distance2(i, pick, center.data()));
    }
    return picks;
}

} // namespace

std::vector<int> selectCoreset(InputArray featuresArg, int count, const CoresetParams& params)
{
    CV_TRACE_FUNCTION();
    const Mat features = featuresArg.getMat();
    checkArguments(features, count, params);
    const CoresetSetup setup = prepare(features, params);
    return greedyLazyBlocks(setup, count);
}

std::vector<int> selectBalancedCoreset(InputArray featuresArg, InputArray classIdsArg, int count,
                                      const CoresetParams& params)
{
    CV_TRACE_FUNCTION();
    const Mat features = featuresArg.getMat(), classIds = classIdsArg.getMat();
    if (features.empty() || features.type() != CV_32F || features.dims != 2)
        CV_Error(Error::StsBadArg, "dmad: selectBalancedCoreset needs a non-empty 2D CV_32F matrix");
    if (classIds.type() != CV_32S || classIds.total() != (size_t)features.rows)
        CV_Error(Error::StsBadSize, cv::format("dmad: selectBalancedCoreset needs one CV_32S class id per row "
                                               "(%d), got %d values", features.rows, (int)classIds.total()));
    if (count < 1)
        CV_Error(Error::StsBadArg, cv::format("dmad: selectBalancedCoreset: count = %d, must be >= 1", count));
    std::vector<int> all(features.rows);
    for (int i = 0; i < features.rows; i++)
        all[i] = i;
    if (count >= features.rows)
        return all;

    std::map<int, std::vector<int>> groups;  // class id -> rows, ascending
    for (int i = 0; i < features.rows; i++)
        groups[classIds.ptr<int>()[i]].push_back(i);
    // Water-filling: the smallest groups first, each taking min(its size, an equal share of what
    // is left), so the quotas depend on the sizes alone.
    std::vector<std::pair<int, int>> bySize;  // (size, class id)
    for (const auto& g : groups)
        bySize.emplace_back((int)g.second.size(), g.first);
    std::sort(bySize.begin(), bySize.end());
    std::map<int, int> quota;
    int left = count;
    for (size_t g = 0; g < bySize.size(); g++)
    {
        const int share = left / (int)(bySize.size() - g);
        quota[bySize[g].second] = std::min(bySize[g].first, share);
        left -= quota[bySize[g].second];
    }

    std::vector<int> keep;
    for (const auto& g : groups)
    {
        const std::vector<int>& rows = g.second;
        const int q = quota[g.first];
        if (q >= (int)rows.size())
        {
            keep.insert(keep.end(), rows.begin(), rows.end());
            continue;
        }
        if (q < 1)
            continue;
        Mat groupFeatures((int)rows.size(), features.cols, CV_32F);
        for (size_t i = 0; i < rows.size(); i++)
            features.row(rows[i]).copyTo(groupFeatures.row((int)i));
        CoresetParams groupParams = params;
        groupParams.startPoints = std::min(groupParams.startPoints, (int)rows.size());
        for (int pick : selectCoreset(groupFeatures, q, groupParams))
            keep.push_back(rows[pick]);
    }
    std::sort(keep.begin(), keep.end());
    return keep;
}

std::vector<int> selectCoresetNaive(InputArray featuresArg, int count, const CoresetParams& params)
{
    const Mat features = featuresArg.getMat();
    checkArguments(features, count, params);
    const CoresetSetup setup = prepare(features, params);
    return greedyNaive(setup, count);
}

}} // namespace cv::dmad

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// PatchCore's approximate greedy coreset: iterative farthest point on a random projection.

#include "precomp.hpp"
#include "progress.hpp"

namespace cv {
namespace dmad {

CoresetParams::CoresetParams() : projectionDims(128), startPoints(10), seed(0) {}

std::vector<int> selectCoreset(InputArray featuresArg, int count, const CoresetParams& params)
{
    CV_TRACE_FUNCTION();
    const Mat features = featuresArg.getMat();
    if (features.empty() || features.type() != CV_32F || features.dims != 2)
        CV_Error(Error::StsBadArg, "dmad: selectCoreset needs a non-empty 2D CV_32F feature matrix");
    const int N = features.rows, D = features.cols;
    if (count < 1 || count > N)
        CV_Error(Error::StsBadArg, cv::format("dmad: coreset size %d must be in 1..%d", count, N));
    if (params.projectionDims < 0 || params.startPoints < 1)
        CV_Error(Error::StsBadArg, "dmad: coreset projectionDims must be >= 0 and startPoints >= 1");

    RNG rng((uint64)(int64)params.seed ^ 0x9E3779B97F4A7C15ULL);
    Mat projected;
    if (params.projectionDims > 0 && params.projectionDims < D)
    {
        // torch.nn.Linear's default initialisation, as PatchCore's sampler uses
        Mat W(params.projectionDims, D, CV_32F);
        const double bound = 1.0 / std::sqrt((double)D);
        rng.fill(W, RNG::UNIFORM, -bound, bound);
        projected.create(N, params.projectionDims, CV_32F);
        parallel_for_(Range(0, N), [&](const Range& r) {
            Mat part = projected.rowRange(r.start, r.end);
            cv::gemm(features.rowRange(r.start, r.end), W, 1.0, noArray(), 0.0, part, GEMM_2_T);
        });
    }
    else
        projected = features;

    const int P = projected.cols;
    std::vector<float> minDist(N, 0.f);
    auto distanceTo = [&](int center, int i) {
        const float* a = projected.ptr<float>(i);
        const float* b = projected.ptr<float>(center);
        float s = 0.f;
        for (int c = 0; c < P; c++)
        {
            const float t = a[c] - b[c];
            s += t * t;
        }
        return std::sqrt(s);
    };
    const int starts = std::min(params.startPoints, N);
    std::vector<int> startIdx(starts);
    for (int s = 0; s < starts; s++)
        startIdx[s] = rng.uniform(0, N);
    parallel_for_(Range(0, N), [&](const Range& r) {
        for (int i = r.start; i < r.end; i++)
        {
            float sum = 0.f;
            for (int s : startIdx)
                sum += distanceTo(s, i);
            minDist[i] = sum / starts;
        }
    });

    ProgressReporter progress("coreset", count);
    std::vector<int> selected;
    selected.reserve(count);
    for (int it = 0; it < count; it++)
    {
        const int pick = (int)(std::max_element(minDist.begin(), minDist.end()) - minDist.begin());
        selected.push_back(pick);
        parallel_for_(Range(0, N), [&](const Range& r) {
            for (int i = r.start; i < r.end; i++)
                minDist[i] = std::min(minDist[i], distanceTo(pick, i));
        });
        progress.advance(1);
    }
    progress.finish(cv::format("%d of %d rows", count, N));
    return selected;
}

}} // namespace cv::dmad

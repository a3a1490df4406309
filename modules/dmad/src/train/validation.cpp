// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "train/validation.hpp"
#include "train/training_sources.hpp"

#include <algorithm>
#include <numeric>

namespace cv {
namespace dmad {

std::vector<int> validationImagesOf(int nNormal, int nAnomalous, const std::vector<int>& classIds, double fraction,
                                    uint64 seed)
{
    std::vector<int> normalClasses, anomalyClasses, fitted, held, heldAnomalies;
    if (!classIds.empty())
    {
        CV_Assert((int)classIds.size() == nNormal + nAnomalous);
        normalClasses.assign(classIds.begin(), classIds.begin() + nNormal);
        anomalyClasses.assign(classIds.begin() + nNormal, classIds.end());
    }
    holdOutImages(nNormal, normalClasses, fraction, seed, fitted, held);
    if (held.empty())
        return held;
    holdOutImages(nAnomalous, anomalyClasses, fraction, seed + 1, fitted, heldAnomalies);
    for (int j : heldAnomalies)
        held.push_back(nNormal + j);
    return held;
}

void moveHeldOutRows(TrainingPatches& pool, Mat& imageIds, const std::vector<int>& heldOutImages,
                     TrainingPatches& out, Mat& outIds)
{
    CV_Assert(imageIds.type() == CV_32S && (int)imageIds.total() == pool.size());
    std::vector<int> held(heldOutImages);
    std::sort(held.begin(), held.end());
    std::vector<int> keptRows, heldRows;
    for (int r = 0; r < pool.size(); r++)
        (std::binary_search(held.begin(), held.end(), imageIds.at<int>(r)) ? heldRows : keptRows).push_back(r);
    auto take = [&](const std::vector<int>& rows, TrainingPatches& part, Mat& ids) {
        Mat features((int)rows.size(), pool.features.cols, CV_32F), partIds((int)rows.size(), 1, CV_32S);
        for (size_t i = 0; i < rows.size(); i++)
        {
            pool.features.row(rows[i]).copyTo(features.row((int)i));
            partIds.at<int>((int)i) = imageIds.at<int>(rows[i]);
        }
        part = TrainingPatches();
        part.features = features;
        ids = partIds;
    };
    take(heldRows, out, outIds);
    take(keptRows, pool, imageIds);
}

double rankAUROC(const std::vector<float>& normalScores, const std::vector<float>& anomalyScores)
{
    const size_t nN = normalScores.size(), nA = anomalyScores.size();
    if (nN == 0 || nA == 0)
        return std::numeric_limits<double>::quiet_NaN();
    // ranks over the pooled scores, ties sharing their mean rank; the anomalies' rank sum gives U
    std::vector<std::pair<float, bool>> all;
    all.reserve(nN + nA);
    for (float s : normalScores)
        all.emplace_back(s, false);
    for (float s : anomalyScores)
        all.emplace_back(s, true);
    std::sort(all.begin(), all.end(),
              [](const std::pair<float, bool>& a, const std::pair<float, bool>& b) { return a.first < b.first; });
    double anomalyRankSum = 0;
    for (size_t i = 0; i < all.size();)
    {
        size_t j = i;
        while (j < all.size() && all[j].first == all[i].first)
            j++;
        const double meanRank = 0.5 * (double)(i + 1 + j);  // ranks i+1 .. j
        for (size_t t = i; t < j; t++)
            if (all[t].second)
                anomalyRankSum += meanRank;
        i = j;
    }
    return (anomalyRankSum - 0.5 * (double)nA * (double)(nA + 1)) / ((double)nA * (double)nN);
}

std::vector<float> anomalyScoresOf(nn::EnhancementNetwork<float>& enhancement, nn::ScoringNetwork<float>& head,
                                   const TrainingPatches& pool, const Mat& normalBank, const Mat& abnormalBank)
{
    static const int kBlock = 4096;  // bounds the gathered neighbours' memory at large D
    std::vector<int> order(pool.size());
    std::iota(order.begin(), order.end(), 0);
    std::vector<float> scores;
    scores.reserve(order.size());
    nn::Matrix<float> q, normal, abnormal, o, s;
    for (int first = 0; first < pool.size(); first += kBlock)
    {
        const int count = std::min(kBlock, pool.size() - first);
        gatherPatches(pool, order, (size_t)first, count, normalBank, abnormalBank, q, normal, abnormal);
        const nn::Matrix<float>* banks[2] = { &normal, &abnormal };
        enhancement.forward(q, banks, false, false, o, nullptr);
        head.forward(o, false, false, s, nullptr);
        for (int i = 0; i < count; i++)
            scores.push_back(-s(i, 0));
    }
    return scores;
}

double validationAUROC(nn::EnhancementNetwork<float>& enhancement, nn::ScoringNetwork<float>& head,
                       const ValidationPatches& validation, const Mat& normalBank, const Mat& abnormalBank)
{
    CV_Assert(!validation.empty());
    const std::vector<float> normal = anomalyScoresOf(enhancement, head, validation.normal, normalBank, abnormalBank);
    double sum = 0;
    for (const TrainingPatches& anomalies : validation.anomalies)
        sum += rankAUROC(normal, anomalyScoresOf(enhancement, head, anomalies, normalBank, abnormalBank));
    return sum / (double)validation.anomalies.size();
}

}} // namespace cv::dmad

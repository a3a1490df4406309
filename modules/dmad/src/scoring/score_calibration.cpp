// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "scoring/score_calibration.hpp"
#include "io/persistence.hpp"

#include <algorithm>
#include <cmath>

namespace cv {
namespace dmad {

double linearQuantile(std::vector<float> v, double q)
{
    CV_Assert(!v.empty());
    std::sort(v.begin(), v.end());
    const double at = q * (double)(v.size() - 1);
    const size_t below = (size_t)std::floor(at);
    const size_t above = std::min(below + 1, v.size() - 1);
    return v[below] + (at - (double)below) * ((double)v[above] - (double)v[below]);
}

/** The midpoint between neighbouring scores where F1 of "score > threshold is anomalous" is
    largest; the first such midpoint from below on ties. */
static double f1OptimalThreshold(const std::vector<float>& normal, const std::vector<float>& anomalous)
{
    std::vector<std::pair<float, int>> all;
    for (float s : normal)
        all.emplace_back(s, 0);
    for (float s : anomalous)
        all.emplace_back(s, 1);
    std::sort(all.begin(), all.end());
    const double positives = (double)anomalous.size();
    double bestF1 = -1, best = all.front().first - 1.0;
    // threshold below everything: all anomalous
    int fnBelow = 0, tnBelow = 0;
    for (size_t i = 0; i <= all.size(); i++)
    {
        if (i > 0)
        {
            (all[i - 1].second ? fnBelow : tnBelow)++;
            if (i < all.size() && all[i].first == all[i - 1].first)
                continue;  // only between distinct scores
        }
        const double tp = positives - fnBelow, fp = (double)normal.size() - tnBelow;
        const double f1 = tp > 0 ? 2 * tp / (2 * tp + fp + fnBelow) : 0.0;
        if (f1 > bestF1)
        {
            bestF1 = f1;
            if (i == 0)
                best = all.front().first - 1e-6 * std::max(1.0, std::abs((double)all.front().first));
            else if (i == all.size())
                best = all.back().first;
            else
                best = 0.5 * ((double)all[i - 1].first + (double)all[i].first);
        }
    }
    return best;
}

ScoreCalibration::ScoreCalibration(const std::vector<float>& normalScores, const std::vector<float>& anomalyScores)
{
    CV_Assert(!normalScores.empty());
    for (float s : normalScores)
        CV_Assert(std::isfinite(s));
    normalCount_ = (int)normalScores.size();
    anomalyCount_ = (int)anomalyScores.size();
    normalMedian_ = linearQuantile(normalScores, 0.5);
    threshold_ = anomalyScores.empty() ? linearQuantile(normalScores, kNormalQuantile)
                                       : f1OptimalThreshold(normalScores, anomalyScores);
}

double ScoreCalibration::normalize(double score) const
{
    CV_Assert(valid());
    // a spread of zero (identical normal scores) still maps the threshold to 0.5
    const double spread = std::max(threshold_ - normalMedian_, 1e-6 * std::max(1.0, std::abs(threshold_)));
    return std::min(1.0, std::max(0.0, 0.5 + 0.5 * (score - threshold_) / spread));
}

void ScoreCalibration::write(FileStorage& fs) const
{
    fs << "threshold" << threshold_ << "normal_median" << normalMedian_ << "normal_images" << normalCount_
       << "anomalous_images" << anomalyCount_;
}

void ScoreCalibration::read(const FileNode& node, const String& where)
{
    *this = ScoreCalibration();
    if (node.empty())
        return;
    const double threshold = persistence::readReal(node, "threshold", where);
    const double median = persistence::readReal(node, "normal_median", where);
    const int normal = persistence::readInt(node, "normal_images", where);
    const int anomalous = persistence::readInt(node, "anomalous_images", where);
    if (!std::isfinite(threshold) || !std::isfinite(median) || normal < 1 || anomalous < 0)
        CV_Error(Error::StsParseError, cv::format("dmad: %s: invalid calibration", where.c_str()));
    threshold_ = threshold;
    normalMedian_ = median;
    normalCount_ = normal;
    anomalyCount_ = anomalous;
}

}} // namespace cv::dmad

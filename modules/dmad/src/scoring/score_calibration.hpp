// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_SCORE_CALIBRATION_HPP
#define OPENCV_DMAD_SCORE_CALIBRATION_HPP

#include <opencv2/core.hpp>

#include <vector>

namespace cv {
namespace dmad {

/** The q quantile of values with linear interpolation between neighbours (numpy.quantile's
    default); values must not be empty. Shared by ScoreCalibration and ScoreFusion. */
CV_EXPORTS double linearQuantile(std::vector<float> values, double q);

/** The decision threshold of one scorer, set on images training did not fit on, and the score
    normalisation that puts it at 0.5 (so a score reads the same for every model and scorer).
    - normal scores alone (unsupervised): the threshold is their kNormalQuantile quantile (linear
      interpolation): an estimate of the score below which normal images fall;
    - normal and anomaly scores (annotated defects given): the F1-optimal threshold, the midpoint
      between the two neighbouring scores where F1 (anomalous as positive) is largest.
    normalize(s) = 0.5 + 0.5 (s - threshold) / (threshold - median of the normal scores), clipped to
    [0, 1]: the typical normal image scores 0, the threshold 0.5. */
class CV_EXPORTS ScoreCalibration
{
public:
    static constexpr double kNormalQuantile = 0.99;

    ScoreCalibration() = default;
    ScoreCalibration(const std::vector<float>& normalScores, const std::vector<float>& anomalyScores);

    bool valid() const { return normalCount_ > 0; }
    double threshold() const { return threshold_; }
    double normalize(double score) const;

    void write(FileStorage& fs) const;
    //! Reads what write() wrote; an absent node (a model without calibration) gives an invalid one.
    void read(const FileNode& node, const String& where);

private:
    double threshold_ = 0, normalMedian_ = 0;
    int normalCount_ = 0, anomalyCount_ = 0;
};

}} // namespace cv::dmad

#endif // OPENCV_DMAD_SCORE_CALIBRATION_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_SCORE_TRAINER_HPP
#define OPENCV_DMAD_SCORE_TRAINER_HPP

#include "enhancement/enhancement_network.hpp"
#include "scoring/scoring_network.hpp"

#include "opencv2/dmad/dmad.hpp"

namespace cv {
namespace dmad {

/** Training patches with their cached neighbours. The backbone is frozen and nothing is augmented,
    so features and neighbours are computed once for all epochs. */
struct TrainingPatches
{
    Mat features;            //!< P x D CV_32F
    Mat normalNeighbours;    //!< P x k CV_32S rows of the normal bank, nearest first
    Mat abnormalNeighbours;  //!< P x k CV_32S rows of the abnormal bank
    int size() const { return features.rows; }
};

/** Learns the enhancement and the scoring head with DMAD's hinge loss on normal patches, Gaussian
    pseudo anomalies of their representations (fresh each step), annotated anomaly patches and,
    optionally, synthetic defect patches with their own weight. */
class CV_EXPORTS ScoreTrainer
{
public:
    /** @param params DMAD::Params::training, as it is
        @param seed the model's seed
        @param anomalyWeight loss weight of the `annotated` pool: params.annotatedWeight, or
        params.syntheticWeight when synthetic defects stand in for annotated ones */
    ScoreTrainer(const DMAD::TrainingParams& params, int seed, double anomalyWeight)
        : params_(params), seed_(seed), anomalyWeight_(anomalyWeight) {}

    //! Returns the mean loss of the last epoch.
    double train(nn::EnhancementNetwork<float>& enhancement, nn::ScoringNetwork<float>& head,
                 const TrainingPatches& normal, const TrainingPatches& annotated, const Mat& normalBank,
                 const Mat& abnormalBank, const TrainingPatches& synthetic = TrainingPatches()) const;

private:
    DMAD::TrainingParams params_;
    int seed_;
    double anomalyWeight_;
};

}} // namespace cv::dmad

#endif // OPENCV_DMAD_SCORE_TRAINER_HPP

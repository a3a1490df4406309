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

/** What training validates on (train/validation.hpp): patches of held-out normal images, and of
    held-out anomalies, one set per kind (annotated, synthetic), none of them in the loss. */
struct ValidationPatches
{
    TrainingPatches normal;
    std::vector<TrainingPatches> anomalies;  //!< non-empty sets only
    void addAnomalies(const TrainingPatches& set)
    {
        if (set.size() > 0)
            anomalies.push_back(set);
    }
    bool empty() const { return normal.size() == 0 || anomalies.empty(); }
};

//! What a training run did: its last loss, the validation criterion per epoch, the epoch it kept.
struct TrainingOutcome
{
    double lastLoss = 0;
    std::vector<double> validationAUROC;  //!< one per epoch; empty without validation
    int keptEpoch = 0;                    //!< 1-based; the last epoch without validation
};

/** Copies the rows `order[first, first+count)` (cycled) of the pool, and the features of their
    cached neighbours, nearest first, into q (count x D), normal and abnormal (count x kD). */
void gatherPatches(const TrainingPatches& pool, const std::vector<int>& order, size_t first, int count,
                   const Mat& normalBank, const Mat& abnormalBank, nn::Matrix<float>& q, nn::Matrix<float>& normal,
                   nn::Matrix<float>& abnormal);

/** Learns the enhancement and the scoring head with DMAD's hinge loss on normal patches, Gaussian
    pseudo anomalies of their representations (fresh each step), annotated anomaly patches and,
    optionally, synthetic defect patches with their own weight. With validation patches, the
    networks end as they were after the epoch of the best validationAUROC() (ties: the later). */
class CV_EXPORTS ScoreTrainer
{
public:
    /** @param params DMAD::Params::training, as it is
        @param seed the seed of the pair trained (ScoringEnsemble::memberSeed())
        @param anomalyWeight loss weight of the `annotated` pool: params.annotatedWeight, or
        params.syntheticWeight when synthetic defects stand in for annotated ones
        @param task what the progress line calls the work ("train", "train 2/3") */
    ScoreTrainer(const DMAD::TrainingParams& params, int seed, double anomalyWeight, const String& task = "train")
        : params_(params), seed_(seed), anomalyWeight_(anomalyWeight), task_(task) {}

    TrainingOutcome train(nn::EnhancementNetwork<float>& enhancement, nn::ScoringNetwork<float>& head,
                          const TrainingPatches& normal, const TrainingPatches& annotated, const Mat& normalBank,
                          const Mat& abnormalBank, const TrainingPatches& synthetic = TrainingPatches(),
                          const ValidationPatches& validation = ValidationPatches()) const;

private:
    DMAD::TrainingParams params_;
    int seed_;
    double anomalyWeight_;
    String task_;
};

}} // namespace cv::dmad

#endif // OPENCV_DMAD_SCORE_TRAINER_HPP

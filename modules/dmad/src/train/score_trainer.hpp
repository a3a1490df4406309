// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_SCORE_TRAINER_HPP
#define OPENCV_DMAD_SCORE_TRAINER_HPP

#include "enhancement/enhancement_network.hpp"
#include "scoring/scoring_network.hpp"

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

struct TrainerSettings
{
    int epochs = 1;
    int batchPatches = 4096;
    int annotatedBatchPatches = 512;  //!< annotated anomaly patches per step (cycled)
    int syntheticBatchPatches = 512;  //!< synthetic defect patches per step (cycled)
    double noiseStd = 0.015, margin = 0.5, annotatedWeight = 10;
    double syntheticWeight = 1;       //!< loss weight of the synthetic defect patches
    double headLearningRate = 2e-4, headWeightDecay = 1e-5;
    double adaptorLearningRate = 1e-4, adaptorWeightDecay = 1e-2;
    double enhancementLearningRate = 1e-4, enhancementWeightDecay = 1e-2;
    bool trainEnhancement = true;
    //! Add the Gaussian noise to the features before the enhancement instead of to the representation.
    bool featureSpaceNoise = false;
    int seed = 0;
};

/** Learns the enhancement and the scoring head with DMAD's hinge loss on normal patches, Gaussian
    pseudo anomalies of their representations (fresh each step), annotated anomaly patches and,
    optionally, synthetic defect patches with their own weight. */
class CV_EXPORTS ScoreTrainer
{
public:
    explicit ScoreTrainer(const TrainerSettings& settings) : settings_(settings) {}

    //! Returns the mean loss of the last epoch.
    double train(nn::EnhancementNetwork<float>& enhancement, nn::ScoringNetwork<float>& head,
                 const TrainingPatches& normal, const TrainingPatches& annotated, const Mat& normalBank,
                 const Mat& abnormalBank, const TrainingPatches& synthetic = TrainingPatches()) const;

private:
    TrainerSettings settings_;
};

}} // namespace cv::dmad

#endif // OPENCV_DMAD_SCORE_TRAINER_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Score learning's validation (DMAD::TrainingParams::validationFraction): patches of held-out
// training images that the loss never sees, scored after every epoch so that training keeps the
// epoch that separates them best. Test images never reach training, so selection cannot see them.

#ifndef OPENCV_DMAD_VALIDATION_HPP
#define OPENCV_DMAD_VALIDATION_HPP

#include "train/score_trainer.hpp"

#include <vector>

namespace cv {
namespace dmad {

/** The images whose patches validate the score, numbered as training numbers them: the normal
    images 0..nNormal-1, then the anomalies; `classIds` has one id per image, or none (one class).
    holdOutImages() of each (the fraction of each class's count, drawn with `seed`); anomalies only
    when some normal image is held out, since neither side validates without the other. */
CV_EXPORTS std::vector<int> validationImagesOf(int nNormal, int nAnomalous, const std::vector<int>& classIds,
                                               double fraction, uint64 seed);

/** Moves the rows of `pool` whose image id (`imageIds`, one per row) is in `heldOutImages` to `out`,
    with their ids in `outIds`; `pool` and `imageIds` keep the other rows, in their order. Features
    only: neighbours are found afterwards, leave-one-image-out, for both parts. */
CV_EXPORTS void moveHeldOutRows(TrainingPatches& pool, Mat& imageIds, const std::vector<int>& heldOutImages,
                                TrainingPatches& out, Mat& outIds);

/** AUROC of anomaly scores: the probability that an anomalous patch scores above a normal one,
    ties counting half (Mann-Whitney). NaN when either side is empty. */
CV_EXPORTS double rankAUROC(const std::vector<float>& normalScores, const std::vector<float>& anomalyScores);

/** The anomaly scores (-s) of the pool's patches with their cached neighbours, inference
    statistics, in blocks. */
CV_EXPORTS std::vector<float> anomalyScoresOf(nn::EnhancementNetwork<float>& enhancement,
                                              nn::ScoringNetwork<float>& head, const TrainingPatches& pool,
                                              const Mat& normalBank, const Mat& abnormalBank);

/** The validation criterion: the mean, over the anomaly sets, of each set's rankAUROC against
    the normal patches. */
CV_EXPORTS double validationAUROC(nn::EnhancementNetwork<float>& enhancement, nn::ScoringNetwork<float>& head,
                                  const ValidationPatches& validation, const Mat& normalBank,
                                  const Mat& abnormalBank);

}} // namespace cv::dmad

#endif // OPENCV_DMAD_VALIDATION_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Training, step 5: the patches the score is learned on and their leave-one-image-out neighbours in
// both banks, computed once for all epochs (the backbone is frozen, nothing is augmented).

#ifndef OPENCV_DMAD_TRAINING_POOLS_HPP
#define OPENCV_DMAD_TRAINING_POOLS_HPP

#include "opencv2/dmad/dmad.hpp"
#include "train/score_trainer.hpp"

namespace cv {
namespace dmad {

/** Distinct cells of every normal image drawn from `rng`, with the id of the image each comes from
    (`poolIds`, for leave-one-image-out): `ratio` of each image's cells, or with `balanceClasses`
    (TrainingParams::balanceClasses) `ratio` of an average class's cells from each class
    (`sources.normalClassIds`), spread evenly over its images, at least 1 and at most all of each. */
CV_EXPORTS TrainingPatches sampleNormalPool(const DualMemoryBank::Sources& sources, int cells, double ratio,
                                            bool balanceClasses, RNG& rng, Mat& poolIds);

/** The synthetic defect patches the loss trains on (TrainingParams::syntheticUntilAnnotated, N) and
    their image ids, in the order of `sources.synthetic`: a class with n annotated anomalous images
    (distinct `sources.annotatedImageIds` of its `sources.annotatedClassIds`) keeps all of its
    synthetic defect images while n <= 1, a share (N - n) / (N - 1) of them (rounded, drawn with
    `seed`) while n < N, and none from N on; N = 0 keeps every patch. An image's patches stay or
    leave together. */
CV_EXPORTS void selectSyntheticLossPatches(const DualMemoryBank::Sources& sources, int untilAnnotated, uint64 seed,
                                           Mat& features, Mat& imageIds);

/** The k nearest entries of every pool patch in both banks, leaving out the entries of the patch's
    own image (`imageIds`). Too few entries from other images are an error. */
void findPoolNeighbors(TrainingPatches& pool, const Mat& imageIds, const MemoryBank& normalBank,
                        const MemoryBank& abnormalBank, int k, const String& task);

/** Moves the patches of `heldOutImages` from `pool` to `heldOut` (moveHeldOutRows: `imageIds`, the
    pool's, keeps those of the rows left) and finds the neighbours of both parts (findPoolNeighbors).
    A pool whose every row would leave keeps them all, and `heldOut` stays empty. */
void holdOutAndFindNeighbors(TrainingPatches& pool, Mat& imageIds, const std::vector<int>& heldOutImages,
                             const MemoryBank& normalBank, const MemoryBank& abnormalBank, int k, const String& task,
                             TrainingPatches& heldOut);

/** What DMAD::update() refines the head on (TrainingParams::updatePatches): `count` patches of the
    pool (all when it has fewer), drawn with `seed`, in float16 with their image ids and classes
    (`classIds` per image; empty: -1). */
Ptr<MemoryBank> sampleUpdatePatches(const TrainingPatches& pool, const Mat& imageIds,
                                    const std::vector<int>& classIds, int count, uint64 seed);

}} // namespace cv::dmad

#endif // OPENCV_DMAD_TRAINING_POOLS_HPP

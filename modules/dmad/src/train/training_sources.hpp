// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Training, steps 1 to 3: the patches that fill the two banks and the loss, from the normal images,
// the annotated anomalies and pseudo anomalies (DualMemoryBank::Sources).

#ifndef OPENCV_DMAD_TRAINING_SOURCES_HPP
#define OPENCV_DMAD_TRAINING_SOURCES_HPP

#include "opencv2/dmad/dmad.hpp"
#include "train/image_source.hpp"

#include <vector>

namespace cv {
namespace dmad {

/** The images training holds out, of `count` images with `classIds` (empty: one class):
    floor(fraction x count) of each class, drawn with `seed`; the rest, in their order, are fitted.
    Step 0 holds normal images out to calibrate the decision threshold on (Params::calibrationFraction),
    step 5 normal images and annotated anomalies to validate the score on (TrainingParams::validationFraction). */
CV_EXPORTS void holdOutImages(int count, const std::vector<int>& classIds, double fraction, uint64 seed,
                              std::vector<int>& fitted, std::vector<int>& heldOut);

/** The normal images scored leave-one-image-out to calibrate the threshold when none is held out:
    min(perClass, class size) of each class (classIds empty: one class), drawn with `seed`, in
    their order. */
CV_EXPORTS std::vector<int> sampleCalibrationImages(int normalCount, const std::vector<int>& classIds, int perClass,
                                                    uint64 seed);

//! Extracts the features of every image of a source, a few batches at a time, with progress.
Mat extractAll(const FeatureExtractor& extractor, const ImageSource& images, const String& task);

/** 1 / sqrt(mean per-dimension variance) of the normal training features: backbones differ in
    scale by an order of magnitude, while the pseudo-anomaly noise and the learning rates assume one. */
double unitSpreadScale(const Mat& features);

//! A vector as an n x 1 CV_32S column.
Mat column(const std::vector<int>& v);

/** Step 1: the patch features of every normal image of every class, scaled to unit spread when
    `normalize`, with their image and class ids. Returns the scale. */
double addNormalPatches(const FeatureExtractor& extractor, const ImageSource& normal,
                        const std::vector<int>& classIds, bool normalize, DualMemoryBank::Sources& sources);

/** Step 2: the masked patches of annotated anomalies (the "Filter"); their image ids follow the
    normal images' (`firstImageId` on), so leave-one-image-out treats them alike. */
void addAnnotatedPatches(const FeatureExtractor& extractor, double featureScale, const ImageSource& anomalous,
                         const ImageSource& masks, int firstImageId, const std::vector<int>& classIds,
                         DualMemoryBank::Sources& sources);

//! Out-of-domain textures for pseudo anomalies: Params::textureFolder's, else generated from `rng`.
std::vector<Mat> trainingTextures(const DMAD::Params& params, RNG& rng);

/** Step 3: pseudo anomalies for the unsupervised abnormal bank: a texture pasted into normal training
    images through a Perlin mask (DRAEM), kept where the mask touches the grid (the same Filter as
    annotated anomalies). The patches keep the id of their normal image, so leave-one-image-out hides
    them from that image's own training patches. */
void addSyntheticDefects(const FeatureExtractor& extractor, double featureScale, const ImageSource& normal, int images,
                         const std::vector<Mat>& textures, const std::vector<int>& classIds, RNG& rng,
                         DualMemoryBank::Sources& sources);

}} // namespace cv::dmad

#endif // OPENCV_DMAD_TRAINING_SOURCES_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_EVAL_SYNTHETIC_DATASET_HPP
#define OPENCV_DMAD_EVAL_SYNTHETIC_DATASET_HPP

#include <opencv2/core.hpp>

namespace cv {
namespace dmad {

//! @addtogroup dmad
//! @{

/** @brief A small multi-class anomaly detection dataset that the module draws itself, so that
training and evaluation run end to end without downloading MVTec AD @cite bergmann2019mvtec.

Classes (syntheticClassNames()) and their defect types (syntheticDefectTypes()):
- `fabric`, a woven textile (colour): `hole` (threads missing, the dark backing shows), `stain`,
  `thread` (a loose thread lying across);
- `metal_plate`, brushed steel (grayscale): `scratch`, `spot` (corrosion, oil), `crack`;
- `washer`, a keyed metal ring on a belt (colour): `missing` (a broken-off piece), `crack`,
  `scratch`;
- `pill`, a two-colour capsule (colour): `chip` (a piece broken off), `crack`, `contamination`.

Normal images vary in position, rotation, size, lighting, texture phase and sensor noise. Defects
cover roughly 0.1 % to 3 % of the image, with random size, shape and contrast (some are faint).
Every image is a pure function of (class, defect type, seed, index, size).
*/
struct CV_EXPORTS_W_SIMPLE SyntheticDatasetParams
{
    CV_WRAP SyntheticDatasetParams();

    CV_PROP_RW int seed;             //!< the dataset's seed
    CV_PROP_RW int trainCount;       //!< normal training images per class (`train/good`)
    CV_PROP_RW int testGoodCount;    //!< normal test images per class (`test/good`)
    CV_PROP_RW int testDefectCount;  //!< defective test images per class, spread over its types
    CV_PROP_RW int imageSize;        //!< square image side in pixels, 32..2048
    CV_PROP_RW std::vector<String> classes;  //!< subset of syntheticClassNames(); empty: all
};

/** @brief The classes renderSyntheticSample() draws: fabric, metal_plate, washer, pill. */
CV_EXPORTS_W std::vector<String> syntheticClassNames();

/** @brief The defect types of a class, in the order generateSyntheticDataset() fills them.
@throws cv::Exception for an unknown class. */
CV_EXPORTS_W std::vector<String> syntheticDefectTypes(const String& className);

/** @brief Draws one sample.
@param className one of syntheticClassNames().
@param defectType "good" or one of syntheticDefectTypes(className).
@param seed the dataset's seed.
@param index the sample's number; (className, defectType, seed, index) fix the image.
@param imageSize square side in pixels, 32..2048.
@param image output CV_8UC3 (CV_8UC1 for grayscale classes).
@param mask output CV_8UC1 of the image's size: 255 exactly on the defect, all 0 for "good".
The image differs from `clean` only inside the mask.
@param clean output: the same part without its defect (equal to `image` for "good").
*/
CV_EXPORTS_W void renderSyntheticSample(const String& className, const String& defectType,
                                        int seed, int index, int imageSize, OutputArray image,
                                        OutputArray mask, OutputArray clean = noArray());

/** @brief Writes the dataset in MVTec AD layout, unless it is already there.

Layout, with `NNN` counting from 000 in every folder:
- `<root>/<class>/train/good/NNN.png`: renderSyntheticSample(class, "good", seed, NNN);
- `<root>/<class>/test/good/NNN.png`: renderSyntheticSample(class, "good", seed, -1 - NNN), so
  that no test image repeats a training image;
- `<root>/<class>/test/<type>/NNN.png` and `<root>/<class>/ground_truth/<type>/NNN_mask.png`:
  renderSyntheticSample(class, type, seed, NNN);
- `<root>/dataset.yml`: the parameters, written last.

When `<root>/dataset.yml` matches the parameters and every file exists, nothing is written.
Otherwise the class folders that an earlier call wrote are removed and the dataset is written
again. A root that holds a class folder but no dataset.yml is refused, so that nothing the
function did not write is ever removed.
@return true when images were written, false when the dataset was already up to date.
@throws cv::Exception for invalid parameters, a foreign folder or a failed write.
*/
CV_EXPORTS_W bool generateSyntheticDataset(const String& root,
                                           const SyntheticDatasetParams& params =
                                               SyntheticDatasetParams());

//! @}

}} // namespace cv::dmad

#endif // OPENCV_DMAD_EVAL_SYNTHETIC_DATASET_HPP

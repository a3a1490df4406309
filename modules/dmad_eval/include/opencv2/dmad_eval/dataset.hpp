// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_EVAL_DATASET_HPP
#define OPENCV_DMAD_EVAL_DATASET_HPP

#include <opencv2/core.hpp>
#include "opencv2/dmad/image_files.hpp"  // isImageFile(), listImageFiles()

#include <vector>

namespace cv {
namespace dmad {

//! @addtogroup dmad
//! @{

/** @brief One image of an anomaly detection dataset. */
struct CV_EXPORTS DatasetSample
{
    DatasetSample() : anomalous(false) {}

    String imagePath;   //!< image file (any format cv::imread reads)
    /** Ground-truth mask file, nonzero = defect. Empty for normal images (an all-zero mask is
        implied) and for the defects of a class without masks (DatasetSplit::hasMasks()). */
    String maskPath;
    String className;   //!< product class, e.g. "bottle"
    String defectType;  //!< "good" for normal images, else the defect folder name (VisA: "anomaly")
    bool anomalous;     //!< true for defect images
};

/** @brief Training and test samples of one or several classes.

Training samples are normal images only. Samples are ordered by class (in the order of `classes`),
then by path (byte-wise), so two reads of the same folder give the same lists.
*/
struct CV_EXPORTS DatasetSplit
{
    std::vector<DatasetSample> train;
    std::vector<DatasetSample> test;
    std::vector<String> classes;
    /** One entry per class: whether its defects have ground-truth masks. A class without masks
        only supports image-level metrics. */
    std::vector<bool> classHasMasks;

    //! Index of a class in `classes`, or -1.
    int classIndex(const String& className) const;
    //! Whether the class has masks; throws for an unknown class.
    bool hasMasks(const String& className) const;
    //! Training and test samples of one class (throws for an unknown class).
    std::vector<DatasetSample> trainOf(const String& className) const;
    std::vector<DatasetSample> testOf(const String& className) const;
};

/** @brief Reads a dataset in the MVTec-AD folder layout.

Per class: `<root>/<class>/train/good/<image>` (training), `<root>/<class>/test/<type>/<image>`
(test; type "good" is normal, every other folder is a defect type) and, when the class has masks,
`<root>/<class>/ground_truth/<type>/<stem>_mask.png` (any image extension is accepted for the mask).
Images may have any extension of isImageFile(), grayscale or colour; other files are ignored.

A class has masks exactly when its `ground_truth` folder exists. In such a class every defect image
needs its mask: a missing one raises cv::Exception naming the expected path (it is never skipped).

@param root the dataset folder.
@param classes the classes to read, in this order; empty: every subfolder of `root` (sorted), each
of which must then be a class folder.
@throws cv::Exception for a missing folder, a class without `train/good` or `test`, a class with no
training image, or a missing mask.
*/
CV_EXPORTS DatasetSplit readMVTecDataset(
    const String& root, const std::vector<String>& classes = std::vector<String>());

/** @brief One dataset of the classes of several: the classes in the order given (each name must
be unique across the parts), their samples sorted by class as the readers sort them.
@throws cv::Exception for a class name that two parts share. */
CV_EXPORTS DatasetSplit mergeDatasets(const std::vector<DatasetSplit>& parts);

/** @brief Reads a VisA dataset through its split file.

The CSV (default `split_csv/1cls.csv`, the per-class split of the VisA paper) has a header naming
the columns `object`, `split` ("train" / "test"), `label` ("normal" / "anomaly"), `image` and
`mask` (empty for normal images), in any order; paths are relative to `root`. Anomalous samples get
the defect type "anomaly". A class has masks when any of its rows names one; then every anomalous
row must name one.

@param root the VisA folder (the one holding `split_csv/` and the class folders).
@param classes the classes to read, in this order; empty: every class of the CSV (sorted).
@param splitFile the CSV, relative to `root` (or absolute).
@throws cv::Exception for an unreadable CSV, a malformed row (its line number is given), a file the
CSV names that does not exist, an anomalous training row, or a requested class absent from the CSV.
*/
CV_EXPORTS DatasetSplit readVisADataset(const String& root,
                                        const std::vector<String>& classes = std::vector<String>(),
                                        const String& splitFile = "split_csv/1cls.csv");

/** @brief Reads one class from a folder of good images and a folder of defect images.

For users with their own images. Good images go to training, except a `testGoodFraction` of them
(picked with a seeded shuffle, see takeAnnotatedAnomalies() for the RNG) which go to the test set
so image AUROC can be computed. Every defect image goes to the test set with the defect type "bad".
Only files directly in each folder are read (no recursion).

Masks: when `maskDir` is given, the mask of `<bad>/<stem>.<ext>` is `<maskDir>/<stem>_mask.<ext2>`
or `<maskDir>/<stem>.<ext2>` (any image extensions); every defect image needs exactly one.

@param goodDir folder of normal images (at least one must remain for training).
@param badDir folder of defect images; may be empty (no defects, e.g. for training only).
@param maskDir folder of masks for the defect images; empty: no masks.
@param testGoodFraction fraction of good images moved to the test set, in [0, 1), rounded to the
nearest count.
@param seed seed of the shuffle that picks the held-out good images.
@param className the name given to the class.
@throws cv::Exception for a missing folder, no image in `goodDir`, no training image left, or a
missing or ambiguous mask.
*/
CV_EXPORTS DatasetSplit readFolderDataset(const String& goodDir, const String& badDir,
                                          const String& maskDir = String(),
                                          double testGoodFraction = 0.0, uint64 seed = 0,
                                          const String& className = "default");

/** @brief Picks annotated anomalies per class and removes them from the test set (DMAD protocol).

Per class (the RNG restarts from `seed` for every class, so a class's pick depends only on its own
files and the seed): sort the class's anomalous test samples by image path, shuffle them with
Fisher-Yates (for i = n-1 down to 1, swap element i with element `cv::RNG(seed).uniform(0, i+1)`),
take the first `perClass`. This follows the DMAD reference code (`random.seed(0)`, shuffle, take the
first k) but is **not** bit-identical to Python's `random.shuffle`, which uses another generator.

Samples of a class without masks are picked too (their maskPath is empty); callers that need masks
check DatasetSplit::hasMasks().

@param split the dataset; it is not modified.
@param perClass number of anomalies to take from each class (0 takes none).
@param seed seed of the per-class shuffle.
@param taken output: the picked samples, class by class, each class in shuffled order.
@param allowFewer what to do when a class has fewer than `perClass` anomalous test samples: false
throws cv::Exception naming the class and the counts; true takes all of them and logs a warning.
@return a copy of `split` whose test set lacks the taken samples (the remaining order is kept).
*/
CV_EXPORTS DatasetSplit takeAnnotatedAnomalies(const DatasetSplit& split, int perClass, uint64 seed,
                                               CV_OUT std::vector<DatasetSample>& taken,
                                               bool allowFewer = false);

/** @brief Loads a ground-truth mask as a binary CV_8U image (0 or 255).

The file is read in its own depth and colour (alpha dropped); a pixel is a defect when any
channel is nonzero. The mask is resized with nearest-neighbour interpolation, so it stays binary.

@param maskPath the mask file; empty means "no defect" and gives an all-zero mask of `size`.
@param size output size (width x height); an empty size keeps the file's size (then `maskPath` must
not be empty).
@param mask output CV_8U mask.
@throws cv::Exception naming the file when it is missing or unreadable.
*/
CV_EXPORTS_W void readMask(const String& maskPath, Size size, OutputArray mask);

/** @brief readMask() for a sample: a normal sample gives zeros; an anomalous sample without a mask
(a class without masks) raises cv::Exception naming the image, since treating it as all-normal
would be wrong. */
CV_EXPORTS void readMask(const DatasetSample& sample, Size size, OutputArray mask);

//! @}

}} // namespace cv::dmad

#endif // OPENCV_DMAD_EVAL_DATASET_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_EVAL_METRICS_HPP
#define OPENCV_DMAD_EVAL_METRICS_HPP

#include <opencv2/core.hpp>

#include <vector>

namespace cv {
namespace dmad {

//! @addtogroup dmad
//! @{

/** @brief Image- and pixel-level detection metrics of one class (or their mean).

A metric that cannot be computed is NaN, never 0: pixel metrics of a class without masks, and any
metric whose input lacks one of the two labels (see rocAUC()). Format with formatMetrics(), which
prints NaN as "n/a".
*/
struct CV_EXPORTS_W_SIMPLE ClassMetrics
{
    CV_WRAP ClassMetrics();

    CV_PROP_RW String name;       //!< class name, or "mean"
    CV_PROP_RW double imageAUROC; //!< area under the ROC curve of image scores
    CV_PROP_RW double imageAP;    //!< average precision of image scores
    CV_PROP_RW double imageF1;    //!< maximal F1 over the thresholds of image scores
    CV_PROP_RW double pixelAUROC; //!< area under the ROC curve of all test pixels
    CV_PROP_RW double pixelAP;    //!< average precision of all test pixels
    CV_PROP_RW double pro;        //!< normalised area under the PRO curve up to maxFPR, see auPRO()
    CV_PROP_RW int nTrain;        //!< training images (set by the caller; metrics do not see them)
    CV_PROP_RW int nTest;         //!< test images scored
    CV_PROP_RW int nTestAnomalous;//!< anomalous ones among them
};

/** @brief Area under the ROC curve, as sklearn.metrics.roc_auc_score computes it.

Scores are ranked in decreasing order; tied scores form one threshold, so ties give a sloped
(trapezoid) segment, i.e. count one half, as in sklearn.
@param scores N scores (any depth, converted to double), higher = more anomalous; NaN is an error.
@param labels N labels (any depth), nonzero = anomalous.
@return the AUC, or NaN when the labels are all equal (or N = 0): sklearn raises an error there.
*/
CV_EXPORTS_W double rocAUC(InputArray scores, InputArray labels);

/** @brief Average precision, as sklearn.metrics.average_precision_score computes it:
`sum_n (R_n - R_{n-1}) P_n` over the distinct thresholds in decreasing order (no interpolation).
@return the AP, or NaN when the labels are all equal (sklearn gives 0 without anomalies, with a
warning, and 1 without normal samples; neither value says anything about the scores).
*/
CV_EXPORTS_W double averagePrecision(InputArray scores, InputArray labels);

/** @brief Largest F1 score over the thresholds of the precision-recall curve (F1-max).

The thresholds are the distinct scores; at threshold t a sample is predicted anomalous when its
score is >= t. Equals `max(2PR / (P + R))` over sklearn's precision_recall_curve points, with 0
where P + R = 0.
@param scores as for rocAUC().
@param labels as for rocAUC().
@param threshold optional output: the threshold (a score) that reaches the maximum, the highest
one on ties; NaN when the F1-max is NaN.
@return the F1-max, or NaN when the labels are all equal.
*/
CV_EXPORTS double maxF1Score(InputArray scores, InputArray labels, double* threshold = NULL);

/** @brief Pixel AUROC, pixel AP and AU-PRO of a set of anomaly maps, in one pass.

All pixels of all maps are ranked together (the usual "pixel-level" protocol). Scores are ranked as
CV_32F values (CV_64F maps are converted first), exactly: ties are equal float values, handled as
in rocAUC(). Memory: about 2 bytes per normal pixel plus 8 bytes per defect pixel beyond the inputs.

AU-PRO follows the MVTec-AD reference evaluation (Bergmann et al., IJCV 2021, `compute_pro` and
`trapezoid` of its evaluation code), computed exactly over every distinct score:
- the defect regions are the 8-connected components of each mask (as `scipy.ndimage.label` with
  a 3x3 structure there, and as skimage's default in SimpleNet's `compute_pro`);
- at threshold t, PRO(t) is the mean over all regions of all maps (each region counts once) of the
  fraction of the region's pixels scoring >= t, and FPR(t) is the fraction of normal pixels (mask 0,
  in all maps) scoring >= t;
- the curve from (0, 0) through the points of the distinct thresholds is integrated with the
  trapezoid rule up to FPR = maxFPR (interpolating linearly at maxFPR), then divided by maxFPR.

SimpleNet-style code instead samples 200 equally spaced thresholds, dilates the binarised map by 5x5
for the overlap, and renormalises by the largest sampled FPR below 0.3; its numbers differ.

@param anomalyMaps maps of any size, one channel, CV_32F or CV_64F (NaN is an error).
@param masks one per map, same size, CV_8U (or CV_8S/CV_16U/...), nonzero = defect; an empty Mat
stands for an all-zero mask (a normal image).
@param pixelAUROC output, NaN when all pixels have the same label.
@param pixelAP output, NaN when all pixels have the same label.
@param aupro output, NaN when there is no defect region or no normal pixel.
@param maxFPR integration limit of AU-PRO, in (0, 1].
*/
CV_EXPORTS_W void pixelMetrics(InputArrayOfArrays anomalyMaps, InputArrayOfArrays masks,
                               CV_OUT double& pixelAUROC, CV_OUT double& pixelAP,
                               CV_OUT double& aupro, double maxFPR = 0.3);

/** @brief AU-PRO alone; see pixelMetrics(). */
CV_EXPORTS_W double auPRO(InputArrayOfArrays anomalyMaps, InputArrayOfArrays masks,
                          double maxFPR = 0.3);

/** @brief All metrics of one class.

@param name class name.
@param imageScores one score per test image.
@param imageLabels one label per test image, nonzero = anomalous.
@param anomalyMaps one map per test image, or empty; see pixelMetrics().
@param masks one mask per test image (an empty Mat for normal images is fine), or empty for a class
without masks: the pixel metrics are then NaN ("not computable").
@param maxFPR AU-PRO integration limit.
@return the metrics; nTrain is 0, to be set by the caller.
*/
CV_EXPORTS_W ClassMetrics computeClassMetrics(const String& name, InputArray imageScores,
                                              InputArray imageLabels,
                                              InputArrayOfArrays anomalyMaps = noArray(),
                                              InputArrayOfArrays masks = noArray(),
                                              double maxFPR = 0.3);

/** @brief The mean over classes, named "mean".

Each metric is averaged over the classes where it is not NaN (so the pixel means are over the
classes with masks); it is NaN when no class has it. The counts are summed.
*/
CV_EXPORTS_W ClassMetrics meanMetrics(const std::vector<ClassMetrics>& perClass);

/** @brief A plain-text table of metrics (percent, one row per entry), with "n/a" for NaN. */
CV_EXPORTS_W String formatMetrics(const std::vector<ClassMetrics>& rows);

//! @}

}} // namespace cv::dmad

#endif // OPENCV_DMAD_EVAL_METRICS_HPP

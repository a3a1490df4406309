// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_EVAL_HPP
#define OPENCV_DMAD_EVAL_HPP

#include "opencv2/dmad_eval/dataset.hpp"
#include "opencv2/dmad_eval/metrics.hpp"
#include "opencv2/dmad_eval/synthetic_dataset.hpp"

/** @defgroup dmad_eval Evaluation tooling for anomaly detectors

What the samples, benchmarks and tests of the dmad module use to evaluate a detector, kept out of the
detector library itself, as opencv_contrib keeps dataset readers in a module of their own
(`datasets`) and anomalib keeps `data/` and `metrics/` apart from `models/`. A program that only
deploys a trained model links opencv_dmad alone.

- dataset readers: MVTec-AD, VisA and plain good/bad folders (readMVTecDataset(), readVisADataset(),
  readFolderDataset()) and the semi-supervised protocol's annotated anomalies (takeAnnotatedAnomalies());
- metrics: image and pixel AUROC, AP, F1-max and AU-PRO (computeClassMetrics()), checked against
  scikit-learn;
- a rendered synthetic dataset in MVTec-AD layout (generateSyntheticDataset()), the main job's
  embedded default.

It builds on opencv_dmad (never the other way round); the functions live in the cv::dmad namespace,
as the detector they evaluate.
*/

#endif // OPENCV_DMAD_EVAL_HPP

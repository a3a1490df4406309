// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_HPP
#define OPENCV_DMAD_HPP

#include "opencv2/dmad/anomaly_synthesis.hpp"
#include "opencv2/dmad/dmad.hpp"
#include "opencv2/dmad/image_files.hpp"
#include "opencv2/dmad/progress.hpp"

/** @defgroup dmad Unified industrial anomaly detection with a dual memory bank

DMAD @cite hu2024dmad detects anomalies in images of many product classes with one model, trained
on normal images alone (unsupervised) or on normal images and a few annotated defects
(semi-supervised):

1. patch features from a frozen ImageNet CNN run through cv::dnn (FeatureExtractor), as in
   PatchCore @cite roth2022towards and SimpleNet @cite liu2023simplenet;
2. a dual memory bank of normal patches (a greedy coreset of all classes' training patches) and of
   abnormal patches (annotated defects, anomaly-centre samples, pseudo anomalies);
3. knowledge enhancement: the distance and attention between a patch and its neighbours in both banks;
4. a small score network trained with a hinge loss on normal patches and Gaussian pseudo anomalies,
   giving a patch score map, a pixel anomaly map and an image score.

One model serves all classes, as in UniAD @cite you2022unified; no class label is needed at inference.

Evaluation tooling (dataset readers, metrics, the synthetic dataset) is not part of this module:
it lives in opencv_dmad_eval (`opencv2/dmad_eval.hpp`), which the samples, benchmarks and tests
link. A program that deploys a trained model needs this module alone.
*/

#endif // OPENCV_DMAD_HPP

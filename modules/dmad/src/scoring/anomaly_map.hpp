// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_ANOMALY_MAP_HPP
#define OPENCV_DMAD_ANOMALY_MAP_HPP

#include <opencv2/core.hpp>

namespace cv {
namespace dmad {

/** Pixel anomaly map from a patch score grid: bilinear upsampling to the canvas
    (FeatureExtractor::canvasSize(): the network input times the tiles), Gaussian smoothing (sigma
    given at 256 px of network input, scaled with it; 4-sigma kernel and reflected borders as
    scipy.ndimage.gaussian_filter), then bilinear resizing of the image's region of the canvas
    (FeatureExtractor::inputRegion(): all of it unless letterboxed) to the image. */
CV_EXPORTS void anomalyMapFromPatchScores(const Mat& patchScores, Size canvas, Size networkInput, Rect imageRegion,
                                          Size imageSize, double sigmaAt256, Mat& anomalyMap);

}} // namespace cv::dmad

#endif // OPENCV_DMAD_ANOMALY_MAP_HPP

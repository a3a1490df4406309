// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_PARAMS_HPP
#define OPENCV_DMAD_PARAMS_HPP

#include "opencv2/dmad/dmad.hpp"

namespace cv {
namespace dmad {

//! Raises cv::Exception naming the first parameter out of its range.
void validateParams(const DMAD::Params& params);

}} // namespace cv::dmad

#endif // OPENCV_DMAD_PARAMS_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_TEST_PRECOMP_HPP
#define OPENCV_DMAD_TEST_PRECOMP_HPP

#include "test_common.hpp"

#include "opencv2/dmad.hpp"
// the tests render their images and score them with the evaluation tooling
#include "opencv2/dmad_eval.hpp"

namespace opencv_test {
using namespace cv::dmad;
} // namespace opencv_test

#endif // OPENCV_DMAD_TEST_PRECOMP_HPP

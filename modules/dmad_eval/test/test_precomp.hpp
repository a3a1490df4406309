// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_EVAL_TEST_PRECOMP_HPP
#define OPENCV_DMAD_EVAL_TEST_PRECOMP_HPP

// the helpers the dmad tests use too (both modules live in one repository)
#include "../../dmad/test/test_common.hpp"

#include "opencv2/dmad_eval.hpp"

namespace opencv_test {
using namespace cv::dmad;
} // namespace opencv_test

#endif // OPENCV_DMAD_EVAL_TEST_PRECOMP_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_EVAL_PRECOMP_HPP
#define OPENCV_DMAD_EVAL_PRECOMP_HPP

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/core/utils/trace.hpp>
#include <opencv2/imgproc.hpp>

#include "opencv2/dmad.hpp"  // the renderer paints with fractalNoise()
#include "opencv2/dmad_eval.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#endif // OPENCV_DMAD_EVAL_PRECOMP_HPP

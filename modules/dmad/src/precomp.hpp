// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_PRECOMP_HPP
#define OPENCV_DMAD_PRECOMP_HPP

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/core/utils/trace.hpp>
#include <opencv2/imgproc.hpp>

#include "opencv2/dmad.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cv {
namespace dmad {

/** The largest image dmad accepts, 2^28 pixels (16384 x 16384): larger ones are refused with an
    error instead of running out of memory (the backbone sees Params::inputSize anyway). */
constexpr int64 kMaxImagePixels = (int64)1 << 28;

}} // namespace cv::dmad

#endif // OPENCV_DMAD_PRECOMP_HPP

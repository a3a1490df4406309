// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_CORESET_HPP
#define OPENCV_DMAD_CORESET_HPP

#include "opencv2/dmad/memory_bank.hpp"

namespace cv {
namespace dmad {

/** The textbook greedy coreset over the same projection, start points and distance arithmetic as
    selectCoreset(): every pick rescans all points. Exported for the tests, which check that
    selectCoreset() picks exactly the same rows; far too slow for real sizes. */
CV_EXPORTS std::vector<int> selectCoresetNaive(InputArray features, int count,
                                               const CoresetParams& params = CoresetParams());

}} // namespace cv::dmad

#endif // OPENCV_DMAD_CORESET_HPP

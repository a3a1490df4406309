// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The Python generator names std::vector<T> arguments `vector_T` in the code it writes.
#ifdef HAVE_OPENCV_DMAD_EVAL
typedef std::vector<cv::dmad::ClassMetrics> vector_ClassMetrics;
#endif

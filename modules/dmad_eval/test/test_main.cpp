// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The same main as the dmad tests (GTest standalone, CV_TEST_MAIN in an OpenCV tree).
#include "test_precomp.hpp"
#include "../../dmad/test/test_main.cpp"

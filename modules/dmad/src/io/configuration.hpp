// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// dmad's run-time settings, read as OpenCV reads its own: OPENCV_DMAD_<NAME> through
// cv::utils::getConfigurationParameter*. The DMAD_<NAME> spelling of earlier versions still works
// and logs a deprecation warning once per name.

#ifndef OPENCV_DMAD_CONFIGURATION_HPP
#define OPENCV_DMAD_CONFIGURATION_HPP

#include <opencv2/core.hpp>

namespace cv {
namespace dmad {
namespace config {

//! OPENCV_DMAD_<name> (else DMAD_<name>), or `defaultValue` when neither is set.
String getString(const char* name, const String& defaultValue = String());

//! As getString(), as a non-negative integer; a value that is no number raises cv::Exception.
size_t getSizeT(const char* name, size_t defaultValue);

//! As getString(), as a flag: 1/true/on/yes or 0/false/off/no (OpenCV's spellings).
bool getBool(const char* name, bool defaultValue);

}}} // namespace cv::dmad::config

#endif // OPENCV_DMAD_CONFIGURATION_HPP

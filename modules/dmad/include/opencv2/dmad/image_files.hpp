// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_IMAGE_FILES_HPP
#define OPENCV_DMAD_IMAGE_FILES_HPP

#include <opencv2/core.hpp>

#include <vector>

namespace cv {
namespace dmad {

//! @addtogroup dmad
//! @{

/** @brief File extensions accepted as images by the folder readers: png, jpg, jpeg, bmp, tif, tiff
(compared case-insensitively). */
CV_EXPORTS bool isImageFile(const String& path);

/** @brief The image files (isImageFile()) directly in a folder, as full paths sorted byte-wise;
hidden files are left out. A missing folder raises cv::Exception. */
CV_EXPORTS_W std::vector<String> listImageFiles(const String& folder);

//! @}

}} // namespace cv::dmad

#endif // OPENCV_DMAD_IMAGE_FILES_HPP

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

/** @brief Largest image file readImage() reads: 256 MB (a 16-bit 8k x 8k RGB TIFF, uncompressed, is
400 MB of pixels but a camera's PNG or TIFF of a production line is far smaller). */
static const int64 kMaxImageFileBytes = int64(256) << 20;

/** @brief cv::imread with the checks a program that is handed paths needs: the path must be a
regular file (not a folder, device or FIFO) of at most kMaxImageFileBytes, and must decode.
@param path the image file.
@param flags cv::ImreadModes (default IMREAD_UNCHANGED: 8/16-bit, 1, 3 or 4 channels as stored).
@throws cv::Exception naming the file otherwise; never returns an empty image. */
CV_EXPORTS_W Mat readImage(const String& path, int flags = -1);

//! @}

}} // namespace cv::dmad

#endif // OPENCV_DMAD_IMAGE_FILES_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Where dmad finds the files a model names: backbone networks by bare name in a search path, and
// the backbone of a moved model beside the model file.

#ifndef OPENCV_DMAD_FILE_LOOKUP_HPP
#define OPENCV_DMAD_FILE_LOOKUP_HPP

#include <opencv2/core.hpp>

namespace cv {
namespace dmad {

//! Whether a file can be opened for reading.
bool fileExists(const String& path);

/** `path` itself when it exists; else its file name looked up in the folders of `searchPath`
    (separated by ':'), the first hit: a bare name, or the path a model recorded on another machine.
    `searched` gets the folders tried, for the error message of a miss (then `path` is returned
    unchanged). */
String locateInSearchPath(const String& path, const String& searchPath, String& searched);

//! `path` made absolute against the working folder and normalised (symbolic links kept).
String absolutePath(const String& path);

/** `path` when it exists, else its file name beside `modelFile` when that exists (a model moved
    with its backbone), else `path`. */
String locateBeside(const String& path, const String& modelFile);

}} // namespace cv::dmad

#endif // OPENCV_DMAD_FILE_LOOKUP_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Which files are images: the texture folder of training and the folders a deployed model scores.

#include "precomp.hpp"
#include "io/persistence.hpp"

#include <opencv2/core/utils/filesystem.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cctype>

namespace cv {
namespace dmad {

namespace fs = cv::utils::fs;

bool isImageFile(const String& path)
{
    static const char* const kExtensions[] = { "png", "jpg", "jpeg", "bmp", "tif", "tiff" };
    const size_t slash = path.find_last_of("/\\");
    const String name = slash == String::npos ? path : path.substr(slash + 1);
    const size_t dot = name.find_last_of('.');
    if (dot == String::npos || dot == 0)
        return false;
    String ext = name.substr(dot + 1);
    for (char& c : ext)
        c = (char)std::tolower((unsigned char)c);
    for (const char* e : kExtensions)
        if (ext == e)
            return true;
    return false;
}

std::vector<String> listImageFiles(const String& folder)
{
    if (!fs::isDirectory(folder))
        CV_Error(Error::StsObjectNotFound, cv::format("dmad: folder '%s' does not exist", folder.c_str()));
    std::vector<String> names, paths;
    fs::glob_relative(folder, String(), names, false, true);
    std::sort(names.begin(), names.end());
    for (const String& name : names)
    {
        const String path = fs::join(folder, name);
        if (!name.empty() && name[0] != '.' && !fs::isDirectory(path) && isImageFile(name))
            paths.push_back(path);
    }
    return paths;
}

Mat readImage(const String& path, int flags)
{
    persistence::checkInputFile(path, (uint64)kMaxImageFileBytes, "image");
    Mat image;
    try
    {
        image = imread(path, flags);
    }
    catch (const cv::Exception& e)  // a codec's own error (a damaged header, a pixel limit)
    {
        CV_Error(Error::StsBadArg, cv::format("dmad: cannot decode image '%s' (%s)", path.c_str(), e.err.c_str()));
    }
    if (image.empty())
        CV_Error(Error::StsBadArg, cv::format("dmad: cannot decode image '%s'", path.c_str()));
    return image;
}

}} // namespace cv::dmad

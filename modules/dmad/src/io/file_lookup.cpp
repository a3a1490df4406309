// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "io/file_lookup.hpp"

#include <filesystem>
#include <fstream>

namespace cv {
namespace dmad {

bool fileExists(const String& path)
{
    std::ifstream f(path.c_str(), std::ios::binary);
    return f.good();
}

String absolutePath(const String& path)
{
    if (path.empty())
        return path;
    std::error_code error;
    const std::filesystem::path absolute = std::filesystem::absolute(path.c_str(), error);
    return error ? path : String(absolute.lexically_normal().string());
}

String locateInSearchPath(const String& path, const String& searchPath, String& searched)
{
    if (fileExists(path))
        return path;
    // a path with folders that does not exist (a model trained elsewhere) is looked up by file name
    const size_t slash = path.find_last_of("/\\");
    const String name = slash == String::npos ? path : path.substr(slash + 1);
    if (name.empty())
        return path;
    size_t begin = 0;
    while (begin <= searchPath.size())
    {
        const size_t end = std::min(searchPath.find(':', begin), searchPath.size());
        const String dir = searchPath.substr(begin, end - begin);
        if (!dir.empty())
        {
            searched += (searched.empty() ? "" : ", ") + dir;
            const String candidate = dir + "/" + name;
            if (fileExists(candidate))
                return candidate;
        }
        begin = end + 1;
    }
    return path;
}

String locateBeside(const String& path, const String& modelFile)
{
    if (fileExists(path) || modelFile.empty())
        return path;
    const size_t slash = modelFile.find_last_of("/\\"), pathSlash = path.find_last_of("/\\");
    const String beside = (slash == String::npos ? String() : modelFile.substr(0, slash + 1)) +
                          (pathSlash == String::npos ? path : path.substr(pathSlash + 1));
    return fileExists(beside) ? beside : path;
}

}} // namespace cv::dmad

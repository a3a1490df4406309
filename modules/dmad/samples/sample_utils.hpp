// Small helpers the dmad samples share.

#ifndef DMAD_SAMPLE_UTILS_HPP
#define DMAD_SAMPLE_UTILS_HPP

#include <opencv2/core.hpp>
#include <opencv2/core/utils/filesystem.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/dmad.hpp>
#include <opencv2/dmad_eval.hpp>

#include <cstdio>
#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

namespace dmad_samples {

//! An 8-bit BGR copy of any image dmad accepts (gray, BGR, BGRA; 8 or 16 bit), for drawing.
inline cv::Mat displayBGR(const cv::Mat& image)
{
    cv::Mat bgr;
    if (image.channels() == 1)
        cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR);
    else if (image.channels() == 4)
        cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR);
    else
        bgr = image.clone();
    if (bgr.depth() != CV_8U)
        bgr.convertTo(bgr, CV_8U, 1.0 / 257);
    return bgr;
}

//! The images of a folder, or the one image a path names; a clear error when there is none.
inline std::vector<cv::String> imagesOf(const cv::String& input)
{
    if (cv::utils::fs::isDirectory(input))
    {
        std::vector<cv::String> files = cv::dmad::listImageFiles(input);
        if (files.empty())
            CV_Error(cv::Error::StsObjectNotFound, "no images in folder '" + input + "'");
        return files;
    }
    if (!cv::utils::fs::exists(input))
        CV_Error(cv::Error::StsObjectNotFound, "no such file or folder '" + input + "'");
    return { input };
}

//! Whether progress may rewrite its line in place (a terminal) or must print whole lines (a log).
inline bool stderrIsTerminal()
{
#ifdef _WIN32
    static const bool terminal = _isatty(_fileno(stderr)) != 0;
#else
    static const bool terminal = isatty(fileno(stderr)) != 0;
#endif
    return terminal;
}

} // namespace dmad_samples

#endif // DMAD_SAMPLE_UTILS_HPP

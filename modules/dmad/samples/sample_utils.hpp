// Small helpers the dmad samples share.

#ifndef DMAD_SAMPLE_UTILS_HPP
#define DMAD_SAMPLE_UTILS_HPP

#include <opencv2/core.hpp>
#include <opencv2/core/utils/filesystem.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/dmad.hpp>
#include <opencv2/dmad_eval.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
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

/** The samples' progress display on stderr: one line per report; on a terminal the line is
    rewritten in place until the task ends. DMAD_QUIET=1 leaves it off (scripts and tests). */
inline void showProgressOnStderr()
{
    const char* quiet = std::getenv("DMAD_QUIET");
    if (quiet && *quiet && std::string(quiet) != "0")
        return;
    cv::dmad::setProgressCallback([](const cv::String& task, int64 done, int64 total,
                                     const cv::String& message) {
        const double percent = total > 0 ? 100.0 * (double)done / (double)total : 100.0;
        const bool terminal = stderrIsTerminal(), inPlace = terminal && done < total;
        std::fprintf(stderr, "%sdmad %s: %lld/%lld (%.0f%%)%s%s%s", terminal ? "\r\033[K" : "", task.c_str(),
                     (long long)done, (long long)total, percent, message.empty() ? "" : " ",
                     message.c_str(), inPlace ? "" : "\n");
        std::fflush(stderr);
    });
}

} // namespace dmad_samples

#endif // DMAD_SAMPLE_UTILS_HPP

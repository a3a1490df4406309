// Small helpers the dmad samples share.

#ifndef DMAD_SAMPLE_UTILS_HPP
#define DMAD_SAMPLE_UTILS_HPP

#include <opencv2/core.hpp>
#include <opencv2/core/utils/filesystem.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/dmad.hpp>
#include <opencv2/dmad_eval.hpp>

#include <opencv2/imgcodecs.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>
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

//! 0 when a file can be created and written in `dir` (a probe, removed again), else the errno.
inline int writeProbe(const std::string& dir)
{
    const std::string probe = dir + "/.dmad_write_probe";
    FILE* f = std::fopen(probe.c_str(), "wb");
    if (!f)
        return errno ? errno : EACCES;
    const bool written = std::fputc('x', f) != EOF;
    int failure = written ? 0 : errno;
    if (std::fclose(f) != 0 && !failure)
        failure = errno ? errno : EIO;
    std::remove(probe.c_str());
    return failure;
}

/** Creates the output folder when missing and checks that this process can write into it (a probe
    file is created and removed), so that a run fails before its work, not at its first write.
    @param option the option that named it, for the message */
inline void prepareOutputFolder(const std::string& dir, const std::string& option)
{
    if (dir.empty())
        CV_Error(cv::Error::StsBadArg, option + " is empty: name an output folder");
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (!std::filesystem::is_directory(dir))
        CV_Error(cv::Error::StsError, option + " '" + dir + "' is not a folder that can be created" +
                                          (error ? " (" + error.message() + ")" : std::string()));
    if (const int failure = writeProbe(dir))
        CV_Error(cv::Error::StsError, option + " '" + dir + "' is not writable (" + std::strerror(failure) + ")");
}

/** Checks, before the work that ends in writing it, that a file can be written where a path
    names it: its folder must exist and be writable (a probe file is created and removed).
    @param option the option that named it, for the message */
inline void checkOutputFile(const std::string& path, const std::string& option)
{
    const size_t slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? std::string(".") : slash == 0 ? "/" : path.substr(0, slash);
    if (std::filesystem::is_directory(path))
        CV_Error(cv::Error::StsBadArg, option + " '" + path + "' is a folder: name a file");
    if (!std::filesystem::is_directory(dir))
        CV_Error(cv::Error::StsError, option + " '" + path + "': '" + dir + "' is not a folder");
    if (const int failure = writeProbe(dir))
        CV_Error(cv::Error::StsError,
                 option + " '" + path + "': '" + dir + "' is not writable (" + std::strerror(failure) + ")");
}

/** Writes a whole file through a temporary beside it, renamed into place once every byte is
    written: a full disk, a missing permission or a folder in the way throws naming the file, and
    a reader never sees half a file (nor a previous good file replaced by one). */
inline void writeFileAtomically(const std::string& path, const std::string& bytes)
{
    const std::string temp = path + ".tmp" + std::to_string((long long)cv::getTickCount() & 0xffffff);
    FILE* f = std::fopen(temp.c_str(), "wb");
    if (!f)
        CV_Error(cv::Error::StsError, "cannot write '" + path + "' (" + std::strerror(errno) + ")");
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0;
    int saved = errno;
    const bool closed = std::fclose(f) == 0;
    if (written && !closed)
        saved = errno;
    std::error_code error;
    if (written && closed)
        std::filesystem::rename(temp, path, error);
    if (!written || !closed || error)
    {
        std::remove(temp.c_str());
        CV_Error(cv::Error::StsError, "cannot write '" + path + "' (" +
                                          (error ? error.message() : std::string(std::strerror(saved))) + ")");
    }
}

//! An image encoded by its file extension and written with writeFileAtomically().
inline void writeImageFile(const std::string& path, const cv::Mat& image)
{
    const size_t dot = path.find_last_of('.');
    std::vector<uchar> buffer;
    bool encoded = false;
    try
    {
        encoded = dot != std::string::npos && cv::imencode(path.substr(dot), image, buffer);
    }
    catch (const cv::Exception&)
    {
    }
    if (!encoded)
        CV_Error(cv::Error::StsError, "cannot encode '" + path + "'");
    writeFileAtomically(path, std::string(buffer.begin(), buffer.end()));
}

/** Patch features in a FileStorage file (format by extension, .gz compressed), written beside the
    target, read back and compared before it is renamed into place: FileStorage reports no failed
    write itself (a full disk leaves a short file), so the read-back is the check. */
inline void writeFeatureFile(const std::string& path, const cv::Size& grid, const cv::Mat& features)
{
    const size_t slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
    const std::string temp = dir + ".tmp" + std::to_string((long long)cv::getTickCount() & 0xffffff) + "_" +
                             path.substr(slash == std::string::npos ? 0 : slash + 1);
    bool same = false;
    std::string why;
    try
    {
        {
            cv::FileStorage fs(temp, cv::FileStorage::WRITE_BASE64);
            if (!fs.isOpened())
                CV_Error(cv::Error::StsError, "cannot open it for writing");
            fs << "grid" << grid << "features" << features;
        }
        cv::FileStorage back(temp, cv::FileStorage::READ);
        cv::Size g;
        cv::Mat f;
        back["grid"] >> g;
        back["features"] >> f;
        same = g == grid && f.size == features.size && f.type() == features.type() &&
               (features.empty() || cv::norm(f, features, cv::NORM_INF) == 0);
    }
    catch (const cv::Exception& e)
    {
        why = e.err;
    }
    std::error_code error;
    if (same)
        std::filesystem::rename(temp, path, error);
    if (!same || error)
    {
        std::remove(temp.c_str());
        CV_Error(cv::Error::StsError, "cannot write '" + path + "' (" +
                                          (error ? error.message() : why.empty() ? "the file read back differs" : why) +
                                          ")");
    }
}

/** A name from the command line or the data (a class, a defect type) used as one component of an
    output path: refused when it could leave the output folder or name no file. */
inline const std::string& checkedPathComponent(const std::string& name, const std::string& what)
{
    if (name.empty() || name == "." || name == ".." || name.find_first_of("/\\:") != std::string::npos ||
        name.find('\0') != std::string::npos)
        CV_Error(cv::Error::StsBadArg, what + " '" + name + "' cannot name a file in the output folder");
    return name;
}

/** Output file names that stay unique: `name` the first time, then `<stem>_2<ext>`, `<stem>_3<ext>`
    (two inputs of the same stem, a.png and a.jpg, must not overwrite each other's output). */
class UniqueNames
{
public:
    std::string take(const std::string& stem, const std::string& suffix)
    {
        std::string name = stem + suffix;
        for (int i = 2; taken_.count(name); i++)
            name = stem + "_" + std::to_string(i) + suffix;
        taken_.insert(name);
        return name;
    }

private:
    std::set<std::string> taken_;
};

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

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "io/progress.hpp"

#include <cstdio>
#include <cstdlib>

#ifdef __unix__
#include <unistd.h>
#endif

namespace cv {
namespace dmad {

namespace {

String formatSeconds(double s)
{
    if (s < 60)
        return cv::format("%.0fs", s);
    if (s < 3600)
        return cv::format("%dm%02ds", (int)(s / 60), (int)s % 60);
    return cv::format("%dh%02dm", (int)(s / 3600), ((int)s % 3600) / 60);
}

bool stderrIsTerminal()
{
#ifdef __unix__
    static const bool terminal = isatty(fileno(stderr)) != 0;
    return terminal;
#else
    return false;
#endif
}

//! One line per report; on a terminal the line is rewritten in place until the task ends.
void printToStderr(const String& task, int64 done, int64 total, const String& message)
{
    const double percent = total > 0 ? 100.0 * (double)done / (double)total : 100.0;
    const bool inPlace = stderrIsTerminal() && done < total;
    std::fprintf(stderr, "%sdmad %s: %lld/%lld (%.0f%%)%s%s%s", stderrIsTerminal() ? "\r\033[K" : "", task.c_str(),
                 (long long)done, (long long)total, percent, message.empty() ? "" : " ", message.c_str(),
                 inPlace ? "" : "\n");
    std::fflush(stderr);
}

struct CallbackHolder
{
    std::mutex mutex;
    ProgressCallback callback;
    CallbackHolder()
    {
        const char* quiet = std::getenv("DMAD_QUIET");
        if (!(quiet && *quiet && String(quiet) != "0"))
            callback = printToStderr;
    }
};

CallbackHolder& holder()
{
    static CallbackHolder instance;
    return instance;
}

} // namespace

void setProgressCallback(const ProgressCallback& callback)
{
    std::lock_guard<std::mutex> lock(holder().mutex);
    holder().callback = callback;
}

ProgressCallback getProgressCallback()
{
    std::lock_guard<std::mutex> lock(holder().mutex);
    return holder().callback;
}

ProgressReporter::ProgressReporter(const String& task, int64 total)
    : task_(task), total_(total), done_(0), startTicks_(getTickCount()), lastReportTicks_(startTicks_),
      finished_(false)
{
}

ProgressReporter::~ProgressReporter()
{
    try
    {
        if (!finished_ && !std::uncaught_exceptions())
            finish();
    }
    catch (...)
    {
        // a progress callback must not turn a destructor into a crash
    }
}

double ProgressReporter::elapsedSeconds() const
{
    return (double)(getTickCount() - startTicks_) / getTickFrequency();
}

void ProgressReporter::advance(int64 units, const String& message)
{
    const int64 done = done_.fetch_add(units) + units;
    if (done >= total_)
        return;  // finish() reports the end
    const int64 now = getTickCount();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if ((double)(now - lastReportTicks_) < getTickFrequency() || finished_)
            return;
        lastReportTicks_ = now;
    }
    report(std::min(done, total_), message, false);
}

void ProgressReporter::finish(const String& message)
{
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (finished_)
            return;
        finished_ = true;
    }
    report(total_, message, true);  // a finished task is complete
}

void ProgressReporter::report(int64 done, const String& message, bool final)
{
    const ProgressCallback callback = getProgressCallback();
    if (!callback)
        return;
    const double elapsed = elapsedSeconds();
    String text = message;
    const String timing = final || done <= 0 || done >= total_
        ? cv::format("in %s", formatSeconds(elapsed).c_str())
        : cv::format("%s left", formatSeconds(elapsed * (double)(total_ - done) / (double)done).c_str());
    text += (text.empty() ? "" : ", ") + timing;
    static std::mutex oneCallAtATime;
    std::lock_guard<std::mutex> lock(oneCallAtATime);
    callback(task_, done, total_, text);
}

}} // namespace cv::dmad

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "io/progress.hpp"


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

//! The caller's progress display; none by default (a library leaves display to its caller).
struct CallbackHolder
{
    std::mutex mutex;
    ProgressCallback callback;
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
    const double elapsed = elapsedSeconds();
    String text = message;
    const String timing = final || done <= 0 || done >= total_
        ? cv::format("in %s", formatSeconds(elapsed).c_str())
        : cv::format("%s left", formatSeconds(elapsed * (double)(total_ - done) / (double)done).c_str());
    text += (text.empty() ? "" : ", ") + timing;
    // OpenCV's logger gets every task's end (INFO) and its progress (DEBUG), callback or not
    if (final)
    {
        CV_LOG_INFO(NULL, "dmad " << task_ << ": " << done << "/" << total_ << " " << text);
    }
    else
    {
        CV_LOG_DEBUG(NULL, "dmad " << task_ << ": " << done << "/" << total_ << " " << text);
    }
    const ProgressCallback callback = getProgressCallback();
    if (!callback)
        return;
    static std::mutex oneCallAtATime;
    std::lock_guard<std::mutex> lock(oneCallAtATime);
    callback(task_, done, total_, text);
}

}} // namespace cv::dmad

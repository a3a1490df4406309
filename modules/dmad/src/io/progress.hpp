// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_SRC_PROGRESS_HPP
#define OPENCV_DMAD_SRC_PROGRESS_HPP

#include "opencv2/dmad/progress.hpp"

#include <atomic>
#include <mutex>

namespace cv {
namespace dmad {

/** Reports one task's progress to the progress callback, rate-limited, with the time left.
    Thread-safe: workers may call advance() concurrently. */
class ProgressReporter
{
public:
    ProgressReporter(const String& task, int64 total);
    ~ProgressReporter();

    //! Adds `units` finished units; reports when due (about once a second).
    void advance(int64 units = 1, const String& message = String());
    //! Reports the final state now (also called by the destructor if not called before).
    void finish(const String& message = String());

    double elapsedSeconds() const;

private:
    void report(int64 done, const String& message, bool final);

    String task_;
    int64 total_;
    std::atomic<int64> done_;
    int64 startTicks_, lastReportTicks_;
    bool finished_;
    std::mutex mutex_;
};

}} // namespace cv::dmad

#endif // OPENCV_DMAD_SRC_PROGRESS_HPP

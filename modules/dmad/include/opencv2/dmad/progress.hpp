// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_PROGRESS_HPP
#define OPENCV_DMAD_PROGRESS_HPP

#include <opencv2/core.hpp>

#include <functional>

namespace cv {
namespace dmad {

//! @addtogroup dmad
//! @{

/** @brief Progress of a long task: feature extraction, coreset selection, training.

@param task short name of the task ("extract", "coreset", "train", ...)
@param done units finished so far (images, points, epochs), at most `total`
@param total units in the task
@param message details of the current state (loss, time left, ...), may be empty
*/
typedef std::function<void(const String& task, int64 done, int64 total, const String& message)>
    ProgressCallback;

/** @brief Sets the function that receives progress of long tasks, for all dmad objects.

There is none by default: the library leaves display to its caller (the samples set a terminal
display). Whether or not one is set, the end of every task goes to OpenCV's logger at INFO level and
its progress at DEBUG level (`OPENCV_LOG_LEVEL`). The callback is called at most about once a second
per task and once when a task ends, from any thread, one call at a time.
*/
CV_EXPORTS void setProgressCallback(const ProgressCallback& callback);

//! @brief The current progress callback (empty unless set).
CV_EXPORTS ProgressCallback getProgressCallback();

//! @}

}} // namespace cv::dmad

#endif // OPENCV_DMAD_PROGRESS_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_IMAGE_SOURCE_HPP
#define OPENCV_DMAD_IMAGE_SOURCE_HPP

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/dmad/image_files.hpp>

#include <vector>

namespace cv {
namespace dmad {

//! Images by index, from memory or read from files on demand with errors naming the file.
class ImageSource
{
public:
    explicit ImageSource(InputArrayOfArrays images)
    {
        if (!images.empty())
            images.getMatVector(mats_);
    }
    explicit ImageSource(const std::vector<String>& files) : files_(files) {}

    int size() const { return (int)(files_.empty() ? mats_.size() : files_.size()); }

    Mat get(int i, int flags = IMREAD_UNCHANGED) const
    {
        if (files_.empty())
            return mats_[i];
        return readImage(files_[i], flags);
    }

    String name(int i) const { return files_.empty() ? cv::format("image %d", i) : files_[i]; }

    //! The images at `indices`, in that order.
    ImageSource subset(const std::vector<int>& indices) const
    {
        ImageSource out;
        for (int i : indices)
            if (files_.empty())
                out.mats_.push_back(mats_[i]);
            else
                out.files_.push_back(files_[i]);
        return out;
    }

private:
    ImageSource() = default;
    std::vector<Mat> mats_;
    std::vector<String> files_;
};

}} // namespace cv::dmad

#endif // OPENCV_DMAD_IMAGE_SOURCE_HPP

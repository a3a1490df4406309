// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_CLASS_CENTROIDS_HPP
#define OPENCV_DMAD_CLASS_CENTROIDS_HPP

#include <opencv2/core.hpp>

#include <vector>

namespace cv {
namespace dmad {

/** Which training class an image belongs to, for a unified model's per-class decisions: the class
    whose centroid (mean normal patch feature) is nearest to the image's mean patch feature. A
    product's images share their global appearance far more than their defects change it, so one
    mean vector per class tells products apart at the cost of a C x D product. */
class CV_EXPORTS ClassCentroids
{
public:
    ClassCentroids() = default;
    /** @param features patch features (n x D CV_32F) of the normal training images
        @param classIds class id of each row (n x 1 CV_32S); rows of id -1 are ignored */
    ClassCentroids(const Mat& features, const Mat& classIds);

    //! Fewer than two classes: nothing to tell apart (identify() gives the one class, or -1).
    bool empty() const { return ids_.empty(); }
    const std::vector<int>& classIds() const { return ids_; }

    //! The class of the image whose patch features (cells x D) are given; -1 when empty().
    int identify(const Mat& imageFeatures) const;

    void write(FileStorage& fs) const;
    //! Reads what write() wrote; an absent node gives an empty one.
    void read(const FileNode& node, int dims, const String& where);

private:
    Mat centroids_;  //!< C x D CV_32F, row c the mean of class ids_[c]
    std::vector<int> ids_;
};

}} // namespace cv::dmad

#endif // OPENCV_DMAD_CLASS_CENTROIDS_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "scoring/class_centroids.hpp"
#include "io/persistence.hpp"

#include <map>

namespace cv {
namespace dmad {

ClassCentroids::ClassCentroids(const Mat& features, const Mat& classIds)
{
    CV_Assert(features.type() == CV_32F && classIds.type() == CV_32S && (int)classIds.total() == features.rows);
    std::map<int, std::pair<Mat, int>> sums;  // class -> (sum in double, rows)
    for (int i = 0; i < features.rows; i++)
    {
        const int id = classIds.at<int>(i);
        if (id < 0)
            continue;
        std::pair<Mat, int>& s = sums[id];
        if (s.first.empty())
            s.first = Mat::zeros(1, features.cols, CV_64F);
        const float* row = features.ptr<float>(i);
        double* sum = s.first.ptr<double>();
        for (int d = 0; d < features.cols; d++)
            sum[d] += row[d];
        s.second++;
    }
    if (sums.size() < 2)
        return;
    centroids_.create((int)sums.size(), features.cols, CV_32F);
    int c = 0;
    for (const auto& s : sums)
    {
        s.second.first.convertTo(centroids_.row(c++), CV_32F, 1.0 / s.second.second);
        ids_.push_back(s.first);
    }
}

int ClassCentroids::identify(const Mat& imageFeatures) const
{
    if (empty())
        return -1;
    CV_Assert(imageFeatures.type() == CV_32F && imageFeatures.cols == centroids_.cols && imageFeatures.rows > 0);
    Mat mean;
    reduce(imageFeatures, mean, 0, REDUCE_AVG, CV_32F);
    int best = 0;
    double bestDistance = DBL_MAX;
    for (int c = 0; c < centroids_.rows; c++)
    {
        const double d = norm(mean, centroids_.row(c), NORM_L2SQR);
        if (d < bestDistance)
        {
            bestDistance = d;
            best = c;
        }
    }
    return ids_[best];
}

void ClassCentroids::write(FileStorage& fs) const
{
    fs << "class_ids" << ids_ << "centroids" << centroids_;
}

void ClassCentroids::read(const FileNode& node, int dims, const String& where)
{
    *this = ClassCentroids();
    if (node.empty())
        return;
    std::vector<int> ids;
    Mat centroids;
    node["class_ids"] >> ids;
    node["centroids"] >> centroids;
    bool valid = ids.size() >= 2 && centroids.type() == CV_32F && centroids.rows == (int)ids.size() &&
                 centroids.cols == dims && checkRange(centroids);
    for (size_t i = 0; valid && i < ids.size(); i++)
        valid = ids[i] >= 0 && (i == 0 || ids[i] > ids[i - 1]);
    if (!valid)
        CV_Error(Error::StsParseError, cv::format("dmad: %s: invalid class centroids", where.c_str()));
    centroids_ = centroids;
    ids_ = ids;
}

}} // namespace cv::dmad

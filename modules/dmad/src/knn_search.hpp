// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_KNN_SEARCH_HPP
#define OPENCV_DMAD_KNN_SEARCH_HPP

#include <opencv2/core.hpp>

namespace cv {
namespace dmad {

/** Exact k nearest neighbours by squared L2, `|q|^2 - 2 q.m + |m|^2` over tiles of queries and bank.
    @param queries      q x D CV_32F
    @param bank         N x D CV_32F
    @param bankNorms    N x 1 CV_32F squared norms of the bank rows
    @param bankImageIds N x 1 CV_32S (used only with excludeImageIds)
    @param excludeImageIds empty or q x 1 CV_32S
    @param distances, indices  q x k outputs (ascending; -1 / FLT_MAX where fewer than k remain) */
void bruteForceKnn(const Mat& queries, const Mat& bank, const Mat& bankNorms, const Mat& bankImageIds,
                   const Mat& excludeImageIds, int k, Mat& distances, Mat& indices);

}} // namespace cv::dmad

#endif // OPENCV_DMAD_KNN_SEARCH_HPP

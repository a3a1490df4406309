// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "knn_search.hpp"

#include <Eigen/Core>

#include <cfloat>

namespace cv {
namespace dmad {

namespace {

typedef Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> RowMatrix;
typedef Eigen::Map<const RowMatrix> ConstRowMap;

//! Keeps the k smallest (distance, index) pairs, sorted ascending.
inline void insertCandidate(float* dist, int* idx, int k, float d, int j)
{
    if (!(d < dist[k - 1]))
        return;
    int pos = k - 1;
    while (pos > 0 && dist[pos - 1] > d)
    {
        dist[pos] = dist[pos - 1];
        idx[pos] = idx[pos - 1];
        pos--;
    }
    dist[pos] = d;
    idx[pos] = j;
}

} // namespace

void bruteForceKnn(const Mat& queries, const Mat& bank, const Mat& bankNorms, const Mat& bankImageIds,
                   const Mat& excludeImageIds, int k, Mat& distances, Mat& indices)
{
    const int Q = queries.rows, N = bank.rows, D = bank.cols;
    distances.create(Q, k, CV_32F);
    indices.create(Q, k, CV_32S);
    distances.setTo(Scalar::all(FLT_MAX));
    indices.setTo(Scalar::all(-1));
    const bool exclude = !excludeImageIds.empty();
    const int queryTile = 64, bankTile = 1024;
    const ConstRowMap M(bank.ptr<float>(), N, D);

    parallel_for_(Range(0, (Q + queryTile - 1) / queryTile), [&](const Range& tiles) {
        RowMatrix dots;
        for (int t = tiles.start; t < tiles.end; t++)
        {
            const int q0 = t * queryTile, q1 = std::min(Q, q0 + queryTile);
            const ConstRowMap Qm(queries.ptr<float>(q0), q1 - q0, D);
            std::vector<float> qnorm(q1 - q0);
            for (int i = q0; i < q1; i++)
                qnorm[i - q0] = (float)queries.row(i).dot(queries.row(i));
            for (int b0 = 0; b0 < N; b0 += bankTile)
            {
                const int b1 = std::min(N, b0 + bankTile);
                dots.noalias() = Qm * M.middleRows(b0, b1 - b0).transpose();
                for (int i = q0; i < q1; i++)
                {
                    float* dist = distances.ptr<float>(i);
                    int* idx = indices.ptr<int>(i);
                    const int skip = exclude ? excludeImageIds.at<int>(i) : -1;
                    const float* row = dots.data() + (size_t)(i - q0) * (b1 - b0);
                    for (int j = b0; j < b1; j++)
                    {
                        if (skip >= 0 && bankImageIds.at<int>(j) == skip)
                            continue;
                        const float d = std::max(0.f, qnorm[i - q0] - 2.f * row[j - b0] + bankNorms.at<float>(j));
                        insertCandidate(dist, idx, k, d, j);
                    }
                }
            }
        }
    });
}

}} // namespace cv::dmad

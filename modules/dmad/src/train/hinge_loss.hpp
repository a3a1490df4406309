// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_HINGE_LOSS_HPP
#define OPENCV_DMAD_HINGE_LOSS_HPP

#include "nn/nn_layers.hpp"

namespace cv {
namespace dmad {
namespace nn {

/** DMAD's truncated-L1 loss on the scores of one concatenated batch [normal; pseudo; annotated;
    synthetic]: L = mean max(0, m - s_normal) + mean max(0, m + s_pseudo)
                  + w_a * mean max(0, m + s_annotated) + w_s * mean max(0, m + s_synthetic).
    Returns L and sets dS = dL/ds (the subgradient 0 at the kinks, as PyTorch's clamp). */
template <typename T>
T hingeLoss(const Matrix<T>& s, int normal, int pseudo, int annotated, double margin, double annotatedWeight,
            Matrix<T>& dS, int synthetic = 0, double syntheticWeight = 0)
{
    CV_Assert(s.cols() == 1 && s.rows() == (Eigen::Index)normal + pseudo + annotated + synthetic && normal > 0 &&
              pseudo > 0);
    dS.setZero(s.rows(), 1);
    T loss = 0;
    auto term = [&](int begin, int count, double sign, double weight) {
        if (count == 0)
            return;
        T sum = 0;
        for (int i = begin; i < begin + count; i++)
        {
            const T v = (T)margin + (T)sign * s(i, 0);
            if (v > 0)
            {
                sum += v;
                dS(i, 0) = (T)(sign * weight / count);
            }
        }
        loss += (T)weight * sum / (T)count;
    };
    term(0, normal, -1.0, 1.0);
    term(normal, pseudo, +1.0, 1.0);
    term(normal + pseudo, annotated, +1.0, annotatedWeight);
    term(normal + pseudo + annotated, synthetic, +1.0, syntheticWeight);
    return loss;
}

}}} // namespace cv::dmad::nn

#endif // OPENCV_DMAD_HINGE_LOSS_HPP

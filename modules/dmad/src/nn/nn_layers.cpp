// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The float matrix products of nn_layers.hpp on the run-time dispatched kernels. Blocks are fixed
// by the sizes alone, as in the templates, so results stay bit-identical for any thread count.

#include "precomp.hpp"
#include "nn/nn_layers.hpp"
#include "bank/simd_kernels.hpp"

namespace cv {
namespace dmad {
namespace nn {

namespace {

//! Y(rows x W.rows) = X(rows x dims) * W^T, both row-major and contiguous, over row blocks of X.
void productWithTransposed(const float* X, Eigen::Index rows, Eigen::Index dims, const float* W,
                           Eigen::Index outputs, float* Y)
{
    if (rows == 0 || outputs == 0)
        return;
    if (dims == 0)
    {
        std::fill(Y, Y + rows * outputs, 0.f);
        return;
    }
    const kernels::KernelTable& k = kernels::bestKernels();
    parallel_for_(Range(0, blockCount(rows, kRowBlock)), [&](const Range& r) {
        for (int b = r.start; b < r.end; b++)
        {
            const Eigen::Index r0 = (Eigen::Index)b * kRowBlock, n = std::min<Eigen::Index>(kRowBlock, rows - r0);
            k.dotProducts(X + r0 * dims, (int)n, (size_t)dims, W, (int)outputs, (size_t)dims, (int)dims,
                          Y + r0 * outputs);
        }
    });
}

} // namespace

template <>
CV_EXPORTS void multiplyTransposed<float>(const Matrix<float>& X, const Matrix<float>& W, Matrix<float>& Y)
{
    CV_DbgAssert(X.cols() == W.cols());
    Y.resize(X.rows(), W.rows());
    productWithTransposed(X.data(), X.rows(), X.cols(), W.data(), W.rows(), Y.data());
}

template <>
CV_EXPORTS void multiply<float>(const Matrix<float>& X, const Matrix<float>& W, Matrix<float>& Y)
{
    CV_DbgAssert(X.cols() == W.rows());
    const Matrix<float> Wt = W.transpose();  // weights: small next to the product
    Y.resize(X.rows(), W.cols());
    productWithTransposed(X.data(), X.rows(), X.cols(), Wt.data(), Wt.rows(), Y.data());
}

template <>
CV_EXPORTS void accumulateTransposedProduct<float>(const Matrix<float>& A, const Matrix<float>& B, Matrix<float>& G)
{
    CV_DbgAssert(A.rows() == B.rows() && G.rows() == A.cols() && G.cols() == B.cols());
    const Eigen::Index batch = A.rows();
    if (batch == 0 || G.size() == 0)
        return;
    // G += A^T B is a product of the transposes' rows: one copy of each, then blocks of G's rows.
    const Matrix<float> At = A.transpose(), Bt = B.transpose();
    const kernels::KernelTable& k = kernels::bestKernels();
    parallel_for_(Range(0, blockCount(G.rows(), kColumnBlock)), [&](const Range& r) {
        Matrix<float> block;
        for (int b = r.start; b < r.end; b++)
        {
            const Eigen::Index c0 = (Eigen::Index)b * kColumnBlock, n = std::min<Eigen::Index>(kColumnBlock, G.rows() - c0);
            block.resize(n, G.cols());
            k.dotProducts(At.data() + c0 * batch, (int)n, (size_t)batch, Bt.data(), (int)Bt.rows(), (size_t)batch,
                          (int)batch, block.data());
            G.middleRows(c0, n) += block;
        }
    });
}

}}} // namespace cv::dmad::nn

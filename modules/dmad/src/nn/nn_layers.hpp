// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The few layers DMAD trains (Linear, BatchNorm1d, LeakyReLU) and Adam/AdamW, on Eigen matrices,
// templated on the scalar type so that the gradient checks run in double.
//
// Parallel work is split into blocks of fixed size, never by thread count, and each output is
// computed by exactly one block: results are bit-identical for any number of threads.

#ifndef OPENCV_DMAD_NN_LAYERS_HPP
#define OPENCV_DMAD_NN_LAYERS_HPP

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>

#include <Eigen/Core>

#include <cmath>
#include <vector>

namespace cv {
namespace dmad {
namespace nn {

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using RowVector = Eigen::Matrix<T, 1, Eigen::Dynamic>;

constexpr int kRowBlock = 256;     //!< rows of a batch per parallel task
constexpr int kColumnBlock = 64;   //!< output rows of a weight gradient per parallel task

inline int blockCount(Eigen::Index n, int block) { return (int)((n + block - 1) / block); }

//! Y = X * W^T, over row blocks of X.
template <typename T>
void multiplyTransposed(const Matrix<T>& X, const Matrix<T>& W, Matrix<T>& Y)
{
    Y.resize(X.rows(), W.rows());
    parallel_for_(Range(0, blockCount(X.rows(), kRowBlock)), [&](const Range& r) {
        for (int b = r.start; b < r.end; b++)
        {
            const Eigen::Index r0 = (Eigen::Index)b * kRowBlock, n = std::min<Eigen::Index>(kRowBlock, X.rows() - r0);
            Y.middleRows(r0, n).noalias() = X.middleRows(r0, n) * W.transpose();
        }
    });
}

//! Y = X * W, over row blocks of X.
template <typename T>
void multiply(const Matrix<T>& X, const Matrix<T>& W, Matrix<T>& Y)
{
    Y.resize(X.rows(), W.cols());
    parallel_for_(Range(0, blockCount(X.rows(), kRowBlock)), [&](const Range& r) {
        for (int b = r.start; b < r.end; b++)
        {
            const Eigen::Index r0 = (Eigen::Index)b * kRowBlock, n = std::min<Eigen::Index>(kRowBlock, X.rows() - r0);
            Y.middleRows(r0, n).noalias() = X.middleRows(r0, n) * W;
        }
    });
}

//! G += A^T * B (a weight gradient: a sum over the batch), over blocks of G's rows.
template <typename T>
void accumulateTransposedProduct(const Matrix<T>& A, const Matrix<T>& B, Matrix<T>& G)
{
    CV_DbgAssert(G.rows() == A.cols() && G.cols() == B.cols());
    parallel_for_(Range(0, blockCount(A.cols(), kColumnBlock)), [&](const Range& r) {
        for (int b = r.start; b < r.end; b++)
        {
            const Eigen::Index c0 = (Eigen::Index)b * kColumnBlock, n = std::min<Eigen::Index>(kColumnBlock, A.cols() - c0);
            G.middleRows(c0, n).noalias() += A.middleCols(c0, n).transpose() * B;
        }
    });
}

// The float products (training and inference) go through the k-NN search's GEMM kernel, compiled
// for AVX2+FMA and AVX-512 and chosen at run time (nn_layers.cpp): about 3.5x faster than the
// portable build Eigen gets from the library's baseline flags. double (the gradient checks) keeps
// the templates above. Exported for the tests, which run the networks directly.
template <>
CV_EXPORTS void multiplyTransposed<float>(const Matrix<float>& X, const Matrix<float>& W, Matrix<float>& Y);
template <>
CV_EXPORTS void multiply<float>(const Matrix<float>& X, const Matrix<float>& W, Matrix<float>& Y);
template <>
CV_EXPORTS void accumulateTransposedProduct<float>(const Matrix<float>& A, const Matrix<float>& B, Matrix<float>& G);

//! Column sums, in a fixed order.
template <typename T>
RowVector<T> columnSums(const Matrix<T>& X)
{
    RowVector<T> s = RowVector<T>::Zero(X.cols());
    parallel_for_(Range(0, blockCount(X.cols(), kColumnBlock)), [&](const Range& r) {
        for (int b = r.start; b < r.end; b++)
        {
            const Eigen::Index c0 = (Eigen::Index)b * kColumnBlock, n = std::min<Eigen::Index>(kColumnBlock, X.cols() - c0);
            s.segment(c0, n) = X.middleCols(c0, n).colwise().sum();
        }
    });
    return s;
}

//! A trainable tensor with its gradient and Adam moments.
template <typename T>
struct Parameter
{
    Matrix<T> value, grad, firstMoment, secondMoment;

    void resize(Eigen::Index rows, Eigen::Index cols)
    {
        value.setZero(rows, cols);
        grad.setZero(rows, cols);
        firstMoment.setZero(rows, cols);
        secondMoment.setZero(rows, cols);
    }
    void zeroGrad() { grad.setZero(value.rows(), value.cols()); }
};

//! Xavier-normal weights (std = sqrt(2 / (fan_in + fan_out))), as the reference initialises Linear layers.
template <typename T>
void xavierNormal(Matrix<T>& W, RNG& rng)
{
    const double stddev = std::sqrt(2.0 / (double)(W.rows() + W.cols()));
    for (Eigen::Index i = 0; i < W.size(); i++)
        W.data()[i] = (T)rng.gaussian(stddev);
}

/** y = x W^T + b. W is out x in. */
template <typename T>
struct Linear
{
    Parameter<T> weight, bias;
    bool hasBias = true;

    void init(int in, int out, bool withBias, RNG& rng)
    {
        hasBias = withBias;
        weight.resize(out, in);
        xavierNormal(weight.value, rng);
        // torch.nn.Linear's default bias: U(-1/sqrt(in), 1/sqrt(in))
        bias.resize(1, withBias ? out : 0);
        const double bound = 1.0 / std::sqrt((double)in);
        for (Eigen::Index i = 0; i < bias.value.size(); i++)
            bias.value.data()[i] = (T)rng.uniform(-bound, bound);
    }
    int inputs() const { return (int)weight.value.cols(); }
    int outputs() const { return (int)weight.value.rows(); }

    void forward(const Matrix<T>& X, Matrix<T>& Y) const
    {
        multiplyTransposed(X, weight.value, Y);
        if (hasBias)
            Y.rowwise() += RowVector<T>(bias.value.row(0));
    }
    //! Adds this batch's gradients to weight.grad and bias.grad; dX = dY W when requested.
    void backward(const Matrix<T>& X, const Matrix<T>& dY, Matrix<T>* dX)
    {
        accumulateTransposedProduct(dY, X, weight.grad);
        if (hasBias)
            bias.grad.row(0) += columnSums(dY);
        if (dX)
            multiply(dY, weight.value, *dX);
    }
    std::vector<Parameter<T>*> parameters()
    {
        std::vector<Parameter<T>*> p{ &weight };
        if (hasBias)
            p.push_back(&bias);
        return p;
    }
};

/** BatchNorm1d: batch statistics in training (biased variance), running statistics (unbiased
    variance, momentum 0.1) at inference, as torch.nn.BatchNorm1d. */
template <typename T>
struct BatchNorm
{
    Parameter<T> gamma, beta;
    RowVector<T> runningMean, runningVar;
    double eps = 1e-5, momentum = 0.1;

    struct Cache
    {
        Matrix<T> normalized;
        RowVector<T> invStd;
    };

    void init(int channels)
    {
        gamma.resize(1, channels);
        gamma.value.setOnes();
        beta.resize(1, channels);
        runningMean = RowVector<T>::Zero(channels);
        runningVar = RowVector<T>::Ones(channels);
    }
    int channels() const { return (int)gamma.value.cols(); }

    void forwardTrain(const Matrix<T>& X, Matrix<T>& Y, Cache& cache, bool updateRunningStats)
    {
        const Eigen::Index n = X.rows();
        CV_Assert(n > 1);
        const RowVector<T> mean = columnSums(X) / (T)n;
        cache.normalized = X.rowwise() - mean;
        const RowVector<T> var = columnSums<T>(cache.normalized.array().square().matrix()) / (T)n;
        cache.invStd = (var.array() + (T)eps).rsqrt().matrix();
        cache.normalized.array().rowwise() *= cache.invStd.array();
        Y = cache.normalized;
        Y.array().rowwise() *= gamma.value.row(0).array();
        Y.rowwise() += RowVector<T>(beta.value.row(0));
        if (updateRunningStats)
        {
            runningMean = (T)(1 - momentum) * runningMean + (T)momentum * mean;
            runningVar = (T)(1 - momentum) * runningVar + (T)momentum * var * ((T)n / (T)(n - 1));
        }
    }

    void forwardEval(const Matrix<T>& X, Matrix<T>& Y) const
    {
        const RowVector<T> scale = (gamma.value.row(0).array() * (runningVar.array() + (T)eps).rsqrt()).matrix();
        const RowVector<T> shift = beta.value.row(0) - (runningMean.array() * scale.array()).matrix();
        Y = X;
        Y.array().rowwise() *= scale.array();
        Y.rowwise() += shift;
    }

    void backward(const Cache& cache, const Matrix<T>& dY, Matrix<T>& dX)
    {
        const Eigen::Index n = dY.rows();
        gamma.grad.row(0) += columnSums<T>(dY.cwiseProduct(cache.normalized));
        beta.grad.row(0) += columnSums(dY);
        // dX = invStd / n * (n * dXhat - sum(dXhat) - xhat * sum(dXhat * xhat)), dXhat = dY * gamma
        Matrix<T> dNormalized = dY;
        dNormalized.array().rowwise() *= gamma.value.row(0).array();
        const RowVector<T> sumD = columnSums(dNormalized);
        const RowVector<T> sumDX = columnSums<T>(dNormalized.cwiseProduct(cache.normalized));
        dX = dNormalized * (T)n;
        dX.rowwise() -= sumD;
        dX -= (cache.normalized.array().rowwise() * sumDX.array()).matrix();
        dX.array().rowwise() *= (cache.invStd.array() / (T)n);
    }
    std::vector<Parameter<T>*> parameters() { return { &gamma, &beta }; }
};

template <typename T>
struct LeakyReLU
{
    double slope = 0.2;
    void forward(const Matrix<T>& X, Matrix<T>& Y) const
    {
        Y = X.unaryExpr([this](T v) { return v > 0 ? v : (T)slope * v; });
    }
    void backward(const Matrix<T>& X, const Matrix<T>& dY, Matrix<T>& dX) const
    {
        dX = dY.binaryExpr(X, [this](T g, T v) { return v > 0 ? g : (T)slope * g; });
    }
};

/** Adam (L2 weight decay added to the gradient, as torch.optim.Adam) or AdamW (decoupled decay). */
template <typename T>
struct Adam
{
    double learningRate = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0;
    bool decoupledWeightDecay = false;
    int64 steps = 0;

    void step(const std::vector<Parameter<T>*>& params)
    {
        steps++;
        const double c1 = 1.0 - std::pow(beta1, (double)steps), c2 = 1.0 - std::pow(beta2, (double)steps);
        for (Parameter<T>* p : params)
        {
            Matrix<T> g = p->grad;
            if (weightDecay != 0 && !decoupledWeightDecay)
                g += (T)weightDecay * p->value;
            if (weightDecay != 0 && decoupledWeightDecay)
                p->value *= (T)(1.0 - learningRate * weightDecay);
            p->firstMoment = (T)beta1 * p->firstMoment + (T)(1 - beta1) * g;
            p->secondMoment = (T)beta2 * p->secondMoment + (T)(1 - beta2) * g.cwiseProduct(g);
            const T stepSize = (T)(learningRate / c1);
            const T sqrtC2 = (T)std::sqrt(c2);
            p->value.array() -= stepSize * p->firstMoment.array() /
                                (p->secondMoment.array().sqrt() / sqrtC2 + (T)eps);
        }
    }
};

}}} // namespace cv::dmad::nn

#endif // OPENCV_DMAD_NN_LAYERS_HPP

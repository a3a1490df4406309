// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The anomaly score mapper (DMAD section 1.6, SimpleNet's discriminator), forward and backward:
//   s(o) = w2^T LeakyReLU_0.2(BN(W1 o + b1)),   a high s means normal; the anomaly score is -s.

#ifndef OPENCV_DMAD_SCORING_NETWORK_HPP
#define OPENCV_DMAD_SCORING_NETWORK_HPP

#include "nn/nn_layers.hpp"

namespace cv {
namespace dmad {
namespace nn {

template <typename T>
struct ScoringNetwork
{
    Linear<T> hidden, output;
    BatchNorm<T> norm;
    LeakyReLU<T> activation;

    struct Cache
    {
        Matrix<T> hiddenIn, normalized, activated;
        typename BatchNorm<T>::Cache norm;
    };

    void init(int inputDims, int hiddenDims, RNG& rng)
    {
        CV_Assert(inputDims > 0 && hiddenDims > 0);
        hidden.init(inputDims, hiddenDims, true, rng);
        norm.init(hiddenDims);
        output.init(hiddenDims, 1, false, rng);
    }
    int inputDims() const { return hidden.inputs(); }
    int hiddenDims() const { return hidden.outputs(); }

    std::vector<Parameter<T>*> parameters()
    {
        std::vector<Parameter<T>*> p = hidden.parameters();
        for (Parameter<T>* q : norm.parameters())
            p.push_back(q);
        p.push_back(&output.weight);
        return p;
    }

    //! s (B x 1) of representations o (B x inputDims).
    void forward(const Matrix<T>& o, bool training, bool updateRunningStats, Matrix<T>& s, Cache* cache)
    {
        Cache local;
        Cache& c = cache ? *cache : local;
        hidden.forward(o, c.hiddenIn);
        if (training)
            norm.forwardTrain(c.hiddenIn, c.normalized, c.norm, updateRunningStats);
        else
            norm.forwardEval(c.hiddenIn, c.normalized);
        activation.forward(c.normalized, c.activated);
        output.forward(c.activated, s);
    }

    //! Adds parameter gradients; returns dLoss/do in dO.
    void backward(const Matrix<T>& o, const Cache& c, const Matrix<T>& dS, Matrix<T>& dO)
    {
        Matrix<T> dActivated, dNormalized, dHiddenIn;
        output.backward(c.activated, dS, &dActivated);
        activation.backward(c.normalized, dActivated, dNormalized);
        norm.backward(c.norm, dNormalized, dHiddenIn);
        hidden.backward(o, dHiddenIn, &dO);
    }
};

}}} // namespace cv::dmad::nn

#endif // OPENCV_DMAD_SCORING_NETWORK_HPP

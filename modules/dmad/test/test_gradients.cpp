// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Every backward pass against central finite differences, in double.

#include "test_precomp.hpp"

#include "../src/enhancement/enhancement_network.hpp"
#include "../src/nn/nn_layers.hpp"
#include "../src/train/hinge_loss.hpp"
#include "../src/scoring/scoring_network.hpp"

#include <functional>

namespace opencv_test { namespace {

using namespace cv::dmad::nn;
typedef Matrix<double> Mat64;

Mat64 randomMatrix(Eigen::Index rows, Eigen::Index cols, RNG& rng, double scale = 1.0)
{
    Mat64 m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); i++)
        m.data()[i] = rng.gaussian(scale);
    return m;
}

/** Relative error ||analytic - numeric|| / max(||analytic||, ||numeric||) of d loss / d x over
    every element of x, by central differences. */
double gradientError(Mat64& x, const Mat64& analytic, const std::function<double()>& loss, double h = 1e-6)
{
    Mat64 numeric(x.rows(), x.cols());
    for (Eigen::Index i = 0; i < x.size(); i++)
    {
        const double saved = x.data()[i];
        x.data()[i] = saved + h;
        const double up = loss();
        x.data()[i] = saved - h;
        const double down = loss();
        x.data()[i] = saved;
        numeric.data()[i] = (up - down) / (2 * h);
    }
    // A bias right before a BatchNorm has a zero gradient; compare such tensors absolutely.
    const double scale = std::max(analytic.norm(), numeric.norm());
    return scale < 1e-6 ? (analytic - numeric).norm() : (analytic - numeric).norm() / scale;
}

const double kTolerance = 1e-3;

TEST(DMAD_Gradients, linear)
{
    RNG rng(1);
    Linear<double> layer;
    layer.init(7, 5, true, rng);
    Mat64 X = randomMatrix(300, 7, rng), R = randomMatrix(300, 5, rng), Y, dX;  // 300 rows: two row blocks
    auto loss = [&]() { layer.forward(X, Y); return Y.cwiseProduct(R).sum(); };
    layer.weight.zeroGrad();
    layer.bias.zeroGrad();
    layer.backward(X, R, &dX);
    EXPECT_LT(gradientError(layer.weight.value, layer.weight.grad, loss), kTolerance);
    EXPECT_LT(gradientError(layer.bias.value, layer.bias.grad, loss), kTolerance);
    EXPECT_LT(gradientError(X, dX, loss), kTolerance);
}

TEST(DMAD_Gradients, batch_norm_training_mode)
{
    RNG rng(2);
    BatchNorm<double> bn;
    bn.init(6);
    bn.gamma.value = randomMatrix(1, 6, rng);
    bn.beta.value = randomMatrix(1, 6, rng);
    Mat64 X = randomMatrix(40, 6, rng, 3.0), R = randomMatrix(40, 6, rng), Y, dX;
    BatchNorm<double>::Cache cache;
    auto loss = [&]() { bn.forwardTrain(X, Y, cache, false); return Y.cwiseProduct(R).sum(); };
    loss();
    bn.gamma.zeroGrad();
    bn.beta.zeroGrad();
    bn.backward(cache, R, dX);
    EXPECT_LT(gradientError(bn.gamma.value, bn.gamma.grad, loss), kTolerance);
    EXPECT_LT(gradientError(bn.beta.value, bn.beta.grad, loss), kTolerance);
    EXPECT_LT(gradientError(X, dX, loss), kTolerance);
}

TEST(DMAD_Gradients, batch_norm_statistics_match_pytorch_definition)
{
    RNG rng(3);
    BatchNorm<double> bn;
    bn.init(3);
    Mat64 X = randomMatrix(10, 3, rng, 2.0), Y, Z;
    BatchNorm<double>::Cache cache;
    bn.forwardTrain(X, Y, cache, true);
    for (int c = 0; c < 3; c++)
    {
        const double mean = X.col(c).mean();
        const double biased = (X.col(c).array() - mean).square().sum() / 10;
        EXPECT_NEAR((X(4, c) - mean) / std::sqrt(biased + 1e-5), Y(4, c), 1e-12);
        EXPECT_NEAR(0.9 * 0 + 0.1 * mean, bn.runningMean(c), 1e-12);
        EXPECT_NEAR(0.9 * 1 + 0.1 * biased * 10 / 9, bn.runningVar(c), 1e-12);  // unbiased
    }
    bn.forwardEval(X, Z);
    EXPECT_NEAR((X(2, 1) - bn.runningMean(1)) / std::sqrt(bn.runningVar(1) + 1e-5), Z(2, 1), 1e-12);
}

TEST(DMAD_Gradients, leaky_relu)
{
    RNG rng(4);
    LeakyReLU<double> act;
    Mat64 X = randomMatrix(20, 4, rng), R = randomMatrix(20, 4, rng), Y, dX;
    for (Eigen::Index i = 0; i < X.size(); i++)  // keep away from the kink
        if (std::abs(X.data()[i]) < 1e-3)
            X.data()[i] = 0.5;
    auto loss = [&]() { act.forward(X, Y); return Y.cwiseProduct(R).sum(); };
    act.backward(X, R, dX);
    EXPECT_LT(gradientError(X, dX, loss), kTolerance);
    Mat64 negative(1, 1), out;
    negative(0, 0) = -2;
    act.forward(negative, out);
    EXPECT_DOUBLE_EQ(-0.4, out(0, 0));
}

TEST(DMAD_Gradients, hinge_loss)
{
    RNG rng(5);
    Mat64 s = randomMatrix(12, 1, rng), dS;
    for (Eigen::Index i = 0; i < s.size(); i++)  // away from the kinks at +-0.5
        if (std::abs(std::abs(s(i)) - 0.5) < 1e-3)
            s(i) += 0.1;
    const double value = hingeLoss(s, 5, 4, 3, 0.5, 10.0, dS);
    double expected = 0;
    for (int i = 0; i < 5; i++) expected += std::max(0.0, 0.5 - s(i)) / 5;
    for (int i = 5; i < 9; i++) expected += std::max(0.0, 0.5 + s(i)) / 4;
    for (int i = 9; i < 12; i++) expected += 10 * std::max(0.0, 0.5 + s(i)) / 3;
    EXPECT_NEAR(expected, value, 1e-12);
    Mat64 unused;
    auto loss = [&]() { return hingeLoss(s, 5, 4, 3, 0.5, 10.0, unused); };
    EXPECT_LT(gradientError(s, dS, loss), kTolerance);
}

TEST(DMAD_Gradients, hinge_loss_with_synthetic_defects)
{
    // [normal 5; pseudo 4; annotated 3 (weight 10); synthetic 6 (weight 0.5)]
    RNG rng(15);
    Mat64 s = randomMatrix(18, 1, rng), dS;
    for (Eigen::Index i = 0; i < s.size(); i++)
        if (std::abs(std::abs(s(i)) - 0.5) < 1e-3)
            s(i) += 0.1;
    const double value = hingeLoss(s, 5, 4, 3, 0.5, 10.0, dS, 6, 0.5);
    double expected = 0;
    for (int i = 0; i < 5; i++) expected += std::max(0.0, 0.5 - s(i)) / 5;
    for (int i = 5; i < 9; i++) expected += std::max(0.0, 0.5 + s(i)) / 4;
    for (int i = 9; i < 12; i++) expected += 10 * std::max(0.0, 0.5 + s(i)) / 3;
    for (int i = 12; i < 18; i++) expected += 0.5 * std::max(0.0, 0.5 + s(i)) / 6;
    EXPECT_NEAR(expected, value, 1e-12);
    Mat64 unused;
    auto loss = [&]() { return hingeLoss(s, 5, 4, 3, 0.5, 10.0, unused, 6, 0.5); };
    EXPECT_LT(gradientError(s, dS, loss), kTolerance);
}

TEST(DMAD_Gradients, scoring_network)
{
    RNG rng(6);
    ScoringNetwork<double> head;
    head.init(9, 8, rng);
    head.norm.gamma.value = randomMatrix(1, 8, rng);
    Mat64 o = randomMatrix(30, 9, rng), R = randomMatrix(30, 1, rng), s, dO;
    ScoringNetwork<double>::Cache cache;
    auto loss = [&]() { head.forward(o, true, false, s, &cache); return s.cwiseProduct(R).sum(); };
    loss();
    for (Parameter<double>* p : head.parameters())
        p->zeroGrad();
    head.backward(o, cache, R, dO);
    for (Parameter<double>* p : head.parameters())
        EXPECT_LT(gradientError(p->value, p->grad, loss), kTolerance) << p->value.rows() << "x" << p->value.cols();
    EXPECT_LT(head.hidden.bias.grad.norm(), 1e-12) << "a bias before BatchNorm cannot matter";
    EXPECT_LT(gradientError(o, dO, loss), kTolerance);
}

class DMAD_EnhancementGradients : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(DMAD_EnhancementGradients, every_parameter)
{
    const int k = std::get<0>(GetParam()), D = 6, B = 25;
    const bool distances = std::get<1>(GetParam());
    RNG rng(7 + k);
    EnhancementNetwork<double> net;
    net.init(D, k, rng, distances);
    for (auto& bn : net.bankNorm)
    {
        bn.gamma.value = randomMatrix(1, D, rng);
        bn.beta.value = randomMatrix(1, D, rng);
    }
    Mat64 q = randomMatrix(B, D, rng), normal = randomMatrix(B, k * D, rng), abnormal = randomMatrix(B, k * D, rng);
    const Mat64* banks[2] = { &normal, &abnormal };
    Mat64 R = randomMatrix(B, net.outputDims(), rng), o;
    EnhancementNetwork<double>::Cache cache;
    auto loss = [&]() { net.forward(q, banks, true, false, o, &cache); return o.cwiseProduct(R).sum(); };
    loss();
    std::vector<Parameter<double>*> params = net.enhancementParameters();
    for (Parameter<double>* p : net.adaptorParameters())
        params.push_back(p);
    for (Parameter<double>* p : params)
        p->zeroGrad();
    net.backward(q, banks, cache, R, true);
    for (size_t i = 0; i < params.size(); i++)
        EXPECT_LT(gradientError(params[i]->value, params[i]->grad, loss), kTolerance) << "parameter " << i;
    EXPECT_EQ(k > 1 ? 2u + 2 + 4 + 2 : 2u + 4 + 2, params.size());

    // with the enhancement frozen only the adaptor learns, and its gradient is unchanged
    const Mat64 adaptorGrad = net.adaptor.weight.grad;
    for (Parameter<double>* p : params)
        p->zeroGrad();
    net.backward(q, banks, cache, R, false);
    EXPECT_EQ(0.0, net.value.weight.grad.norm());
    EXPECT_LT((net.adaptor.weight.grad - adaptorGrad).norm(), 1e-12);
}

INSTANTIATE_TEST_CASE_P(/**/, DMAD_EnhancementGradients,
                        ::testing::Combine(::testing::Values(1, 3), ::testing::Bool()));

TEST(DMAD_Gradients, single_key_attention_is_the_reference_formula)
{
    // k = 1: E(q, m) = BN(q - m + W_v q + b_v), o = [P q; P E_n; P E_a]  (inference statistics)
    const int D = 4, B = 3;
    RNG rng(11);
    EnhancementNetwork<double> net;
    net.init(D, 1, rng);
    net.bankNorm[0].runningMean = randomMatrix(1, D, rng);
    net.bankNorm[1].runningVar = randomMatrix(1, D, rng).cwiseAbs();
    Mat64 q = randomMatrix(B, D, rng), mn = randomMatrix(B, D, rng), ma = randomMatrix(B, D, rng), o;
    const Mat64* banks[2] = { &mn, &ma };
    net.forward(q, banks, false, false, o, nullptr);
    const Mat64& Wv = net.value.weight.value;
    const Mat64& P = net.adaptor.weight.value;
    for (int i = 0; i < B; i++)
    {
        const Eigen::VectorXd qi = q.row(i).transpose();
        const Eigen::VectorXd v = Wv * qi + net.value.bias.value.row(0).transpose();
        for (int b = 0; b < 2; b++)
        {
            const Eigen::VectorXd m = (b == 0 ? mn : ma).row(i).transpose();
            const auto& bn = net.bankNorm[b];
            Eigen::VectorXd e = qi - m + v;
            for (int c = 0; c < D; c++)
                e(c) = (e(c) - bn.runningMean(c)) / std::sqrt(bn.runningVar(c) + 1e-5);
            const Eigen::VectorXd expected = P * e + net.adaptor.bias.value.row(0).transpose();
            for (int c = 0; c < D; c++)
                EXPECT_NEAR(expected(c), o(i, (b + 1) * D + c), 1e-12);
        }
        EXPECT_EQ(3 * D, o.cols()) << "no distances unless asked for";
        const Eigen::VectorXd pq = P * qi + net.adaptor.bias.value.row(0).transpose();
        for (int c = 0; c < D; c++)
            EXPECT_NEAR(pq(c), o(i, c), 1e-12);
    }
}

TEST(DMAD_Gradients, distance_columns_are_the_nearest_entry_distances)
{
    const int D = 5, B = 4, k = 2;
    RNG rng(12);
    EnhancementNetwork<double> net;
    net.init(D, k, rng, true);
    Mat64 q = randomMatrix(B, D, rng), mn = randomMatrix(B, k * D, rng), ma = randomMatrix(B, k * D, rng), o;
    const Mat64* banks[2] = { &mn, &ma };
    net.forward(q, banks, false, false, o, nullptr);
    ASSERT_EQ(3 * D + 2, o.cols());
    for (int i = 0; i < B; i++)
    {
        EXPECT_NEAR((q.row(i) - mn.row(i).head(D)).norm(), o(i, 3 * D), 1e-12);
        EXPECT_NEAR((q.row(i) - ma.row(i).head(D)).norm(), o(i, 3 * D + 1), 1e-12);
    }
}


// The float products run on the dispatched GEMM kernel (nn_layers.cpp): they must equal the double
// products within float rounding, for sizes around the block boundaries and empty ones, and be
// identical for 1 and 2 threads.
TEST(DMAD_NNLayers, float_products_match_double_products)
{
    RNG rng(7);
    struct Shape { int rows, dims, outputs; };
    const Shape shapes[] = { { 1, 1, 1 }, { 3, 5, 7 }, { 255, 17, 33 }, { 256, 64, 64 }, { 257, 130, 65 },
                             { 600, 40, 3 }, { 0, 4, 5 }, { 4, 0, 5 }, { 4, 5, 0 } };
    for (const Shape& s : shapes)
    {
        SCOPED_TRACE(cv::format("%d x %d -> %d", s.rows, s.dims, s.outputs));
        const Mat64 X = randomMatrix(s.rows, s.dims, rng), W = randomMatrix(s.outputs, s.dims, rng);
        const Mat64 V = randomMatrix(s.dims, s.outputs, rng), B = randomMatrix(s.rows, s.outputs, rng);
        const Mat64 G0 = randomMatrix(s.dims, s.outputs, rng);
        const Matrix<float> Xf = X.cast<float>(), Wf = W.cast<float>(), Vf = V.cast<float>(), Bf = B.cast<float>();
        // float rounding of sums of `dims` (or `rows`) products of N(0, 1) values
        const double tolerance = 1e-5 * (1 + std::max(s.dims, s.rows));

        const Mat64 expectedXWt = X * W.transpose(), expectedXV = X * V, expectedG = G0 + X.transpose() * B;
        for (int threads : { 1, 2 })
        {
            const int saved = cv::getNumThreads();
            cv::setNumThreads(threads);
            Matrix<float> Y1, Y2, G = G0.cast<float>();
            multiplyTransposed(Xf, Wf, Y1);
            cv::dmad::nn::multiply(Xf, Vf, Y2);  // qualified: OpenCV's ts reserves an unqualified multiply
            accumulateTransposedProduct(Xf, Bf, G);
            cv::setNumThreads(saved);
            ASSERT_EQ(expectedXWt.rows(), Y1.rows());
            ASSERT_EQ(expectedXWt.cols(), Y1.cols());
            ASSERT_EQ(expectedXV.rows(), Y2.rows());
            ASSERT_EQ(expectedXV.cols(), Y2.cols());
            if (Y1.size() > 0)
                EXPECT_LE((Y1.cast<double>() - expectedXWt).cwiseAbs().maxCoeff(), tolerance);
            if (Y2.size() > 0)
                EXPECT_LE((Y2.cast<double>() - expectedXV).cwiseAbs().maxCoeff(), tolerance);
            if (G.size() > 0)
                EXPECT_LE((G.cast<double>() - expectedG).cwiseAbs().maxCoeff(), tolerance);
        }
    }
}

TEST(DMAD_NNLayers, float_products_are_identical_for_any_thread_count)
{
    RNG rng(11);
    const Matrix<float> X = randomMatrix(700, 90, rng).cast<float>(), W = randomMatrix(50, 90, rng).cast<float>();
    const Matrix<float> B = randomMatrix(700, 50, rng).cast<float>();
    Matrix<float> Y[2], G[2];
    const int saved = cv::getNumThreads();
    for (int t = 0; t < 2; t++)
    {
        cv::setNumThreads(t + 1);
        multiplyTransposed(X, W, Y[t]);
        G[t].setZero(90, 50);
        accumulateTransposedProduct(X, B, G[t]);
    }
    cv::setNumThreads(saved);
    EXPECT_TRUE(Y[0] == Y[1]);
    EXPECT_TRUE(G[0] == G[1]);
}

}} // namespace

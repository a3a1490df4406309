// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"

#include "../src/train/score_trainer.hpp"

namespace opencv_test { namespace {

//! Patches on a low-dimensional linear manifold, their nearest bank entries by brute force.
struct ManifoldData
{
    Mat features, normalBank, abnormalBank;
    TrainingPatches pool;

    ManifoldData(int n, int D, int manifoldDims, RNG& rng)
    {
        Mat basis(manifoldDims, D, CV_32F), z(n, manifoldDims, CV_32F);
        rng.fill(basis, RNG::NORMAL, 0, 1);
        rng.fill(z, RNG::NORMAL, 0, 1);
        features = z * basis;
        normalBank = features.rowRange(0, n / 10).clone();
        abnormalBank.create(n / 20, D, CV_32F);
        rng.fill(abnormalBank, RNG::NORMAL, 0, 2);
        pool.features = features;
        pool.normalNeighbours = nearest(features, normalBank, true);
        pool.abnormalNeighbours = nearest(features, abnormalBank, false);
    }

    static Mat nearest(const Mat& q, const Mat& bank, bool skipSelf)
    {
        Mat idx(q.rows, 1, CV_32S);
        for (int i = 0; i < q.rows; i++)
        {
            double best = DBL_MAX;
            for (int j = 0; j < bank.rows; j++)
            {
                const double d = cv::norm(q.row(i), bank.row(j), NORM_L2SQR);
                if (d < best && !(skipSelf && d == 0))
                {
                    best = d;
                    idx.at<int>(i) = j;
                }
            }
        }
        return idx;
    }
};

//! Anomaly scores (-s) of patches through the trained enhancement and head (inference statistics).
std::vector<float> scoresOf(nn::EnhancementNetwork<float>& enhancement, nn::ScoringNetwork<float>& head,
                            const Mat& q, const ManifoldData& data)
{
    typedef nn::Matrix<float> Matrix;
    const Mat ni = ManifoldData::nearest(q, data.normalBank, false), ai = ManifoldData::nearest(q, data.abnormalBank, false);
    Matrix Q(q.rows, q.cols), N(q.rows, q.cols), A(q.rows, q.cols), o, s;
    for (int i = 0; i < q.rows; i++)
        for (int c = 0; c < q.cols; c++)
        {
            Q(i, c) = q.at<float>(i, c);
            N(i, c) = data.normalBank.at<float>(ni.at<int>(i), c);
            A(i, c) = data.abnormalBank.at<float>(ai.at<int>(i), c);
        }
    const Matrix* banks[2] = { &N, &A };
    enhancement.forward(Q, banks, false, false, o, nullptr);
    head.forward(o, false, false, s, nullptr);
    std::vector<float> out(q.rows);
    for (int i = 0; i < q.rows; i++)
        out[i] = -s(i, 0);
    return out;
}

TEST(DMAD_ScoreTrainer, learns_what_normal_patches_look_like)
{
    // normal patches lie on a 3-dimensional plane of a 16-dimensional space; the trained score must
    // rank fresh points off that plane above fresh points on it
    RNG rng(42);
    const int D = 16;
    ManifoldData data(4000, D, 3, rng);
    nn::EnhancementNetwork<float> enhancement;
    nn::ScoringNetwork<float> head;
    RNG init(1);
    enhancement.init(D, 1, init);
    head.init(3 * D, 32, init);
    DMAD::TrainingParams s;
    s.epochs = 30;
    s.batchPatches = 256;
    s.noiseStd = 0.1;
    s.headLearningRate = 1e-3;
    s.adaptorLearningRate = s.enhancementLearningRate = 5e-4;
    s.pseudoAnomalies = DMAD::PSEUDO_REPRESENTATION_NOISE;  // the noise on the representation, as the reference
    const double loss = ScoreTrainer(s, 0, s.annotatedWeight).train(enhancement, head, data.pool, TrainingPatches(),
                                                                     data.normalBank,
                                              data.abnormalBank);
    EXPECT_LT(loss, 0.6) << "the constant-score plateau is 1.0";

    Mat offPlane(200, D, CV_32F);
    RNG fresh(7);
    // fresh normal points: convex combinations of training points stay on the plane
    Mat normal(200, D, CV_32F);
    for (int i = 0; i < 200; i++)
    {
        const double t = fresh.uniform(0.0, 1.0);
        normal.row(i) = t * data.features.row(fresh.uniform(0, 4000)) + (1 - t) * data.features.row(fresh.uniform(0, 4000));
    }
    fresh.fill(offPlane, RNG::NORMAL, 0, 0.5);
    Mat anomalous = normal + offPlane;
    const std::vector<float> sn = scoresOf(enhancement, head, normal, data), sa = scoresOf(enhancement, head, anomalous, data);
    std::vector<float> scores(sn);
    scores.insert(scores.end(), sa.begin(), sa.end());
    std::vector<int> labels(200, 0);
    labels.insert(labels.end(), 200, 1);
    EXPECT_GT(rocAUC(scores, labels), 0.95);
}

}} // namespace

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"

#include "../src/score_trainer.hpp"

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

TEST(DMAD_ScoreTrainer, learns_to_separate_normal_patches_from_pseudo_anomalies)
{
    RNG rng(42);
    const int D = 16;
    ManifoldData data(4000, D, 3, rng);
    nn::EnhancementNetwork<float> enhancement;
    nn::ScoringNetwork<float> head;
    RNG init(1);
    enhancement.init(D, 1, init);
    head.init(3 * D, 32, init);
    TrainerSettings s;
    s.epochs = 30;
    s.batchPatches = 256;
    s.noiseStd = 0.1;
    s.headLearningRate = 1e-3;
    s.adaptorLearningRate = s.enhancementLearningRate = 5e-4;
    const double loss = ScoreTrainer(s).train(enhancement, head, data.pool, TrainingPatches(), data.normalBank,
                                              data.abnormalBank);
    EXPECT_LT(loss, 0.3);
}

}} // namespace

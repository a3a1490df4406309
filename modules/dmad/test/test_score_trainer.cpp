// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"

#include "../src/train/score_trainer.hpp"
#include "../src/train/validation.hpp"

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
    const double loss = ScoreTrainer(s, 0, s.annotatedWeight)
                            .train(enhancement, head, data.pool, TrainingPatches(), data.normalBank, data.abnormalBank)
                            .lastLoss;
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

//! Patches `q` with their nearest entries of both banks (brute force), as a pool.
TrainingPatches poolOf(const Mat& q, const ManifoldData& data)
{
    TrainingPatches pool;
    pool.features = q;
    pool.normalNeighbours = ManifoldData::nearest(q, data.normalBank, false);
    pool.abnormalNeighbours = ManifoldData::nearest(q, data.abnormalBank, false);
    return pool;
}

bool sameValues(const nn::Matrix<float>& a, const nn::Matrix<float>& b)
{
    return a.rows() == b.rows() && a.cols() == b.cols() && a == b;
}

TEST(DMAD_ScoreTrainer, keeps_the_epoch_that_validates_best)
{
    // Validation with the labels swapped (off-plane points as the normal side): the better the head
    // learns the plane, the worse it validates, so an early epoch must be kept and the networks must
    // end as that epoch left them.
    RNG rng(42);
    const int D = 16;
    ManifoldData data(2000, D, 3, rng);
    RNG fresh(7);
    Mat onPlane = data.features.rowRange(0, 300).clone(), offPlane(300, D, CV_32F);
    fresh.fill(offPlane, RNG::NORMAL, 0, 0.5);
    offPlane += onPlane;
    ValidationPatches validation;
    validation.normal = poolOf(offPlane, data);
    validation.addAnomalies(poolOf(onPlane.rowRange(0, 200), data));
    validation.addAnomalies(poolOf(onPlane.rowRange(200, 300), data));
    validation.addAnomalies(TrainingPatches());  // an empty set is not a set
    ASSERT_EQ(validation.anomalies.size(), 2u);

    DMAD::TrainingParams s;
    s.epochs = 6;
    s.batchPatches = 256;
    s.noiseStd = 0.1;
    auto trained = [&](int epochs, nn::EnhancementNetwork<float>& enhancement, nn::ScoringNetwork<float>& head) {
        RNG init(1);
        enhancement.init(D, 1, init, true);
        head.init(3 * D + 2, 32, init);
        DMAD::TrainingParams p = s;
        p.epochs = epochs;
        return ScoreTrainer(p, 0, p.annotatedWeight)
            .train(enhancement, head, data.pool, TrainingPatches(), data.normalBank, data.abnormalBank,
                   TrainingPatches(), validation);
    };
    nn::EnhancementNetwork<float> enhancement, shortEnhancement;
    nn::ScoringNetwork<float> head, shortHead;
    const TrainingOutcome outcome = trained(s.epochs, enhancement, head);
    ASSERT_EQ((int)outcome.validationAUROC.size(), s.epochs);
    int best = 0;
    for (int e = 1; e < s.epochs; e++)
        if (outcome.validationAUROC[e] >= outcome.validationAUROC[best])
            best = e;
    EXPECT_EQ(outcome.keptEpoch, best + 1);
    ASSERT_LT(outcome.keptEpoch, s.epochs) << "the swapped labels must make an early epoch the best";
    EXPECT_LT(outcome.validationAUROC.back(), outcome.validationAUROC[best]);

    // the kept networks are exactly those of a run that stopped at the kept epoch
    const TrainingOutcome shorter = trained(outcome.keptEpoch, shortEnhancement, shortHead);
    EXPECT_EQ(shorter.keptEpoch, outcome.keptEpoch);
    EXPECT_EQ(shorter.validationAUROC.back(), outcome.validationAUROC[best]);
    EXPECT_TRUE(sameValues(head.hidden.weight.value, shortHead.hidden.weight.value));
    EXPECT_TRUE(sameValues(head.output.weight.value, shortHead.output.weight.value));
    EXPECT_TRUE(sameValues(head.norm.runningMean, shortHead.norm.runningMean));
    EXPECT_TRUE(sameValues(enhancement.adaptor.weight.value, shortEnhancement.adaptor.weight.value));
    EXPECT_TRUE(sameValues(enhancement.bankNorm[1].runningVar, shortEnhancement.bankNorm[1].runningVar));

    // the criterion, computed independently: the mean of the two sets' AUROC (dmad_eval's rocAUC)
    const std::vector<float> normalScores = scoresOf(enhancement, head, offPlane, data);
    double mean = 0;
    for (const Range& r : { Range(0, 200), Range(200, 300) })
    {
        std::vector<float> scores(normalScores);
        const std::vector<float> anomalyScores = scoresOf(enhancement, head, onPlane.rowRange(r), data);
        scores.insert(scores.end(), anomalyScores.begin(), anomalyScores.end());
        std::vector<int> labels(normalScores.size(), 0);
        labels.insert(labels.end(), anomalyScores.size(), 1);
        mean += 0.5 * rocAUC(scores, labels);
    }
    EXPECT_NEAR(outcome.validationAUROC[best], mean, 1e-6);

    // without validation the last epoch is kept
    nn::EnhancementNetwork<float> plainEnhancement;
    nn::ScoringNetwork<float> plainHead;
    RNG init(1);
    plainEnhancement.init(D, 1, init, true);
    plainHead.init(3 * D + 2, 32, init);
    const TrainingOutcome plain = ScoreTrainer(s, 0, s.annotatedWeight)
                                      .train(plainEnhancement, plainHead, data.pool, TrainingPatches(),
                                             data.normalBank, data.abnormalBank);
    EXPECT_EQ(plain.keptEpoch, s.epochs);
    EXPECT_TRUE(plain.validationAUROC.empty());
}

TEST(DMAD_Validation, rank_auroc_matches_roc_auc)
{
    RNG rng(3);
    for (int trial = 0; trial < 20; trial++)
    {
        const int nN = rng.uniform(1, 60), nA = rng.uniform(1, 60);
        std::vector<float> normal(nN), anomalous(nA), scores;
        std::vector<int> labels;
        for (float& v : normal)
            v = (float)rng.uniform(0, 8);  // integers: many ties, within and across the sides
        for (float& v : anomalous)
            v = (float)rng.uniform(2, 10);
        scores = normal;
        scores.insert(scores.end(), anomalous.begin(), anomalous.end());
        labels.assign(nN, 0);
        labels.insert(labels.end(), nA, 1);
        EXPECT_NEAR(rankAUROC(normal, anomalous), rocAUC(scores, labels), 1e-12) << "trial " << trial;
    }
    EXPECT_EQ(rankAUROC({ 1.f, 2.f }, { 3.f }), 1.0);
    EXPECT_EQ(rankAUROC({ 3.f }, { 1.f, 2.f }), 0.0);
    EXPECT_EQ(rankAUROC({ 1.f }, { 1.f }), 0.5);
    EXPECT_TRUE(cvIsNaN(rankAUROC({}, { 1.f })));
}

TEST(DMAD_Validation, held_out_rows_are_those_of_the_held_out_images)
{
    TrainingPatches pool, held;
    pool.features.create(7, 2, CV_32F);
    for (int r = 0; r < 7; r++)
        pool.features.row(r).setTo(r);
    Mat ids = (Mat_<int>(7, 1) << 0, 0, 1, 2, 1, 3, 2), heldIds;
    moveHeldOutRows(pool, ids, { 2, 1 }, held, heldIds);
    ASSERT_EQ(pool.size(), 3);
    ASSERT_EQ(held.size(), 4);
    EXPECT_EQ(std::vector<int>(ids.begin<int>(), ids.end<int>()), std::vector<int>({ 0, 0, 3 }));
    EXPECT_EQ(std::vector<int>(heldIds.begin<int>(), heldIds.end<int>()), std::vector<int>({ 1, 2, 1, 2 }));
    const float keptRows[] = { 0, 1, 5 }, heldRows[] = { 2, 3, 4, 6 };  // in their order
    for (int r = 0; r < 3; r++)
        EXPECT_EQ(pool.features.at<float>(r, 1), keptRows[r]);
    for (int r = 0; r < 4; r++)
        EXPECT_EQ(held.features.at<float>(r, 0), heldRows[r]);
}

TEST(DMAD_Validation, held_out_images_are_training_images_of_each_class)
{
    // 25 + 12 normal images of classes 0 and 1, then 10 + 3 annotated anomalies: at 0.2, floor(0.2 n)
    // of each class and side, drawn from the images training was given (ids below 50) and nothing else
    std::vector<int> classIds(25, 0);
    classIds.insert(classIds.end(), 12, 1);
    classIds.insert(classIds.end(), 10, 0);
    classIds.insert(classIds.end(), 3, 1);
    const std::vector<int> held = validationImagesOf(37, 13, classIds, 0.2, 5);
    int counts[2][2] = { { 0, 0 }, { 0, 0 } };  // [anomalous][class]
    for (int id : held)
    {
        ASSERT_GE(id, 0);
        ASSERT_LT(id, 50);
        counts[id >= 37][classIds[id]]++;
    }
    EXPECT_EQ(counts[0][0], 5);
    EXPECT_EQ(counts[0][1], 2);
    EXPECT_EQ(counts[1][0], 2);
    EXPECT_EQ(counts[1][1], 0);
    EXPECT_EQ(std::set<int>(held.begin(), held.end()).size(), held.size());
    EXPECT_EQ(validationImagesOf(37, 13, classIds, 0.2, 5), held) << "drawn with the seed alone";
    EXPECT_NE(validationImagesOf(37, 13, classIds, 0.2, 6), held);
    EXPECT_TRUE(validationImagesOf(37, 13, classIds, 0.0, 5).empty());
    // no normal image held out (fewer than 10 per class at 0.1): no anomaly either
    EXPECT_TRUE(validationImagesOf(9, 13, std::vector<int>(), 0.1, 5).empty());
}

}} // namespace

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The calibrated decision threshold: the quantile and F1-optimal rules against brute force, the
// normalisation, the held-out split, and a model that keeps its threshold through save and load.

#include "test_precomp.hpp"
#include "test_files.hpp"
#include "test_tiny_model.hpp"
#include "scoring/score_calibration.hpp"
#include "train/training_sources.hpp"

#include <set>

namespace opencv_test { namespace {

using cv::dmad::ScoreCalibration;

double f1At(const std::vector<float>& normal, const std::vector<float>& anomalous, double t)
{
    double tp = 0, fp = 0;
    for (float s : anomalous)
        tp += s > t;
    for (float s : normal)
        fp += s > t;
    const double fn = (double)anomalous.size() - tp;
    return tp > 0 ? 2 * tp / (2 * tp + fp + fn) : 0.0;
}

TEST(DMAD_ScoreCalibration, normal_scores_alone_give_their_99th_percentile)
{
    std::vector<float> normal;
    for (int i = 0; i < 101; i++)
        normal.push_back((float)((i * 37) % 101));  // 0..100 shuffled
    const ScoreCalibration c(normal, {});
    ASSERT_TRUE(c.valid());
    EXPECT_DOUBLE_EQ(99.0, c.threshold());  // the 0.99 quantile of 0..100
    EXPECT_DOUBLE_EQ(0.5, c.normalize(99.0));
    EXPECT_DOUBLE_EQ(0.0, c.normalize(50.0));   // the median
    EXPECT_DOUBLE_EQ(1.0, c.normalize(148.0));  // threshold + (threshold - median)
    EXPECT_DOUBLE_EQ(0.75, c.normalize(123.5));
    EXPECT_DOUBLE_EQ(0.0, c.normalize(-1e9));
    // interpolated between the two largest of few scores
    const ScoreCalibration few({ 1.f, 2.f, 3.f, 4.f, 5.f }, {});
    EXPECT_NEAR(4.96, few.threshold(), 1e-6);
}

TEST(DMAD_ScoreCalibration, annotated_anomalies_give_the_f1_optimal_threshold)
{
    RNG rng(3);
    for (int trial = 0; trial < 50; trial++)
    {
        std::vector<float> normal, anomalous;
        for (int i = 0; i < 30; i++)
            normal.push_back((float)rng.gaussian(1.0));
        for (int i = 0, n = 1 + trial % 10; i < n; i++)
            anomalous.push_back((float)(1.5 + rng.gaussian(1.0)));
        if (trial % 7 == 0)
            anomalous.push_back(normal[3]);  // a tie across the classes
        const ScoreCalibration c(normal, anomalous);
        // brute force: every score, and just below the smallest, as threshold
        std::vector<float> all = normal;
        all.insert(all.end(), anomalous.begin(), anomalous.end());
        double best = f1At(normal, anomalous, *std::min_element(all.begin(), all.end()) - 1);
        for (float t : all)
            best = std::max(best, f1At(normal, anomalous, t));
        EXPECT_DOUBLE_EQ(best, f1At(normal, anomalous, c.threshold())) << "trial " << trial;
    }
    // separable: the midpoint of the gap
    const ScoreCalibration gap({ 0.f, 1.f, 2.f }, { 4.f, 5.f });
    EXPECT_DOUBLE_EQ(3.0, gap.threshold());
}

TEST(DMAD_ScoreCalibration, held_out_images_are_a_fraction_of_each_class)
{
    std::vector<int> classIds;
    for (int i = 0; i < 55; i++)
        classIds.push_back(i < 30 ? 0 : i < 49 ? 1 : 2);  // 30, 19 and 6 images
    std::vector<int> fitted, heldOut;
    cv::dmad::splitCalibrationImages(55, classIds, 0.1, 7, fitted, heldOut);
    int perClass[3] = { 0, 0, 0 };
    for (int i : heldOut)
        perClass[classIds[i]]++;
    EXPECT_EQ(3, perClass[0]);
    EXPECT_EQ(1, perClass[1]);
    EXPECT_EQ(0, perClass[2]);  // 0.6 rounds down: a class of 6 keeps every image
    std::set<int> all(fitted.begin(), fitted.end());
    all.insert(heldOut.begin(), heldOut.end());
    EXPECT_EQ(55u, all.size());
    EXPECT_EQ(55u, fitted.size() + heldOut.size());
    EXPECT_TRUE(std::is_sorted(fitted.begin(), fitted.end()));
    std::vector<int> again, heldAgain;
    cv::dmad::splitCalibrationImages(55, classIds, 0.1, 7, again, heldAgain);
    EXPECT_EQ(heldOut, heldAgain);
    cv::dmad::splitCalibrationImages(55, classIds, 0.0, 7, again, heldAgain);
    EXPECT_TRUE(heldAgain.empty());
}

TEST(DMAD_ScoreCalibration, a_trained_model_keeps_its_threshold_through_save_and_load)
{
    const MicroDataset data(20);  // one class of 20: two images held out
    DMAD::Params calibrated = microParams();
    calibrated.calibrationFraction = 0.1;
    Ptr<DMAD> model = DMAD::create(calibrated);
    model->train(data.normal);
    // after calibration the two held-out images join the bank, with ids after the 18 fitted ones
    std::set<int> ids;
    const Mat bankIds = model->getMemoryBanks()->getNormalBank()->getImageIds();
    for (int i = 0; i < bankIds.rows; i++)
        ids.insert(bankIds.at<int>(i));
    EXPECT_TRUE(ids.count(18) || ids.count(19)) << "no held-out image in the bank";
    EXPECT_EQ(0u, ids.count(20));
    EXPECT_LE(*ids.rbegin(), 19);
    const double threshold = model->getDecisionThreshold();
    ASSERT_TRUE(std::isfinite(threshold));
    EXPECT_FLOAT_EQ(0.5f, model->normalizeScore((float)threshold));
    model->setScorer(DMAD::SCORER_PATCHCORE);
    const double patchcoreThreshold = model->getDecisionThreshold();
    ASSERT_TRUE(std::isfinite(patchcoreThreshold));
    EXPECT_GT(patchcoreThreshold, 0);  // a distance
    model->setScorer(DMAD::SCORER_DMAD);

    TempDir dir;
    model->save(dir.path + "/m.yml.gz");
    Ptr<DMAD> loaded = DMAD::load(dir.path + "/m.yml.gz");
    EXPECT_EQ(threshold, loaded->getDecisionThreshold());
    EXPECT_EQ(model->normalizeScore(0.25f), loaded->normalizeScore(0.25f));
    loaded->setScorer(DMAD::SCORER_PATCHCORE);
    EXPECT_EQ(patchcoreThreshold, loaded->getDecisionThreshold());

    // nothing held out: no threshold, and normalizeScore says why
    DMAD::Params p = microParams();
    p.calibrationFraction = 0;
    Ptr<DMAD> uncalibrated = DMAD::create(p);
    uncalibrated->train(data.normal);
    EXPECT_TRUE(std::isnan(uncalibrated->getDecisionThreshold()));
    EXPECT_CV_ERROR(uncalibrated->normalizeScore(0.f), "no calibrated threshold");
    p.calibrationFraction = 0.6;
    EXPECT_CV_ERROR(DMAD::create(p)->train(data.normal), "calibrationFraction 0.6 must be in [0, 0.5]");
}

}} // namespace opencv_test

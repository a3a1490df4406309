// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The calibrated decision threshold: the quantile and F1-optimal rules against brute force, the
// normalisation, the held-out split, the class of an image and the thresholds per class, and
// models whose thresholds equal those of leave-one-image-out scores computed here by brute force.

#include "test_precomp.hpp"
#include "test_files.hpp"
#include "test_tiny_model.hpp"
#include "scoring/decision_calibration.hpp"
#include "train/training_sources.hpp"

#include <set>

namespace opencv_test { namespace {

using cv::dmad::ClassCentroids;
using cv::dmad::DecisionCalibration;
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
    cv::dmad::holdOutImages(55, classIds, 0.1, 7, fitted, heldOut);
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
    cv::dmad::holdOutImages(55, classIds, 0.1, 7, again, heldAgain);
    EXPECT_EQ(heldOut, heldAgain);
    cv::dmad::holdOutImages(55, classIds, 0.0, 7, again, heldAgain);
    EXPECT_TRUE(heldAgain.empty());
}

//! What `part.write()` writes into a node "node", read back from memory.
template <typename Part>
FileStorage writtenAndRead(const Part& part)
{
    FileStorage out(".yml", FileStorage::WRITE | FileStorage::MEMORY);
    out << "node" << "{";
    part.write(out);
    out << "}";
    return FileStorage(out.releaseAndGetString(), FileStorage::READ | FileStorage::MEMORY);
}

TEST(DMAD_ScoreCalibration, an_image_belongs_to_the_class_of_the_nearest_mean_feature)
{
    // three classes of patch features around different means, and rows of no class
    RNG rng(11);
    const int cells = 16, D = 5;
    Mat features(0, D, CV_32F), ids(0, 1, CV_32S);
    auto image = [&](int c) {
        Mat f(cells, D, CV_32F);
        rng.fill(f, RNG::NORMAL, 0, 1);
        f.col(c) += 4.0;
        return f;
    };
    for (int c : { 2, 0, 1, 0, 2, 1, 5 })  // class 5: rows of id -1 below
    {
        features.push_back(image(c % 3));
        ids.push_back(Mat(cells, 1, CV_32S, Scalar(c == 5 ? -1 : c)));
    }
    const ClassCentroids classes(features, ids);
    ASSERT_FALSE(classes.empty());
    EXPECT_EQ(std::vector<int>({ 0, 1, 2 }), classes.classIds());
    for (int trial = 0; trial < 30; trial++)
        EXPECT_EQ(trial % 3, classes.identify(image(trial % 3))) << "trial " << trial;

    FileStorage in = writtenAndRead(classes);
    ClassCentroids loaded;
    loaded.read(in["node"], D, "test");
    const Mat probe = image(1);
    EXPECT_EQ(classes.identify(probe), loaded.identify(probe));
    EXPECT_EQ(classes.classIds(), loaded.classIds());
    EXPECT_CV_ERROR(loaded.read(in["node"], D + 1, "test"), "invalid class centroids");

    // one class: nothing to tell apart
    const ClassCentroids one(features.rowRange(0, cells), ids.rowRange(0, cells));
    EXPECT_TRUE(one.empty());
    EXPECT_EQ(-1, one.identify(probe));
}

TEST(DMAD_ScoreCalibration, each_class_with_enough_images_has_its_own_threshold)
{
    // class 0: normal scores 0..19; class 1: ten times larger, with anomalies; class 2: too few
    std::vector<DecisionCalibration::Sample> samples;
    std::vector<float> normal0, normal1, anomalies1, pooledNormal, pooledAnomalies;
    for (int i = 0; i < 20; i++)
    {
        samples.push_back({ 0, false, { (float)i, (float)(100 - i) } });
        samples.push_back({ 1, false, { 10.f * i, 0.f } });
        normal0.push_back((float)i);
        normal1.push_back(10.f * i);
    }
    for (int i = 0; i < 4; i++)
    {
        samples.push_back({ 1, true, { 150.f + 20 * i, 0.f } });
        anomalies1.push_back(150.f + 20 * i);
    }
    for (int i = 0; i < DecisionCalibration::kMinClassImages - 1; i++)
        samples.push_back({ 2, false, { 1000.f, 0.f } });
    for (const DecisionCalibration::Sample& s : samples)
        (s.anomalous ? pooledAnomalies : pooledNormal).push_back(s.score[0]);
    Mat features(0, 2, CV_32F), ids(0, 1, CV_32S);
    for (int c = 0; c < 3; c++)
    {
        features.push_back(Mat(1, 2, CV_32F, Scalar(c, -c)));
        ids.push_back(c);
    }
    const DecisionCalibration calibration(samples, true, ClassCentroids(features, ids), "test");
    const int P = DecisionCalibration::PATCHCORE, H = DecisionCalibration::DMAD;
    ASSERT_TRUE(calibration.valid(P) && calibration.valid(H));
    EXPECT_DOUBLE_EQ(quantileOf(normal0, 0.99), calibration.forClass(P, 0).threshold());
    EXPECT_DOUBLE_EQ(ScoreCalibration(normal1, anomalies1).threshold(), calibration.forClass(P, 1).threshold());
    const double pooled = ScoreCalibration(pooledNormal, pooledAnomalies).threshold();
    EXPECT_DOUBLE_EQ(pooled, calibration.forClass(P, 2).threshold());  // too few: pooled
    EXPECT_DOUBLE_EQ(pooled, calibration.forClass(P, -1).threshold());
    EXPECT_DOUBLE_EQ(pooled, calibration.forClass(P, 7).threshold());  // unknown class
    EXPECT_DOUBLE_EQ(quantileOf(normal0, 0.99) + 81, calibration.forClass(H, 0).threshold());  // 81..100

    FileStorage in = writtenAndRead(calibration);
    DecisionCalibration loaded;
    loaded.read(in["node"], true, 2, "test");
    for (int scorer : { P, H })
        for (int c : { -1, 0, 1, 2 })
        {
            EXPECT_EQ(calibration.forClass(scorer, c).threshold(), loaded.forClass(scorer, c).threshold());
            EXPECT_EQ(calibration.forClass(scorer, c).normalize(3.0), loaded.forClass(scorer, c).normalize(3.0));
        }
    // a model of the first calibrated format: one pooled calibration per scorer
    FileStorage old("%YAML:1.0\ncalibration:\n  patchcore: {threshold: 2.5, normal_median: 1.0, normal_images: 4, "
                    "anomalous_images: 0}\n", FileStorage::READ | FileStorage::MEMORY | FileStorage::FORMAT_YAML);
    DecisionCalibration first;
    first.read(old["calibration"], false, 2, "test");
    EXPECT_TRUE(first.valid(P));
    EXPECT_FALSE(first.valid(H));
    EXPECT_EQ(2.5, first.forClass(P, 0).threshold());
    EXPECT_EQ(-1, first.classes().identify(Mat::zeros(3, 2, CV_32F)));
}

/** Brute force: each normal training image's PatchCore score with its own entries left out of the
    normal bank (the bank names each entry's image), from its features computed here. */
std::vector<float> leaveOneOutScores(const DMAD& model, const std::vector<Mat>& images)
{
    const Ptr<MemoryBank> bank = model.getMemoryBanks()->getNormalBank();
    const Mat rows = bank->getFeatures(), ids = bank->getImageIds();
    std::vector<float> scores;
    for (int i = 0; i < (int)images.size(); i++)
    {
        Mat f;
        Size grid;
        model.getFeatureExtractor()->extract(images[i], f, grid);
        f *= model.getFeatureScale();
        double imageScore = 0;
        for (int p = 0; p < f.rows; p++)
        {
            double nearest = DBL_MAX;
            for (int j = 0; j < rows.rows; j++)
                if (ids.at<int>(j) != i)
                    nearest = std::min(nearest, cv::norm(f.row(p), rows.row(j), NORM_L2SQR));
            imageScore = std::max(imageScore, std::sqrt(nearest));
        }
        scores.push_back((float)imageScore);
    }
    return scores;
}

//! Two classes of micro images: smooth random ones, and darker, noisier ones.
struct TwoClassMicro
{
    std::vector<Mat> normal;
    std::vector<int> classIds;
    TwoClassMicro()
    {
        const MicroDataset bright(10);
        RNG rng(9);
        normal = bright.normal;
        classIds.assign(10, 0);
        for (int i = 0; i < 10; i++)
        {
            Mat img(40, 40, CV_8UC3);
            rng.fill(img, RNG::UNIFORM, 0, 90);
            normal.push_back(img);
            classIds.push_back(1);
        }
    }
};

TEST(DMAD_ScoreCalibration, thresholds_are_those_of_leave_one_image_out_scores_per_class)
{
    const TwoClassMicro data;
    DMAD::Params p = microParams();
    p.calibrationImages = 64;  // every image of both classes
    static_assert(DecisionCalibration::kMinClassImages <= 10, "classes of 10 images have thresholds of their own");
    Ptr<DMAD> model = DMAD::create(p);
    model->train(data.normal, noArray(), noArray(), data.classIds);
    model->setScorer(DMAD::SCORER_PATCHCORE);
    const std::vector<float> scores = leaveOneOutScores(*model, data.normal);
    const std::vector<float> class0(scores.begin(), scores.begin() + 10), class1(scores.begin() + 10, scores.end());
    const double t0 = model->getDecisionThreshold(0), t1 = model->getDecisionThreshold(1);
    EXPECT_NEAR(quantileOf(class0, 0.99), t0, 1e-4 * t0);
    EXPECT_NEAR(quantileOf(class1, 0.99), t1, 1e-4 * t1);
    EXPECT_NEAR(quantileOf(scores, 0.99), model->getDecisionThreshold(-1), 1e-4 * t1);
    EXPECT_GT(std::abs(t0 - t1), 0.1 * std::max(t0, t1)) << "the classes' scales should differ";
    EXPECT_FLOAT_EQ(0.5f, model->normalizeScore((float)t1, 1));
    // the leave-one-out scores are those of images the bank has not seen: above the in-bank ones
    for (int i = 0; i < 20; i++)
    {
        float inBank;
        model->predict(data.normal[i], inBank);
        EXPECT_LE(inBank, scores[i] + 1e-5f) << "image " << i;
    }

    // inspect(): the image's class, its threshold and decision, predict()'s score and map
    TempDir dir;
    model->save(dir.path + "/m.yml.gz");
    Ptr<DMAD> loaded = DMAD::load(dir.path + "/m.yml.gz");
    for (int scorer : { DMAD::SCORER_PATCHCORE, DMAD::SCORER_DMAD })
    {
        model->setScorer(scorer);
        loaded->setScorer(scorer);
        for (int i = 0; i < 20; i++)
        {
            Mat map, predictedMap;
            float predicted;
            const DMAD::Inspection r = model->inspect(data.normal[i], map);
            model->predict(data.normal[i], predicted, predictedMap);
            EXPECT_EQ(data.classIds[i], r.classId) << "image " << i;
            EXPECT_EQ(predicted, r.score);
            EXPECT_EQ(0, cv::norm(map, predictedMap, NORM_INF));
            EXPECT_EQ(model->getDecisionThreshold(r.classId), r.threshold);
            EXPECT_EQ(model->normalizeScore(r.score, r.classId), r.normalizedScore);
            EXPECT_EQ(r.score > r.threshold, r.anomalous);
            const DMAD::Inspection again = loaded->inspect(data.normal[i]);
            EXPECT_EQ(r.classId, again.classId);
            EXPECT_EQ(r.threshold, again.threshold);
            EXPECT_EQ(r.normalizedScore, again.normalizedScore);
        }
    }

    // classes below kMinClassImages calibration images share the pooled threshold
    p.calibrationImages = 4;
    Ptr<DMAD> few = DMAD::create(p);
    few->train(data.normal, noArray(), noArray(), data.classIds);
    ASSERT_TRUE(std::isfinite(few->getDecisionThreshold()));
    EXPECT_EQ(few->getDecisionThreshold(-1), few->getDecisionThreshold(0));
    EXPECT_EQ(few->getDecisionThreshold(-1), few->getDecisionThreshold(1));
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
    EXPECT_NEAR(0.5, model->normalizeScore((float)threshold), 1e-5);  // the float cast of the threshold
    EXPECT_EQ(-1, model->inspect(data.normal[0]).classId);  // one class
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

    // no calibration: no threshold, and normalizeScore says why
    DMAD::Params p = microParams();
    p.calibrationImages = 0;
    Ptr<DMAD> uncalibrated = DMAD::create(p);
    uncalibrated->train(data.normal);
    EXPECT_TRUE(std::isnan(uncalibrated->getDecisionThreshold()));
    EXPECT_CV_ERROR(uncalibrated->normalizeScore(0.f), "no calibrated threshold");
    const DMAD::Inspection r = uncalibrated->inspect(data.normal[0]);
    EXPECT_TRUE(std::isnan(r.threshold) && std::isnan(r.normalizedScore));
    EXPECT_FALSE(r.anomalous);
    p.calibrationFraction = 0.6;
    EXPECT_CV_ERROR(DMAD::create(p)->train(data.normal), "calibrationFraction 0.6 must be in [0, 0.5]");
    p.calibrationFraction = 0;
    p.calibrationImages = -1;
    EXPECT_CV_ERROR(DMAD::create(p), "calibrationImages -1 must be >= 0");
}

}} // namespace opencv_test

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The score that starts from the distance (DMAD::SCORE_DISTANCE_AND_HEAD): ScoreFusion's
// standardisations against values computed here, per class and pooled, its file form, and trained
// models whose fused patch scores are exactly the distance and head scores of twin models
// (PatchCore scorer, SCORE_HEAD) combined by an independent fit.

#include "test_precomp.hpp"
#include "test_tiny_model.hpp"
#include "scoring/score_fusion.hpp"

namespace opencv_test { namespace {

using cv::dmad::ScoreFusion;

double standardised(const std::vector<float>& normal, double x)
{
    const double median = quantileOf(normal, 0.5);
    return (x - median) / (quantileOf(normal, ScoreFusion::kSpreadQuantile) - median);
}

//! The fusion written as the model file's score_fusion node (YAML text).
String fileFormOf(const ScoreFusion& f)
{
    return writtenAsNode(f, "score_fusion");
}

ScoreFusion readBack(const String& text)
{
    FileStorage in(text, FileStorage::READ | FileStorage::MEMORY);
    ScoreFusion back;
    back.read(in["score_fusion"], "test");
    return back;
}

Mat column(const std::vector<float>& v) { return Mat(v, true); }
Mat column(const std::vector<int>& v) { return Mat(v, true); }

TEST(DMAD_ScoreFusion, standardises_each_part_by_its_normal_median_and_upper_tail)
{
    RNG rng(3);
    std::vector<float> d, h;
    for (int i = 0; i < 1000; i++)
    {
        d.push_back((float)std::abs(rng.gaussian(2.0)) + 1.f);
        h.push_back((float)rng.uniform(-3.0, 1.0));
    }
    const double w = 0.5;
    const ScoreFusion f(d, h, std::vector<int>(d.size(), -1), w);
    ASSERT_TRUE(f.valid());
    const std::vector<float> qd = { 0.5f, 2.f, 9.f }, qh = { -2.f, 0.f, 3.f };
    Mat out;
    f.combine(column(qd), column(qh), column(std::vector<int>{ -1, 0, 7 }), out);
    ASSERT_EQ(3, out.rows);
    for (int i = 0; i < 3; i++)
        EXPECT_NEAR(standardised(d, qd[i]) + w * standardised(h, qh[i]), out.at<float>(i), 1e-5) << i;
}

TEST(DMAD_ScoreFusion, the_head_adds_up_to_its_limit)
{
    RNG rng(6);
    std::vector<float> d, h;
    for (int i = 0; i < 1000; i++)
    {
        d.push_back((float)rng.uniform(1.0, 3.0));
        h.push_back((float)rng.uniform(-1.0, 1.0));
    }
    const double w = 2.0, limit = 3.0;
    ScoreFusion f(d, h, std::vector<int>(d.size(), -1), w);
    EXPECT_EQ(0.0, f.headLimit());
    f.setHeadLimit(limit);
    // head votes (w times the standardised score) below and far beyond the limit: about -2, 0, 1
    // and 100
    const std::vector<float> qd = { 2.f, 2.5f, 2.5f, 2.5f, 9.f }, qh = { -1.f, 0.f, 0.5f, 50.f, 50.f };
    const std::vector<int> qc(qd.size(), -1);
    Mat out;
    f.combine(column(qd), column(qh), column(qc), out);
    for (size_t i = 0; i < qd.size(); i++)
        EXPECT_NEAR(standardised(d, qd[i]) + std::min(w * standardised(h, qh[i]), limit), out.at<float>((int)i), 1e-5)
            << i;
    // beyond the limit the distance alone ranks: patches 1 and 3 differ only in the head, by far
    EXPECT_GT(w * standardised(h, qh[3]), 10 * limit);
    EXPECT_NEAR(out.at<float>(3) - out.at<float>(1), limit - w * standardised(h, qh[1]), 1e-5);
    EXPECT_GT(out.at<float>(4), out.at<float>(3));

    const ScoreFusion back = readBack(fileFormOf(f));
    EXPECT_EQ(limit, back.headLimit());
    Mat again;
    back.combine(column(qd), column(qh), column(qc), again);
    EXPECT_EQ(0, cv::norm(out, again, NORM_INF));
    // fusions fitted before the limit have none, and a damaged limit is refused
    const ScoreFusion unlimited(d, h, std::vector<int>(d.size(), -1), w);
    EXPECT_EQ(String::npos, fileFormOf(unlimited).find("head_limit"));
    EXPECT_EQ(0.0, readBack(fileFormOf(unlimited)).headLimit());
    for (const char* damage : { "head_limit: -1.", "head_limit: 1.e+300", "head_limit: .nan" })
    {
        SCOPED_TRACE(damage);
        String bad = fileFormOf(f);
        const size_t at = bad.find("head_limit:");
        ASSERT_NE(String::npos, at);
        bad.replace(at, bad.find('\n', at) - at, damage);
        FileStorage damaged(bad, FileStorage::READ | FileStorage::MEMORY);
        ScoreFusion g;
        EXPECT_CV_ERROR(g.read(damaged["score_fusion"], "test"), "invalid head_limit");
    }
    EXPECT_CV_ERROR(f.setHeadLimit(-0.5), "head limit");
    EXPECT_CV_ERROR(f.setHeadLimit(std::numeric_limits<double>::quiet_NaN()), "head limit");
}

TEST(DMAD_ScoreFusion, each_class_with_enough_patches_has_its_own_standardisation)
{
    // class 0: distances around 1, class 1: around 10 (other scales); class 2 too small: pooled
    RNG rng(4);
    std::vector<float> d, h, d0, h0, d1, h1;
    std::vector<int> ids;
    auto add = [&](int c, float dist, float head) {
        d.push_back(dist);
        h.push_back(head);
        ids.push_back(c);
        if (c == 0) { d0.push_back(dist); h0.push_back(head); }
        if (c == 1) { d1.push_back(dist); h1.push_back(head); }
    };
    for (int i = 0; i < ScoreFusion::kMinClassPatches; i++)
    {
        add(0, (float)rng.uniform(0.5, 1.5), (float)rng.uniform(-1.0, 0.0));
        add(1, (float)rng.uniform(5.0, 15.0), (float)rng.uniform(-4.0, 2.0));
    }
    for (int i = 0; i < ScoreFusion::kMinClassPatches - 1; i++)
        add(2, (float)rng.uniform(0.0, 30.0), (float)rng.uniform(-9.0, 9.0));
    const double w = 2.0;
    const ScoreFusion f(d, h, ids, w);
    Mat out;
    f.combine(column(std::vector<float>{ 3.f, 3.f, 3.f, 3.f }), column(std::vector<float>{ 0.5f, 0.5f, 0.5f, 0.5f }),
              column(std::vector<int>{ 0, 1, 2, -1 }), out);
    EXPECT_NEAR(standardised(d0, 3.0) + w * standardised(h0, 0.5), out.at<float>(0), 1e-5);
    EXPECT_NEAR(standardised(d1, 3.0) + w * standardised(h1, 0.5), out.at<float>(1), 1e-5);
    const float pooled = (float)(standardised(d, 3.0) + w * standardised(h, 0.5));
    EXPECT_NEAR(pooled, out.at<float>(2), 1e-5);  // too few patches of its own
    EXPECT_NEAR(pooled, out.at<float>(3), 1e-5);  // no class
    // a patch near class 0's entries standardises far higher than the same values near class 1's
    EXPECT_GT(out.at<float>(0), out.at<float>(1) + 1);
}

TEST(DMAD_ScoreFusion, file_round_trip_and_damaged_nodes)
{
    std::vector<float> d, h;
    std::vector<int> ids;
    for (int i = 0; i < 2 * ScoreFusion::kMinClassPatches; i++)
    {
        d.push_back((float)(i % 97) * 0.1f);
        h.push_back((float)((i * 31) % 53) - 20.f);
        ids.push_back(i % 2 ? 5 : -1);
    }
    const ScoreFusion f(d, h, ids, 0.75);
    const String text = fileFormOf(f);
    const ScoreFusion back = readBack(text);
    ASSERT_TRUE(back.valid());
    EXPECT_EQ(0.75, back.headWeight());
    const Mat qd = column(std::vector<float>{ 0.f, 4.f, 12.f }), qh = column(std::vector<float>{ -5.f, 0.f, 40.f });
    const Mat qc = column(std::vector<int>{ 5, -1, 5 });
    Mat a, b;
    f.combine(qd, qh, qc, a);
    back.combine(qd, qh, qc, b);
    EXPECT_EQ(0, cv::norm(a, b, NORM_INF));

    EXPECT_EQ(ScoreFusion::CLASS_OF_IMAGE, back.classSource());
    // models fitted before CLASS_OF_IMAGE have no class_source: they keep their nearest entries' classes
    String old = text;
    const size_t sourceKey = old.find("class_source");
    ASSERT_NE(String::npos, sourceKey);
    const size_t sourceLine = old.rfind('\n', sourceKey) + 1;
    old.erase(sourceLine, old.find('\n', sourceKey) + 1 - sourceLine);
    EXPECT_EQ(ScoreFusion::CLASS_OF_NEAREST_ENTRY, readBack(old).classSource());
    const ScoreFusion nearest(d, h, ids, 0.75, ScoreFusion::CLASS_OF_NEAREST_ENTRY);
    EXPECT_EQ(ScoreFusion::CLASS_OF_NEAREST_ENTRY, readBack(fileFormOf(nearest)).classSource());
    String unknown = text;
    unknown.replace(unknown.find("image", sourceLine), 5, "pixel");
    {
        FileStorage damaged(unknown, FileStorage::READ | FileStorage::MEMORY);
        ScoreFusion g;
        EXPECT_CV_ERROR(g.read(damaged["score_fusion"], "test"), "unknown class_source 'pixel'");
    }

    ScoreFusion absent;
    absent.read(FileNode(), "test");
    EXPECT_FALSE(absent.valid());
    // a zero spread or a negative weight in a file is refused, not used
    for (const char* damage : { "distance_spread: 0.", "head_weight: -1." })
    {
        String bad = text;
        const String key = String(damage).substr(0, String(damage).find(':') + 1);
        const size_t at = bad.find(key);
        ASSERT_NE(String::npos, at) << key;
        bad.replace(at, bad.find('\n', at) - at, damage);
        FileStorage damaged(bad, FileStorage::READ | FileStorage::MEMORY);
        ScoreFusion g;
        EXPECT_CV_ERROR(g.read(damaged["score_fusion"], "test"), "invalid");
    }
    EXPECT_CV_ERROR(ScoreFusion(d, h, ids, -0.5), "head weight");
    EXPECT_CV_ERROR(ScoreFusion(d, h, ids, 1e4), "head weight");
}

TEST(DMAD_ScoreFusion, a_class_with_a_head_weight_of_its_own)
{
    RNG rng(5);
    std::vector<float> d, h, d1, h1;
    std::vector<int> ids;
    for (int i = 0; i < 2 * ScoreFusion::kMinClassPatches; i++)
    {
        const int c = i % 2;
        d.push_back((float)rng.uniform(1.0, 3.0) * (c + 1));
        h.push_back((float)rng.uniform(-2.0, 1.0));
        ids.push_back(c);
        if (c == 1) { d1.push_back(d.back()); h1.push_back(h.back()); }
    }
    ScoreFusion f(d, h, ids, 0.5);
    f.setClassHeadWeight(1, 3.0);
    f.setClassHeadWeight(-1, 0.0);
    EXPECT_EQ(0.5, f.headWeight());
    EXPECT_EQ(0.5, f.headWeight(0));
    EXPECT_EQ(3.0, f.headWeight(1));
    EXPECT_EQ(0.0, f.headWeight(-1));
    EXPECT_EQ(0.5, f.headWeight(4));
    const Mat qd = column(std::vector<float>{ 2.5f, 2.5f, 2.5f, 2.5f });
    const Mat qh = column(std::vector<float>{ 0.75f, 0.75f, 0.75f, 0.75f });
    const Mat qc = column(std::vector<int>{ 1, 0, -1, 4 });
    Mat out;
    f.combine(qd, qh, qc, out);
    EXPECT_NEAR(standardised(d1, 2.5) + 3.0 * standardised(h1, 0.75), out.at<float>(0), 1e-5);
    // class -1 and 4 have no standardisation of their own: the pooled one, with their weights
    EXPECT_NEAR(standardised(d, 2.5), out.at<float>(2), 1e-5);
    EXPECT_NEAR(standardised(d, 2.5) + 0.5 * standardised(h, 0.75), out.at<float>(3), 1e-5);
    // recentring keeps the weights
    const ScoreFusion moved = f.withHeadRecentred(h, h, ids);
    EXPECT_EQ(3.0, moved.headWeight(1));

    const String text = fileFormOf(f);
    const ScoreFusion back = readBack(text);
    Mat outBack;
    back.combine(qd, qh, qc, outBack);
    EXPECT_EQ(0, cv::norm(out, outBack, NORM_INF));
    EXPECT_EQ(3.0, back.headWeight(1));
    // a damaged weight or class id is refused
    const std::pair<String, String> damages[] = { { "head_weight: 3.", "head_weight: -3." },
                                                  { "class_id: -1", "class_id: -2" } };
    for (const std::pair<String, String>& damage : damages)
    {
        String bad = text;
        const size_t at = bad.rfind(damage.first);
        ASSERT_NE(String::npos, at) << damage.first;
        bad.replace(at, damage.first.size(), damage.second);
        FileStorage damaged(bad, FileStorage::READ | FileStorage::MEMORY);
        ScoreFusion g;
        EXPECT_CV_ERROR(g.read(damaged["score_fusion"], "test"), "invalid or repeated class head weight");
    }
    EXPECT_CV_ERROR(f.setClassHeadWeight(0, -1.0), "must be in");
    EXPECT_CV_ERROR(f.setClassHeadWeight(-2, 1.0), "class id");
}

//! `model`'s patch scores by the distance alone (its PatchCore scorer); the scorer is restored.
Mat distanceScoresOf(DMAD& model, const Mat& image)
{
    Mat d;
    model.setScorer(DMAD::SCORER_PATCHCORE);
    model.computePatchScores(image, d);
    model.setScorer(DMAD::SCORER_DMAD);
    return d;
}

//! A model of `p` trained on `data`, its anomalies annotated.
Ptr<DMAD> trainedOn(const MicroDataset& data, const DMAD::Params& p)
{
    Ptr<DMAD> model = DMAD::create(p);
    model->train(data.normal, data.anomalous, data.masks);
    return model;
}

//! A twin of the model `p` trains on `data` (same seed) that scores patches by its head alone.
Ptr<DMAD> headOnlyTwin(const MicroDataset& data, DMAD::Params p)
{
    p.scoreMode = DMAD::SCORE_HEAD;
    return trainedOn(data, p);
}

/** A trained model's fused patch scores against its parts: twins trained with the same seed score
    patches by the distance (PatchCore scorer) and by the head alone (SCORE_HEAD); the fused scores
    must be those combined with the standardisation the model fitted, which, with one class, makes
    the fused score an exact affine function of the two. */
TEST(DMAD_ScoreFusion, model_scores_are_the_standardised_distance_plus_weighted_head)
{
    const MicroDataset data;
    DMAD::Params p = microParams();
    p.calibrationImages = 0;
    const Ptr<DMAD> headOnly = headOnlyTwin(data, p);
    p.scoreMode = DMAD::SCORE_DISTANCE_AND_HEAD;
    p.headLimit = 0;  // affine in the head: the limit has a test of its own
    // the micro dataset's one class has annotated anomalies: annotatedHeadWeight is its weight
    p.headWeight = 7.0;
    p.annotatedHeadWeight = 0.5;
    const Ptr<DMAD> fused = trainedOn(data, p);
    p.annotatedHeadWeight = 2.0;
    const Ptr<DMAD> fused2 = trainedOn(data, p);
    // headWeight serves only the classes without annotations: none here
    p.headWeight = 0.0;
    p.annotatedHeadWeight = 0.5;
    const Ptr<DMAD> fused3 = trainedOn(data, p);

    for (const Mat& image : data.testImages)
    {
        Mat h, f, f2, d;
        headOnly->computePatchScores(image, h);
        fused->computePatchScores(image, f);
        fused2->computePatchScores(image, f2);
        Mat f3;
        fused3->computePatchScores(image, f3);
        EXPECT_EQ(0, cv::norm(f, f3, NORM_INF));
        d = distanceScoresOf(*fused, image);
        ASSERT_EQ(h.size(), f.size());
        // f = a + d / sd + 0.5 h / sh and f2 = a' + d / sd + 2 h / sh, so f2 - f = c + 1.5 h / sh:
        // (f2 - f) is affine in h alone, and (4 f - f2) = c' + 3 d / sd affine in d alone
        const Mat hf = h.reshape(1, (int)h.total()), df = d.reshape(1, (int)d.total());
        const Mat diff = Mat(f2 - f).reshape(1, (int)f.total()), mix = Mat(4 * f - f2).reshape(1, (int)f.total());
        const std::pair<Mat, Mat> pairs[] = { { hf, diff }, { df, mix } };
        for (const std::pair<Mat, Mat>& pair : pairs)
        {
            // least squares line through (x, y); its residual must be float rounding only
            Mat A(pair.first.rows, 2, CV_64F), y, coef;
            for (int i = 0; i < A.rows; i++)
            {
                A.at<double>(i, 0) = pair.first.template at<float>(i);
                A.at<double>(i, 1) = 1.0;
            }
            pair.second.convertTo(y, CV_64F);
            ASSERT_TRUE(cv::solve(A, y, coef, DECOMP_SVD));
            double ySpread, yMax;
            minMaxLoc(y, &ySpread, &yMax);
            ySpread = yMax - ySpread;
            EXPECT_LT(cv::norm(Mat(A * coef), y, NORM_INF), 1e-4 * std::max(1.0, ySpread));
            EXPECT_GT(coef.at<double>(0), 0);  // both parts raise the score
        }
    }
}

/** A trained model's head limit: twins with the same seed give each patch's distance (PatchCore
    scorer) and head score (SCORE_HEAD); standardised with the saved file's numbers, the fused score
    must be d' + min(w h', L), with the limit binding on some patches and not on others. */
TEST(DMAD_ScoreFusion, a_trained_model_limits_the_head_as_its_file_says)
{
    const MicroDataset data;
    DMAD::Params p = microParams();
    p.calibrationImages = 0;
    const Ptr<DMAD> headOnly = headOnlyTwin(data, p);
    p.scoreMode = DMAD::SCORE_DISTANCE_AND_HEAD;
    p.headLimit = 1.0;
    const Ptr<DMAD> trained = trainedOn(data, p);
    TempDir dir;
    const String file = dir.path + "/limited.yml.gz";
    trained->save(file);
    Ptr<DMAD> fused = DMAD::load(file);

    FileStorage fs(file, FileStorage::READ);
    const FileNode node = fs["opencv_dmad_DMAD"]["score_fusion"];
    ASSERT_EQ(p.headLimit, (double)node["head_limit"]);
    // one class with annotated anomalies: the pooled standardisation (too few patches for a
    // class's own) and annotatedHeadWeight, unless the file holds the class's own
    FileNode st = node["pooled"];
    for (const FileNode& c : node["classes"])
        st = c;
    const double w = p.annotatedHeadWeight;
    int limited = 0, free = 0;
    for (const Mat& image : data.testImages)
    {
        Mat f, h, d;
        fused->computePatchScores(image, f);
        headOnly->computePatchScores(image, h);
        d = distanceScoresOf(*fused, image);
        for (int i = 0; i < (int)f.total(); i++)
        {
            const double dz = (d.ptr<float>()[i] - (double)st["distance_median"]) / (double)st["distance_spread"];
            const double hz = (h.ptr<float>()[i] - (double)st["head_median"]) / (double)st["head_spread"];
            (w * hz > p.headLimit ? limited : free)++;
            EXPECT_NEAR(dz + std::min(w * hz, p.headLimit), f.ptr<float>()[i], 1e-4 * std::max(1.0, std::abs(dz + w * hz)))
                << "patch " << i;
        }
    }
    EXPECT_GT(limited, 0) << "the limit never binds: the test shows nothing";
    EXPECT_GT(free, 0);
}

/** A unified model standardises every patch of an image as the image's class (the one inspect()
    reports), even where a patch's nearest normal entry is of the other class. Class 1's images are
    class 0's kind with the left half darkened, so their right halves find class 0's entries. The
    fused scores of one image must then be one affine function of the twins' distance and head
    scores, with the slopes 1 / spread_d and w / spread_h that the saved file gives that class. */
TEST(DMAD_ScoreFusion, patches_are_standardised_as_their_image_class)
{
    RNG rng(11);
    auto image = [&rng](int classId) {
        Mat img(40, 40, CV_8UC3);
        rng.fill(img, RNG::UNIFORM, 0, 256);
        GaussianBlur(img, img, Size(5, 5), 1.5);
        if (classId == 1)
            img.colRange(0, 20) *= 0.3;
        return img;
    };
    std::vector<Mat> normal, test;
    std::vector<int> classIds, testClasses;
    for (int i = 0; i < 24; i++)
    {
        normal.push_back(image(i % 2));
        classIds.push_back(i % 2);
    }
    for (int i = 0; i < 4; i++)
    {
        test.push_back(image(i % 2));
        testClasses.push_back(i % 2);
    }
    DMAD::Params p = microParams();
    p.calibrationImages = 0;  // the classes must be saved without thresholds too
    p.scoreMode = DMAD::SCORE_HEAD;
    Ptr<DMAD> headOnly = DMAD::create(p);
    headOnly->train(normal, noArray(), noArray(), classIds);
    p.scoreMode = DMAD::SCORE_DISTANCE_AND_HEAD;
    p.headLimit = 0;  // affine in the head: the limit has a test of its own
    Ptr<DMAD> trained = DMAD::create(p);
    trained->train(normal, noArray(), noArray(), classIds);
    TempDir dir;
    const String file = dir.path + "/unified.yml.gz";
    trained->save(file);
    Ptr<DMAD> fused = DMAD::load(file);

    // the slopes each class's standardisation gives, from the file
    FileStorage fs(file, FileStorage::READ);
    const FileNode fusionNode = fs["opencv_dmad_DMAD"]["score_fusion"];
    ASSERT_EQ("image", (String)fusionNode["class_source"]);
    std::map<int, std::pair<double, double>> slopes;  // class -> (1 / spread_d, w / spread_h)
    for (const FileNode& c : fusionNode["classes"])
        slopes[(int)c["class_id"]] = { 1.0 / (double)c["distance_spread"], p.headWeight / (double)c["head_spread"] };
    ASSERT_EQ(2u, slopes.size());
    ASSERT_GT(std::abs(slopes[0].first / slopes[1].first - 1), 0.05) << "the classes' scales must differ";

    const Ptr<MemoryBank> bank = fused->getMemoryBanks()->getNormalBank();
    int patchesNearTheOtherClass = 0;
    for (size_t i = 0; i < test.size(); i++)
    {
        ASSERT_EQ(testClasses[i], fused->inspect(test[i]).classId) << "image " << i;
        Mat f, h, d, features, dist, nearest;
        fused->computePatchScores(test[i], f);
        headOnly->computePatchScores(test[i], h);
        d = distanceScoresOf(*fused, test[i]);
        Size grid;
        fused->getFeatureExtractor()->extract(test[i], features, grid);
        bank->search(features * fused->getFeatureScale(), 1, dist, nearest);
        for (int r = 0; r < nearest.rows; r++)
            patchesNearTheOtherClass += bank->getClassIds().at<int>(nearest.at<int>(r)) != testClasses[i];

        // least squares f = b d + c h + a over the image's patches
        const int n = (int)f.total();
        Mat A(n, 3, CV_64F), y, coef;
        for (int r = 0; r < n; r++)
        {
            A.at<double>(r, 0) = d.ptr<float>()[r];
            A.at<double>(r, 1) = h.ptr<float>()[r];
            A.at<double>(r, 2) = 1.0;
        }
        f.reshape(1, n).convertTo(y, CV_64F);
        ASSERT_TRUE(cv::solve(A, y, coef, DECOMP_SVD));
        double lo, hi;
        minMaxLoc(y, &lo, &hi);
        EXPECT_LT(cv::norm(Mat(A * coef), y, NORM_INF), 1e-4 * std::max(1.0, hi - lo)) << "image " << i;
        EXPECT_NEAR(slopes[testClasses[i]].first, coef.at<double>(0), 1e-3 * slopes[testClasses[i]].first);
        EXPECT_NEAR(slopes[testClasses[i]].second, coef.at<double>(1), 1e-3 * slopes[testClasses[i]].second);
    }
    EXPECT_GT(patchesNearTheOtherClass, 20) << "no patch finds the other class: the test shows nothing";
}

TEST(DMAD_ScoreFusion, survives_save_and_load)
{
    const MicroDataset data;
    DMAD::Params p = microParams();
    p.calibrationImages = 0;
    p.training.balanceClasses = !DMAD::TrainingParams().balanceClasses;  // not the default: it must be read back
    Ptr<DMAD> model = DMAD::create(p);
    model->train(data.normal, data.anomalous, data.masks);
    ASSERT_EQ(DMAD::SCORE_DISTANCE_AND_HEAD, model->getParams().scoreMode);
    const String file = cv::tempfile(".yml.gz");
    model->save(file);
    Ptr<DMAD> back = DMAD::load(file);
    EXPECT_EQ(DMAD::SCORE_DISTANCE_AND_HEAD, back->getParams().scoreMode);
    EXPECT_EQ(p.headWeight, back->getParams().headWeight);
    EXPECT_EQ(p.annotatedHeadWeight, back->getParams().annotatedHeadWeight);
    EXPECT_EQ(p.headLimit, back->getParams().headLimit);
    EXPECT_EQ(p.training.balanceClasses, back->getParams().training.balanceClasses);
    for (const Mat& image : data.testImages)
    {
        Mat a, b;
        model->computePatchScores(image, a);
        back->computePatchScores(image, b);
        EXPECT_EQ(0, cv::norm(a, b, NORM_INF));
    }
    std::remove(file.c_str());
}

TEST(DMAD_ScoreFusion, bad_parameters)
{
    DMAD::Params p = microParams();
    p.scoreMode = 2;
    EXPECT_CV_ERROR(DMAD::create(p), "unknown score mode 2");
    p = microParams();
    p.headWeight = -0.1;
    EXPECT_CV_ERROR(DMAD::create(p), "headWeight");
    p.headWeight = std::numeric_limits<double>::infinity();
    EXPECT_CV_ERROR(DMAD::create(p), "headWeight");
    p.headWeight = std::numeric_limits<double>::quiet_NaN();
    EXPECT_CV_ERROR(DMAD::create(p), "headWeight");
    p = microParams();
    p.annotatedHeadWeight = 1001;
    EXPECT_CV_ERROR(DMAD::create(p), "annotatedHeadWeight");
    p = microParams();
    p.headLimit = -1;
    EXPECT_CV_ERROR(DMAD::create(p), "headLimit");
    p.headLimit = std::numeric_limits<double>::quiet_NaN();
    EXPECT_CV_ERROR(DMAD::create(p), "headLimit");
}

}} // namespace

namespace opencv_test { namespace {

/** DMAD::update() on a saved and reloaded unsupervised model: the annotated patches join the
    abnormal bank, the annotated defect's image scores higher relative to normal images than before,
    the normal bank entries keep their standardised scores (the head's standardisation moves with
    the head), the result survives save and load, and bad input changes nothing. */
TEST(DMAD_Update, adds_annotated_anomalies_to_a_reloaded_model)
{
    const MicroDataset data(10);
    DMAD::Params p = microParams();
    p.calibrationImages = 0;
    p.training.updateEpochs = 10;
    Ptr<DMAD> trained = DMAD::create(p);
    trained->train(data.normal);
    TempDir dir;
    const String file = dir.path + "/unsupervised.yml.gz";
    trained->save(file);
    Ptr<DMAD> model = DMAD::load(file);
    const int abnormalBefore = model->getMemoryBanks()->getAbnormalBank()->size();
    const std::vector<float> before = scoresOf(*model, data.testImages);

    // bad input first: nothing changes
    EXPECT_CV_ERROR(model->update(data.anomalous, std::vector<Mat>{ data.masks[0] }), "2 anomalous images but 1 masks");
    EXPECT_CV_ERROR(model->update(data.anomalous, std::vector<Mat>{ Mat::zeros(data.masks[0].size(), CV_8U),
                                                                     data.masks[1] }),
                    "marks no defect pixel");
    EXPECT_CV_ERROR(model->update(data.anomalous, data.masks, std::vector<int>{ 0 }), "class ids");
    EXPECT_EQ(abnormalBefore, model->getMemoryBanks()->getAbnormalBank()->size());
    EXPECT_EQ(before, scoresOf(*model, data.testImages));

    model->update(data.anomalous, data.masks);
    int maskedCells = 0;
    for (const Mat& m : data.masks)
        maskedCells += (int)maskedPatchIndices(m, model->getFeatureExtractor()->gridSize()).size();
    EXPECT_EQ(abnormalBefore + maskedCells, model->getMemoryBanks()->getAbnormalBank()->size());
    const std::vector<float> after = scoresOf(*model, data.testImages);
    // test image 1 is the first annotated anomaly; images 0 and 2 are normal
    const double marginBefore = before[1] - std::max(before[0], before[2]);
    const double marginAfter = after[1] - std::max(after[0], after[2]);
    EXPECT_GT(marginAfter, marginBefore) << "the annotated defect did not gain on the normal images";

    const String updatedFile = dir.path + "/updated.yml.gz";
    model->save(updatedFile);
    EXPECT_EQ(after, scoresOf(*DMAD::load(updatedFile), data.testImages));

    // a PatchCore-only model has no head to refine
    DMAD::Params pc = microParams();
    pc.scorer = DMAD::SCORER_PATCHCORE;
    pc.calibrationImages = 0;
    Ptr<DMAD> patchcore = DMAD::create(pc);
    patchcore->train(data.normal);
    EXPECT_CV_ERROR(patchcore->update(data.anomalous, data.masks), "scoring head");
}

/** update() refines on the normal training patches the model kept (TrainingParams::updatePatches):
    the file holds that many, drawn from the training images, and the classes it updates then take
    annotatedHeadWeight; a model that kept none refines on its bank entries and keeps headWeight. */
TEST(DMAD_Update, refines_on_the_kept_normal_patches_and_weighs_the_updated_classes)
{
    const MicroDataset data(10);
    TempDir dir;
    auto updatedScores = [&](int updatePatches, double annotatedHeadWeight, std::vector<float>& trainedScores) {
        DMAD::Params p = microParams();
        p.calibrationImages = 0;
        p.training.updateEpochs = 5;
        p.training.updatePatches = updatePatches;
        p.annotatedHeadWeight = annotatedHeadWeight;
        Ptr<DMAD> model = DMAD::create(p);
        model->train(data.normal);
        trainedScores = scoresOf(*model, data.testImages);
        const String file = dir.path + cv::format("/kept%d.yml.gz", updatePatches);
        model->save(file);
        if (updatePatches > 0)
        {
            Ptr<MemoryBank> sample = MemoryBank::load(file, "update_sample");
            EXPECT_EQ(updatePatches, sample->size());
            EXPECT_EQ(model->getFeatureExtractor()->featureDims(), sample->dims());
            double lo, hi;
            minMaxLoc(sample->getImageIds(), &lo, &hi);
            EXPECT_GE(lo, 0);
            EXPECT_LT(hi, (double)data.normal.size()) << "kept patches come from the normal training images";
        }
        else
            EXPECT_CV_ERROR(MemoryBank::load(file, "update_sample"), "update_sample");
        Ptr<DMAD> reloaded = DMAD::load(file);
        reloaded->update(data.anomalous, data.masks);
        return scoresOf(*reloaded, data.testImages);
    };
    std::vector<float> trainedA, trainedB;
    // unsupervised training ignores annotatedHeadWeight: the twins score alike until update()
    const std::vector<float> a = updatedScores(40, 0.5, trainedA), b = updatedScores(40, 4.0, trainedB);
    ASSERT_EQ(trainedA, trainedB);
    EXPECT_NE(a, b) << "with kept patches the updated classes take annotatedHeadWeight";
    const std::vector<float> c = updatedScores(0, 0.5, trainedA), d = updatedScores(0, 4.0, trainedB);
    ASSERT_EQ(trainedA, trainedB);
    EXPECT_EQ(c, d) << "without them the weights stay";
    EXPECT_NE(a, c) << "kept patches and bank entries refine differently";
}

/** A model trained with validation: it trains (semi-supervised, with held-out normal images and
    anomalies), keeps its parameters through save and load, and scores differently from one that
    trains on everything; bad fractions are refused. */
TEST(DMAD_Validation, a_validated_model_trains_saves_and_loads)
{
    const MicroDataset data(10);
    DMAD::Params p = microParams();
    p.calibrationImages = 0;
    p.training.epochs = 3;
    p.training.validationFraction = 0.5;  // 5 of the 10 normal images, 1 of the 2 anomalies
    Ptr<DMAD> validated = DMAD::create(p);
    validated->train(data.normal, data.anomalous, data.masks);
    TempDir dir;
    const String file = dir.path + "/validated.yml.gz";
    validated->save(file);
    Ptr<DMAD> back = DMAD::load(file);
    EXPECT_EQ(0.5, back->getParams().training.validationFraction);
    EXPECT_EQ(p.training.updatePatches, back->getParams().training.updatePatches);
    EXPECT_EQ(scoresOf(*validated, data.testImages), scoresOf(*back, data.testImages));
    p.training.validationFraction = 0;
    Ptr<DMAD> everything = DMAD::create(p);
    everything->train(data.normal, data.anomalous, data.masks);
    EXPECT_NE(scoresOf(*validated, data.testImages), scoresOf(*everything, data.testImages))
        << "the validation images' patches must leave the loss";

    for (double bad : { -0.1, 0.6, std::numeric_limits<double>::quiet_NaN() })
    {
        p.training.validationFraction = bad;
        EXPECT_CV_ERROR(DMAD::create(p), "validationFraction");
    }
    p.training.validationFraction = 0;
    p.training.updatePatches = -1;
    EXPECT_CV_ERROR(DMAD::create(p), "updatePatches -1 must be >= 0");
}

TEST(DMAD_ScoreFusion, head_recentring_keeps_normal_patches_standardised_scores)
{
    RNG rng(9);
    std::vector<float> d, h, after;
    std::vector<int> ids;
    for (int i = 0; i < 3 * ScoreFusion::kMinClassPatches; i++)
    {
        const int c = i % 3;  // classes 0 and 1 have standardisations of their own; -1 none
        d.push_back((float)rng.uniform(1.0, 5.0) * (c + 1));
        h.push_back((float)rng.uniform(-2.0, 1.0) + c);
        ids.push_back(c == 2 ? -1 : c);
    }
    const ScoreFusion f(d, h, ids, 1.0);
    // a refined head: another scale and offset, per class, plus a little noise
    for (size_t i = 0; i < h.size(); i++)
        after.push_back((float)(h[i] * (ids[i] == 0 ? 3.0 : 0.5) + (ids[i] == 0 ? 7.0 : -2.0) +
                                rng.gaussian(1e-3)));
    const ScoreFusion moved = f.withHeadRecentred(h, after, ids);
    Mat s0, s1;
    f.combine(column(d), column(h), column(ids), s0);
    moved.combine(column(d), column(after), column(ids), s1);
    // per class, the standardised scores' median and upper tail stay where they were
    for (int c : { 0, 1, -1 })
    {
        std::vector<float> a, b;
        for (size_t i = 0; i < ids.size(); i++)
            if (ids[i] == c)
            {
                a.push_back(s0.at<float>((int)i));
                b.push_back(s1.at<float>((int)i));
            }
        EXPECT_NEAR(quantileOf(a, 0.5), quantileOf(b, 0.5), 0.02) << "class " << c;
        EXPECT_NEAR(quantileOf(a, 0.99), quantileOf(b, 0.99), 0.02) << "class " << c;
    }
}

}} // namespace

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"
#include "test_tiny_model.hpp"

#include <thread>

namespace opencv_test { namespace {

TEST(DMAD_Model, unsupervised_train_predict_save_load)
{
    DMAD_REQUIRE_MOBILENET(model);
    const TinyDataset data;
    Ptr<DMAD> dmad = DMAD::create(tinyParams(model));
    EXPECT_TRUE(dmad->empty());
    dmad->train(data.normal, noArray(), noArray(), std::vector<int>(data.classIds.begin(), data.classIds.begin() + 16));
    ASSERT_FALSE(dmad->empty());
    EXPECT_EQ(DualMemoryBank::ABNORMAL_SYNTHETIC | DualMemoryBank::ABNORMAL_PERTURBED_NORMAL,
              dmad->getMemoryBanks()->abnormalSources());
    EXPECT_EQ(std::lround(0.1 * 16 * 256), dmad->getMemoryBanks()->getNormalBank()->size());

    float score;
    Mat map;
    dmad->predict(data.testImages[1], score, map);
    EXPECT_EQ(data.testImages[1].size(), map.size());
    EXPECT_EQ(CV_32F, map.type());
    EXPECT_TRUE(std::isfinite(score));
    Mat patchScores;
    dmad->computePatchScores(data.testImages[1], patchScores);
    EXPECT_EQ(Size(16, 16), patchScores.size());
    double maxPatch;
    minMaxLoc(patchScores, nullptr, &maxPatch);
    EXPECT_FLOAT_EQ((float)maxPatch, score) << "the image score is the maximum patch score";

    TempFile file(".yml.gz");
    dmad->save(file.path);
    Ptr<DMAD> loaded = DMAD::load(file.path);
    const std::vector<float> before = scoresOf(*dmad, data.testImages), after = scoresOf(*loaded, data.testImages);
    for (size_t i = 0; i < before.size(); i++)
        EXPECT_EQ(before[i], after[i]) << "bit-identical after save and load, image " << i;
    float loadedScore;
    Mat loadedMap;
    loaded->predict(data.testImages[1], loadedScore, loadedMap);
    EXPECT_EQ(0.0, cv::norm(map, loadedMap, NORM_INF));

    // every part is also a node its own class can load
    EXPECT_EQ(dmad->getMemoryBanks()->getNormalBank()->size(), MemoryBank::load(file.path, "normal_bank")->size());
    EXPECT_EQ(dmad->getMemoryBanks()->getAbnormalBank()->size(), MemoryBank::load(file.path, "abnormal_bank")->size());
    EXPECT_EQ(32, ScoringHead::load(file.path, "scoring_head")->hiddenDims());
    EXPECT_EQ(288, KnowledgeEnhancement::load(file.path, "knowledge_enhancement")->featureDims());
    EXPECT_EQ(Size(16, 16), FeatureExtractor::load(file.path, "feature_extractor")->gridSize());
    EXPECT_EQ(dmad->getMemoryBanks()->getNormalBank()->size(),
              DualMemoryBank::load(file.path, "memory_banks")->getNormalBank()->size());
}

TEST(DMAD_Model, semi_supervised_learns_the_annotated_defects)
{
    DMAD_REQUIRE_MOBILENET(model);
    const TinyDataset data;
    DMAD::Params p = tinyParams(model);
    p.training.epochs = 6;
    Ptr<DMAD> dmad = DMAD::create(p);
    dmad->train(data.normal, data.anomalous, data.masks, data.classIds);
    EXPECT_EQ(DualMemoryBank::ABNORMAL_ANNOTATED | DualMemoryBank::ABNORMAL_ANOMALY_CENTRE |
                  DualMemoryBank::ABNORMAL_TEXTURES | DualMemoryBank::ABNORMAL_SYNTHETIC,
              dmad->getMemoryBanks()->abnormalSources());
    // the annotated defects themselves score above every normal training image
    const std::vector<float> anomalous = scoresOf(*dmad, data.anomalous), normal = scoresOf(*dmad, data.normal);
    EXPECT_GT(*std::min_element(anomalous.begin(), anomalous.end()), *std::max_element(normal.begin(), normal.end()));
}

TEST(DMAD_Model, same_model_for_one_and_two_threads)
{
    DMAD_REQUIRE_MOBILENET(model);
    const TinyDataset data;
    const int saved = getNumThreads();
    std::vector<float> scores[2];
    for (int t = 1; t <= 2; t++)
    {
        setNumThreads(t);
        Ptr<DMAD> dmad = DMAD::create(tinyParams(model));
        dmad->train(data.normal, data.anomalous, data.masks, data.classIds);
        scores[t - 1] = scoresOf(*dmad, data.testImages);
    }
    setNumThreads(saved);
    for (size_t i = 0; i < scores[0].size(); i++)
        EXPECT_NEAR(scores[0][i], scores[1][i], 1e-5) << "image " << i;
}

//! Everything predict(), computePatchScores() and predictBatch() give for a list of images.
struct Predictions
{
    std::vector<float> scores;
    std::vector<Mat> maps, patchScores, batchMaps;
    Mat batchScores;
};

Predictions predictAll(const DMAD& model, const std::vector<Mat>& images)
{
    Predictions p;
    for (const Mat& img : images)
    {
        float score;
        Mat map, patchScores;
        model.predict(img, score, map);
        model.computePatchScores(img, patchScores);
        p.scores.push_back(score);
        p.maps.push_back(map);
        p.patchScores.push_back(patchScores);
    }
    model.predictBatch(images, p.batchScores, p.batchMaps);
    return p;
}

//! Bit-identical results (the maps and patch scores compared value by value).
void expectIdentical(const Predictions& expected, const Predictions& got, const std::string& what)
{
    auto same = [](const Mat& a, const Mat& b) {
        return a.size() == b.size() && a.type() == b.type() &&
               (a.empty() || cv::norm(a, b, NORM_INF) == 0.0);
    };
    EXPECT_EQ(expected.scores, got.scores) << what;
    EXPECT_TRUE(same(expected.batchScores, got.batchScores)) << what << ": predictBatch scores";
    ASSERT_EQ(expected.maps.size(), got.maps.size()) << what;
    ASSERT_EQ(expected.batchMaps.size(), got.batchMaps.size()) << what;
    for (size_t i = 0; i < expected.maps.size(); i++)
    {
        EXPECT_TRUE(same(expected.maps[i], got.maps[i])) << what << ": map " << i;
        EXPECT_TRUE(same(expected.patchScores[i], got.patchScores[i])) << what << ": patches " << i;
        EXPECT_TRUE(same(expected.batchMaps[i], got.batchMaps[i])) << what << ": batch map " << i;
    }
}

/** 4 threads predicting on one shared model at once give exactly what one thread gives alone,
    with OpenCV's own parallelism off (the reference) and on (the threads). */
void checkConcurrentPredictions(const DMAD& model, const std::vector<Mat>& images, int repeats = 3)
{
    const int savedThreads = getNumThreads();
    setNumThreads(1);
    const Predictions expected = predictAll(model, images);
    setNumThreads(savedThreads);
    std::vector<Predictions> got(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; t++)
        threads.emplace_back([&, t] {
            for (int repeat = 0; repeat < repeats; repeat++)
                got[t] = predictAll(model, images);
        });
    for (std::thread& th : threads)
        th.join();
    for (int t = 0; t < 4; t++)
        expectIdentical(expected, got[t], cv::format("thread %d", t));
}

TEST(DMAD_Model, concurrent_predict_equals_sequential)
{
    DMAD_REQUIRE_MOBILENET(model);
    const TinyDataset data;
    Ptr<DMAD> dmad = DMAD::create(tinyParams(model));
    dmad->train(data.normal, data.anomalous, data.masks, data.classIds);
    const std::vector<Mat> six(data.testImages.begin(), data.testImages.begin() + 6);
    checkConcurrentPredictions(*dmad, six, 2);
    // the PatchCore scorer of the same model
    dmad->setScorer(DMAD::SCORER_PATCHCORE);
    checkConcurrentPredictions(*dmad, std::vector<Mat>(six.begin(), six.begin() + 3), 2);
}

//! The same on the micro backbone: no shared data needed, fast enough for the sanitizer run.
TEST(DMAD_Model, concurrent_predict_equals_sequential_micro)
{
    const MicroDataset data;
    Ptr<DMAD> dmad = DMAD::create(microParams());
    dmad->train(data.normal, data.anomalous, data.masks);
    checkConcurrentPredictions(*dmad, data.testImages);
    // a model loaded from a file behaves the same
    TempFile file(".yml.gz");
    dmad->save(file.path);
    checkConcurrentPredictions(*DMAD::load(file.path), data.testImages);
}

/** The cv::Algorithm contract: write() puts the whole model into one node and read() takes it back,
    in memory and through a file node of the caller's; the result scores exactly as the original. */
TEST(DMAD_Model, write_and_read_round_trip_the_whole_model)
{
    const MicroDataset data;
    Ptr<DMAD> trained = DMAD::create(microParams());
    trained->train(data.normal, data.anomalous, data.masks);
    const std::vector<float> expected = scoresOf(*trained, data.testImages);
    for (const char* format : { ".yml", ".json", ".xml" })
    {
        FileStorage out(format, FileStorage::WRITE | FileStorage::MEMORY);
        out << "my_model" << "{";
        trained->write(out);
        out << "}";
        out << "something_else" << 42;
        FileStorage in(out.releaseAndGetString(), FileStorage::READ | FileStorage::MEMORY);
        Ptr<DMAD> restored = DMAD::create();
        ASSERT_TRUE(restored->empty());
        restored->read(in["my_model"]);
        ASSERT_FALSE(restored->empty()) << format;
        EXPECT_EQ(expected, scoresOf(*restored, data.testImages)) << format;
        EXPECT_EQ(trained->getMemoryBanks()->getAbnormalBank()->size(),
                  restored->getMemoryBanks()->getAbnormalBank()->size()) << format;
        EXPECT_DOUBLE_EQ(trained->getFeatureScale(), restored->getFeatureScale()) << format;
        // a node without a model is refused, and the model read before stays as it was
        EXPECT_CV_ERROR(restored->read(in["something_else"]), "holds no trained DMAD model");
        EXPECT_EQ(expected, scoresOf(*restored, data.testImages)) << format;
    }
    // an untrained model writes its parameters only, which read() refuses as a model
    FileStorage out(".yml", FileStorage::WRITE | FileStorage::MEMORY);
    out << "untrained" << "{";
    DMAD::create()->write(out);
    out << "}";
    FileStorage in(out.releaseAndGetString(), FileStorage::READ | FileStorage::MEMORY);
    EXPECT_CV_ERROR(DMAD::create()->read(in["untrained"]), "holds no trained DMAD model");
}

TEST(DMAD_Model, patchcore_scorer_is_the_nearest_normal_distance)
{
    DMAD_REQUIRE_MOBILENET(model);
    const TinyDataset data;
    DMAD::Params p = tinyParams(model);
    p.scorer = DMAD::SCORER_PATCHCORE;
    Ptr<DMAD> dmad = DMAD::create(p);
    dmad->train(data.normal);
    EXPECT_TRUE(dmad->getMemoryBanks()->getAbnormalBank()->empty());
    EXPECT_CV_ERROR(dmad->setScorer(DMAD::SCORER_DMAD), "PatchCore scorer only");

    Mat features, patchScores;
    Size grid;
    dmad->getFeatureExtractor()->extract(data.testImages[1], features, grid);
    features *= dmad->getFeatureScale();
    EXPECT_GT(dmad->getFeatureScale(), 0.0);
    dmad->computePatchScores(data.testImages[1], patchScores);
    const Mat bank = dmad->getMemoryBanks()->getNormalBank()->getFeatures();
    for (int cell : { 0, 37, 255 })
    {
        double best = DBL_MAX;
        for (int j = 0; j < bank.rows; j++)
            best = std::min(best, cv::norm(features.row(cell), bank.row(j), NORM_L2));
        EXPECT_NEAR(best, patchScores.at<float>(cell / 16, cell % 16), 1e-3 * best);
    }
}

TEST(DMAD_Model, clear_errors)
{
    DMAD_REQUIRE_MOBILENET(model);
    const TinyDataset data;
    Ptr<DMAD> dmad = DMAD::create(tinyParams(model));
    float score;
    EXPECT_CV_ERROR(dmad->predict(data.testImages[0], score), "not trained");
    EXPECT_CV_ERROR(dmad->train(std::vector<Mat>{ data.normal[0] }), "at least 2 normal images");
    EXPECT_CV_ERROR(dmad->train(data.normal, data.anomalous, std::vector<Mat>{ data.masks[0] }), "masks");
    std::vector<Mat> wrongSize = data.masks;
    resize(wrongSize[1], wrongSize[1], Size(64, 64));
    EXPECT_CV_ERROR(dmad->train(data.normal, data.anomalous, wrongSize), "mask of image 1");
    std::vector<Mat> blank = data.masks;
    blank[2] = Mat::zeros(blank[2].size(), CV_8U);
    EXPECT_CV_ERROR(dmad->train(data.normal, data.anomalous, blank), "marks no defect pixel");
    EXPECT_CV_ERROR(DMAD::load("/nonexistent/model.yml.gz"), "cannot open");
    DMAD::Params bad = tinyParams(model);
    bad.training.trainPatchRatio = 0;
    EXPECT_CV_ERROR(DMAD::create(bad), "trainPatchRatio");
}

}} // namespace

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Bad input to every public entry point, one table per class: each row is a call that must raise a
// cv::Exception whose message names the problem. Documented behaviours that are not errors (tiny
// images are resized, a mask without defect pixels selects no cell, ...) have their own tests.
// Everything runs on the micro pooling backbone, so no shared data is needed.

#include "test_precomp.hpp"
#include "test_tiny_model.hpp"

#include <limits>

namespace opencv_test { namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

Mat withValue(Mat m, int row, int col, float value)
{
    m = m.clone();
    m.at<float>(row, col) = value;
    return m;
}

Mat randomFeatures(int rows, int cols, int seed)
{
    Mat m(rows, cols, CV_32F);
    RNG(seed).fill(m, RNG::NORMAL, 0, 1);
    return m;
}

//! A header of `size` over a few bytes: for size checks that must refuse before reading pixels.
Mat hugeHeader(Size size, int type)
{
    static uchar bytes[64] = {};
    return Mat(size, type, bytes);
}

//! The micro model, trained once (semi-supervised, so every part exists).
const DMAD& trainedMicroModel()
{
    static Ptr<DMAD> model;
    if (!model)
    {
        const MicroDataset data;
        model = DMAD::create(microParams());
        model->train(data.normal, data.anomalous, data.masks);
    }
    return *model;
}

TEST(DMAD_BadInput, feature_extractor)
{
    Ptr<FeatureExtractor> fe = FeatureExtractor::create(microBackbone());
    const Mat ok(40, 30, CV_8UC3, Scalar(10, 20, 30));
    Mat f;
    Size grid;
    auto with = [](std::function<void(FeatureExtractor::Params&)> change) {
        FeatureExtractor::Params p = microBackbone();
        change(p);
        return p;
    };
    const int sizes3d[] = { 4, 4, 4 };
    const std::vector<BadInput> rows = {
        { "empty Mat", [&] { fe->extract(Mat(), f, grid); }, "empty image" },
        { "CV_32F image", [&] { fe->extract(Mat(8, 8, CV_32FC3, Scalar::all(0)), f, grid); },
          "image depth CV_32F is not supported (8-bit or 16-bit)" },
        { "CV_64F image", [&] { fe->extract(Mat(8, 8, CV_64FC1, Scalar::all(0)), f, grid); },
          "image depth CV_64F" },
        { "CV_8S image", [&] { fe->extract(Mat(8, 8, CV_8SC3, Scalar::all(0)), f, grid); },
          "image depth CV_8S" },
        { "CV_16S image", [&] { fe->extract(Mat(8, 8, CV_16SC1, Scalar::all(0)), f, grid); },
          "image depth CV_16S" },
        { "2 channels", [&] { fe->extract(Mat(8, 8, CV_8UC2, Scalar::all(0)), f, grid); },
          "images with 2 channels are not supported (1, 3 or 4)" },
        { "5 channels", [&] { fe->extract(Mat(8, 8, CV_8UC(5), Scalar::all(0)), f, grid); },
          "images with 5 channels" },
        { "3-D Mat", [&] { fe->extract(Mat(3, sizes3d, CV_8U, Scalar(0)), f, grid); },
          "two-dimensional, not 3-dimensional" },
        { "huge image", [&] { fe->extract(hugeHeader(Size(20000, 20000), CV_8UC3), f, grid); },
          "image of 20000x20000 pixels is larger than the limit of 2^28 pixels" },
        { "huge one-row image",
          [&] { fe->extract(hugeHeader(Size(300000000, 1), CV_8UC1), f, grid); },
          "larger than the limit of 2^28 pixels" },
        { "empty image in a batch",
          [&] { fe->extractBatch(std::vector<Mat>{ ok, Mat(), ok }, f, grid); },
          "empty image (image 1 of 3)" },
        { "float image in a batch",
          [&] { fe->extractBatch(std::vector<Mat>{ ok, ok, Mat(8, 8, CV_32F) }, f, grid); },
          "(image 2 of 3)" },
        { "huge image in a batch",
          [&] { fe->extractBatch(std::vector<Mat>{ ok, hugeHeader(Size(17000, 17000), CV_8UC1) },
                                 f, grid); },
          "pixels is larger than the limit of 2^28 pixels (image 1 of 2)" },
        { "no images", [&] { fe->extractBatch(std::vector<Mat>(), f, grid); }, "no images" },
        { "input size 4x4",
          [&] { FeatureExtractor::create(with([](FeatureExtractor::Params& p) {
                    p.inputSize = Size(4, 4); })); },
          "unsupported input size 4x4" },
        { "input size overflowing int",
          [&] { FeatureExtractor::create(with([](FeatureExtractor::Params& p) {
                    p.inputSize = Size(100000, 65536); })); },
          "unsupported input size 100000x65536" },
        { "no tiles across",
          [&] { FeatureExtractor::create(with([](FeatureExtractor::Params& p) {
                    p.tiles = Size(0, 1); })); },
          "tiles 0x1: each must be in 1..8" },
        { "nine tiles down",
          [&] { FeatureExtractor::create(with([](FeatureExtractor::Params& p) {
                    p.tiles = Size(2, 9); })); },
          "tiles 2x9: each must be in 1..8" },
        { "tiles beyond the canvas limit",
          [&] { FeatureExtractor::create(with([](FeatureExtractor::Params& p) {
                    p.inputSize = Size(2048, 2048);
                    p.tiles = Size(8, 1); })); },
          "times tiles 8x1 is more than 4096x4096 pixels" },
        { "canvas of bad tiles",
          [&] { FeatureExtractor::canvasSize(with([](FeatureExtractor::Params& p) { p.tiles = Size(-1, 2); })); },
          "tiles -1x2" },
        { "even patch size",
          [&] { FeatureExtractor::create(with([](FeatureExtractor::Params& p) {
                    p.patchSize = 2; })); },
          "patchSize 2 must be odd" },
        { "featureDims 0",
          [&] { FeatureExtractor::create(with([](FeatureExtractor::Params& p) {
                    p.featureDims = 0; })); },
          "layerDims and featureDims must be in 1..65536" },
        { "batchSize 0",
          [&] { FeatureExtractor::create(with([](FeatureExtractor::Params& p) {
                    p.batchSize = 0; })); },
          "batchSize must be positive" },
        { "std 0",
          [&] { FeatureExtractor::create(with([](FeatureExtractor::Params& p) {
                    p.std = Scalar(1, 0, 1); })); },
          "std must be positive" },
        { "no model file",
          [&] { FeatureExtractor::create(with([](FeatureExtractor::Params& p) {
                    p.model.clear(); })); },
          "needs a model file" },
        { "no layer",
          [&] { FeatureExtractor::create(with([](FeatureExtractor::Params& p) {
                    p.layers.clear(); })); },
          "at least one layer" },
        { "scales for one of two layers",
          [&] { FeatureExtractor::create(with([](FeatureExtractor::Params& p) {
                    p.layerScales = { 1.f };
                    p.layerZeroPoints = { 0.f }; })); },
          "one entry per tapped layer" },
        { "missing network file",
          [&] { FeatureExtractor::create(with([](FeatureExtractor::Params& p) {
                    p.model = "/nonexistent/net.onnx"; })); },
          "backbone model file '/nonexistent/net.onnx' not found" },
        { "unknown layer",
          [&] { FeatureExtractor::create(with([](FeatureExtractor::Params& p) {
                    p.layers = { "pool1", "no_such_layer" }; })); },
          "has no layer 'no_such_layer'" },
        { "unknown preset", [&] { FeatureExtractor::preset("resnet9000"); },
          "unknown backbone preset" },
        { "missing file", [&] { FeatureExtractor::load("/nonexistent/extractor.yml"); },
          "cannot open model file '/nonexistent/extractor.yml'" },
        { "unavailable target", [&] { fe->setPreferableTarget(999); },
          "target 999 is not available" },
        { "aggregation without layers",
          [&] { aggregatePatchFeatures(std::vector<Mat>(), f, grid, 3, 8, 8); }, "no layer" },
        { "aggregation of a 2-D layer",
          [&] { aggregatePatchFeatures(std::vector<Mat>{ Mat(4, 4, CV_32F, Scalar(0)) }, f, grid,
                                       3, 8, 8); },
          "4D" },
        { "aggregation with an even patch",
          [&] { aggregatePatchFeatures(std::vector<Mat>{ Mat(std::vector<int>{ 1, 2, 4, 4 }, CV_32F,
                                                             Scalar(0)) }, f, grid, 2, 8, 8); },
          "odd" },
    };
    runBadInputTable("FeatureExtractor", rows);
}

//! Any image of 1x1 pixels or more is resized to the input size: tiny images work.
TEST(DMAD_BadInput, tiny_images_are_resized)
{
    Ptr<FeatureExtractor> fe = FeatureExtractor::create(microBackbone());
    for (const Mat& image : { Mat(1, 1, CV_8UC3, Scalar(9, 99, 199)),
                              Mat(1, 500, CV_8UC1, Scalar(3)),
                              Mat(700, 2, CV_16UC4, Scalar::all(40000)),
                              Mat(3, 3, CV_8UC3, Scalar::all(0)) })
    {
        Mat f;
        Size grid;
        fe->extract(image, f, grid);
        EXPECT_EQ(fe->gridSize(), grid) << image.size();
        EXPECT_EQ(grid.area(), f.rows);
        EXPECT_TRUE(cv::checkRange(f)) << image.size();
    }
    // a non-continuous region of interest is an image like any other
    Mat big(64, 64, CV_8UC3);
    RNG(3).fill(big, RNG::UNIFORM, 0, 256);
    Mat a, b;
    Size grid;
    fe->extract(big(Rect(5, 7, 30, 20)), a, grid);
    fe->extract(big(Rect(5, 7, 30, 20)).clone(), b, grid);
    EXPECT_EQ(0.0, cv::norm(a, b, NORM_INF));
}

TEST(DMAD_BadInput, memory_bank)
{
    Ptr<MemoryBank> bank = MemoryBank::create(), empty = MemoryBank::create();
    const Mat features = randomFeatures(10, 8, 1), q = randomFeatures(3, 8, 2);
    bank->add(features);
    MemoryBank::Params half;
    half.halfPrecisionStorage = true;
    Ptr<MemoryBank> halfBank = MemoryBank::create(half);
    Mat d, idx;
    const std::vector<BadInput> rows = {
        { "add an empty Mat", [&] { bank->add(Mat()); }, "got no features" },
        { "add CV_64F", [&] { bank->add(Mat(3, 8, CV_64F, Scalar(0))); },
          "2D CV_32F matrix (got CV_64FC1" },
        { "add 3 channels", [&] { bank->add(Mat(3, 8, CV_32FC3, Scalar::all(0))); },
          "CV_32FC3" },
        { "add NaN", [&] { bank->add(withValue(q, 1, 2, kNaN)); },
          "NaN or infinite value (row 1, column 2)" },
        { "add +Inf", [&] { bank->add(withValue(q, 2, 7, kInf)); },
          "NaN or infinite value (row 2, column 7)" },
        { "add -Inf", [&] { bank->add(withValue(q, 0, 0, -kInf)); }, "NaN or infinite value" },
        { "add other dims", [&] { bank->add(randomFeatures(3, 9, 3)); },
          "features have 9 dims, the bank has 8" },
        { "add too few image ids", [&] { bank->add(q, Mat(2, 1, CV_32S, Scalar(0))); },
          "imageIds must be 3 CV_32S values" },
        { "add float class ids", [&] { bank->add(q, noArray(), Mat(3, 1, CV_32F, Scalar(0))); },
          "classIds must be 3 CV_32S values" },
        { "add beyond float16", [&] { halfBank->add(withValue(q, 1, 1, 70000.f)); },
          "exceeds the float16 range (65504)" },
        { "search an empty bank", [&] { empty->search(q, 1, d, idx); },
          "search in an empty memory bank" },
        { "search with no queries", [&] { bank->search(Mat(), 1, d, idx); },
          "queries must be a non-empty 2D CV_32F matrix (got an empty one)" },
        { "search CV_64F queries", [&] { bank->search(Mat(2, 8, CV_64F, Scalar(0)), 1, d, idx); },
          "CV_64F" },
        { "search other dims", [&] { bank->search(randomFeatures(2, 7, 4), 1, d, idx); },
          "queries have 7 dims, the bank has 8" },
        { "k = 0", [&] { bank->search(q, 0, d, idx); }, "k = 0, must be in 1..10" },
        { "k < 0", [&] { bank->search(q, -3, d, idx); }, "k = -3, must be in 1..10" },
        { "k larger than the bank", [&] { bank->search(q, 11, d, idx); },
          "k = 11, must be in 1..10 (the bank size)" },
        { "NaN query", [&] { bank->search(withValue(q, 0, 3, kNaN), 1, d, idx); },
          "queries contain NaN or infinite values" },
        { "Inf query", [&] { bank->search(withValue(q, 2, 3, kInf), 1, d, idx); },
          "queries contain NaN or infinite values" },
        { "wrong exclusion ids", [&] { bank->search(q, 1, d, idx, Mat(2, 1, CV_32S)); },
          "excludeImageIds must be 3 CV_32S values" },
        { "unknown search method",
          [&] { MemoryBank::Params p; p.searchMethod = 7; MemoryBank::create(p); },
          "unknown MemoryBank search method 7" },
        { "missing file", [&] { MemoryBank::load("/nonexistent/bank.yml"); },
          "cannot open model file '/nonexistent/bank.yml'" },
        { "coreset of nothing", [&] { selectCoreset(Mat(), 1); }, "non-empty 2D CV_32F" },
        { "coreset of CV_64F", [&] { selectCoreset(Mat(4, 2, CV_64F, Scalar(0)), 1); },
          "CV_64F" },
        { "coreset size 0", [&] { selectCoreset(features, 0); },
          "coreset size 0 must be in 1..10" },
        { "coreset larger than the features", [&] { selectCoreset(features, 11); },
          "coreset size 11 must be in 1..10" },
        { "coreset of NaN", [&] { selectCoreset(withValue(features, 3, 1, kNaN), 2); },
          "NaN or infinite value (row 3, column 1)" },
        { "coreset of Inf", [&] { selectCoreset(withValue(features, 9, 7, -kInf), 2); },
          "NaN or infinite value (row 9, column 7)" },
        { "coreset without start points",
          [&] { CoresetParams p; p.startPoints = 0; selectCoreset(features, 2, p); },
          "startPoints (0)" },
    };
    runBadInputTable("MemoryBank and selectCoreset", rows);
}

//! Documented behaviours of banks at their limits.
TEST(DMAD_BadInput, memory_bank_limits)
{
    // k equal to the bank size is allowed
    Ptr<MemoryBank> bank = MemoryBank::create();
    bank->add(randomFeatures(5, 4, 1));
    Mat d, idx;
    bank->search(randomFeatures(2, 4, 2), 5, d, idx);
    EXPECT_EQ(Size(5, 2), idx.size());
    // an empty bank saves and loads as an empty bank
    TempFile file(".yml");
    MemoryBank::create()->save(file.path);
    Ptr<MemoryBank> loaded = MemoryBank::load(file.path);
    EXPECT_TRUE(loaded->empty());
    EXPECT_EQ(0, loaded->size());
}

TEST(DMAD_BadInput, dual_memory_bank)
{
    const Mat normal = randomFeatures(50, 8, 1);
    auto sources = [&](std::function<void(DualMemoryBank::Sources&)> change) {
        DualMemoryBank::Sources s;
        s.normal = normal;
        s.synthetic = randomFeatures(6, 8, 2);
        change(s);
        return s;
    };
    auto build = [](const DualMemoryBank::Sources& s) { DualMemoryBank::create()->build(s); };
    auto withParams = [](std::function<void(DualMemoryBank::Params&)> change) {
        DualMemoryBank::Params p;
        change(p);
        DualMemoryBank::create(p);
    };
    const Mat mask(16, 16, CV_8U, Scalar(255));
    const std::vector<BadInput> rows = {
        { "no normal features",
          [&] { build(sources([](DualMemoryBank::Sources& s) { s.normal.release(); })); },
          "the normal memory bank needs normal patch features" },
        { "annotated features of other dims",
          [&] { build(sources([](DualMemoryBank::Sources& s) {
                    s.annotated = randomFeatures(4, 9, 3); })); },
          "abnormal source features have 9 dims, the normal ones 8" },
        { "NaN in the normal features",
          [&] { build(sources([&](DualMemoryBank::Sources& s) {
                    s.normal = withValue(normal, 7, 3, kNaN); })); },
          "NaN or infinite value (row 7, column 3)" },
        { "Inf in the annotated features",
          [&] { build(sources([](DualMemoryBank::Sources& s) {
                    s.annotated = withValue(randomFeatures(4, 8, 3), 1, 1, kInf); })); },
          "NaN or infinite value (row 1, column 1)" },
        { "image ids of the wrong count",
          [&] { build(sources([](DualMemoryBank::Sources& s) {
                    s.normalImageIds = Mat(49, 1, CV_32S, Scalar(0)); })); },
          "normalImageIds must hold one CV_32S id per feature row (50), got 49 values" },
        { "float class ids",
          [&] { build(sources([](DualMemoryBank::Sources& s) {
                    s.syntheticClassIds = Mat(6, 1, CV_32F, Scalar(0)); })); },
          "syntheticClassIds must hold one CV_32S id per feature row (6), got 6 values of "
          "CV_32FC1" },
        { "coreset ratio 0",
          [&] { withParams([](DualMemoryBank::Params& p) { p.normalCoresetRatio = 0; }); },
          "coreset ratios must be in (0, 1]" },
        { "negative noise",
          [&] { withParams([](DualMemoryBank::Params& p) { p.noiseStd = -1; }); },
          "noiseStd, perturbedNormalRatio and abnormalBankRatio must be >= 0" },
        { "negative abnormal bank ratio",
          [&] { withParams([](DualMemoryBank::Params& p) { p.abnormalBankRatio = -0.5; }); },
          "abnormalBankRatio must be >= 0" },
        { "unknown source flag",
          [&] { withParams([](DualMemoryBank::Params& p) { p.unsupervisedSources = 64; }); },
          "invalid abnormal bank source flags" },
        { "save before build", [&] { DualMemoryBank::create()->save("/tmp/never.yml"); },
          "saving an empty DualMemoryBank" },
        { "missing file", [&] { DualMemoryBank::load("/nonexistent/banks.yml"); },
          "cannot open model file '/nonexistent/banks.yml'" },
        { "empty mask", [&] { maskedPatchIndices(Mat(), Size(4, 4)); }, "empty anomaly mask" },
        { "3-channel mask",
          [&] { maskedPatchIndices(Mat(8, 8, CV_8UC3, Scalar::all(1)), Size(4, 4)); },
          "single-channel 8U, 16U or 32F" },
        { "CV_64F mask", [&] { maskedPatchIndices(Mat(8, 8, CV_64F, Scalar(1)), Size(4, 4)); },
          "single-channel 8U, 16U or 32F" },
        { "empty grid", [&] { maskedPatchIndices(mask, Size(0, 4)); }, "invalid patch grid" },
    };
    runBadInputTable("DualMemoryBank and maskedPatchIndices", rows);
}

//! A mask without defect pixels selects no cell; a mask of another size than the grid is scaled.
TEST(DMAD_BadInput, mask_behaviours)
{
    EXPECT_TRUE(maskedPatchIndices(Mat::zeros(32, 32, CV_8U), Size(4, 4)).empty());
    Mat mask = Mat::zeros(100, 60, CV_8U);
    mask.at<uchar>(99, 59) = 1;  // one pixel in the last cell
    EXPECT_EQ(std::vector<int>{ 15 }, maskedPatchIndices(mask, Size(4, 4)));
    Mat tiny(1, 1, CV_16U, Scalar(7));  // one pixel covering the whole grid
    EXPECT_EQ(16u, maskedPatchIndices(tiny, Size(4, 4)).size());
}

TEST(DMAD_BadInput, knowledge_enhancement_and_scoring_head)
{
    KnowledgeEnhancement::Params ep;
    ep.featureDims = 8;
    Ptr<KnowledgeEnhancement> ke = KnowledgeEnhancement::create(ep);
    ScoringHead::Params hp;
    hp.inputDims = 24;
    hp.hiddenDims = 8;
    Ptr<ScoringHead> head = ScoringHead::create(hp);
    const Mat q = randomFeatures(5, 8, 1), n = randomFeatures(5, 8, 2), a = randomFeatures(5, 8, 3);
    const Mat o = randomFeatures(5, 24, 4);
    Mat out;
    const std::vector<BadInput> rows = {
        { "featureDims 0", [&] { KnowledgeEnhancement::Params p; p.featureDims = 0;
                                 KnowledgeEnhancement::create(p); },
          "featureDims >= 1 and neighbours in 1..64 (got 0, 1)" },
        { "65 neighbours", [&] { KnowledgeEnhancement::Params p; p.neighbours = 65;
                                 KnowledgeEnhancement::create(p); },
          "neighbours in 1..64" },
        { "no features", [&] { ke->compute(Mat(), n, a, out); },
          "features must be a non-empty 2D CV_32F matrix" },
        { "CV_64F features", [&] { ke->compute(Mat(5, 8, CV_64F, Scalar(0)), n, a, out); },
          "features must be a non-empty 2D CV_32F matrix" },
        { "features of other dims", [&] { ke->compute(randomFeatures(5, 7, 5), n, a, out); },
          "features is 5x7, expected 5x8" },
        { "fewer normal neighbour rows", [&] { ke->compute(q, n.rowRange(0, 4), a, out); },
          "normalNeighbours is 4x8, expected 5x8" },
        { "abnormal neighbours of k = 2", [&] { ke->compute(q, n, randomFeatures(5, 16, 6), out); },
          "abnormalNeighbours is 5x16, expected 5x8" },
        { "NaN in the features", [&] { ke->compute(withValue(q, 2, 3, kNaN), n, a, out); },
          "features holds a NaN or infinite value (row 2, column 3)" },
        { "Inf in a neighbour", [&] { ke->compute(q, withValue(n, 4, 0, kInf), a, out); },
          "normalNeighbours holds a NaN or infinite value (row 4, column 0)" },
        { "missing file", [&] { KnowledgeEnhancement::load("/nonexistent/ke.yml"); },
          "cannot open model file '/nonexistent/ke.yml'" },
        { "input dims 0", [&] { ScoringHead::Params p; p.inputDims = 0; ScoringHead::create(p); },
          "ScoringHead dims out of range (input 0, hidden 1024)" },
        { "hidden dims 2^17",
          [&] { ScoringHead::Params p; p.hiddenDims = 1 << 17; ScoringHead::create(p); },
          "ScoringHead dims out of range" },
        { "no representation", [&] { head->compute(Mat(), out); },
          "ScoringHead input must be a non-empty 2D CV_32F matrix" },
        { "2-channel representation", [&] { head->compute(Mat(5, 24, CV_32FC2), out); },
          "ScoringHead input must be a non-empty 2D CV_32F matrix" },
        { "representation of other dims", [&] { head->compute(randomFeatures(5, 23, 7), out); },
          "ScoringHead input has 23 columns, expected 24" },
        { "NaN representation", [&] { head->compute(withValue(o, 1, 20, kNaN), out); },
          "ScoringHead input holds a NaN or infinite value (row 1, column 20)" },
        { "missing file", [&] { ScoringHead::load("/nonexistent/head.yml"); },
          "cannot open model file '/nonexistent/head.yml'" },
    };
    runBadInputTable("KnowledgeEnhancement and ScoringHead", rows);
}

TEST(DMAD_BadInput, dmad)
{
    const MicroDataset data;
    const DMAD& trained = trainedMicroModel();
    Ptr<DMAD> untrained = DMAD::create(microParams());
    Ptr<DMAD> fresh = DMAD::create(microParams());
    auto withParams = [](std::function<void(DMAD::Params&)> change) {
        DMAD::Params p = microParams();
        change(p);
        return p;
    };
    std::vector<Mat> oneMask = { data.masks[0] }, smallMask = data.masks, blank = data.masks,
                     colourMask = data.masks;
    resize(smallMask[1], smallMask[1], Size(20, 20), 0, 0, INTER_NEAREST);
    blank[1] = Mat::zeros(blank[1].size(), CV_8U);
    cvtColor(colourMask[0], colourMask[0], COLOR_GRAY2BGR);
    std::vector<Mat> withEmpty = data.normal, withFloat = data.normal;
    withEmpty[3] = Mat();
    withFloat[2] = Mat(40, 40, CV_32FC3, Scalar::all(0.5));
    float score = 0;
    Mat map, scores, patchScores;
    std::vector<Mat> maps;
    const std::vector<BadInput> rows = {
        { "predict before train", [&] { untrained->predict(data.testImages[0], score); },
          "the model is not trained (call train() or DMAD::load())" },
        { "predictBatch before train", [&] { untrained->predictBatch(data.testImages, scores); },
          "not trained" },
        { "computePatchScores before train",
          [&] { untrained->computePatchScores(data.testImages[0], patchScores); }, "not trained" },
        { "save before train", [&] { untrained->save("/tmp/never_written.yml"); }, "not trained" },
        { "train with no images", [&] { fresh->train(std::vector<Mat>()); },
          "training needs at least 2 normal images (got 0)" },
        { "train with one image", [&] { fresh->train(std::vector<Mat>{ data.normal[0] }); },
          "(got 1)" },
        { "train with an empty image", [&] { fresh->train(withEmpty); },
          "empty image (image 3 of 4) (image 0 .. image 3)" },
        { "train with a float image", [&] { fresh->train(withFloat); },
          "image depth CV_32F is not supported" },
        { "fewer masks than anomalies", [&] { fresh->train(data.normal, data.anomalous, oneMask); },
          "2 anomalous images but 1 masks" },
        { "mask of another size", [&] { fresh->train(data.normal, data.anomalous, smallMask); },
          "mask of image 1 is 20x20, the image 40x40" },
        { "mask without defect pixels", [&] { fresh->train(data.normal, data.anomalous, blank); },
          "the mask of image 1 marks no defect pixel" },
        { "colour mask", [&] { fresh->train(data.normal, data.anomalous, colourMask); },
          "an anomaly mask must be single-channel" },
        { "class ids of the wrong count",
          [&] { fresh->train(data.normal, data.anomalous, data.masks, std::vector<int>{ 0, 1 }); },
          "2 class ids for 8 images" },
        { "missing image file",
          [&] { fresh->trainFromFiles({ "/nonexistent/a.png", "/nonexistent/b.png" }); },
          "cannot open image '/nonexistent/a.png'" },
        { "more neighbours than bank entries",
          [&] { DMAD::create(withParams([](DMAD::Params& p) { p.neighbours = 64; }))
                    ->train(std::vector<Mat>(data.normal.begin(), data.normal.begin() + 2)); },
          "too small for 64 neighbours" },
        { "backbone with an even patch",
          [&] { DMAD::create(withParams([](DMAD::Params& p) { p.backbone.patchSize = 4; }))
                    ->train(data.normal); },
          "patchSize 4 must be odd" },
        { "predict an empty image", [&] { trained.predict(Mat(), score); }, "empty image" },
        { "predict a CV_64F image", [&] { trained.predict(Mat(9, 9, CV_64F, Scalar(0)), score); },
          "image depth CV_64F is not supported" },
        { "predict a 2-channel image",
          [&] { trained.predict(Mat(9, 9, CV_8UC2, Scalar::all(0)), score, map); },
          "images with 2 channels" },
        { "predict a huge image",
          [&] { trained.predict(hugeHeader(Size(70000, 5000), CV_8UC3), score, map); },
          "larger than the limit of 2^28 pixels" },
        { "predictBatch of nothing", [&] { trained.predictBatch(std::vector<Mat>(), scores); },
          "predictBatch got no images" },
        { "predictBatch with an empty image",
          [&] { trained.predictBatch(std::vector<Mat>{ data.testImages[0], Mat(),
                                                       data.testImages[1] }, scores, maps); },
          "empty image (image 1 of 3)" },
        { "patch scores of an empty image", [&] { trained.computePatchScores(Mat(), patchScores); },
          "empty image" },
        { "unknown scorer", [&] { fresh->setScorer(7); }, "unknown scorer 7" },
        { "create with an unknown scorer",
          [&] { DMAD::create(withParams([](DMAD::Params& p) { p.scorer = 5; })); },
          "unknown scorer 5" },
        { "create with 0 neighbours",
          [&] { DMAD::create(withParams([](DMAD::Params& p) { p.neighbours = 0; })); },
          "neighbours (1..64)" },
        { "create with trainPatchRatio 0",
          [&] { DMAD::create(withParams([](DMAD::Params& p) { p.training.trainPatchRatio = 0; })); },
          "trainPatchRatio must be in (0, 1]" },
        { "create with a NaN noise",
          [&] { DMAD::create(withParams([](DMAD::Params& p) { p.training.noiseStd = kNaN; })); },
          "noiseStd, margin and annotatedWeight must be >= 0" },
        { "create with mapSigma 100",
          [&] { DMAD::create(withParams([](DMAD::Params& p) { p.mapSigma = 100; })); },
          "mapSigma 100 must be in [0, 64]" },
        { "missing model file", [&] { DMAD::load("/nonexistent/model.yml.gz"); },
          "cannot open model file '/nonexistent/model.yml.gz'" },
    };
    runBadInputTable("DMAD", rows);
}

//! Images of any size and supported type score; the map has the image's size.
TEST(DMAD_BadInput, dmad_scores_tiny_and_large_images)
{
    const DMAD& trained = trainedMicroModel();
    Mat large(1500, 2000, CV_8UC3);
    RNG(4).fill(large, RNG::UNIFORM, 0, 256);
    for (const Mat& image : { Mat(1, 1, CV_8UC3, Scalar(1, 2, 3)), Mat(2, 300, CV_16UC1, Scalar(9)),
                              Mat(5, 5, CV_8UC4, Scalar::all(200)), large })
    {
        float score = 0;
        Mat map;
        trained.predict(image, score, map);
        EXPECT_TRUE(std::isfinite(score)) << image.size();
        EXPECT_EQ(image.size(), map.size());
        EXPECT_TRUE(cv::checkRange(map)) << image.size();
    }
}

TEST(DMAD_BadInput, anomaly_synthesis)
{
    Mat out, mask;
    const std::vector<BadInput> rows = {
        { "huge Perlin noise",
          [&] { RNG rng; perlinNoise(Size(1 << 15, 1 << 14), Size(2, 2), rng, out); },
          "perlinNoise size 32768x16384 exceeds 2^28 pixels" },
        { "huge Perlin mask", [&] { perlinMask(Size(1 << 20, 1 << 10), 1, out); },
          "perlinMask size 1048576x1024 exceeds 2^28 pixels" },
        { "huge texture", [&] { generateTexture(Size(70000, 70000), TEXTURE_NOISE, 1, out); },
          "generateTexture size 70000x70000 exceeds 2^28 pixels" },
        { "empty texture size", [&] { generateTexture(Size(0, 8), TEXTURE_NOISE, 1, out); },
          "non-empty size" },
        { "blend with a texture of another size",
          [&] { blendAnomaly(Mat(8, 8, CV_8UC3, Scalar::all(1)), Mat(8, 9, CV_8UC3, Scalar::all(1)),
                             Mat(8, 8, CV_8U, Scalar(255)), 0.5, out); },
          "8x8" },
        { "pseudo anomaly of an empty image",
          [&] { synthesizeAnomaly(Mat(), Mat(), out, mask, 1); }, "the normal image is empty" },
        { "missing texture folder",
          [&] { std::vector<Mat> t; loadTextures("/nonexistent/dtd", t); },
          "does not exist" },
    };
    runBadInputTable("anomaly synthesis", rows);
}

}} // namespace

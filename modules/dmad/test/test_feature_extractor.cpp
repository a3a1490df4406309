// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"
#include "test_files.hpp"
#include "test_tiny_model.hpp"
#include "scoring/anomaly_map.hpp"

#include <opencv2/core/cuda.hpp>
#include <opencv2/dnn.hpp>

namespace opencv_test { namespace {

// The registry MobileNetV2 (test_precomp.hpp) serves every test here; the int8 model of ../shared
// only the tests of what is specific to int8 networks (DMAD_Int8Backbone).
const char* const kInt8MobileNet = "models/mobilenetv2-12-int8.onnx";

Ptr<FeatureExtractor> mobileNet(const std::string& model, Size input = Size(256, 256))
{
    FeatureExtractor::Params p = FeatureExtractor::preset("mobilenet_v2", model);
    p.inputSize = input;
    return FeatureExtractor::create(p);
}

//! A rendered part (dmad_eval's synthetic dataset): real structure without shared data.
Mat renderedPart(const char* cls, int index, int size)
{
    Mat image, mask;
    renderSyntheticSample(cls, "good", 7, index, size, image, mask);
    return image;
}

TEST(DMAD_FeatureExtractor, mobilenet_shape_and_determinism)
{
    DMAD_REQUIRE_MOBILENET(model);
    const Mat image = renderedPart("metal_plate", 0, 256);
    ASSERT_FALSE(image.empty());
    Ptr<FeatureExtractor> extractor = mobileNet(model);

    Mat f1, f2;
    Size grid;
    extractor->extract(image, f1, grid);
    EXPECT_EQ(Size(32, 32), grid);  // stride 8 at 256 x 256, the paper's grid
    EXPECT_EQ(Size(32, 32), extractor->gridSize());
    ASSERT_EQ(1024, f1.rows);
    ASSERT_EQ(288, f1.cols);
    ASSERT_EQ(CV_32F, f1.type());
    EXPECT_TRUE(cv::checkRange(f1));
    // real activations, not codes: the stride-8 residual sums are centred and of order one
    double minVal, maxVal;
    minMaxLoc(f1, &minVal, &maxVal);
    EXPECT_LT(minVal, 0.0);
    EXPECT_GT(maxVal, 0.5);
    EXPECT_LT(maxVal, 50.0);
    Scalar mean, stddev;
    meanStdDev(f1, mean, stddev);
    EXPECT_GT(stddev[0], 0.05);

    extractor->extract(image, f2, grid);
    EXPECT_EQ(0.0, cv::norm(f1, f2, NORM_INF)) << "same image, same features";

    // a different image gives different features
    Mat flipped, f3;
    flip(image, flipped, 1);
    extractor->extract(flipped, f3, grid);
    EXPECT_GT(cv::norm(f1, f3, NORM_INF), 0.1);
}

TEST(DMAD_FeatureExtractor, batch_equals_single_images)
{
    DMAD_REQUIRE_MOBILENET(model);
    std::vector<Mat> images;  // of several sizes and channel counts, as a folder of real images
    for (int i = 0; i < 5; i++)
        images.push_back(renderedPart(i % 2 ? "pill" : "metal_plate", i, 160 + 40 * i));

    FeatureExtractor::Params p = FeatureExtractor::preset("mobilenet_v2", model);
    p.batchSize = 2;  // 5 images: batches of 2, 2 and 1
    Ptr<FeatureExtractor> extractor = FeatureExtractor::create(p);
    Mat batch;
    Size grid;
    extractor->extractBatch(images, batch, grid);
    ASSERT_EQ(5 * grid.area(), batch.rows);
    for (int i = 0; i < 5; i++)
    {
        Mat single;
        extractor->extract(images[i], single, grid);
        // float arithmetic: a batch may sum in another order, never differ beyond rounding
        const double scale = std::max(1.0, cv::norm(single, NORM_INF));
        EXPECT_LE(cv::norm(single, batch.rowRange(i * grid.area(), (i + 1) * grid.area()), NORM_INF),
                  1e-5 * scale) << "image " << i;
    }
}

TEST(DMAD_FeatureExtractor, grid_of_non_square_inputs)
{
    DMAD_REQUIRE_MOBILENET(model);
    Ptr<FeatureExtractor> wide = mobileNet(model, Size(320, 192));
    EXPECT_EQ(Size(40, 24), wide->gridSize());
    Mat image(100, 300, CV_8UC3, Scalar(10, 200, 30)), f;
    Size grid;
    wide->extract(image, f, grid);
    EXPECT_EQ(Size(40, 24), grid);
    EXPECT_EQ(40 * 24, f.rows);

    Ptr<FeatureExtractor> tall = mobileNet(model, Size(128, 224));
    EXPECT_EQ(Size(16, 28), tall->gridSize());
}

TEST(DMAD_FeatureExtractor, image_types_are_converted_consistently)
{
    DMAD_REQUIRE_MOBILENET(model);
    Ptr<FeatureExtractor> extractor = mobileNet(model);
    RNG rng(7);
    Mat gray(256, 256, CV_8UC1);
    rng.fill(gray, RNG::UNIFORM, 0, 256);
    GaussianBlur(gray, gray, Size(9, 9), 2);
    Mat bgr, bgra, gray16, fGray, fBgr, fBgra, f16;
    cvtColor(gray, bgr, COLOR_GRAY2BGR);
    cvtColor(bgr, bgra, COLOR_BGR2BGRA);
    gray.convertTo(gray16, CV_16U, 257.0);
    Size grid;
    extractor->extract(gray, fGray, grid);
    extractor->extract(bgr, fBgr, grid);
    extractor->extract(bgra, fBgra, grid);
    extractor->extract(gray16, f16, grid);
    EXPECT_EQ(0.0, cv::norm(fGray, fBgr, NORM_INF));
    EXPECT_EQ(0.0, cv::norm(fBgra, fBgr, NORM_INF));
    // 16 bits scale by 1/257 in float: equal up to float rounding, amplified by the network
    EXPECT_LE(cv::norm(f16, fBgr, NORM_INF), 1e-5 * std::max(1.0, cv::norm(fBgr, NORM_INF)));
}

/** Letterboxing against its definition: the image scaled to fit, centred, padded with the mean
    colour, then fed unstretched; masks and anomaly maps go through the same region. */
TEST(DMAD_FeatureExtractor, letterbox_keeps_the_aspect_ratio)
{
    FeatureExtractor::Params p = microBackbone();  // 32 x 32 input, 16 x 16 grid
    p.mean = Scalar(0.2, 0.4, 0.6);
    EXPECT_EQ(Rect(0, 0, 32, 32), FeatureExtractor::inputRegion(p, Size(100, 40)));  // stretched
    p.letterbox = true;
    // 100 x 40 scales by 0.32 to 32 x 12.8: 13 rows, centred
    EXPECT_EQ(Rect(0, 9, 32, 13), FeatureExtractor::inputRegion(p, Size(100, 40)));
    EXPECT_EQ(Rect(9, 0, 13, 32), FeatureExtractor::inputRegion(p, Size(40, 100)));
    EXPECT_EQ(Rect(0, 0, 32, 32), FeatureExtractor::inputRegion(p, Size(50, 50)));
    EXPECT_EQ(Rect(0, 15, 32, 1), FeatureExtractor::inputRegion(p, Size(1000, 1)));
    EXPECT_CV_ERROR(FeatureExtractor::inputRegion(p, Size(0, 5)), "no input region");

    Mat image(40, 100, CV_8UC3);
    RNG(1).fill(image, RNG::UNIFORM, 0, 256);
    // by hand: area-shrunk to 32 x 13, on a canvas of the mean colour (RGB 0.2, 0.4, 0.6 of 255, fed BGR)
    Mat canvas(32, 32, CV_8UC3, Scalar(0.6 * 255, 0.4 * 255, 0.2 * 255)), shrunk;
    resize(image, shrunk, Size(32, 13), 0, 0, INTER_AREA);
    shrunk.copyTo(canvas(Rect(0, 9, 32, 13)));
    FeatureExtractor::Params stretched = p;
    stretched.letterbox = false;
    Mat expected, got;
    Size grid;
    FeatureExtractor::create(stretched)->extract(canvas, expected, grid);
    FeatureExtractor::create(p)->extract(image, got, grid);
    EXPECT_EQ(Size(16, 16), grid);
    EXPECT_LE(cv::norm(expected, got, NORM_INF), 1e-6 * std::max(1.0, cv::norm(expected, NORM_INF)));

    // a mask over the whole image marks the cells whose 2 x 2 pixels meet rows 9..21: grid rows 4..10
    const std::vector<int> cells = maskedPatchIndices(Mat(40, 100, CV_8U, Scalar(255)), p, grid);
    std::vector<int> rows4to10;
    for (int c = 4 * 16; c < 11 * 16; c++)
        rows4to10.push_back(c);
    EXPECT_EQ(rows4to10, cells);
    EXPECT_EQ(256u, maskedPatchIndices(Mat(40, 100, CV_8U, Scalar(255)), stretched, grid).size());
    // one defect pixel at the image's right end, half way down: cell column 15, row (9 + 6.5) / 2
    Mat dot = Mat::zeros(40, 100, CV_8U);
    dot.at<uchar>(20, 99) = 255;
    EXPECT_EQ(std::vector<int>{ 7 * 16 + 15 }, maskedPatchIndices(dot, p, grid));

    // the anomaly map of one hot cell, unsmoothed, peaks where that cell lies in the image
    Mat patchScores = Mat::zeros(16, 16, CV_32F), map;
    patchScores.at<float>(7, 8) = 1.f;  // input pixels x 16..17, y 14..15: image x ~53, y ~(15 - 9) 40 / 13
    cv::dmad::anomalyMapFromPatchScores(patchScores, p.inputSize, p.inputSize,
                                        FeatureExtractor::inputRegion(p, image.size()),
                                        image.size(), 0, map);
    ASSERT_EQ(image.size(), map.size());
    Point peak;
    minMaxLoc(map, nullptr, nullptr, nullptr, &peak);
    EXPECT_NEAR(16.5 * 100 / 32, peak.x, 3.5);
    EXPECT_NEAR((14.5 - 9) * 40 / 13.0, peak.y, 3.5);
}

// The micro backbone only pools (kernel = stride), so the tiles of a canvas give exactly the layer
// maps of the whole canvas: tiled features must equal those of one network input of the canvas' size.
TEST(DMAD_FeatureExtractor, tiles_join_into_the_grid_of_the_canvas)
{
    Mat image(40, 100, CV_8UC3), mask = Mat::zeros(40, 100, CV_8U);
    RNG(3).fill(image, RNG::UNIFORM, 0, 256);
    mask(Rect(70, 5, 6, 9)).setTo(255);
    for (bool letterbox : { false, true })
    {
        FeatureExtractor::Params tiled = microBackbone(), whole = microBackbone();  // 32 x 32 input
        tiled.tiles = Size(2, 1);
        whole.inputSize = Size(64, 32);
        tiled.letterbox = whole.letterbox = letterbox;
        EXPECT_EQ(Size(64, 32), FeatureExtractor::canvasSize(tiled));
        EXPECT_EQ(FeatureExtractor::inputRegion(whole, image.size()), FeatureExtractor::inputRegion(tiled, image.size()));
        Ptr<FeatureExtractor> extractor = FeatureExtractor::create(tiled);
        EXPECT_EQ(Size(32, 16), extractor->gridSize());
        Mat expected, got;
        Size grid;
        FeatureExtractor::create(whole)->extract(image, expected, grid);
        extractor->extract(image, got, grid);
        EXPECT_EQ(Size(32, 16), grid);
        ASSERT_EQ(expected.size(), got.size());
        EXPECT_LE(cv::norm(expected, got, NORM_INF), 1e-6 * std::max(1.0, cv::norm(expected, NORM_INF))) << letterbox;
        // masks go through the same canvas: the defect's cells, right of the seam (x 70..75 of 100 -> 44..48 of 64)
        const std::vector<int> cells = maskedPatchIndices(mask, tiled, grid);
        EXPECT_EQ(maskedPatchIndices(mask, whole, grid), cells);
        ASSERT_FALSE(cells.empty());
        for (int c : cells)
            EXPECT_GE(c % 32, 16) << "cell " << c << " lies in the right tile";
    }
}

// Each tile runs through MobileNetV2 on its own and the tiles' maps are joined before the patch
// aggregation: away from the seams a tile's cells are those of its pixels run alone; at a seam the
// neighbourhood reaches into the next tile.
TEST(DMAD_FeatureExtractor, tiles_run_alone_and_meet_at_the_seams)
{
    DMAD_REQUIRE_MOBILENET(model);
    const Mat image = renderedPart("metal_plate", 1, 512);
    ASSERT_EQ(Size(512, 512), image.size());
    FeatureExtractor::Params p = FeatureExtractor::preset("mobilenet_v2", model);
    p.tiles = Size(2, 2);
    Ptr<FeatureExtractor> tiled = FeatureExtractor::create(p);
    EXPECT_EQ(Size(64, 64), tiled->gridSize());
    Mat got, alone;
    Size grid, aloneGrid;
    tiled->extract(image, got, grid);
    ASSERT_EQ(Size(64, 64), grid);
    // the bottom-right tile, exactly 256 x 256 pixels of the image (no resizing on either side)
    mobileNet(model)->extract(image(Rect(256, 256, 256, 256)).clone(), alone, aloneGrid);
    ASSERT_EQ(Size(32, 32), aloneGrid);
    const double scale = cv::norm(alone, NORM_INF);
    double farFromSeam = 0, atSeam = 0;
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++)
        {
            // the stride-16 layer's 3 x 3 neighbourhood and its upsampling reach 4 cells of the finest grid
            double& worst = x >= 4 && y >= 4 ? farFromSeam : atSeam;
            worst = std::max(worst, cv::norm(alone.row(y * 32 + x), got.row((32 + y) * 64 + 32 + x), NORM_INF));
        }
    EXPECT_LE(farFromSeam, 1e-5 * scale);
    EXPECT_GT(atSeam, 1e-2 * scale) << "the seam's cells see the neighbouring tiles";
}

TEST(DMAD_FeatureExtractor, map_sigma_follows_the_network_input_not_the_canvas)
{
    Mat patchScores = Mat::zeros(16, 16, CV_32F), tiled, whole;
    patchScores.at<float>(5, 11) = 1.f;
    const Size canvas(64, 64), image(100, 80);
    // 2 x 2 tiles of 32 px with sigma 8 at 256 px: 1 canvas pixel, as one 64 px input with sigma 4
    cv::dmad::anomalyMapFromPatchScores(patchScores, canvas, Size(32, 32), Rect(Point(), canvas), image, 8, tiled);
    cv::dmad::anomalyMapFromPatchScores(patchScores, canvas, canvas, Rect(Point(), canvas), image, 4, whole);
    EXPECT_EQ(0.0, cv::norm(tiled, whole, NORM_INF));
    Point peak;
    minMaxLoc(tiled, nullptr, nullptr, nullptr, &peak);
    EXPECT_NEAR(11.5 * 100 / 16, peak.x, 4);
    EXPECT_NEAR(5.5 * 80 / 16, peak.y, 4);
}

TEST(DMAD_FeatureExtractor, save_load_round_trip)
{
    DMAD_REQUIRE_MOBILENET(model);
    FeatureExtractor::Params p = FeatureExtractor::preset("mobilenet_v2", model);
    p.inputSize = Size(224, 160);
    p.batchSize = 3;
    p.layerDims = 100;
    p.featureDims = 64;
    p.letterbox = true;
    p.tiles = Size(2, 1);
    Ptr<FeatureExtractor> extractor = FeatureExtractor::create(p);
    for (const char* suffix : { ".yml", ".xml", ".json", ".yml.gz" })
    {
        TempFile file(suffix);
        extractor->save(file.path);
        Ptr<FeatureExtractor> loaded = FeatureExtractor::load(file.path);
        const FeatureExtractor::Params q = loaded->getParams();
        EXPECT_EQ(p.preset, q.preset);
        EXPECT_EQ(p.model, q.model);
        EXPECT_EQ(p.layers, q.layers);
        EXPECT_EQ(p.layerScales, q.layerScales);
        EXPECT_EQ(p.layerZeroPoints, q.layerZeroPoints);
        EXPECT_EQ(p.inputSize, q.inputSize);
        EXPECT_EQ(p.swapRB, q.swapRB);
        EXPECT_DOUBLE_EQ(p.scale, q.scale);
        EXPECT_EQ(p.mean, q.mean);
        EXPECT_EQ(p.std, q.std);
        EXPECT_EQ(p.patchSize, q.patchSize);
        EXPECT_EQ(p.layerDims, q.layerDims);
        EXPECT_EQ(p.featureDims, q.featureDims);
        EXPECT_EQ(p.batchSize, q.batchSize);
        EXPECT_EQ(p.letterbox, q.letterbox);
        EXPECT_EQ(p.tiles, q.tiles);
        EXPECT_EQ(extractor->gridSize(), loaded->gridSize()) << suffix;

        Mat image(200, 300, CV_8UC3, Scalar(40, 90, 160)), a, b;
        Size grid;
        extractor->extract(image, a, grid);
        loaded->extract(image, b, grid);
        EXPECT_EQ(0.0, cv::norm(a, b, NORM_INF)) << suffix;
    }
}

TEST(DMAD_FeatureExtractor, params_of_float_backbones_round_trip_in_base64)
{
    FeatureExtractor::Params p = FeatureExtractor::preset("wrn50", "some/where/wrn50.onnx");
    ASSERT_TRUE(p.layerScales.empty());
    FileStorage out(".yml", FileStorage::WRITE | FileStorage::MEMORY | FileStorage::BASE64);
    out << "params" << "{";
    p.write(out);
    out << "}";
    FileStorage in(out.releaseAndGetString(), FileStorage::READ | FileStorage::MEMORY);
    FeatureExtractor::Params q = FeatureExtractor::preset("mobilenetv2-int8");
    q.read(in["params"]);
    EXPECT_EQ(p.model, q.model);
    EXPECT_EQ(p.layers, q.layers);
    EXPECT_TRUE(q.layerScales.empty());
    EXPECT_TRUE(q.layerZeroPoints.empty());
    EXPECT_EQ(p.featureDims, q.featureDims);
}

TEST(DMAD_FeatureExtractor, clear_errors)
{
    EXPECT_CV_ERROR(FeatureExtractor::create(FeatureExtractor::preset("mobilenetv2-int8", "/nonexistent/m.onnx")),
                    "not found");
    EXPECT_CV_ERROR(FeatureExtractor::preset("resnet9000"), "unknown backbone preset");

    DMAD_REQUIRE_MOBILENET(model);
    FeatureExtractor::Params p = FeatureExtractor::preset("mobilenet_v2", model);
    p.layers = { "block_5_add", "no_such_layer" };
    EXPECT_CV_ERROR(FeatureExtractor::create(p), "no layer 'no_such_layer'");

    Ptr<FeatureExtractor> extractor = mobileNet(model);
    Mat f;
    Size grid;
    EXPECT_CV_ERROR(extractor->extract(Mat(), f, grid), "empty image");
    EXPECT_CV_ERROR(extractor->extract(Mat(64, 64, CV_8UC2, Scalar::all(3)), f, grid), "2 channels");
    EXPECT_CV_ERROR(extractor->extract(Mat(64, 64, CV_32FC3, Scalar::all(3)), f, grid), "depth");
    EXPECT_CV_ERROR(extractor->extractBatch(std::vector<Mat>(), f, grid), "no images");
}

TEST(DMAD_FeatureExtractor, truncated_model_file_throws)
{
    DMAD_REQUIRE_MOBILENET(model);
    std::ifstream in(model.c_str(), std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 100000u) << model;
    for (size_t keep : { (size_t)0, (size_t)17, bytes.size() / 3, bytes.size() - 1000 })
    {
        TempFile truncated(".onnx");
        std::ofstream(truncated.path.c_str(), std::ios::binary).write(bytes.data(), (std::streamsize)keep);
        EXPECT_THROW(FeatureExtractor::create(FeatureExtractor::preset("mobilenet_v2", truncated.path)),
                     cv::Exception) << "kept " << keep << " bytes";
    }
}

TEST(DMAD_FeatureExtractor, unavailable_backend_is_an_error)
{
    DMAD_REQUIRE_MOBILENET(model);
    bool haveCuda = false;
    for (const auto& backend : dnn::getAvailableBackends())
        haveCuda = haveCuda || backend.first == dnn::DNN_BACKEND_CUDA;
    // OpenCV 4.10 built with CUDA lists the backend without a device; the extractor refuses it then.
    if (haveCuda && cv::cuda::getCudaEnabledDeviceCount() > 0)
        DMAD_SKIP_TEST("this OpenCV has the CUDA backend and a CUDA device");
    Ptr<FeatureExtractor> extractor = mobileNet(model);
    EXPECT_CV_ERROR(extractor->setPreferableBackend(dnn::DNN_BACKEND_CUDA), "not available");
    EXPECT_CV_ERROR(extractor->setPreferableTarget(dnn::DNN_TARGET_CUDA), "not available");
    extractor->setPreferableBackend(dnn::DNN_BACKEND_OPENCV);
    extractor->setPreferableTarget(dnn::DNN_TARGET_CPU);
    Mat f;
    Size grid;
    extractor->extract(Mat(64, 64, CV_8UC3, Scalar::all(3)), f, grid);
    EXPECT_EQ(1024, f.rows);
}

TEST(DMAD_FeatureExtractor, file_from_newer_version_is_refused)
{
    DMAD_REQUIRE_MOBILENET(model);
    TempFile file(".yml");
    mobileNet(model)->save(file.path);
    ASSERT_TRUE(editSavedFile(file.path, "dmad_format_version: 1", "dmad_format_version: 9"));
    EXPECT_CV_ERROR(FeatureExtractor::load(file.path), "newer dmad");
    EXPECT_CV_ERROR(FeatureExtractor::load("/nonexistent/extractor.yml"), "cannot open");
}

// ---------------------------------------------------------------- int8 networks (../shared)

//! A quantized network's taps are int8 codes: the extractor needs their scales and zero points.
TEST(DMAD_Int8Backbone, taps_need_scales_and_zero_points)
{
    DMAD_REQUIRE_SHARED(model, kInt8MobileNet);
    FeatureExtractor::Params p = FeatureExtractor::preset("mobilenetv2-int8", model);
    Ptr<FeatureExtractor> extractor = FeatureExtractor::create(p);
    Mat f1, f2;
    Size grid;
    const Mat image = renderedPart("metal_plate", 0, 256);
    extractor->extract(image, f1, grid);
    EXPECT_EQ(Size(32, 32), grid);
    ASSERT_EQ(288, f1.cols);
    double minVal, maxVal;  // dequantized activations, not codes in 0..255
    minMaxLoc(f1, &minVal, &maxVal);
    EXPECT_LT(minVal, 0.0);
    EXPECT_LT(maxVal, 50.0);
    std::vector<Mat> batch = { image, renderedPart("pill", 1, 200) };
    extractor->extractBatch(batch, f2, grid);
    // int8 arithmetic is exact, so batching must not change a single value
    EXPECT_LE(cv::norm(f1, f2.rowRange(0, grid.area()), NORM_INF), 1e-5);

    p.layers = { "onnx_node!Add_32_quant", "no_such_layer" };
    p.layerScales = { 1.f, 1.f };
    p.layerZeroPoints = { 0.f, 0.f };
    EXPECT_CV_ERROR(FeatureExtractor::create(p), "no layer 'no_such_layer'");

    p = FeatureExtractor::preset("mobilenetv2-int8", model);
    p.layerScales.clear();
    p.layerZeroPoints.clear();
    EXPECT_CV_ERROR(FeatureExtractor::create(p), "int8 codes");

    p = FeatureExtractor::preset("mobilenetv2-int8", model);
    TempFile file(".yml");
    FeatureExtractor::create(p)->save(file.path);
    const FeatureExtractor::Params q = FeatureExtractor::load(file.path)->getParams();
    EXPECT_EQ(p.layerScales, q.layerScales);
    EXPECT_EQ(p.layerZeroPoints, q.layerZeroPoints);
}

/** Bare model names are looked up in OPENCV_DMAD_BACKBONE_PATH (OpenCV's configuration parameters);
    the DMAD_BACKBONE_PATH of earlier versions still works, and the new name wins over it. */
TEST(DMAD_FeatureExtractor, backbone_path_configuration)
{
    EnvironmentGuard current("OPENCV_DMAD_BACKBONE_PATH"), old("DMAD_BACKBONE_PATH");
    FeatureExtractor::Params p = microBackbone();
    p.model = "micro_pooling.prototxt";  // bare: found through the path only
    const std::string dataDir = testDataFile("");
    setEnvironment("OPENCV_DMAD_BACKBONE_PATH", nullptr);
    setEnvironment("DMAD_BACKBONE_PATH", ("/nonexistent:" + dataDir).c_str());
    EXPECT_EQ(Size(16, 16), FeatureExtractor::create(p)->gridSize()) << "deprecated name";
    setEnvironment("OPENCV_DMAD_BACKBONE_PATH", "/nonexistent/a:/nonexistent/b");
    EXPECT_CV_ERROR(FeatureExtractor::create(p), "/nonexistent/a, /nonexistent/b");
    setEnvironment("OPENCV_DMAD_BACKBONE_PATH", dataDir.c_str());
    setEnvironment("DMAD_BACKBONE_PATH", nullptr);
    EXPECT_EQ(Size(16, 16), FeatureExtractor::create(p)->gridSize()) << "OpenCV's name";
}

}} // namespace

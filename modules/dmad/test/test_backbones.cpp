// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The converted backbones against their originals: cv::dnn runs a model on the procedural image of
// tools/backbones/tfjs_reference.js and compares the tapped layers with a reference written by the
// original framework (TensorFlow.js for the nsfwjs trunks, torch for tools/export_wrn50.py).

#include "test_precomp.hpp"

#include <opencv2/dnn.hpp>

#include <iostream>

namespace opencv_test { namespace {

//! Relative L2 error a converted backbone may have against its original.
const double kMaxRelativeError = 1e-4;

std::string envOr(const char* name, const std::string& fallback)
{
    const char* value = std::getenv(name);
    return value && *value ? std::string(value) : fallback;
}

std::string testDataDir()
{
#ifdef DMAD_TEST_DATA_DIR
    return DMAD_TEST_DATA_DIR;
#else
    return "";
#endif
}

bool fileExists(const std::string& path)
{
    return !path.empty() && std::ifstream(path.c_str()).good();
}

/** The image of tools/backbones/tfjs_reference.js ("dmad-procedural-v1"), as a 1x3xHxW RGB blob of
    the 8-bit values times `scale`: ramps, a blue checkerboard and an inverted disc. */
Mat proceduralBlob(int width, int height, double scale)
{
    Mat blob(std::vector<int>{ 1, 3, height, width }, CV_32F);
    float* red = blob.ptr<float>(0, 0);
    float* green = blob.ptr<float>(0, 1);
    float* blue = blob.ptr<float>(0, 2);
    const int cx = width >> 1, cy = height >> 1, r = width >> 2;
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            int rv = x * 255 / (width - 1), gv = y * 255 / (height - 1);
            const int bv = (((x >> 4) + (y >> 4)) & 1) ? 220 : 30;
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r)
            {
                rv = 255 - rv;
                gv = 255 - gv;
            }
            const int i = y * width + x;
            red[i] = (float)(rv * scale);
            green[i] = (float)(gv * scale);
            blue[i] = (float)(bv * scale);
        }
    return blob;
}

struct ReferenceLayer
{
    std::string name;
    std::vector<int> shape;  // NCHW
    int step = 1;            // the reference keeps the values at flat indices k * step
    Mat values;              // 1 x count CV_32F
};

struct Reference
{
    std::string origin;      // what computed it, e.g. "tfjs 4.22.0 cpu"
    Size inputSize;
    double scale = 1.0;
    std::vector<ReferenceLayer> layers;
};

/** Reads `<prefix>.json` (written by tfjs_reference.js or export_wrn50.py) and its data file. */
Reference readReference(const std::string& prefix)
{
    Reference ref;
    FileStorage fs(prefix + ".json", FileStorage::READ | FileStorage::FORMAT_JSON);
    CV_Assert(fs.isOpened());
    ref.origin = (std::string)fs["reference"];
    const FileNode input = fs["input"];
    CV_Assert((std::string)input["pattern"] == "dmad-procedural-v1");
    ref.inputSize = Size((int)input["width"], (int)input["height"]);
    ref.scale = (double)input["scale"];

    const std::string folder = prefix.substr(0, prefix.find_last_of('/') + 1);
    const std::string data = folder + (std::string)fs["data"];
    std::ifstream in(data.c_str(), std::ios::binary);
    CV_Assert(in.good());
    for (const FileNode& node : fs["layers"])
    {
        ReferenceLayer layer;
        layer.name = (std::string)node["name"];
        node["shape"] >> layer.shape;
        layer.step = (int)node["step"];
        layer.values.create(1, (int)node["count"], CV_32F);
        in.seekg((std::streamoff)(int)node["offset"] * (std::streamoff)sizeof(float));
        in.read(layer.values.ptr<char>(), (std::streamsize)(layer.values.total() * sizeof(float)));
        CV_Assert(in.good());
        ref.layers.push_back(layer);
    }
    CV_Assert(!ref.layers.empty());
    return ref;
}

std::string shapeString(const std::vector<int>& shape)
{
    std::string s;
    for (int d : shape)
        s += (s.empty() ? "" : "x") + std::to_string(d);
    return s;
}

/** Runs `model` through cv::dnn (default settings, fusion on) on the reference's input and checks
    each tapped layer: reachable by name, same shape, relative L2 error under kMaxRelativeError.
    Prints one line per layer. */
void expectMatchesReference(const std::string& model, const std::string& prefix)
{
    const Reference ref = readReference(prefix);
    dnn::Net net = dnn::readNet(model);
    std::vector<String> names;
    for (const ReferenceLayer& layer : ref.layers)
    {
        EXPECT_GE(net.getLayerId(layer.name), 0) << layer.name;
        names.push_back(layer.name);
    }
    net.setInput(proceduralBlob(ref.inputSize.width, ref.inputSize.height, ref.scale));
    std::vector<Mat> outs;
    net.forward(outs, names);  // the middle and final taps together, as FeatureExtractor asks
    ASSERT_EQ(names.size(), outs.size());
    const std::string modelName = model.substr(model.find_last_of('/') + 1);
    for (size_t l = 0; l < outs.size(); l++)
    {
        const ReferenceLayer& layer = ref.layers[l];
        const std::vector<int> shape(outs[l].size.p, outs[l].size.p + outs[l].dims);
        ASSERT_EQ(layer.shape, shape) << layer.name;
        const Mat flat(1, (int)outs[l].total(), CV_32F, outs[l].ptr<float>());
        Mat sampled(1, layer.values.cols, CV_32F);
        for (int k = 0; k < layer.values.cols; k++)
            sampled.at<float>(k) = flat.at<float>((int)((int64)k * layer.step));
        const double error =
            cv::norm(sampled, layer.values, NORM_L2) / cv::norm(layer.values, NORM_L2);
        const double maxAbs = cv::norm(sampled, layer.values, NORM_INF);
        std::cout << cv::format("[ dmad     ] %s %s %s vs %s: relative L2 error %.2e over %d "
                                "values (max abs %.2e)", modelName.c_str(), layer.name.c_str(),
                                shapeString(shape).c_str(), ref.origin.c_str(), error,
                                layer.values.cols, maxAbs)
                  << std::endl;
        EXPECT_LT(error, kMaxRelativeError) << layer.name;
    }
}

class DMAD_Backbones_nsfwjs : public testing::TestWithParam<std::string>
{
protected:
    //! The converted model, or an empty string when scripts/get-backbone.sh has not run.
    std::string model() const
    {
        const std::string path = backboneDir() + "/nsfwjs_" + GetParam() + ".onnx";
        return fileExists(path) ? path : std::string();
    }
};

//! Skips the test, saying how to get the model, when the converted model is absent.
#define DMAD_REQUIRE_BACKBONE(var)                                                          \
    const std::string var = model();                                                        \
    if (var.empty())                                                                        \
        DMAD_SKIP_TEST("needs " << backboneDir() << "/nsfwjs_" << GetParam()               \
                       << ".onnx: run scripts/get-backbone.sh (or set DMAD_BACKBONE_DIR)")

TEST_P(DMAD_Backbones_nsfwjs, matches_tfjs)
{
    DMAD_REQUIRE_BACKBONE(path);
    // The reference in git keeps 4096 values per layer; scripts/verify-backbone.sh points
    // DMAD_BACKBONE_REFERENCE_DIR at freshly computed whole tensors.
    const std::string fullDir = envOr("DMAD_BACKBONE_REFERENCE_DIR", "");
    const std::string prefix = fullDir.empty() ? testDataDir() + "/nsfwjs_" + GetParam() + "_tfjs"
                                               : fullDir + "/" + GetParam();
    ASSERT_TRUE(fileExists(prefix + ".json")) << prefix << ".json";
    expectMatchesReference(path, prefix);
}

TEST_P(DMAD_Backbones_nsfwjs, presets_extract_features)
{
    DMAD_REQUIRE_BACKBONE(path);
    const bool inception = GetParam() == "inception_v3";
    for (const char* variant : { "", "-tf" })
    {
        FeatureExtractor::Params p = FeatureExtractor::preset(GetParam() + variant, path);
        Ptr<FeatureExtractor> extractor = FeatureExtractor::create(p);
        EXPECT_EQ(inception ? Size(29, 29) : Size(32, 32), extractor->gridSize());
        Mat image(300, 400, CV_8UC3);
        randu(image, 0, 256);
        GaussianBlur(image, image, Size(7, 7), 2);
        Mat features;
        Size grid;
        extractor->extract(image, features, grid);
        EXPECT_EQ(grid.area(), features.rows);
        EXPECT_EQ(p.featureDims, features.cols);
        EXPECT_TRUE(cv::checkRange(features));
        Scalar mean, stddev;
        meanStdDev(features, mean, stddev);
        EXPECT_GT(stddev[0], 1e-3) << "features of a textured image vary";
    }
    // "any input size": non-square, and small
    FeatureExtractor::Params p = FeatureExtractor::preset(GetParam(), path);
    p.inputSize = Size(320, 192);
    EXPECT_EQ(inception ? Size(37, 21) : Size(40, 24), FeatureExtractor::create(p)->gridSize());
}

INSTANTIATE_TEST_CASE_P(/**/, DMAD_Backbones_nsfwjs,
                         testing::Values("inception_v3", "mobilenet_v2"),
                         [](const testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(DMAD_Backbones, nsfwjs_presets)
{
    const std::vector<String> names = FeatureExtractor::presetNames();
    for (const char* name :
         { "inception_v3", "inception_v3-tf", "mobilenet_v2", "mobilenet_v2-tf" })
        EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;

    const FeatureExtractor::Params inception = FeatureExtractor::preset("inception_v3");
    EXPECT_EQ("nsfwjs_inception_v3.onnx", inception.model);
    EXPECT_EQ((std::vector<String>{ "mixed2", "mixed5" }), inception.layers);
    EXPECT_TRUE(inception.layerScales.empty());
    const FeatureExtractor::Params mobile =
        FeatureExtractor::preset("mobilenet_v2", "/models/m.onnx");
    EXPECT_EQ("/models/m.onnx", mobile.model);
    EXPECT_EQ((std::vector<String>{ "block_5_add", "block_10_project_BN" }), mobile.layers);

    // x / 255 (what nsfwjs feeds) and x / 127.5 - 1 (Keras "tf" mode, the ImageNet training)
    for (const char* name : { "inception_v3", "mobilenet_v2" })
    {
        const FeatureExtractor::Params unit = FeatureExtractor::preset(name);
        const FeatureExtractor::Params tf = FeatureExtractor::preset(std::string(name) + "-tf");
        EXPECT_TRUE(unit.swapRB && tf.swapRB) << "RGB";
        EXPECT_EQ(unit.layers, tf.layers);
        EXPECT_EQ(unit.model, tf.model);
        for (int c = 0; c < 3; c++)
        {
            for (int v : { 0, 255 })
            {
                const double unitValue = (v * unit.scale - unit.mean[c]) / unit.std[c];
                const double tfValue = (v * tf.scale - tf.mean[c]) / tf.std[c];
                EXPECT_NEAR(v / 255.0, unitValue, 1e-12);
                EXPECT_NEAR(v / 127.5 - 1.0, tfValue, 1e-12);
            }
        }
    }
}

/* test/export_wrn50.sh compares a model it just made with a reference from its original framework
   through this test, which runs only when asked (--gtest_also_run_disabled_tests):
   DMAD_REFERENCE_MODEL=<model.onnx> DMAD_REFERENCE_PREFIX=<prefix of .json and .f32>. */
TEST(DMAD_Reference, DISABLED_model_matches_reference)
{
    const std::string model = envOr("DMAD_REFERENCE_MODEL", ""), prefix = envOr("DMAD_REFERENCE_PREFIX", "");
    if (model.empty() || prefix.empty())
        DMAD_SKIP_TEST("set DMAD_REFERENCE_MODEL and DMAD_REFERENCE_PREFIX");
    expectMatchesReference(model.c_str(), prefix.c_str());
}

}} // namespace opencv_test

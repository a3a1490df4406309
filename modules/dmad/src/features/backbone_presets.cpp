// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Layer names, quantisation and preprocessing of the backbones dmad knows by name.

#include "precomp.hpp"

namespace cv {
namespace dmad {

namespace {

const Scalar kImageNetMean(0.485, 0.456, 0.406);
const Scalar kImageNetStd(0.229, 0.224, 0.225);

FeatureExtractor::Params imageNetRgb(const char* name, const char* model, Size input)
{
    FeatureExtractor::Params p;
    p.preset = name;
    p.model = model;
    p.inputSize = input;
    p.swapRB = true;
    p.scale = 1.0 / 255.0;
    p.mean = kImageNetMean;
    p.std = kImageNetStd;
    p.patchSize = 3;
    return p;
}

/** The Keras-applications trunks bundled in nsfwjs (scripts/get-backbone.sh). `kerasTfMode`
    selects the preprocessing Keras trained them with on ImageNet, x / 127.5 - 1; without it they
    get x / 255, which nsfwjs feeds them and which a first probe found better for anomaly
    detection. Both RGB. */
FeatureExtractor::Params nsfwjsTrunk(const String& name, const char* model, bool kerasTfMode)
{
    FeatureExtractor::Params p;
    p.preset = name;
    p.model = model;
    p.inputSize = Size(256, 256);  // even: MobileNetV2's ZeroPadding2D is baked for even sizes
    p.swapRB = true;
    p.scale = 1.0 / 255.0;
    p.mean = kerasTfMode ? Scalar::all(0.5) : Scalar::all(0);
    p.std = kerasTfMode ? Scalar::all(0.5) : Scalar::all(1);
    p.patchSize = 3;
    return p;
}

} // namespace

std::vector<String> FeatureExtractor::presetNames()
{
    return { "mobilenetv2-int8", "wrn50", "inception_v3", "inception_v3-tf", "mobilenet_v2",
             "mobilenet_v2-tf" };
}

FeatureExtractor::Params FeatureExtractor::preset(const String& name, const String& model)
{
    Params p;
    if (name == "mobilenetv2-int8")
    {
        // ONNX Model Zoo MobileNetV2-1.0 int8 (QLinear ops). Taps: the residual sums at stride 8
        // (32 channels) and stride 16 (96 channels), the depths closest to WRN50's layer2/layer3.
        p = imageNetRgb("mobilenetv2-int8", "mobilenetv2-12-int8.onnx", Size(256, 256));
        p.layers = { "onnx_node!Add_32_quant", "onnx_node!Add_72_quant" };
        p.layerScales = { 0.049828f, 0.070490f };
        p.layerZeroPoints = { 120.f, 123.f };
        // 32*9 and 96*9 neighbourhood values; 288 keeps the stride-8 layer whole.
        p.layerDims = 288;
        p.featureDims = 288;
    }
    else if (name == "wrn50")
    {
        // torchvision wide_resnet50_2 up to layer3, exported by tools/export_wrn50.py: the paper's backbone.
        p = imageNetRgb("wrn50", "wide_resnet50_2.onnx", Size(256, 256));
        p.layers = { "layer2", "layer3" };
        p.layerDims = 1536;
        p.featureDims = 1536;
    }
    else if (name == "inception_v3" || name == "inception_v3-tf")
    {
        // Keras InceptionV3 from nsfwjs, cut after mixed5. mixed2 (288 channels) and mixed5 (768)
        // end the stride-8 and stride-16 stages: 29x29 and 14x14 grids at 256x256 ("valid"
        // stride-2 convolutions, so not exactly 32 and 16).
        p = nsfwjsTrunk(name, "nsfwjs_inception_v3.onnx", name == "inception_v3-tf");
        p.layers = { "mixed2", "mixed5" };
        p.layerDims = 1024;
        p.featureDims = 1024;
    }
    else if (name == "mobilenet_v2" || name == "mobilenet_v2-tf")
    {
        // Keras MobileNetV2 from nsfwjs, cut after block_10. The taps match mobilenetv2-int8's:
        // the last stride-8 residual sum (32 channels) and the stride-16 block output (96). The
        // BatchNorm tap is the cut graph's final layer; the converter's graph outputs keep
        // cv::dnn 4.6's fusion bug away (see doc/backbones.md).
        p = nsfwjsTrunk(name, "nsfwjs_mobilenet_v2.onnx", name == "mobilenet_v2-tf");
        p.layers = { "block_5_add", "block_10_project_BN" };
        p.layerDims = 288;
        p.featureDims = 288;
    }
    else
    {
        String known;
        for (const String& n : presetNames())
            known += (known.empty() ? "" : ", ") + n;
        CV_Error(Error::StsBadArg, cv::format("dmad: unknown backbone preset '%s' (known: %s)",
                                              name.c_str(), known.c_str()));
    }
    if (!model.empty())
        p.model = model;
    return p;
}

}} // namespace cv::dmad

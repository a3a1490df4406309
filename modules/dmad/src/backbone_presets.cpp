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

} // namespace

std::vector<String> FeatureExtractor::presetNames()
{
    return { "mobilenetv2-int8", "wrn50" };
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

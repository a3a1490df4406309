// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Small models for the model tests:
// - "tiny": the real ImageNet MobileNetV2 (registryMobileNet(), from the npm registry) on rendered
//   synthetic images, 1-3 s;
// - "micro": a weightless pooling backbone from test/data on random images, a few milliseconds, so
//   tests that need many trained models or many loads (the file fuzzer) run everywhere, fast, and
//   under the sanitizers.

#ifndef OPENCV_DMAD_TEST_TINY_MODEL_HPP
#define OPENCV_DMAD_TEST_TINY_MODEL_HPP

#include "test_precomp.hpp"

namespace opencv_test {


//! The image scores of predict(), one image at a time.
inline std::vector<float> scoresOf(const dmad::DMAD& model, const std::vector<Mat>& images)
{
    std::vector<float> s;
    for (const Mat& img : images)
    {
        float score;
        model.predict(img, score);
        s.push_back(score);
    }
    return s;
}

//! A few rendered images of two synthetic classes: normal ones and defective ones with masks.
struct TinyDataset
{
    std::vector<Mat> normal, anomalous, masks, testImages;
    std::vector<int> classIds, testLabels;

    TinyDataset()
    {
        const std::vector<String> classes = { "fabric", "washer" };
        for (int c = 0; c < 2; c++)
        {
            for (int i = 0; i < 8; i++)
            {
                Mat img, mask;
                renderSyntheticSample(classes[c], "good", 3, i, 128, img, mask);
                normal.push_back(img);
                classIds.push_back(c);
            }
            const String defect = syntheticDefectTypes(classes[c])[0];
            for (int i = 0; i < 2; i++)
            {
                Mat img, mask;
                renderSyntheticSample(classes[c], defect, 3, i, 128, img, mask);
                anomalous.push_back(img);
                masks.push_back(mask);
            }
            for (int i = 0; i < 3; i++)
            {
                Mat img, mask;
                renderSyntheticSample(classes[c], "good", 3, -1 - i, 128, img, mask);
                testImages.push_back(img);
                testLabels.push_back(0);
                renderSyntheticSample(classes[c], defect, 3, 10 + i, 128, img, mask);
                testImages.push_back(img);
                testLabels.push_back(1);
            }
        }
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 2; i++)
                classIds.push_back(c);
    }
};

//! The CPU configuration shrunk to train on TinyDataset in seconds (a 16 x 16 grid, D = 288).
inline DMAD::Params tinyParams(const std::string& model)
{
    DMAD::Params p = DMAD::Params::cpu("mobilenet_v2", model);
    p.backbone.inputSize = Size(128, 128);  // a 16 x 16 grid
    p.banks.normalCoresetRatio = 0.1;
    p.training.epochs = 3;
    p.training.batchPatches = 256;
    p.hiddenDims = 32;
    p.training.trainPatchRatio = 0.5;
    p.syntheticImages = 4;
    p.textureImages = 3;
    return p;
}

/** A backbone without weights: test/data/micro_pooling.prototxt, two pooling layers of the pixels
    (grid 16 x 16 at 32 x 32 input, D = 8). Features mean little, but every code path runs. */
inline FeatureExtractor::Params microBackbone()
{
    FeatureExtractor::Params p;
    p.preset = "micro_pooling";
    p.model = testDataFile("micro_pooling.prototxt");
    p.layers = { "pool1", "pool2" };
    p.inputSize = Size(32, 32);
    p.layerDims = 8;
    p.featureDims = 8;
    p.batchSize = 4;
    return p;
}

//! DMAD on the micro backbone: trains in a few milliseconds, saves to about 30 kB of YAML.
inline DMAD::Params microParams()
{
    DMAD::Params p;
    p.backbone = microBackbone();
    p.banks.normalCoresetRatio = 0.1;
    p.training.epochs = 2;
    p.training.batchPatches = 64;
    p.hiddenDims = 8;
    p.training.trainPatchRatio = 0.5;
    p.syntheticImages = 2;
    p.textureImages = 2;
    return p;
}

//! Smooth random images with bright square defects, for microParams().
struct MicroDataset
{
    std::vector<Mat> normal, anomalous, masks, testImages;

    explicit MicroDataset(int normalCount = 6)
    {
        RNG rng(5);
        auto smooth = [&rng](Size size) {
            Mat img(size, CV_8UC3);
            rng.fill(img, RNG::UNIFORM, 0, 256);
            GaussianBlur(img, img, Size(5, 5), 1.5);
            return img;
        };
        for (int i = 0; i < normalCount; i++)
            normal.push_back(smooth(Size(40, 40)));
        for (int i = 0; i < 2; i++)
        {
            Mat img = smooth(Size(40, 40)), mask = Mat::zeros(img.size(), CV_8U);
            const Rect defect(8 + 10 * i, 12, 9, 7);
            img(defect).setTo(Scalar(255, 255, 255));
            mask(defect).setTo(255);
            anomalous.push_back(img);
            masks.push_back(mask);
        }
        testImages = { smooth(Size(40, 40)), anomalous[0], smooth(Size(64, 48)) };
    }
};

} // namespace opencv_test

#endif // OPENCV_DMAD_TEST_TINY_MODEL_HPP

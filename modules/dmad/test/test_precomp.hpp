// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_TEST_PRECOMP_HPP
#define OPENCV_DMAD_TEST_PRECOMP_HPP

#include "test_common.hpp"

#include "opencv2/dmad.hpp"
// the tests render their images and score them with the evaluation tooling
#include "opencv2/dmad_eval.hpp"

namespace opencv_test {
using namespace cv::dmad;

//! Where scripts/get-backbone.sh writes the converted registry backbones ($DMAD_BACKBONE_DIR wins).
inline std::string backboneDir()
{
    const char* env = std::getenv("DMAD_BACKBONE_DIR");
#ifdef DMAD_DEFAULT_BACKBONE_DIR
    return env && *env ? std::string(env) : std::string(DMAD_DEFAULT_BACKBONE_DIR);
#else
    return env && *env ? std::string(env) : std::string();
#endif
}

/** The model, extractor and model-file tests' backbone: the ImageNet MobileNetV2 of the npm package
    nsfwjs, converted by scripts/get-backbone.sh, which the README's test command runs first. So they
    run on every machine that ran that command, with or without ../shared. Empty when absent. */
inline std::string registryMobileNet()
{
    const std::string path = backboneDir() + "/nsfwjs_mobilenet_v2.onnx";
    return std::ifstream(path.c_str()).good() ? path : std::string();
}

//! Skips the current test, saying how to get it, when the registry MobileNetV2 is absent.
#define DMAD_REQUIRE_MOBILENET(var)                                                                 \
    const std::string var = ::opencv_test::registryMobileNet();                                    \
    if (var.empty())                                                                                \
        DMAD_SKIP_TEST("needs " << ::opencv_test::backboneDir() << "/nsfwjs_mobilenet_v2.onnx: "    \
                       "run scripts/get-backbone.sh (scripts/test.sh does) or set DMAD_BACKBONE_DIR")

} // namespace opencv_test

#endif // OPENCV_DMAD_TEST_PRECOMP_HPP

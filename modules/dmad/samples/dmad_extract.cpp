// Extracts patch features from an image or a folder of images and reports their shape and speed.
//
//   dmad_extract --input=<image or folder> [--backbone=mobilenet_v2] [--model=<network file>]
//                [--size=256] [--batch=8] [--threads=<n>] [--out=<features.yml.gz>]
//                [--backend=opencv|cuda] [--target=cpu|cuda|cuda_fp16] [--warmup=<n>]
//
// --backend=cuda needs an OpenCV built with CUDA and cuDNN (scripts/build-opencv-cuda.sh) and a GPU; without
// them the extractor refuses the backend with a cv::Exception and this program exits with status 1.
//
// Backbones: FeatureExtractor::presetNames(), described in doc/backbones.md.

#include <opencv2/core.hpp>
#include <opencv2/core/utils/filesystem.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/dmad.hpp>

#include "sample_options.hpp"
#include "sample_utils.hpp"

#include <algorithm>
#include <iostream>

using namespace cv;

// -1 for a name that is not in the list.
static int idOf(const String& name, const std::vector<std::pair<String, int>>& ids)
{
    for (const auto& p : ids)
        if (p.first == name)
            return p.second;
    return -1;
}

int main(int argc, char** argv)
{
    dmad_samples::showProgressOnStderr();
    dmad_samples::Options options("dmad_extract",
                                  "Patch features of images through a frozen CNN (cv::dmad::FeatureExtractor)");
    std::string input, backbone = "mobilenet_v2", model, out, backendName = "opencv", targetName = "cpu";
    int size = 256, batch = 8, threads = -1, warmup = 0;
    CLI::App& app = options.app();
    app.add_option("-i,--input", input, "an image or a folder of images")->required()->check(dmad_samples::nonEmpty());
    app.add_option("--backbone", backbone,
                   "backbone preset: mobilenet_v2, inception_v3, mobilenetv2-int8, wrn50 (and -tf variants)");
    app.add_option("-m,--model", model, "network file (default: the preset's file name)");
    app.add_option("--size", size, "network input size (square)")->check(CLI::Range(32, 4096));
    app.add_option("--batch", batch, "images per forward pass")->check(CLI::Range(1, 1024));
    app.add_option("--threads", threads, "OpenCV threads (-1: OpenCV's default)")->check(dmad_samples::threadCount());
    app.add_option("-o,--out", out, "also write the features to this file (.yml.gz, .xml, ...)")
        ->check(dmad_samples::nonEmpty());
    app.add_option("--backend", backendName, "cv::dnn backend: opencv or cuda")->check(CLI::IsMember({ "opencv", "cuda" }));
    app.add_option("--target", targetName, "cv::dnn target: cpu, cuda or cuda_fp16")
        ->check(CLI::IsMember({ "cpu", "cuda", "cuda_fp16" }));
    app.add_option("--warmup", warmup, "untimed forward passes of the first batch before timing")
        ->check(CLI::Range(0, 1000));
    const int status = options.parse(argc, argv);
    if (status >= 0)
        return status;
    const int backendId = idOf(backendName, {{"opencv", dnn::DNN_BACKEND_OPENCV}, {"cuda", dnn::DNN_BACKEND_CUDA}});
    const int targetId = idOf(targetName, {{"cpu", dnn::DNN_TARGET_CPU}, {"cuda", dnn::DNN_TARGET_CUDA},
                                           {"cuda_fp16", dnn::DNN_TARGET_CUDA_FP16}});
    try
    {
        if (threads > 0)
            setNumThreads(threads);
        dmad::FeatureExtractor::Params params = dmad::FeatureExtractor::preset(backbone, model);
        params.inputSize = Size(size, size);
        params.batchSize = batch;
        Ptr<dmad::FeatureExtractor> extractor = dmad::FeatureExtractor::create(params);
        // Both throw a cv::Exception naming the backend or target when this OpenCV or machine lacks it.
        extractor->setPreferableBackend(backendId);
        extractor->setPreferableTarget(targetId);

        const std::vector<String> files = dmad_samples::imagesOf(input);
        std::vector<Mat> images;
        for (const String& f : files)
        {
            images.push_back(dmad::readImage(f));
        }

        Mat features, part;
        Size grid;
        TickMeter tm;
        const size_t step = std::max(1, batch) * 4;
        // Untimed passes first: the CUDA backend allocates and initialises cuDNN on the first forward pass.
        for (int i = 0; i < warmup && !images.empty(); ++i)
            extractor->extractBatch(std::vector<Mat>(images.begin(),
                                                     images.begin() + std::min(images.size(), step)), part, grid);
        for (size_t first = 0; first < images.size(); first += step)
        {
            const size_t last = std::min(images.size(), first + step);
            tm.start();
            extractor->extractBatch(std::vector<Mat>(images.begin() + first, images.begin() + last), part, grid);
            tm.stop();
            features.push_back(part);
            std::cerr << "\rextracting: " << last << "/" << images.size() << " images" << std::flush;
        }
        std::cerr << std::endl;
        const double seconds = tm.getTimeSec();
        std::cout << "backbone     " << params.preset << " (" << params.model << "), input " << size << "x" << size
                  << ", threads " << getNumThreads() << "\n"
                  << "dnn          backend " << backendName << ", target " << targetName << "\n"
                  << "images       " << images.size() << "\n"
                  << "grid         " << grid.width << "x" << grid.height << "\n"
                  << "features     " << features.rows << " x " << features.cols << " CV_32F\n"
                  << "time         " << cv::format("%.1f ms per image, %.1f images/s, %.0f patch features/s",
                                                   1000.0 * seconds / images.size(), images.size() / seconds,
                                                   features.rows / seconds)
                  << std::endl;
        if (!out.empty())
        {
            dmad_samples::writeFeatureFile(out, grid, features);
            std::cout << "written      " << out << std::endl;
        }
    }
    catch (const cv::Exception& e)
    {
        std::cerr << "dmad_extract: " << e.err << std::endl;
        return 1;
    }
    return 0;
}

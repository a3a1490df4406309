// Runs a saved DMAD model on an image or a folder of images: one line per image (path, score,
// verdict) and an overlay of the anomaly map in the output folder.
//
//   dmad_detect --model=<file> --input=<image or folder> --out=<dir> [--threshold=<t>]

#include <opencv2/core.hpp>
#include <opencv2/core/utils/filesystem.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/dmad.hpp>

#include "sample_utils.hpp"

#include <cmath>
#include <iostream>

using namespace cv;

static const char* const keys =
    "{ help h    |        | print this help }"
    "{ model m   | <none> | model file written by DMAD::save (dmad_mvtec --save) }"
    "{ input i   | <none> | an image or a folder of images }"
    "{ out o     | <none> | folder for the overlays }"
    "{ threshold |        | anomaly score above which an image is anomalous (default: 0 for the DMAD scorer, "
    "whose hinge loss separates normal and anomalous scores at 0; required for the PatchCore scorer) }"
    "{ threads   | -1     | OpenCV threads (-1: OpenCV's default) }";

static String fileName(const String& path)
{
    const size_t slash = path.find_last_of("/\\");
    return slash == String::npos ? path : path.substr(slash + 1);
}

static String stem(const String& path)
{
    const String name = fileName(path);
    const size_t dot = name.find_last_of('.');
    return dot == String::npos ? name : name.substr(0, dot);
}

int main(int argc, char** argv)
{
    dmad_samples::showProgressOnStderr();
    CommandLineParser parser(argc, argv, keys);
    parser.about("Anomaly scores and maps of images with a trained DMAD model");
    if (parser.has("help"))
    {
        parser.printMessage();
        return 0;
    }
    const String modelPath = parser.get<String>("model"), input = parser.get<String>("input");
    const String out = parser.get<String>("out");
    const bool haveThreshold = parser.has("threshold");
    double threshold = haveThreshold ? parser.get<double>("threshold") : 0.0;
    const int threads = parser.get<int>("threads");
    if (!parser.check())
    {
        parser.printErrors();
        return 2;
    }
    try
    {
        if (threads > 0)
            setNumThreads(threads);
        Ptr<dmad::DMAD> model = dmad::DMAD::load(modelPath);
        if (!haveThreshold && model->getParams().scorer != dmad::DMAD::SCORER_DMAD)
            CV_Error(Error::StsBadArg, "the PatchCore scorer has no natural threshold: give --threshold");
        const std::vector<String> files = dmad_samples::imagesOf(input);
        utils::fs::createDirectories(out);

        int anomalous = 0;
        for (const String& f : files)
        {
            const Mat image = imread(f, IMREAD_UNCHANGED);
            if (image.empty())
                CV_Error(Error::StsObjectNotFound, "cannot read image '" + f + "'");
            float score;
            Mat map;
            model->predict(image, score, map);
            const bool isAnomalous = score > threshold;
            anomalous += isAnomalous;
            std::cout << f << " " << cv::format("%.4f", score) << " " << (isAnomalous ? "anomalous" : "normal")
                      << std::endl;

            // overlay: the map scaled from the threshold - 1 to the threshold + 1, so colours mean the same in every image
            const Mat bgr = dmad_samples::displayBGR(image);
            Mat m8, heat, overlay;
            map.convertTo(m8, CV_8U, 127.5, 127.5 * (1 - threshold));
            applyColorMap(m8, heat, COLORMAP_JET);
            addWeighted(bgr, 0.5, heat, 0.5, 0, overlay);
            putText(overlay, cv::format("%.3f %s", score, isAnomalous ? "ANOMALOUS" : "normal"), Point(8, 24),
                    FONT_HERSHEY_SIMPLEX, 0.7, Scalar(255, 255, 255), 2);
            imwrite(out + "/" + stem(f) + "_dmad.png", overlay);
        }
        std::cerr << "dmad_detect: " << files.size() << " images, " << anomalous << " anomalous at threshold "
                  << threshold << "; overlays in " << out << std::endl;
    }
    catch (const cv::Exception& e)
    {
        std::cerr << "dmad_detect: " << e.err << std::endl;
        return 1;
    }
    return 0;
}

// Runs a saved DMAD model on an image or a folder of images: one line per image on stdout (path,
// score, verdict), results.csv (with each image's class and its calibrated threshold) and an overlay
// of the anomaly map per image in the output folder.
// Unreadable images are reported on stderr and skipped; the exit status is 1 when any image
// failed, after every other image was scored.
//
//   dmad_detect --model=<file> --input=<image or folder> --out=<dir> [--threshold=<t>]

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/dmad.hpp>

#include "sample_options.hpp"
#include "sample_utils.hpp"

#include <cmath>
#include <iostream>
#include <sstream>

using namespace cv;

namespace {

String fileName(const String& path)
{
    const size_t slash = path.find_last_of("/\\");
    return slash == String::npos ? path : path.substr(slash + 1);
}

String stem(const String& path)
{
    const String name = fileName(path);
    const size_t dot = name.find_last_of('.');
    return dot == String::npos || dot == 0 ? name : name.substr(0, dot);
}

//! One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
String csvField(const String& s)
{
    if (s.find_first_of(",\"\r\n") == String::npos)
        return s;
    String out = "\"";
    for (char c : s)
        out += c == '"' ? String("\"\"") : String(1, c);
    return out + "\"";
}

//! The map over the image, coloured from threshold - 1 to threshold + 1 (the same in every image).
Mat overlayOf(const Mat& image, const Mat& map, float score, double threshold, bool anomalous)
{
    const Mat bgr = dmad_samples::displayBGR(image);
    Mat m8, heat, overlay;
    map.convertTo(m8, CV_8U, 127.5, 127.5 * (1 - threshold));
    applyColorMap(m8, heat, COLORMAP_JET);
    addWeighted(bgr, 0.5, heat, 0.5, 0, overlay);
    putText(overlay, cv::format("%.3f %s", score, anomalous ? "ANOMALOUS" : "normal"), Point(8, 24),
            FONT_HERSHEY_SIMPLEX, 0.7, Scalar(255, 255, 255), 2);
    return overlay;
}

} // namespace

int main(int argc, char** argv)
{
    dmad_samples::showProgressOnStderr();
    dmad_samples::Options options("dmad_detect", "Anomaly scores and maps of images with a trained DMAD model");
    std::string modelPath, input, out;
    double threshold = 0;
    int threads = -1;
    bool overlays = true;
    CLI::App& app = options.app();
    app.add_option("-m,--model", modelPath, "model file written by DMAD::save (dmad_mvtec --save)")
        ->required()
        ->check(dmad_samples::nonEmpty());
    app.add_option("-i,--input", input, "an image or a folder of images")->required()->check(dmad_samples::nonEmpty());
    app.add_option("-o,--out", out, "folder for results.csv and the overlays (created when missing)")
        ->required()
        ->check(dmad_samples::nonEmpty());
    CLI::Option* thresholdOption =
        app.add_option("--threshold", threshold,
                       "anomaly score above which an image is anomalous, for every image (default: the threshold "
                       "calibrated at training for the image's class and stored in the model; for a model without "
                       "one, 0 for the DMAD scorer, whose hinge loss separates normal and anomalous scores at 0, "
                       "and required for the PatchCore scorer)")
            ->check(dmad_samples::finiteIn(-1e30, 1e30));
    app.add_option("--overlays", overlays, "write an overlay per image (true or false)");
    app.add_option("--threads", threads, "OpenCV threads (-1: OpenCV's default)")->check(dmad_samples::threadCount());
    const int status = options.parse(argc, argv);
    if (status >= 0)
        return status;
    try
    {
        if (threads > 0)
            setNumThreads(threads);
        dmad_samples::prepareOutputFolder(out, "--out");
        Ptr<dmad::DMAD> model = dmad::DMAD::load(modelPath);
        const bool calibrated = std::isfinite(model->getDecisionThreshold());
        if (!*thresholdOption)
        {
            if (calibrated)
                threshold = model->getDecisionThreshold();
            else if (model->getParams().scorer != dmad::DMAD::SCORER_DMAD)
                CV_Error(Error::StsBadArg, "the model has no calibrated threshold and the PatchCore scorer no natural "
                                           "one: give --threshold");
        }
        const std::vector<String> files = dmad_samples::imagesOf(input);

        std::ostringstream csv;
        // class: the training class the image resembles (-1: a model of one class); normalised: its
        // calibrated threshold at 0.5 (empty for a model without calibration); threshold: the one used
        csv << "path,class,score,normalized_score,threshold,verdict,ms\n";
        dmad_samples::UniqueNames names;
        int anomalous = 0, failed = 0;
        for (const String& f : files)
        {
            Mat image;
            try
            {
                image = dmad::readImage(f);
            }
            catch (const cv::Exception& e)
            {
                std::cerr << "dmad_detect: skipped: " << e.err << std::endl;
                csv << csvField(f) << ",,,,,unreadable,\n";
                failed++;
                continue;
            }
            TickMeter timer;
            timer.start();
            Mat map;
            const dmad::DMAD::Inspection r = model->inspect(image, map);
            timer.stop();
            const double imageThreshold = !*thresholdOption && calibrated ? r.threshold : threshold;
            const bool isAnomalous = r.score > imageThreshold;
            anomalous += isAnomalous;
            const char* verdict = isAnomalous ? "anomalous" : "normal";
            std::cout << f << " " << cv::format("%.4f", r.score) << " " << verdict << std::endl;
            csv << csvField(f) << "," << r.classId << "," << cv::format("%.6g", r.score) << ","
                << (calibrated ? cv::format("%.4f", r.normalizedScore) : String()) << ","
                << cv::format("%.6g", imageThreshold) << "," << verdict << "," << cv::format("%.1f", timer.getTimeMilli())
                << "\n";
            if (overlays)
                dmad_samples::writeImageFile(out + "/" + names.take(stem(f), "_dmad.png"),
                                             overlayOf(image, map, r.score, imageThreshold, isAnomalous));
        }
        dmad_samples::writeFileAtomically(out + "/results.csv", csv.str());
        std::cerr << "dmad_detect: " << files.size() - failed << " of " << files.size() << " images scored, "
                  << anomalous << " anomalous at "
                  << (*thresholdOption ? cv::format("threshold %g (--threshold)", threshold)
                      : calibrated     ? String("the calibrated threshold of each image's class (from the model)")
                                       : cv::format("threshold %g (default)", threshold));
        if (failed > 0)
            std::cerr << ", " << failed << " unreadable";
        std::cerr << "; results in " << out << "/results.csv" << (overlays ? ", overlays in " + out : String())
                  << std::endl;
        return failed > 0 ? 1 : 0;
    }
    catch (const cv::Exception& e)
    {
        std::cerr << "dmad_detect: " << e.err << std::endl;
        return 1;
    }
}

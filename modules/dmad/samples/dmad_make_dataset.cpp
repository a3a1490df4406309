// Writes the synthetic multi-class anomaly detection dataset in MVTec AD layout, so that training
// and evaluation run end to end on a machine without MVTec AD. A second run with the same
// parameters finds <out>/dataset.yml and does nothing.
//
//   dmad_make_dataset --out=<root> [--seed=1] [--train=40] [--test-good=10] [--test-defect=16]
//                     [--size=256] [--classes=fabric,metal_plate,washer,pill]

#include <opencv2/core.hpp>
#include <opencv2/dmad.hpp>
#include <opencv2/dmad_eval.hpp>

#include "sample_options.hpp"
#include "sample_utils.hpp"

#include <iostream>
#include <sstream>

using namespace cv;

static std::vector<String> splitList(const String& list)
{
    std::vector<String> items;
    std::stringstream ss(list);
    String item;
    while (std::getline(ss, item, ','))
        if (!item.empty())
            items.push_back(item);
    return items;
}

int main(int argc, char** argv)
{
    std::string classHelp = "\n\nClasses and defect types:\n";
    for (const String& c : dmad::syntheticClassNames())
    {
        classHelp += "  " + c + ":";
        for (const String& t : dmad::syntheticDefectTypes(c))
            classHelp += " " + t;
        classHelp += "\n";
    }
    dmad_samples::Options options("dmad_make_dataset", "Synthetic anomaly detection dataset in MVTec AD layout (cv::dmad)");
    std::string out, classes;
    dmad::SyntheticDatasetParams params;
    CLI::App& app = options.app();
    app.footer(classHelp);
    app.add_option("-o,--out", out, "root folder of the dataset (created when missing)")
        ->required()
        ->check(dmad_samples::nonEmpty());
    app.add_option("--seed", params.seed, "dataset seed: the same seed gives the same bytes")
        ->check(CLI::Range(0, 2147483647));
    app.add_option("--train", params.trainCount, "normal training images per class")->check(CLI::Range(1, 100000));
    app.add_option("--test-good", params.testGoodCount, "normal test images per class")->check(CLI::Range(0, 100000));
    app.add_option("--test-defect", params.testDefectCount,
                   "defective test images per class, spread over its defect types")
        ->check(CLI::Range(0, 100000));
    app.add_option("--size", params.imageSize, "image side in pixels")->check(CLI::Range(32, 4096));
    app.add_option("--classes", classes, "comma-separated subset of the classes (default: all)");
    const int status = options.parse(argc, argv);
    if (status >= 0)
        return status;
    params.classes = splitList(classes);
    try
    {
        dmad_samples::prepareOutputFolder(out, "--out");
        TickMeter tm;
        tm.start();
        const bool written = dmad::generateSyntheticDataset(out, params);
        tm.stop();
        const std::vector<String> classes =
            params.classes.empty() ? dmad::syntheticClassNames() : params.classes;
        const int perClass = params.trainCount + params.testGoodCount + params.testDefectCount;
        std::cout << (written ? "written      " : "up to date   ") << out << "\n"
                  << "classes      " << classes.size() << " x (" << params.trainCount << " train + "
                  << params.testGoodCount << " good + " << params.testDefectCount
                  << " defective test images), " << params.imageSize << "x" << params.imageSize
                  << ", seed " << params.seed << "\n"
                  << "images       " << classes.size() * perClass << "\n"
                  << "time         " << cv::format("%.1f s", tm.getTimeSec()) << std::endl;
    }
    catch (const cv::Exception& e)
    {
        std::cerr << "dmad_make_dataset: " << e.err << std::endl;
        return 1;
    }
    return 0;
}

// Writes the synthetic multi-class anomaly detection dataset in MVTec AD layout, so that training
// and evaluation run end to end on a machine without MVTec AD. A second run with the same
// parameters finds <out>/dataset.yml and does nothing.
//
//   dmad_make_dataset --out=<root> [--seed=1] [--train=40] [--test-good=10] [--test-defect=16]
//                     [--size=256] [--classes=fabric,metal_plate,washer,pill]

#include <opencv2/core.hpp>
#include <opencv2/dmad.hpp>
#include <opencv2/dmad_eval.hpp>

#include <iostream>
#include <sstream>

using namespace cv;

static const char* const keys =
    "{ help h      |        | print this help }"
    "{ out o       | <none> | root folder of the dataset (created when missing) }"
    "{ seed        | 1      | dataset seed: the same seed gives the same bytes }"
    "{ train       | 40     | normal training images per class }"
    "{ test-good   | 10     | normal test images per class }"
    "{ test-defect | 16     | defective test images per class, spread over its defect types }"
    "{ size        | 256    | image side in pixels }"
    "{ classes     |        | comma-separated subset of the classes (default: all) }";

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
    CommandLineParser parser(argc, argv, keys);
    parser.about("Synthetic anomaly detection dataset in MVTec AD layout (cv::dmad)");
    if (parser.has("help"))
    {
        parser.printMessage();
        std::cout << "\nClasses and defect types:\n";
        for (const String& c : dmad::syntheticClassNames())
        {
            std::cout << "  " << c << ":";
            for (const String& t : dmad::syntheticDefectTypes(c))
                std::cout << " " << t;
            std::cout << "\n";
        }
        return 0;
    }
    const String out = parser.get<String>("out");
    dmad::SyntheticDatasetParams params;
    params.seed = parser.get<int>("seed");
    params.trainCount = parser.get<int>("train");
    params.testGoodCount = parser.get<int>("test-good");
    params.testDefectCount = parser.get<int>("test-defect");
    params.imageSize = parser.get<int>("size");
    params.classes = splitList(parser.get<String>("classes"));
    if (!parser.check())
    {
        parser.printErrors();
        return 2;
    }
    try
    {
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

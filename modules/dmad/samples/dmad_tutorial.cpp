// The C++ API step by step, as the tutorial (modules/dmad/tutorials/dmad_tutorial.markdown) walks it:
// read a dataset, train one model for all classes, score test images, save, load, evaluate.
//
//   dmad_tutorial --data=<MVTec-AD-layout root> --backbone=<preset> [--model=<network file>] [--out=<dir>]

#include <opencv2/core.hpp>
#include <opencv2/core/utils/filesystem.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
//! [include]
#include <opencv2/dmad.hpp>
#include <opencv2/dmad_eval.hpp>
//! [include]

#include "sample_utils.hpp"

#include <iostream>

using namespace cv;

int main(int argc, char** argv)
{
    dmad_samples::showProgressOnStderr();
    CommandLineParser parser(argc, argv,
                             "{ help h   |                | }"
                             "{ data     | <none>         | dataset root in MVTec-AD layout }"
                             "{ backbone | mobilenet_v2   | backbone preset }"
                             "{ model    |                | network file (default: the preset's, in $OPENCV_DMAD_BACKBONE_PATH) }"
                             "{ out      | dmad_tutorial  | output folder }"
                             "{ epochs   | 4              | training epochs }");
    if (parser.has("help") || !parser.check())
    {
        parser.printMessage();
        return parser.has("help") ? 0 : 2;
    }
    const String data = parser.get<String>("data"), out = parser.get<String>("out");
    try
    {
        //! [dataset]
        // MVTec-AD layout: <root>/<class>/train/good, test/<type>, ground_truth/<type>/<stem>_mask.png
        dmad::DatasetSplit split = dmad::readMVTecDataset(data);
        std::vector<String> normalFiles;
        std::vector<int> classIds;
        for (const dmad::DatasetSample& s : split.train)
        {
            normalFiles.push_back(s.imagePath);
            classIds.push_back(split.classIndex(s.className));  // metadata only
        }
        //! [dataset]

        //! [create]
        // The CPU configuration with a backbone preset; Params::paper() is the paper's WideResNet50.
        dmad::DMAD::Params params = dmad::DMAD::Params::cpu(parser.get<String>("backbone"),
                                                            parser.get<String>("model"));
        params.training.epochs = parser.get<int>("epochs");
        Ptr<dmad::DMAD> model = dmad::DMAD::create(params);
        //! [create]

        //! [train]
        // One model for every class, from normal images alone (pass anomalous images and their
        // masks as the second and third arguments for the semi-supervised mode).
        model->trainFromFiles(normalFiles, {}, {}, classIds);
        //! [train]

        //! [predict]
        const dmad::DatasetSample& sample = split.test.front();
        Mat image = imread(sample.imagePath, IMREAD_UNCHANGED);
        float score;
        Mat anomalyMap;  // CV_32F, the image's size
        model->predict(image, score, anomalyMap);
        std::cout << sample.imagePath << ": score " << score << std::endl;
        //! [predict]

        //! [save]
        utils::fs::createDirectories(out);
        model->save(out + "/model.yml.gz");  // atomic: a temporary file renamed into place
        Ptr<dmad::DMAD> loaded = dmad::DMAD::load(out + "/model.yml.gz");
        float again;
        loaded->predict(image, again);
        CV_Assert(again == score);  // bit-identical
        //! [save]

        //! [evaluate]
        std::vector<dmad::ClassMetrics> rows;
        for (const String& cls : split.classes)
        {
            std::vector<float> scores;
            std::vector<int> labels;
            for (const dmad::DatasetSample& s : split.testOf(cls))
            {
                float sc;
                loaded->predict(imread(s.imagePath, IMREAD_UNCHANGED), sc);
                scores.push_back(sc);
                labels.push_back(s.anomalous ? 1 : 0);
            }
            rows.push_back(dmad::computeClassMetrics(cls, scores, labels));
        }
        rows.push_back(dmad::meanMetrics(rows));
        std::cout << dmad::formatMetrics(rows) << std::endl;
        //! [evaluate]

        //! [heatmap]
        Mat shown, heat, overlay;
        normalize(anomalyMap, shown, 0, 255, NORM_MINMAX, CV_8U);
        applyColorMap(shown, heat, COLORMAP_JET);
        addWeighted(dmad_samples::displayBGR(image), 0.5, heat, 0.5, 0, overlay);
        imwrite(out + "/heatmap.png", overlay);
        //! [heatmap]
        std::cout << "model and heatmap in " << out << std::endl;
    }
    catch (const cv::Exception& e)
    {
        std::cerr << "dmad_tutorial: " << e.err << std::endl;
        return 1;
    }
    return 0;
}

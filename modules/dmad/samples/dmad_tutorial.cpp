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

#include "sample_options.hpp"
#include "sample_utils.hpp"

#include <iostream>

using namespace cv;

int main(int argc, char** argv)
{
    dmad_samples::showProgressOnStderr();
    dmad_samples::Options options("dmad_tutorial", "The cv::dmad C++ API step by step");
    std::string data, backbone = "mobilenet_v2", network, out = "dmad_tutorial";
    int epochs = 4;
    CLI::App& app = options.app();
    app.add_option("--data", data, "dataset root in MVTec-AD layout")->required()->check(dmad_samples::nonEmpty());
    app.add_option("--backbone", backbone, "backbone preset");
    app.add_option("--model", network, "network file (default: the preset's, in $OPENCV_DMAD_BACKBONE_PATH)");
    app.add_option("--out", out, "output folder")->check(dmad_samples::nonEmpty());
    app.add_option("--epochs", epochs, "training epochs")->check(CLI::Range(1, 100000));
    const int status = options.parse(argc, argv);
    if (status >= 0)
        return status;
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
        dmad::DMAD::Params params = dmad::DMAD::Params::cpu(backbone, network);
        params.training.epochs = epochs;
        Ptr<dmad::DMAD> model = dmad::DMAD::create(params);
        //! [create]

        //! [train]
        // One model for every class, from normal images alone (pass anomalous images and their
        // masks as the second and third arguments for the semi-supervised mode).
        model->trainFromFiles(normalFiles, {}, {}, classIds);
        //! [train]

        //! [predict]
        const dmad::DatasetSample& sample = split.test.front();
        Mat image = dmad::readImage(sample.imagePath);  // a regular file of bounded size, decoded
        float score;
        Mat anomalyMap;  // CV_32F, the image's size
        model->predict(image, score, anomalyMap);
        std::cout << sample.imagePath << ": score " << score << std::endl;
        //! [predict]

        //! [save]
        dmad_samples::prepareOutputFolder(out, "--out");
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
                loaded->predict(dmad::readImage(s.imagePath), sc);
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
        dmad_samples::writeImageFile(out + "/heatmap.png", overlay);  // every write checked
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

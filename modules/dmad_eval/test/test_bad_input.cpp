// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Bad input to the evaluation tooling: each row is a call that must raise a cv::Exception whose
// message names the problem.

#include "test_precomp.hpp"

#include <limits>

namespace opencv_test { namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

Mat withValue(Mat m, int row, int col, float value)
{
    m = m.clone();
    m.at<float>(row, col) = value;
    return m;
}

TEST(DMAD_EvalBadInput, metrics_datasets_and_synthetic_dataset)
{
    const std::vector<double> s2 = { 0.1, 0.2 };
    const std::vector<int> l2 = { 0, 1 };
    const std::vector<Mat> maps = { Mat(4, 4, CV_32F, Scalar(0)) };
    double a = 0, b = 0, c = 0;
    Mat out, mask;
    DatasetSplit split;
    std::vector<DatasetSample> taken;
    const std::vector<BadInput> rows = {
        { "NaN score", [&] { rocAUC(std::vector<double>{ 0.1, (double)kNaN }, l2); }, "NaN" },
        { "scores and labels of other lengths", [&] { rocAUC(s2, std::vector<int>{ 0 }); },
          "2 scores but 1 labels" },
        { "NaN score for AP", [&] { averagePrecision(std::vector<double>{ (double)kNaN, 1 }, l2); },
          "NaN" },
        { "F1 of other lengths", [&] { maxF1Score(s2, std::vector<int>{ 0, 1, 1 }); },
          "2 scores but 3 labels" },
        { "mask of another size than its map",
          [&] { pixelMetrics(maps, std::vector<Mat>{ Mat(4, 5, CV_8U, Scalar(0)) }, a, b, c); },
          "mask 0" },
        { "maps without masks", [&] { pixelMetrics(maps, std::vector<Mat>(), a, b, c); },
          "1 anomaly maps but 0 masks" },
        { "maxFPR 0", [&] { auPRO(maps, std::vector<Mat>{ Mat() }, 0.0); }, "maxFPR" },
        { "NaN in a map", [&] { auPRO(std::vector<Mat>{ withValue(maps[0], 2, 3, kNaN) },
                                      std::vector<Mat>{ Mat() }); },
          "NaN at (3, 2)" },
        { "missing dataset folder", [&] { readMVTecDataset("/nonexistent/mvtec"); },
          "/nonexistent/mvtec" },
        { "missing VisA split", [&] { readVisADataset("/nonexistent/visa"); },
          "/nonexistent/visa" },
        { "missing folder of good images", [&] { readFolderDataset("/nonexistent/good", ""); },
          "/nonexistent/good" },
        { "missing mask file", [&] { readMask("/nonexistent/mask.png", Size(4, 4), out); },
          "/nonexistent/mask.png" },
        { "mask without path or size", [&] { readMask(String(), Size(), out); }, "needs a size" },
        { "negative anomaly count", [&] { takeAnnotatedAnomalies(split, -1, 0, taken); },
          "must not be negative" },
        { "synthetic sample of 16 px",
          [&] { renderSyntheticSample("pill", "good", 1, 0, 16, out, mask); }, "32..2048" },
        { "unknown synthetic class",
          [&] { renderSyntheticSample("bottle", "good", 1, 0, 64, out, mask); },
          "unknown synthetic class 'bottle'" },
    };
    runBadInputTable("metrics, datasets and synthetic dataset", rows);
}

}} // namespace

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"

#include <limits>
#include <map>

namespace opencv_test { namespace {

const double kTol = 1e-10;

//! Equal within `tol`, or both NaN.
#define EXPECT_METRIC_NEAR(actual, expected, tol)                                                  \
    do {                                                                                           \
        const double a_ = (actual), e_ = (expected);                                               \
        if (cvIsNaN(e_))                                                                           \
            EXPECT_TRUE(cvIsNaN(a_)) << #actual << " = " << a_ << ", expected NaN";                \
        else                                                                                       \
            EXPECT_NEAR(a_, e_, tol) << #actual;                                                   \
    } while (0)

FileStorage openVectors()
{
    const std::string path = testDataFile("metric_vectors.yml");
    FileStorage fs(path, FileStorage::READ);
    if (!fs.isOpened())
        ADD_FAILURE() << "cannot open " << path << " (regenerate: tools/make_metric_vectors.py)";
    return fs;
}

//! Splits a vertical stack of equally tall maps.
std::vector<Mat> unstack(const Mat& stacked, int rows)
{
    std::vector<Mat> maps;
    for (int y = 0; y + rows <= stacked.rows; y += rows)
        maps.push_back(stacked.rowRange(y, y + rows).clone());
    return maps;
}

TEST(DMAD_Metrics, image_metrics_match_sklearn)
{
    FileStorage fs = openVectors();
    const FileNode cases = fs["image_cases"];
    ASSERT_GE((int)cases.size(), 10);
    for (const FileNode& c : cases)
    {
        std::vector<double> scores;
        std::vector<int> labels;
        c["scores"] >> scores;
        c["labels"] >> labels;
        const std::string name = c["name"];
        SCOPED_TRACE(name);
        ASSERT_EQ(scores.size(), labels.size());
        ASSERT_FALSE(scores.empty());
        EXPECT_METRIC_NEAR(rocAUC(scores, labels), (double)c["auroc"], kTol);
        EXPECT_METRIC_NEAR(averagePrecision(scores, labels), (double)c["ap"], kTol);
        EXPECT_METRIC_NEAR(maxF1Score(scores, labels), (double)c["f1max"], kTol);
        const ClassMetrics m = computeClassMetrics(name, scores, labels);
        EXPECT_METRIC_NEAR(m.imageAUROC, (double)c["auroc"], kTol);
        EXPECT_METRIC_NEAR(m.imageAP, (double)c["ap"], kTol);
        EXPECT_METRIC_NEAR(m.imageF1, (double)c["f1max"], kTol);
        EXPECT_TRUE(cvIsNaN(m.pixelAUROC) && cvIsNaN(m.pixelAP) && cvIsNaN(m.pro));
        EXPECT_EQ(m.nTest, (int)scores.size());
        EXPECT_EQ(m.nTestAnomalous, (int)std::count(labels.begin(), labels.end(), 1));
    }
}

TEST(DMAD_Metrics, pixel_metrics_match_sklearn_and_mvtec_reference)
{
    FileStorage fs = openVectors();
    const FileNode cases = fs["pixel_cases"];
    ASSERT_GE((int)cases.size(), 3);
    for (const FileNode& c : cases)
    {
        const std::string name = c["name"];
        SCOPED_TRACE(name);
        Mat stackedMaps, stackedMasks;
        c["maps"] >> stackedMaps;
        c["masks"] >> stackedMasks;
        const int rows = (int)c["map_rows"];
        ASSERT_EQ(stackedMaps.type(), CV_32F);
        ASSERT_EQ(stackedMasks.type(), CV_8U);
        const std::vector<Mat> maps = unstack(stackedMaps, rows);
        const std::vector<Mat> masks = unstack(stackedMasks, rows);
        std::vector<double> limits, pros;
        c["pro_limits"] >> limits;
        c["pro"] >> pros;
        ASSERT_EQ(limits.size(), pros.size());
        for (size_t k = 0; k < limits.size(); k++)
        {
            SCOPED_TRACE(cv::format("maxFPR %g", limits[k]));
            double auroc = 0, ap = 0, pro = 0;
            pixelMetrics(maps, masks, auroc, ap, pro, limits[k]);
            EXPECT_METRIC_NEAR(auroc, (double)c["auroc"], kTol);
            EXPECT_METRIC_NEAR(ap, (double)c["ap"], kTol);
            EXPECT_METRIC_NEAR(pro, pros[k], kTol);
            EXPECT_METRIC_NEAR(auPRO(maps, masks, limits[k]), pros[k], kTol);
        }
    }
}

/** The obvious AU-PRO: for every distinct score t (descending), PRO(t) = mean over all 8-connected
    regions of the fraction of their pixels >= t, FPR(t) = fraction of normal pixels >= t; the
    polyline from (0, 0) is integrated by trapezoids, cut by linear interpolation at `limit`. */
double bruteForceAuPro(const std::vector<Mat>& maps, const std::vector<Mat>& masks, double limit)
{
    std::vector<Mat> labels(maps.size());
    std::vector<std::vector<int>> areas(maps.size());
    std::vector<float> all;
    int nRegions = 0;
    double nNormal = 0;
    for (size_t i = 0; i < maps.size(); i++)
    {
        const int n = connectedComponents(masks[i] != 0, labels[i], 8, CV_32S);
        areas[i].assign(n, 0);
        for (int y = 0; y < maps[i].rows; y++)
            for (int x = 0; x < maps[i].cols; x++)
            {
                areas[i][labels[i].at<int>(y, x)]++;
                all.push_back(maps[i].at<float>(y, x));
            }
        nRegions += n - 1;
        nNormal += areas[i][0];
    }
    std::sort(all.begin(), all.end(), std::greater<float>());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    std::vector<std::pair<double, double>> curve(1, std::make_pair(0.0, 0.0));
    for (float t : all)
    {
        double fp = 0, pro = 0;
        for (size_t i = 0; i < maps.size(); i++)
        {
            std::vector<int> above(areas[i].size(), 0);
            for (int y = 0; y < maps[i].rows; y++)
                for (int x = 0; x < maps[i].cols; x++)
                    if (maps[i].at<float>(y, x) >= t)
                        above[labels[i].at<int>(y, x)]++;
            fp += above[0];
            for (size_t r = 1; r < areas[i].size(); r++)
                pro += (double)above[r] / areas[i][r];
        }
        curve.push_back(std::make_pair(fp / nNormal, pro / nRegions));
    }
    double area = 0;
    for (size_t k = 1; k < curve.size(); k++)
    {
        const double x0 = curve[k - 1].first, y0 = curve[k - 1].second;
        const double x1 = curve[k].first, y1 = curve[k].second;
        if (x1 <= limit)
            area += 0.5 * (y0 + y1) * (x1 - x0);
        else
        {
            const double yl = y0 + (y1 - y0) * (limit - x0) / (x1 - x0);
            area += 0.5 * (y0 + yl) * (limit - x0);
            break;
        }
    }
    return area / limit;
}

TEST(DMAD_Metrics, aupro_matches_bruteforce_on_random_maps)
{
    RNG rng(1234);
    for (int trial = 0; trial < 4; trial++)
    {
        SCOPED_TRACE(trial);
        std::vector<Mat> maps, masks;
        for (int i = 0; i < 5; i++)
        {
            Mat mask(20, 24, CV_8U, Scalar(0));
            const int nBlobs = i == 4 ? 0 : rng.uniform(1, 4);  // one normal image
            for (int b = 0; b < nBlobs; b++)
            {
                const Point c(rng.uniform(0, 24), rng.uniform(0, 20));
                if (rng.uniform(0, 2))
                    circle(mask, c, rng.uniform(0, 4), Scalar(255), FILLED);
                else
                    rectangle(mask, Rect(c.x, c.y, rng.uniform(1, 5), rng.uniform(1, 5)),
                              Scalar(255), FILLED);
            }
            Mat noise(mask.size(), CV_32F), map;
            rng.fill(noise, RNG::UNIFORM, 0, 1);
            mask.convertTo(map, CV_32F, 0.7 / 255);
            map += noise;
            if (trial % 2)  // many ties
                map.convertTo(map, CV_8U, 8), map.convertTo(map, CV_32F, 1.0 / 8);
            maps.push_back(map);
            masks.push_back(mask);
        }
        for (double limit : { 0.3, 0.05, 1.0 })
            EXPECT_NEAR(auPRO(maps, masks, limit), bruteForceAuPro(maps, masks, limit), 1e-9)
                << "maxFPR " << limit;
    }
}

TEST(DMAD_Metrics, aupro_hand_computed)
{
    // Map A: region {0.9, 0.2} and normal {0.8, 0.1}; map B: normal {0.3, 0.0} and region {0.7}.
    // Curve: (0,0) (0,.25) (.25,.25) (.25,.75) (.5,.75) (.5,1) (.75,1) (1,1).
    const std::vector<Mat> maps = { (Mat_<float>(1, 4) << 0.9f, 0.2f, 0.8f, 0.1f),
                                    (Mat_<float>(1, 3) << 0.3f, 0.0f, 0.7f) };
    const std::vector<Mat> masks = { (Mat_<uchar>(1, 4) << 1, 1, 0, 0),
                                     (Mat_<uchar>(1, 3) << 0, 0, 255) };
    EXPECT_NEAR(auPRO(maps, masks, 1.0), 0.75, 1e-12);
    EXPECT_NEAR(auPRO(maps, masks, 0.25), 0.25, 1e-12);           // the limit is a curve point
    EXPECT_NEAR(auPRO(maps, masks, 0.3), (0.0625 + 0.0375) / 0.3, 1e-12);
    double auroc = 0, ap = 0, pro = 0;
    pixelMetrics(maps, masks, auroc, ap, pro);
    EXPECT_NEAR(auroc, 9.0 / 12.0, 1e-12);                       // 9 of 12 pairs ordered
    EXPECT_NEAR(ap, (1.0 / 3) * 1 + (1.0 / 3) * (2.0 / 3) + (1.0 / 3) * (3.0 / 5), 1e-12);
    EXPECT_NEAR(pro, (0.0625 + 0.0375) / 0.3, 1e-12);
    // CV_64F maps and an empty mask for a normal map give the same result.
    std::vector<Mat> maps64(2);
    maps[0].convertTo(maps64[0], CV_64F);
    maps[1].convertTo(maps64[1], CV_64F);
    const std::vector<Mat> withNormal = { masks[0], masks[1], Mat() };
    maps64.push_back((Mat_<double>(1, 2) << -5.0, -6.0));
    pixelMetrics(maps64, withNormal, auroc, ap, pro, 1.0);
    // Two normal pixels below every score: FPR steps of 1/6, area (0.25 + 0.75 + 4) / 6.
    EXPECT_NEAR(pro, 5.0 / 6, 1e-12);
}

TEST(DMAD_Metrics, pixel_path_equals_image_path_with_large_buckets)
{
    // Scores in [1, 1 + 2^-7) share their high 16 bits: one bucket of about 80000 normal pixels
    // takes the counting path, the other map the sorting path; both must rank like rocAUC().
    RNG rng(77);
    Mat narrow(400, 400, CV_32F), wide(40, 50, CV_32F);
    rng.fill(narrow, RNG::UNIFORM, 1.0, 1.0 + 1.0 / 128);
    rng.fill(wide, RNG::NORMAL, 0, 3);
    Mat tiesRegion = narrow(Rect(0, 0, 100, 100));
    tiesRegion.setTo(Scalar(1.0f + 1.0f / 256));
    Mat maskNarrow(narrow.size(), CV_8U), maskWide(wide.size(), CV_8U);
    rng.fill(maskNarrow, RNG::UNIFORM, 0, 2);
    rng.fill(maskWide, RNG::UNIFORM, 0, 2);
    maskNarrow *= 200;
    std::vector<float> scores(narrow.begin<float>(), narrow.end<float>());
    scores.insert(scores.end(), wide.begin<float>(), wide.end<float>());
    std::vector<uchar> labels(maskNarrow.begin<uchar>(), maskNarrow.end<uchar>());
    labels.insert(labels.end(), maskWide.begin<uchar>(), maskWide.end<uchar>());
    double auroc = 0, ap = 0, pro = 0;
    pixelMetrics(std::vector<Mat>{ narrow, wide }, std::vector<Mat>{ maskNarrow, maskWide }, auroc,
                 ap, pro);
    EXPECT_NEAR(auroc, rocAUC(scores, labels), 1e-12);
    EXPECT_NEAR(ap, averagePrecision(scores, labels), 1e-12);
    EXPECT_GT(auroc, 0.3);
    EXPECT_LT(auroc, 0.7);
}

TEST(DMAD_Metrics, f1_threshold_and_input_types)
{
    const std::vector<double> scores = { 0.1, 0.4, 0.35, 0.8 };
    const std::vector<int> labels = { 0, 0, 1, 1 };
    double threshold = 0;
    EXPECT_NEAR(maxF1Score(scores, labels, &threshold), 0.8, 1e-12);
    EXPECT_EQ(threshold, 0.35);
    EXPECT_NEAR(rocAUC(scores, labels), 0.75, 1e-12);
    EXPECT_NEAR(averagePrecision(scores, labels), 0.8333333333333333, 1e-12);
    // Float scores, bool-like uchar labels, a column Mat: the same numbers.
    const std::vector<float> scoresF = { 0.1f, 0.4f, 0.35f, 0.8f };
    const std::vector<uchar> labelsU = { 0, 0, 255, 1 };
    EXPECT_NEAR(rocAUC(scoresF, labelsU), 0.75, 1e-12);
    EXPECT_NEAR(rocAUC(Mat(scores).reshape(1, 4), Mat(labels)), 0.75, 1e-12);
}

TEST(DMAD_Metrics, degenerate_inputs_are_nan)
{
    const std::vector<double> scores = { 0.2, 0.5, 0.9 };
    for (int label : { 0, 1 })
    {
        const std::vector<int> labels(3, label);
        double threshold = 0;
        EXPECT_TRUE(cvIsNaN(rocAUC(scores, labels)));
        EXPECT_TRUE(cvIsNaN(averagePrecision(scores, labels)));
        EXPECT_TRUE(cvIsNaN(maxF1Score(scores, labels, &threshold)));
        EXPECT_TRUE(cvIsNaN(threshold));
    }
    EXPECT_TRUE(cvIsNaN(rocAUC(std::vector<double>(), std::vector<int>())));

    const std::vector<Mat> maps = { Mat(8, 8, CV_32F, Scalar(0.5)),
                                    Mat(8, 8, CV_32F, Scalar(0.1)) };
    double auroc = 0, ap = 0, pro = 0;
    pixelMetrics(maps, std::vector<Mat>{ Mat(), Mat() }, auroc, ap, pro);  // no defect pixel
    EXPECT_TRUE(cvIsNaN(auroc) && cvIsNaN(ap) && cvIsNaN(pro));
    const std::vector<Mat> full = { Mat(8, 8, CV_8U, Scalar(1)), Mat(8, 8, CV_8U, Scalar(1)) };
    pixelMetrics(maps, full, auroc, ap, pro);                                // no normal pixel
    EXPECT_TRUE(cvIsNaN(auroc) && cvIsNaN(ap) && cvIsNaN(pro));
    pixelMetrics(std::vector<Mat>(), std::vector<Mat>(), auroc, ap, pro);   // nothing at all
    EXPECT_TRUE(cvIsNaN(auroc) && cvIsNaN(ap) && cvIsNaN(pro));
}

TEST(DMAD_Metrics, clear_errors)
{
    const double nan = std::numeric_limits<double>::quiet_NaN();
    EXPECT_CV_ERROR(rocAUC(std::vector<double>{ 0.1, nan }, std::vector<int>{ 0, 1 }), "NaN");
    EXPECT_CV_ERROR(rocAUC(std::vector<double>{ 0.1, 0.2 }, std::vector<int>{ 0 }),
                    "2 scores but 1 labels");
    const std::vector<Mat> maps = { Mat(4, 4, CV_32F, Scalar(0)) };
    double a = 0, b = 0, c = 0;
    EXPECT_CV_ERROR(pixelMetrics(maps, std::vector<Mat>{ Mat(4, 5, CV_8U, Scalar(0)) }, a, b, c),
                    "mask 0");
    EXPECT_CV_ERROR(pixelMetrics(maps, std::vector<Mat>(), a, b, c), "1 anomaly maps but 0 masks");
    EXPECT_CV_ERROR(auPRO(maps, std::vector<Mat>{ Mat() }, 0.0), "maxFPR");
    Mat withNan(4, 4, CV_32F, Scalar(0));
    withNan.at<float>(2, 3) = (float)nan;
    EXPECT_CV_ERROR(auPRO(std::vector<Mat>{ withNan }, std::vector<Mat>{ Mat() }), "NaN at (3, 2)");
    EXPECT_CV_ERROR(computeClassMetrics("tile", std::vector<double>{ 1 }, std::vector<int>{ 1 },
                                        noArray(), std::vector<Mat>{ Mat() }),
                    "no anomaly maps");
    EXPECT_CV_ERROR(computeClassMetrics("tile", std::vector<double>{ 1, 2 },
                                        std::vector<int>{ 0, 1 }, maps, std::vector<Mat>{ Mat() }),
                    "2 image scores but 1 anomaly maps");
}

TEST(DMAD_Metrics, class_metrics_and_mean_skip_nan)
{
    // A class with masks and a class without: pixel means come from the first class alone.
    const std::vector<double> scores = { 0.1, 0.9, 0.4, 0.8 };
    const std::vector<int> labels = { 0, 1, 0, 1 };
    std::vector<Mat> maps, masks;
    for (int i = 0; i < 4; i++)
    {
        Mat map(6, 6, CV_32F, Scalar(0.1 * i)), mask(6, 6, CV_8U, Scalar(0));
        if (labels[i])
        {
            mask(Rect(1, 1, 2, 2)).setTo(Scalar(255));
            map(Rect(1, 1, 2, 2)).setTo(Scalar(2.0));
        }
        maps.push_back(map);
        masks.push_back(labels[i] ? mask : Mat());
    }
    ClassMetrics tile = computeClassMetrics("tile", scores, labels, maps, masks);
    tile.nTrain = 10;
    EXPECT_EQ(tile.imageAUROC, 1.0);
    EXPECT_EQ(tile.pixelAUROC, 1.0);
    EXPECT_EQ(tile.pro, 1.0);
    ClassMetrics bottle = computeClassMetrics("bottle", std::vector<double>{ 0.3, 0.2, 0.1 },
                                              std::vector<int>{ 1, 0, 0 }, maps);  // no masks
    bottle.nTrain = 5;
    EXPECT_EQ(bottle.imageAUROC, 1.0);
    EXPECT_TRUE(cvIsNaN(bottle.pixelAUROC) && cvIsNaN(bottle.pixelAP) && cvIsNaN(bottle.pro));
    ClassMetrics worse = bottle;
    worse.imageAUROC = 0.5;

    const ClassMetrics mean = meanMetrics({ tile, worse });
    EXPECT_EQ(mean.name, "mean");
    EXPECT_DOUBLE_EQ(mean.imageAUROC, 0.75);
    EXPECT_EQ(mean.pixelAUROC, 1.0);
    EXPECT_EQ(mean.pro, 1.0);
    EXPECT_EQ(mean.nTrain, 15);
    EXPECT_EQ(mean.nTest, 7);
    EXPECT_EQ(mean.nTestAnomalous, 3);
    EXPECT_TRUE(cvIsNaN(meanMetrics({ bottle }).pro));
    EXPECT_TRUE(cvIsNaN(meanMetrics({}).imageAUROC));

    const std::string table = formatMetrics({ tile, bottle, mean });
    EXPECT_NE(table.find("bottle"), std::string::npos);
    EXPECT_NE(table.find("n/a"), std::string::npos);
    EXPECT_NE(table.find("100.00"), std::string::npos);
    EXPECT_EQ(table.find("nan"), std::string::npos);
}

}} // namespace opencv_test::

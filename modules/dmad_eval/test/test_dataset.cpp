// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"

#include <map>

namespace opencv_test { namespace {

namespace fs = cv::utils::fs;

//! Writes a small image encoded as `encoding` (".png", ".jpg", ...) whatever the file's name.
void writeImage(const std::string& path, const std::string& encoding = ".png", int value = 128)
{
    fs::createDirectories(fs::getParent(path));
    std::vector<uchar> bytes;
    // The readers list files by extension and never decode them; an OpenCV built without an
    // encoder (the in-tree check builds without TIFF) gets PNG bytes under the other name.
    const std::string usable = haveImageWriter(encoding) ? encoding : std::string(".png");
    ASSERT_TRUE(imencode(usable, Mat(6, 8, CV_8U, Scalar(value)), bytes));
    std::ofstream out(path.c_str(), std::ios::binary);
    out.write((const char*)bytes.data(), (std::streamsize)bytes.size());
}

void writeText(const std::string& path, const std::string& text)
{
    fs::createDirectories(fs::getParent(path));
    std::ofstream out(path.c_str(), std::ios::binary);
    out << text;
}

std::map<std::string, int> countTypes(const std::vector<DatasetSample>& samples)
{
    std::map<std::string, int> counts;
    for (const DatasetSample& s : samples)
        counts[s.defectType]++;
    return counts;
}

bool sortedByPath(const std::vector<DatasetSample>& samples)
{
    for (size_t i = 1; i < samples.size(); i++)
        if (samples[i - 1].className == samples[i].className &&
            !(samples[i - 1].imagePath < samples[i].imagePath))
            return false;
    return true;
}

std::vector<std::string> paths(const std::vector<DatasetSample>& samples)
{
    std::vector<std::string> result;
    for (const DatasetSample& s : samples)
        result.push_back(s.imagePath);
    return result;
}

// ---------------------------------------------------------------- shared MVTec-layout data

TEST(DMAD_Dataset, mvtec_shared_counts_match_readme)
{
    DMAD_REQUIRE_SHARED(root, "data/mvtec_layout");
    const DatasetSplit split = readMVTecDataset(root);
    ASSERT_EQ(split.classes, (std::vector<String>{ "bottle", "magnetic_tile" }));
    EXPECT_FALSE(split.hasMasks("bottle"));
    EXPECT_TRUE(split.hasMasks("magnetic_tile"));

    EXPECT_EQ(split.trainOf("bottle").size(), 209u);
    EXPECT_EQ(split.trainOf("magnetic_tile").size(), 700u);
    const std::map<std::string, int> bottle = { { "good", 20 }, { "broken_large", 20 },
                                                { "broken_small", 22 }, { "contamination", 21 } };
    const std::map<std::string, int> tile = { { "good", 252 }, { "blowhole", 115 }, { "break", 85 },
                                              { "crack", 57 }, { "fray", 32 }, { "uneven", 103 } };
    EXPECT_EQ(countTypes(split.testOf("bottle")), bottle);
    EXPECT_EQ(countTypes(split.testOf("magnetic_tile")), tile);
    EXPECT_EQ(split.test.size(), 20u + 63u + 252u + 392u);

    for (const DatasetSample& s : split.train)
        EXPECT_TRUE(!s.anomalous && s.defectType == "good" && s.maskPath.empty()) << s.imagePath;
    int tileMasks = 0;
    for (const DatasetSample& s : split.test)
    {
        EXPECT_EQ(s.anomalous, s.defectType != "good") << s.imagePath;
        if (s.className == "magnetic_tile" && s.anomalous)
        {
            EXPECT_TRUE(fs::exists(s.maskPath)) << s.imagePath;
            EXPECT_NE(s.maskPath.find("/ground_truth/" + s.defectType + "/"), std::string::npos);
            tileMasks++;
        }
        else
            EXPECT_TRUE(s.maskPath.empty()) << s.imagePath;
    }
    EXPECT_EQ(tileMasks, 392);
    EXPECT_TRUE(sortedByPath(split.train));
    EXPECT_TRUE(sortedByPath(split.test));

    // A given class list reads just those classes, identically.
    const DatasetSplit tileOnly = readMVTecDataset(root, { "magnetic_tile" });
    EXPECT_EQ(paths(tileOnly.test), paths(split.testOf("magnetic_tile")));
    EXPECT_EQ(paths(tileOnly.train), paths(split.trainOf("magnetic_tile")));
}

TEST(DMAD_Dataset, shared_masks_are_binary)
{
    DMAD_REQUIRE_SHARED(root, "data/mvtec_layout");
    const DatasetSplit split = readMVTecDataset(root, { "magnetic_tile", "bottle" });
    EXPECT_EQ(split.classes, (std::vector<String>{ "magnetic_tile", "bottle" }));
    const std::vector<DatasetSample> tile = split.testOf("magnetic_tile");
    const DatasetSample* defect = nullptr;
    for (const DatasetSample& s : tile)
        if (s.anomalous)
        {
            defect = &s;
            break;
        }
    ASSERT_TRUE(defect != nullptr);
    Mat full, small;
    readMask(*defect, Size(), full);
    const Mat image = imread(defect->imagePath, IMREAD_UNCHANGED);
    EXPECT_EQ(full.size(), image.size());
    readMask(*defect, Size(256, 256), small);
    for (const Mat& m : { full, small })
    {
        ASSERT_EQ(m.type(), CV_8UC1);
        EXPECT_GT(countNonZero(m), 0);
        EXPECT_EQ(countNonZero(m == 0) + countNonZero(m == 255), (int)m.total());
    }
    const DatasetSample* normal = nullptr;
    for (const DatasetSample& s : tile)
        if (!s.anomalous)
        {
            normal = &s;
            break;
        }
    ASSERT_TRUE(normal != nullptr);
    Mat zeros;
    readMask(*normal, Size(32, 16), zeros);
    EXPECT_EQ(zeros.size(), Size(32, 16));
    EXPECT_EQ(countNonZero(zeros), 0);
    for (const DatasetSample& s : split.testOf("bottle"))
        if (s.anomalous)
        {
            EXPECT_CV_ERROR(readMask(s, Size(8, 8), zeros), "has no mask");
            break;
        }
}

TEST(DMAD_Dataset, shared_annotated_anomalies_protocol)
{
    DMAD_REQUIRE_SHARED(root, "data/mvtec_layout");
    const DatasetSplit split = readMVTecDataset(root);
    std::vector<DatasetSample> taken, again;
    const DatasetSplit rest = takeAnnotatedAnomalies(split, 10, 0, taken);
    ASSERT_EQ(taken.size(), 20u);
    EXPECT_EQ(rest.test.size(), split.test.size() - 20);
    EXPECT_EQ(rest.train.size(), split.train.size());
    for (size_t i = 0; i < taken.size(); i++)
    {
        EXPECT_EQ(taken[i].className, i < 10 ? "bottle" : "magnetic_tile");
        EXPECT_TRUE(taken[i].anomalous);
        EXPECT_EQ(taken[i].maskPath.empty(), taken[i].className == "bottle");
    }
    takeAnnotatedAnomalies(split, 10, 0, again);
    EXPECT_EQ(paths(again), paths(taken));
    // A class's pick does not depend on the other classes read with it.
    std::vector<DatasetSample> tileTaken;
    takeAnnotatedAnomalies(readMVTecDataset(root, { "magnetic_tile" }), 10, 0, tileTaken);
    EXPECT_EQ(paths(tileTaken), paths(std::vector<DatasetSample>(taken.begin() + 10, taken.end())));
}

// ---------------------------------------------------------------- temporary MVTec layout

TEST(DMAD_Dataset, mvtec_temporary_layout)
{
    TempDir tmp;
    const std::string root = tmp.path;
    writeImage(root + "/widget/train/good/b.PNG");
    writeImage(root + "/widget/train/good/a.png");
    writeImage(root + "/widget/train/good/c.jpeg", ".jpg");
    writeImage(root + "/widget/train/good/.hidden.png");
    writeText(root + "/widget/train/good/notes.txt", "not an image");
    writeImage(root + "/widget/test/good/g1.tiff", ".tiff");
    writeImage(root + "/widget/test/scratch/s1.JPG", ".jpg");
    writeImage(root + "/widget/test/scratch/s2.bmp", ".bmp");
    writeImage(root + "/widget/ground_truth/scratch/s1_mask.png", ".png", 255);
    writeImage(root + "/plain/train/good/p1.tif", ".tiff");
    writeImage(root + "/plain/test/good/q.png");
    writeImage(root + "/plain/test/dent/d1.png");

    // widget has a ground_truth folder, so the mask of s2 must exist.
    const std::string missing = root + "/widget/ground_truth/scratch/s2_mask.png";
    EXPECT_CV_ERROR(readMVTecDataset(root), missing);
    EXPECT_NO_THROW(readMVTecDataset(root, { "plain" }));

    writeImage(missing, ".png", 255);
    const DatasetSplit split = readMVTecDataset(root);
    ASSERT_EQ(split.classes, (std::vector<String>{ "plain", "widget" }));
    EXPECT_EQ(split.classHasMasks, (std::vector<bool>{ false, true }));
    ASSERT_EQ(split.train.size(), 4u);  // p1, a, b, c: the hidden file and notes.txt are skipped
    EXPECT_EQ(split.train[0].imagePath, root + "/plain/train/good/p1.tif");
    EXPECT_EQ(split.train[1].imagePath, root + "/widget/train/good/a.png");
    EXPECT_EQ(split.train[2].imagePath, root + "/widget/train/good/b.PNG");
    EXPECT_EQ(split.train[3].imagePath, root + "/widget/train/good/c.jpeg");
    ASSERT_EQ(split.test.size(), 5u);
    const DatasetSample& d1 = split.test[0];
    EXPECT_EQ(d1.imagePath, root + "/plain/test/dent/d1.png");
    EXPECT_TRUE(d1.anomalous);
    EXPECT_EQ(d1.defectType, "dent");
    EXPECT_TRUE(d1.maskPath.empty());
    EXPECT_FALSE(split.test[1].anomalous);
    EXPECT_EQ(split.test[2].imagePath, root + "/widget/test/good/g1.tiff");
    EXPECT_EQ(split.test[3].imagePath, root + "/widget/test/scratch/s1.JPG");
    EXPECT_EQ(split.test[3].maskPath, root + "/widget/ground_truth/scratch/s1_mask.png");
    EXPECT_EQ(split.test[4].maskPath, missing);
    EXPECT_EQ(split.classIndex("widget"), 1);
    EXPECT_EQ(split.classIndex("other"), -1);
    EXPECT_CV_ERROR(split.hasMasks("other"), "no class 'other'");

    EXPECT_TRUE(isImageFile("x/y.TIF"));
    EXPECT_TRUE(isImageFile("a.JpEg"));
    EXPECT_FALSE(isImageFile("a.txt"));
    EXPECT_FALSE(isImageFile("png"));

    EXPECT_CV_ERROR(readMVTecDataset(root, { "nothere" }), root + "/nothere");
    EXPECT_CV_ERROR(readMVTecDataset(root, { "plain", "plain" }), "requested twice");
    EXPECT_CV_ERROR(readMVTecDataset(root + "/absent"), root + "/absent");
    writeImage(root + "/broken/test/good/x.png");
    EXPECT_CV_ERROR(readMVTecDataset(root), root + "/broken/train/good");
}

// ---------------------------------------------------------------- VisA split CSV

TEST(DMAD_Dataset, visa_csv)
{
    TempDir tmp;
    const std::string root = tmp.path;
    const char* const images[] = {
        "candle/Data/Images/Normal/0001.JPG", "candle/Data/Images/Normal/0002.JPG",
        "candle/Data/Images/Normal/0003.JPG", "candle/Data/Images/Anomaly/0100.JPG",
        "candle/Data/Masks/Anomaly/0100.png", "pcb1/Data/Images/Normal/0001.JPG",
        "pcb1/Data/Images/Normal/0002.JPG", "pcb1/Data/Images/Anomaly/0000.JPG",
        "pcb1/Data/Images/Anomaly/0001.JPG", "pcb1/Data/Masks/Anomaly/0000.png",
        "pcb1/Data/Masks/Anomaly/0001.png" };
    for (const char* image : images)
        writeImage(root + "/" + image, ".jpg");
    // Rows out of order and with Windows line ends: the reader sorts, and strips '\r'.
    const std::string csv =
        "object,split,label,image,mask\r\n"
        "pcb1,test,anomaly,pcb1/Data/Images/Anomaly/0001.JPG,pcb1/Data/Masks/Anomaly/0001.png\r\n"
        "candle,train,normal,candle/Data/Images/Normal/0002.JPG,\r\n"
        "candle,train,normal,candle/Data/Images/Normal/0001.JPG,\r\n"
        "candle,test,anomaly,candle/Data/Images/Anomaly/0100.JPG,"
        "candle/Data/Masks/Anomaly/0100.png\r\n"
        "candle,test,normal,candle/Data/Images/Normal/0003.JPG,\r\n"
        "pcb1,train,normal,pcb1/Data/Images/Normal/0001.JPG,\r\n"
        "pcb1,test,normal,pcb1/Data/Images/Normal/0002.JPG,\r\n"
        "pcb1,test,anomaly,pcb1/Data/Images/Anomaly/0000.JPG,pcb1/Data/Masks/Anomaly/0000.png\r\n";
    writeText(root + "/split_csv/1cls.csv", csv);

    const DatasetSplit split = readVisADataset(root);
    ASSERT_EQ(split.classes, (std::vector<String>{ "candle", "pcb1" }));
    EXPECT_EQ(split.classHasMasks, (std::vector<bool>{ true, true }));
    ASSERT_EQ(split.train.size(), 3u);
    EXPECT_EQ(split.train[0].imagePath, root + "/candle/Data/Images/Normal/0001.JPG");
    EXPECT_EQ(split.train[2].className, "pcb1");
    ASSERT_EQ(split.test.size(), 5u);
    EXPECT_EQ(split.test[0].imagePath, root + "/candle/Data/Images/Anomaly/0100.JPG");
    EXPECT_EQ(split.test[0].maskPath, root + "/candle/Data/Masks/Anomaly/0100.png");
    EXPECT_EQ(split.test[0].defectType, "anomaly");
    EXPECT_FALSE(split.test[1].anomalous);
    EXPECT_TRUE(split.test[1].maskPath.empty());
    EXPECT_EQ(split.test[4].imagePath, root + "/pcb1/Data/Images/Normal/0002.JPG");
    EXPECT_TRUE(sortedByPath(split.test));

    const DatasetSplit pcb = readVisADataset(root, { "pcb1" });
    EXPECT_EQ(pcb.classes, (std::vector<String>{ "pcb1" }));
    EXPECT_EQ(pcb.train.size(), 1u);
    EXPECT_EQ(pcb.test.size(), 3u);
    EXPECT_CV_ERROR(readVisADataset(root, { "capsules" }), "class 'capsules' is not in");

    // A file the CSV names but that is absent.
    writeText(root + "/bad1.csv", "object,split,label,image,mask\n"
                                  "fryum,test,normal,fryum/none.JPG,\n");
    EXPECT_CV_ERROR(readVisADataset(root, {}, "bad1.csv"), root + "/fryum/none.JPG");
    // An anomalous training row, an unknown label (with its line number), a missing column.
    writeText(root + "/bad2.csv", "object,split,label,image,mask\n"
                                  "pcb1,train,anomaly,pcb1/Data/Images/Anomaly/0000.JPG,\n");
    EXPECT_CV_ERROR(readVisADataset(root, {}, "bad2.csv"), "training split");
    writeText(root + "/bad3.csv", "object,split,label,image,mask\n"
                                  "pcb1,train,normal,pcb1/Data/Images/Normal/0001.JPG,\n"
                                  "pcb1,test,broken,pcb1/Data/Images/Normal/0002.JPG,\n");
    EXPECT_CV_ERROR(readVisADataset(root, {}, "bad3.csv"), "bad3.csv line 3");
    writeText(root + "/bad4.csv", "object,split,label,image\n");
    EXPECT_CV_ERROR(readVisADataset(root, {}, "bad4.csv"), "no column 'mask'");
    // A missing mask file, and an anomaly without a mask in a class that has masks.
    writeText(root + "/bad5.csv", "object,split,label,image,mask\n"
                                  "pcb1,test,anomaly,pcb1/Data/Images/Anomaly/0000.JPG,m/x.png\n");
    EXPECT_CV_ERROR(readVisADataset(root, {}, "bad5.csv"), root + "/m/x.png");
    writeText(root + "/bad6.csv",
              "object,split,label,image,mask\n"
              "pcb1,test,anomaly,pcb1/Data/Images/Anomaly/0000.JPG,"
              "pcb1/Data/Masks/Anomaly/0000.png\n"
              "pcb1,test,anomaly,pcb1/Data/Images/Anomaly/0001.JPG,\n");
    EXPECT_CV_ERROR(readVisADataset(root, {}, "bad6.csv"), "Anomaly/0001.JPG' has no mask");
    EXPECT_CV_ERROR(readVisADataset(root, {}, "absent.csv"), root + "/absent.csv");
}

// ---------------------------------------------------------------- good / bad folders

TEST(DMAD_Dataset, folder_pair)
{
    TempDir tmp;
    const std::string good = tmp.path + "/good", bad = tmp.path + "/bad", masks = tmp.path + "/m";
    for (int i = 0; i < 10; i++)
        writeImage(cv::format("%s/g%02d.png", good.c_str(), i));
    writeImage(bad + "/b0.png");
    writeImage(bad + "/b1.jpg", ".jpg");
    writeImage(bad + "/b2.png");
    writeImage(masks + "/b0_mask.png", ".png", 255);
    writeImage(masks + "/b1.png", ".png", 255);
    writeImage(masks + "/b2_mask.bmp", ".bmp", 255);

    const DatasetSplit split = readFolderDataset(good, bad, masks, 0.3, 7, "line");
    EXPECT_EQ(split.classes, (std::vector<String>{ "line" }));
    EXPECT_TRUE(split.hasMasks("line"));
    EXPECT_EQ(split.train.size(), 7u);
    ASSERT_EQ(split.test.size(), 6u);
    EXPECT_EQ(countTypes(split.test), (std::map<std::string, int>{ { "bad", 3 }, { "good", 3 } }));
    EXPECT_EQ(split.test[0].imagePath, bad + "/b0.png");
    EXPECT_EQ(split.test[0].maskPath, masks + "/b0_mask.png");
    EXPECT_EQ(split.test[1].maskPath, masks + "/b1.png");
    EXPECT_EQ(split.test[2].maskPath, masks + "/b2_mask.bmp");
    EXPECT_TRUE(sortedByPath(split.train));
    // Deterministic for a seed; the held-out images are the first 3 of the seeded shuffle.
    EXPECT_EQ(paths(readFolderDataset(good, bad, masks, 0.3, 7, "line").test), paths(split.test));
    std::vector<std::string> names;
    for (int i = 0; i < 10; i++)
        names.push_back(cv::format("%s/g%02d.png", good.c_str(), i));
    RNG rng(7);
    for (int i = 9; i > 0; i--)
        std::swap(names[i], names[rng.uniform(0, i + 1)]);
    std::vector<std::string> held(names.begin(), names.begin() + 3);
    std::sort(held.begin(), held.end());
    const std::vector<std::string> testPaths = paths(split.test);
    EXPECT_EQ(std::vector<std::string>(testPaths.begin() + 3, testPaths.end()), held);

    const DatasetSplit noMasks = readFolderDataset(good, bad);
    EXPECT_FALSE(noMasks.hasMasks("default"));
    EXPECT_EQ(noMasks.train.size(), 10u);
    EXPECT_EQ(noMasks.test.size(), 3u);
    EXPECT_TRUE(noMasks.test[0].maskPath.empty());
    EXPECT_EQ(readFolderDataset(good, "").test.size(), 0u);

    EXPECT_CV_ERROR(readFolderDataset(good, bad, masks, 0.96), "leaves no training image");
    EXPECT_CV_ERROR(readFolderDataset(good, bad, masks, 1.0), "testGoodFraction");
    EXPECT_CV_ERROR(readFolderDataset(tmp.path + "/none", bad), tmp.path + "/none");
    EXPECT_CV_ERROR(readFolderDataset(good, bad, masks + "x"), masks + "x");
    EXPECT_CV_ERROR(readFolderDataset(tmp.path, bad), "no image");
    writeImage(masks + "/b0.png", ".png", 255);  // now two masks claim b0
    EXPECT_CV_ERROR(readFolderDataset(good, bad, masks), "match the same image stem 'b0'");
    fs::remove_all(masks + "/b0.png");
    fs::remove_all(masks + "/b2_mask.bmp");
    EXPECT_CV_ERROR(readFolderDataset(good, bad, masks), bad + "/b2.png");
}

// ---------------------------------------------------------------- annotated-anomaly picker

DatasetSplit syntheticSplit()
{
    DatasetSplit split;
    split.classes = { "A", "B" };
    split.classHasMasks = { true, false };
    for (int i = 0; i < 17; i++)
    {
        DatasetSample s;
        s.className = i < 14 ? "A" : "B";
        s.anomalous = i % 14 >= 2 || i >= 14;  // A: 2 good, 12 anomalous; B: 3 anomalous
        s.defectType = s.anomalous ? "defect" : "good";
        s.imagePath = cv::format("/data/%s/%02d.png", s.className.c_str(), i);
        if (s.anomalous && s.className == "A")
            s.maskPath = cv::format("/data/%s/%02d_mask.png", s.className.c_str(), i);
        split.test.push_back(s);
    }
    DatasetSample t;
    t.className = "A";
    t.defectType = "good";
    t.imagePath = "/data/A/train.png";
    split.train.push_back(t);
    return split;
}

TEST(DMAD_Dataset, annotated_anomaly_picker)
{
    const DatasetSplit split = syntheticSplit();
    std::vector<DatasetSample> taken, again;
    const DatasetSplit rest = takeAnnotatedAnomalies(split, 2, 0, taken);
    ASSERT_EQ(taken.size(), 4u);
    EXPECT_EQ(taken[0].className, "A");
    EXPECT_EQ(taken[1].className, "A");
    EXPECT_EQ(taken[2].className, "B");
    EXPECT_EQ(taken[3].className, "B");
    EXPECT_EQ(rest.test.size(), split.test.size() - 4);
    EXPECT_EQ(paths(rest.train), paths(split.train));
    EXPECT_EQ(rest.classes, split.classes);
    for (const DatasetSample& t : taken)
        for (const DatasetSample& s : rest.test)
            EXPECT_NE(s.imagePath, t.imagePath);
    EXPECT_TRUE(sortedByPath(rest.test));

    // The documented algorithm, written out for class A.
    std::vector<std::string> anomaliesA;
    for (const DatasetSample& s : split.test)
        if (s.className == "A" && s.anomalous)
            anomaliesA.push_back(s.imagePath);
    RNG rng(0);
    for (int i = (int)anomaliesA.size() - 1; i > 0; i--)
        std::swap(anomaliesA[i], anomaliesA[rng.uniform(0, i + 1)]);
    EXPECT_EQ(taken[0].imagePath, anomaliesA[0]);
    EXPECT_EQ(taken[1].imagePath, anomaliesA[1]);

    // Deterministic, independent of the input order, seed-dependent.
    DatasetSplit reversed = split;
    std::reverse(reversed.test.begin(), reversed.test.end());
    takeAnnotatedAnomalies(reversed, 2, 0, again);
    EXPECT_EQ(paths(again), paths(taken));
    takeAnnotatedAnomalies(split, 6, 1, again, true);
    std::vector<DatasetSample> seed0;
    takeAnnotatedAnomalies(split, 6, 0, seed0, true);
    EXPECT_NE(paths(std::vector<DatasetSample>(again.begin(), again.begin() + 6)),
              paths(std::vector<DatasetSample>(seed0.begin(), seed0.begin() + 6)));

    // More than a class has: an error by default, everything when allowed.
    EXPECT_CV_ERROR(takeAnnotatedAnomalies(split, 5, 0, again),
                    "class 'B' has 3 anomalous test images, 5 were asked for");
    const DatasetSplit all = takeAnnotatedAnomalies(split, 5, 0, again, true);
    EXPECT_EQ(again.size(), 8u);
    EXPECT_EQ(all.testOf("B").size(), 0u);
    EXPECT_EQ(all.testOf("A").size(), 2u + 7u);

    const DatasetSplit none = takeAnnotatedAnomalies(split, 0, 0, again);
    EXPECT_TRUE(again.empty());
    EXPECT_EQ(paths(none.test), paths(split.test));
    EXPECT_CV_ERROR(takeAnnotatedAnomalies(split, -1, 0, again), "must not be negative");
}

TEST(DMAD_Dataset, read_mask_variants)
{
    TempDir tmp;
    // A colour mask whose defect pixel is (1, 0, 0): any nonzero channel counts.
    Mat colour(4, 6, CV_8UC3, Scalar::all(0));
    colour.at<Vec3b>(1, 2) = Vec3b(1, 0, 0);
    const std::string colourPath = tmp.path + "/colour.png";
    ASSERT_TRUE(imwrite(colourPath, colour));
    Mat mask;
    readMask(colourPath, Size(), mask);
    ASSERT_EQ(mask.type(), CV_8UC1);
    EXPECT_EQ(mask.at<uchar>(1, 2), 255);
    EXPECT_EQ(countNonZero(mask), 1);
    readMask(colourPath, Size(12, 8), mask);  // nearest neighbour: a 2x2 block, still binary
    EXPECT_EQ(countNonZero(mask), 4);
    EXPECT_EQ(countNonZero(mask == 255), 4);
    // 16-bit masks.
    Mat deep(4, 6, CV_16U, Scalar(0));
    deep.at<ushort>(3, 5) = 1;
    ASSERT_TRUE(imwrite(tmp.path + "/deep.png", deep));
    readMask(tmp.path + "/deep.png", Size(6, 4), mask);
    EXPECT_EQ(mask.at<uchar>(3, 5), 255);
    EXPECT_EQ(countNonZero(mask), 1);

    readMask(String(), Size(5, 3), mask);
    EXPECT_EQ(mask.size(), Size(5, 3));
    EXPECT_EQ(countNonZero(mask), 0);
    EXPECT_CV_ERROR(readMask(String(), Size(), mask), "needs a size");
    EXPECT_CV_ERROR(readMask(tmp.path + "/absent.png", Size(4, 4), mask), tmp.path + "/absent.png");
    writeText(tmp.path + "/garbage.png", "not a png");
    EXPECT_CV_ERROR(readMask(tmp.path + "/garbage.png", Size(4, 4), mask), "cannot decode");
}

}} // namespace opencv_test::

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"

namespace opencv_test { namespace {

bool sameBytes(const Mat& a, const Mat& b)
{
    return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, NORM_INF) == 0;
}

std::string readFile(const std::string& path)
{
    std::ifstream in(path.c_str(), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

//! Files (not folders) under `dir`, relative, sorted.
std::vector<std::string> listFiles(const std::string& dir)
{
    std::vector<String> found;
    utils::fs::glob_relative(dir, "*", found, true, false);
    std::vector<std::string> files(found.begin(), found.end());
    std::sort(files.begin(), files.end());
    return files;
}

TEST(DMAD_SyntheticSample, classes_and_defect_types)
{
    const std::vector<String> classes = syntheticClassNames();
    ASSERT_EQ(classes, (std::vector<String>{ "fabric", "metal_plate", "washer", "pill" }));
    EXPECT_EQ(syntheticDefectTypes("fabric"), (std::vector<String>{ "hole", "stain", "thread" }));
    EXPECT_EQ(syntheticDefectTypes("metal_plate"),
              (std::vector<String>{ "scratch", "spot", "crack" }));
    EXPECT_EQ(syntheticDefectTypes("washer"),
              (std::vector<String>{ "missing", "crack", "scratch" }));
    EXPECT_EQ(syntheticDefectTypes("pill"),
              (std::vector<String>{ "chip", "crack", "contamination" }));
    Mat image, mask;
    EXPECT_CV_ERROR(syntheticDefectTypes("bottle"), "unknown synthetic class 'bottle'");
    EXPECT_CV_ERROR(renderSyntheticSample("pill", "scratch", 1, 0, 64, image, mask),
                    "class 'pill' has no defect type 'scratch'");
    EXPECT_CV_ERROR(renderSyntheticSample("pill", "good", 1, 0, 16, image, mask), "32..2048");
}

TEST(DMAD_SyntheticSample, deterministic_and_varied)
{
    Mat a, b, c, d, ma, mb, mc, md;
    renderSyntheticSample("washer", "crack", 3, 5, 96, a, ma);
    renderSyntheticSample("washer", "crack", 3, 5, 96, b, mb);
    renderSyntheticSample("washer", "crack", 3, 6, 96, c, mc);
    renderSyntheticSample("washer", "crack", 4, 5, 96, d, md);
    EXPECT_TRUE(sameBytes(a, b) && sameBytes(ma, mb));
    EXPECT_FALSE(sameBytes(a, c));
    EXPECT_FALSE(sameBytes(a, d));
    EXPECT_FALSE(sameBytes(ma, mc));
}

TEST(DMAD_SyntheticSample, mask_is_exactly_where_the_image_changed)
{
    const int S = 128;
    for (const String& cls : syntheticClassNames())
        for (const String& type : syntheticDefectTypes(cls))
            for (int index = 0; index < 3; index++)
            {
                SCOPED_TRACE(cls + "/" + type + cv::format(" #%d", index));
                Mat image, mask, clean;
                renderSyntheticSample(cls, type, 7, index, S, image, mask, clean);
                ASSERT_EQ(image.type(), cls == "metal_plate" ? CV_8UC1 : CV_8UC3);
                ASSERT_EQ(image.size(), Size(S, S));
                ASSERT_EQ(mask.type(), CV_8UC1);
                ASSERT_EQ(mask.size(), image.size());
                ASSERT_EQ(clean.type(), image.type());
                ASSERT_EQ(clean.size(), image.size());
                const int on = countNonZero(mask);
                EXPECT_EQ(on, countNonZero(mask == 255)) << "mask values other than 0 and 255";
                EXPECT_GT(on, 0);
                EXPECT_LE(on, S * S * 0.05) << "a defect larger than 5 % of the image";
                // Outside the mask the defective image is the clean part, bit for bit...
                EXPECT_EQ(cv::norm(image, clean, NORM_INF, mask == 0), 0);
                // ... and inside it nearly every pixel changed.
                Mat diff, largest;
                absdiff(image, clean, diff);
                // A pixel changed when any of its channels did.
                reduce(diff.reshape(1, (int)diff.total()), largest, 1, REDUCE_MAX);
                const Mat changed = (largest.reshape(1, S) > 0) & mask;
                EXPECT_GE(countNonZero(changed), 0.9 * on)
                    << countNonZero(changed) << " of " << on << " mask pixels changed";
            }
}

TEST(DMAD_SyntheticSample, good_samples_have_no_defect_and_vary)
{
    for (const String& cls : syntheticClassNames())
    {
        SCOPED_TRACE(cls);
        Mat a, b, ma, mb, clean;
        renderSyntheticSample(cls, "good", 1, 0, 96, a, ma, clean);
        renderSyntheticSample(cls, "good", 1, 1, 96, b, mb);
        EXPECT_EQ(countNonZero(ma), 0);
        EXPECT_TRUE(sameBytes(a, clean));
        // Normal parts differ in pose, lighting and noise, not only by a pixel or two.
        EXPECT_GT(cv::norm(a, b, NORM_L1) / (double)a.total() / a.channels(), 4.0);
    }
}

struct DMAD_SyntheticDataset : public ::testing::Test
{
    SyntheticDatasetParams params;
    TempDir dir;

    void SetUp() CV_OVERRIDE
    {
        params.seed = 5;
        params.trainCount = 3;
        params.testGoodCount = 2;
        params.testDefectCount = 4;
        params.imageSize = 48;
        params.classes = { "washer", "fabric" };
    }
};

TEST_F(DMAD_SyntheticDataset, writes_the_mvtec_layout)
{
    ASSERT_TRUE(generateSyntheticDataset(dir.path, params));
    std::vector<std::string> expected = { "dataset.yml" };
    for (const String& cls : params.classes)
    {
        for (int i = 0; i < 3; i++)
            expected.push_back(cls + cv::format("/train/good/%03d.png", i));
        for (int i = 0; i < 2; i++)
            expected.push_back(cls + cv::format("/test/good/%03d.png", i));
        const std::vector<String> types = syntheticDefectTypes(cls);
        const int counts[] = { 2, 1, 1 };  // 4 defects over 3 types, the first types first
        for (int t = 0; t < 3; t++)
            for (int i = 0; i < counts[t]; i++)
            {
                expected.push_back(cls + "/test/" + types[t] + cv::format("/%03d.png", i));
                expected.push_back(cls + "/ground_truth/" + types[t] +
                                   cv::format("/%03d_mask.png", i));
            }
    }
    std::sort(expected.begin(), expected.end());
    ASSERT_EQ(listFiles(dir.path), expected);

    for (const String& cls : params.classes)
    {
        SCOPED_TRACE(cls);
        // Every file is the documented sample.
        const String classDir = dir.path + "/" + cls;
        Mat image, mask;
        renderSyntheticSample(cls, "good", 5, 2, 48, image, mask);
        EXPECT_TRUE(sameBytes(imread(classDir + "/train/good/002.png", IMREAD_UNCHANGED), image));
        renderSyntheticSample(cls, "good", 5, -1 - 1, 48, image, mask);
        EXPECT_TRUE(sameBytes(imread(classDir + "/test/good/001.png", IMREAD_UNCHANGED), image));
        for (const String& type : syntheticDefectTypes(cls))
        {
            const String stem = dir.path + "/" + cls;
            const Mat written = imread(stem + "/test/" + type + "/000.png", IMREAD_UNCHANGED);
            const Mat writtenMask = imread(stem + "/ground_truth/" + type + "/000_mask.png",
                                           IMREAD_UNCHANGED);
            renderSyntheticSample(cls, type, 5, 0, 48, image, mask);
            EXPECT_TRUE(sameBytes(written, image)) << type;
            ASSERT_EQ(writtenMask.type(), CV_8UC1) << type;
            EXPECT_EQ(writtenMask.size(), written.size()) << type;
            EXPECT_GT(countNonZero(writtenMask), 0) << type;
            EXPECT_TRUE(sameBytes(writtenMask, mask)) << type;
        }
    }
}

TEST_F(DMAD_SyntheticDataset, same_bytes_for_the_same_seed)
{
    TempDir other;
    ASSERT_TRUE(generateSyntheticDataset(dir.path, params));
    ASSERT_TRUE(generateSyntheticDataset(other.path, params));
    const std::vector<std::string> files = listFiles(dir.path);
    ASSERT_EQ(files, listFiles(other.path));
    for (const std::string& f : files)
        EXPECT_EQ(readFile(dir.path + "/" + f), readFile(other.path + "/" + f)) << f;
}

TEST_F(DMAD_SyntheticDataset, skips_when_up_to_date_and_regenerates_on_a_change)
{
    ASSERT_TRUE(generateSyntheticDataset(dir.path, params));
    const std::string trainImage = dir.path + "/washer/train/good/002.png";
    const std::string before = readFile(trainImage);
    EXPECT_FALSE(generateSyntheticDataset(dir.path, params));

    // A missing file is noticed.
    std::remove((dir.path + "/fabric/test/good/001.png").c_str());
    EXPECT_TRUE(generateSyntheticDataset(dir.path, params));
    EXPECT_TRUE(utils::fs::exists(dir.path + "/fabric/test/good/001.png"));

    // Another seed rewrites the images.
    params.seed = 6;
    EXPECT_TRUE(generateSyntheticDataset(dir.path, params));
    EXPECT_NE(readFile(trainImage), before);

    // Fewer images and fewer classes: nothing stale is left behind.
    params.trainCount = 2;
    params.classes = { "washer" };
    EXPECT_TRUE(generateSyntheticDataset(dir.path, params));
    EXPECT_FALSE(utils::fs::exists(trainImage));
    EXPECT_FALSE(utils::fs::exists(dir.path + "/fabric"));
    EXPECT_FALSE(generateSyntheticDataset(dir.path, params));
}

TEST_F(DMAD_SyntheticDataset, refuses_foreign_folders_and_bad_parameters)
{
    ASSERT_TRUE(utils::fs::createDirectories(dir.path + "/washer/train/good"));
    EXPECT_CV_ERROR(generateSyntheticDataset(dir.path, params),
                    "was not written by generateSyntheticDataset");
    EXPECT_TRUE(utils::fs::exists(dir.path + "/washer/train/good"));  // left alone

    TempDir foreign;
    std::ofstream(foreign.path + "/dataset.yml") << "name: somebody else's dataset\n";
    EXPECT_CV_ERROR(generateSyntheticDataset(foreign.path, params),
                    "was not written by generateSyntheticDataset");

    TempDir fresh;
    SyntheticDatasetParams p = params;
    p.trainCount = 0;
    EXPECT_CV_ERROR(generateSyntheticDataset(fresh.path, p), "image counts");
    p = params;
    p.classes = { "washer", "bottle" };
    EXPECT_CV_ERROR(generateSyntheticDataset(fresh.path, p), "unknown synthetic class 'bottle'");
    p.classes = { "pill", "pill" };
    EXPECT_CV_ERROR(generateSyntheticDataset(fresh.path, p), "listed twice");
    p = params;
    p.imageSize = 4096;
    EXPECT_CV_ERROR(generateSyntheticDataset(fresh.path, p), "32..2048");
    EXPECT_CV_ERROR(generateSyntheticDataset("", params), "needs a root folder");
}

}} // namespace

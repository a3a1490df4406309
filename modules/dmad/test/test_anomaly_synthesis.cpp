// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"

namespace opencv_test { namespace {

bool identical(const Mat& a, const Mat& b)
{
    return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, NORM_INF) == 0;
}

Mat randomImage(Size size, int type, uint64 seed)
{
    Mat m(size, type);
    RNG rng(seed);
    const double top = CV_MAT_DEPTH(type) == CV_8U ? 256 : CV_MAT_DEPTH(type) == CV_16U ? 65536 : 1;
    rng.fill(m, RNG::UNIFORM, Scalar::all(0), Scalar::all(top));
    return m;
}

TEST(DMAD_PerlinNoise, range_lattice_zeros_and_determinism)
{
    RNG a(11), b(11);
    Mat n1, n2;
    perlinNoise(Size(64, 48), Size(4, 3), a, n1);
    perlinNoise(Size(64, 48), Size(4, 3), b, n2);
    ASSERT_EQ(n1.type(), CV_32FC1);
    EXPECT_EQ(cv::norm(n1, n2, NORM_INF), 0);
    double lo, hi;
    minMaxLoc(n1, &lo, &hi);
    EXPECT_GE(lo, -1.0);
    EXPECT_LE(hi, 1.0);
    EXPECT_GT(hi - lo, 0.5) << "noise that barely varies";
    // Lattice points (every 16 pixels here) are where the noise is exactly zero.
    for (int y = 0; y < 48; y += 16)
        for (int x = 0; x < 64; x += 16)
            EXPECT_NEAR(n1.at<float>(y, x), 0.f, 1e-6f) << x << "," << y;
    EXPECT_CV_ERROR(perlinNoise(Size(0, 5), Size(1, 1), a, n1), "non-empty size");
    EXPECT_CV_ERROR(perlinNoise(Size(8, 8), Size(0, 1), a, n1), "periods");
}

TEST(DMAD_GenerateTexture, deterministic_for_a_seed)
{
    for (int kind = TEXTURE_RANDOM; kind < TEXTURE_KIND_COUNT; kind++)
    {
        Mat a, b, c;
        generateTexture(Size(96, 80), kind, 7, a);
        generateTexture(Size(96, 80), kind, 7, b);
        generateTexture(Size(96, 80), kind, 8, c);
        ASSERT_EQ(a.type(), CV_8UC3);
        ASSERT_EQ(a.size(), Size(96, 80));
        EXPECT_TRUE(identical(a, b)) << "kind " << kind;
        EXPECT_FALSE(identical(a, c)) << "kind " << kind << ": another seed gave the same texture";
        // The RNG& overload continues a stream: two draws differ.
        RNG rng(3);
        generateTexture(Size(32, 32), kind, rng, a);
        generateTexture(Size(32, 32), kind, rng, b);
        EXPECT_FALSE(identical(a, b)) << "kind " << kind;
    }
}

TEST(DMAD_GenerateTexture, families_are_distinct_and_not_flat)
{
    const Size size(128, 128);
    for (int seed = 0; seed < 4; seed++)
    {
        std::vector<Mat> gray(TEXTURE_KIND_COUNT);
        for (int kind = 0; kind < TEXTURE_KIND_COUNT; kind++)
        {
            Mat t;
            generateTexture(size, kind, seed, t);
            cvtColor(t, gray[kind], COLOR_BGR2GRAY);
            Scalar mean, stddev;
            meanStdDev(gray[kind], mean, stddev);
            EXPECT_GT(stddev[0], 8.0) << "kind " << kind << " seed " << seed << " is nearly flat";
        }
        for (int i = 0; i < TEXTURE_KIND_COUNT; i++)
            for (int j = i + 1; j < TEXTURE_KIND_COUNT; j++)
                EXPECT_GT(cv::norm(gray[i], gray[j], NORM_L1) / size.area(), 10.0)
                    << "kinds " << i << " and " << j << " look alike (seed " << seed << ")";
    }
}

TEST(DMAD_GenerateTexture, bad_arguments)
{
    Mat t;
    EXPECT_CV_ERROR(generateTexture(Size(16, 16), TEXTURE_KIND_COUNT, 1, t),
                    "unknown texture kind");
    EXPECT_CV_ERROR(generateTexture(Size(16, 16), -2, 1, t), "unknown texture kind");
    EXPECT_CV_ERROR(generateTexture(Size(0, 16), TEXTURE_NOISE, 1, t), "non-empty size");
}

TEST(DMAD_PerlinMask, never_empty_and_within_area_bounds)
{
    AnomalySynthesisParams params;
    const Size sizes[] = { Size(256, 256), Size(97, 61), Size(12, 40) };
    for (const Size& size : sizes)
        for (int seed = 0; seed < 30; seed++)
        {
            Mat mask;
            perlinMask(size, seed, mask, params);
            ASSERT_EQ(mask.type(), CV_8UC1);
            ASSERT_EQ(mask.size(), size);
            const int on = countNonZero(mask);
            EXPECT_GT(on, 0) << size << " seed " << seed;
            EXPECT_EQ(on, countNonZero(mask == 255)) << "mask values other than 0 and 255";
            const double fraction = (double)on / size.area();
            EXPECT_LE(fraction, params.maxArea) << size << " seed " << seed;
            if (params.minArea * size.area() >= 1)
                EXPECT_GE(fraction, params.minArea) << size << " seed " << seed;
        }
}

TEST(DMAD_PerlinMask, deterministic_and_varied)
{
    Mat a, b, c;
    perlinMask(Size(128, 128), 5, a);
    perlinMask(Size(128, 128), 5, b);
    perlinMask(Size(128, 128), 6, c);
    EXPECT_TRUE(identical(a, b));
    EXPECT_FALSE(identical(a, c));
}

TEST(DMAD_PerlinMask, fallback_moves_the_threshold_to_the_nearest_bound)
{
    AnomalySynthesisParams p;
    p.maxTries = 1;
    p.threshold = 0.99f;  // almost never crossed: the area is lifted to minArea
    p.minArea = 0.02;
    Mat mask;
    perlinMask(Size(100, 100), 1, mask, p);
    EXPECT_NEAR(countNonZero(mask) / 1e4, 0.02, 0.002);

    p.threshold = -0.99f;  // almost everything: the area is cut to maxArea
    p.maxArea = 0.1;
    perlinMask(Size(100, 100), 1, mask, p);
    EXPECT_NEAR(countNonZero(mask) / 1e4, 0.1, 0.002);
}

TEST(DMAD_PerlinMask, region_confines_the_mask)
{
    Mat region = Mat::zeros(64, 64, CV_8U);
    circle(region, Point(40, 30), 12, Scalar(1), FILLED);  // any nonzero value marks the region
    for (int seed = 0; seed < 20; seed++)
    {
        Mat mask;
        perlinMask(region.size(), seed, mask, AnomalySynthesisParams(), region);
        EXPECT_GT(countNonZero(mask), 0);
        EXPECT_EQ(countNonZero(mask & (region == 0)), 0) << "seed " << seed;
    }
}

TEST(DMAD_PerlinMask, bad_arguments)
{
    Mat mask;
    AnomalySynthesisParams p;
    p.minArea = 0.5;
    p.maxArea = 0.1;
    EXPECT_CV_ERROR(perlinMask(Size(32, 32), 1, mask, p), "area bounds");
    p = AnomalySynthesisParams();
    p.maxScaleLog2 = -1;
    EXPECT_CV_ERROR(perlinMask(Size(32, 32), 1, mask, p), "Perlin scales");
    p = AnomalySynthesisParams();
    EXPECT_CV_ERROR(perlinMask(Size(32, 32), 1, mask, p, Mat::ones(32, 32, CV_32F)), "CV_8UC1");
    EXPECT_CV_ERROR(perlinMask(Size(32, 32), 1, mask, p, Mat::ones(16, 32, CV_8U)), "CV_8UC1");
    EXPECT_CV_ERROR(perlinMask(Size(32, 32), 1, mask, p, Mat::zeros(32, 32, CV_8U)), "no nonzero");
    EXPECT_CV_ERROR(perlinMask(Size(0, 32), 1, mask, p), "non-empty size");
}

//! Checks the DRAEM blend pixel by pixel: unchanged outside the mask, the formula inside.
template <typename T>
void expectBlend(const Mat& image, const Mat& texture, const Mat& mask, double beta,
                 const Mat& result)
{
    ASSERT_EQ(result.type(), image.type());
    ASSERT_EQ(result.size(), image.size());
    const int cn = image.channels(), colours = std::min(cn, 3);
    int inside = 0, bad = 0;
    for (int y = 0; y < image.rows; y++)
        for (int x = 0; x < image.cols; x++)
        {
            const bool in = mask.at<uchar>(y, x) != 0;
            inside += in;
            for (int c = 0; c < cn; c++)
            {
                const T img = image.ptr<T>(y)[x * cn + c], out = result.ptr<T>(y)[x * cn + c];
                T expected = img;
                if (in && c < colours)
                    expected = saturate_cast<T>((1.f - (float)beta) * (float)img +
                                                (float)beta * (float)texture.ptr<T>(y)[x * cn + c]);
                if (memcmp(&expected, &out, sizeof(T)) != 0)
                    bad++;
            }
        }
    EXPECT_GT(inside, 0);
    EXPECT_EQ(bad, 0) << "pixels that do not follow (1 - beta m) image + beta m texture";
}

TEST(DMAD_BlendAnomaly, formula_inside_unchanged_outside)
{
    Mat mask;
    perlinMask(Size(61, 47), 3, mask);
    const int types[] = { CV_8UC1, CV_8UC3, CV_8UC4, CV_16UC1, CV_16UC3, CV_32FC1, CV_32FC3 };
    for (int type : types)
    {
        SCOPED_TRACE(typeToString(type));
        const Mat image = randomImage(mask.size(), type, 1);
        const Mat texture = randomImage(mask.size(), type, 2);
        Mat result;
        blendAnomaly(image, texture, mask, 0.37, result);
        switch (CV_MAT_DEPTH(type))
        {
        case CV_8U: expectBlend<uchar>(image, texture, mask, 0.37, result); break;
        case CV_16U: expectBlend<ushort>(image, texture, mask, 0.37, result); break;
        default: expectBlend<float>(image, texture, mask, 0.37, result); break;
        }
    }
}

TEST(DMAD_BlendAnomaly, texture_converted_to_the_image_type)
{
    Mat mask = Mat::zeros(20, 30, CV_8U);
    mask(Rect(5, 5, 10, 10)) = 255;
    const Mat colourTexture = randomImage(mask.size(), CV_8UC3, 4);
    Mat grayTexture;
    cvtColor(colourTexture, grayTexture, COLOR_BGR2GRAY);

    // Gray image, colour texture: the texture is converted to gray first.
    const Mat gray = randomImage(mask.size(), CV_8UC1, 5);
    Mat result;
    blendAnomaly(gray, colourTexture, mask, 1.0, result);
    ASSERT_EQ(result.type(), CV_8UC1);
    EXPECT_EQ(cv::norm(result(Rect(5, 5, 10, 10)), grayTexture(Rect(5, 5, 10, 10)), NORM_INF), 0);

    // 16-bit image, 8-bit texture: the texture is scaled by 257 (white stays white).
    Mat gray16;
    gray.convertTo(gray16, CV_16U, 257);
    blendAnomaly(gray16, grayTexture, mask, 1.0, result);
    ASSERT_EQ(result.type(), CV_16UC1);
    Mat expected;
    grayTexture.convertTo(expected, CV_16U, 257);
    EXPECT_EQ(cv::norm(result(Rect(5, 5, 10, 10)), expected(Rect(5, 5, 10, 10)), NORM_INF), 0);

    // A BGRA image keeps its alpha.
    Mat bgra = randomImage(mask.size(), CV_8UC4, 6);
    blendAnomaly(bgra, grayTexture, mask, 0.5, result);
    std::vector<Mat> in, out;
    split(bgra, in);
    split(result, out);
    EXPECT_EQ(cv::norm(in[3], out[3], NORM_INF), 0);
    EXPECT_GT(cv::norm(in[0], out[0], NORM_INF), 0);
}

TEST(DMAD_BlendAnomaly, bad_input)
{
    const Mat image = randomImage(Size(32, 24), CV_8UC3, 1), mask = Mat::ones(24, 32, CV_8U);
    Mat out;
    EXPECT_CV_ERROR(blendAnomaly(Mat(), image, mask, 0.5, out), "the image is empty");
    EXPECT_CV_ERROR(blendAnomaly(image, Mat(), mask, 0.5, out), "the texture is empty");
    EXPECT_CV_ERROR(blendAnomaly(image, randomImage(Size(16, 24), CV_8UC3, 2), mask, 0.5, out),
                    "the texture is 16x24 but the image is 32x24");
    EXPECT_CV_ERROR(blendAnomaly(image, image, Mat::ones(24, 31, CV_8U), 0.5, out),
                    "the anomaly mask is 31x24");
    EXPECT_CV_ERROR(blendAnomaly(image, image, Mat::ones(24, 32, CV_32F), 0.5, out),
                    "must be CV_8UC1");
    EXPECT_CV_ERROR(blendAnomaly(Mat(24, 32, CV_64FC3, Scalar(0)), image, mask, 0.5, out),
                    "unsupported type");
    EXPECT_CV_ERROR(blendAnomaly(Mat(24, 32, CV_8UC2, Scalar(0)), image, mask, 0.5, out),
                    "2 channels");
    EXPECT_CV_ERROR(blendAnomaly(image, image, mask, 1.5, out), "outside [0, 1]");
}

TEST(DMAD_SynthesizeAnomaly, follows_the_blend_with_the_returned_opacity)
{
    AnomalySynthesisParams p;
    p.augmentTexture = false;  // so that the texture reaching the blend is known
    for (int seed = 0; seed < 10; seed++)
    {
        const Mat image = randomImage(Size(80, 64), CV_8UC3, seed);
        Mat texture;
        generateTexture(image.size(), TEXTURE_RANDOM, 100 + seed, texture);
        Mat out, mask;
        const double beta = synthesizeAnomaly(image, texture, out, mask, seed, p);
        EXPECT_GE(beta, p.minOpacity);
        EXPECT_LE(beta, p.maxOpacity);
        ASSERT_EQ(mask.type(), CV_8UC1);
        EXPECT_GT(countNonZero(mask), 0);
        expectBlend<uchar>(image, texture, mask, beta, out);
    }
    // A fixed opacity is honoured.
    p.minOpacity = p.maxOpacity = 0.6f;
    Mat out, mask;
    const Mat image = randomImage(Size(40, 40), CV_8UC1, 1);
    EXPECT_DOUBLE_EQ(synthesizeAnomaly(image, Mat(), out, mask, 3, p), 0.6f);
}

TEST(DMAD_SynthesizeAnomaly, keeps_type_and_size_and_is_deterministic)
{
    const Mat texture = randomImage(Size(50, 70), CV_8UC3, 9);  // resized and cropped to the image
    const int types[] = { CV_8UC1, CV_8UC3, CV_8UC4, CV_16UC1, CV_32FC3 };
    for (int type : types)
    {
        SCOPED_TRACE(typeToString(type));
        const Mat image = randomImage(Size(97, 61), type, 1);
        for (const Mat& tex : { Mat(), texture })
        {
            Mat a, b, c, ma, mb, mc;
            synthesizeAnomaly(image, tex, a, ma, 21);
            synthesizeAnomaly(image, tex, b, mb, 21);
            synthesizeAnomaly(image, tex, c, mc, 22);
            ASSERT_EQ(a.type(), type);
            ASSERT_EQ(a.size(), image.size());
            EXPECT_TRUE(identical(a, b) && identical(ma, mb));
            EXPECT_FALSE(identical(ma, mc));
            // Outside the mask the image is untouched, bit for bit.
            EXPECT_EQ(cv::norm(a, image, NORM_INF, ma == 0), 0);
        }
    }
}

TEST(DMAD_SynthesizeAnomaly, foreground_confines_the_anomaly)
{
    const Mat image = randomImage(Size(64, 64), CV_8UC3, 2);
    Mat foreground = Mat::zeros(image.size(), CV_8U);
    rectangle(foreground, Rect(8, 8, 20, 30), Scalar(255), FILLED);
    for (int seed = 0; seed < 10; seed++)
    {
        Mat out, mask;
        synthesizeAnomaly(image, Mat(), out, mask, seed, AnomalySynthesisParams(), foreground);
        EXPECT_GT(countNonZero(mask), 0);
        EXPECT_EQ(countNonZero(mask & ~foreground), 0);
    }
}

TEST(DMAD_SynthesizeAnomaly, bad_input)
{
    const Mat image = randomImage(Size(32, 24), CV_8UC3, 1);
    Mat out, mask;
    EXPECT_CV_ERROR(synthesizeAnomaly(Mat(), Mat(), out, mask, 1), "the normal image is empty");
    EXPECT_CV_ERROR(synthesizeAnomaly(Mat(24, 32, CV_64F, Scalar(0)), Mat(), out, mask, 1),
                    "unsupported type");
    EXPECT_CV_ERROR(synthesizeAnomaly(image, Mat(8, 8, CV_8UC2, Scalar(0)), out, mask, 1),
                    "the texture has 2 channels");
    EXPECT_CV_ERROR(synthesizeAnomaly(image, Mat(), out, mask, 1, AnomalySynthesisParams(),
                                      Mat::ones(10, 10, CV_8U)),
                    "the foreground is 10x10 but the image is 32x24");
    AnomalySynthesisParams p;
    p.minOpacity = 0.9f;
    p.maxOpacity = 0.2f;
    EXPECT_CV_ERROR(synthesizeAnomaly(image, Mat(), out, mask, 1, p), "opacity range");
}

TEST(DMAD_LoadTextures, folder_with_subfolders)
{
    TempDir dir;
    ASSERT_TRUE(utils::fs::createDirectories(dir.path + "/banded"));
    ASSERT_TRUE(utils::fs::createDirectories(dir.path + "/dotted"));
    Mat t;
    generateTexture(Size(40, 30), TEXTURE_STRIPES, 1, t);
    ASSERT_TRUE(imwrite(dir.path + "/banded/a.png", t));
    generateTexture(Size(20, 50), TEXTURE_DOTS, 2, t);
    ASSERT_TRUE(imwrite(dir.path + "/dotted/b.PNG", t));
    cvtColor(t, t, COLOR_BGR2GRAY);
    ASSERT_TRUE(imwrite(dir.path + "/c.png", t));
    std::ofstream(dir.path + "/notes.txt") << "not an image";

    std::vector<Mat> textures;
    loadTextures(dir.path, textures);
    ASSERT_EQ(textures.size(), 3u);
    EXPECT_EQ(textures[0].size(), Size(40, 30));  // banded/a.png sorts first
    for (const Mat& tex : textures)
        EXPECT_EQ(tex.type(), CV_8UC3);
    loadTextures(dir.path, textures, Size(32, 32), 2);
    ASSERT_EQ(textures.size(), 2u);
    EXPECT_EQ(textures[1].size(), Size(32, 32));
}

TEST(DMAD_LoadTextures, clear_errors)
{
    std::vector<Mat> textures;
    EXPECT_CV_ERROR(loadTextures("/nonexistent/dmad/textures", textures), "does not exist");
    TempDir dir;
    EXPECT_CV_ERROR(loadTextures(dir.path, textures), "holds no image file");
    std::ofstream(dir.path + "/broken.png") << "not a png";
    EXPECT_CV_ERROR(loadTextures(dir.path, textures), "cannot decode image '" + dir.path + "/broken.png'");
    EXPECT_CV_ERROR(loadTextures(dir.path, textures, Size(0, 5)), "texture size");
}

}} // namespace

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"

namespace opencv_test { namespace {

//! adaptive_avg_pool1d, written out: output i averages input[floor(i*L/O), ceil((i+1)*L/O)).
std::vector<double> adaptiveAvgPool(const std::vector<double>& in, int outLength)
{
    const int L = (int)in.size();
    std::vector<double> out(outLength);
    for (int i = 0; i < outLength; i++)
    {
        const int begin = (int)std::floor((double)i * L / outLength);
        const int end = (int)std::ceil((double)(i + 1) * L / outLength);
        double sum = 0;
        for (int j = begin; j < end; j++)
            sum += in[j];
        out[i] = sum / (end - begin);
    }
    return out;
}

/** The reference pipeline in PatchCore's order: unfold every p x p neighbourhood (zero padding),
    upsample each of the C*p*p maps with cv::resize, pool each layer's vector, concatenate, pool. */
Mat referenceAggregation(const std::vector<Mat>& layers, int patchSize, int layerDims, int featureDims,
                         Size& grid)
{
    int finest = 0;
    for (size_t l = 0; l < layers.size(); l++)
        if (layers[l].size[2] * layers[l].size[3] > layers[finest].size[2] * layers[finest].size[3])
            finest = (int)l;
    const int N = layers[0].size[0], H = layers[finest].size[2], W = layers[finest].size[3];
    grid = Size(W, H);
    const int r = patchSize / 2;
    Mat result(N * H * W, featureDims, CV_32F);
    for (int b = 0; b < N; b++)
    {
        std::vector<std::vector<double>> stacked(H * W);
        for (const Mat& blob : layers)
        {
            const int C = blob.size[1], h = blob.size[2], w = blob.size[3];
            std::vector<Mat> unfolded;
            for (int c = 0; c < C; c++)
                for (int ky = 0; ky < patchSize; ky++)
                    for (int kx = 0; kx < patchSize; kx++)
                    {
                        Mat map(h, w, CV_32F, Scalar(0));
                        for (int y = 0; y < h; y++)
                            for (int x = 0; x < w; x++)
                            {
                                const int sy = y + ky - r, sx = x + kx - r;
                                if (sy >= 0 && sy < h && sx >= 0 && sx < w)
                                    map.at<float>(y, x) = blob.at<float>(std::vector<int>{ b, c, sy, sx }.data());
                            }
                        Mat up;
                        if (h == H && w == W)
                            up = map;
                        else
                            resize(map, up, Size(W, H), 0, 0, INTER_LINEAR);
                        unfolded.push_back(up);
                    }
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                {
                    std::vector<double> vec(unfolded.size());
                    for (size_t j = 0; j < unfolded.size(); j++)
                        vec[j] = unfolded[j].at<float>(y, x);
                    const std::vector<double> pooled = adaptiveAvgPool(vec, layerDims);
                    stacked[y * W + x].insert(stacked[y * W + x].end(), pooled.begin(), pooled.end());
                }
        }
        for (int cell = 0; cell < H * W; cell++)
        {
            const std::vector<double> f = adaptiveAvgPool(stacked[cell], featureDims);
            for (int k = 0; k < featureDims; k++)
                result.at<float>(b * H * W + cell, k) = (float)f[k];
        }
    }
    return result;
}

struct AggregationCase
{
    std::vector<std::vector<int>> shapes;  // NCHW per layer
    int patchSize, layerDims, featureDims;
};

std::ostream& operator<<(std::ostream& os, const AggregationCase& c)
{
    for (const auto& s : c.shapes)
        os << s[0] << "x" << s[1] << "x" << s[2] << "x" << s[3] << " ";
    return os << "p=" << c.patchSize << " layerDims=" << c.layerDims << " featureDims=" << c.featureDims;
}

class DMAD_PatchAggregation : public ::testing::TestWithParam<AggregationCase> {};

TEST_P(DMAD_PatchAggregation, matches_reference_pipeline)
{
    const AggregationCase& tc = GetParam();
    RNG rng(20240319);
    std::vector<Mat> layers;
    for (const auto& shape : tc.shapes)
    {
        Mat blob(shape, CV_32F);
        rng.fill(blob, RNG::UNIFORM, -2.0, 3.0);
        layers.push_back(blob);
    }
    Size grid, refGrid;
    Mat features;
    aggregatePatchFeatures(layers, features, grid, tc.patchSize, tc.layerDims, tc.featureDims);
    const Mat expected = referenceAggregation(layers, tc.patchSize, tc.layerDims, tc.featureDims, refGrid);
    ASSERT_EQ(refGrid, grid);
    ASSERT_EQ(expected.size(), features.size());
    ASSERT_EQ(CV_32F, features.type());
    EXPECT_LT(cv::norm(expected, features, NORM_INF), 1e-5) << tc;
}

INSTANTIATE_TEST_CASE_P(/**/, DMAD_PatchAggregation, ::testing::Values(
    // the paper's shape ratios: pooling by 3 and 6, then pairs (dims scaled down)
    AggregationCase{ { { 1, 16, 8, 8 }, { 1, 32, 4, 4 } }, 3, 48, 48 },
    // overlapping adaptive-pooling bounds and a final dimension that divides nothing
    AggregationCase{ { { 1, 8, 8, 6 }, { 1, 12, 4, 3 } }, 3, 20, 7 },
    // non-square grids that are not multiples of each other, batch of two, layers given coarse first
    AggregationCase{ { { 2, 5, 3, 4 }, { 2, 6, 7, 9 } }, 3, 30, 16 },
    // a pooled dimension larger than the input repeats values, as adaptive pooling does
    AggregationCase{ { { 1, 2, 5, 5 } }, 1, 5, 9 },
    // 5x5 neighbourhoods, three layers
    AggregationCase{ { { 1, 4, 8, 8 }, { 1, 6, 4, 4 }, { 1, 8, 2, 2 } }, 5, 25, 40 }));

TEST(DMAD_PatchAggregationArgs, rejects_bad_arguments)
{
    Size grid;
    Mat features;
    Mat a(std::vector<int>{ 1, 4, 4, 4 }, CV_32F, Scalar(1));
    Mat b(std::vector<int>{ 2, 4, 2, 2 }, CV_32F, Scalar(1));
    EXPECT_CV_ERROR(aggregatePatchFeatures(std::vector<Mat>{ a, b }, features, grid, 3, 8, 8), "batch");
    EXPECT_CV_ERROR(aggregatePatchFeatures(std::vector<Mat>{ a }, features, grid, 2, 8, 8), "odd");
    EXPECT_CV_ERROR(aggregatePatchFeatures(std::vector<Mat>{ Mat(4, 4, CV_32F) }, features, grid, 3, 8, 8),
                    "4D");
    EXPECT_CV_ERROR(aggregatePatchFeatures(std::vector<Mat>(), features, grid, 3, 8, 8), "no layer");
}

}} // namespace

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Perlin noise and the DRAEM pseudo-anomaly mask (Zavrtanik et al., ICCV 2021, perlin.py and
// data_loader.py): noise with 2^k periods per axis, rotated, thresholded at 0.5.

#include "precomp.hpp"
#include "synthesis/synthesis_utils.hpp"

#include <functional>

namespace cv {
namespace dmad {

namespace {

inline float fade(float t) { return t * t * t * (t * (t * 6.f - 15.f) + 10.f); }

//! Lattice cell and fraction of each pixel along one axis: lattice coordinate = i * periods / n.
void latticeTaps(int n, int periods, std::vector<int>& cell, std::vector<float>& frac,
                 std::vector<float>& weight)
{
    cell.resize(n);
    frac.resize(n);
    weight.resize(n);
    for (int i = 0; i < n; i++)
    {
        const double p = (double)i * periods / n;
        cell[i] = std::min((int)p, periods - 1);
        frac[i] = (float)(p - cell[i]);
        weight[i] = fade(frac[i]);
    }
}

void checkMaskParams(const AnomalySynthesisParams& p)
{
    if (p.minScaleLog2 < 0 || p.maxScaleLog2 < p.minScaleLog2 || p.maxScaleLog2 > 12)
        CV_Error(Error::StsBadArg, cv::format("dmad: Perlin scales 2^%d..2^%d are invalid "
                                              "(need 0 <= minScaleLog2 <= maxScaleLog2 <= 12)",
                                              p.minScaleLog2, p.maxScaleLog2));
    if (!(p.minArea > 0 && p.minArea <= p.maxArea && p.maxArea <= 1))
        CV_Error(Error::StsBadArg, cv::format("dmad: mask area bounds [%g, %g] are invalid "
                                              "(need 0 < minArea <= maxArea <= 1)",
                                              p.minArea, p.maxArea));
    CV_Check(p.maxTries, p.maxTries >= 1, "dmad: maxTries must be positive");
    CV_Check(p.threshold, p.threshold > -1.f && p.threshold < 1.f,
             "dmad: the Perlin threshold must lie inside the noise range (-1, 1)");
}

//! One DRAEM noise draw: random 2^k periods per axis, optionally rotated without empty corners.
void drawMaskNoise(Size size, RNG& rng, const AnomalySynthesisParams& p, Mat& noise)
{
    const int kx = rng.uniform(p.minScaleLog2, p.maxScaleLog2 + 1);
    const int ky = rng.uniform(p.minScaleLog2, p.maxScaleLog2 + 1);
    // The periods are relative to the image, so a mask looks the same at any resolution.
    int px = std::min(1 << kx, std::max(1, size.width / 2));
    int py = std::min(1 << ky, std::max(1, size.height / 2));
    if (!p.rotate)
    {
        perlinNoise(size, Size(px, py), rng, noise);
        return;
    }
    // Noise on a square canvas that covers the image's diagonal, rotated and cropped at the centre.
    const int side = (int)std::ceil(std::hypot((double)size.width, (double)size.height));
    px = std::max(1, cvRound((double)px * side / size.width));
    py = std::max(1, cvRound((double)py * side / size.height));
    Mat canvas;
    perlinNoise(Size(side, side), Size(px, py), rng, canvas);
    const double angle = rng.uniform(-90.0, 90.0);
    Mat M = getRotationMatrix2D(Point2f(side * 0.5f, side * 0.5f), angle, 1.0);
    M.at<double>(0, 2) += (size.width - side) * 0.5;
    M.at<double>(1, 2) += (size.height - side) * 0.5;
    warpAffine(canvas, noise, M, size, INTER_LINEAR, BORDER_REFLECT);
}

} // namespace

void perlinNoise(Size size, Size periods, RNG& rng, OutputArray _noise)
{
    CV_TRACE_FUNCTION();
    if (size.width <= 0 || size.height <= 0)
        CV_Error(Error::StsBadSize, cv::format("dmad: perlinNoise needs a non-empty size, "
                                               "got %dx%d", size.width, size.height));
    if ((int64)size.width * size.height > kMaxImagePixels)
        CV_Error(Error::StsBadSize, cv::format("dmad: perlinNoise size %dx%d exceeds 2^28 pixels",
                                               size.width, size.height));
    if (periods.width < 1 || periods.height < 1 || periods.width > 65536 || periods.height > 65536)
        CV_Error(Error::StsBadArg, cv::format("dmad: Perlin periods %dx%d must be in 1..65536",
                                              periods.width, periods.height));
    const int gw = periods.width + 1;
    std::vector<Vec2f> grad((size_t)gw * (periods.height + 1));
    for (Vec2f& g : grad)
    {
        const float a = (float)rng.uniform(0.0, 2.0 * CV_PI);
        g = Vec2f(std::cos(a), std::sin(a));
    }
    std::vector<int> cx, cy;
    std::vector<float> fx, fy, ux, uy;
    latticeTaps(size.width, periods.width, cx, fx, ux);
    latticeTaps(size.height, periods.height, cy, fy, uy);

    _noise.create(size, CV_32F);
    Mat noise = _noise.getMat();
    for (int y = 0; y < size.height; y++)
    {
        float* row = noise.ptr<float>(y);
        const Vec2f* g0 = &grad[(size_t)cy[y] * gw];
        const Vec2f* g1 = g0 + gw;
        const float dy = fy[y], v = uy[y];
        for (int x = 0; x < size.width; x++)
        {
            const int c = cx[x];
            const float dx = fx[x], u = ux[x];
            const float n00 = g0[c][0] * dx + g0[c][1] * dy;
            const float n10 = g0[c + 1][0] * (dx - 1.f) + g0[c + 1][1] * dy;
            const float n01 = g1[c][0] * dx + g1[c][1] * (dy - 1.f);
            const float n11 = g1[c + 1][0] * (dx - 1.f) + g1[c + 1][1] * (dy - 1.f);
            const float n0 = n00 + u * (n10 - n00), n1 = n01 + u * (n11 - n01);
            row[x] = 1.41421356f * (n0 + v * (n1 - n0));
        }
    }
}

void fractalNoise(Size size, Size periods, int octaves, double persistence, RNG& rng,
                  OutputArray _noise)
{
    CV_Check(octaves, octaves >= 1 && octaves <= 16, "dmad: fractalNoise needs 1..16 octaves");
    CV_Check(persistence, persistence > 0 && persistence <= 1,
             "dmad: fractalNoise persistence must be in (0, 1]");
    Mat sum, layer;
    double amplitude = 1, total = 0;
    Size p = periods;
    for (int o = 0; o < octaves; o++)
    {
        perlinNoise(size, p, rng, layer);
        if (o == 0)
            sum = layer * amplitude;
        else
            scaleAdd(layer, amplitude, sum, sum);
        total += amplitude;
        amplitude *= persistence;
        // Finer than a pixel adds only aliasing.
        p = Size(std::min(p.width * 2, std::max(1, size.width)),
                 std::min(p.height * 2, std::max(1, size.height)));
    }
    sum.convertTo(_noise, CV_32F, 1.0 / total);
}

AnomalySynthesisParams::AnomalySynthesisParams()
    : minScaleLog2(0), maxScaleLog2(5), threshold(0.5f), rotate(true), minArea(0.005),
      maxArea(0.3), maxTries(50), minOpacity(0.2f), maxOpacity(1.f), augmentTexture(true)
{
}

void perlinMask(Size size, RNG& rng, OutputArray _mask, const AnomalySynthesisParams& p,
                InputArray _region)
{
    CV_TRACE_FUNCTION();
    if (size.width <= 0 || size.height <= 0)
        CV_Error(Error::StsBadSize, cv::format("dmad: perlinMask needs a non-empty size, got %dx%d",
                                               size.width, size.height));
    if ((int64)size.width * size.height > kMaxImagePixels)
        CV_Error(Error::StsBadSize, cv::format("dmad: perlinMask size %dx%d exceeds 2^28 pixels",
                                               size.width, size.height));
    checkMaskParams(p);
    Mat region;
    double area = (double)size.area();
    if (!_region.empty())
    {
        region = _region.getMat();
        if (region.type() != CV_8UC1 || region.size() != size)
            CV_Error(Error::StsBadArg, cv::format("dmad: the mask region must be CV_8UC1 of %dx%d, "
                                                  "got %s of %dx%d", size.width, size.height,
                                                  typeToString(region.type()).c_str(),
                                                  region.cols, region.rows));
        area = countNonZero(region);
        if (area == 0)
            CV_Error(Error::StsBadArg, "dmad: the mask region has no nonzero pixel");
    }

    Mat noise, mask;
    double fraction = 0;
    for (int t = 0; t < p.maxTries; t++)
    {
        drawMaskNoise(size, rng, p, noise);
        compare(noise, p.threshold, mask, CMP_GT);
        if (!region.empty())
            mask.setTo(0, region == 0);
        fraction = countNonZero(mask) / area;
        if (fraction > 0 && fraction >= p.minArea && fraction <= p.maxArea)
        {
            mask.copyTo(_mask);
            return;
        }
    }
    // Every draw missed the bounds: keep the last noise and move the threshold to the quantile
    // that gives the nearest bound, which always yields a non-empty mask.
    const double target = fraction < p.minArea ? p.minArea : p.maxArea;
    std::vector<float> values;
    values.reserve((size_t)area);
    for (int y = 0; y < size.height; y++)
    {
        const float* n = noise.ptr<float>(y);
        const uchar* r = region.empty() ? nullptr : region.ptr<uchar>(y);
        for (int x = 0; x < size.width; x++)
            if (!r || r[x])
                values.push_back(n[x]);
    }
    const size_t wanted = std::max<size_t>(1, (size_t)std::lround(target * area));
    const size_t keep = std::min(values.size(), wanted);
    std::nth_element(values.begin(), values.begin() + (keep - 1), values.end(),
                     std::greater<float>());
    compare(noise, values[keep - 1], mask, CMP_GE);
    if (!region.empty())
        mask.setTo(0, region == 0);
    mask.copyTo(_mask);
}

void perlinMask(Size size, int seed, OutputArray mask, const AnomalySynthesisParams& params,
                InputArray region)
{
    RNG rng = synth::rngFromSeed(seed);
    perlinMask(size, rng, mask, params, region);
}

}} // namespace cv::dmad

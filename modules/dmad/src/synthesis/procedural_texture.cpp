// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Procedural textures that stand in for the Describable Textures Dataset (Cimpoi et al.,
// CVPR 2014), which DRAEM and DMAD paste into normal images but which is not available offline.
// Each family draws its geometry and a palette of contrasting colours from the generator, so one
// family already covers many looks; the families differ in structure (noise, bands, lattices,
// cells, strokes, spots, turbulence, weave, borders, flat regions).

#include "precomp.hpp"
#include "synthesis/synthesis_utils.hpp"

#include <limits>

namespace cv {
namespace dmad {

namespace {

//! HSV (hue in degrees, saturation and value in [0, 1]) to BGR in [0, 255].
Vec3f hsvToBgr(float h, float s, float v)
{
    h = std::fmod(h, 360.f) / 60.f;
    const int i = (int)h;
    const float f = h - i, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    float r, g, b;
    switch (i)
    {
    case 0: r = v; g = t; b = p; break;
    case 1: r = q; g = v; b = p; break;
    case 2: r = p; g = v; b = t; break;
    case 3: r = p; g = q; b = v; break;
    case 4: r = t; g = p; b = v; break;
    default: r = v; g = p; b = q; break;
    }
    return Vec3f(b, g, r) * 255.f;
}

//! A colour of the given hue and saturation whose luma (BT.601, as COLOR_BGR2GRAY) is `luma`.
Vec3f colourWithLuma(float hue, float sat, float luma)
{
    Vec3f c = hsvToBgr(hue, sat, 1.f);
    const float l = 0.114f * c[0] + 0.587f * c[1] + 0.299f * c[2];
    if (l >= luma)
        return c * (luma / l);
    const float t = (luma - l) / (255.f - l);  // towards white, which raises the luma linearly
    return c + (Vec3f::all(255.f) - c) * t;
}

/** Colours whose brightness differs clearly (luma steps of about 70 or more), so that no texture
    comes out flat in gray. Saturation is often low, as in most real surfaces. */
std::vector<Vec3f> randomPalette(RNG& rng, int count)
{
    std::vector<Vec3f> colours;
    const float hue = synth::uniform(rng, 0, 360);
    const float spread = synth::uniform(rng, 0, 1) < 0.5f ? synth::uniform(rng, 0, 40)
                                                          : synth::uniform(rng, 0, 180);
    const float sat = synth::uniform(rng, 0, 1) < 0.4f ? synth::uniform(rng, 0, 0.25)
                                                       : synth::uniform(rng, 0.25, 0.9);
    const bool darkFirst = rng.uniform(0, 2) == 0;
    for (int i = 0; i < count; i++)
    {
        // Lumas spread over [20, 245]: slot i of `count`, the upper 30% of a slot left free.
        const float lo = 20.f + 225.f * i / count, hi = 20.f + 225.f * (i + 0.7f) / count;
        float luma = synth::uniform(rng, lo, hi);
        if (!darkFirst)
            luma = 265.f - luma;
        const float s = std::min(1.f, std::max(0.f, sat + synth::uniform(rng, -0.15, 0.15)));
        colours.push_back(colourWithLuma(hue + i * spread + 360.f, s, luma));
    }
    return colours;
}

//! Maps values in [0, 1] piecewise-linearly through the palette.
void colourise(const Mat& value, const std::vector<Vec3f>& palette, Mat& bgr)
{
    bgr.create(value.size(), CV_32FC3);
    const int n = (int)palette.size() - 1;
    for (int y = 0; y < value.rows; y++)
    {
        const float* v = value.ptr<float>(y);
        Vec3f* out = bgr.ptr<Vec3f>(y);
        for (int x = 0; x < value.cols; x++)
        {
            const float t = std::min(1.f, std::max(0.f, v[x])) * n;
            const int i = std::min((int)t, n - 1);
            const float f = t - i;
            out[x] = palette[i] * (1.f - f) + palette[i + 1] * f;
        }
    }
}

void normaliseRange(Mat& value)
{
    normalize(value, value, 0, 1, NORM_MINMAX);
}

//! One random feature point per cell of a jittered grid, with a random attribute.
struct JitteredPoints
{
    float cell;
    int cols, rows;
    std::vector<Point2f> points;
    std::vector<float> attribute;

    JitteredPoints(Size size, float cellSize, RNG& rng) : cell(cellSize)
    {
        cols = (int)std::ceil(size.width / cell) + 1;
        rows = (int)std::ceil(size.height / cell) + 1;
        for (int j = 0; j < rows; j++)
            for (int i = 0; i < cols; i++)
            {
                const float px = (i + synth::uniform(rng, 0.05, 0.95)) * cell;
                points.emplace_back(px, (j + synth::uniform(rng, 0.05, 0.95)) * cell);
                attribute.push_back(synth::uniform(rng, 0, 1));
            }
    }

    //! Distances to the nearest and second-nearest points and the nearest point's index.
    void nearest(float x, float y, float& d1, float& d2, int& index) const
    {
        const int ci = (int)(x / cell), cj = (int)(y / cell);
        d1 = d2 = std::numeric_limits<float>::max();
        index = 0;
        for (int j = std::max(0, cj - 1); j <= std::min(rows - 1, cj + 1); j++)
            for (int i = std::max(0, ci - 1); i <= std::min(cols - 1, ci + 1); i++)
            {
                const int k = j * cols + i;
                const float dx = points[k].x - x, dy = points[k].y - y;
                const float d = std::sqrt(dx * dx + dy * dy);
                if (d < d1)
                {
                    d2 = d1;
                    d1 = d;
                    index = k;
                }
                else if (d < d2)
                    d2 = d;
            }
    }
};

float sharpStep(float s, float k) { return 1.f / (1.f + std::exp(-k * s)); }

void textureNoise(Size size, RNG& rng, Mat& bgr)
{
    const int base = 1 << rng.uniform(1, 5);
    Mat v;
    const int octaves = rng.uniform(3, 7);
    const double persistence = synth::uniform(rng, 0.4, 0.7);
    fractalNoise(size, Size(base, base), octaves, persistence, rng, v);
    normaliseRange(v);
    colourise(v, randomPalette(rng, rng.uniform(2, 4)), bgr);
}

void textureStripes(Size size, RNG& rng, Mat& bgr)
{
    const float S = (float)std::min(size.width, size.height);
    const float theta = synth::uniform(rng, 0, CV_PI);
    const float bands = synth::uniform(rng, 3, 24);
    const float waviness = synth::uniform(rng, 0, 1) < 0.5f ? 0.f : synth::uniform(rng, 1, 6);
    const float k = synth::uniform(rng, 1, 12);
    Mat warp;
    const int wx = rng.uniform(1, 4), wy = rng.uniform(1, 4);
    perlinNoise(size, Size(wx, wy), rng, warp);
    Mat v(size, CV_32F);
    const float c = std::cos(theta), s = std::sin(theta);
    for (int y = 0; y < size.height; y++)
        for (int x = 0; x < size.width; x++)
        {
            const float u = (x * c + y * s) / S;
            const float phase = (float)(2 * CV_PI) * bands * u + waviness * warp.at<float>(y, x);
            v.at<float>(y, x) = sharpStep(std::sin(phase), k);
        }
    normaliseRange(v);
    colourise(v, randomPalette(rng, 2), bgr);
}

void textureChecker(Size size, RNG& rng, Mat& bgr)
{
    const float S = (float)std::min(size.width, size.height);
    const float cell = S * synth::uniform(rng, 0.03, 0.15);
    const float theta = synth::uniform(rng, 0, CV_PI / 2);
    const int variant = rng.uniform(0, 3);  // checkerboard, grid lines, bricks
    const float line = synth::uniform(rng, 0.08, 0.3);
    const float c = std::cos(theta), s = std::sin(theta);
    Mat v(size, CV_32F);
    for (int y = 0; y < size.height; y++)
        for (int x = 0; x < size.width; x++)
        {
            float u = (x * c + y * s) / cell + 1000.f, w = (-x * s + y * c) / cell + 1000.f;
            const int j = (int)w;
            if (variant == 2 && (j & 1))
                u += 0.5f;
            const int i = (int)u;
            const float fu = u - i, fw = w - j;
            float value;
            if (variant == 0)
                value = (float)((i + j) & 1);
            else if (variant == 1)
                value = (fu < line || fw < line) ? 0.f : 1.f;
            else
                value = (fu < line * 0.5f || fw < line) ? 0.f : 1.f;
            v.at<float>(y, x) = value;
        }
    GaussianBlur(v, v, Size(), 0.7);
    colourise(v, randomPalette(rng, 2), bgr);
}

void textureCellular(Size size, RNG& rng, Mat& bgr)
{
    const float S = (float)std::min(size.width, size.height);
    JitteredPoints pts(size, S * synth::uniform(rng, 0.05, 0.2), rng);
    const float shading = synth::uniform(rng, 0.2, 0.6);
    Mat v(size, CV_32F);
    for (int y = 0; y < size.height; y++)
        for (int x = 0; x < size.width; x++)
        {
            float d1, d2;
            int k;
            pts.nearest(x + 0.5f, y + 0.5f, d1, d2, k);
            const float f1 = std::min(1.f, d1 / pts.cell);
            v.at<float>(y, x) = (1 - shading) * pts.attribute[k] + shading * (1 - f1);
        }
    normaliseRange(v);
    colourise(v, randomPalette(rng, 3), bgr);
}

void textureFibres(Size size, RNG& rng, Mat& bgr)
{
    const float S = (float)std::min(size.width, size.height);
    const std::vector<Vec3f> palette = randomPalette(rng, 3);
    Mat canvas(size, CV_8UC3, Scalar(palette[1][0], palette[1][1], palette[1][2]));
    const float theta = synth::uniform(rng, 0, CV_PI);
    const float spread = synth::uniform(rng, 0.03, 0.6);
    const int count = (int)(synth::uniform(rng, 300, 1500) * size.area() / 65536.f);
    const float maxLength = S * synth::uniform(rng, 0.1, 0.6);
    for (int i = 0; i < count; i++)
    {
        const float px = synth::uniform(rng, -0.1, 1.1) * size.width;
        const Point2f p(px, synth::uniform(rng, -0.1, 1.1) * size.height);
        const float a = theta + (float)rng.gaussian(spread);
        const float len = maxLength * synth::uniform(rng, 0.2, 1);
        const Point2f q = p + Point2f(std::cos(a), std::sin(a)) * len;
        const Vec3f& tone = palette[rng.uniform(0, 2) * 2];
        const Vec3f col = tone * synth::uniform(rng, 0.8, 1.2);
        line(canvas, Point(cvRound(p.x * 16), cvRound(p.y * 16)), Point(cvRound(q.x * 16),
             cvRound(q.y * 16)), Scalar(col[0], col[1], col[2]), rng.uniform(0, 6) == 0 ? 2 : 1,
             LINE_AA, 4);
    }
    canvas.convertTo(bgr, CV_32F);
    GaussianBlur(bgr, bgr, Size(), synth::uniform(rng, 0.3, 0.9));
}

void textureDots(Size size, RNG& rng, Mat& bgr)
{
    const float S = (float)std::min(size.width, size.height);
    const std::vector<Vec3f> palette = randomPalette(rng, 3);
    const int bg = rng.uniform(0, 3);
    Mat canvas(size, CV_8UC3, Scalar(palette[bg][0], palette[bg][1], palette[bg][2]));
    const float radius = S * synth::uniform(rng, 0.01, 0.06);
    const bool lattice = rng.uniform(0, 2) == 0;
    std::vector<Point2f> centres;
    if (lattice)
    {
        const float step = radius * synth::uniform(rng, 2.5, 4);
        for (float y = 0; y < size.height + step; y += step)
            for (float x = 0; x < size.width + step; x += step)
            {
                const float px = x + (float)rng.gaussian(radius * 0.3);
                centres.emplace_back(px, y + (float)rng.gaussian(radius * 0.3));
            }
    }
    else
    {
        const int count = (int)(synth::uniform(rng, 0.3, 0.9) * size.area() /
                                (CV_PI * radius * radius));
        for (int i = 0; i < count; i++)
        {
            const float px = synth::uniform(rng, 0, size.width);
            centres.emplace_back(px, synth::uniform(rng, 0, size.height));
        }
    }
    for (const Point2f& c : centres)
    {
        const float r = radius * (lattice ? synth::uniform(rng, 0.8, 1.1)
                                          : synth::uniform(rng, 0.4, 1.6));
        const Vec3f col = palette[(bg + rng.uniform(1, 3)) % 3];
        circle(canvas, Point(cvRound(c.x * 16), cvRound(c.y * 16)), std::max(16, cvRound(r * 16)),
               Scalar(col[0], col[1], col[2]), FILLED, LINE_AA, 4);
    }
    canvas.convertTo(bgr, CV_32F);
}

void textureMarble(Size size, RNG& rng, Mat& bgr)
{
    const float S = (float)std::min(size.width, size.height);
    // Turbulence: the sum of absolute Perlin octaves.
    Mat turbulence = Mat::zeros(size, CV_32F), layer;
    const int base = 1 << rng.uniform(1, 3);
    float amplitude = 1;
    for (int o = 0; o < 5; o++, amplitude *= 0.5f)
    {
        perlinNoise(size, Size(std::min(base << o, size.width), std::min(base << o, size.height)),
                    rng, layer);
        turbulence += cv::abs(layer) * amplitude;
    }
    const bool wood = rng.uniform(0, 3) == 0;
    const float theta = synth::uniform(rng, 0, CV_PI), c = std::cos(theta), s = std::sin(theta);
    const float bands = synth::uniform(rng, 1, 6), strength = synth::uniform(rng, 3, 10);
    const float gamma = synth::uniform(rng, 0.5, 2);
    const float cx = synth::uniform(rng, -0.5, 1.5) * size.width;
    const Point2f centre(cx, synth::uniform(rng, -0.5, 1.5) * size.height);
    Mat v(size, CV_32F);
    for (int y = 0; y < size.height; y++)
        for (int x = 0; x < size.width; x++)
        {
            const float u = wood ? std::hypot(x - centre.x, y - centre.y) / S : (x * c + y * s) / S;
            const float phase = (float)(2 * CV_PI) * bands * u +
                                strength * turbulence.at<float>(y, x);
            v.at<float>(y, x) = std::pow(0.5f + 0.5f * std::sin(phase), gamma);
        }
    normaliseRange(v);
    colourise(v, randomPalette(rng, rng.uniform(2, 4)), bgr);
}

void textureWoven(Size size, RNG& rng, Mat& bgr)
{
    const float S = (float)std::min(size.width, size.height);
    const float period = S * synth::uniform(rng, 0.035, 0.09);
    const float theta = synth::uniform(rng, 0, 1) < 0.5f ? synth::uniform(rng, -0.1, 0.1)
                                                         : synth::uniform(rng, 0, CV_PI);
    const int twill = rng.uniform(2, 4);  // plain weave (2) or twill (3)
    const std::vector<Vec3f> palette = randomPalette(rng, 2);
    // Weft threads of a second colour, or of a tint of the warp's (a single-colour cloth).
    const Vec3f warpColour = palette[0];
    const Vec3f weftColour = rng.uniform(0, 5) < 3 ? palette[1]
                                                   : palette[0] * 0.6f + palette[1] * 0.4f;
    const float c = std::cos(theta), s = std::sin(theta);
    bgr.create(size, CV_32FC3);
    for (int y = 0; y < size.height; y++)
        for (int x = 0; x < size.width; x++)
        {
            const float u = (x * c + y * s) / period + 1000.f;
            const float w = (-x * s + y * c) / period + 1000.f;
            const int i = (int)u, j = (int)w;
            const float fu = u - i, fw = w - j;
            const bool warpOnTop = (i + j) % twill == 0;
            // Across a thread it is round (bright ridge); along it, it dips where it goes under.
            const float across = warpOnTop ? fu : fw, along = warpOnTop ? fw : fu;
            const float shade = (0.45f + 0.55f * std::sin((float)CV_PI * across)) *
                                (0.8f + 0.2f * std::sin((float)CV_PI * along));
            bgr.at<Vec3f>(y, x) = (warpOnTop ? warpColour : weftColour) * shade;
        }
    GaussianBlur(bgr, bgr, Size(), 0.6);
}

void textureCrackle(Size size, RNG& rng, Mat& bgr)
{
    const float S = (float)std::min(size.width, size.height);
    JitteredPoints pts(size, S * synth::uniform(rng, 0.06, 0.25), rng);
    const float width = synth::uniform(rng, 0.8, 3);
    Mat mottling;
    fractalNoise(size, Size(4, 4), 4, 0.5, rng, mottling);
    Mat v(size, CV_32F);
    for (int y = 0; y < size.height; y++)
        for (int x = 0; x < size.width; x++)
        {
            float d1, d2;
            int k;
            pts.nearest(x + 0.5f, y + 0.5f, d1, d2, k);
            const float edge = std::min(1.f, std::max(0.f, (d2 - d1 - width) / 1.5f));
            const float surface =
                0.55f + 0.25f * pts.attribute[k] + 0.4f * mottling.at<float>(y, x);
            v.at<float>(y, x) = edge * surface;
        }
    normaliseRange(v);
    colourise(v, randomPalette(rng, 3), bgr);
}

void textureBlotches(Size size, RNG& rng, Mat& bgr)
{
    const int base = 1 << rng.uniform(1, 4);
    Mat v;
    fractalNoise(size, Size(base, base), 4, 0.5, rng, v);
    normaliseRange(v);
    const int levels = rng.uniform(2, 5);
    std::vector<Vec3f> palette = randomPalette(rng, levels);
    synth::shuffle(palette, rng);  // so that levels are not ordered by brightness
    bgr.create(v.size(), CV_32FC3);
    for (int y = 0; y < v.rows; y++)
        for (int x = 0; x < v.cols; x++)
            bgr.at<Vec3f>(y, x) = palette[std::min(levels - 1, (int)(v.at<float>(y, x) * levels))];
    GaussianBlur(bgr, bgr, Size(), 1.0);
}

} // namespace

void generateTexture(Size size, int kind, RNG& rng, OutputArray texture)
{
    CV_TRACE_FUNCTION();
    if (size.width <= 0 || size.height <= 0)
        CV_Error(Error::StsBadSize, cv::format("dmad: generateTexture needs a non-empty size, "
                                               "got %dx%d", size.width, size.height));
    if ((int64)size.width * size.height > kMaxImagePixels)
        CV_Error(Error::StsBadSize,
                 cv::format("dmad: generateTexture size %dx%d exceeds 2^28 pixels", size.width,
                            size.height));
    if (kind < TEXTURE_RANDOM || kind >= TEXTURE_KIND_COUNT)
        CV_Error(Error::StsOutOfRange, cv::format("dmad: unknown texture kind %d (valid: -1..%d)",
                                                  kind, TEXTURE_KIND_COUNT - 1));
    if (kind == TEXTURE_RANDOM)
        kind = rng.uniform(0, (int)TEXTURE_KIND_COUNT);
    Mat bgr;
    switch (kind)
    {
    case TEXTURE_NOISE: textureNoise(size, rng, bgr); break;
    case TEXTURE_STRIPES: textureStripes(size, rng, bgr); break;
    case TEXTURE_CHECKER: textureChecker(size, rng, bgr); break;
    case TEXTURE_CELLULAR: textureCellular(size, rng, bgr); break;
    case TEXTURE_FIBRES: textureFibres(size, rng, bgr); break;
    case TEXTURE_DOTS: textureDots(size, rng, bgr); break;
    case TEXTURE_MARBLE: textureMarble(size, rng, bgr); break;
    case TEXTURE_WOVEN: textureWoven(size, rng, bgr); break;
    case TEXTURE_CRACKLE: textureCrackle(size, rng, bgr); break;
    default: textureBlotches(size, rng, bgr); break;
    }
    // Sensor-like grain, so that flat regions are not perfectly flat.
    Mat grain(size, CV_32FC3);
    rng.fill(grain, RNG::NORMAL, Scalar::all(0), Scalar::all(synth::uniform(rng, 1, 5)));
    bgr += grain;
    bgr.convertTo(texture, CV_8U);
}

void generateTexture(Size size, int kind, int seed, OutputArray texture)
{
    RNG rng = synth::rngFromSeed(seed);
    generateTexture(size, kind, rng, texture);
}

}} // namespace cv::dmad

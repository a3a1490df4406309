// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Clean parts of the synthetic dataset: two textured surfaces (woven fabric, brushed metal) and two
// objects on a background (a keyed washer, a capsule). Every normal image varies in pose, size,
// lighting, texture phase and noise, so that normality has to be learnt, not memorised.

#include "precomp.hpp"
#include "render_random.hpp"
#include "synthetic_render.hpp"

namespace cv {
namespace dmad {
namespace synth {

namespace {

//! Oversampling of object outlines: drawn 4x larger, then area-averaged to soft coverage.
const int kOversample = 4;

float jitter(RNG& rng, float value, float relative)
{
    return value * uniform(rng, 1.0 - relative, 1.0 + relative);
}

Mat downsampleCoverage(const Mat& canvas, int size)
{
    Mat coverage;
    resize(canvas, coverage, Size(size, size), 0, 0, INTER_AREA);
    coverage.convertTo(coverage, CV_32F, 1.0 / 255);
    return coverage;
}

//! Fractal noise in [-1, 1] (approximately), periods relative to the image.
Mat mottle(int size, int periods, int octaves, RNG& rng)
{
    Mat n;
    fractalNoise(Size(size, size), Size(periods, periods), octaves, 0.5, rng, n);
    return n;
}

//! Soft cast shadow of an object: its coverage shifted and blurred, darkening the background.
void castShadow(const Mat& coverage, Point2f offset, float blur, float strength, Mat& background)
{
    Mat M = (Mat_<double>(2, 3) << 1, 0, offset.x, 0, 1, offset.y);
    Mat shadow;
    warpAffine(coverage, shadow, M, coverage.size(), INTER_LINEAR, BORDER_CONSTANT);
    GaussianBlur(shadow, shadow, Size(), blur);
    Mat factor = 1.0 - shadow * strength;
    std::vector<Mat> ch;
    split(background, ch);
    for (Mat& c : ch)
        c = c.mul(factor);
    merge(ch, background);
}

void composite(const Mat& background, const Mat& part, const Mat& coverage, Mat& albedo)
{
    albedo.create(background.size(), CV_32FC3);
    for (int y = 0; y < albedo.rows; y++)
    {
        const Vec3f* b = background.ptr<Vec3f>(y);
        const Vec3f* p = part.ptr<Vec3f>(y);
        const float* c = coverage.ptr<float>(y);
        Vec3f* out = albedo.ptr<Vec3f>(y);
        for (int x = 0; x < albedo.cols; x++)
            out[x] = b[x] * (1.f - c[x]) + p[x] * c[x];
    }
}

//! Plain-weave cloth seen from above; the backing shows through holes.
void renderFabric(int S, RNG& rng, Scene& scene)
{
    const float period = jitter(rng, S * 0.047f, 0.04f);
    const float theta = (float)(uniform(rng, -2.5, 2.5) * CV_PI / 180);
    const float ox = uniform(rng, 0, 2 * period), oy = uniform(rng, 0, 2 * period);
    const float tone = uniform(rng, 0.95, 1.05);
    const Vec3f warp = Vec3f(92, 124, 152) * tone, weft = Vec3f(74, 102, 131) * tone;
    // Threads differ slightly in thickness of dye; a per-thread gain, taken from a table.
    std::vector<float> gain(512);
    for (float& g : gain)
        g = uniform(rng, 0.93, 1.07);
    const Mat fibres = mottle(S, std::max(1, S / 8), 3, rng);
    const Mat cloud = mottle(S, 3, 3, rng);
    const float c = std::cos(theta), s = std::sin(theta);
    Mat cloth(S, S, CV_32FC3);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
        {
            const float u = (x * c + y * s + ox) / period + 64.f;
            const float w = (-x * s + y * c + oy) / period + 64.f;
            const int i = (int)u, j = (int)w;
            const float fu = u - i, fw = w - j;
            const bool warpOnTop = ((i + j) & 1) == 0;
            const float across = warpOnTop ? fu : fw, along = warpOnTop ? fw : fu;
            const float g = gain[(warpOnTop ? i : j + 256) & 511];
            const float shade = (0.42f + 0.58f * std::sin((float)CV_PI * across)) *
                                (0.82f + 0.18f * std::sin((float)CV_PI * along));
            const float grain =
                1.f + 0.10f * fibres.at<float>(y, x) + 0.05f * cloud.at<float>(y, x);
            cloth.at<Vec3f>(y, x) = (warpOnTop ? warp : weft) * (g * shade * grain);
        }
    GaussianBlur(cloth, cloth, Size(), 0.6);
    scene.albedo = cloth;
    const Mat backingNoise = mottle(S, 8, 3, rng);
    scene.background.create(S, S, CV_32FC3);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            scene.background.at<Vec3f>(y, x) = Vec3f(26, 27, 30) *
                                               (1.f + 0.35f * backingNoise.at<float>(y, x));
    scene.coverage = Mat::ones(S, S, CV_32F);
    scene.object = scene.ring = false;
    scene.centre = Point2f(S * 0.5f, S * 0.5f);
    scene.detail = period;
    scene.threadColour = (warp + weft) * 0.5f;
}

//! Brushed stainless steel: long streaks along the brushing direction, a soft specular band.
void renderMetalPlate(int S, RNG& rng, Scene& scene)
{
    const float theta = (float)uniform(rng, -3, 3);
    const int margin = S / 4, big = S + 2 * margin;
    Mat streaks(big, big, CV_32F);
    rng.fill(streaks, RNG::NORMAL, 0, 1);
    GaussianBlur(streaks, streaks, Size(0, 0), S * 0.09, 0.7);
    Scalar mean, sd;
    meanStdDev(streaks, mean, sd);
    streaks = (streaks - mean[0]) / std::max(1e-6, sd[0]);
    Mat M = getRotationMatrix2D(Point2f(big * 0.5f, big * 0.5f), theta, 1.0);
    M.at<double>(0, 2) -= margin;
    M.at<double>(1, 2) -= margin;
    warpAffine(streaks, streaks, M, Size(S, S), INTER_LINEAR, BORDER_REFLECT);

    const float base = (float)uniform(rng, 138, 162), streakAmp = (float)uniform(rng, 7, 11);
    const Mat blotches = mottle(S, 3, 4, rng);
    // A specular band across the plate, where the light source is mirrored.
    float bandAngle = (float)uniform(rng, 0.5, 1.1);
    if (rng.uniform(0, 2))
        bandAngle = -bandAngle;
    const float bandOffset = (float)uniform(rng, -0.3, 0.3) * S, bandWidth = S * 0.22f;
    const float bandGain = (float)uniform(rng, 10, 26);
    const float bc = std::cos(bandAngle), bs = std::sin(bandAngle);
    scene.albedo.create(S, S, CV_32FC3);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
        {
            const float d = ((x - S * 0.5f) * bc + (y - S * 0.5f) * bs - bandOffset) / bandWidth;
            const float g = base + streakAmp * streaks.at<float>(y, x) +
                            6.f * blotches.at<float>(y, x) + bandGain * std::exp(-d * d);
            scene.albedo.at<Vec3f>(y, x) = Vec3f::all(g);
        }
    scene.background = Mat(S, S, CV_32FC3, Scalar::all(18));  // a hole through the plate
    scene.coverage = Mat::ones(S, S, CV_32F);
    scene.object = scene.ring = false;
    scene.centre = Point2f(S * 0.5f, S * 0.5f);
    scene.detail = S * 0.02f;
}

//! A keyed flat washer on a dark conveyor belt, seen from above with a ring light.
void renderWasher(int S, RNG& rng, Scene& scene)
{
    const float cx = S * 0.5f + (float)rng.gaussian(S * 0.025);
    const Point2f centre(cx, S * 0.5f + (float)rng.gaussian(S * 0.025));
    const float R = jitter(rng, S * 0.34f, 0.03f), r = R * jitter(rng, 0.46f, 0.02f);
    const float key = uniform(rng, 0, 2 * CV_PI);
    const float keyWidth = R * 0.17f, keyDepth = r + R * 0.12f;

    Mat canvas = Mat::zeros(S * kOversample, S * kOversample, CV_8U);
    const float k = (float)kOversample;
    circle(canvas, Point(cvRound(centre.x * k * 16), cvRound(centre.y * k * 16)),
           cvRound(R * k * 16), Scalar(255), FILLED, LINE_AA, 4);
    circle(canvas, Point(cvRound(centre.x * k * 16), cvRound(centre.y * k * 16)),
           cvRound(r * k * 16), Scalar(0), FILLED, LINE_AA, 4);
    // The key: a rectangular notch from the hole into the ring.
    const Point2f dir(std::cos(key), std::sin(key)), side(-dir.y, dir.x);
    std::vector<Point> notch;
    for (const Point2f& q : { centre + dir * (r * 0.5f) + side * (keyWidth * 0.5f),
                              centre + dir * keyDepth + side * (keyWidth * 0.5f),
                              centre + dir * keyDepth - side * (keyWidth * 0.5f),
                              centre + dir * (r * 0.5f) - side * (keyWidth * 0.5f) })
        notch.emplace_back(cvRound(q.x * k * 16), cvRound(q.y * k * 16));
    fillConvexPoly(canvas, notch, Scalar(0), LINE_AA, 4);
    scene.coverage = downsampleCoverage(canvas, S);

    // Belt: dark, slightly green, with a fine rubber texture.
    const Mat belt = mottle(S, 16, 3, rng), blotch = mottle(S, 3, 3, rng);
    const float beltTone = uniform(rng, 0.9, 1.1);
    scene.background.create(S, S, CV_32FC3);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            scene.background.at<Vec3f>(y, x) =
                Vec3f(58, 64, 57) * beltTone *
                (1.f + 0.12f * belt.at<float>(y, x) + 0.06f * blotch.at<float>(y, x));
    scene.bareBackground = scene.background.clone();
    castShadow(scene.coverage, Point2f(S * 0.012f, S * 0.018f), S * 0.015f, 0.55f,
               scene.background);

    // Steel: raised middle of the ring, darker bevels, a highlight that follows the light
    // direction around the ring and fine turning marks.
    const float lightAngle = uniform(rng, 0, 2 * CV_PI);
    const Vec3f steel = Vec3f(176, 171, 164) * uniform(rng, 0.93, 1.05);
    const Mat grain = mottle(S, 12, 3, rng);
    const float turning = S * 0.011f;
    Mat ring(S, S, CV_32FC3);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
        {
            const float dx = x + 0.5f - centre.x, dy = y + 0.5f - centre.y;
            const float d = std::sqrt(dx * dx + dy * dy), phi = std::atan2(dy, dx);
            const float t = std::min(1.f, std::max(0.f, (d - r) / (R - r)));
            float shade = 0.70f + 0.22f * std::sin((float)CV_PI * t);
            const float bevel = std::min(t, 1.f - t);
            if (bevel < 0.07f)
                shade *= 0.72f + 0.28f * bevel / 0.07f;
            shade += 0.16f * std::cos(2.f * (phi - lightAngle));
            shade += 0.025f * std::sin(2.f * (float)CV_PI * d / turning);
            shade += 0.04f * grain.at<float>(y, x);
            ring.at<Vec3f>(y, x) = steel * shade;
        }
    composite(scene.background, ring, scene.coverage, scene.albedo);
    scene.object = scene.ring = true;
    scene.centre = centre;
    scene.detail = R - r;
}

//! A two-colour gelatin capsule on a pale tray.
void renderPill(int S, RNG& rng, Scene& scene)
{
    const float cx = S * 0.5f + (float)rng.gaussian(S * 0.03);
    const Point2f centre(cx, S * 0.5f + (float)rng.gaussian(S * 0.03));
    const float L = jitter(rng, S * 0.60f, 0.03f), W = jitter(rng, S * 0.25f, 0.03f);
    // Pose: about horizontal, either end first.
    const float tilt = (float)(uniform(rng, -22, 22) * CV_PI / 180);
    const float angle = tilt + (rng.uniform(0, 2) ? (float)CV_PI : 0.f);
    const Point2f axis(std::cos(angle), std::sin(angle)), across(-axis.y, axis.x);
    const float half = (L - W) * 0.5f;  // from the centre to a cap's centre

    Mat canvas = Mat::zeros(S * kOversample, S * kOversample, CV_8U);
    const float k = (float)kOversample;
    const Point2f p1 = (centre - axis * half) * k, p2 = (centre + axis * half) * k;
    // A thick line has round ends: exactly a capsule's outline.
    line(canvas, Point(cvRound(p1.x * 16), cvRound(p1.y * 16)),
         Point(cvRound(p2.x * 16), cvRound(p2.y * 16)), Scalar(255), cvRound(W * k), LINE_AA, 4);
    scene.coverage = downsampleCoverage(canvas, S);

    const Mat paper = mottle(S, 6, 4, rng);
    const Vec3f trayColour = Vec3f(208, 203, 196) * uniform(rng, 0.95, 1.04);
    scene.background.create(S, S, CV_32FC3);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            scene.background.at<Vec3f>(y, x) = trayColour * (1.f + 0.04f * paper.at<float>(y, x));
    scene.bareBackground = scene.background.clone();
    castShadow(scene.coverage, Point2f(S * 0.015f, S * 0.02f), S * 0.02f, 0.35f, scene.background);

    const Vec3f capColour = Vec3f(52, 92, 196) * uniform(rng, 0.94, 1.06);
    const Vec3f bodyColour = Vec3f(222, 224, 221) * uniform(rng, 0.96, 1.02);
    const Mat gloss = mottle(S, 8, 3, rng);
    Mat pill(S, S, CV_32FC3);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
        {
            const Point2f q(x + 0.5f - centre.x, y + 0.5f - centre.y);
            const float u = q.dot(axis), v = q.dot(across);
            // Distance to the capsule's spine, relative to the radius: a cylinder with two domes.
            const float uc = std::max(-half, std::min(half, u));
            const float rho = std::min(1.f, std::hypot(u - uc, v) / (W * 0.5f));
            float shade = 0.58f + 0.42f * std::sqrt(1.f - rho * rho);
            Vec3f colour = u < 0 ? capColour : bodyColour;
            if (std::abs(u + S * 0.01f) < S * 0.006f)  // the seam where the halves overlap
                shade *= 0.82f;
            const float hv = (v + W * 0.2f) / (W * 0.07f);
            const float highlight =
                60.f * std::exp(-hv * hv) * (1.f - std::abs(u - uc) / (W * 0.5f));
            colour = colour * (shade * (1.f + 0.03f * gloss.at<float>(y, x))) +
                     Vec3f::all(std::max(0.f, highlight));
            pill.at<Vec3f>(y, x) = colour;
        }
    composite(scene.background, pill, scene.coverage, scene.albedo);
    scene.object = true;
    scene.ring = false;
    scene.centre = centre;
    scene.detail = W;
}

} // namespace

const std::vector<ClassSpec>& classSpecs()
{
    static const std::vector<ClassSpec> specs = {
        { "fabric", false, { { "hole", DEFECT_MISSING }, { "stain", DEFECT_SPOT },
                             { "thread", DEFECT_THREAD } } },
        { "metal_plate", true, { { "scratch", DEFECT_SCRATCH }, { "spot", DEFECT_SPOT },
                                 { "crack", DEFECT_CRACK } } },
        { "washer", false, { { "missing", DEFECT_MISSING }, { "crack", DEFECT_CRACK },
                             { "scratch", DEFECT_SCRATCH } } },
        { "pill", false, { { "chip", DEFECT_MISSING }, { "crack", DEFECT_CRACK },
                           { "contamination", DEFECT_SPOT } } },
    };
    return specs;
}

void renderScene(int classIndex, int S, RNG& rng, Scene& scene)
{
    switch (classIndex)
    {
    case 0: renderFabric(S, rng, scene); break;
    case 1: renderMetalPlate(S, rng, scene); break;
    case 2: renderWasher(S, rng, scene); break;
    default: renderPill(S, rng, scene); break;
    }
    // Uneven illumination: a global gain, a tilt and a slight vignette.
    const float gain = uniform(rng, 0.93, 1.07);
    const float gx = uniform(rng, -0.1, 0.1), gy = uniform(rng, -0.1, 0.1);
    scene.light.create(S, S, CV_32F);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
        {
            const float u = (x + 0.5f) / S - 0.5f, v = (y + 0.5f) / S - 0.5f;
            scene.light.at<float>(y, x) = gain * (1.f + gx * u + gy * v - 0.12f * (u * u + v * v));
        }
    const double sigma = uniform(rng, 1.5, 3.0);
    scene.noise.create(S, S, CV_32FC3);
    if (classSpecs()[classIndex].gray)
    {
        Mat one(S, S, CV_32F);
        rng.fill(one, RNG::NORMAL, 0, sigma);
        merge(std::vector<Mat>{ one, one, one }, scene.noise);
    }
    else
        rng.fill(scene.noise, RNG::NORMAL, Scalar::all(0), Scalar::all(sigma));
}

void developImage(const Scene& scene, const Mat& albedo, bool gray, Mat& image)
{
    Mat lit(albedo.size(), CV_32FC3);
    for (int y = 0; y < albedo.rows; y++)
    {
        const Vec3f* a = albedo.ptr<Vec3f>(y);
        const Vec3f* n = scene.noise.ptr<Vec3f>(y);
        const float* l = scene.light.ptr<float>(y);
        Vec3f* out = lit.ptr<Vec3f>(y);
        for (int x = 0; x < albedo.cols; x++)
            out[x] = a[x] * l[x] + n[x];
    }
    lit.convertTo(image, CV_8U);
    if (gray)
        cvtColor(image, image, COLOR_BGR2GRAY);
}

}}} // namespace cv::dmad::synth

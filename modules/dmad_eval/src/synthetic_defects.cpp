// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Defects of the synthetic dataset. Each one is a layer, an opacity map A and a target T, mixed
// into the part's albedo as albedo (1 - A) + T A. The ground-truth mask is where A >= kMaskAlpha;
// A is cut to zero elsewhere, so the image changes exactly inside the mask.

#include "precomp.hpp"
#include "render_random.hpp"
#include "synthetic_render.hpp"

namespace cv {
namespace dmad {
namespace synth {

namespace {

const float kMaskAlpha = 0.12f;  //!< weaker opacity than this is cut, not annotated

//! A uniformly drawn pixel of a CV_8U mask, or the centre when the mask is empty.
Point2f randomPixel(const Mat& mask, RNG& rng)
{
    std::vector<Point> on;
    findNonZero(mask, on);
    if (on.empty())
        return Point2f(mask.cols * 0.5f, mask.rows * 0.5f);
    const Point p = on[rng.uniform(0, (int)on.size())];
    return Point2f(p.x + 0.5f, p.y + 0.5f);
}

//! The mask without a 10 % frame, so that defects start well inside the image.
Mat framed(const Mat& mask)
{
    const int bx = cvRound(mask.cols * 0.1), by = cvRound(mask.rows * 0.1);
    const Rect inner(bx, by, mask.cols - 2 * bx, mask.rows - 2 * by);
    Mat out = Mat::zeros(mask.size(), CV_8U);
    mask(inner).copyTo(out(inner));
    return out;
}

//! Where an interior defect may start: the part, `inset` pixels away from its outline.
Mat interior(const Scene& scene, float inset)
{
    Mat inside = scene.coverage > 0.99f;
    const int r = cvRound(inset);
    if (r > 0)
        erode(inside, inside, getStructuringElement(MORPH_ELLIPSE, Size(2 * r + 1, 2 * r + 1)));
    return framed(inside);
}

/** An irregular blob: an ellipse whose outline is bent by fractal noise; opacity 1 inside,
    falling to 0 over `softness` (relative) at the edge. */
Mat blobAlpha(Size size, Point2f centre, float radius, float irregularity, float softness, RNG& rng)
{
    Mat alpha = Mat::zeros(size, CV_32F);
    const float reach = radius * 1.8f;
    const Rect box = Rect(cvFloor(centre.x - reach), cvFloor(centre.y - reach),
                          cvCeil(2 * reach) + 1, cvCeil(2 * reach) + 1) & Rect(Point(), size);
    if (box.empty())
        return alpha;
    const float aspect = uniform(rng, 0.55, 1.0), theta = uniform(rng, 0, CV_PI);
    const float c = std::cos(theta), s = std::sin(theta);
    Mat n;
    const int periods = std::max(1, cvRound(std::max(box.width, box.height) / (radius * 0.8f)));
    fractalNoise(box.size(), Size(periods, periods), 3, 0.5, rng, n);
    for (int y = 0; y < box.height; y++)
        for (int x = 0; x < box.width; x++)
        {
            const float dx = box.x + x + 0.5f - centre.x, dy = box.y + y + 0.5f - centre.y;
            const float u = (dx * c + dy * s) / radius, v = (-dx * s + dy * c) / (radius * aspect);
            const float value = 1.f - (u * u + v * v) + irregularity * n.at<float>(y, x);
            alpha.at<float>(box.y + y, box.x + x) = std::min(1.f, std::max(0.f, value / softness));
        }
    return alpha;
}

//! A quadratic Bezier curve through `count` points, bent sideways by up to `bend` x its length.
std::vector<Point2f> smoothCurve(Point2f start, float angle, float length, float bend, RNG& rng)
{
    const Point2f dir(std::cos(angle), std::sin(angle)), side(-dir.y, dir.x);
    const Point2f end = start + dir * length;
    const Point2f control = (start + end) * 0.5f + side * (length * uniform(rng, -bend, bend));
    std::vector<Point2f> pts;
    const int count = std::max(8, cvRound(length / 3));
    for (int i = 0; i <= count; i++)
    {
        const float t = (float)i / count;
        pts.push_back(start * ((1 - t) * (1 - t)) + control * (2 * t * (1 - t)) + end * (t * t));
    }
    return pts;
}

//! Anti-aliased polyline opacity (sub-pixel positions through the shift argument).
void drawStroke(Mat& canvas, const std::vector<Point2f>& pts, int thickness, double value)
{
    std::vector<Point> fixed;
    for (const Point2f& p : pts)
        fixed.emplace_back(cvRound(p.x * 16), cvRound(p.y * 16));
    polylines(canvas, fixed, false, Scalar(value), thickness, LINE_AA, 4);
}

Mat strokeAlpha(const Mat& canvas8u)
{
    Mat alpha;
    canvas8u.convertTo(alpha, CV_32F, 1.0 / 255);
    return alpha;
}

//! A jagged crack: a random walk that keeps its general heading, with a few side branches.
void crackWalk(Mat& canvas, Point2f p, float heading, float length, float step, int depth,
               RNG& rng)
{
    std::vector<Point2f> pts{ p };
    float angle = heading;
    for (float walked = 0; walked < length; walked += step)
    {
        angle += (float)rng.gaussian(0.45) + 0.35f * (heading - angle);
        p += Point2f(std::cos(angle), std::sin(angle)) * step * uniform(rng, 0.6, 1.4);
        pts.push_back(p);
        if (depth < 2 && rng.uniform(0.f, 1.f) < 0.07f)
        {
            float turn = uniform(rng, 0.5, 1.1);
            if (rng.uniform(0, 2))
                turn = -turn;
            crackWalk(canvas, p, angle + turn, (length - walked) * uniform(rng, 0.25, 0.6), step,
                      depth + 1, rng);
        }
    }
    drawStroke(canvas, pts, 1, depth == 0 ? 255 : 200);
}

//! Target image for strokes: the surface made brighter (k > 1 adds light) or darker.
Mat shiftedSurface(const Mat& albedo, bool brighter, float amount)
{
    Mat target;
    if (brighter)
        albedo.convertTo(target, -1, 1.0, amount);
    else
        albedo.convertTo(target, -1, 1.0 - amount / 255.0 * 2.2);
    return target;
}

Mat solidTarget(Size size, Vec3f colour, float variation, RNG& rng)
{
    const int S = std::max(size.width, size.height);
    Mat n;
    fractalNoise(size, Size(std::max(1, S / 24), std::max(1, S / 24)), 3, 0.5, rng, n);
    Mat target(size, CV_32FC3);
    for (int y = 0; y < size.height; y++)
        for (int x = 0; x < size.width; x++)
            target.at<Vec3f>(y, x) = colour * (1.f + variation * n.at<float>(y, x));
    return target;
}

//! A colour with a clear contrast to the surface around `p` (stains are darker on light parts).
Vec3f contrastingStain(const Mat& albedo, Point2f p, bool gray, RNG& rng)
{
    const Vec3f local = albedo.at<Vec3f>(cvFloor(p.y), cvFloor(p.x));
    const float luma = 0.114f * local[0] + 0.587f * local[1] + 0.299f * local[2];
    static const Vec3f darkStains[] = { Vec3f(38, 52, 78), Vec3f(30, 30, 34), Vec3f(46, 84, 132),
                                        Vec3f(70, 60, 52), Vec3f(40, 110, 90) };
    Vec3f colour = darkStains[rng.uniform(0, 5)];
    if (luma < 95)
        colour = Vec3f(150, 175, 195) * uniform(rng, 0.9, 1.15);  // light deposit on a dark part
    if (gray)
    {
        const float l = 0.114f * colour[0] + 0.587f * colour[1] + 0.299f * colour[2];
        colour = Vec3f::all(l);
    }
    return colour;
}

//! Mixes the layer into the albedo; opacity below kMaskAlpha is dropped; sets the mask.
void applyLayer(Mat alpha, const Mat& target, const Mat& confine, Mat& albedo, Mat& mask)
{
    if (!confine.empty())
        alpha.setTo(0, confine == 0);
    mask = alpha >= kMaskAlpha;
    for (int y = 0; y < albedo.rows; y++)
    {
        const float* a = alpha.ptr<float>(y);
        const uchar* m = mask.ptr<uchar>(y);
        const Vec3f* t = target.ptr<Vec3f>(y);
        Vec3f* out = albedo.ptr<Vec3f>(y);
        for (int x = 0; x < albedo.cols; x++)
            if (m[x])
                out[x] = out[x] * (1.f - a[x]) + t[x] * a[x];
    }
}

bool isGray(const Mat& albedo)
{
    const Vec3f p = albedo.at<Vec3f>(albedo.rows / 2, albedo.cols / 2);
    return p[0] == p[1] && p[1] == p[2];
}

void paintSpot(const Scene& scene, RNG& rng, Mat& albedo, Mat& mask)
{
    const int S = albedo.rows;
    const Point2f p = randomPixel(interior(scene, S * 0.02f), rng);
    const float radius = S * uniform(rng, 0.025, 0.11);
    const float irregularity = uniform(rng, 0.3, 0.8), softness = uniform(rng, 0.2, 0.7);
    Mat alpha = blobAlpha(albedo.size(), p, radius, irregularity, softness, rng);
    alpha *= uniform(rng, 0.4, 0.9);  // from a faint film to an opaque deposit
    const Vec3f colour = contrastingStain(albedo, p, isGray(albedo), rng);
    const float luma = 0.114f * colour[0] + 0.587f * colour[1] + 0.299f * colour[2];
    Mat target;
    if (luma < 128 && rng.uniform(0, 2))
    {
        // A dye soaked in: the surface's own texture shows through, darkened and tinted.
        const Vec3f dye = colour * (1.4f / 255.f);
        target = albedo.mul(Mat(albedo.size(), CV_32FC3, Scalar(dye[0], dye[1], dye[2])));
    }
    else  // a deposit lying on the surface
        target = solidTarget(albedo.size(), colour, 0.25f, rng);
    applyLayer(alpha, target, scene.coverage > 0.5f, albedo, mask);
}

void paintMissing(const Scene& scene, RNG& rng, Mat& albedo, Mat& mask)
{
    const int S = albedo.rows;
    // The part's shadow falls where the part still is; a gap shows the plain background.
    Mat target = (scene.object ? scene.bareBackground : scene.background).clone();
    Point2f p;
    float radius;
    Mat confine;
    if (scene.object)
    {
        // A piece broken off the outline: the blob is centred on the part's edge.
        Mat solid = scene.coverage > 0.5f, inner;
        erode(solid, inner, Mat());
        p = randomPixel(framed(solid & ~inner), rng);
        radius = S * uniform(rng, 0.045, 0.1);
        confine = scene.coverage > 0.05f;
    }
    else
    {
        // A hole: threads gone, the backing shows, with a few frayed ends reaching in.
        p = randomPixel(interior(scene, 0), rng);
        radius = S * uniform(rng, 0.03, 0.08);
        const int ends = rng.uniform(3, 8);
        for (int i = 0; i < ends; i++)
        {
            const float a = uniform(rng, 0, 2 * CV_PI);
            const Point2f from = p + Point2f(std::cos(a), std::sin(a)) * (radius * 1.1f);
            const float inward = a + (float)CV_PI + (float)rng.gaussian(0.5);
            std::vector<Point2f> pts = smoothCurve(from, inward, radius * uniform(rng, 0.3, 0.9),
                                                   0.3f, rng);
            std::vector<Point> fixed;
            for (const Point2f& q : pts)
                fixed.emplace_back(cvRound(q.x * 16), cvRound(q.y * 16));
            const Vec3f c = scene.threadColour * uniform(rng, 0.7, 1.1);
            polylines(target, fixed, false, Scalar(c[0], c[1], c[2]),
                      std::max(1, cvRound(scene.detail * 0.25f)), LINE_AA, 4);
        }
    }
    Mat alpha = blobAlpha(albedo.size(), p, radius, uniform(rng, 0.3, 0.7), 0.08f, rng);
    applyLayer(alpha, target, confine, albedo, mask);
}

void paintScratch(const Scene& scene, RNG& rng, Mat& albedo, Mat& mask)
{
    const int S = albedo.rows;
    const Point2f p = randomPixel(interior(scene, S * 0.01f), rng);
    float angle = uniform(rng, 0, 2 * CV_PI);
    if (scene.ring)  // on a ring, scratches tend to follow the ring
    {
        const Point2f radial = p - scene.centre;
        angle = std::atan2(radial.y, radial.x) + (float)CV_PI / 2 + (float)rng.gaussian(0.4);
    }
    const float length = S * uniform(rng, 0.15, 0.4);
    Mat canvas = Mat::zeros(albedo.size(), CV_8U);
    const std::vector<Point2f> curve = smoothCurve(p, angle, length, 0.25f, rng);
    drawStroke(canvas, curve, rng.uniform(0, 4) ? 1 : 2, 255);
    Mat alpha = strokeAlpha(canvas) * uniform(rng, 0.6, 1.0);
    const bool brighter = rng.uniform(0, 3) > 0;  // mostly a bright groove catching the light
    applyLayer(alpha, shiftedSurface(albedo, brighter, uniform(rng, 50, 95)),
               scene.coverage > 0.5f, albedo, mask);
}

void paintCrack(const Scene& scene, RNG& rng, Mat& albedo, Mat& mask)
{
    const int S = albedo.rows;
    Point2f p = randomPixel(interior(scene, S * 0.01f), rng);
    float heading = uniform(rng, 0, 2 * CV_PI);
    float length = S * uniform(rng, 0.15, 0.35);
    if (scene.ring)
    {
        // On a ring: from one edge of the band across it, as stress cracks run. Walk back from
        // the drawn point to the edge behind it and start there.
        const Point2f radial = p - scene.centre;
        heading = std::atan2(radial.y, radial.x) + (rng.uniform(0, 2) ? 0.f : (float)CV_PI);
        const Point2f back(-std::cos(heading), -std::sin(heading));
        const Rect frame(0, 0, S, S);
        for (Point2f q = p + back; frame.contains(Point(cvFloor(q.x), cvFloor(q.y))) &&
                                   scene.coverage.at<float>(cvFloor(q.y), cvFloor(q.x)) > 0.99f;
             q += back)
            p = q;
        heading += (float)rng.gaussian(0.2);
        length = scene.detail * uniform(rng, 0.6, 1.1);
    }
    Mat canvas = Mat::zeros(albedo.size(), CV_8U);
    crackWalk(canvas, p, heading, length, std::max(1.5f, S * 0.008f), 0, rng);
    if (rng.uniform(0, 2))  // some cracks have opened wider
        dilate(canvas, canvas, getStructuringElement(MORPH_CROSS, Size(3, 3)));
    Mat alpha = strokeAlpha(canvas) * uniform(rng, 0.75, 1.0);
    applyLayer(alpha, shiftedSurface(albedo, false, uniform(rng, 70, 100)), scene.coverage > 0.5f,
               albedo, mask);
}

void paintThread(const Scene& scene, RNG& rng, Mat& albedo, Mat& mask)
{
    const int S = albedo.rows;
    const Point2f p = randomPixel(interior(scene, 0), rng);
    static const Vec3f colours[] = { Vec3f(30, 36, 48), Vec3f(190, 200, 205), Vec3f(40, 40, 150),
                                     Vec3f(120, 60, 40) };
    const Vec3f colour = colours[rng.uniform(0, 4)];
    Mat canvas = Mat::zeros(albedo.size(), CV_8U);
    const float angle = uniform(rng, 0, 2 * CV_PI), length = S * uniform(rng, 0.2, 0.45);
    const std::vector<Point2f> pts = smoothCurve(p, angle, length, 0.35f, rng);
    drawStroke(canvas, pts, std::max(1, cvRound(scene.detail * 0.3f)), 255);
    Mat alpha = strokeAlpha(canvas) * uniform(rng, 0.8, 1.0);
    applyLayer(alpha, solidTarget(albedo.size(), colour, 0.3f, rng), Mat(), albedo, mask);
}

} // namespace

void paintDefect(const Scene& scene, DefectKind kind, RNG& rng, Mat& albedo, Mat& mask)
{
    const double area = (double)scene.albedo.total();
    // Plausible sizes: visible at the dataset's resolution, yet a few percent at most.
    const double minArea = std::max(12.0, area * 0.0005), maxArea = area * 0.05;
    for (int attempt = 0; attempt < 50; attempt++)
    {
        albedo = scene.albedo.clone();
        switch (kind)
        {
        case DEFECT_SCRATCH: paintScratch(scene, rng, albedo, mask); break;
        case DEFECT_SPOT: paintSpot(scene, rng, albedo, mask); break;
        case DEFECT_CRACK: paintCrack(scene, rng, albedo, mask); break;
        case DEFECT_MISSING: paintMissing(scene, rng, albedo, mask); break;
        default: paintThread(scene, rng, albedo, mask); break;
        }
        const int on = countNonZero(mask);
        if (on >= minArea && on <= maxArea)
            return;
    }
    CV_Error(Error::StsInternal, "dmad: no plausible defect could be drawn on this part");
}

}}} // namespace cv::dmad::synth

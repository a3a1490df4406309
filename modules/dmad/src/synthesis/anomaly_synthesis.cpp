// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// DRAEM pseudo anomalies (Zavrtanik et al., ICCV 2021): a texture blended into a normal image
// through a Perlin mask. DMAD uses them as the abnormal memory bank when no annotated anomaly
// exists (docs/dmad-method.md, section 2 item 1).

#include "precomp.hpp"
#include "synthesis/synthesis_utils.hpp"

#include <opencv2/core/utils/filesystem.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cctype>
#include <cstring>

namespace cv {
namespace dmad {

namespace {

void checkImage(const Mat& m, const char* what)
{
    if (m.empty())
        CV_Error(Error::StsBadArg, cv::format("dmad: %s is empty", what));
    if (m.dims != 2)
        CV_Error(Error::StsBadArg, cv::format("dmad: %s must be two-dimensional", what));
    const int depth = m.depth(), cn = m.channels();
    if (depth != CV_8U && depth != CV_16U && depth != CV_32F)
        CV_Error(Error::StsUnsupportedFormat,
                 cv::format("dmad: %s has unsupported type %s (8U, 16U or 32F expected)", what,
                            typeToString(m.type()).c_str()));
    if (cn != 1 && cn != 3 && cn != 4)
        CV_Error(Error::StsUnsupportedFormat,
                 cv::format("dmad: %s has %d channels (1, 3 or 4 expected)", what, cn));
}

void checkMask(const Mat& m, Size size, const char* what)
{
    if (m.type() != CV_8UC1)
        CV_Error(Error::StsUnsupportedFormat, cv::format("dmad: %s must be CV_8UC1, got %s", what,
                                                         typeToString(m.type()).c_str()));
    if (m.size() != size)
        CV_Error(Error::StsUnmatchedSizes,
                 cv::format("dmad: %s is %dx%d but the image is %dx%d", what, m.cols, m.rows,
                            size.width, size.height));
}

//! Full-scale value of a depth: what white is.
double fullScale(int depth) { return depth == CV_8U ? 255.0 : depth == CV_16U ? 65535.0 : 1.0; }

//! The texture in the image's channel count and depth (see blendAnomaly's documentation).
Mat matchTexture(const Mat& texture, int type)
{
    const int cn = CV_MAT_CN(type), depth = CV_MAT_DEPTH(type), tcn = texture.channels();
    Mat t = texture;
    if (tcn != cn)
    {
        static const int codes[5][5] = {
            { -1, -1, -1, -1, -1 },
            { -1, -1, -1, COLOR_GRAY2BGR, COLOR_GRAY2BGRA },
            { -1, -1, -1, -1, -1 },
            { -1, COLOR_BGR2GRAY, -1, -1, COLOR_BGR2BGRA },
            { -1, COLOR_BGRA2GRAY, -1, COLOR_BGRA2BGR, -1 },
        };
        cvtColor(texture, t, codes[tcn][cn]);
    }
    if (t.depth() != depth)
        t.convertTo(t, depth, fullScale(depth) / fullScale(t.depth()));
    return t;
}

template <typename T>
void blendMasked(const Mat& image, const Mat& texture, const Mat& mask, float beta, Mat& result)
{
    const int cn = image.channels(), colours = std::min(cn, 3);  // alpha stays as it is
    for (int y = 0; y < image.rows; y++)
    {
        const T* img = image.ptr<T>(y);
        const T* tex = texture.ptr<T>(y);
        const uchar* m = mask.ptr<uchar>(y);
        T* out = result.ptr<T>(y);
        for (int x = 0; x < image.cols; x++)
        {
            if (!m[x])
                continue;
            for (int c = 0; c < colours; c++)
            {
                const int i = x * cn + c;
                out[i] = saturate_cast<T>((1.f - beta) * (float)img[i] + beta * (float)tex[i]);
            }
        }
    }
}

//! DRAEM-like augmentation: a random square crop, flip, quarter turn and gain.
Mat augmentTexture(const Mat& texture, RNG& rng)
{
    const int shorter = std::min(texture.cols, texture.rows);
    const int side = std::max(1, cvRound(shorter * rng.uniform(0.5, 1.0)));
    const int x = rng.uniform(0, texture.cols - side + 1);
    const int y = rng.uniform(0, texture.rows - side + 1);
    Mat t = texture(Rect(x, y, side, side)).clone();
    const int flip = rng.uniform(-1, 3);  // -1, 0, 1: cv::flip codes; 2: none
    if (flip < 2)
        cv::flip(t, t, flip);
    const int turn = rng.uniform(0, 4);  // 3: none
    if (turn < 3)
        cv::rotate(t, t, turn);
    t.convertTo(t, -1, rng.uniform(0.7, 1.3));
    return t;
}

} // namespace

void blendAnomaly(InputArray _image, InputArray _texture, InputArray _mask, double beta,
                  OutputArray _result)
{
    CV_TRACE_FUNCTION();
    const Mat image = _image.getMat(), texture = _texture.getMat(), mask = _mask.getMat();
    checkImage(image, "the image");
    checkImage(texture, "the texture");
    if (texture.size() != image.size())
        CV_Error(Error::StsUnmatchedSizes,
                 cv::format("dmad: the texture is %dx%d but the image is %dx%d", texture.cols,
                            texture.rows, image.cols, image.rows));
    checkMask(mask, image.size(), "the anomaly mask");
    if (!(beta >= 0 && beta <= 1))
        CV_Error(Error::StsOutOfRange, cv::format("dmad: opacity beta %g is outside [0, 1]", beta));

    const Mat tex = matchTexture(texture, image.type());
    Mat result;
    image.copyTo(result);  // a fresh copy, so that _result may alias the image
    switch (image.depth())
    {
    case CV_8U: blendMasked<uchar>(image, tex, mask, (float)beta, result); break;
    case CV_16U: blendMasked<ushort>(image, tex, mask, (float)beta, result); break;
    default: blendMasked<float>(image, tex, mask, (float)beta, result); break;
    }
    result.copyTo(_result);
}

double synthesizeAnomaly(InputArray _normal, InputArray _texture, OutputArray anomalous,
                         OutputArray _mask, RNG& rng, const AnomalySynthesisParams& params,
                         InputArray _foreground)
{
    CV_TRACE_FUNCTION();
    const Mat normal = _normal.getMat();
    checkImage(normal, "the normal image");
    if (!(params.minOpacity >= 0 && params.minOpacity <= params.maxOpacity &&
          params.maxOpacity <= 1))
        CV_Error(Error::StsBadArg, cv::format("dmad: opacity range [%g, %g] is invalid "
                                              "(need 0 <= minOpacity <= maxOpacity <= 1)",
                                              params.minOpacity, params.maxOpacity));
    Mat foreground;
    if (!_foreground.empty())
    {
        foreground = _foreground.getMat();
        checkMask(foreground, normal.size(), "the foreground");
    }

    Mat texture;
    if (_texture.empty())
        generateTexture(normal.size(), TEXTURE_RANDOM, rng, texture);
    else
    {
        texture = _texture.getMat();
        checkImage(texture, "the texture");
        if (params.augmentTexture)
            texture = augmentTexture(texture, rng);
        if (texture.size() != normal.size())
        {
            const bool shrink = texture.cols > normal.cols && texture.rows > normal.rows;
            resize(texture, texture, normal.size(), 0, 0, shrink ? INTER_AREA : INTER_LINEAR);
        }
    }

    Mat mask;
    perlinMask(normal.size(), rng, mask, params, foreground);
    const double beta = rng.uniform((double)params.minOpacity, (double)params.maxOpacity);
    blendAnomaly(normal, texture, mask, beta, anomalous);
    mask.copyTo(_mask);
    return beta;
}

double synthesizeAnomaly(InputArray normalImage, InputArray texture, OutputArray anomalousImage,
                         OutputArray mask, int seed, const AnomalySynthesisParams& params,
                         InputArray foreground)
{
    RNG rng = synth::rngFromSeed(seed);
    return synthesizeAnomaly(normalImage, texture, anomalousImage, mask, rng, params, foreground);
}

void loadTextures(const String& folder, std::vector<Mat>& textures, Size size, int maxCount)
{
    CV_TRACE_FUNCTION();
    if (folder.empty() || !utils::fs::isDirectory(folder))
        CV_Error(Error::StsObjectNotFound,
                 cv::format("dmad: texture folder '%s' does not exist or is not a folder",
                            folder.c_str()));
    if (size.width < 0 || size.height < 0 || (size.width == 0) != (size.height == 0))
        CV_Error(Error::StsBadSize, cv::format("dmad: texture size %dx%d is invalid", size.width,
                                               size.height));
    std::vector<String> all, files;
    glob(folder, all, true);
    for (const String& f : all)
        if (isImageFile(f))
            files.push_back(f);
    std::sort(files.begin(), files.end());
    if (files.empty())
        CV_Error(Error::StsObjectNotFound,
                 cv::format("dmad: texture folder '%s' holds no image file "
                            "(.png, .jpg, .jpeg, .bmp, .tif, .tiff)", folder.c_str()));
    if (maxCount > 0 && (size_t)maxCount < files.size())
    {
        std::vector<String> picked;
        for (int i = 0; i < maxCount; i++)
            picked.push_back(files[(size_t)i * files.size() / maxCount]);
        files.swap(picked);
    }
    std::vector<Mat> loaded;
    for (const String& f : files)
    {
        Mat t = readImage(f, IMREAD_COLOR);
        if (size.width > 0)
            resize(t, t, size, 0, 0, INTER_AREA);
        loaded.push_back(t);
    }
    textures.swap(loaded);
}

}} // namespace cv::dmad

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_ANOMALY_SYNTHESIS_HPP
#define OPENCV_DMAD_ANOMALY_SYNTHESIS_HPP

#include <opencv2/core.hpp>

namespace cv {
namespace dmad {

//! @addtogroup dmad
//! @{

/** @brief Families of procedural textures, standing in for the 47 categories of the Describable
Textures Dataset @cite cimpoi2014describing that DRAEM @cite zavrtanik2021draem and DMAD
@cite hu2024dmad paste into normal images. Every family draws its own colours, scales and orientation from the seed.
*/
enum TextureKind
{
    TEXTURE_RANDOM = -1,  //!< pick one of the families below from the random generator
    TEXTURE_NOISE = 0,    //!< fractal Perlin noise (clouds, stone, rust)
    TEXTURE_STRIPES = 1,  //!< straight or wavy bands
    TEXTURE_CHECKER = 2,  //!< rotated checkerboard or grid lines
    TEXTURE_CELLULAR = 3, //!< Voronoi cells with shaded interiors (scales, cobbles)
    TEXTURE_FIBRES = 4,   //!< many thin aligned strokes (scratches, hair, brushed metal)
    TEXTURE_DOTS = 5,     //!< spots of random sizes, scattered or on a jittered lattice
    TEXTURE_MARBLE = 6,   //!< sine bands bent by turbulence (marble, wood grain)
    TEXTURE_WOVEN = 7,    //!< over-under weave of two thread colours
    TEXTURE_CRACKLE = 8,  //!< dark network of Voronoi cell borders (dried mud, craquelure)
    TEXTURE_BLOTCHES = 9, //!< fractal noise quantised to a few flat colours (camouflage, stains)
    TEXTURE_KIND_COUNT = 10
};

/** @brief Classic 2D gradient (Perlin) noise, as DRAEM's rand_perlin_2d_np.

One random unit gradient per lattice point, quintic fade between them, scaled by sqrt(2) as DRAEM
does so that the values span [-1, 1]. The image spans
`periods.width x periods.height` lattice cells, so larger periods give finer noise.
@param size output size.
@param periods lattice cells across the width and the height, each >= 1.
@param rng source of the gradients.
@param noise output CV_32FC1, values in [-1, 1], zero on lattice points.
*/
CV_EXPORTS void perlinNoise(Size size, Size periods, RNG& rng, OutputArray noise);

/** @brief Sum of `octaves` Perlin layers, each with twice the periods and `persistence` times the
amplitude of the previous one, divided by the sum of the amplitudes. */
CV_EXPORTS void fractalNoise(Size size, Size periods, int octaves, double persistence, RNG& rng,
                             OutputArray noise);

/** @brief How pseudo anomalies are drawn: the Perlin mask and the blending opacity. The defaults
are DRAEM's: scales 2^0..2^5 per axis, threshold 0.5, random rotation, opacity 0.2..1. */
struct CV_EXPORTS_W_SIMPLE AnomalySynthesisParams
{
    CV_WRAP AnomalySynthesisParams();

    CV_PROP_RW int minScaleLog2;  //!< Perlin periods per axis are 2^k, k uniform in [min, max]
    CV_PROP_RW int maxScaleLog2;
    CV_PROP_RW float threshold;   //!< the mask is noise > threshold
    CV_PROP_RW bool rotate;       //!< rotate the noise by a random angle in [-90, 90) degrees
    /** Accepted mask area, as fractions of the image (or of the region, when one is given). A
        mask outside the bounds is redrawn, up to maxTries times; after that the threshold is
        moved so that the area lands on the nearest bound. */
    CV_PROP_RW double minArea;
    CV_PROP_RW double maxArea;
    CV_PROP_RW int maxTries;
    CV_PROP_RW float minOpacity;  //!< texture opacity beta, uniform in [minOpacity, maxOpacity]
    CV_PROP_RW float maxOpacity;
    /** Random crop (half to all of the shorter side), flip, quarter turn and gain on the texture
        before it is resized to the image, so that one texture yields many different patches. */
    CV_PROP_RW bool augmentTexture;
};

/** @brief A binary DRAEM-style Perlin mask, never empty, with its area within the bounds.
@param size mask size.
@param rng source of the scales, the rotation and the noise.
@param mask output CV_8UC1, 0 or 255.
@param params scales, threshold, rotation and area bounds.
@param region optional CV_8UC1 of `size`: the mask is confined to its nonzero pixels and the area
bounds are fractions of the region's area (e.g. an object's foreground). It must not be empty.
*/
CV_EXPORTS void perlinMask(Size size, RNG& rng, OutputArray mask,
                           const AnomalySynthesisParams& params = AnomalySynthesisParams(),
                           InputArray region = noArray());
/** @overload The random generator is seeded with `seed`. */
CV_EXPORTS_W void perlinMask(Size size, int seed, OutputArray mask,
                             const AnomalySynthesisParams& params = AnomalySynthesisParams(),
                             InputArray region = noArray());

/** @brief A procedural texture, deterministic for a given random generator state.
@param size output size.
@param kind one of TextureKind; TEXTURE_RANDOM draws the family from `rng`.
@param rng source of the family, colours and geometry.
@param texture output CV_8UC3 (BGR).
*/
CV_EXPORTS void generateTexture(Size size, int kind, RNG& rng, OutputArray texture);
/** @overload The random generator is seeded with `seed`. */
CV_EXPORTS_W void generateTexture(Size size, int kind, int seed, OutputArray texture);

/** @brief Loads the textures of a folder (and its sub-folders, as DTD's `images/<category>/`).
@param folder folder with .png, .jpg, .jpeg, .bmp, .tif or .tiff files.
@param textures output images, 8-bit BGR, in file-name order.
@param size when not empty, each texture is resized to it (to bound the memory DTD would take).
@param maxCount when positive, at most this many files, evenly spaced over the sorted list.
@throws cv::Exception when the folder does not exist, holds no image file, or a file cannot be read.
*/
CV_EXPORTS_W void loadTextures(const String& folder, CV_OUT std::vector<Mat>& textures,
                               Size size = Size(), int maxCount = 0);

/** @brief The DRAEM blend: `out = (1 - beta * m) * image + beta * m * texture`, m in {0, 1}.

Inside the mask each channel is `saturate_cast((1 - beta) * image + beta * texture)` computed in
float; outside it the image is copied unchanged. The texture is converted to the image's channel
count and depth (8-bit values scale by 257 to 16-bit and by 1/255 to float, whose range is taken
as [0, 1]); a 4-channel image keeps its alpha.
@param image CV_8U, CV_16U or CV_32F image with 1, 3 or 4 channels.
@param texture image of the same size, 1, 3 or 4 channels, any of the three depths.
@param mask CV_8UC1 of the same size; nonzero pixels are blended.
@param beta texture opacity in [0, 1].
@param result output of the image's size and type.
*/
CV_EXPORTS_W void blendAnomaly(InputArray image, InputArray texture, InputArray mask, double beta,
                               OutputArray result);

/** @brief A pseudo anomaly: a Perlin mask blending a texture into a normal image.

@param normalImage CV_8U, CV_16U or CV_32F image with 1, 3 or 4 channels, any size.
@param texture texture of any size (cropped and resized to the image); empty: a procedural texture
of a random family is generated from `rng`.
@param anomalousImage output of the image's size and type.
@param mask output CV_8UC1, 255 where the texture was blended in.
@param rng source of every random choice.
@param params mask and opacity settings.
@param foreground optional CV_8UC1 of the image's size that confines the anomaly (object pixels).
@return the opacity beta that was used.
*/
CV_EXPORTS double synthesizeAnomaly(InputArray normalImage, InputArray texture,
                                    OutputArray anomalousImage, OutputArray mask, RNG& rng,
                                    const AnomalySynthesisParams& params = AnomalySynthesisParams(),
                                    InputArray foreground = noArray());
/** @overload The random generator is seeded with `seed`. */
CV_EXPORTS_W double synthesizeAnomaly(
    InputArray normalImage, InputArray texture, OutputArray anomalousImage, OutputArray mask,
    int seed, const AnomalySynthesisParams& params = AnomalySynthesisParams(),
    InputArray foreground = noArray());

//! @}

}} // namespace cv::dmad

#endif // OPENCV_DMAD_ANOMALY_SYNTHESIS_HPP

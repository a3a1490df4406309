// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The renderer behind the synthetic dataset: scenes (synthetic_scenes.cpp), defects
// (synthetic_defects.cpp) and the dataset writer (synthetic_dataset.cpp). Not exported.

#ifndef OPENCV_DMAD_SYNTHETIC_RENDER_HPP
#define OPENCV_DMAD_SYNTHETIC_RENDER_HPP

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace cv {
namespace dmad {
namespace synth {

enum DefectKind
{
    DEFECT_SCRATCH,  //!< thin smooth curve, brighter or darker than the surface
    DEFECT_SPOT,     //!< irregular soft blob: stain, corrosion, contamination
    DEFECT_CRACK,    //!< dark jagged line with branches
    DEFECT_MISSING,  //!< a piece gone: the background (or a fabric's backing) shows
    DEFECT_THREAD    //!< a loose thread lying on a fabric
};

struct DefectSpec
{
    const char* name;
    DefectKind kind;
};

struct ClassSpec
{
    const char* name;
    bool gray;                        //!< stored with one channel
    std::vector<DefectSpec> defects;  //!< in the dataset's order
};

//! The four classes, in syntheticClassNames() order.
const std::vector<ClassSpec>& classSpecs();

/** A clean part, in layers, so that a defect can change the surface (albedo) and reuse the same
    light and the same sensor noise: outside the defect the image stays identical, bit for bit. */
struct Scene
{
    Mat albedo;      //!< CV_32FC3 in [0, 255], the part under even light
    Mat background;  //!< CV_32FC3, behind the part, with its shadow (or a fabric's backing)
    Mat bareBackground;  //!< CV_32FC3, the same without the part's shadow
    Mat coverage;    //!< CV_32FC1 in [0, 1], the part's share of each pixel (1 for surfaces)
    Mat light;       //!< CV_32FC1, multiplicative illumination
    Mat noise;       //!< CV_32FC3, additive sensor noise
    bool object;     //!< a part on a background (missing pieces sit on its outline)
    bool ring;       //!< a ring: cracks run across its band, scratches along it
    Point2f centre;  //!< the part's centre (washer cracks run radially from it)
    float detail;    //!< characteristic structure size in pixels (fabric thread period)
    Vec3f threadColour;  //!< fabric thread colour, for frayed ends in holes
};

void renderScene(int classIndex, int size, RNG& rng, Scene& scene);

/** Paints one defect of the given kind into `albedo` (a copy of scene.albedo) and sets `mask`
    (CV_8UC1, 255 exactly where albedo changed). Redraws until the defect's area is plausible. */
void paintDefect(const Scene& scene, DefectKind kind, RNG& rng, Mat& albedo, Mat& mask);

//! Light, noise, 8 bits and, for gray classes, one channel.
void developImage(const Scene& scene, const Mat& albedo, bool gray, Mat& image);

}}} // namespace cv::dmad::synth

#endif // OPENCV_DMAD_SYNTHETIC_RENDER_HPP

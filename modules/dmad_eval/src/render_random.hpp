// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// The random streams of the synthetic dataset (not exported). They are part of the dataset's
// definition: a sample is fixed by (seed, class, type, index), so they stay here, apart from the
// library's pseudo-anomaly generators, which may change without changing a rendered dataset.

#ifndef OPENCV_DMAD_EVAL_RENDER_RANDOM_HPP
#define OPENCV_DMAD_EVAL_RENDER_RANDOM_HPP

#include <opencv2/core.hpp>

#include <string>

namespace cv {
namespace dmad {
namespace synth {

//! splitmix64 finaliser: nearby seeds give unrelated generator states.
inline uint64 mixSeed(uint64 x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

inline uint64 mixSeed(uint64 a, uint64 b) { return mixSeed(a ^ mixSeed(b)); }

//! FNV-1a, so that a class name or a split name picks its own random stream.
inline uint64 hashName(const std::string& s)
{
    uint64 h = 1469598103934665603ULL;
    for (unsigned char c : s)
        h = (h ^ c) * 1099511628211ULL;
    return h;
}

inline float uniform(RNG& rng, double lo, double hi) { return (float)rng.uniform(lo, hi); }

}}} // namespace cv::dmad::synth

#endif // OPENCV_DMAD_EVAL_RENDER_RANDOM_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Small random helpers of the texture, pseudo-anomaly and training code (not exported).

#ifndef OPENCV_DMAD_SYNTHESIS_UTILS_HPP
#define OPENCV_DMAD_SYNTHESIS_UTILS_HPP

#include <opencv2/core.hpp>

#include <utility>
#include <vector>

namespace cv {
namespace dmad {
namespace synth {

//! splitmix64 finaliser: nearby seeds give unrelated generator states.
inline uint64 mix(uint64 x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

//! The generator the int-seed overloads use; cv::RNG treats state 0 specially, so avoid it.
inline RNG rngFromSeed(int64 seed)
{
    const uint64 state = mix((uint64)seed);
    return RNG(state ? state : 1);
}

inline float uniform(RNG& rng, double lo, double hi) { return (float)rng.uniform(lo, hi); }

//! Fisher-Yates with cv::RNG, last element first (the order of Python's random.shuffle).
template <typename T>
void shuffle(std::vector<T>& items, RNG& rng)
{
    for (int i = (int)items.size() - 1; i > 0; i--)
        std::swap(items[i], items[rng.uniform(0, i + 1)]);
}

}}} // namespace cv::dmad::synth

#endif // OPENCV_DMAD_SYNTHESIS_UTILS_HPP

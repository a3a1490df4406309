// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "scoring/anomaly_map.hpp"

namespace cv {
namespace dmad {

void anomalyMapFromPatchScores(const Mat& patchScores, Size canvas, Size networkInput, Rect imageRegion,
                               Size imageSize, double sigmaAt256, Mat& anomalyMap)
{
    CV_Assert(patchScores.type() == CV_32F && !patchScores.empty());
    CV_Assert((imageRegion & Rect(Point(), canvas)) == imageRegion && !imageRegion.empty());
    Mat map;
    resize(patchScores, map, canvas, 0, 0, INTER_LINEAR);
    if (sigmaAt256 > 0)
    {
        // smoothing on the canvas keeps its cost independent of the image size; the sigma follows
        // the network input, so that it spans the same number of cells however many tiles there are
        const double sx = sigmaAt256 * networkInput.width / 256.0, sy = sigmaAt256 * networkInput.height / 256.0;
        const int kx = 2 * (int)std::lround(4 * sx) + 1, ky = 2 * (int)std::lround(4 * sy) + 1;
        GaussianBlur(map, map, Size(kx, ky), sx, sy, BORDER_REFLECT);
    }
    if (imageRegion.size() != canvas)
        map = map(imageRegion).clone();  // letterboxed: the padding is no part of the image
    if (map.size() == imageSize)
        anomalyMap = map;
    else
        resize(map, anomalyMap, imageSize, 0, 0, INTER_LINEAR);
}

}} // namespace cv::dmad

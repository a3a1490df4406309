// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_SCORING_HEAD_HPP
#define OPENCV_DMAD_SCORING_HEAD_HPP

#include <opencv2/core.hpp>

namespace cv {
namespace dmad {

//! @addtogroup dmad
//! @{

/** @brief DMAD's anomaly score mapper: `s(o) = w2^T LeakyReLU_0.2(BN(W1 o + b1))`.

A high `s` means normal; compute() returns the anomaly score `-s` (high means anomalous), the value
DMAD's patch score maps hold.
*/
class CV_EXPORTS_W ScoringHead : public Algorithm
{
public:
    struct CV_EXPORTS_W_SIMPLE Params
    {
        CV_WRAP Params();
        CV_PROP_RW int inputDims;   //!< 3D
        CV_PROP_RW int hiddenDims;  //!< H
        CV_PROP_RW int seed;
    };

    CV_WRAP static Ptr<ScoringHead> create(const ScoringHead::Params& params);
    CV_WRAP static Ptr<ScoringHead> load(const String& filename, const String& objname = String());

    /** @brief Anomaly scores of representations.
    @param representation `B x inputDims` CV_32F.
    @param scores output `B x 1` CV_32F anomaly scores (-s).
    */
    CV_WRAP virtual void compute(InputArray representation, OutputArray scores) const = 0;

    CV_WRAP virtual int inputDims() const = 0;
    CV_WRAP virtual int hiddenDims() const = 0;
};

//! @}

}} // namespace cv::dmad

#endif // OPENCV_DMAD_SCORING_HEAD_HPP

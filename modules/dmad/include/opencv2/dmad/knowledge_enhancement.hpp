// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_KNOWLEDGE_ENHANCEMENT_HPP
#define OPENCV_DMAD_KNOWLEDGE_ENHANCEMENT_HPP

#include <opencv2/core.hpp>

namespace cv {
namespace dmad {

//! @addtogroup dmad
//! @{

/** @brief DMAD's knowledge enhancement: what a patch's neighbours in both banks say about it.

For a patch feature `q` and its k nearest entries `M` in a bank (nearest `m_1`):
`E(q, M) = BN_bank(q - m_1 + Attn(q, M))` with
- k = 1: `Attn = W_v q + b_v`, the single-key attention of the DMAD reference code;
- k > 1: scaled dot-product attention of `q` over `M`,
  `Attn = W_v (sum_j softmax_j((W_q q).(W_k m_j) / sqrt(D)) m_j) + b_v`.

The enhanced representation is `o = [P q; P E(q, M_normal); P E(q, M_abnormal)]` with a shared
linear adaptor `P`, so `o` has `3 D` values @cite hu2024dmad; with Params::distances the Euclidean
distances `|q - m_1|` to both banks follow (`3 D + 2` values), the "feature distance" in its
plainest form. The weights are learned together with
the ScoringHead when DMAD trains; compute() uses BatchNorm running statistics.
*/
class CV_EXPORTS_W KnowledgeEnhancement : public Algorithm
{
public:
    struct CV_EXPORTS_W_SIMPLE Params
    {
        CV_WRAP Params();
        CV_PROP_RW int featureDims;  //!< D
        CV_PROP_RW int neighbours;   //!< k per bank (1: the reference's attention)
        //! also give the distance from q to its nearest entry of each bank (o gets 3D + 2 values)
        CV_PROP_RW bool distances;
        CV_PROP_RW int seed;         //!< initialisation seed
    };

    //! Creates freshly initialised weights (Xavier-normal, as the reference).
    CV_WRAP static Ptr<KnowledgeEnhancement> create(const KnowledgeEnhancement::Params& params);
    CV_WRAP static Ptr<KnowledgeEnhancement> load(const String& filename, const String& objname = String());

    /** @brief Enhanced representations of patches.
    @param features `B x D` CV_32F patch features.
    @param normalNeighbours `B x (k*D)` CV_32F: per row the k nearest normal-bank entries, nearest first.
    @param abnormalNeighbours `B x (k*D)` CV_32F, the same for the abnormal bank.
    @param representation output `B x 3D` CV_32F.
    */
    CV_WRAP virtual void compute(InputArray features, InputArray normalNeighbours,
                                 InputArray abnormalNeighbours, OutputArray representation) const = 0;

    CV_WRAP virtual int featureDims() const = 0;
    CV_WRAP virtual int neighbours() const = 0;
    CV_WRAP virtual int representationDims() const = 0;
};

//! @}

}} // namespace cv::dmad

#endif // OPENCV_DMAD_KNOWLEDGE_ENHANCEMENT_HPP

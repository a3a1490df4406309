// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_DUAL_MEMORY_BANK_HPP
#define OPENCV_DMAD_DUAL_MEMORY_BANK_HPP

#include "opencv2/dmad/feature_extractor.hpp"
#include "opencv2/dmad/memory_bank.hpp"

namespace cv {
namespace dmad {

//! @addtogroup dmad
//! @{

/** @brief DMAD's two banks: normal patches and abnormal patches @cite hu2024dmad.

The normal bank is a greedy coreset of the normal training patches of all classes together. The
abnormal bank combines, as Params::supervisedSources or Params::unsupervisedSources say:
- the masked patches of annotated anomalies;
- anomaly-centre samples: the mean of the (annotated, else synthetic) anomaly patches plus Gaussian
  noise, as many as there are such patches;
- a coreset of out-of-domain texture patches;
- the masked patches of synthetic defects pasted into normal training images;
- normal-bank entries plus Gaussian noise.

The abnormal bank is then cut to at most Params::abnormalBankRatio times the normal bank's size by
a class-balanced coreset (compactAbnormalBank()).
*/
class CV_EXPORTS_W DualMemoryBank : public Algorithm
{
public:
    enum AbnormalSource
    {
        ABNORMAL_ANNOTATED = 1,         //!< masked patches of annotated anomalies
        ABNORMAL_ANOMALY_CENTRE = 2,    //!< anomaly centre + N(0, noiseStd^2), as many as the anomaly patches
        ABNORMAL_TEXTURES = 4,          //!< coreset of texture patches (DTD or procedural)
        ABNORMAL_SYNTHETIC = 8,         //!< masked patches of synthetic defects in normal images
        ABNORMAL_PERTURBED_NORMAL = 16  //!< normal-bank entries + N(0, noiseStd^2)
    };

    struct CV_EXPORTS_W_SIMPLE Params
    {
        CV_WRAP Params();
        CV_PROP_RW double normalCoresetRatio;   //!< fraction of the normal patches kept (0.02)
        CV_PROP_RW CoresetParams coreset;       //!< projection and seed of both coresets
        CV_PROP_RW int supervisedSources;       //!< AbnormalSource flags used when anomalies are annotated
        CV_PROP_RW int unsupervisedSources;     //!< AbnormalSource flags used otherwise
        CV_PROP_RW double noiseStd;             //!< sigma of the centre samples and perturbed normals
        CV_PROP_RW double textureCoresetRatio;  //!< fraction of the texture patches kept (0.1)
        CV_PROP_RW double perturbedNormalRatio; //!< perturbed normals per normal-bank entry
        /** Largest abnormal bank, as a fraction of the normal bank's size (0: keep every abnormal
            patch). Above it the abnormal patches are cut down class by class, each class (and the
            patches of no class) to an equal share, by a coreset within the class, so that no
            class swamps the bank and every kind of defect keeps a neighbour. DMAD searches both
            banks for every patch, so this bounds its cost over the PatchCore scorer. */
        CV_PROP_RW double abnormalBankRatio;
        CV_PROP_RW int seed;
        CV_PROP_RW MemoryBank::Params bank;     //!< search and storage settings of both banks

        void write(FileStorage& fs) const;
        void read(const FileNode& node);
    };

    /** @brief Patch features the banks are built from, with their source image and class ids
    (`n x 1` CV_32S each, or empty for -1). Empty parts are simply absent. */
    struct CV_EXPORTS_W_SIMPLE Sources
    {
        //! All parts empty (a wrapped constructor: Python's bindings build the struct through it).
        CV_WRAP Sources();
        CV_PROP_RW Mat normal;
        CV_PROP_RW Mat normalImageIds;
        CV_PROP_RW Mat normalClassIds;
        CV_PROP_RW Mat annotated;
        CV_PROP_RW Mat annotatedImageIds;
        CV_PROP_RW Mat annotatedClassIds;
        CV_PROP_RW Mat synthetic;
        CV_PROP_RW Mat syntheticImageIds;
        CV_PROP_RW Mat syntheticClassIds;
        CV_PROP_RW Mat textures;
    };

    CV_WRAP static Ptr<DualMemoryBank> create(
            const DualMemoryBank::Params& params = DualMemoryBank::Params());
    CV_WRAP static Ptr<DualMemoryBank> load(const String& filename, const String& objname = String());

    /** @brief Builds both banks; the annotated part decides between the supervised and the
    unsupervised recipe. Progress goes to the progress callback.
    @param sources the patch features.
    @param withAbnormalBank false builds the normal bank only (enough for the PatchCore scorer). */
    CV_WRAP virtual void build(const DualMemoryBank::Sources& sources,
                               bool withAbnormalBank = true) = 0;

    CV_WRAP virtual Ptr<MemoryBank> getNormalBank() const = 0;
    CV_WRAP virtual Ptr<MemoryBank> getAbnormalBank() const = 0;
    //! @brief The AbnormalSource flags of the recipe build() used.
    CV_WRAP virtual int abnormalSources() const = 0;
    CV_WRAP virtual DualMemoryBank::Params getParams() const = 0;
};

/** @brief The DMAD "Filter": grid cells that an anomaly mask touches.

The mask is scaled to the grid; a cell is kept when any of its mask pixels is non-zero.
@param mask 8-bit single-channel mask, non-zero on the defect.
@param grid the patch grid (FeatureExtractor::gridSize()).
@return row-major cell indices, ascending.
*/
CV_EXPORTS_W std::vector<int> maskedPatchIndices(InputArray mask, Size grid);

/** @brief maskedPatchIndices() through a FeatureExtractor's input geometry: the mask, of the
image's size, is first placed where the image lies in the network input
(FeatureExtractor::inputRegion(); the same as the plain form unless Params::letterbox). */
CV_EXPORTS std::vector<int> maskedPatchIndices(InputArray mask, const FeatureExtractor::Params& geometry, Size grid);

//! @}

}} // namespace cv::dmad

#endif // OPENCV_DMAD_DUAL_MEMORY_BANK_HPP

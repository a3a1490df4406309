// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_SCORE_FUSION_HPP
#define OPENCV_DMAD_SCORE_FUSION_HPP

#include <opencv2/core.hpp>

#include <map>
#include <vector>

namespace cv {
namespace dmad {

/** The DMAD patch score that starts from the distance (DMAD::SCORE_DISTANCE_AND_HEAD):

    score = (d - median_d) / spread_d + w (h - median_h) / spread_h

    d is the patch's distance to its nearest normal-bank entry (the PatchCore score), h the scoring
    head's anomaly score, each standardised by its own distribution on normal patches scored
    leave-one-image-out (median, and spread = kSpreadQuantile quantile - median: the upper tail is
    what decides an image score, the maximum over its patches). The two then speak in one unit,
    "how far into the normal patches' tail", and w says how much the head adds to the distance. w 0
    ranks patches as PatchCore does; the head adds where it ranks defects the distance misses and is
    outvoted where it raises patches the distance finds ordinary (doc/model.md).

    A unified model's classes differ in both scales, so each class with at least kMinClassPatches
    normal patches has its own standardisation; the others use the pooled one. A patch is
    standardised as its image's class (ClassCentroids, the class DMAD::inspect() reports): the
    class of its nearest normal entry, which models fitted before CLASS_OF_IMAGE use, is another
    class for a quarter to half of the patches of three of the four shared classes (background
    looks alike across products), and mixing standardisations within an image cost 0.8 mean image
    AUROC (doc/model.md). The same class picks w: a class whose head learned from annotated defects
    can have a weight of its own (setClassHeadWeight(); class id -1 stands for the patches without
    a class).

    The head's vote is bounded (setHeadLimit(): score = d' + min(w h', L)), as robust score fusion
    bounds each expert's: a head that misfires on some normal patches, far beyond its normal tail,
    cannot outvote the distance by more than L of the distance's tail-widths (InceptionV3's head,
    trained with annotated defects, scored the grid's corner cell of normal images up to 5.6 of its
    tail-widths and collapsed a class's image AUROC from the distance's 96.9 to 74.5). Above the
    limit the distance alone ranks the patches. */
class CV_EXPORTS ScoreFusion
{
public:
    //! The spread is this quantile of the normal scores minus their median.
    static constexpr double kSpreadQuantile = 0.99;
    //! The largest head weight: beyond it the distance no longer counts.
    static constexpr double kMaxHeadWeight = 1000;
    //! A class needs this many normal patches for a standardisation of its own.
    static constexpr int kMinClassPatches = 500;

    //! Which class a patch is standardised as.
    enum ClassSource
    {
        CLASS_OF_NEAREST_ENTRY = 0,  //!< its nearest normal entry's (models fitted before CLASS_OF_IMAGE)
        CLASS_OF_IMAGE = 1           //!< its image's
    };

    //! Not fitted: valid() is false.
    ScoreFusion() = default;
    /** Fits the standardisations on normal patches scored leave-one-image-out.
        @param distances their Euclidean distances to the nearest normal entry
        @param headScores their head anomaly scores, one per distance
        @param classIds the class of each one (-1: none), one per distance, as `source` says
        @param headWeight w, in [0, kMaxHeadWeight]
        @param source what the class ids given here and to combine() are */
    ScoreFusion(const std::vector<float>& distances, const std::vector<float>& headScores,
                const std::vector<int>& classIds, double headWeight, ClassSource source = CLASS_OF_IMAGE);

    bool valid() const { return fitted_; }
    ClassSource classSource() const { return source_; }
    //! w of the classes without a weight of their own.
    double headWeight() const { return weight_; }
    //! w of the patches of class `classId` (-1: without a class).
    double headWeight(int classId) const;
    /** Gives the patches of class `classId` (-1: those without a class) the head weight w, in
        [0, kMaxHeadWeight]. */
    void setClassHeadWeight(int classId, double w);
    //! The most the weighted, standardised head score adds to a patch's; 0: no limit (models
    //! fitted before it).
    double headLimit() const { return limit_; }
    //! Sets headLimit(), in [0, kMaxHeadLimit] (0: no limit).
    void setHeadLimit(double limit);
    static constexpr double kMaxHeadLimit = 1000;

    /** Patch scores (n x 1 CV_32F).
        @param distances Euclidean distances to the nearest normal entry (n values, CV_32F)
        @param headScores the head's anomaly scores (n values, CV_32F)
        @param classIds the class of each patch (n values, CV_32S), as classSource() says */
    void combine(const Mat& distances, const Mat& headScores, const Mat& classIds, Mat& scores) const;

    /** The same fusion with each head standardisation moved (median and spread) so that normal
        patches' head scores `after` a refinement of the head standardise as their scores `before` it
        did; DMAD::update() calls it, so the distance part and the calibrated thresholds keep their
        meaning. A class with fewer than kMinRecentrePatches patches moves as the pooled one, which
        moves with the patches that have no standardisation of their own (all, when they are too few).
        @param before, after the head's scores of the same normal patches
        @param classIds the class of each one, as classSource() says */
    ScoreFusion withHeadRecentred(const std::vector<float>& before, const std::vector<float>& after,
                                  const std::vector<int>& classIds) const;
    static constexpr int kMinRecentrePatches = 100;

    void write(FileStorage& fs) const;
    //! Reads what write() wrote; an absent node gives an unfitted fusion.
    void read(const FileNode& node, const String& where);

private:
    struct Standardisation
    {
        double distanceMedian = 0, distanceSpread = 1, headMedian = 0, headSpread = 1;
    };
    static Standardisation fit(const std::vector<float>& distances, const std::vector<float>& headScores);
    static void writeOne(FileStorage& fs, const Standardisation& s);
    static Standardisation readOne(const FileNode& node, const String& where);
    const Standardisation& forClass(int classId) const;

    bool fitted_ = false;
    ClassSource source_ = CLASS_OF_IMAGE;
    double weight_ = 0;
    Standardisation pooled_;
    std::map<int, Standardisation> perClass_;
    std::map<int, double> classWeights_;
    double limit_ = 0;
};

}} // namespace cv::dmad

#endif // OPENCV_DMAD_SCORE_FUSION_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_DECISION_CALIBRATION_HPP
#define OPENCV_DMAD_DECISION_CALIBRATION_HPP

#include "scoring/class_centroids.hpp"
#include "scoring/score_calibration.hpp"

#include <map>

namespace cv {
namespace dmad {

/** A trained model's decisions beyond its raw scores, for both scorers: the class of an image
    (ClassCentroids) and a ScoreCalibration per class, with the pooled one of all classes for a
    class with too few calibration images and for models of one class. One threshold for a unified
    model would serve no class: the classes' normal scores differ in scale (doc/model.md). */
class CV_EXPORTS DecisionCalibration
{
public:
    //! A class needs this many normal calibration images for a threshold of its own.
    static constexpr int kMinClassImages = 8;
    enum { PATCHCORE = 0, DMAD = 1, SCORERS = 2 };

    //! One image scored for calibration, by both scorers (score[DMAD] unused without a head).
    struct Sample
    {
        int classId;
        bool anomalous;
        float score[SCORERS];
    };

    DecisionCalibration() = default;
    /** @param withHead whether score[DMAD] holds scores
        @param method how the samples were scored, saved for the record ("leave_one_image_out", "held_out") */
    DecisionCalibration(const std::vector<Sample>& samples, bool withHead, const ClassCentroids& classes,
                        const String& method);

    bool valid(int scorer) const { return pooled_[scorer].valid(); }
    const ClassCentroids& classes() const { return classes_; }
    //! The calibration of `classId`'s images: its own, else the pooled one.
    const ScoreCalibration& forClass(int scorer, int classId) const;

    void write(FileStorage& fs) const;
    /** Reads what write() wrote, and the pooled-only node of earlier models; an absent node gives
        an invalid one. */
    void read(const FileNode& node, bool withHead, int dims, const String& where);

private:
    ScoreCalibration pooled_[SCORERS];
    std::map<int, ScoreCalibration> perClass_[SCORERS];
    ClassCentroids classes_;
    String method_;
};

}} // namespace cv::dmad

#endif // OPENCV_DMAD_DECISION_CALIBRATION_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_SCORING_ENSEMBLE_HPP
#define OPENCV_DMAD_SCORING_ENSEMBLE_HPP

#include "opencv2/dmad/knowledge_enhancement.hpp"
#include "opencv2/dmad/scoring_head.hpp"

#include <vector>

namespace cv {
namespace dmad {

/** The learned score of DMAD::Params::scoringHeads enhancement + head pairs, trained alike on the same
    patches but each from its own seed (initialisation, batch order, pseudo anomalies): the head score
    is their mean. One pair's training alone moves a class's image AUROC by up to 5 points from one
    training seed to the next; the mean of three is steadier, and better than its members
    (doc/model.md, "Several heads"). Member 0 is trained with the model's seed, so a model of one
    pair is the model it always was. */
class CV_EXPORTS ScoringEnsemble
{
public:
    struct Member
    {
        Ptr<KnowledgeEnhancement> enhancement;
        Ptr<ScoringHead> head;
    };

    //! The seed member `member` trains with: the model's own for member 0.
    static int memberSeed(int seed, int member);

    void add(const Ptr<KnowledgeEnhancement>& enhancement, const Ptr<ScoringHead>& head);
    bool empty() const { return members_.empty(); }
    int size() const { return (int)members_.size(); }
    Member& member(int i) { return members_.at(i); }
    const Member& member(int i) const { return members_.at(i); }

    /** The members' mean anomaly score of each patch (`n x 1` CV_32F), from its features and the
        features of its neighbours in both banks (as KnowledgeEnhancement::compute()). */
    void compute(const Mat& features, const Mat& normalNeighbours, const Mat& abnormalNeighbours, Mat& scores) const;

    //! Deep copies of every member: update() refines copies, so that a failure changes nothing.
    ScoringEnsemble clone() const;

    /** Member 0 as the nodes `knowledge_enhancement` and `scoring_head`, where models of one pair
        always kept them; member i > 0 as `knowledge_enhancement_<i>` and `scoring_head_<i>`. */
    void write(FileStorage& fs) const;
    /** Reads `count` members from the children of `container` and checks that their dims match
        `featureDims`. Nothing changes on error. */
    void read(const FileNode& container, int count, int featureDims, const String& where);

private:
    std::vector<Member> members_;
};

}} // namespace cv::dmad

#endif // OPENCV_DMAD_SCORING_ENSEMBLE_HPP

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "scoring/scoring_ensemble.hpp"
#include "io/persistence.hpp"

namespace cv {
namespace dmad {

namespace {

String nodeName(const char* base, int member)
{
    return member == 0 ? String(base) : cv::format("%s_%d", base, member);
}

const char* const kEnhancementNode = "knowledge_enhancement";
const char* const kHeadNode = "scoring_head";

//! A deep copy of an Algorithm through its file form.
template <typename T>
Ptr<T> copyOf(const T& algorithm, const Ptr<T>& shell)
{
    FileStorage out(".yml", FileStorage::WRITE | FileStorage::MEMORY);
    out << "copy" << "{";
    algorithm.write(out);
    out << "}";
    FileStorage in(out.releaseAndGetString(), FileStorage::READ | FileStorage::MEMORY);
    shell->read(in["copy"]);
    return shell;
}

Ptr<KnowledgeEnhancement> enhancementShell()
{
    KnowledgeEnhancement::Params shell;
    shell.featureDims = 1;
    return KnowledgeEnhancement::create(shell);
}

Ptr<ScoringHead> headShell()
{
    ScoringHead::Params shell;
    shell.inputDims = shell.hiddenDims = 1;
    return ScoringHead::create(shell);
}

} // namespace

int ScoringEnsemble::memberSeed(int seed, int member)
{
    // distinct for every member, the model's own for member 0; unsigned arithmetic wraps, int does not
    return (int)((unsigned)seed + 1000u * (unsigned)member);
}

void ScoringEnsemble::add(const Ptr<KnowledgeEnhancement>& enhancement, const Ptr<ScoringHead>& head)
{
    CV_Assert(enhancement && head && head->inputDims() == enhancement->representationDims());
    CV_Assert(empty() || enhancement->featureDims() == members_[0].enhancement->featureDims());
    members_.push_back({ enhancement, head });
}

void ScoringEnsemble::compute(const Mat& features, const Mat& normalNeighbours, const Mat& abnormalNeighbours,
                              Mat& scores) const
{
    CV_Assert(!empty());
    Mat representation, memberScores;
    for (int i = 0; i < size(); i++)
    {
        members_[i].enhancement->compute(features, normalNeighbours, abnormalNeighbours, representation);
        members_[i].head->compute(representation, i == 0 ? scores : memberScores);
        if (i > 0)
            scores += memberScores;
    }
    if (size() > 1)
        scores /= (double)size();
}

ScoringEnsemble ScoringEnsemble::clone() const
{
    ScoringEnsemble copy;
    for (const Member& m : members_)
        copy.add(copyOf(*m.enhancement, enhancementShell()), copyOf(*m.head, headShell()));
    return copy;
}

void ScoringEnsemble::write(FileStorage& fs) const
{
    for (int i = 0; i < size(); i++)
    {
        persistence::writeNode(fs, nodeName(kEnhancementNode, i), *members_[i].enhancement);
        persistence::writeNode(fs, nodeName(kHeadNode, i), *members_[i].head);
    }
}

void ScoringEnsemble::read(const FileNode& container, int count, int featureDims, const String& where)
{
    CV_Assert(count >= 1);
    ScoringEnsemble read;
    for (int i = 0; i < count; i++)
    {
        Ptr<KnowledgeEnhancement> enhancement = enhancementShell();
        persistence::readAlgorithmNode(*enhancement, container, nodeName(kEnhancementNode, i), where);
        Ptr<ScoringHead> head = headShell();
        persistence::readAlgorithmNode(*head, container, nodeName(kHeadNode, i), where);
        if (enhancement->featureDims() != featureDims || head->inputDims() != enhancement->representationDims())
            CV_Error(Error::StsParseError, "dmad: the enhancement and scoring head dims do not match the banks");
        read.add(enhancement, head);
    }
    members_.swap(read.members_);
}

}} // namespace cv::dmad

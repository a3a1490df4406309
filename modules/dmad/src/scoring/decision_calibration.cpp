// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "scoring/decision_calibration.hpp"
#include "io/persistence.hpp"

namespace cv {
namespace dmad {

static const char* const kScorerKeys[DecisionCalibration::SCORERS] = { "patchcore", "dmad" };

DecisionCalibration::DecisionCalibration(const std::vector<Sample>& samples, bool withHead,
                                         const ClassCentroids& classes, const String& method)
    : classes_(classes), method_(method)
{
    for (int scorer = 0; scorer < (withHead ? 2 : 1); scorer++)
    {
        std::vector<float> normal, anomalous;
        std::map<int, std::pair<std::vector<float>, std::vector<float>>> byClass;
        for (const Sample& s : samples)
        {
            (s.anomalous ? anomalous : normal).push_back(s.score[scorer]);
            auto& c = byClass[s.classId];
            (s.anomalous ? c.second : c.first).push_back(s.score[scorer]);
        }
        if (normal.empty())
            continue;
        pooled_[scorer] = ScoreCalibration(normal, anomalous);
        if (classes_.empty())
            continue;  // one class: the pooled calibration is its own
        for (const auto& c : byClass)
            if (c.first >= 0 && (int)c.second.first.size() >= kMinClassImages)
                perClass_[scorer][c.first] = ScoreCalibration(c.second.first, c.second.second);
    }
}

const ScoreCalibration& DecisionCalibration::forClass(int scorer, int classId) const
{
    CV_Assert(scorer >= 0 && scorer < SCORERS);
    const auto it = perClass_[scorer].find(classId);
    return it != perClass_[scorer].end() ? it->second : pooled_[scorer];
}

void DecisionCalibration::write(FileStorage& fs) const
{
    // the pooled calibrations where earlier models kept their only one
    for (int scorer = 0; scorer < SCORERS; scorer++)
        if (pooled_[scorer].valid())
        {
            fs << kScorerKeys[scorer] << "{";
            pooled_[scorer].write(fs);
            fs << "}";
        }
    fs << "method" << method_;
    if (classes_.empty())
        return;
    fs << "classes" << "{";
    classes_.write(fs);
    fs << "}" << "per_class" << "[";
    for (int id : classes_.classIds())
    {
        fs << "{" << "class_id" << id;
        for (int scorer = 0; scorer < SCORERS; scorer++)
        {
            const auto it = perClass_[scorer].find(id);
            if (it == perClass_[scorer].end())
                continue;
            fs << kScorerKeys[scorer] << "{";
            it->second.write(fs);
            fs << "}";
        }
        fs << "}";
    }
    fs << "]";
}

void DecisionCalibration::read(const FileNode& node, bool withHead, int dims, const String& where)
{
    DecisionCalibration c;
    if (!node.empty())
    {
        for (int scorer = 0; scorer < (withHead ? 2 : 1); scorer++)
            c.pooled_[scorer].read(node[kScorerKeys[scorer]], where);
        if (!node["method"].empty())
            c.method_ = persistence::readString(node, "method", where);
        c.classes_.read(node["classes"], dims, where + " classes");
        const FileNode perClass = node["per_class"];
        if (!c.classes_.empty() && !perClass.empty())
        {
            if (!perClass.isSeq())
                CV_Error(Error::StsParseError, cv::format("dmad: %s: per_class is not a list", where.c_str()));
            const std::vector<int>& ids = c.classes_.classIds();
            for (const FileNode& entry : perClass)
            {
                const int id = persistence::readInt(entry, "class_id", where);
                if (!std::binary_search(ids.begin(), ids.end(), id))
                    CV_Error(Error::StsParseError, cv::format("dmad: %s: calibration of unknown class %d",
                                                              where.c_str(), id));
                for (int scorer = 0; scorer < (withHead ? 2 : 1); scorer++)
                {
                    ScoreCalibration s;
                    s.read(entry[kScorerKeys[scorer]], where);
                    if (s.valid())
                        c.perClass_[scorer][id] = s;
                }
            }
        }
    }
    *this = c;
}

}} // namespace cv::dmad

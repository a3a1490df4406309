// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "scoring/score_fusion.hpp"
#include "scoring/score_calibration.hpp"
#include "io/persistence.hpp"

#include <algorithm>
#include <cmath>

namespace cv {
namespace dmad {

namespace {

//! Median and spread (kSpreadQuantile quantile - median); the spread is kept positive so that
//! identical scores still standardise.
void medianAndSpread(const std::vector<float>& v, double& median, double& spread)
{
    median = linearQuantile(v, 0.5);
    spread = std::max(linearQuantile(v, ScoreFusion::kSpreadQuantile) - median, 1e-6 * std::max(1.0, std::abs(median)));
}

bool validWeight(double w)
{
    return w >= 0 && w <= ScoreFusion::kMaxHeadWeight;
}

bool validLimit(double limit)
{
    return limit >= 0 && limit <= ScoreFusion::kMaxHeadLimit;
}

} // namespace

ScoreFusion::Standardisation ScoreFusion::fit(const std::vector<float>& distances, const std::vector<float>& headScores)
{
    Standardisation s;
    medianAndSpread(distances, s.distanceMedian, s.distanceSpread);
    medianAndSpread(headScores, s.headMedian, s.headSpread);
    return s;
}

ScoreFusion::ScoreFusion(const std::vector<float>& distances, const std::vector<float>& headScores,
                         const std::vector<int>& classIds, double headWeight, ClassSource source)
    : source_(source)
{
    CV_Assert(!distances.empty() && distances.size() == headScores.size() && distances.size() == classIds.size());
    for (size_t i = 0; i < distances.size(); i++)
        CV_Assert(std::isfinite(distances[i]) && std::isfinite(headScores[i]));
    if (!validWeight(headWeight))
        CV_Error(Error::StsBadArg, cv::format("dmad: head weight %g must be in [0, %g]", headWeight, kMaxHeadWeight));
    pooled_ = fit(distances, headScores);
    std::map<int, std::pair<std::vector<float>, std::vector<float>>> byClass;
    for (size_t i = 0; i < distances.size(); i++)
        if (classIds[i] >= 0)
        {
            byClass[classIds[i]].first.push_back(distances[i]);
            byClass[classIds[i]].second.push_back(headScores[i]);
        }
    for (const auto& c : byClass)
        if ((int)c.second.first.size() >= kMinClassPatches)
            perClass_[c.first] = fit(c.second.first, c.second.second);
    weight_ = headWeight;
    fitted_ = true;
}

const ScoreFusion::Standardisation& ScoreFusion::forClass(int classId) const
{
    const auto it = perClass_.find(classId);
    return it == perClass_.end() ? pooled_ : it->second;
}

double ScoreFusion::headWeight(int classId) const
{
    const auto it = classWeights_.find(classId);
    return it == classWeights_.end() ? weight_ : it->second;
}

void ScoreFusion::setClassHeadWeight(int classId, double w)
{
    CV_Assert(fitted_);
    if (classId < -1 || !validWeight(w))
        CV_Error(Error::StsBadArg, cv::format("dmad: head weight %g of class %d: the weight must be in [0, %g] and "
                                              "the class id >= -1", w, classId, kMaxHeadWeight));
    classWeights_[classId] = w;
}

void ScoreFusion::setHeadLimit(double limit)
{
    CV_Assert(fitted_);
    if (!validLimit(limit))
        CV_Error(Error::StsBadArg, cv::format("dmad: head limit %g must be in [0, %g] (0: none)", limit, kMaxHeadLimit));
    limit_ = limit;
}

void ScoreFusion::combine(const Mat& distances, const Mat& headScores, const Mat& classIds, Mat& scores) const
{
    CV_Assert(fitted_);
    const int n = (int)distances.total();
    CV_Assert(distances.type() == CV_32F && headScores.type() == CV_32F && classIds.type() == CV_32S);
    CV_Assert((int)headScores.total() == n && (int)classIds.total() == n);
    CV_Assert(distances.isContinuous() && headScores.isContinuous() && classIds.isContinuous());
    Mat out(n, 1, CV_32F);
    const float* d = distances.ptr<float>();
    const float* h = headScores.ptr<float>();
    const int* c = classIds.ptr<int>();
    for (int i = 0; i < n; i++)
    {
        const Standardisation& s = forClass(c[i]);
        double vote = headWeight(c[i]) * ((double)h[i] - s.headMedian) / s.headSpread;
        if (limit_ > 0)
            vote = std::min(vote, limit_);
        const double v = ((double)d[i] - s.distanceMedian) / s.distanceSpread + vote;
        // a damaged standardisation that still parses must not turn into an infinite score
        if (!(std::abs(v) <= (double)FLT_MAX))
            CV_Error(Error::StsError, "dmad: the score fusion gave a non-finite score (damaged standardisation?)");
        out.at<float>(i) = (float)v;
    }
    scores = out;
}

ScoreFusion ScoreFusion::withHeadRecentred(const std::vector<float>& before, const std::vector<float>& after,
                                           const std::vector<int>& classIds) const
{
    CV_Assert(fitted_ && !before.empty() && before.size() == after.size() && before.size() == classIds.size());
    // (after - m') / s' must have the median and spread that (before - m) / s had:
    // s' = s * spread(after) / spread(before), m' = median(after) - s' (median(before) - m) / s
    auto moved = [](const Standardisation& st, const std::vector<float>& b, const std::vector<float>& a) {
        double mb, sb, ma, sa;
        medianAndSpread(b, mb, sb);
        medianAndSpread(a, ma, sa);
        Standardisation out = st;
        out.headSpread = st.headSpread * sa / sb;
        out.headMedian = ma - out.headSpread * (mb - st.headMedian) / st.headSpread;
        return out;
    };
    ScoreFusion f = *this;
    // the pooled standardisation serves the patches without one of their own: moved by those
    // where there are enough of them, else by all
    std::vector<float> pooledBefore, pooledAfter;
    for (size_t i = 0; i < classIds.size(); i++)
        if (!perClass_.count(classIds[i]))
        {
            pooledBefore.push_back(before[i]);
            pooledAfter.push_back(after[i]);
        }
    f.pooled_ = (int)pooledBefore.size() >= kMinRecentrePatches ? moved(pooled_, pooledBefore, pooledAfter)
                                                                 : moved(pooled_, before, after);
    for (auto& c : f.perClass_)
    {
        std::vector<float> b, a;
        for (size_t i = 0; i < classIds.size(); i++)
            if (classIds[i] == c.first)
            {
                b.push_back(before[i]);
                a.push_back(after[i]);
            }
        if ((int)b.size() >= kMinRecentrePatches)
            c.second = moved(c.second, b, a);
        else
        {
            // the pooled shift, applied to the class's own standardisation
            const double ratio = f.pooled_.headSpread / pooled_.headSpread;
            const double shift = f.pooled_.headMedian - pooled_.headMedian * ratio;
            c.second.headSpread *= ratio;
            c.second.headMedian = c.second.headMedian * ratio + shift;
        }
    }
    return f;
}

void ScoreFusion::writeOne(FileStorage& fs, const Standardisation& s)
{
    fs << "distance_median" << s.distanceMedian << "distance_spread" << s.distanceSpread << "head_median"
       << s.headMedian << "head_spread" << s.headSpread;
}

ScoreFusion::Standardisation ScoreFusion::readOne(const FileNode& node, const String& where)
{
    Standardisation s;
    s.distanceMedian = persistence::readReal(node, "distance_median", where);
    s.distanceSpread = persistence::readReal(node, "distance_spread", where);
    s.headMedian = persistence::readReal(node, "head_median", where);
    s.headSpread = persistence::readReal(node, "head_spread", where);
    const bool finite = std::isfinite(s.distanceMedian) && std::isfinite(s.headMedian) &&
                        std::isfinite(s.distanceSpread) && std::isfinite(s.headSpread);
    if (!finite || !(s.distanceSpread > 0) || !(s.headSpread > 0))
        CV_Error(Error::StsParseError, cv::format("dmad: %s: invalid score standardisation", where.c_str()));
    return s;
}

void ScoreFusion::write(FileStorage& fs) const
{
    fs << "class_source" << (source_ == CLASS_OF_IMAGE ? "image" : "nearest_entry");
    fs << "head_weight" << weight_ << "pooled" << "{";
    writeOne(fs, pooled_);
    fs << "}";
    // an empty sequence does not read back as one in every format: absent means empty
    if (!perClass_.empty())
    {
        fs << "classes" << "[";
        for (const auto& c : perClass_)
        {
            fs << "{" << "class_id" << c.first;
            writeOne(fs, c.second);
            fs << "}";
        }
        fs << "]";
    }
    if (!classWeights_.empty())
    {
        fs << "class_head_weights" << "[";
        for (const auto& c : classWeights_)
            fs << "{" << "class_id" << c.first << "head_weight" << c.second << "}";
        fs << "]";
    }
    if (limit_ > 0)
        fs << "head_limit" << limit_;
}

void ScoreFusion::read(const FileNode& node, const String& where)
{
    *this = ScoreFusion();
    if (node.empty())
        return;
    ScoreFusion f;
    // models fitted before the image's class have no class_source
    f.source_ = CLASS_OF_NEAREST_ENTRY;
    if (!node["class_source"].empty())
    {
        const String source = persistence::readString(node, "class_source", where);
        if (source != "image" && source != "nearest_entry")
            CV_Error(Error::StsParseError, cv::format("dmad: %s: unknown class_source '%s'", where.c_str(),
                                                      source.c_str()));
        f.source_ = source == "image" ? CLASS_OF_IMAGE : CLASS_OF_NEAREST_ENTRY;
    }
    f.weight_ = persistence::readReal(node, "head_weight", where);
    if (!validWeight(f.weight_))
        CV_Error(Error::StsParseError, cv::format("dmad: %s: invalid head_weight", where.c_str()));
    f.pooled_ = readOne(node["pooled"], where + " pooled");
    const FileNode classes = node["classes"];
    if (!classes.empty() && !classes.isSeq())
        CV_Error(Error::StsParseError, cv::format("dmad: %s: 'classes' is not a sequence", where.c_str()));
    for (FileNodeIterator it = classes.begin(); it != classes.end(); ++it)
    {
        const int id = persistence::readInt(*it, "class_id", where + " classes");
        if (id < 0 || f.perClass_.count(id))
            CV_Error(Error::StsParseError, cv::format("dmad: %s: invalid or repeated class_id %d", where.c_str(), id));
        f.perClass_[id] = readOne(*it, where + " classes");
    }
    // models saved before per-class weights have none
    const FileNode weights = node["class_head_weights"];
    if (!weights.empty() && !weights.isSeq())
        CV_Error(Error::StsParseError, cv::format("dmad: %s: 'class_head_weights' is not a sequence", where.c_str()));
    for (FileNodeIterator it = weights.begin(); it != weights.end(); ++it)
    {
        const int id = persistence::readInt(*it, "class_id", where + " class_head_weights");
        const double w = persistence::readReal(*it, "head_weight", where + " class_head_weights");
        if (id < -1 || f.classWeights_.count(id) || !validWeight(w))
            CV_Error(Error::StsParseError, cv::format("dmad: %s: invalid or repeated class head weight (class %d, %g)",
                                                      where.c_str(), id, w));
        f.classWeights_[id] = w;
    }
    // models fitted before the limit have none
    if (!node["head_limit"].empty())
    {
        f.limit_ = persistence::readReal(node, "head_limit", where);
        if (!validLimit(f.limit_))
            CV_Error(Error::StsParseError, cv::format("dmad: %s: invalid head_limit", where.c_str()));
    }
    f.fitted_ = true;
    *this = f;
}

}} // namespace cv::dmad

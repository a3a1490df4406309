// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Several scoring heads (DMAD::Params::scoringHeads): the ensemble's score is the mean of its
// members', recomputed here from each member's enhancement and head; its file form; a model's
// first member is the model of one head trained with the same seed, and its head-only patch scores
// are the mean of its members' scores on the features and bank neighbours found here.

#include "test_precomp.hpp"
#include "test_tiny_model.hpp"
#include "scoring/scoring_ensemble.hpp"

namespace opencv_test { namespace {

using cv::dmad::ScoringEnsemble;

ScoringEnsemble::Member freshMember(int D, int seed)
{
    KnowledgeEnhancement::Params ep;
    ep.featureDims = D;
    ep.distances = true;
    ep.seed = seed;
    ScoringEnsemble::Member m;
    m.enhancement = KnowledgeEnhancement::create(ep);
    ScoringHead::Params hp;
    hp.inputDims = m.enhancement->representationDims();
    hp.hiddenDims = 16;
    hp.seed = seed;
    m.head = ScoringHead::create(hp);
    return m;
}

Mat memberScores(const ScoringEnsemble::Member& m, const Mat& q, const Mat& n, const Mat& a)
{
    Mat representation, scores;
    m.enhancement->compute(q, n, a, representation);
    m.head->compute(representation, scores);
    return scores;
}

TEST(DMAD_ScoringEnsemble, scores_are_the_mean_of_the_members)
{
    const int D = 12, n = 40;
    RNG rng(11);
    Mat q(n, D, CV_32F), normal(n, D, CV_32F), abnormal(n, D, CV_32F);
    rng.fill(q, RNG::NORMAL, 0, 1);
    rng.fill(normal, RNG::NORMAL, 0, 1);
    rng.fill(abnormal, RNG::NORMAL, 0, 2);
    ScoringEnsemble ensemble;
    std::vector<Mat> each;
    for (int seed : { 1, 2, 3 })
    {
        const ScoringEnsemble::Member m = freshMember(D, seed);
        ensemble.add(m.enhancement, m.head);
        each.push_back(memberScores(m, q, normal, abnormal));
    }
    Mat scores;
    ensemble.compute(q, normal, abnormal, scores);
    ASSERT_EQ(n, scores.rows);
    double spread = 0;
    for (int i = 0; i < n; i++)
    {
        const double mean = (each[0].at<float>(i) + each[1].at<float>(i) + each[2].at<float>(i)) / 3.0;
        EXPECT_NEAR(mean, scores.at<float>(i), 1e-5 * (1 + std::abs(mean))) << i;
        spread = std::max(spread, (double)std::abs(each[0].at<float>(i) - each[1].at<float>(i)));
    }
    EXPECT_GT(spread, 1e-3) << "members of different seeds must score differently";

    // one member scores as that member does
    ScoringEnsemble single;
    single.add(ensemble.member(1).enhancement, ensemble.member(1).head);
    single.compute(q, normal, abnormal, scores);
    EXPECT_EQ(0, cv::norm(scores, each[1], NORM_INF));

    // the file form: member 0 under the names of a model of one head, the others numbered
    const String text = writtenAsNode(ensemble, "model");
    FileStorage in(text, FileStorage::READ | FileStorage::MEMORY);
    const FileNode node = in["model"];
    for (const char* name : { "knowledge_enhancement", "scoring_head", "knowledge_enhancement_1", "scoring_head_2" })
        EXPECT_FALSE(node[name].empty()) << name;
    EXPECT_TRUE(node["knowledge_enhancement_3"].empty());
    ScoringEnsemble back;
    back.read(node, 3, D, "test");
    ASSERT_EQ(3, back.size());
    Mat backScores, expected;
    back.compute(q, normal, abnormal, backScores);
    ensemble.compute(q, normal, abnormal, expected);
    EXPECT_EQ(0, cv::norm(backScores, expected, NORM_INF));

    // a clone scores alike from copies of its own
    const ScoringEnsemble copy = ensemble.clone();
    ASSERT_EQ(3, copy.size());
    EXPECT_NE(copy.member(2).head.get(), ensemble.member(2).head.get());
    copy.compute(q, normal, abnormal, backScores);
    EXPECT_EQ(0, cv::norm(backScores, expected, NORM_INF));

    // a missing member or other dims are refused, and the ensemble read into stays as it was
    EXPECT_CV_ERROR(back.read(node, 4, D, "test"), "knowledge_enhancement_3");
    EXPECT_CV_ERROR(back.read(node, 3, D + 1, "test"), "dims do not match");
    EXPECT_EQ(3, back.size());
}

TEST(DMAD_ScoringEnsemble, member_seeds)
{
    EXPECT_EQ(7, ScoringEnsemble::memberSeed(7, 0));
    std::set<int> seeds;
    for (int member = 0; member < 16; member++)
        seeds.insert(ScoringEnsemble::memberSeed(7, member));
    EXPECT_EQ(16u, seeds.size());
    // no overflow trap near the int range's end
    EXPECT_NE(ScoringEnsemble::memberSeed(INT_MAX, 1), ScoringEnsemble::memberSeed(INT_MAX, 2));
}

//! The algorithm of node `name` of a model's write() form.
template <typename T>
Ptr<T> partOf(const DMAD& model, const char* name, const Ptr<T>& shell)
{
    FileStorage in(writtenAsNode(model, "model"), FileStorage::READ | FileStorage::MEMORY);
    const FileNode node = in["model"][name];
    if (node.empty())
        return Ptr<T>();
    shell->read(node);
    return shell;
}

Ptr<KnowledgeEnhancement> enhancementOf(const DMAD& model, const char* name)
{
    KnowledgeEnhancement::Params shell;
    shell.featureDims = 1;
    return partOf(model, name, KnowledgeEnhancement::create(shell));
}

Ptr<ScoringHead> headOf(const DMAD& model, const char* name)
{
    ScoringHead::Params shell;
    shell.inputDims = shell.hiddenDims = 1;
    return partOf(model, name, ScoringHead::create(shell));
}

//! Rows of the nearest entry of `bank` to each row of `q` (k = 1).
Mat nearestRows(const MemoryBank& bank, const Mat& q)
{
    Mat d, idx;
    bank.search(q, 1, d, idx);
    Mat rows(q.rows, bank.dims(), CV_32F);
    const Mat features = bank.getFeatures();
    for (int i = 0; i < q.rows; i++)
        features.row(idx.at<int>(i)).copyTo(rows.row(i));
    return rows;
}

TEST(DMAD_ScoringEnsemble, a_model_scores_with_the_mean_of_its_heads)
{
    const MicroDataset data;
    DMAD::Params p = microParams();
    p.calibrationImages = 0;
    p.scoreMode = DMAD::SCORE_HEAD;
    p.scoringHeads = 1;
    Ptr<DMAD> one = DMAD::create(p);
    one->train(data.normal, data.anomalous, data.masks);
    p.scoringHeads = 3;
    Ptr<DMAD> three = DMAD::create(p);
    three->train(data.normal, data.anomalous, data.masks);

    // member 0 is the model of one head: same seed, same patches
    EXPECT_EQ(writtenAsNode(*one->getScoringHead(), "a"), writtenAsNode(*three->getScoringHead(), "a"));
    EXPECT_EQ(writtenAsNode(*one->getKnowledgeEnhancement(), "a"),
              writtenAsNode(*three->getKnowledgeEnhancement(), "a"));
    EXPECT_TRUE(enhancementOf(*one, "knowledge_enhancement_1").empty());
    ASSERT_FALSE(enhancementOf(*three, "knowledge_enhancement_2").empty());
    EXPECT_TRUE(enhancementOf(*three, "knowledge_enhancement_3").empty());

    // the head-only patch scores, recomputed from the backbone's features, both banks' nearest
    // entries and each member read from the model's file form
    const Ptr<MemoryBank> normalBank = three->getMemoryBanks()->getNormalBank();
    const Ptr<MemoryBank> abnormalBank = three->getMemoryBanks()->getAbnormalBank();
    std::vector<ScoringEnsemble::Member> members;
    for (const char* suffix : { "", "_1", "_2" })
    {
        ScoringEnsemble::Member m;
        m.enhancement = enhancementOf(*three, (String("knowledge_enhancement") + suffix).c_str());
        m.head = headOf(*three, (String("scoring_head") + suffix).c_str());
        members.push_back(m);
    }
    for (const Mat& image : data.testImages)
    {
        Mat features, scores;
        Size grid;
        three->getFeatureExtractor()->extract(image, features, grid);
        features *= three->getFeatureScale();
        const Mat n = nearestRows(*normalBank, features), a = nearestRows(*abnormalBank, features);
        Mat mean = Mat::zeros(features.rows, 1, CV_32F);
        for (const ScoringEnsemble::Member& m : members)
            mean += memberScores(m, features, n, a) / 3.0;
        three->computePatchScores(image, scores);
        ASSERT_EQ(features.rows, (int)scores.total());
        EXPECT_LE(cv::norm(scores.reshape(1, features.rows), mean, NORM_INF),
                  1e-5 * (1 + cv::norm(mean, NORM_INF)));
    }

    // save and load keep every member
    const String path = cv::tempfile(".yml.gz");
    three->save(path);
    const Ptr<DMAD> loaded = DMAD::load(path);
    std::remove(path.c_str());
    EXPECT_EQ(3, loaded->getParams().scoringHeads);
    EXPECT_EQ(scoresOf(*three, data.testImages), scoresOf(*loaded, data.testImages));
}

TEST(DMAD_ScoringEnsemble, bad_parameters)
{
    DMAD::Params p = microParams();
    for (int heads : { 0, -1, 17 })
    {
        p.scoringHeads = heads;
        EXPECT_CV_ERROR(DMAD::create(p), cv::format("scoringHeads %d must be in [1, 16]", heads));
    }
}

}} // namespace opencv_test

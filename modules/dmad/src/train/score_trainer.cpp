// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "train/score_trainer.hpp"
#include "train/hinge_loss.hpp"
#include "train/validation.hpp"
#include "io/progress.hpp"
#include "synthesis/synthesis_utils.hpp"

namespace cv {
namespace dmad {

typedef nn::Matrix<float> Matrix;

void gatherPatches(const TrainingPatches& pool, const std::vector<int>& order, size_t first, int count,
                   const Mat& normalBank, const Mat& abnormalBank, Matrix& q, Matrix& normal, Matrix& abnormal)
{
    const int D = pool.features.cols, k = pool.normalNeighbours.cols;
    q.resize(count, D);
    normal.resize(count, (Eigen::Index)k * D);
    abnormal.resize(count, (Eigen::Index)k * D);
    parallel_for_(Range(0, count), [&](const Range& r) {
        for (int i = r.start; i < r.end; i++)
        {
            const int row = order[(first + i) % order.size()];
            std::copy_n(pool.features.ptr<float>(row), D, q.row(i).data());
            for (int j = 0; j < k; j++)
            {
                const int n = pool.normalNeighbours.at<int>(row, j), a = pool.abnormalNeighbours.at<int>(row, j);
                CV_DbgAssert(n >= 0 && a >= 0);
                std::copy_n(normalBank.ptr<float>(n), D, normal.row(i).data() + (size_t)j * D);
                std::copy_n(abnormalBank.ptr<float>(a), D, abnormal.row(i).data() + (size_t)j * D);
            }
        }
    });
}

namespace {

//! " 0.9312 0.9348 ...": the values to 4 decimals.
String listed(const std::vector<double>& values)
{
    String out;
    for (double v : values)
        out += cv::format(" %.4f", v);
    return out;
}

//! top = [top's first `keep` rows; extra].
void appendRows(Matrix& top, const Matrix& extra, int keep)
{
    Matrix joined(keep + extra.rows(), extra.cols());
    if (keep)
        joined.topRows(keep) = top.topRows(keep);
    joined.bottomRows(extra.rows()) = extra;
    top.swap(joined);
}

} // namespace

TrainingOutcome ScoreTrainer::train(nn::EnhancementNetwork<float>& enhancement, nn::ScoringNetwork<float>& head,
                                    const TrainingPatches& normal, const TrainingPatches& annotated,
                                    const Mat& normalBank, const Mat& abnormalBank, const TrainingPatches& synthetic,
                                    const ValidationPatches& validation) const
{
    CV_TRACE_FUNCTION();
    const DMAD::TrainingParams& s = params_;
    // anomaly patches per step, annotated and synthetic alike (cycled)
    const int anomalyBatchPatches = std::max(1, s.batchPatches / 16);
    CV_Assert(normal.size() > 1 && s.epochs >= 1 && s.batchPatches >= 2);
    const int D = enhancement.dims;
    RNG rng((uint64)(int64)seed_ * 0x2545F4914F6CDD1DULL + 7);

    nn::Adam<float> headOptimizer, adaptorOptimizer, enhancementOptimizer;
    headOptimizer.learningRate = s.headLearningRate;
    headOptimizer.weightDecay = s.headWeightDecay;
    adaptorOptimizer.learningRate = s.adaptorLearningRate;
    adaptorOptimizer.weightDecay = s.adaptorWeightDecay;
    adaptorOptimizer.decoupledWeightDecay = true;
    enhancementOptimizer.learningRate = s.enhancementLearningRate;
    enhancementOptimizer.weightDecay = s.enhancementWeightDecay;
    enhancementOptimizer.decoupledWeightDecay = true;
    const std::vector<nn::Parameter<float>*> headParams = head.parameters();
    const std::vector<nn::Parameter<float>*> adaptorParams = enhancement.adaptorParameters();
    const std::vector<nn::Parameter<float>*> enhancementParams = enhancement.enhancementParameters();

    std::vector<int> normalOrder(normal.size()), annotatedOrder(annotated.size());
    for (size_t i = 0; i < normalOrder.size(); i++)
        normalOrder[i] = (int)i;
    for (size_t i = 0; i < annotatedOrder.size(); i++)
        annotatedOrder[i] = (int)i;
    synth::shuffle(annotatedOrder, rng);
    // drawn only when given, so the random sequence of a training without them is unchanged
    std::vector<int> syntheticOrder(synthetic.size());
    for (size_t i = 0; i < syntheticOrder.size(); i++)
        syntheticOrder[i] = (int)i;
    if (!syntheticOrder.empty())
        synth::shuffle(syntheticOrder, rng);

    const int batch = std::min(s.batchPatches, normal.size());
    const int stepsPerEpoch = normal.size() / batch;  // the last partial batch is dropped, as DataLoader(drop_last)
    ProgressReporter progress(task_, (int64)s.epochs * stepsPerEpoch);
    size_t annotatedCursor = 0, syntheticCursor = 0;
    double epochLoss = 0;
    TrainingOutcome outcome;
    // the networks after the best validated epoch (copies: plain values, running statistics included)
    nn::EnhancementNetwork<float> bestEnhancement;
    nn::ScoringNetwork<float> bestHead;
    Matrix qn, nn_, an, qa, na, aa, qs, ns, as, q, nBank, aBank, o, oAll, scores, dScores, dAll, dEnh, noise;
    for (int epoch = 0; epoch < s.epochs; epoch++)
    {
        synth::shuffle(normalOrder, rng);
        epochLoss = 0;
        for (int step = 0; step < stepsPerEpoch; step++)
        {
            gatherPatches(normal, normalOrder, (size_t)step * batch, batch, normalBank, abnormalBank, qn, nn_, an);
            int nA = 0;
            if (annotated.size() > 0)
            {
                nA = std::min(anomalyBatchPatches, annotated.size());
                gatherPatches(annotated, annotatedOrder, annotatedCursor, nA, normalBank, abnormalBank, qa, na, aa);
                annotatedCursor = (annotatedCursor + nA) % annotatedOrder.size();
            }
            const int nAnnotated = nA;
            int nSynthetic = 0;
            if (synthetic.size() > 0)
            {
                // appended below the annotated rows: the rest of the step treats all nA rows alike
                nSynthetic = std::min(anomalyBatchPatches, synthetic.size());
                gatherPatches(synthetic, syntheticOrder, syntheticCursor, nSynthetic, normalBank, abnormalBank, qs, ns, as);
                syntheticCursor = (syntheticCursor + nSynthetic) % syntheticOrder.size();
                appendRows(qa, qs, nAnnotated);
                appendRows(na, ns, nAnnotated);
                appendRows(aa, as, nAnnotated);
                nA += nSynthetic;
            }
            // Gaussian pseudo anomalies: fresh noise each step, on the representation of the normal
            // patches (the reference) or on their features, before the enhancement
            noise.resize(batch, D);
            for (Eigen::Index i = 0; i < noise.size(); i++)
                noise.data()[i] = (float)rng.gaussian(s.noiseStd);
            const bool featureNoise = s.pseudoAnomalies == DMAD::PSEUDO_FEATURE_NOISE;

            // one batch through the enhancement: [normal; (pseudo;) annotated]
            const int enhancedRows = (featureNoise ? 2 * batch : batch) + nA;
            q.resize(enhancedRows, D);
            nBank.resize(enhancedRows, nn_.cols());
            aBank.resize(enhancedRows, an.cols());
            q.topRows(batch) = qn;
            nBank.topRows(batch) = nn_;
            aBank.topRows(batch) = an;
            if (featureNoise)
            {
                // the pseudo anomalies keep their normal patch's neighbours
                q.middleRows(batch, batch) = qn + noise;
                nBank.middleRows(batch, batch) = nn_;
                aBank.middleRows(batch, batch) = an;
            }
            if (nA)
            {
                q.bottomRows(nA) = qa;
                nBank.bottomRows(nA) = na;
                aBank.bottomRows(nA) = aa;
            }
            const Matrix* banks[2] = { &nBank, &aBank };
            nn::EnhancementNetwork<float>::Cache enhancementCache;
            enhancement.forward(q, banks, true, true, o, &enhancementCache);

            // [o_n; o_p; o_a] through the head in one batch, so BatchNorm mixes all three
            if (featureNoise)
                oAll = o;
            else
            {
                oAll.resize(2 * batch + nA, o.cols());
                oAll.topRows(batch) = o.topRows(batch);
                oAll.middleRows(batch, batch) = o.topRows(batch);
                for (int part = 0; part < 3; part++)
                    oAll.block(batch, part * D, batch, D) += noise;
                if (nA)
                    oAll.bottomRows(nA) = o.bottomRows(nA);
            }
            nn::ScoringNetwork<float>::Cache headCache;
            head.forward(oAll, true, true, scores, &headCache);
            const float loss = nn::hingeLoss(scores, batch, batch, nAnnotated, s.margin, anomalyWeight_, dScores,
                                             nSynthetic, s.syntheticWeight);
            epochLoss += loss;

            for (nn::Parameter<float>* p : headParams)
                p->zeroGrad();
            for (nn::Parameter<float>* p : adaptorParams)
                p->zeroGrad();
            for (nn::Parameter<float>* p : enhancementParams)
                p->zeroGrad();
            head.backward(oAll, headCache, dScores, dAll);
            if (featureNoise)
                enhancement.backward(q, banks, enhancementCache, dAll, s.trainEnhancement);
            else
            {
                // o_p = o_n + noise, so o_n receives the gradients of both
                dEnh.resize(batch + nA, o.cols());
                dEnh.topRows(batch) = dAll.topRows(batch) + dAll.middleRows(batch, batch);
                if (nA)
                    dEnh.bottomRows(nA) = dAll.bottomRows(nA);
                enhancement.backward(q, banks, enhancementCache, dEnh, s.trainEnhancement);
            }

            headOptimizer.step(headParams);
            adaptorOptimizer.step(adaptorParams);
            if (s.trainEnhancement)
                enhancementOptimizer.step(enhancementParams);
            progress.advance(1, cv::format("epoch %d/%d, loss %.4f", epoch + 1, s.epochs, epochLoss / (step + 1)) +
                                    (outcome.validationAUROC.empty()
                                         ? String()
                                         : cv::format(", last validation AUROC %.4f", outcome.validationAUROC.back())));
        }
        epochLoss /= std::max(1, stepsPerEpoch);
        if (!std::isfinite(epochLoss))
            CV_Error(Error::StsError, cv::format("dmad: training diverged (loss %g in epoch %d)", epochLoss, epoch + 1));
        outcome.lastLoss = epochLoss;
        if (validation.empty())
        {
            outcome.keptEpoch = epoch + 1;
            continue;
        }
        const double auroc = validationAUROC(enhancement, head, validation, normalBank, abnormalBank);
        outcome.validationAUROC.push_back(auroc);
        if (outcome.keptEpoch == 0 || auroc >= outcome.validationAUROC[outcome.keptEpoch - 1])
        {
            outcome.keptEpoch = epoch + 1;
            bestEnhancement = enhancement;
            bestHead = head;
        }
    }
    if (outcome.keptEpoch < s.epochs)
    {
        enhancement = bestEnhancement;
        head = bestHead;
    }
    progress.finish(validation.empty()
                        ? cv::format("%d epochs, last loss %.4f", s.epochs, epochLoss)
                        : cv::format("%d epochs, last loss %.4f, kept epoch %d (validation AUROC %.4f; by epoch:%s)",
                                     s.epochs, epochLoss, outcome.keptEpoch,
                                     outcome.validationAUROC[outcome.keptEpoch - 1], listed(outcome.validationAUROC).c_str()));
    return outcome;
}

}} // namespace cv::dmad

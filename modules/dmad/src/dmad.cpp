// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// DMAD: image -> patch features -> normal and abnormal bank look-ups -> enhanced representation ->
// patch scores -> anomaly map. This file wires the parts together; each part lives in its own file.

#include "precomp.hpp"
#include "scoring/anomaly_map.hpp"
#include "scoring/decision_calibration.hpp"
#include "scoring/score_fusion.hpp"
#include "scoring/scoring_ensemble.hpp"
#include "synthesis/synthesis_utils.hpp"
#include "io/progress.hpp"
#include "io/model_persistence.hpp"
#include "nn/network_access.hpp"
#include "io/persistence.hpp"
#include "dmad_params.hpp"
#include "io/file_lookup.hpp"
#include "train/image_source.hpp"
#include "train/training_pools.hpp"
#include "train/training_sources.hpp"
#include "train/validation.hpp"

#include <opencv2/imgcodecs.hpp>

#include <limits>
#include <set>


namespace cv {
namespace dmad {

static const char* const kModelClass = "DMAD";
static const char* const kModelNode = "opencv_dmad_DMAD";
static const char* const kExtractorNode = "feature_extractor";
static const char* const kBanksNode = "memory_banks";
static const char* const kUpdateSampleNode = "update_sample";

namespace {

double elapsedMs(int64 since)
{
    return 1000.0 * (double)(getTickCount() - since) / getTickFrequency();
}

} // namespace

// ---------------------------------------------------------------------------------------------
// DMADImpl

class DMADImpl CV_FINAL : public DMAD
{
public:
    explicit DMADImpl(const Params& params) : params_(params) { validateParams(params); }

    void train(InputArrayOfArrays normalImages, InputArrayOfArrays anomalousImages, InputArrayOfArrays anomalyMasks,
               const std::vector<int>& classIds) CV_OVERRIDE
    {
        trainFrom(ImageSource(normalImages), ImageSource(anomalousImages), ImageSource(anomalyMasks), classIds);
    }

    void update(InputArrayOfArrays anomalousImages, InputArrayOfArrays anomalyMasks,
                const std::vector<int>& classIds) CV_OVERRIDE
    {
        updateWith(ImageSource(anomalousImages), ImageSource(anomalyMasks), classIds);
    }

    void trainFromFiles(const std::vector<String>& normalFiles, const std::vector<String>& anomalousFiles,
                        const std::vector<String>& maskFiles, const std::vector<int>& classIds) CV_OVERRIDE
    {
        trainFrom(ImageSource(normalFiles), ImageSource(anomalousFiles), ImageSource(maskFiles), classIds);
    }

    void predict(InputArray image, float& score, OutputArray anomalyMap) const CV_OVERRIDE
    {
        CV_TRACE_FUNCTION();
        const Mat img = image.getMat();
        Mat patchScores;
        computePatchScores(img, patchScores);
        double maxScore;
        minMaxLoc(patchScores, nullptr, &maxScore);
        score = (float)maxScore;
        if (anomalyMap.needed())
        {
            const int64 start = getTickCount();
            Mat map;
            anomalyMapOf(patchScores, img.size(), map);
            map.copyTo(anomalyMap);
            addTiming(0, 0, 0, 0, elapsedMs(start));
        }
    }

    void predictBatch(InputArrayOfArrays images, OutputArray scores, OutputArrayOfArrays anomalyMaps) const CV_OVERRIDE
    {
        CV_TRACE_FUNCTION();
        std::vector<Mat> imgs;
        images.getMatVector(imgs);
        if (imgs.empty())
            CV_Error(Error::StsBadArg, "dmad: predictBatch got no images");
        requireTrained();
        Mat features;
        Size grid;
        const int64 start = getTickCount();
        extractor_->extractBatch(imgs, features, grid);
        features *= featureScale_;
        addTiming((double)imgs.size(), elapsedMs(start), 0, 0, 0);
        const int cells = grid.area();
        Mat all;
        scorePatches(features, cells, all);
        const int64 mapStart = getTickCount();
        Mat out((int)imgs.size(), 1, CV_32F);
        std::vector<Mat> maps;
        for (size_t i = 0; i < imgs.size(); i++)
        {
            const Mat patchScores = all.rowRange((int)i * cells, (int)(i + 1) * cells).reshape(1, grid.height);
            double maxScore;
            minMaxLoc(patchScores, nullptr, &maxScore);
            out.at<float>((int)i) = (float)maxScore;
            if (anomalyMaps.needed())
            {
                Mat map;
                anomalyMapOf(patchScores.clone(), imgs[i].size(), map);
                maps.push_back(map);
            }
        }
        out.copyTo(scores);
        if (anomalyMaps.needed())
        {
            anomalyMaps.create((int)maps.size(), 1, CV_32F);
            for (size_t i = 0; i < maps.size(); i++)
            {
                anomalyMaps.create(maps[i].size(), CV_32F, (int)i, true);
                maps[i].copyTo(anomalyMaps.getMat((int)i));
            }
            addTiming(0, 0, 0, 0, elapsedMs(mapStart));
        }
    }

    void computePatchScores(InputArray image, OutputArray patchScores) const CV_OVERRIDE
    {
        requireTrained();
        Mat features, scores;
        const Size grid = extractFeatures(image, features);
        scorePatches(features, features.rows, scores);
        scores.reshape(1, grid.height).copyTo(patchScores);
    }

    //! The image's patch features, scaled as the banks' (timed); returns the grid.
    Size extractFeatures(InputArray image, Mat& features) const
    {
        Size grid;
        const int64 start = getTickCount();
        extractor_->extract(image, features, grid);
        features *= featureScale_;
        addTiming(1, elapsedMs(start), 0, 0, 0);
        return grid;
    }

    Params getParams() const CV_OVERRIDE { return params_; }

    double getFeatureScale() const CV_OVERRIDE { return featureScale_; }

    Timings getTimings() const CV_OVERRIDE
    {
        std::lock_guard<std::mutex> lock(timingMutex_);
        return timings_;
    }

    void resetTimings() CV_OVERRIDE
    {
        std::lock_guard<std::mutex> lock(timingMutex_);
        timings_ = Timings();
    }

    void setScorer(int scorer) CV_OVERRIDE
    {
        if (scorer != SCORER_DMAD && scorer != SCORER_PATCHCORE)
            CV_Error(Error::StsBadArg, cv::format("dmad: unknown scorer %d", scorer));
        if (scorer == SCORER_DMAD && banks_ && scorers_.empty())
            CV_Error(Error::StsError, "dmad: this model was trained for the PatchCore scorer only (no DMAD head)");
        params_.scorer = scorer;
    }

    double getDecisionThreshold(int classId) const CV_OVERRIDE
    {
        const ScoreCalibration& c = calibration(classId);
        return c.valid() ? c.threshold() : std::numeric_limits<double>::quiet_NaN();
    }

    float normalizeScore(float score, int classId) const CV_OVERRIDE
    {
        const ScoreCalibration& c = calibration(classId);
        if (!c.valid())
            CV_Error(Error::StsError, "dmad: the model has no calibrated threshold (trained with calibrationImages 0, "
                                      "or saved before calibration): give a threshold");
        return (float)c.normalize(score);
    }

    Inspection inspect(InputArray image, OutputArray anomalyMap) const CV_OVERRIDE
    {
        CV_TRACE_FUNCTION();
        requireTrained();
        const Mat img = image.getMat();
        Mat features, patchScores;
        const Size grid = extractFeatures(img, features);
        Inspection result;
        result.classId = calibration_.classes().identify(features);
        // the class found here is the one the fusion standardises the patches by: found once
        scorePatches(features, features.rows, params_.scorer, patchScores, -1, &result.classId);
        double maxScore;
        minMaxLoc(patchScores, nullptr, &maxScore);
        result.score = (float)maxScore;
        const ScoreCalibration& c = calibration(result.classId);
        if (c.valid())
        {
            result.threshold = c.threshold();
            result.normalizedScore = (float)c.normalize(result.score);
            result.anomalous = result.score > result.threshold;
        }
        if (anomalyMap.needed())
        {
            const int64 mapStart = getTickCount();
            Mat map;
            anomalyMapOf(patchScores.reshape(1, grid.height), img.size(), map);
            map.copyTo(anomalyMap);
            addTiming(0, 0, 0, 0, elapsedMs(mapStart));
        }
        return result;
    }

    Ptr<FeatureExtractor> getFeatureExtractor() const CV_OVERRIDE { return extractor_; }
    Ptr<DualMemoryBank> getMemoryBanks() const CV_OVERRIDE { return banks_; }
    Ptr<KnowledgeEnhancement> getKnowledgeEnhancement() const CV_OVERRIDE
    {
        return scorers_.empty() ? Ptr<KnowledgeEnhancement>() : scorers_.member(0).enhancement;
    }
    Ptr<ScoringHead> getScoringHead() const CV_OVERRIDE
    {
        return scorers_.empty() ? Ptr<ScoringHead>() : scorers_.member(0).head;
    }

    bool empty() const CV_OVERRIDE { return !banks_ || banks_->empty(); }
    String getDefaultName() const CV_OVERRIDE { return kModelNode; }

    /** The cv::Algorithm form: the whole model inside the current node (summary and every part),
        which read() takes back. save() writes the same parts as top-level nodes instead, so that each
        part's own load(file, name) reads it from a model file. */
    void write(FileStorage& fs) const CV_OVERRIDE
    {
        writeSummary(fs);
        if (!empty())
            writeParts(fs);
    }

    void read(const FileNode& node) CV_OVERRIDE
    {
        if (!node.isMap() || node[kExtractorNode].empty())
            CV_Error(Error::StsParseError, "dmad: the node holds no trained DMAD model (write() of a trained one)");
        readModel(node, node, "DMAD node", String());
    }

    void save(const String& filename) const CV_OVERRIDE
    {
        requireTrained();
        persistence::saveAtomically(filename, [this](FileStorage& fs) {
            fs << kModelNode << "{";
            writeSummary(fs);
            fs << "}";
            writeParts(fs);
        });
        CV_LOG_INFO(NULL, "dmad: model saved to " << filename);
    }

    //! Reads every part of a model file; the backbone file is looked up as saved, then beside the model.
    void load(const String& filename)
    {
        FileStorage fs;
        const FileNode node = persistence::openNode(fs, filename, kModelNode, kModelNode);
        try
        {
            readModel(node, fs.root(), filename, filename);
        }
        catch (const cv::Exception& e)
        {
            if (e.err.find(filename) != String::npos)
                throw;
            CV_Error(e.code, cv::format("%s (in '%s')", e.err.c_str(), filename.c_str()));
        }
    }

private:
    void writeSummary(FileStorage& fs) const
    {
        persistence::writeHeader(fs, kModelClass);
        fs << "grid" << grid_ << "feature_scale" << featureScale_ << "has_head" << (int)!scorers_.empty()
           << "params" << "{";
        params_.write(fs);
        fs << "}";
        if (fusion_.valid())
        {
            fs << "score_fusion" << "{";
            fusion_.write(fs);
            fs << "}";
        }
        // the classes are saved without thresholds too: the fusion standardises by them
        if (calibration_.valid(DecisionCalibration::PATCHCORE) || !calibration_.classes().empty())
        {
            fs << "calibration" << "{";
            calibration_.write(fs);
            fs << "}";
        }
    }

    struct Snapshot
    {
        Size grid;
        double featureScale;
        Ptr<FeatureExtractor> extractor;
        Ptr<DualMemoryBank> banks;
        ScoringEnsemble scorers;
        ScoreFusion fusion;
        DecisionCalibration calibration;
        Ptr<MemoryBank> updateSample;
    };
    Snapshot snapshot() const
    {
        return { grid_, featureScale_, extractor_, banks_, scorers_, fusion_, calibration_, updateSample_ };
    }
    void restore(const Snapshot& s)
    {
        grid_ = s.grid;
        featureScale_ = s.featureScale;
        extractor_ = s.extractor;
        banks_ = s.banks;
        scorers_ = s.scorers;
        fusion_ = s.fusion;
        calibration_ = s.calibration;
        updateSample_ = s.updateSample;
    }

    //! The current scorer's calibration of a class (-1: the pooled one).
    const ScoreCalibration& calibration(int classId) const
    {
        return calibration_.forClass(params_.scorer == SCORER_DMAD ? DecisionCalibration::DMAD
                                                                   : DecisionCalibration::PATCHCORE, classId);
    }

    //! Images a calibration scores, with the bank image id their patches carry (-1: none) and their class.
    struct CalibrationImages
    {
        ImageSource images;
        std::vector<int> bankIds, classIds;
    };

    /** Step 7: each scorer's decision threshold and normalisation, per class, from images scored by
        the trained model (its members set) with their own patches left out of both banks: normal
        training images (leave-one-image-out) or held-out ones, and the annotated anomalies. The
        head did fit on the anomalies' masked patches, so their scores stay optimistic.
        @param heldOutFeatures where given, receives the normal images' patch features */
    void calibrate(const CalibrationImages& normalImages, const CalibrationImages& anomalous,
                   const ClassCentroids& classes, const String& method, Mat* heldOutFeatures = nullptr)
    {
        std::vector<DecisionCalibration::Sample> samples;
        const int scorers[DecisionCalibration::SCORERS] = { SCORER_PATCHCORE, SCORER_DMAD };
        const int used = scorers_.empty() ? 1 : 2;
        ProgressReporter progress("calibrate", normalImages.images.size() + anomalous.images.size());
        for (int set = 0; set < 2; set++)
        {
            const CalibrationImages& c = set == 0 ? normalImages : anomalous;
            for (int i = 0; i < c.images.size(); i++)
            {
                Mat features, scores;
                extractFeatures(c.images.get(i), features);
                if (set == 0 && heldOutFeatures)
                    heldOutFeatures->push_back(features);
                DecisionCalibration::Sample sample = { c.classIds.empty() ? -1 : c.classIds[i], set == 1, { 0.f, 0.f } };
                for (int k = 0; k < used; k++)
                {
                    scorePatches(features, features.rows, scorers[k], scores, c.bankIds[i]);
                    double maxScore;
                    minMaxLoc(scores, nullptr, &maxScore);
                    sample.score[k] = (float)maxScore;
                }
                samples.push_back(sample);
                progress.advance();
            }
        }
        progress.finish();
        calibration_ = DecisionCalibration(samples, !scorers_.empty(), classes, method);
        resetTimings();  // calibration is part of training, not of the scoring timed
    }

    /** After a held-out calibration the held-out images join the normal bank (a coreset of their
        patches at the bank's ratio): holding a tenth of the images out of the bank for good cost up
        to 5 image AUROC points on magnetic_tile. New images then score slightly lower than the
        held-out ones did, so the threshold errs on the side of fewer false alarms.
        @param firstImageId the bank image id of the first held-out image */
    void addHeldOutToBank(const Mat& heldOutFeatures, const std::vector<int>& heldOutClassIds, int firstImageId)
    {
        const int cells = grid_.area();
        const int count = std::max(1, (int)std::lround(params_.banks.normalCoresetRatio * heldOutFeatures.rows));
        const std::vector<int> keep = selectCoreset(heldOutFeatures, count, params_.banks.coreset);
        Mat rows((int)keep.size(), heldOutFeatures.cols, CV_32F), ids((int)keep.size(), 1, CV_32S),
            classes((int)keep.size(), 1, CV_32S);
        for (size_t j = 0; j < keep.size(); j++)
        {
            const int image = keep[j] / cells;
            heldOutFeatures.row(keep[j]).copyTo(rows.row((int)j));
            ids.at<int>((int)j) = firstImageId + image;
            classes.at<int>((int)j) = heldOutClassIds.empty() ? -1 : heldOutClassIds[image];
        }
        banks_->getNormalBank()->add(rows, ids, classes);
    }

    void writeParts(FileStorage& fs) const
    {
        persistence::writeNode(fs, kExtractorNode, *extractor_);
        writeDualMemoryBank(fs, *banks_, kBanksNode);
        scorers_.write(fs);
        if (updateSample_)
            persistence::writeNode(fs, kUpdateSampleNode, *updateSample_);
    }

    /** Reads the model whose summary is `node` and whose parts are children of `container` (the
        file's root for a model file, `node` itself for write()'s form). Nothing changes on error.
        @param where the place named in errors
        @param modelFile the model's file, beside which a missing backbone file is looked for (or empty) */
    void readModel(const FileNode& node, const FileNode& container, const String& where, const String& modelFile)
    {
        persistence::checkHeader(node, kModelClass, where);
        Params p;
        p.read(node["params"]);
        validateParams(p);
        Size grid;
        node["grid"] >> grid;
        const bool hasHead = persistence::readInt(node, "has_head", where) != 0;
        const double featureScale = persistence::readReal(node, "feature_scale", where);
        if (!(featureScale > 0) || !std::isfinite(featureScale))
            CV_Error(Error::StsParseError, "dmad: invalid feature_scale");

        const FileNode extractorNode = container[kExtractorNode];
        persistence::checkHeader(extractorNode, "FeatureExtractor", String(kExtractorNode) + " node");
        FeatureExtractor::Params ep;
        ep.read(extractorNode);
        ep.model = locateBeside(ep.model, modelFile);
        if (!ep.config.empty())
            ep.config = locateBeside(ep.config, modelFile);
        Ptr<FeatureExtractor> extractor = FeatureExtractor::create(ep);
        if (extractor->gridSize() != grid)
            CV_Error(Error::StsParseError, "dmad: the backbone's grid differs from the one the model was trained on");

        Ptr<DualMemoryBank> banks = readDualMemoryBank(container, kBanksNode, where);
        const int D = banks->getNormalBank()->dims();
        if (D != extractor->featureDims())
            CV_Error(Error::StsParseError, cv::format("dmad: the memory bank has %d dims, the backbone gives %d",
                                                      D, extractor->featureDims()));
        ScoringEnsemble scorers;
        if (hasHead)
        {
            if (banks->getAbnormalBank()->empty())
                CV_Error(Error::StsParseError, "dmad: the model has a scoring head but an empty abnormal bank");
            // from the same parse: a second open could see another file saved meanwhile
            scorers.read(container, p.scoringHeads, D, where);
        }
        else if (p.scorer == SCORER_DMAD)
            CV_Error(Error::StsParseError, "dmad: the model selects the DMAD scorer but holds no scoring head");
        Ptr<MemoryBank> updateSample;  // models saved before it, or with updatePatches 0, have none
        if (hasHead && !container[kUpdateSampleNode].empty())
        {
            updateSample = MemoryBank::create();
            persistence::readAlgorithmNode(*updateSample, container, kUpdateSampleNode, where);
            if (updateSample->dims() != D)
                CV_Error(Error::StsParseError, cv::format("dmad: the update sample has %d dims, the banks %d",
                                                          updateSample->dims(), D));
        }
        ScoreFusion fusion;
        fusion.read(node["score_fusion"], where + " score_fusion");
        if (hasHead && p.scoreMode == SCORE_DISTANCE_AND_HEAD && !fusion.valid())
            CV_Error(Error::StsParseError, "dmad: the model scores distance and head together but holds no score_fusion");
        DecisionCalibration calibration;
        calibration.read(node["calibration"], hasHead, D, where + " calibration");
        params_ = p;
        params_.backbone = ep;
        fusion_ = fusion;
        calibration_ = calibration;
        grid_ = grid;
        featureScale_ = featureScale;
        extractor_ = extractor;
        banks_ = banks;
        scorers_ = scorers;
        updateSample_ = updateSample;
    }

    void requireTrained() const
    {
        if (empty() || !extractor_)
            CV_Error(Error::StsError, "dmad: the model is not trained (call train() or DMAD::load())");
    }

    void addTiming(double images, double extractMs, double searchMs, double scoreMs, double mapMs) const
    {
        std::lock_guard<std::mutex> lock(timingMutex_);
        timings_.images += images;
        timings_.extractMs += extractMs;
        timings_.searchMs += searchMs;
        timings_.scoreMs += scoreMs;
        timings_.mapMs += mapMs;
    }

    //! The anomaly map of an image of `imageSize` from its patch score grid, through the input geometry.
    void anomalyMapOf(const Mat& patchScores, Size imageSize, Mat& map) const
    {
        anomalyMapFromPatchScores(patchScores, FeatureExtractor::canvasSize(params_.backbone),
                                  params_.backbone.inputSize,
                                  FeatureExtractor::inputRegion(params_.backbone, imageSize), imageSize,
                                  params_.mapSigma, map);
    }

    //! Anomaly score of each feature row (n x 1 CV_32F); an image is `cells` consecutive rows.
    void scorePatches(const Mat& features, int cells, Mat& scores) const
    {
        scorePatches(features, cells, params_.scorer, scores);
    }

    /** @param excludeId a bank image id whose entries are left out of both banks (calibration's
        leave-one-image-out), or -1
        @param imageClasses where given, the class of each image (ClassCentroids::identify()) */
    void scorePatches(const Mat& features, int cells, int scorer, Mat& scores, int excludeId = -1,
                      const int* imageClasses = nullptr) const
    {
        const Ptr<MemoryBank> normal = banks_->getNormalBank();
        const Mat exclude = excludeId < 0 ? Mat() : Mat(features.rows, 1, CV_32S, Scalar(excludeId));
        const int64 start = getTickCount();
        if (scorer == SCORER_PATCHCORE)
        {
            // the image score (the largest patch score) stays exact with an approximate search
            Mat d, idx;
            if (exclude.empty())
                normal->searchNearest(features, cells, d);
            else
                normal->search(features, 1, d, idx, exclude);
            cv::sqrt(d, scores);
            addTiming(0, 0, elapsedMs(start), 0, 0);
            return;
        }
        CV_Assert(!scorers_.empty());
        Mat normalNeighbours, abnormalNeighbours, normalDistances, normalClasses, headScores;
        const bool byNearestEntry = fusion_.classSource() == ScoreFusion::CLASS_OF_NEAREST_ENTRY;
        neighbourFeatures(*normal, features, exclude, normalNeighbours, &normalDistances,
                          byNearestEntry ? &normalClasses : nullptr);
        neighbourFeatures(*banks_->getAbnormalBank(), features, exclude, abnormalNeighbours);
        const int64 scoreStart = getTickCount();
        scorers_.compute(features, normalNeighbours, abnormalNeighbours, headScores);
        if (params_.scoreMode == SCORE_DISTANCE_AND_HEAD)
            fusion_.combine(normalDistances, headScores,
                            byNearestEntry ? normalClasses : imageClassesOf(features, cells, imageClasses), scores);
        else
            scores = headScores;
        addTiming(0, 0, (double)(scoreStart - start) * 1000.0 / getTickFrequency(), elapsedMs(scoreStart), 0);
    }

    /** The class of each patch's image (n x 1 CV_32S), the one inspect() reports, which the fusion
        standardises it by (models fitted before CLASS_OF_IMAGE take the nearest normal entry's).
        @param known where given, the class of each image, already identified */
    Mat imageClassesOf(const Mat& features, int cells, const int* known) const
    {
        Mat classes(features.rows, 1, CV_32S);
        for (int first = 0, image = 0; first < features.rows; first += cells, image++)
        {
            const Range rows(first, std::min(first + cells, features.rows));
            classes.rowRange(rows).setTo(known ? known[image]
                                               : calibration_.classes().identify(features.rowRange(rows)));
        }
        return classes;
    }

    /** Rows of k neighbours' features, nearest first (n x k*D).
        @param nearestDistances where given, the Euclidean distance to the nearest (n x 1 CV_32F)
        @param nearestClasses where given, the class id of the nearest (n x 1 CV_32S) */
    void neighbourFeatures(const MemoryBank& bank, const Mat& queries, const Mat& exclude, Mat& out,
                           Mat* nearestDistances = nullptr, Mat* nearestClasses = nullptr) const
    {
        Mat d, idx;
        bank.search(queries, params_.neighbours, d, idx, exclude);
        out = gatherRows(bank.getFeatures(), idx);
        if (nearestDistances)
            cv::sqrt(d.col(0).clone(), *nearestDistances);
        if (nearestClasses)
            *nearestClasses = classesOf(bank, idx.col(0));
    }

    //! The class ids of bank rows (-1 where the bank has none).
    static Mat classesOf(const MemoryBank& bank, const Mat& rows)
    {
        const Mat ids = bank.getClassIds();
        Mat out(rows.rows, 1, CV_32S);
        for (int i = 0; i < rows.rows; i++)
            out.at<int>(i) = ids.empty() ? -1 : ids.at<int>(rows.at<int>(i, 0));
        return out;
    }

    static Mat gatherRows(const Mat& bank, const Mat& idx)
    {
        const int D = bank.cols, k = idx.cols;
        Mat out(idx.rows, k * D, CV_32F);
        for (int i = 0; i < idx.rows; i++)
            for (int j = 0; j < k; j++)
            {
                const int row = idx.at<int>(i, j);
                CV_Assert(row >= 0);
                std::copy_n(bank.ptr<float>(row), D, out.ptr<float>(i) + (size_t)j * D);
            }
        return out;
    }

    void trainFrom(const ImageSource& normal, const ImageSource& anomalous, const ImageSource& masks,
                   const std::vector<int>& classIds);
    void trainOn(const ImageSource& normal, const ImageSource& anomalous, const ImageSource& masks,
                 const std::vector<int>& classIds, ClassCentroids& classes);
    void updateWith(const ImageSource& anomalous, const ImageSource& masks, const std::vector<int>& classIds);
    static void scorePool(const TrainingPatches& pool, const std::vector<int>& rows, const MemoryBank& normalBank,
                          const Mat& normalFeatures, const Mat& abnormalFeatures,
                          const ScoringEnsemble& scorers, std::vector<float>& headScores,
                          std::vector<float>* distances, std::vector<int>* classIds);
    void weighAnnotatedClasses(ScoreFusion& fusion, const Mat& classIds) const;
    ScoreFusion fitScoreFusion(const TrainingPatches& pool, const std::vector<int>& poolClasses,
                               const MemoryBank& normalBank, const MemoryBank& abnormalBank,
                               const ScoringEnsemble& scorers) const;

    Params params_;
    Size grid_;
    //! Brings the backbone's features to unit RMS spread, so noiseStd means the same for every backbone.
    double featureScale_ = 1.0;
    Ptr<FeatureExtractor> extractor_;
    Ptr<DualMemoryBank> banks_;
    //! The learned score: Params::scoringHeads enhancement + head pairs (empty for a PatchCore-only model).
    ScoringEnsemble scorers_;
    //! How the DMAD scorer combines the distance and the head (SCORE_DISTANCE_AND_HEAD); unfitted otherwise.
    ScoreFusion fusion_;
    DecisionCalibration calibration_;
    //! What update() refines the head on: a sample of the training pool's normal patches (or null).
    Ptr<MemoryBank> updateSample_;
    mutable std::mutex timingMutex_;
    mutable Timings timings_;
};

// Training: steps 1-3 fill the sources (train/training_sources.cpp), 4 builds the banks, 5 samples the
// training pools and their neighbours (train/training_pools.cpp), 6 learns the score (train/score_trainer.cpp).
void DMADImpl::trainFrom(const ImageSource& normal, const ImageSource& anomalous, const ImageSource& masks,
                         const std::vector<int>& classIds)
{
    CV_TRACE_FUNCTION();
    validateParams(params_);
    const int nNormal = normal.size(), nAnomalous = anomalous.size();
    if (nNormal < 2)
        CV_Error(Error::StsBadArg, cv::format("dmad: training needs at least 2 normal images (got %d)", nNormal));
    if (masks.size() != nAnomalous)
        CV_Error(Error::StsBadArg, cv::format("dmad: %d anomalous images but %d masks", nAnomalous, masks.size()));
    if (!classIds.empty() && (int)classIds.size() != nNormal + nAnomalous)
        CV_Error(Error::StsBadSize, cv::format("dmad: %d class ids for %d images", (int)classIds.size(),
                                               nNormal + nAnomalous));
    const int64 startTicks = getTickCount();
    const uint64 seed = (uint64)(int64)params_.seed * 0x9E3779B97F4A7C15ULL;
    auto classesOf = [&](const std::vector<int>& images) {
        std::vector<int> ids;
        if (!classIds.empty())
            for (int i : images)
                ids.push_back(classIds[i]);
        return ids;
    };
    std::vector<int> anomalyIndices(nAnomalous);
    for (int j = 0; j < nAnomalous; j++)
        anomalyIndices[j] = nNormal + j;
    // 0. the normal images held out for the decision threshold, if any: training never sees them
    std::vector<int> fitted, heldOut;
    holdOutImages(nNormal, classIds, params_.calibrationFraction, seed + 29, fitted, heldOut);
    // an image that calibration cannot read fails the training and leaves the model as it was
    const Snapshot before = snapshot();
    try
    {
        ClassCentroids classes;
        // the anomalies' bank image ids follow the fitted normal images' (addAnnotatedPatches)
        CalibrationImages anomalies{ anomalous, std::vector<int>(), classesOf(anomalyIndices) };
        for (int j = 0; j < nAnomalous; j++)
            anomalies.bankIds.push_back((int)fitted.size() + j);
        if (!heldOut.empty())
        {
            std::vector<int> fittedIds = classesOf(fitted);
            const std::vector<int> anomalyClassIds = classesOf(anomalyIndices);
            fittedIds.insert(fittedIds.end(), anomalyClassIds.begin(), anomalyClassIds.end());
            trainOn(normal.subset(fitted), anomalous, masks, fittedIds, classes);
            const CalibrationImages held{ normal.subset(heldOut), std::vector<int>(heldOut.size(), -1),
                                          classesOf(heldOut) };
            Mat heldOutFeatures;
            calibrate(held, anomalies, classes, "held_out", &heldOutFeatures);
            addHeldOutToBank(heldOutFeatures, held.classIds, (int)fitted.size() + nAnomalous);
        }
        else
        {
            trainOn(normal, anomalous, masks, classIds, classes);
            if (params_.calibrationImages > 0)
            {
                // bank image id = index among the normal images (addNormalPatches)
                const std::vector<int> picked = sampleCalibrationImages(nNormal, classIds, params_.calibrationImages,
                                                                        seed + 31);
                calibrate(CalibrationImages{ normal.subset(picked), picked, classesOf(picked) }, anomalies, classes,
                          "leave_one_image_out");
            }
        }
    }
    catch (...)
    {
        restore(before);
        throw;
    }
    CV_LOG_INFO(NULL, "dmad: trained in " << (getTickCount() - startTicks) / getTickFrequency() << " s");
}

// Steps 1-6 on the images training fits on.
void DMADImpl::trainOn(const ImageSource& normal, const ImageSource& anomalous, const ImageSource& masks,
                       const std::vector<int>& classIds, ClassCentroids& classes)
{
    const int nNormal = normal.size(), nAnomalous = anomalous.size();
    RNG rng((uint64)(int64)params_.seed * 0x9E3779B97F4A7C15ULL + 11);
    Ptr<FeatureExtractor> extractor = FeatureExtractor::create(params_.backbone);
    const bool wantHead = params_.scorer == SCORER_DMAD;

    // 1-3. patches of the normal images, the annotated anomalies and the pseudo anomalies
    DualMemoryBank::Sources sources;
    const double featureScale = addNormalPatches(*extractor, normal, classIds, params_.normalizeFeatures, sources);
    if (nAnomalous > 0 && wantHead)
        addAnnotatedPatches(*extractor, featureScale, anomalous, masks, nNormal, classIds, sources);
    const int flags = nAnomalous > 0 ? params_.banks.supervisedSources : params_.banks.unsupervisedSources;
    // synthetic defects also serve the loss (syntheticWeight), with or without annotated ones
    const bool wantSynthetic = (flags & DualMemoryBank::ABNORMAL_SYNTHETIC) || params_.training.syntheticWeight > 0;
    if (wantHead && ((flags & DualMemoryBank::ABNORMAL_TEXTURES) || wantSynthetic))
    {
        const std::vector<Mat> textures = trainingTextures(params_, rng);
        if ((flags & DualMemoryBank::ABNORMAL_TEXTURES) && !textures.empty())
            sources.textures = extractAll(*extractor, ImageSource(textures), "extract-textures") * featureScale;
        if (wantSynthetic && params_.syntheticImages > 0)
            addSyntheticDefects(*extractor, featureScale, normal, params_.syntheticImages, textures, classIds, rng,
                                sources);
    }

    classes = ClassCentroids(sources.normal, sources.normalClassIds);

    // 4. both banks
    Ptr<DualMemoryBank> banks = DualMemoryBank::create(params_.banks);
    banks->build(sources, wantHead);
    ScoringEnsemble scorers;
    ScoreFusion fusion;
    Ptr<MemoryBank> updateSample;
    if (wantHead)
    {
        const MemoryBank& normalBank = *banks->getNormalBank();
        const MemoryBank& abnormalBank = *banks->getAbnormalBank();
        const int k = params_.neighbours;
        if (normalBank.size() < k + 1 || abnormalBank.size() < k + 1)
            CV_Error(Error::StsBadArg, cv::format("dmad: banks of %d and %d entries are too small for %d neighbours",
                                                  normalBank.size(), abnormalBank.size(), k));

        // 5. training patches and their leave-one-image-out neighbours; the patches of the
        //    validation images (TrainingParams::validationFraction) are kept out of the loss
        Mat poolIds;
        TrainingPatches normalPool = sampleNormalPool(sources, extractor->gridSize().area(),
                                                      params_.training.trainPatchRatio,
                                                      params_.training.balanceClasses, rng, poolIds);
        sources.normal.release();  // the pool and the banks are all training needs from here on
        const Mat annotatedClassIds = sources.annotated.empty() ? Mat() : sources.annotatedClassIds;
        const std::vector<int> validationImages =
            validationImagesOf(nNormal, nAnomalous, classIds, params_.training.validationFraction,
                               (uint64)(int64)params_.seed * 0x9E3779B97F4A7C15ULL + 41);
        ValidationPatches validation;
        holdOutAndFindNeighbors(normalPool, poolIds, validationImages, normalBank, abnormalBank, k, "neighbours",
                                validation.normal);
        // an anomaly pool for the loss; the patches of its validation images become a validation set
        auto anomalyPool = [&](const Mat& features, const Mat& imageIds, const String& task) {
            TrainingPatches pool, heldOut;
            pool.features = features;
            Mat keptIds = imageIds;  // a header: moveHeldOutRows rebinds it, the sources keep theirs
            holdOutAndFindNeighbors(pool, keptIds, validationImages, normalBank, abnormalBank, k, task, heldOut);
            validation.addAnomalies(heldOut);
            return pool;
        };
        TrainingPatches annotatedPool, syntheticPool;
        double anomalyWeight = params_.training.annotatedWeight;
        const bool syntheticInLoss = !sources.synthetic.empty() && params_.training.syntheticWeight > 0;
        if (!sources.annotated.empty())
        {
            // in a unified model the classes without annotations still need the synthetic defects'
            // anomaly signal; a class with several annotated ones learns from those alone
            annotatedPool = anomalyPool(sources.annotated, sources.annotatedImageIds, "neighbours-anomalies");
            if (syntheticInLoss)
            {
                Mat features, imageIds;
                selectSyntheticLossPatches(sources, params_.training.syntheticUntilAnnotated,
                                           (uint64)(int64)params_.seed * 0x9E3779B97F4A7C15ULL + 53, features,
                                           imageIds);
                if (!features.empty())
                    syntheticPool = anomalyPool(features, imageIds, "neighbours-synthetic");
            }
        }
        else if (syntheticInLoss)
        {
            // without annotated defects, the synthetic defects stand in for them (as in DRAEM)
            annotatedPool = anomalyPool(sources.synthetic, sources.syntheticImageIds, "neighbours-synthetic");
            anomalyWeight = params_.training.syntheticWeight;
        }

        // 6. score learning: each pair of the ensemble from its own seed, on the same patches
        for (int member = 0; member < params_.scoringHeads; member++)
        {
            const int memberSeed = ScoringEnsemble::memberSeed(params_.seed, member);
            KnowledgeEnhancement::Params ep;
            ep.featureDims = extractor->featureDims();
            ep.neighbours = k;
            ep.distances = params_.distanceFeatures;
            ep.seed = memberSeed;
            Ptr<KnowledgeEnhancement> enhancement = KnowledgeEnhancement::create(ep);
            ScoringHead::Params hp;
            hp.inputDims = enhancement->representationDims();
            hp.hiddenDims = params_.hiddenDims;
            hp.seed = memberSeed;
            Ptr<ScoringHead> head = ScoringHead::create(hp);
            const String task = params_.scoringHeads > 1 ? cv::format("train %d/%d", member + 1, params_.scoringHeads)
                                                         : String("train");
            ScoreTrainer(params_.training, memberSeed, anomalyWeight, task)
                .train(networkOf(*enhancement), networkOf(*head), normalPool, annotatedPool, normalBank.getFeatures(),
                       abnormalBank.getFeatures(), syntheticPool, validation);
            scorers.add(enhancement, head);
        }

        // 7. the standardisation of distance and head score on normal patches (leave-one-image-out),
        //    per class of their image
        std::vector<int> poolClasses(normalPool.size(), -1);
        if (!classIds.empty())
            for (int r = 0; r < normalPool.size(); r++)
                poolClasses[r] = classIds[poolIds.at<int>(r)];
        fusion = fitScoreFusion(normalPool, poolClasses, normalBank, abnormalBank, scorers);
        weighAnnotatedClasses(fusion, annotatedClassIds);

        // 8. what update() refines the head on
        if (params_.training.updatePatches > 0)
            updateSample = sampleUpdatePatches(normalPool, poolIds, classIds, params_.training.updatePatches,
                                               (uint64)(int64)params_.seed * 0x9E3779B97F4A7C15ULL + 47);
    }

    grid_ = extractor->gridSize();
    featureScale_ = featureScale;
    extractor_ = extractor;
    banks_ = banks;
    scorers_ = scorers;
    fusion_ = fusion;
    updateSample_ = updateSample;
    // the classes without thresholds until calibration: scoring (calibration's too) tells images' classes by them
    calibration_ = DecisionCalibration(std::vector<DecisionCalibration::Sample>(), wantHead, classes, "none");
}

/* update(): the annotated patches join (a copy of) the abnormal bank; copies of the enhancement and
   head pairs are refined on them against normal patches: the sample of the training pool the model kept
   (TrainingParams::updatePatches), or, in models without one, the normal bank's entries, each with
   its neighbours from other images. The head's standardisation moves so that those normal patches
   keep their standardised scores. Nothing of the model changes until every step has succeeded. */
void DMADImpl::updateWith(const ImageSource& anomalous, const ImageSource& masks, const std::vector<int>& classIds)
{
    CV_TRACE_FUNCTION();
    requireTrained();
    if (scorers_.empty())
        CV_Error(Error::StsError, "dmad: update() needs a model with a scoring head (this one was trained for the "
                                  "PatchCore scorer only)");
    const int n = anomalous.size();
    if (n < 1)
        CV_Error(Error::StsBadArg, "dmad: update() got no anomalous image");
    if (masks.size() != n)
        CV_Error(Error::StsBadArg, cv::format("dmad: %d anomalous images but %d masks", n, masks.size()));
    if (!classIds.empty() && (int)classIds.size() != n)
        CV_Error(Error::StsBadSize, cv::format("dmad: %d class ids for %d images", (int)classIds.size(), n));
    const int64 startTicks = getTickCount();
    const Ptr<MemoryBank> normalBank = banks_->getNormalBank(), abnormalBank = banks_->getAbnormalBank();

    // new image ids after every id either bank holds, so leave-one-image-out tells them apart
    double maxNormalId = -1, maxAbnormalId = -1;
    minMaxLoc(normalBank->getImageIds(), nullptr, &maxNormalId);
    minMaxLoc(abnormalBank->getImageIds(), nullptr, &maxAbnormalId);
    const int firstId = (int)std::max(maxNormalId, maxAbnormalId) + 1;
    std::vector<int> paddedClassIds;
    if (!classIds.empty())
    {
        paddedClassIds.assign(firstId, -1);
        paddedClassIds.insert(paddedClassIds.end(), classIds.begin(), classIds.end());
    }
    DualMemoryBank::Sources added;
    addAnnotatedPatches(*extractor_, featureScale_, anomalous, masks, firstId, paddedClassIds, added);

    Ptr<MemoryBank> extended = MemoryBank::create(abnormalBank->getParams());
    extended->add(abnormalBank->getFeatures(), abnormalBank->getImageIds(), abnormalBank->getClassIds());
    extended->add(added.annotated, added.annotatedImageIds, added.annotatedClassIds);

    const int k = params_.neighbours;
    const Mat normalFeatures = normalBank->getFeatures(), abnormalFeatures = extended->getFeatures();
    TrainingPatches normalPool, annotatedPool;
    const bool sampled = updateSample_ && updateSample_->size() > 1;
    normalPool.features = sampled ? updateSample_->getFeatures() : normalFeatures;
    findPoolNeighbors(normalPool, sampled ? updateSample_->getImageIds() : normalBank->getImageIds(), *normalBank,
                      *extended, k, "update-neighbours");
    annotatedPool.features = added.annotated;
    findPoolNeighbors(annotatedPool, added.annotatedImageIds, *normalBank, *extended, k, "update-neighbours-anomalies");

    ScoringEnsemble scorers = scorers_.clone();
    std::vector<int> allRows(normalPool.size());
    for (int i = 0; i < normalPool.size(); i++)
        allRows[i] = i;
    std::vector<float> before, after;
    // the class the fusion standardises each normal patch as: its image's, or (older models) its nearest entry's
    std::vector<int> poolClasses;
    const bool classOfImage = fusion_.classSource() == ScoreFusion::CLASS_OF_IMAGE;
    scorePool(normalPool, allRows, *normalBank, normalFeatures, abnormalFeatures, scorers, before, nullptr,
              classOfImage ? nullptr : &poolClasses);
    if (classOfImage)
    {
        const Mat ids = sampled ? updateSample_->getClassIds() : normalBank->getClassIds();
        poolClasses.assign(normalPool.size(), -1);
        if (!ids.empty())
            poolClasses.assign(ids.begin<int>(), ids.end<int>());
    }
    DMAD::TrainingParams refine = params_.training;
    refine.epochs = params_.training.updateEpochs;
    for (int member = 0; member < scorers.size(); member++)
        ScoreTrainer(refine, ScoringEnsemble::memberSeed(params_.seed, member), params_.training.annotatedWeight,
                     scorers.size() > 1 ? cv::format("update %d/%d", member + 1, scorers.size()) : String("update"))
            .train(networkOf(*scorers.member(member).enhancement), networkOf(*scorers.member(member).head),
                   normalPool, annotatedPool, normalFeatures, abnormalFeatures);
    ScoreFusion fusion = fusion_;
    if (fusion.valid())
    {
        scorePool(normalPool, allRows, *normalBank, normalFeatures, abnormalFeatures, scorers, after, nullptr,
                  nullptr);
        fusion = fusion.withHeadRecentred(before, after, poolClasses);
        // a head refined on the bank's entries alone is weaker evidence than one trained with the
        // annotations: there the weights stay (annotatedHeadWeight gave 78.9 mean image AUROC
        // against 88.1, doc/model.md "Annotations that arrive later")
        if (sampled)
            weighAnnotatedClasses(fusion, added.annotatedClassIds);
    }

    // commit: the same rows, in the same order, as the extended copy searched
    abnormalBank->add(added.annotated, added.annotatedImageIds, added.annotatedClassIds);
    scorers_ = scorers;
    fusion_ = fusion;
    CV_LOG_INFO(NULL, "dmad: updated with " << n << " annotated anomalies (" << added.annotated.rows << " patches) in "
                                            << (getTickCount() - startTicks) / getTickFrequency() << " s");
}

//! The classes of the annotated patches `classIds` get Params::annotatedHeadWeight.
void DMADImpl::weighAnnotatedClasses(ScoreFusion& fusion, const Mat& classIds) const
{
    if (classIds.empty())
        return;
    CV_Assert(classIds.type() == CV_32S);
    const std::set<int> classes(classIds.begin<int>(), classIds.end<int>());
    for (int c : classes)
        fusion.setClassHeadWeight(c, params_.annotatedHeadWeight);
}

/** ScoreFusion's normal distributions: up to kFusionPatches patches of the normal pool, drawn with
    the seed, with their cached leave-one-image-out neighbours (as a new image's patches would find
    them), scored by the trained enhancement and head in blocks. */
ScoreFusion DMADImpl::fitScoreFusion(const TrainingPatches& pool, const std::vector<int>& poolClasses,
                                     const MemoryBank& normalBank, const MemoryBank& abnormalBank,
                                     const ScoringEnsemble& scorers) const
{
    CV_Assert((int)poolClasses.size() == pool.size());
    static const int kFusionPatches = 50000;
    std::vector<int> rows(pool.size());
    for (int i = 0; i < pool.size(); i++)
        rows[i] = i;
    RNG rng((uint64)(int64)params_.seed * 0x9E3779B97F4A7C15ULL + 37);
    synth::shuffle(rows, rng);
    rows.resize(std::min<size_t>(rows.size(), kFusionPatches));
    std::vector<float> distances, headScores;
    scorePool(pool, rows, normalBank, normalBank.getFeatures(), abnormalBank.getFeatures(), scorers, headScores,
              &distances, nullptr);
    std::vector<int> classIds;
    for (int r : rows)
        classIds.push_back(poolClasses[r]);
    ScoreFusion fusion(distances, headScores, classIds, params_.headWeight, ScoreFusion::CLASS_OF_IMAGE);
    fusion.setHeadLimit(params_.headLimit);
    return fusion;
}

/** The head's anomaly scores of the pool patches `rows`, with their cached neighbours, in blocks (the
    representation of a whole pool would take gigabytes at D 1536); where asked, each one's
    Euclidean distance to its nearest normal entry and that entry's class. */
void DMADImpl::scorePool(const TrainingPatches& pool, const std::vector<int>& rows, const MemoryBank& normalBank,
                         const Mat& normalFeatures, const Mat& abnormalFeatures,
                         const ScoringEnsemble& scorers, std::vector<float>& headScores,
                         std::vector<float>* distances, std::vector<int>* classIds)
{
    static const int kBlock = 4096;
    headScores.clear();
    for (size_t first = 0; first < rows.size(); first += kBlock)
    {
        const int n = (int)std::min<size_t>(kBlock, rows.size() - first);
        Mat q(n, pool.features.cols, CV_32F), normalIdx(n, pool.normalNeighbours.cols, CV_32S),
            abnormalIdx(n, pool.abnormalNeighbours.cols, CV_32S);
        for (int i = 0; i < n; i++)
        {
            const int r = rows[first + i];
            pool.features.row(r).copyTo(q.row(i));
            pool.normalNeighbours.row(r).copyTo(normalIdx.row(i));
            pool.abnormalNeighbours.row(r).copyTo(abnormalIdx.row(i));
        }
        const Mat normalRows = gatherRows(normalFeatures, normalIdx);
        Mat scores;
        scorers.compute(q, normalRows, gatherRows(abnormalFeatures, abnormalIdx), scores);
        headScores.insert(headScores.end(), scores.begin<float>(), scores.end<float>());
        if (distances)
            for (int i = 0; i < n; i++)
                distances->push_back((float)cv::norm(q.row(i), normalRows.row(i).colRange(0, q.cols), NORM_L2));
        if (classIds)
        {
            const Mat classes = classesOf(normalBank, normalIdx);
            classIds->insert(classIds->end(), classes.begin<int>(), classes.end<int>());
        }
    }
}

Ptr<DMAD> DMAD::create(const Params& params)
{
    return makePtr<DMADImpl>(params);
}

Ptr<DMAD> DMAD::load(const String& filename)
{
    Ptr<DMADImpl> model = makePtr<DMADImpl>(Params::cpu());
    model->load(filename);
    return model;
}

}} // namespace cv::dmad

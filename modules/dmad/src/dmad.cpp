// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// DMAD: image -> patch features -> normal and abnormal bank look-ups -> enhanced representation ->
// patch scores -> anomaly map. This file wires the parts together; each part lives in its own file.

#include "precomp.hpp"
#include "scoring/anomaly_map.hpp"
#include "io/model_persistence.hpp"
#include "nn/network_access.hpp"
#include "io/persistence.hpp"
#include "io/progress.hpp"
#include "train/score_trainer.hpp"

#include <opencv2/imgcodecs.hpp>

#include <fstream>

namespace cv {
namespace dmad {

static const char* const kModelClass = "DMAD";
static const char* const kModelNode = "opencv_dmad_DMAD";
static const char* const kExtractorNode = "feature_extractor";
static const char* const kBanksNode = "memory_banks";
static const char* const kEnhancementNode = "knowledge_enhancement";
static const char* const kHeadNode = "scoring_head";

// ---------------------------------------------------------------------------------------------
// Params

// The CPU configuration. It departs from the reference code where a few thousand training steps on
// two cores must do the work of 160 epochs on a GPU; doc/model.md has the measurements:
// - features scaled to unit RMS spread, noise 0.25 of that spread, added to the features before the
//   enhancement (the reference's 0.015 on the representation left the loss on its plateau of 1.0);
// - the nearest-entry distances in the representation;
// - synthetic defect patches in the loss, standing in for annotated ones when nothing is annotated
//   and added to them otherwise;
// - 5x the reference's learning rates, batches of 1024 patches, 8 epochs over a quarter of the patches.
DMAD::Params::Params()
    : backbone(FeatureExtractor::preset("mobilenet_v2")), scorer(SCORER_DMAD), neighbours(1),
      trainEnhancement(true), hiddenDims(256), epochs(8), batchPatches(1024), trainPatchRatio(0.25),
      noiseStd(0.25), margin(0.5), annotatedWeight(10), headLearningRate(1e-3), headWeightDecay(1e-5),
      adaptorLearningRate(5e-4), adaptorWeightDecay(1e-2), enhancementLearningRate(5e-4),
      enhancementWeightDecay(1e-2), syntheticImages(200), textureImages(47), syntheticWeight(1),
      pseudoAnomalies(PSEUDO_FEATURE_NOISE), distanceFeatures(true), normalizeFeatures(true), mapSigma(4),
      seed(0)
{
}

DMAD::Params DMAD::Params::cpu(const String& backbonePreset, const String& backboneModel)
{
    Params p;
    p.backbone = FeatureExtractor::preset(backbonePreset, backboneModel);
    return p;
}

DMAD::Params DMAD::Params::paper(const String& wrn50Model)
{
    // the reference code's values (docs: dmad-method.md section 3)
    Params p = cpu("wrn50", wrn50Model);
    p.hiddenDims = 1024;
    p.epochs = 160;
    p.batchPatches = 32768;
    p.trainPatchRatio = 1.0;
    p.noiseStd = 0.015;
    p.pseudoAnomalies = PSEUDO_REPRESENTATION_NOISE;
    p.distanceFeatures = false;
    p.normalizeFeatures = false;
    p.syntheticWeight = 0;
    p.headLearningRate = 2e-4;
    p.adaptorLearningRate = p.enhancementLearningRate = 1e-4;
    return p;
}

void DMAD::Params::write(FileStorage& fs) const
{
    fs << "scorer" << scorer << "neighbours" << neighbours << "train_enhancement" << (int)trainEnhancement
       << "hidden_dims" << hiddenDims << "epochs" << epochs << "batch_patches" << batchPatches
       << "train_patch_ratio" << trainPatchRatio << "noise_std" << noiseStd << "margin" << margin
       << "annotated_weight" << annotatedWeight << "head_learning_rate" << headLearningRate
       << "head_weight_decay" << headWeightDecay << "adaptor_learning_rate" << adaptorLearningRate
       << "adaptor_weight_decay" << adaptorWeightDecay << "enhancement_learning_rate" << enhancementLearningRate
       << "enhancement_weight_decay" << enhancementWeightDecay << "synthetic_images" << syntheticImages
       << "texture_images" << textureImages << "synthetic_weight" << syntheticWeight
       << "pseudo_anomalies" << pseudoAnomalies << "distance_features" << (int)distanceFeatures
       << "normalize_features" << (int)normalizeFeatures
       << "texture_folder" << textureFolder << "map_sigma" << mapSigma
       << "seed" << seed;
    fs << "backbone" << "{";
    backbone.write(fs);
    fs << "}" << "banks" << "{";
    banks.write(fs);
    fs << "}";
}

void DMAD::Params::read(const FileNode& node)
{
    const String where = "DMAD params";
    using persistence::readInt;
    using persistence::readReal;
    scorer = readInt(node, "scorer", where);
    neighbours = readInt(node, "neighbours", where);
    trainEnhancement = readInt(node, "train_enhancement", where) != 0;
    hiddenDims = readInt(node, "hidden_dims", where);
    epochs = readInt(node, "epochs", where);
    batchPatches = readInt(node, "batch_patches", where);
    trainPatchRatio = readReal(node, "train_patch_ratio", where);
    noiseStd = readReal(node, "noise_std", where);
    margin = readReal(node, "margin", where);
    annotatedWeight = readReal(node, "annotated_weight", where);
    headLearningRate = readReal(node, "head_learning_rate", where);
    headWeightDecay = readReal(node, "head_weight_decay", where);
    adaptorLearningRate = readReal(node, "adaptor_learning_rate", where);
    adaptorWeightDecay = readReal(node, "adaptor_weight_decay", where);
    enhancementLearningRate = readReal(node, "enhancement_learning_rate", where);
    enhancementWeightDecay = readReal(node, "enhancement_weight_decay", where);
    syntheticImages = readInt(node, "synthetic_images", where);
    textureImages = readInt(node, "texture_images", where);
    syntheticWeight = readReal(node, "synthetic_weight", where);
    pseudoAnomalies = readInt(node, "pseudo_anomalies", where);
    distanceFeatures = readInt(node, "distance_features", where) != 0;
    normalizeFeatures = readInt(node, "normalize_features", where) != 0;
    textureFolder = node["texture_folder"].isString() ? (String)node["texture_folder"] : String();
    mapSigma = readReal(node, "map_sigma", where);
    seed = readInt(node, "seed", where);
    backbone.read(node["backbone"]);
    banks.read(node["banks"]);
}

DMAD::Timings::Timings() : images(0), extractMs(0), searchMs(0), scoreMs(0), mapMs(0) {}

namespace {

double elapsedMs(int64 since)
{
    return 1000.0 * (double)(getTickCount() - since) / getTickFrequency();
}

void validate(const DMAD::Params& p)
{
    if (p.scorer != DMAD::SCORER_DMAD && p.scorer != DMAD::SCORER_PATCHCORE)
        CV_Error(Error::StsBadArg, cv::format("dmad: unknown scorer %d", p.scorer));
    if (p.pseudoAnomalies != DMAD::PSEUDO_REPRESENTATION_NOISE && p.pseudoAnomalies != DMAD::PSEUDO_FEATURE_NOISE)
        CV_Error(Error::StsBadArg, cv::format("dmad: unknown pseudo-anomaly mode %d", p.pseudoAnomalies));
    if (p.neighbours < 1 || p.neighbours > 64 || p.hiddenDims < 1 || p.epochs < 1 || p.batchPatches < 2)
        CV_Error(Error::StsBadArg, "dmad: neighbours (1..64), hiddenDims, epochs and batchPatches (>= 2) "
                                   "must be positive");
    if (!(p.trainPatchRatio > 0 && p.trainPatchRatio <= 1))
        CV_Error(Error::StsBadArg, "dmad: trainPatchRatio must be in (0, 1]");
    if (!(p.noiseStd >= 0) || !(p.margin >= 0) || !(p.annotatedWeight >= 0))
        CV_Error(Error::StsBadArg, "dmad: noiseStd, margin and annotatedWeight must be >= 0");
    if (!(p.mapSigma >= 0 && p.mapSigma <= 64))  // 64 px at 256 px blurs a quarter of the image
        CV_Error(Error::StsBadArg, cv::format("dmad: mapSigma %g must be in [0, 64]", p.mapSigma));
    if (p.syntheticImages < 0 || p.textureImages < 0 || !(p.syntheticWeight >= 0))
        CV_Error(Error::StsBadArg, "dmad: syntheticImages, textureImages and syntheticWeight must be >= 0");
}

//! Images by index, from memory or read from files on demand with errors naming the file.
class ImageSource
{
public:
    explicit ImageSource(InputArrayOfArrays images)
    {
        if (!images.empty())
            images.getMatVector(mats_);
    }
    explicit ImageSource(const std::vector<String>& files) : files_(files) {}

    int size() const { return (int)(files_.empty() ? mats_.size() : files_.size()); }

    Mat get(int i, int flags = IMREAD_UNCHANGED) const
    {
        if (files_.empty())
            return mats_[i];
        Mat m = imread(files_[i], flags);
        if (m.empty())
            CV_Error(Error::StsObjectNotFound, cv::format("dmad: cannot read image '%s'", files_[i].c_str()));
        return m;
    }

    String name(int i) const { return files_.empty() ? cv::format("image %d", i) : files_[i]; }

private:
    std::vector<Mat> mats_;
    std::vector<String> files_;
};

} // namespace

// ---------------------------------------------------------------------------------------------
// DMADImpl

class DMADImpl CV_FINAL : public DMAD
{
public:
    explicit DMADImpl(const Params& params) : params_(params) { validate(params); }

    void train(InputArrayOfArrays normalImages, InputArrayOfArrays anomalousImages, InputArrayOfArrays anomalyMasks,
               const std::vector<int>& classIds) CV_OVERRIDE
    {
        trainFrom(ImageSource(normalImages), ImageSource(anomalousImages), ImageSource(anomalyMasks), classIds);
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
            anomalyMapFromPatchScores(patchScores, params_.backbone.inputSize, img.size(), params_.mapSigma, map);
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
        scorePatches(features, all);
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
                anomalyMapFromPatchScores(patchScores.clone(), params_.backbone.inputSize, imgs[i].size(),
                                          params_.mapSigma, map);
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
        Size grid;
        const int64 start = getTickCount();
        extractor_->extract(image, features, grid);
        features *= featureScale_;
        addTiming(1, elapsedMs(start), 0, 0, 0);
        scorePatches(features, scores);
        scores.reshape(1, grid.height).copyTo(patchScores);
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
        if (scorer == SCORER_DMAD && banks_ && !head_)
            CV_Error(Error::StsError, "dmad: this model was trained for the PatchCore scorer only (no DMAD head)");
        params_.scorer = scorer;
    }

    Ptr<FeatureExtractor> getFeatureExtractor() const CV_OVERRIDE { return extractor_; }
    Ptr<DualMemoryBank> getMemoryBanks() const CV_OVERRIDE { return banks_; }
    Ptr<KnowledgeEnhancement> getKnowledgeEnhancement() const CV_OVERRIDE { return enhancement_; }
    Ptr<ScoringHead> getScoringHead() const CV_OVERRIDE { return head_; }

    bool empty() const CV_OVERRIDE { return !banks_ || banks_->empty(); }
    String getDefaultName() const CV_OVERRIDE { return kModelNode; }

    void write(FileStorage& fs) const CV_OVERRIDE
    {
        persistence::writeHeader(fs, kModelClass);
        fs << "grid" << grid_ << "feature_scale" << featureScale_ << "has_head" << (int)!head_.empty()
           << "params" << "{";
        params_.write(fs);
        fs << "}";
    }

    void read(const FileNode&) CV_OVERRIDE
    {
        CV_Error(Error::StsNotImplemented, "dmad: read a DMAD model with DMAD::load(filename): it spans several nodes");
    }

    void save(const String& filename) const CV_OVERRIDE
    {
        requireTrained();
        persistence::saveAtomically(filename, [this](FileStorage& fs) {
            persistence::writeNode(fs, kModelNode, *this);
            persistence::writeNode(fs, kExtractorNode, *extractor_);
            writeDualMemoryBank(fs, *banks_, kBanksNode);
            if (head_)
            {
                persistence::writeNode(fs, kEnhancementNode, *enhancement_);
                persistence::writeNode(fs, kHeadNode, *head_);
            }
        });
        CV_LOG_INFO(NULL, "dmad: model saved to " << filename);
    }

    //! Reads every part of a model file; the backbone file is looked up as saved, then beside the model.
    void load(const String& filename)
    {
        FileStorage fs;
        const FileNode node = persistence::openNode(fs, filename, kModelNode, kModelNode);
        const String where = filename;
        try
        {
            persistence::checkHeader(node, kModelClass, where);
            Params p;
            p.read(node["params"]);
            validate(p);
            Size grid;
            node["grid"] >> grid;
            const bool hasHead = persistence::readInt(node, "has_head", where) != 0;
            const double featureScale = persistence::readReal(node, "feature_scale", where);
            if (!(featureScale > 0) || !std::isfinite(featureScale))
                CV_Error(Error::StsParseError, "dmad: invalid feature_scale");

            const FileNode extractorNode = fs[kExtractorNode];
            persistence::checkHeader(extractorNode, "FeatureExtractor", String(kExtractorNode) + " node");
            FeatureExtractor::Params ep;
            ep.read(extractorNode);
            ep.model = locateBeside(ep.model, filename);
            if (!ep.config.empty())
                ep.config = locateBeside(ep.config, filename);
            Ptr<FeatureExtractor> extractor = FeatureExtractor::create(ep);
            if (extractor->gridSize() != grid)
                CV_Error(Error::StsParseError, "dmad: the backbone's grid differs from the one the model was trained on");

            Ptr<DualMemoryBank> banks = readDualMemoryBank(fs, kBanksNode, filename);
            const int D = banks->getNormalBank()->dims();
            if (D != extractor->featureDims())
                CV_Error(Error::StsParseError, cv::format("dmad: the memory bank has %d dims, the backbone gives %d",
                                                          D, extractor->featureDims()));
            Ptr<KnowledgeEnhancement> enhancement;
            Ptr<ScoringHead> head;
            if (hasHead)
            {
                if (banks->getAbnormalBank()->empty())
                    CV_Error(Error::StsParseError, "dmad: the model has a scoring head but an empty abnormal bank");
                // from the same parse: a second open could see another file saved meanwhile
                KnowledgeEnhancement::Params shell;
                shell.featureDims = 1;
                enhancement = KnowledgeEnhancement::create(shell);
                readPart(*enhancement, fs, kEnhancementNode, filename);
                ScoringHead::Params headShell;
                headShell.inputDims = headShell.hiddenDims = 1;
                head = ScoringHead::create(headShell);
                readPart(*head, fs, kHeadNode, filename);
                if (enhancement->featureDims() != D || head->inputDims() != enhancement->representationDims())
                    CV_Error(Error::StsParseError, "dmad: the enhancement and scoring head dims do not match the banks");
            }
            else if (p.scorer == SCORER_DMAD)
                CV_Error(Error::StsParseError, "dmad: the model selects the DMAD scorer but holds no scoring head");
            params_ = p;
            params_.backbone = ep;
            grid_ = grid;
            featureScale_ = featureScale;
            extractor_ = extractor;
            banks_ = banks;
            enhancement_ = enhancement;
            head_ = head;
        }
        catch (const cv::Exception& e)
        {
            if (e.err.find(filename) != String::npos)
                throw;
            CV_Error(e.code, cv::format("%s (in '%s')", e.err.c_str(), filename.c_str()));
        }
    }

private:
    //! Reads the top-level node `name` of an open model file into `part` (errors name the node).
    static void readPart(Algorithm& part, const FileStorage& fs, const char* name,
                         const String& filename)
    {
        const FileNode node = fs[name];
        if (node.empty())
            CV_Error(Error::StsParseError,
                     cv::format("dmad: '%s' has no node '%s'", filename.c_str(), name));
        try
        {
            part.read(node);
        }
        catch (const cv::Exception& e)
        {
            persistence::rethrowWithPlace(e, filename, node);
        }
    }

    static String locateBeside(const String& path, const String& modelFile)
    {
        if (std::ifstream(path.c_str()).good())
            return path;
        const size_t slash = modelFile.find_last_of("/\\"), pathSlash = path.find_last_of("/\\");
        const String beside = (slash == String::npos ? String() : modelFile.substr(0, slash + 1)) +
                              (pathSlash == String::npos ? path : path.substr(pathSlash + 1));
        return std::ifstream(beside.c_str()).good() ? beside : path;
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

    //! Anomaly score of each feature row (n x 1 CV_32F).
    void scorePatches(const Mat& features, Mat& scores) const
    {
        const Ptr<MemoryBank> normal = banks_->getNormalBank();
        const int64 start = getTickCount();
        if (params_.scorer == SCORER_PATCHCORE)
        {
            Mat d, idx;
            normal->search(features, 1, d, idx);
            cv::sqrt(d, scores);
            addTiming(0, 0, elapsedMs(start), 0, 0);
            return;
        }
        CV_Assert(head_ && enhancement_);
        Mat normalNeighbours, abnormalNeighbours, representation;
        neighbourFeatures(*normal, features, Mat(), normalNeighbours);
        neighbourFeatures(*banks_->getAbnormalBank(), features, Mat(), abnormalNeighbours);
        const int64 scoreStart = getTickCount();
        enhancement_->compute(features, normalNeighbours, abnormalNeighbours, representation);
        head_->compute(representation, scores);
        addTiming(0, 0, (double)(scoreStart - start) * 1000.0 / getTickFrequency(), elapsedMs(scoreStart), 0);
    }

    //! Rows of k neighbours' features, nearest first (n x k*D).
    void neighbourFeatures(const MemoryBank& bank, const Mat& queries, const Mat& exclude, Mat& out) const
    {
        Mat d, idx;
        bank.search(queries, params_.neighbours, d, idx, exclude);
        out = gatherRows(bank.getFeatures(), idx);
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

    Params params_;
    Size grid_;
    //! Brings the backbone's features to unit RMS spread, so noiseStd means the same for every backbone.
    double featureScale_ = 1.0;
    Ptr<FeatureExtractor> extractor_;
    Ptr<DualMemoryBank> banks_;
    Ptr<KnowledgeEnhancement> enhancement_;
    Ptr<ScoringHead> head_;
    mutable std::mutex timingMutex_;
    mutable Timings timings_;
};

// ---------------------------------------------------------------------------------------------
// Training

namespace {

//! Extracts the features of every image of a source, a few batches at a time, with progress.
Mat extractAll(const FeatureExtractor& extractor, const ImageSource& images, const String& task)
{
    const int cells = extractor.gridSize().area(), D = extractor.featureDims();
    Mat all(images.size() * cells, D, CV_32F);
    ProgressReporter progress(task, images.size());
    const int chunk = std::max(1, extractor.getParams().batchSize);
    for (int first = 0; first < images.size(); first += chunk)
    {
        const int last = std::min(images.size(), first + chunk);
        std::vector<Mat> batch;
        for (int i = first; i < last; i++)
            batch.push_back(images.get(i));
        Mat part = all.rowRange(first * cells, last * cells);
        Size grid;
        try
        {
            extractor.extractBatch(batch, part, grid);
        }
        catch (const cv::Exception& e)
        {
            CV_Error(e.code, cv::format("%s (%s)", e.err.c_str(),
                                        last - first == 1 ? images.name(first).c_str()
                                                          : cv::format("%s .. %s", images.name(first).c_str(),
                                                                       images.name(last - 1).c_str()).c_str()));
        }
        progress.advance(last - first);
    }
    progress.finish(cv::format("%d images, %d patches", images.size(), all.rows));
    return all;
}

/** 1 / sqrt(mean per-dimension variance) of the normal training features: backbones differ in
    scale by an order of magnitude, while the pseudo-anomaly noise and the learning rates assume one. */
double unitSpreadScale(const Mat& features)
{
    Mat mean, sq;
    reduce(features, mean, 0, REDUCE_AVG, CV_64F);
    Mat f64;
    double meanVariance = 0;
    const int step = std::max(1, features.rows / 100000);  // a subsample is plenty for one number
    int n = 0;
    for (int i = 0; i < features.rows; i += step, n++)
        for (int c = 0; c < features.cols; c++)
        {
            const double d = features.at<float>(i, c) - mean.at<double>(c);
            meanVariance += d * d;
        }
    meanVariance /= (double)n * features.cols;
    return meanVariance > 0 ? 1.0 / std::sqrt(meanVariance) : 1.0;
}

Mat column(const std::vector<int>& v)
{
    return Mat(v, true).reshape(1, (int)v.size());
}

/** Pseudo anomalies for the unsupervised abnormal bank: a texture pasted into normal training images
    through a Perlin mask (DRAEM), kept where the mask touches the grid (the same Filter as annotated
    anomalies). The patches keep the id of their normal image, so leave-one-image-out hides them from
    that image's own training patches. */
void addSyntheticDefects(const FeatureExtractor& extractor, double featureScale, const ImageSource& normal, int images,
                         const std::vector<Mat>& textures, const std::vector<int>& classIds, RNG& rng,
                         DualMemoryBank::Sources& sources)
{
    const Size grid = extractor.gridSize();
    const int n = std::min(images, normal.size());
    const int chunk = std::max(1, extractor.getParams().batchSize);
    ProgressReporter progress("synthetic-defects", n);
    std::vector<int> ids, classes;
    for (int first = 0; first < n; first += chunk)
    {
        std::vector<Mat> batch;
        std::vector<std::vector<int>> cellsHit;
        std::vector<int> sourceIds;
        for (int j = first; j < std::min(n, first + chunk); j++)
        {
            // evenly spread over the training list, so every class gets its share
            const int i = (int)((int64)j * normal.size() / n);
            const Mat texture = textures.empty() ? Mat() : textures[rng.uniform(0, (int)textures.size())];
            Mat anomalous, mask;
            synthesizeAnomaly(normal.get(i), texture, anomalous, mask, rng);
            batch.push_back(anomalous);
            cellsHit.push_back(maskedPatchIndices(mask, grid));
            sourceIds.push_back(i);
        }
        Mat features;
        Size g;
        extractor.extractBatch(batch, features, g);
        features *= featureScale;
        for (size_t b = 0; b < batch.size(); b++)
            for (int c : cellsHit[b])
            {
                sources.synthetic.push_back(features.row((int)b * grid.area() + c));
                ids.push_back(sourceIds[b]);
                classes.push_back(classIds.empty() ? -1 : classIds[sourceIds[b]]);
            }
        progress.advance((int64)batch.size());
    }
    progress.finish(cv::format("%d images, %d defect patches", n, sources.synthetic.rows));
    sources.syntheticImageIds = column(ids);
    sources.syntheticClassIds = column(classes);
}

} // namespace

void DMADImpl::trainFrom(const ImageSource& normal, const ImageSource& anomalous, const ImageSource& masks,
                         const std::vector<int>& classIds)
{
    CV_TRACE_FUNCTION();
    validate(params_);
    const int nNormal = normal.size(), nAnomalous = anomalous.size();
    if (nNormal < 2)
        CV_Error(Error::StsBadArg, cv::format("dmad: training needs at least 2 normal images (got %d)", nNormal));
    if (masks.size() != nAnomalous)
        CV_Error(Error::StsBadArg, cv::format("dmad: %d anomalous images but %d masks", nAnomalous, masks.size()));
    if (!classIds.empty() && (int)classIds.size() != nNormal + nAnomalous)
        CV_Error(Error::StsBadSize, cv::format("dmad: %d class ids for %d images", (int)classIds.size(),
                                               nNormal + nAnomalous));
    const int64 startTicks = getTickCount();
    RNG rng((uint64)(int64)params_.seed * 0x9E3779B97F4A7C15ULL + 11);

    Ptr<FeatureExtractor> extractor = FeatureExtractor::create(params_.backbone);
    const Size grid = extractor->gridSize();
    const int cells = grid.area();

    // 1. patch features of every normal image of every class
    DualMemoryBank::Sources sources;
    sources.normal = extractAll(*extractor, normal, "extract");
    const double featureScale = params_.normalizeFeatures ? unitSpreadScale(sources.normal) : 1.0;
    sources.normal *= featureScale;
    std::vector<int> normalImageIds(sources.normal.rows), normalClassIds(sources.normal.rows);
    for (int i = 0; i < sources.normal.rows; i++)
    {
        normalImageIds[i] = i / cells;
        normalClassIds[i] = classIds.empty() ? -1 : classIds[i / cells];
    }
    sources.normalImageIds = column(normalImageIds);
    sources.normalClassIds = column(normalClassIds);

    // 2. the masked patches of annotated anomalies (the "Filter")
    std::vector<int> annotatedImageIds, annotatedClassIds;
    const bool wantHead = params_.scorer == SCORER_DMAD;
    if (nAnomalous > 0 && wantHead)
    {
        ProgressReporter progress("extract-anomalies", nAnomalous);
        for (int j = 0; j < nAnomalous; j++)
        {
            const Mat image = anomalous.get(j), mask = masks.get(j, IMREAD_GRAYSCALE);
            if (mask.size() != image.size())
                CV_Error(Error::StsBadSize, cv::format("dmad: mask of %s is %dx%d, the image %dx%d",
                                                       anomalous.name(j).c_str(), mask.cols, mask.rows, image.cols,
                                                       image.rows));
            const std::vector<int> cellsHit = maskedPatchIndices(mask, grid);
            if (cellsHit.empty())
                CV_Error(Error::StsBadArg, cv::format("dmad: the mask of %s marks no defect pixel",
                                                      anomalous.name(j).c_str()));
            Mat f;
            Size g;
            extractor->extract(image, f, g);
            f *= featureScale;
            for (int c : cellsHit)
            {
                sources.annotated.push_back(f.row(c));
                annotatedImageIds.push_back(nNormal + j);
                annotatedClassIds.push_back(classIds.empty() ? -1 : classIds[nNormal + j]);
            }
            progress.advance(1);
        }
        sources.annotatedImageIds = column(annotatedImageIds);
        sources.annotatedClassIds = column(annotatedClassIds);
    }

    // 3. out-of-domain textures and synthetic defects, for the recipes that use them
    const int flags = nAnomalous > 0 ? params_.banks.supervisedSources : params_.banks.unsupervisedSources;
    // synthetic defects also serve the loss (syntheticWeight), with or without annotated ones
    const bool wantSynthetic = (flags & DualMemoryBank::ABNORMAL_SYNTHETIC) || params_.syntheticWeight > 0;
    if (wantHead && ((flags & DualMemoryBank::ABNORMAL_TEXTURES) || wantSynthetic))
    {
        std::vector<Mat> textures;
        if (!params_.textureFolder.empty())
            loadTextures(params_.textureFolder, textures, params_.backbone.inputSize, params_.textureImages);
        else
            for (int t = 0; t < params_.textureImages; t++)
            {
                Mat texture;
                generateTexture(params_.backbone.inputSize, TEXTURE_RANDOM, rng, texture);
                textures.push_back(texture);
            }
        if ((flags & DualMemoryBank::ABNORMAL_TEXTURES) && !textures.empty())
            sources.textures = extractAll(*extractor, ImageSource(textures), "extract-textures") * featureScale;
        if (wantSynthetic && params_.syntheticImages > 0)
            addSyntheticDefects(*extractor, featureScale, normal, params_.syntheticImages, textures, classIds, rng,
                                sources);
    }

    // 4. both banks
    Ptr<DualMemoryBank> banks = DualMemoryBank::create(params_.banks);
    banks->build(sources, wantHead);
    const Ptr<MemoryBank> normalBank = banks->getNormalBank();
    Ptr<KnowledgeEnhancement> enhancement;
    Ptr<ScoringHead> head;

    if (wantHead)
    {
        const Ptr<MemoryBank> abnormalBank = banks->getAbnormalBank();
        const int k = params_.neighbours;
        if (normalBank->size() < k + 1 || abnormalBank->size() < k + 1)
            CV_Error(Error::StsBadArg, cv::format("dmad: banks of %d and %d entries are too small for %d neighbours",
                                                  normalBank->size(), abnormalBank->size(), k));

        // 5. training patches and their leave-one-image-out neighbours, computed once for all epochs
        const int perImage = std::max(1, (int)std::lround(params_.trainPatchRatio * cells));
        std::vector<int> rows;
        std::vector<int> cellOrder(cells);
        for (int c = 0; c < cells; c++)
            cellOrder[c] = c;
        for (int i = 0; i < nNormal; i++)
        {
            for (int c = 0; c < perImage; c++)  // partial Fisher-Yates: perImage distinct cells
                std::swap(cellOrder[c], cellOrder[c + rng.uniform(0, cells - c)]);
            for (int c = 0; c < perImage; c++)
                rows.push_back(i * cells + cellOrder[c]);
        }
        TrainingPatches normalPool, annotatedPool, syntheticPool;
        Mat poolIds((int)rows.size(), 1, CV_32S);
        normalPool.features.create((int)rows.size(), sources.normal.cols, CV_32F);
        for (size_t r = 0; r < rows.size(); r++)
        {
            sources.normal.row(rows[r]).copyTo(normalPool.features.row((int)r));
            poolIds.at<int>((int)r) = normalImageIds[rows[r]];
        }
        sources.normal.release();  // the pool and the banks are all training needs from here on

        auto neighbours = [&](TrainingPatches& pool, const Mat& ids, const String& task) {
            ProgressReporter progress(task, 2);
            Mat d;
            normalBank->search(pool.features, k, d, pool.normalNeighbours, ids);
            progress.advance(1);
            abnormalBank->search(pool.features, k, d, pool.abnormalNeighbours, ids);
            progress.finish(cv::format("%d patches", pool.size()));
            if (countNonZero(pool.normalNeighbours < 0) || countNonZero(pool.abnormalNeighbours < 0))
                CV_Error(Error::StsError, "dmad: too few bank entries from other images for the training patches");
        };
        neighbours(normalPool, poolIds, "neighbours");
        double anomalyWeight = params_.annotatedWeight;
        const bool syntheticInLoss = !sources.synthetic.empty() && params_.syntheticWeight > 0;
        if (!sources.annotated.empty())
        {
            // annotated defects add to the synthetic ones, never replace them: in a unified model
            // the classes without annotations still need an anomaly signal
            annotatedPool.features = sources.annotated;
            neighbours(annotatedPool, sources.annotatedImageIds, "neighbours-anomalies");
            if (syntheticInLoss)
            {
                syntheticPool.features = sources.synthetic;
                neighbours(syntheticPool, sources.syntheticImageIds, "neighbours-synthetic");
            }
        }
        else if (syntheticInLoss)
        {
            // without annotated defects, the synthetic defects stand in for them (as in DRAEM)
            annotatedPool.features = sources.synthetic;
            neighbours(annotatedPool, sources.syntheticImageIds, "neighbours-synthetic");
            anomalyWeight = params_.syntheticWeight;
        }

        // 6. score learning
        const int D = extractor->featureDims();
        KnowledgeEnhancement::Params ep;
        ep.featureDims = D;
        ep.neighbours = k;
        ep.distances = params_.distanceFeatures;
        ep.seed = params_.seed;
        enhancement = KnowledgeEnhancement::create(ep);
        ScoringHead::Params hp;
        hp.inputDims = enhancement->representationDims();
        hp.hiddenDims = params_.hiddenDims;
        hp.seed = params_.seed;
        head = ScoringHead::create(hp);

        TrainerSettings ts;
        ts.epochs = params_.epochs;
        ts.batchPatches = params_.batchPatches;
        ts.annotatedBatchPatches = std::max(1, params_.batchPatches / 16);
        ts.noiseStd = params_.noiseStd;
        ts.margin = params_.margin;
        ts.annotatedWeight = anomalyWeight;
        ts.syntheticBatchPatches = ts.annotatedBatchPatches;
        ts.syntheticWeight = params_.syntheticWeight;
        ts.headLearningRate = params_.headLearningRate;
        ts.headWeightDecay = params_.headWeightDecay;
        ts.adaptorLearningRate = params_.adaptorLearningRate;
        ts.adaptorWeightDecay = params_.adaptorWeightDecay;
        ts.enhancementLearningRate = params_.enhancementLearningRate;
        ts.enhancementWeightDecay = params_.enhancementWeightDecay;
        ts.trainEnhancement = params_.trainEnhancement;
        ts.featureSpaceNoise = params_.pseudoAnomalies == PSEUDO_FEATURE_NOISE;
        ts.seed = params_.seed;
        ScoreTrainer(ts).train(networkOf(*enhancement), networkOf(*head), normalPool, annotatedPool,
                               normalBank->getFeatures(), abnormalBank->getFeatures(), syntheticPool);
    }

    grid_ = grid;
    featureScale_ = featureScale;
    extractor_ = extractor;
    banks_ = banks;
    enhancement_ = enhancement;
    head_ = head;
    CV_LOG_INFO(NULL, "dmad: trained in " << (getTickCount() - startTicks) / getTickFrequency() << " s");
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

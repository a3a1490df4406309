// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// DMAD::Params: the CPU and paper presets, their checks and their file form.

#include "precomp.hpp"
#include "dmad_params.hpp"
#include "io/persistence.hpp"
#include "scoring/score_fusion.hpp"

#include <limits>

namespace cv {
namespace dmad {

// The CPU configuration. It departs from the reference code where a few thousand training steps on
// two cores must do the work of 160 epochs on a GPU; doc/model.md has the measurements:
// - features scaled to unit RMS spread, noise 0.25 of that spread, added to the features before the
//   enhancement (the reference's 0.015 on the representation left the loss on its plateau of 1.0);
// - the nearest-entry distances in the representation;
// - synthetic defect patches in the loss, standing in for annotated ones when nothing is annotated
//   and added to them in the classes with fewer than 5 annotated (syntheticUntilAnnotated);
// - 5x the reference's learning rates, batches of 1024 patches, 8 epochs over a quarter of the patches,
//   as many from every class (balanceClasses);
// - three enhancement + head pairs from their own seeds, their head scores averaged (scoringHeads).
DMAD::TrainingParams::TrainingParams()
    : trainEnhancement(true), epochs(8), batchPatches(1024), trainPatchRatio(0.25), balanceClasses(true),
      noiseStd(0.25), margin(0.5), annotatedWeight(10), headLearningRate(1e-3), headWeightDecay(1e-5),
      adaptorLearningRate(5e-4), adaptorWeightDecay(1e-2), enhancementLearningRate(5e-4),
      enhancementWeightDecay(1e-2), syntheticWeight(1), syntheticUntilAnnotated(5),
      pseudoAnomalies(PSEUDO_FEATURE_NOISE), updateEpochs(60), updatePatches(8192), validationFraction(0)
{
}

DMAD::Params::Params()
    : backbone(FeatureExtractor::preset("mobilenet_v2")), scorer(SCORER_DMAD), scoreMode(SCORE_DISTANCE_AND_HEAD),
      headWeight(0.5), annotatedHeadWeight(2), headLimit(5), neighbours(1), hiddenDims(256), scoringHeads(3),
      syntheticImages(200), textureImages(47), distanceFeatures(true), normalizeFeatures(true), mapSigma(4),
      calibrationImages(64), calibrationFraction(0), seed(0)
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
    p.scoringHeads = 1;
    p.training.epochs = 160;
    p.training.batchPatches = 32768;
    p.training.trainPatchRatio = 1.0;
    p.training.balanceClasses = false;
    p.training.noiseStd = 0.015;
    p.training.pseudoAnomalies = PSEUDO_REPRESENTATION_NOISE;
    p.distanceFeatures = false;
    p.normalizeFeatures = false;
    p.training.syntheticWeight = 0;
    p.training.headLearningRate = 2e-4;
    p.training.adaptorLearningRate = p.training.enhancementLearningRate = 1e-4;
    p.scoreMode = SCORE_HEAD;
    p.annotatedHeadWeight = p.headWeight;
    return p;
}

void DMAD::Params::write(FileStorage& fs) const
{
    // the training fields stay flat in the file, as before TrainingParams, so old files read the same
    const TrainingParams& t = training;
    fs << "scorer" << scorer << "score_mode" << scoreMode << "head_weight" << headWeight
       << "annotated_head_weight" << annotatedHeadWeight << "head_limit" << headLimit << "neighbours" << neighbours
       << "train_enhancement" << (int)t.trainEnhancement << "hidden_dims" << hiddenDims << "scoring_heads" << scoringHeads << "epochs" << t.epochs << "batch_patches" << t.batchPatches
       << "train_patch_ratio" << t.trainPatchRatio << "balance_classes" << (int)t.balanceClasses
       << "noise_std" << t.noiseStd << "margin" << t.margin
       << "annotated_weight" << t.annotatedWeight << "head_learning_rate" << t.headLearningRate
       << "head_weight_decay" << t.headWeightDecay << "adaptor_learning_rate" << t.adaptorLearningRate
       << "adaptor_weight_decay" << t.adaptorWeightDecay << "enhancement_learning_rate" << t.enhancementLearningRate
       << "enhancement_weight_decay" << t.enhancementWeightDecay << "synthetic_images" << syntheticImages
       << "texture_images" << textureImages << "synthetic_weight" << t.syntheticWeight
       << "synthetic_until_annotated" << t.syntheticUntilAnnotated
       << "pseudo_anomalies" << t.pseudoAnomalies << "update_epochs" << t.updateEpochs
       << "update_patches" << t.updatePatches << "validation_fraction" << t.validationFraction
       << "distance_features" << (int)distanceFeatures
       << "normalize_features" << (int)normalizeFeatures
       << "texture_folder" << textureFolder << "map_sigma" << mapSigma
       << "calibration_fraction" << calibrationFraction << "calibration_images" << calibrationImages
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
    // models saved before the distance-and-head score scored with the head alone
    scoreMode = node["score_mode"].empty() ? SCORE_HEAD : readInt(node, "score_mode", where);
    headWeight = node["head_weight"].empty() ? 0.0 : readReal(node, "head_weight", where);
    // models saved before it weighted every class alike
    annotatedHeadWeight = node["annotated_head_weight"].empty() ? headWeight
                                                                : readReal(node, "annotated_head_weight", where);
    // models saved before it had no limit
    headLimit = node["head_limit"].empty() ? 0.0 : readReal(node, "head_limit", where);
    neighbours = readInt(node, "neighbours", where);
    training.trainEnhancement = readInt(node, "train_enhancement", where) != 0;
    hiddenDims = readInt(node, "hidden_dims", where);
    // models saved before it had one head
    scoringHeads = node["scoring_heads"].empty() ? 1 : readInt(node, "scoring_heads", where);
    training.epochs = readInt(node, "epochs", where);
    training.batchPatches = readInt(node, "batch_patches", where);
    training.trainPatchRatio = readReal(node, "train_patch_ratio", where);
    // models saved before it weighed each class by its image count
    training.balanceClasses = !node["balance_classes"].empty() && readInt(node, "balance_classes", where) != 0;
    training.noiseStd = readReal(node, "noise_std", where);
    training.margin = readReal(node, "margin", where);
    training.annotatedWeight = readReal(node, "annotated_weight", where);
    training.headLearningRate = readReal(node, "head_learning_rate", where);
    training.headWeightDecay = readReal(node, "head_weight_decay", where);
    training.adaptorLearningRate = readReal(node, "adaptor_learning_rate", where);
    training.adaptorWeightDecay = readReal(node, "adaptor_weight_decay", where);
    training.enhancementLearningRate = readReal(node, "enhancement_learning_rate", where);
    training.enhancementWeightDecay = readReal(node, "enhancement_weight_decay", where);
    syntheticImages = readInt(node, "synthetic_images", where);
    textureImages = readInt(node, "texture_images", where);
    training.syntheticWeight = readReal(node, "synthetic_weight", where);
    // models saved before it kept synthetic defects in every class
    training.syntheticUntilAnnotated =
        node["synthetic_until_annotated"].empty() ? 0 : readInt(node, "synthetic_until_annotated", where);
    training.pseudoAnomalies = readInt(node, "pseudo_anomalies", where);
    training.updateEpochs = node["update_epochs"].empty() ? 20 : readInt(node, "update_epochs", where);
    // models saved before the update sample kept none
    training.updatePatches = node["update_patches"].empty() ? 0 : readInt(node, "update_patches", where);
    // models saved before validation trained on every image
    training.validationFraction =
        node["validation_fraction"].empty() ? 0.0 : readReal(node, "validation_fraction", where);
    distanceFeatures = readInt(node, "distance_features", where) != 0;
    normalizeFeatures = readInt(node, "normalize_features", where) != 0;
    textureFolder = node["texture_folder"].isString() ? (String)node["texture_folder"] : String();
    mapSigma = readReal(node, "map_sigma", where);
    // models saved before calibration held nothing out
    calibrationFraction = node["calibration_fraction"].empty() ? 0.0 : readReal(node, "calibration_fraction", where);
    calibrationImages = node["calibration_images"].empty() ? 0 : readInt(node, "calibration_images", where);
    seed = readInt(node, "seed", where);
    backbone.read(node["backbone"]);
    banks.read(node["banks"]);
}

DMAD::Timings::Timings() : images(0), extractMs(0), searchMs(0), scoreMs(0), mapMs(0) {}

DMAD::Inspection::Inspection()
    : score(0), classId(-1), threshold(std::numeric_limits<double>::quiet_NaN()),
      normalizedScore(std::numeric_limits<float>::quiet_NaN()), anomalous(false)
{
}

void validateParams(const DMAD::Params& p)
{
    const DMAD::TrainingParams& t = p.training;
    if (p.scorer != DMAD::SCORER_DMAD && p.scorer != DMAD::SCORER_PATCHCORE)
        CV_Error(Error::StsBadArg, cv::format("dmad: unknown scorer %d", p.scorer));
    if (p.scoreMode != DMAD::SCORE_HEAD && p.scoreMode != DMAD::SCORE_DISTANCE_AND_HEAD)
        CV_Error(Error::StsBadArg, cv::format("dmad: unknown score mode %d", p.scoreMode));
    if (!(p.headWeight >= 0 && p.headWeight <= ScoreFusion::kMaxHeadWeight))
        CV_Error(Error::StsBadArg, cv::format("dmad: headWeight %g must be in [0, %g]", p.headWeight,
                                              ScoreFusion::kMaxHeadWeight));
    if (!(p.annotatedHeadWeight >= 0 && p.annotatedHeadWeight <= ScoreFusion::kMaxHeadWeight))
        CV_Error(Error::StsBadArg, cv::format("dmad: annotatedHeadWeight %g must be in [0, %g]",
                                              p.annotatedHeadWeight, ScoreFusion::kMaxHeadWeight));
    if (!(p.headLimit >= 0 && p.headLimit <= ScoreFusion::kMaxHeadLimit))
        CV_Error(Error::StsBadArg, cv::format("dmad: headLimit %g must be in [0, %g] (0: none)", p.headLimit,
                                              ScoreFusion::kMaxHeadLimit));
    if (t.pseudoAnomalies != DMAD::PSEUDO_REPRESENTATION_NOISE && t.pseudoAnomalies != DMAD::PSEUDO_FEATURE_NOISE)
        CV_Error(Error::StsBadArg, cv::format("dmad: unknown pseudo-anomaly mode %d", t.pseudoAnomalies));
    if (t.updateEpochs < 1)
        CV_Error(Error::StsBadArg, cv::format("dmad: updateEpochs %d must be >= 1", t.updateEpochs));
    if (t.updatePatches < 0)
        CV_Error(Error::StsBadArg, cv::format("dmad: updatePatches %d must be >= 0", t.updatePatches));
    if (p.neighbours < 1 || p.neighbours > 64 || p.hiddenDims < 1 || t.epochs < 1 || t.batchPatches < 2)
        CV_Error(Error::StsBadArg, "dmad: neighbours (1..64), hiddenDims, epochs and batchPatches (>= 2) "
                                   "must be positive");
    if (p.scoringHeads < 1 || p.scoringHeads > 16)
        CV_Error(Error::StsBadArg, cv::format("dmad: scoringHeads %d must be in [1, 16]", p.scoringHeads));
    if (!(t.trainPatchRatio > 0 && t.trainPatchRatio <= 1))
        CV_Error(Error::StsBadArg, "dmad: trainPatchRatio must be in (0, 1]");
    if (!(t.noiseStd >= 0) || !(t.margin >= 0) || !(t.annotatedWeight >= 0))
        CV_Error(Error::StsBadArg, "dmad: noiseStd, margin and annotatedWeight must be >= 0");
    if (!(p.mapSigma >= 0 && p.mapSigma <= 64))  // 64 px at 256 px blurs a quarter of the image
        CV_Error(Error::StsBadArg, cv::format("dmad: mapSigma %g must be in [0, 64]", p.mapSigma));
    if (!(p.calibrationFraction >= 0 && p.calibrationFraction <= 0.5))
        CV_Error(Error::StsBadArg, cv::format("dmad: calibrationFraction %g must be in [0, 0.5]",
                                              p.calibrationFraction));
    if (!(t.validationFraction >= 0 && t.validationFraction <= 0.5))
        CV_Error(Error::StsBadArg, cv::format("dmad: validationFraction %g must be in [0, 0.5]",
                                              t.validationFraction));
    if (p.calibrationImages < 0)
        CV_Error(Error::StsBadArg, cv::format("dmad: calibrationImages %d must be >= 0", p.calibrationImages));
    if (p.syntheticImages < 0 || p.textureImages < 0 || !(t.syntheticWeight >= 0))
        CV_Error(Error::StsBadArg, "dmad: syntheticImages, textureImages and syntheticWeight must be >= 0");
    if (t.syntheticUntilAnnotated < 0)
        CV_Error(Error::StsBadArg, cv::format("dmad: syntheticUntilAnnotated %d must be >= 0 (0: never)",
                                              t.syntheticUntilAnnotated));
}

}} // namespace cv::dmad

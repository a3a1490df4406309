// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_DMAD_HPP
#define OPENCV_DMAD_DMAD_HPP

#include "opencv2/dmad/dual_memory_bank.hpp"
#include "opencv2/dmad/feature_extractor.hpp"
#include "opencv2/dmad/knowledge_enhancement.hpp"
#include "opencv2/dmad/scoring_head.hpp"

namespace cv {
namespace dmad {

//! @addtogroup dmad
//! @{

/** @brief One anomaly detector for every product class @cite hu2024dmad.

train() learns from the normal images of all classes together and, when given, a few annotated
anomalies with their masks; predict() scores any image of those classes without a class label:

image -> FeatureExtractor -> patch features -> nearest entries in the normal and abnormal banks
(DualMemoryBank) -> KnowledgeEnhancement -> ScoringHead -> patch scores -> anomaly map and image score.

With Params::scorer = SCORER_PATCHCORE the same features and normal bank score patches by their
distance to the nearest normal patch (PatchCore @cite roth2022towards), the baseline DMAD is measured
against.

predict() is const and safe to call from several threads at once.
*/
class CV_EXPORTS_W DMAD : public Algorithm
{
public:
    enum Scorer
    {
        SCORER_DMAD = 0,      //!< the learned score of the enhanced representation
        SCORER_PATCHCORE = 1  //!< Euclidean distance to the nearest normal-bank entry
    };

    enum PseudoAnomalies
    {
        //! Gaussian noise on the enhanced representation of normal patches (the reference code)
        PSEUDO_REPRESENTATION_NOISE = 0,
        //! Gaussian noise on the patch features, before the enhancement: the noise shows in the
        //! distance to the banks too
        PSEUDO_FEATURE_NOISE = 1
    };

    /** @brief What the DMAD scorer's patch score is made of. */
    enum ScoreMode
    {
        //! the scoring head's output alone (the reference code)
        SCORE_HEAD = 0,
        /** the distance to the nearest normal entry plus headWeight times the head's score, each
            standardised on normal patches of the image's class scored leave-one-image-out: the
            score starts from the PatchCore distance and the head adds to it (doc/model.md) */
        SCORE_DISTANCE_AND_HEAD = 1
    };

    /** @brief How the score is learned: the hinge loss, its pseudo anomalies and the optimizers.
    The trainer reads it as it is. */
    struct CV_EXPORTS_W_SIMPLE TrainingParams
    {
        //! The CPU configuration's values (Params::cpu()).
        CV_WRAP TrainingParams();
        CV_PROP_RW bool trainEnhancement; //!< false: keep W_v and the BatchNorm affine at their initial values (reference code)
        CV_PROP_RW int epochs;            //!< passes over the cached training patches
        CV_PROP_RW int batchPatches;      //!< normal patches per training step (anomaly patches: 1/16 of it)
        CV_PROP_RW double trainPatchRatio;//!< fraction of each normal image's patches cached for training
        /** true (default): in a unified model every class trains the head on the same number of normal
            patches, trainPatchRatio of an average class's (more of each image of a class with few
            images, at most all of them; fewer of a class with many), so a product with few images
            is not outvoted by one with many. false: trainPatchRatio of every image's patches, each
            class weighs by its image count (the reference, and models saved before it). */
        CV_PROP_RW bool balanceClasses;
        CV_PROP_RW double noiseStd;       //!< sigma of the Gaussian pseudo anomalies
        CV_PROP_RW double margin;         //!< hinge margin (0.5)
        CV_PROP_RW double annotatedWeight;//!< loss weight of annotated anomaly patches (10)
        CV_PROP_RW double headLearningRate, headWeightDecay;                //!< Adam
        CV_PROP_RW double adaptorLearningRate, adaptorWeightDecay;          //!< AdamW
        CV_PROP_RW double enhancementLearningRate, enhancementWeightDecay;  //!< AdamW
        /** Loss weight of the synthetic defect patches: without annotated anomalies they stand in for
        them, with annotated ones they join them (classes without annotations keep an anomaly
        signal). 0: none, as the reference code. */
        CV_PROP_RW double syntheticWeight;
        /** Annotated anomalous images from which a class's synthetic defects leave the loss, N (5):
            from N on its real defects show the head what the class's anomalies look like, and
            synthetic ones would pull it toward their own appearance (doc/model.md, "Synthetic
            defects where nothing is annotated"). One annotated defect shows one kind only, so a
            class with 1 keeps all of its synthetic defect images and one with n between keeps a
            share (N - n) / (N - 1). Classes without annotations keep theirs. 0: every class keeps
            them (models saved before it). */
        CV_PROP_RW int syntheticUntilAnnotated;
        CV_PROP_RW int pseudoAnomalies;   //!< where the Gaussian pseudo anomalies are made: a PseudoAnomalies
        CV_PROP_RW int updateEpochs;      //!< DMAD::update(): passes over its normal patches (updatePatches)
        /** Normal training patches the model keeps (float16, drawn with the seed from the head's
            training patches) for DMAD::update() to refine the head on, so that the classes it
            updates get annotatedHeadWeight as in train(). 0: none; update() then refines on the
            normal bank's entries and keeps the weights. */
        CV_PROP_RW int updatePatches;
        /** Fraction of each class's normal training images, and of its annotated anomalies, that
            validate the score instead of training it, 0..0.5 (floor of the fraction of each count,
            drawn with the seed; the images stay in both banks). After every epoch the head scores
            their patches, leave-one-image-out, against the held-out anomalies and the synthetic
            defects made in the held-out images, and training keeps the epoch of the best
            validation AUROC. 0 (default): no validation, the last epoch is kept; at 0.1 the CPU
            configuration's 8 epochs lost 0.7 to 0.8 mean image AUROC on the four shared classes
            (doc/model.md, "Model selection without test data"). update() does not validate. */
        CV_PROP_RW double validationFraction;
    };

    struct CV_EXPORTS_W_SIMPLE Params
    {
        //! The CPU configuration (see cpu()) with the "mobilenet_v2" backbone.
        CV_WRAP Params();
        /** @brief The paper's configuration: WideResNet50-2 layer2+layer3, D 1536, H 1024, 160 epochs
        of 32 images (32768 patches) per step; for a GPU or a long CPU run. */
        CV_WRAP static DMAD::Params paper(const String& wrn50Model = String());
        /** @brief Sized to train a unified model on about a thousand images in minutes on 2 cores. */
        CV_WRAP static DMAD::Params cpu(const String& backbonePreset = "mobilenet_v2",
                                  const String& backboneModel = String());

        CV_PROP_RW FeatureExtractor::Params backbone;
        CV_PROP_RW DualMemoryBank::Params banks;
        CV_PROP_RW int scorer;            //!< a Scorer
        CV_PROP_RW int scoreMode;         //!< a ScoreMode: what SCORER_DMAD's patch score is made of
        //! SCORE_DISTANCE_AND_HEAD: weight of the standardised head score against the standardised distance, 0..1000,
        //! in the classes without annotated anomalies (see annotatedHeadWeight)
        CV_PROP_RW double headWeight;
        /** SCORE_DISTANCE_AND_HEAD: the head weight of the classes with annotated anomalies, 0..1000.
            Their head learned from real defects, so its score is evidence the distance lacks; the
            other classes keep headWeight. update() gives it to the classes it updates when the
            model kept normal patches to refine on (TrainingParams::updatePatches; doc/model.md,
            "Annotations that pay"). */
        CV_PROP_RW double annotatedHeadWeight;
        /** SCORE_DISTANCE_AND_HEAD: the most the head adds to a patch's score (its weight times its
            standardised score), in tail-widths of the normal patches' distances, 0..1000; 0: no
            limit. A guard: a head that misfires on some normal patches cannot outvote the distance
            by more (doc/model.md, "A limit on the head's vote"). */
        CV_PROP_RW double headLimit;
        CV_PROP_RW int neighbours;        //!< k nearest entries per bank for the enhancement (1: reference)
        CV_PROP_RW int hiddenDims;        //!< H of the scoring head
        /** Enhancement + head pairs trained alike on the same patches, each from its own seed, whose
            head scores are averaged, 1..16 (3). One pair's training moves a class's image AUROC by
            up to 5 points from one training seed to the next; three are steadier and better than
            each (doc/model.md, "Several heads"), for about twice the training time and 3x the
            scoring stage (a fifth of the search's). 1: the reference's single head. */
        CV_PROP_RW int scoringHeads;
        CV_PROP_RW TrainingParams training; //!< score learning
        CV_PROP_RW int syntheticImages;   //!< normal training images that receive a synthetic defect (pseudo-anomaly bank)
        CV_PROP_RW int textureImages;     //!< texture images for the abnormal bank (47 as DTD's categories)
        CV_PROP_RW String textureFolder;  //!< folder of texture images (DTD); empty: procedural textures
        CV_PROP_RW bool distanceFeatures; //!< KnowledgeEnhancement::Params::distances
        CV_PROP_RW bool normalizeFeatures;//!< scale features to unit RMS spread (see getFeatureScale())
        CV_PROP_RW double mapSigma;       //!< Gaussian sigma of the anomaly map, in pixels at 256 px input, 0..64
        /** Normal training images per class scored leave-one-image-out (their own patches left
            out of both banks) to calibrate the decision thresholds (getDecisionThreshold()) when
            calibrationFraction is 0; 0: no calibration. Training fits on every image, so the
            scores do not change; scoring them costs about as much as testing as many images. */
        CV_PROP_RW int calibrationImages;
        /** Fraction of each class's normal training images held out of training (banks and head)
            to calibrate on instead, 0..0.5; a class keeps every image when the fraction of its
            count rounds down to none (fewer than 10 images at 0.1). The held-out images join the
            normal bank after calibration. Default 0: at 0.1 the image AUROC fell by 1.2 points on
            magnetic_tile alone and more in the four-class unified model (doc/model.md). */
        CV_PROP_RW double calibrationFraction;
        CV_PROP_RW int seed;

        void write(FileStorage& fs) const;
        void read(const FileNode& node);
    };

    /** @brief Time spent by predict(), predictBatch() and computePatchScores() since the last
    resetTimings(), per stage, summed over all calls and threads. */
    struct CV_EXPORTS_W_SIMPLE Timings
    {
        CV_WRAP Timings();
        CV_PROP_RW double images;     //!< images scored
        CV_PROP_RW double extractMs;  //!< backbone and patch aggregation
        CV_PROP_RW double searchMs;   //!< nearest-neighbour search in the banks
        CV_PROP_RW double scoreMs;    //!< enhancement and scoring head
        CV_PROP_RW double mapMs;      //!< anomaly map
    };

    CV_WRAP static Ptr<DMAD> create(const DMAD::Params& params = DMAD::Params());
    /** @brief Loads a model saved with save(). Its backbone file is looked up at the absolute path
    saved, then by file name beside the model file, then by file name in the folders of
    $OPENCV_DMAD_BACKBONE_PATH: a model moved with its backbone, or to a machine that keeps its
    backbones in one folder, loads from any working folder.
    @throws cv::Exception when the file is not a regular file of at most 1 GB (2 GB inflated), is
    damaged (checksum), was written by a newer format, or its backbone is not found. */
    CV_WRAP static Ptr<DMAD> load(const String& filename);

    /** @brief Trains one model for all classes.
    @param normalImages normal training images of every class (8/16-bit, 1, 3 or 4 channels).
    @param anomalousImages optional annotated anomalies (semi-supervised); empty: unsupervised.
    @param anomalyMasks one mask per anomalous image, the image's size, non-zero on the defect.
    @param classIds optional class id per normal image, then per anomalous image (metadata only).
    */
    CV_WRAP virtual void train(InputArrayOfArrays normalImages, InputArrayOfArrays anomalousImages = noArray(),
                               InputArrayOfArrays anomalyMasks = noArray(),
                               const std::vector<int>& classIds = std::vector<int>()) = 0;

    /** @brief Trains from image files, reading them as needed (large datasets).
    @param maskFiles one mask file per anomalous image file. */
    CV_WRAP virtual void trainFromFiles(const std::vector<String>& normalFiles,
                                        const std::vector<String>& anomalousFiles = std::vector<String>(),
                                        const std::vector<String>& maskFiles = std::vector<String>(),
                                        const std::vector<int>& classIds = std::vector<int>()) = 0;

    /** @brief Adds annotated anomalies to a trained model: defects annotated one by one after
    deployment. Their masked patches join the abnormal bank, and the enhancement and head are refined
    for TrainingParams::updateEpochs on them against the normal training patches the model kept
    (TrainingParams::updatePatches; in a model without them, the normal bank's entries), each with
    its neighbours from other images, so the normal training images are neither needed nor
    re-searched. The head's standardisation in the SCORE_DISTANCE_AND_HEAD score is moved so that
    those normal patches keep their standardised scores, and with them the calibrated thresholds
    their meaning; with kept patches, the updated classes get Params::annotatedHeadWeight.
    @param anomalousImages annotated anomalies (as for train()).
    @param anomalyMasks one mask per image, the image's size, non-zero on the defect.
    @param classIds optional class id per image (the ids given to train()).
    @throws cv::Exception for a model without a scoring head (PatchCore only) or bad input; the model
    is then unchanged. */
    CV_WRAP virtual void update(InputArrayOfArrays anomalousImages, InputArrayOfArrays anomalyMasks,
                                const std::vector<int>& classIds = std::vector<int>()) = 0;

    /** @brief Scores one image.
    @param image as for train().
    @param score output image score: the maximum patch score.
    @param anomalyMap optional output CV_32F map of the image's size (bilinear upsampling of the patch
    scores, Gaussian smoothing).
    */
    CV_WRAP virtual void predict(InputArray image, CV_OUT float& score, OutputArray anomalyMap = noArray()) const = 0;

    /** @brief Scores several images; scores is `n x 1` CV_32F. */
    CV_WRAP virtual void predictBatch(InputArrayOfArrays images, OutputArray scores,
                                      OutputArrayOfArrays anomalyMaps = noArray()) const = 0;

    /** @brief Patch scores of one image on the feature grid (`grid.height x grid.width` CV_32F). */
    CV_WRAP virtual void computePatchScores(InputArray image, OutputArray patchScores) const = 0;

    CV_WRAP virtual DMAD::Params getParams() const = 0;
    /** @brief The factor, fixed at training, that every patch feature is multiplied by before the
    banks: it brings the backbone's features to unit RMS spread, so noiseStd and the learning rates
    mean the same for every backbone. */
    CV_WRAP virtual double getFeatureScale() const = 0;
    CV_WRAP virtual DMAD::Timings getTimings() const = 0;
    CV_WRAP virtual void resetTimings() = 0;
    //! @brief Switches between the learned score and the PatchCore baseline without retraining.
    CV_WRAP virtual void setScorer(int scorer) = 0;

    /** @brief The decision threshold of the current scorer for one class, calibrated at training
    on images scored as new ones: normal training images with their own patches left out of the
    banks (Params::calibrationImages), or held-out ones (Params::calibrationFraction), and, in the
    semi-supervised mode, the annotated anomalies (whose masked patches training did fit on: their
    scores are optimistic). F1-optimal between the two where a class has anomalies, else the 0.99
    quantile of its normal scores. Each class with at least 8 calibration images has its own
    threshold (a unified model's classes differ in score scale); the others, and classId -1, get
    the one of all classes pooled. An image whose score is above it is anomalous.
    @param classId a class id given to train() (inspect() tells an image's), or -1
    @return the threshold, or NaN when the model has none (calibrationImages 0, or saved before
    calibration existed). */
    CV_WRAP virtual double getDecisionThreshold(int classId = -1) const = 0;

    /** @brief A score of the current scorer mapped to [0, 1] with the class's calibrated threshold
    at 0.5: 0.5 + 0.5 (score - threshold) / (threshold - median calibration normal score),
    clipped; the typical normal image scores 0. Reads the same for every class, model and scorer.
    @throws cv::Exception when the model has no calibration (getDecisionThreshold() is NaN). */
    CV_WRAP virtual float normalizeScore(float score, int classId = -1) const = 0;

    /** @brief What inspect() decides about one image. */
    struct CV_EXPORTS_W_SIMPLE Inspection
    {
        CV_WRAP Inspection();
        CV_PROP_RW float score;            //!< the raw image score, as predict() gives it
        /** The training class whose images the image resembles most (its mean patch feature is
            nearest to the class's mean normal patch feature); -1 for a model of one class or
            without calibration. */
        CV_PROP_RW int classId;
        CV_PROP_RW double threshold;       //!< that class's getDecisionThreshold(); NaN: none
        CV_PROP_RW float normalizedScore;  //!< normalizeScore() with that class; NaN: no calibration
        CV_PROP_RW bool anomalous;         //!< score > threshold (false without calibration)
    };

    /** @brief Scores one image and decides with the calibrated threshold of its class.
    @param image as for predict().
    @param anomalyMap optional output, as predict()'s. */
    CV_WRAP virtual DMAD::Inspection inspect(InputArray image,
                                             OutputArray anomalyMap = noArray()) const = 0;

    CV_WRAP virtual Ptr<FeatureExtractor> getFeatureExtractor() const = 0;
    CV_WRAP virtual Ptr<DualMemoryBank> getMemoryBanks() const = 0;
    //! The first of the Params::scoringHeads enhancements (empty for a PatchCore-only model).
    CV_WRAP virtual Ptr<KnowledgeEnhancement> getKnowledgeEnhancement() const = 0;
    //! The first of the Params::scoringHeads heads (empty for a PatchCore-only model).
    CV_WRAP virtual Ptr<ScoringHead> getScoringHead() const = 0;
};

//! @}

}} // namespace cv::dmad

#endif // OPENCV_DMAD_DMAD_HPP

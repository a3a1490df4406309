// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#ifndef OPENCV_DMAD_FEATURE_EXTRACTOR_HPP
#define OPENCV_DMAD_FEATURE_EXTRACTOR_HPP

#include <opencv2/core.hpp>

namespace cv {
namespace dmad {

//! @addtogroup dmad
//! @{

/** @brief Turns images into locally aware patch features with a frozen CNN run through cv::dnn.

The pipeline is the one of PatchCore @cite roth2022towards, SimpleNet @cite liu2023simplenet and
DMAD @cite hu2024dmad:
1. resize the image to the canvas (canvasSize(): Params::inputSize times Params::tiles), convert it
   to the network's channel order, apply `(x * scale - mean) / std` per channel;
2. run the backbone on each inputSize tile of the canvas, tap the named layers (NCHW feature maps,
   int8 codes are dequantised) and place the tiles' maps side by side, as the canvas holds them;
3. per layer, gather each cell's `patchSize x patchSize` neighbourhood (zero padding), giving a
   vector of `C * patchSize^2` values ordered channel, then row, then column;
4. upsample the coarser layers bilinearly (half-pixel centres) to the finest tapped grid;
5. adaptive-average-pool each layer's vector to Params::layerDims values, then the concatenation of
   all layers to Params::featureDims values.

The result holds one row per grid cell, row-major over the grid, image after image.

extract() is thread-safe: calls from several threads are serialised around the network.
*/
class CV_EXPORTS_W FeatureExtractor : public Algorithm
{
public:
    /** @brief Everything that defines the features; saved and loaded with the extractor. */
    struct CV_EXPORTS_W_SIMPLE Params
    {
        CV_WRAP Params();

        CV_PROP_RW String preset;      //!< name of the preset these values came from (informative)
        CV_PROP_RW String model;       //!< network file cv::dnn::readNet reads (.onnx first)
        CV_PROP_RW String config;      //!< optional second network file (.prototxt, .pbtxt, ...)
        CV_PROP_RW std::vector<String> layers;  //!< names of the tapped layers, as cv::dnn reports them
        /** Dequantisation of int8 layer outputs: `real = scale * (code + 128 - zeroPoint)`, with the
            zero point in the uint8 domain as ONNX QLinear nodes store it. One entry per layer, or
            empty when the tapped layers output floats. */
        CV_PROP_RW std::vector<float> layerScales;
        CV_PROP_RW std::vector<float> layerZeroPoints;
        CV_PROP_RW Size inputSize;     //!< network input size (width x height)
        CV_PROP_RW bool swapRB;        //!< true: feed the network RGB (cv::imread gives BGR)
        CV_PROP_RW double scale;       //!< pixel value multiplier, e.g. 1/255
        CV_PROP_RW Scalar mean;        //!< per network channel, subtracted after scaling
        CV_PROP_RW Scalar std;         //!< per network channel, divides after the mean
        CV_PROP_RW int patchSize;      //!< local aggregation neighbourhood (odd, >= 1)
        CV_PROP_RW int layerDims;      //!< per-layer pooled dimension (PatchCore's pretrain_embed_dimension)
        CV_PROP_RW int featureDims;    //!< final feature dimension D (target_embed_dimension)
        CV_PROP_RW int batchSize;      //!< images per network forward pass in extractBatch()
        /** false (default): the image is stretched to inputSize. true: its aspect ratio is kept,
            scaled to fit inputSize, centred and padded with the mean colour (zeros after
            normalisation); elongated parts then keep their shape at a coarser grid along their
            short side (doc/backbones.md, "Input geometry"). */
        CV_PROP_RW bool letterbox;
        /** Tiles across and down (1 x 1 by default, each 1..8): the image is resized to inputSize
            times tiles and each inputSize tile of it runs through the network on its own, so a
            large image keeps tiles times the detail and the grid grows by the same factor (more
            patches to store and search). The tiles' layer maps are joined before the patch
            aggregation, so a neighbourhood reaches across a seam (doc/backbones.md, "Input
            geometry"). */
        CV_PROP_RW Size tiles;

        void write(FileStorage& fs) const;
        void read(const FileNode& node);
    };

    /** @brief Layer names, quantisation and preprocessing of a known backbone.
    @param name one of presetNames(): "mobilenetv2-int8" (ONNX Model Zoo MobileNetV2 int8),
    "wrn50" (torchvision wide_resnet50_2 exported by tools/export_wrn50.py), "inception_v3" and
    "mobilenet_v2" (Keras ImageNet trunks from the npm package nsfwjs, converted by
    scripts/get-backbone.sh; fed RGB x/255), "inception_v3-tf" and "mobilenet_v2-tf" (the same
    fed x/127.5 - 1, Keras' ImageNet preprocessing). See doc/backbones.md.
    @param model path of the network file; empty keeps the preset's default file name.
    */
    CV_WRAP static FeatureExtractor::Params preset(const String& name,
                                                   const String& model = String());
    CV_WRAP static std::vector<String> presetNames();

    /** @brief The size an image is resized to before it is cut into tiles: Params::inputSize times
    Params::tiles. Grid cells, defect masks and anomaly maps are placed on it. */
    CV_WRAP static Size canvasSize(const FeatureExtractor::Params& params);

    /** @brief Where an image of `imageSize` lies on the canvas (canvasSize()): all of it, or with
    Params::letterbox the centred rectangle of its aspect ratio. Anomaly maps and defect masks
    are mapped through it. */
    CV_WRAP static Rect inputRegion(const FeatureExtractor::Params& params, Size imageSize);

    /** @brief Creates an extractor and loads its network.
    @throws cv::Exception for a missing or unreadable network file or an unknown layer name. */
    CV_WRAP static Ptr<FeatureExtractor> create(const FeatureExtractor::Params& params);

    /** @brief Loads an extractor saved with save() (the network file is loaded from its path). */
    CV_WRAP static Ptr<FeatureExtractor> load(const String& filename, const String& objname = String());

    /** @brief Patch features of one image.
    @param image 8-bit or 16-bit image with 1, 3 or 4 channels (BGR order, as cv::imread gives).
    @param features output `grid.area() x featureDims()` CV_32F matrix, row-major over the grid.
    @param grid output grid size (width x height) of the finest tapped layer.
    */
    CV_WRAP virtual void extract(InputArray image, OutputArray features, CV_OUT Size& grid) const = 0;

    /** @brief Patch features of several images, Params::batchSize at a time.
    @param images images as for extract(), of any sizes.
    @param features output `images.size() * grid.area() x featureDims()` CV_32F matrix.
    @param grid output grid size, the same for every image.
    */
    CV_WRAP virtual void extractBatch(InputArrayOfArrays images, OutputArray features,
                                      CV_OUT Size& grid) const = 0;

    /** @brief The grid extract() produces at the configured input size and tiles. */
    CV_WRAP virtual Size gridSize() const = 0;
    /** @brief The feature dimension D. */
    CV_WRAP virtual int featureDims() const = 0;
    CV_WRAP virtual FeatureExtractor::Params getParams() const = 0;

    /** @brief Passes through to cv::dnn::Net::setPreferableBackend.
    @throws cv::Exception when the OpenCV in use lacks the backend (e.g. no CUDA). */
    CV_WRAP virtual void setPreferableBackend(int backendId) = 0;
    /** @brief Passes through to cv::dnn::Net::setPreferableTarget. */
    CV_WRAP virtual void setPreferableTarget(int targetId) = 0;
};

/** @brief The aggregation of FeatureExtractor (steps 3 to 5) on given layer outputs.

Use it to build the same patch features from a backbone run elsewhere.
@param layerOutputs one float NCHW blob per layer, all with the same batch size N.
@param features output `N * grid.area() x featureDims` CV_32F matrix.
@param grid output size of the finest layer's grid (the largest width x height).
@param patchSize odd neighbourhood size.
@param layerDims per-layer pooled dimension.
@param featureDims final dimension.
*/
CV_EXPORTS_W void aggregatePatchFeatures(InputArrayOfArrays layerOutputs, OutputArray features,
                                         CV_OUT Size& grid, int patchSize, int layerDims,
                                         int featureDims);

//! @}

}} // namespace cv::dmad

#endif // OPENCV_DMAD_FEATURE_EXTRACTOR_HPP

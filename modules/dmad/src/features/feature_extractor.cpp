// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

// Image -> network input -> tapped layer outputs -> patch features (aggregatePatchFeatures).

#include "precomp.hpp"
#include "io/configuration.hpp"
#include "io/file_lookup.hpp"
#include "io/persistence.hpp"

#include <opencv2/core/cuda.hpp>
#include <opencv2/dnn.hpp>

#include <cstdlib>

namespace cv {
namespace dmad {

static const char* const kExtractorClass = "FeatureExtractor";
static const char* const kExtractorNode = "opencv_dmad_FeatureExtractor";

FeatureExtractor::Params::Params()
    : inputSize(256, 256), swapRB(true), scale(1.0 / 255.0), mean(0, 0, 0, 0), std(1, 1, 1, 1),
      patchSize(3), layerDims(1536), featureDims(1536), batchSize(8), letterbox(false), tiles(1, 1)
{
}

void FeatureExtractor::Params::write(FileStorage& fs) const
{
    fs << "preset" << preset << "model" << model << "config" << config;
    fs << "layers" << layers;
    // OpenCV 4.6 cannot write an empty vector in BASE64 mode: float backbones simply omit the keys
    if (!layerScales.empty())
        fs << "layer_scales" << layerScales << "layer_zero_points" << layerZeroPoints;
    fs << "input_size" << inputSize << "swap_rb" << (int)swapRB << "scale" << scale;
    fs << "mean" << mean << "std" << std;
    fs << "patch_size" << patchSize << "layer_dims" << layerDims << "feature_dims" << featureDims;
    fs << "batch_size" << batchSize << "letterbox" << (int)letterbox << "tiles" << tiles;
}

void FeatureExtractor::Params::read(const FileNode& node)
{
    const String where = "FeatureExtractor params";
    preset = node["preset"].isString() ? (String)node["preset"] : String();
    model = persistence::readString(node, "model", where);
    config = node["config"].isString() ? (String)node["config"] : String();
    layers.clear();
    node["layers"] >> layers;
    layerScales.clear();
    layerZeroPoints.clear();
    node["layer_scales"] >> layerScales;
    node["layer_zero_points"] >> layerZeroPoints;
    node["input_size"] >> inputSize;
    swapRB = persistence::readInt(node, "swap_rb", where) != 0;
    scale = persistence::readReal(node, "scale", where);
    node["mean"] >> mean;
    node["std"] >> std;
    patchSize = persistence::readInt(node, "patch_size", where);
    layerDims = persistence::readInt(node, "layer_dims", where);
    featureDims = persistence::readInt(node, "feature_dims", where);
    batchSize = node["batch_size"].isInt() ? (int)node["batch_size"] : 8;
    // extractors saved before letterboxing stretched
    letterbox = !node["letterbox"].empty() && persistence::readInt(node, "letterbox", where) != 0;
    // and before tiling ran the whole image at once
    tiles = Size(1, 1);
    if (!node["tiles"].empty())
    {
        std::vector<int> t;
        node["tiles"] >> t;
        if (t.size() != 2)
            CV_Error(Error::StsParseError, "dmad: FeatureExtractor params: 'tiles' is not a width and a height");
        tiles = Size(t[0], t[1]);
    }
}

namespace {

void checkTiles(Size tiles)
{
    if (tiles.width < 1 || tiles.height < 1 || tiles.width > 8 || tiles.height > 8)
        CV_Error(Error::StsBadArg, cv::format("dmad: tiles %dx%d: each must be in 1..8", tiles.width, tiles.height));
}

} // namespace

Size FeatureExtractor::canvasSize(const Params& params)
{
    checkTiles(params.tiles);
    return Size(params.inputSize.width * params.tiles.width, params.inputSize.height * params.tiles.height);
}

Rect FeatureExtractor::inputRegion(const Params& params, Size imageSize)
{
    const Size input = canvasSize(params);
    if (imageSize.width < 1 || imageSize.height < 1)
        CV_Error(Error::StsBadSize, cv::format("dmad: no input region for an image of %dx%d", imageSize.width,
                                               imageSize.height));
    if (!params.letterbox)
        return Rect(Point(), input);
    const double s = std::min((double)input.width / imageSize.width, (double)input.height / imageSize.height);
    const int w = std::max(1, std::min(input.width, (int)std::lround(imageSize.width * s)));
    const int h = std::max(1, std::min(input.height, (int)std::lround(imageSize.height * s)));
    return Rect((input.width - w) / 2, (input.height - h) / 2, w, h);
}

namespace {

void validate(const FeatureExtractor::Params& p)
{
    if (p.model.empty())
        CV_Error(Error::StsBadArg, "dmad: FeatureExtractor needs a model file (Params::model)");
    if (p.layers.empty())
        CV_Error(Error::StsBadArg, "dmad: FeatureExtractor needs at least one layer to tap (Params::layers)");
    if (!p.layerScales.empty() &&
        (p.layerScales.size() != p.layers.size() || p.layerZeroPoints.size() != p.layers.size()))
        CV_Error(Error::StsBadArg, "dmad: layerScales and layerZeroPoints need one entry per tapped layer");
    if (p.inputSize.width < 8 || p.inputSize.height < 8 ||
        (int64)p.inputSize.width * p.inputSize.height > 4096 * 4096)  // Size::area() would overflow
        CV_Error(Error::StsBadArg, cv::format("dmad: unsupported input size %dx%d",
                                              p.inputSize.width, p.inputSize.height));
    checkTiles(p.tiles);
    if ((int64)p.inputSize.area() * p.tiles.area() > 4096 * 4096)
        CV_Error(Error::StsBadArg, cv::format("dmad: input size %dx%d times tiles %dx%d is more than 4096x4096 pixels",
                                              p.inputSize.width, p.inputSize.height, p.tiles.width, p.tiles.height));
    for (int c = 0; c < 3; c++)
        if (!(p.std[c] > 0))
            CV_Error(Error::StsBadArg, "dmad: Params::std must be positive");
    if (p.patchSize < 1 || p.patchSize % 2 == 0 || p.patchSize > 15)
        CV_Error(Error::StsBadArg, cv::format("dmad: patchSize %d must be odd, 1..15", p.patchSize));
    if (p.layerDims < 1 || p.featureDims < 1 || p.layerDims > 65536 || p.featureDims > 65536)
        CV_Error(Error::StsBadArg, "dmad: layerDims and featureDims must be in 1..65536");
    if (p.batchSize < 1)
        CV_Error(Error::StsBadArg, "dmad: batchSize must be positive");
}

/** Refuses what toNetworkInput() cannot take, naming the image when there are several. Called for
    every image before any work starts. */
void checkImage(const Mat& image, size_t index, size_t count)
{
    const String which = count > 1 ? cv::format(" (image %d of %d)", (int)index, (int)count)
                                    : String();
    if (image.empty())
        CV_Error(Error::StsBadArg, "dmad: empty image" + which);
    if (image.dims != 2)
        CV_Error(Error::StsBadArg,
                 cv::format("dmad: image must be two-dimensional, not %d-dimensional%s", image.dims,
                            which.c_str()));
    const int depth = image.depth(), cn = image.channels();
    if (depth != CV_8U && depth != CV_16U)
        CV_Error(Error::StsBadArg,
                 cv::format("dmad: image depth %s is not supported (8-bit or 16-bit)%s",
                            cv::depthToString(depth), which.c_str()));
    if (cn != 1 && cn != 3 && cn != 4)
        CV_Error(Error::StsBadArg,
                 cv::format("dmad: images with %d channels are not supported (1, 3 or 4)%s", cn,
                            which.c_str()));
    if ((int64)image.cols * image.rows > kMaxImagePixels)
        CV_Error(Error::StsBadSize,
                 cv::format("dmad: image of %dx%d pixels is larger than the limit of 2^28 pixels%s",
                            image.cols, image.rows, which.c_str()));
}

/** Writes one image (checked by checkImage()), resized to the canvas and normalised, into the
    planar float slices `dst` (tiles x 3 x H x W, the tiles row by row). */
void toNetworkInput(const Mat& image, const FeatureExtractor::Params& p, float* dst)
{
    const int depth = image.depth(), cn = image.channels();
    Mat bgr;
    if (cn == 1)
        cvtColor(image, bgr, COLOR_GRAY2BGR);
    else if (cn == 4)
        cvtColor(image, bgr, COLOR_BGRA2BGR);
    else
        bgr = image;

    // Area interpolation when shrinking approximates the antialiased resize of the reference pipeline
    // (PIL through torchvision); bilinear when enlarging.
    const double toByteRange = depth == CV_16U ? 1.0 / 257.0 : 1.0;
    Mat resized;
    const Size target = FeatureExtractor::canvasSize(p);
    const Rect region = FeatureExtractor::inputRegion(p, bgr.size());
    if (bgr.size() == region.size())
        resized = bgr;
    else
    {
        const bool shrinking = bgr.cols >= region.width && bgr.rows >= region.height;
        resize(bgr, resized, region.size(), 0, 0, shrinking ? INTER_AREA : INTER_LINEAR);
    }
    if (region.size() != target)
    {
        // letterbox: the padding takes the mean colour, which normalises to zero
        Mat canvas(target, resized.type());
        Scalar fill;
        for (int c = 0; c < 3; c++)
            fill[p.swapRB ? 2 - c : c] = p.mean[c] / (p.scale * toByteRange);
        canvas.setTo(fill);
        resized.copyTo(canvas(region));
        resized = canvas;
    }

    const Size tile = p.inputSize;
    const int plane = tile.area();
    for (int t = 0; t < p.tiles.area(); t++)
    {
        const Point origin((t % p.tiles.width) * tile.width, (t / p.tiles.width) * tile.height);
        const Mat part = resized(Rect(origin, tile));
        for (int c = 0; c < 3; c++)
        {
            const int srcChannel = p.swapRB ? 2 - c : c;
            const float a = (float)(p.scale * toByteRange / p.std[c]);
            const float b = (float)(-p.mean[c] / p.std[c]);
            float* out = dst + ((size_t)t * 3 + c) * plane;
            for (int y = 0; y < tile.height; y++)
            {
                if (depth == CV_8U)
                {
                    const uchar* row = part.ptr<uchar>(y);
                    for (int x = 0; x < tile.width; x++)
                        out[y * tile.width + x] = row[x * 3 + srcChannel] * a + b;
                }
                else
                {
                    const ushort* row = part.ptr<ushort>(y);
                    for (int x = 0; x < tile.width; x++)
                        out[y * tile.width + x] = row[x * 3 + srcChannel] * a + b;
                }
            }
        }
    }
}

/** The layer maps of `tiles` consecutive tiles per image (N*T x C x h x w) placed side by side as
    the canvas holds them (N x C x h*rows x w*columns). */
Mat joinTiles(const Mat& maps, Size tiles)
{
    const int T = tiles.area();
    if (T == 1)
        return maps;
    const int n = maps.size[0] / T, C = maps.size[1], h = maps.size[2], w = maps.size[3];
    const int H = h * tiles.height, W = w * tiles.width;
    Mat joined(std::vector<int>{ n, C, H, W }, CV_32F);
    for (int i = 0; i < n; i++)
        for (int t = 0; t < T; t++)
        {
            const Rect place((t % tiles.width) * w, (t / tiles.width) * h, w, h);
            for (int c = 0; c < C; c++)
                Mat(h, w, CV_32F, (void*)maps.ptr<float>(i * T + t, c))
                    .copyTo(Mat(H, W, CV_32F, joined.ptr<float>(i, c))(place));
        }
    return joined;
}

String backendName(int id)
{
    switch (id)
    {
    case dnn::DNN_BACKEND_DEFAULT: return "DNN_BACKEND_DEFAULT";
    case dnn::DNN_BACKEND_OPENCV: return "DNN_BACKEND_OPENCV";
    case dnn::DNN_BACKEND_CUDA: return "DNN_BACKEND_CUDA";
    case dnn::DNN_BACKEND_INFERENCE_ENGINE: return "DNN_BACKEND_INFERENCE_ENGINE";
    case dnn::DNN_BACKEND_VKCOM: return "DNN_BACKEND_VKCOM";
    default: return cv::format("backend %d", id);
    }
}

/** Runs the network on the tiles of imgs[first, first+count); returns float NCHW blobs, one per
    tapped layer, with the tiles of each image joined. */
std::vector<Mat> runBackbone(dnn::Net& net, const FeatureExtractor::Params& params,
                         const std::vector<Mat>& imgs, size_t first, size_t count)
{
    const Size in = params.inputSize;
    const int T = params.tiles.area();
    Mat blob(std::vector<int>{ (int)count * T, 3, in.height, in.width }, CV_32F);
    parallel_for_(Range(0, (int)count), [&](const Range& r) {
        for (int i = r.start; i < r.end; i++)
            toNetworkInput(imgs[first + i], params, blob.ptr<float>(i * T));
    });
    std::vector<Mat> outs;
    net.setInput(blob);
    try
    {
        net.forward(outs, params.layers);
    }
    catch (const cv::Exception& e)
    {
        CV_Error(Error::StsError, cv::format("dmad: backbone forward pass failed: %s", e.err.c_str()));
    }
    CV_Assert(outs.size() == params.layers.size());
    for (size_t l = 0; l < outs.size(); l++)
    {
        Mat& o = outs[l];
        if (o.dims != 4 || o.size[0] != (int)count * T)
            CV_Error(Error::StsBadSize, cv::format("dmad: layer '%s' is not an NCHW feature map",
                                                   params.layers[l].c_str()));
        if (o.depth() == CV_8S)
        {
            if (params.layerScales.empty())
                CV_Error(Error::StsBadArg,
                         cv::format("dmad: layer '%s' outputs int8 codes; set Params::layerScales and "
                                    "layerZeroPoints", params.layers[l].c_str()));
            // real = scale * (q_uint8 - zero_point), and cv::dnn stores q_uint8 - 128 as int8
            Mat real;
            o.convertTo(real, CV_32F, params.layerScales[l],
                        params.layerScales[l] * (128.0 - params.layerZeroPoints[l]));
            o = real;
        }
        else if (o.depth() != CV_32F)
            CV_Error(Error::StsBadArg, cv::format("dmad: layer '%s' has unsupported depth %s",
                                                  params.layers[l].c_str(), cv::depthToString(o.depth())));
        else if (!o.isContinuous())
            o = o.clone();
        o = joinTiles(o, params.tiles);
    }
    return outs;
}

} // namespace

class FeatureExtractorImpl CV_FINAL : public FeatureExtractor
{
public:
    explicit FeatureExtractorImpl(const Params& params) { configure(params); }

    void extract(InputArray image, OutputArray features, Size& grid) const CV_OVERRIDE
    {
        std::vector<Mat> one(1, image.getMat());
        extractBatch(one, features, grid);
    }

    void extractBatch(InputArrayOfArrays images, OutputArray features, Size& grid) const CV_OVERRIDE
    {
        CV_TRACE_FUNCTION();
        std::vector<Mat> imgs;
        images.getMatVector(imgs);
        if (imgs.empty())
            CV_Error(Error::StsBadArg, "dmad: no images to extract features from");
        for (size_t i = 0; i < imgs.size(); i++)
            checkImage(imgs[i], i, imgs.size());
        const int cells = grid_.area(), D = params_.featureDims;
        features.create((int)imgs.size() * cells, D, CV_32F);
        Mat all = features.getMat();
        for (size_t first = 0; first < imgs.size(); first += params_.batchSize)
        {
            const size_t count = std::min(imgs.size() - first, (size_t)params_.batchSize);
            std::vector<Mat> taps = forward(imgs, first, count);
            Mat part = all.rowRange((int)first * cells, (int)(first + count) * cells);
            Size g;
            aggregatePatchFeatures(taps, part, g, params_.patchSize, params_.layerDims, D);
            CV_Assert(g == grid_ && part.data == all.ptr((int)first * cells));
        }
        grid = grid_;
    }

    Size gridSize() const CV_OVERRIDE { return grid_; }
    int featureDims() const CV_OVERRIDE { return params_.featureDims; }
    Params getParams() const CV_OVERRIDE { return params_; }

    void setPreferableBackend(int backendId) CV_OVERRIDE
    {
        if (backendId != dnn::DNN_BACKEND_DEFAULT && backendId != dnn::DNN_BACKEND_OPENCV)
        {
            bool available = false;
            for (const auto& pair : dnn::getAvailableBackends())
                available = available || pair.first == backendId;
            if (!available)
                CV_Error(Error::StsNotImplemented,
                         cv::format("dmad: %s is not available (OpenCV %s: built without it, or no usable device)",
                                    backendName(backendId).c_str(), CV_VERSION));
            // OpenCV 4.10 built with CUDA lists the CUDA backend without a device, then runs on the CPU.
            if (backendId == dnn::DNN_BACKEND_CUDA && cv::cuda::getCudaEnabledDeviceCount() < 1)
                CV_Error(Error::StsNotImplemented,
                         cv::format("dmad: DNN_BACKEND_CUDA is not available (OpenCV %s has CUDA, but no CUDA "
                                    "device is usable)", CV_VERSION));
        }
        std::lock_guard<std::mutex> lock(netMutex_);
        net_.setPreferableBackend(backendId);
        backend_ = backendId;
    }

    void setPreferableTarget(int targetId) CV_OVERRIDE
    {
        const int backend = backend_ == dnn::DNN_BACKEND_DEFAULT ? dnn::DNN_BACKEND_OPENCV : backend_;
        const std::vector<dnn::Target> targets = dnn::getAvailableTargets((dnn::Backend)backend);
        // compared as int: casting an unknown id to dnn::Target is undefined behaviour (UBSan)
        if (std::none_of(targets.begin(), targets.end(),
                         [targetId](dnn::Target t) { return (int)t == targetId; }))
            CV_Error(Error::StsNotImplemented,
                     cv::format("dmad: target %d is not available for %s in this OpenCV build",
                                targetId, backendName(backend_).c_str()));
        std::lock_guard<std::mutex> lock(netMutex_);
        net_.setPreferableTarget(targetId);
    }

    void write(FileStorage& fs) const CV_OVERRIDE
    {
        persistence::writeHeader(fs, kExtractorClass);
        params_.write(fs);
    }

    void read(const FileNode& node) CV_OVERRIDE
    {
        persistence::checkHeader(node, kExtractorClass, "FeatureExtractor node");
        Params p;
        p.read(node);
        configure(p);
    }

    void save(const String& filename) const CV_OVERRIDE
    {
        persistence::saveAlgorithm(filename, kExtractorNode, *this);
    }

    bool empty() const CV_OVERRIDE { return net_.empty(); }
    String getDefaultName() const CV_OVERRIDE { return kExtractorNode; }

private:
    void configure(const Params& requested)
    {
        validate(requested);
        Params params = requested;
        String searched;
        params.model = locateInSearchPath(requested.model, config::getString("BACKBONE_PATH"), searched);
        if (!fileExists(params.model))
            CV_Error(Error::StsObjectNotFound,
                     cv::format("dmad: backbone model file '%s' not found%s", params.model.c_str(),
                                searched.empty() ? " (file names are also looked up in $OPENCV_DMAD_BACKBONE_PATH, unset)"
                                                 : (" in $OPENCV_DMAD_BACKBONE_PATH (" + searched + ")").c_str()));
        if (!params.config.empty() && !fileExists(params.config))
            CV_Error(Error::StsObjectNotFound,
                     cv::format("dmad: backbone config file '%s' not found", params.config.c_str()));
        // saved as absolute paths, so that a model trained in one folder loads from any other
        params.model = absolutePath(params.model);
        params.config = absolutePath(params.config);
        dnn::Net net;
        try
        {
            net = dnn::readNet(params.model, params.config);
        }
        catch (const cv::Exception& e)
        {
            CV_Error(Error::StsParseError, cv::format("dmad: cannot load backbone '%s': %s",
                                                      params.model.c_str(), e.err.c_str()));
        }
        if (net.empty())
            CV_Error(Error::StsParseError, cv::format("dmad: cannot load backbone '%s'", params.model.c_str()));
        for (const String& layer : params.layers)
            if (net.getLayerId(layer) < 0)
                CV_Error(Error::StsBadArg, cv::format("dmad: backbone '%s' has no layer '%s'",
                                                      params.model.c_str(), layer.c_str()));

        // One forward pass on a blank image fixes the grid and checks the tapped outputs' types.
        const std::vector<Mat> blank(1, Mat(canvasSize(params), CV_8UC3, Scalar::all(0)));
        const std::vector<Mat> taps = runBackbone(net, params, blank, 0, 1);
        int finest = 0;
        for (size_t l = 0; l < taps.size(); l++)
            if ((int64)taps[l].size[2] * taps[l].size[3] > (int64)taps[finest].size[2] * taps[finest].size[3])
                finest = (int)l;
        std::lock_guard<std::mutex> lock(netMutex_);
        net_ = net;
        params_ = params;
        backend_ = dnn::DNN_BACKEND_DEFAULT;
        grid_ = Size(taps[finest].size[3], taps[finest].size[2]);
        CV_LOG_INFO(NULL, "dmad: backbone " << params.model << " taps " << taps.size() << " layers, grid "
                                            << grid_ << ", D=" << params.featureDims);
    }

    std::vector<Mat> forward(const std::vector<Mat>& imgs, size_t first, size_t count) const
    {
        std::lock_guard<std::mutex> lock(netMutex_);
        return runBackbone(net_, params_, imgs, first, count);
    }

    Params params_;
    Size grid_;
    int backend_ = dnn::DNN_BACKEND_DEFAULT;
    mutable dnn::Net net_;
    mutable std::mutex netMutex_;
};

Ptr<FeatureExtractor> FeatureExtractor::create(const Params& params)
{
    return makePtr<FeatureExtractorImpl>(params);
}

Ptr<FeatureExtractor> FeatureExtractor::load(const String& filename, const String& objname)
{
    FileStorage fs;
    const FileNode node = persistence::openNode(fs, filename, objname, kExtractorNode);
    try
    {
        persistence::checkHeader(node, kExtractorClass, filename);
        Params p;
        p.read(node);
        return create(p);
    }
    catch (const cv::Exception& e)
    {
        persistence::rethrowWithPlace(e, filename, node);
    }
}

}} // namespace cv::dmad

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "train/training_sources.hpp"
#include "io/progress.hpp"

#include <cmath>
#include <map>

namespace cv {
namespace dmad {

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
            cellsHit.push_back(maskedPatchIndices(mask, extractor.getParams(), grid));
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

double addNormalPatches(const FeatureExtractor& extractor, const ImageSource& normal,
                        const std::vector<int>& classIds, bool normalize, DualMemoryBank::Sources& sources)
{
    const int cells = extractor.gridSize().area();
    sources.normal = extractAll(extractor, normal, "extract");
    const double featureScale = normalize ? unitSpreadScale(sources.normal) : 1.0;
    sources.normal *= featureScale;
    std::vector<int> imageIds(sources.normal.rows), classes(sources.normal.rows);
    for (int i = 0; i < sources.normal.rows; i++)
    {
        imageIds[i] = i / cells;
        classes[i] = classIds.empty() ? -1 : classIds[i / cells];
    }
    sources.normalImageIds = column(imageIds);
    sources.normalClassIds = column(classes);
    return featureScale;
}

void addAnnotatedPatches(const FeatureExtractor& extractor, double featureScale, const ImageSource& anomalous,
                         const ImageSource& masks, int firstImageId, const std::vector<int>& classIds,
                         DualMemoryBank::Sources& sources)
{
    const Size grid = extractor.gridSize();
    std::vector<int> imageIds, classes;
    ProgressReporter progress("extract-anomalies", anomalous.size());
    for (int j = 0; j < anomalous.size(); j++)
    {
        const Mat image = anomalous.get(j), mask = masks.get(j, IMREAD_GRAYSCALE);
        if (mask.size() != image.size())
            CV_Error(Error::StsBadSize, cv::format("dmad: mask of %s is %dx%d, the image %dx%d",
                                                   anomalous.name(j).c_str(), mask.cols, mask.rows, image.cols,
                                                   image.rows));
        const std::vector<int> cellsHit = maskedPatchIndices(mask, extractor.getParams(), grid);
        if (cellsHit.empty())
            CV_Error(Error::StsBadArg, cv::format("dmad: the mask of %s marks no defect pixel",
                                                  anomalous.name(j).c_str()));
        Mat f;
        Size g;
        extractor.extract(image, f, g);
        f *= featureScale;
        for (int c : cellsHit)
        {
            sources.annotated.push_back(f.row(c));
            imageIds.push_back(firstImageId + j);
            classes.push_back(classIds.empty() ? -1 : classIds[firstImageId + j]);
        }
        progress.advance(1);
    }
    sources.annotatedImageIds = column(imageIds);
    sources.annotatedClassIds = column(classes);
}

std::vector<Mat> trainingTextures(const DMAD::Params& params, RNG& rng)
{
    std::vector<Mat> textures;
    if (!params.textureFolder.empty())
        loadTextures(params.textureFolder, textures, params.backbone.inputSize, params.textureImages);
    else
        for (int t = 0; t < params.textureImages; t++)
        {
            Mat texture;
            generateTexture(params.backbone.inputSize, TEXTURE_RANDOM, rng, texture);
            textures.push_back(texture);
        }
    return textures;
}

namespace {

//! Marks `countOf(class size)` images of each class, drawn with `seed`.
template <typename CountOf>
std::vector<char> drawPerClass(int normalCount, const std::vector<int>& classIds, uint64 seed, CountOf countOf)
{
    std::map<int, std::vector<int>> byClass;
    for (int i = 0; i < normalCount; i++)
        byClass[classIds.empty() ? -1 : classIds[i]].push_back(i);
    RNG rng(seed);
    std::vector<char> drawn((size_t)normalCount, 0);
    for (auto& entry : byClass)
    {
        std::vector<int>& images = entry.second;
        const int count = countOf((int)images.size());
        for (int j = 0; j < count; j++)  // a partial Fisher-Yates shuffle: the first `count` are drawn
        {
            const int pick = j + (int)rng.uniform(0, (int)images.size() - j);
            std::swap(images[j], images[pick]);
            drawn[(size_t)images[j]] = 1;
        }
    }
    return drawn;
}

} // namespace

void holdOutImages(int count, const std::vector<int>& classIds, double fraction, uint64 seed,
                   std::vector<int>& fitted, std::vector<int>& heldOut)
{
    const std::vector<char> held = drawPerClass(count, classIds, seed, [fraction](int n) {
        return (int)std::floor(fraction * (double)n + 1e-9);
    });
    fitted.clear();
    heldOut.clear();
    for (int i = 0; i < count; i++)
        (held[(size_t)i] ? heldOut : fitted).push_back(i);
}

std::vector<int> sampleCalibrationImages(int normalCount, const std::vector<int>& classIds, int perClass,
                                         uint64 seed)
{
    const std::vector<char> drawn = drawPerClass(normalCount, classIds, seed, [perClass](int n) {
        return std::min(n, perClass);
    });
    std::vector<int> picked;
    for (int i = 0; i < normalCount; i++)
        if (drawn[(size_t)i])
            picked.push_back(i);
    return picked;
}

}} // namespace cv::dmad

// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "precomp.hpp"
#include "train/training_pools.hpp"
#include "io/progress.hpp"
#include "train/validation.hpp"

#include <map>
#include <set>

namespace cv {
namespace dmad {

TrainingPatches sampleNormalPool(const DualMemoryBank::Sources& sources, int cells, double ratio,
                                 bool balanceClasses, RNG& rng, Mat& poolIds)
{
    const int images = sources.normal.rows / cells;
    std::vector<int> classOf(images, -1);
    std::map<int, int> imagesOfClass;
    for (int i = 0; i < images; i++)
    {
        if (!sources.normalClassIds.empty())
            classOf[i] = sources.normalClassIds.at<int>(i * cells);
        imagesOfClass[classOf[i]]++;
    }
    const double averageClassImages = images > 0 ? (double)images / (double)imagesOfClass.size() : 0.0;
    std::vector<int> rows;
    std::vector<int> cellOrder(cells);
    for (int c = 0; c < cells; c++)
        cellOrder[c] = c;
    for (int i = 0; i < images; i++)
    {
        const double share = balanceClasses ? averageClassImages / imagesOfClass[classOf[i]] : 1.0;
        const int perImage = std::min(cells, std::max(1, (int)std::lround(ratio * cells * share)));
        for (int c = 0; c < perImage; c++)  // partial Fisher-Yates: perImage distinct cells
            std::swap(cellOrder[c], cellOrder[c + rng.uniform(0, cells - c)]);
        for (int c = 0; c < perImage; c++)
            rows.push_back(i * cells + cellOrder[c]);
    }
    TrainingPatches pool;
    poolIds.create((int)rows.size(), 1, CV_32S);
    pool.features.create((int)rows.size(), sources.normal.cols, CV_32F);
    for (size_t r = 0; r < rows.size(); r++)
    {
        sources.normal.row(rows[r]).copyTo(pool.features.row((int)r));
        poolIds.at<int>((int)r) = sources.normalImageIds.at<int>(rows[r]);
    }
    return pool;
}

void selectSyntheticLossPatches(const DualMemoryBank::Sources& sources, int untilAnnotated, uint64 seed,
                                Mat& features, Mat& imageIds)
{
    const int rows = sources.synthetic.rows;
    CV_Assert(untilAnnotated >= 0 && (int)sources.syntheticImageIds.total() == rows &&
              (int)sources.syntheticClassIds.total() == rows);
    if (untilAnnotated == 0 || sources.annotated.empty())
    {
        features = sources.synthetic;
        imageIds = sources.syntheticImageIds;
        return;
    }
    std::map<int, std::set<int>> annotatedImagesOf, syntheticImagesOf;
    for (int r = 0; r < sources.annotated.rows; r++)
        annotatedImagesOf[sources.annotatedClassIds.at<int>(r)].insert(sources.annotatedImageIds.at<int>(r));
    for (int r = 0; r < rows; r++)
        syntheticImagesOf[sources.syntheticClassIds.at<int>(r)].insert(sources.syntheticImageIds.at<int>(r));
    RNG rng(seed);
    std::vector<int> leavingImages;
    for (const auto& cls : syntheticImagesOf)  // std::map: classes in ascending order, one random stream
    {
        const auto annotated = annotatedImagesOf.find(cls.first);
        const int n = annotated == annotatedImagesOf.end() ? 0 : (int)annotated->second.size();
        std::vector<int> images(cls.second.begin(), cls.second.end());
        int keep = (int)images.size();
        if (n >= untilAnnotated)
            keep = 0;
        else if (n > 1)
            keep = (int)std::lround((double)keep * (untilAnnotated - n) / (untilAnnotated - 1));
        if (keep < (int)images.size())
            for (int i = 0; i < keep; i++)  // partial Fisher-Yates: keep distinct images
                std::swap(images[i], images[i + rng.uniform(0, (int)images.size() - i)]);
        leavingImages.insert(leavingImages.end(), images.begin() + keep, images.end());
    }
    TrainingPatches kept, leaving;
    kept.features = sources.synthetic;  // headers: moveHeldOutRows rebinds them, the sources keep theirs
    imageIds = sources.syntheticImageIds;
    Mat leavingIds;
    moveHeldOutRows(kept, imageIds, leavingImages, leaving, leavingIds);
    features = kept.features;
}

void findPoolNeighbors(TrainingPatches& pool, const Mat& imageIds, const MemoryBank& normalBank,
                        const MemoryBank& abnormalBank, int k, const String& task)
{
    ProgressReporter progress(task, 2);
    Mat d;
    normalBank.search(pool.features, k, d, pool.normalNeighbours, imageIds);
    progress.advance(1);
    abnormalBank.search(pool.features, k, d, pool.abnormalNeighbours, imageIds);
    progress.finish(cv::format("%d patches", pool.size()));
    if (countNonZero(pool.normalNeighbours < 0) || countNonZero(pool.abnormalNeighbours < 0))
        CV_Error(Error::StsError, "dmad: too few bank entries from other images for the training patches");
}

void holdOutAndFindNeighbors(TrainingPatches& pool, Mat& imageIds, const std::vector<int>& heldOutImages,
                             const MemoryBank& normalBank, const MemoryBank& abnormalBank, int k, const String& task,
                             TrainingPatches& heldOut)
{
    Mat heldIds;
    moveHeldOutRows(pool, imageIds, heldOutImages, heldOut, heldIds);
    if (pool.size() == 0)
    {
        // every row came from held-out images (a few synthetic defects, say): the loss needs them more
        std::swap(pool, heldOut);
        std::swap(imageIds, heldIds);
    }
    findPoolNeighbors(pool, imageIds, normalBank, abnormalBank, k, task);
    if (heldOut.size() > 0)
        findPoolNeighbors(heldOut, heldIds, normalBank, abnormalBank, k, task + "-validation");
}

Ptr<MemoryBank> sampleUpdatePatches(const TrainingPatches& pool, const Mat& imageIds,
                                    const std::vector<int>& classIds, int count, uint64 seed)
{
    CV_Assert(imageIds.type() == CV_32S && (int)imageIds.total() == pool.size() && count > 0);
    std::vector<int> rows(pool.size());
    for (int r = 0; r < pool.size(); r++)
        rows[r] = r;
    RNG rng(seed);
    const int n = std::min(count, pool.size());
    for (int i = 0; i < n; i++)  // partial Fisher-Yates: n distinct rows
        std::swap(rows[i], rows[i + rng.uniform(0, pool.size() - i)]);
    Mat features(n, pool.features.cols, CV_32F), ids(n, 1, CV_32S), classes(n, 1, CV_32S);
    for (int i = 0; i < n; i++)
    {
        pool.features.row(rows[i]).copyTo(features.row(i));
        const int image = imageIds.at<int>(rows[i]);
        ids.at<int>(i) = image;
        classes.at<int>(i) = classIds.empty() ? -1 : classIds[image];
    }
    MemoryBank::Params p;
    p.halfPrecisionStorage = true;  // a sample, not a search index: half the file
    Ptr<MemoryBank> sample = MemoryBank::create(p);
    sample->add(features, ids, classes);
    return sample;
}

}} // namespace cv::dmad

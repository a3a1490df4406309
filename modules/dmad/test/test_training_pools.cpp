// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"

#include "train/training_pools.hpp"

namespace opencv_test { namespace {

//! Normal patches whose single feature names them: image * 1000 + cell; `imagesPerClass[c]` images of class c.
DualMemoryBank::Sources namedPatches(const std::vector<int>& imagesPerClass, int cells, bool withClasses)
{
    DualMemoryBank::Sources sources;
    int image = 0;
    for (size_t c = 0; c < imagesPerClass.size(); c++)
        for (int i = 0; i < imagesPerClass[c]; i++, image++)
            for (int cell = 0; cell < cells; cell++)
            {
                sources.normal.push_back((float)(image * 1000 + cell));
                sources.normalImageIds.push_back(image);
                if (withClasses)
                    sources.normalClassIds.push_back((int)c);
            }
    return sources;
}

//! Patches drawn per image, from the pool's names; each image's cells must be distinct and its own.
std::vector<int> drawnPerImage(const TrainingPatches& pool, const Mat& poolIds, int images, int cells)
{
    std::vector<int> count(images, 0);
    std::vector<std::set<int>> seen(images);
    for (int r = 0; r < pool.features.rows; r++)
    {
        const int name = (int)pool.features.at<float>(r, 0), image = name / 1000, cell = name % 1000;
        EXPECT_EQ(poolIds.at<int>(r), image) << "row " << r;
        EXPECT_LT(cell, cells);
        EXPECT_TRUE(seen[image].insert(cell).second) << "image " << image << " cell " << cell << " twice";
        count[image]++;
    }
    return count;
}

TEST(DMAD_TrainingPools, every_class_trains_on_as_many_patches_as_an_average_class)
{
    // 2, 4 and 10 images of 16 cells: an average class has 16 / 3 images, so at ratio 0.25 each
    // class gets 0.25 * 16 * 16/3 = 21.3 patches, spread over its images: 10.7 -> 11 of each of
    // class 0's images, 5.3 -> 5 of class 1's, 2.1 -> 2 of class 2's
    const int cells = 16, images = 16;
    const std::vector<int> expected = { 11, 11, 5, 5, 5, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2 };
    const DualMemoryBank::Sources sources = namedPatches({ 2, 4, 10 }, cells, true);
    RNG rng(7);
    Mat poolIds;
    TrainingPatches pool = sampleNormalPool(sources, cells, 0.25, true, rng, poolIds);
    EXPECT_EQ(drawnPerImage(pool, poolIds, images, cells), expected);

    // by image count (the reference): a quarter of every image
    pool = sampleNormalPool(sources, cells, 0.25, false, rng, poolIds);
    EXPECT_EQ(drawnPerImage(pool, poolIds, images, cells), std::vector<int>(images, 4));

    // at ratio 1 the small class would need 42.7 of 16 cells per image: it gives all of them
    // (class 1: 21.3 -> 16 as well; class 2: 8.5 -> 9)
    pool = sampleNormalPool(sources, cells, 1.0, true, rng, poolIds);
    const std::vector<int> saturated = { 16, 16, 16, 16, 16, 16, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9 };
    EXPECT_EQ(drawnPerImage(pool, poolIds, images, cells), saturated);
}

TEST(DMAD_TrainingPools, without_classes_balancing_changes_nothing)
{
    const int cells = 16, images = 16;
    const DualMemoryBank::Sources sources = namedPatches({ 2, 4, 10 }, cells, false);
    RNG balancedRng(3), plainRng(3);
    Mat balancedIds, plainIds;
    const TrainingPatches balanced = sampleNormalPool(sources, cells, 0.25, true, balancedRng, balancedIds);
    const TrainingPatches plain = sampleNormalPool(sources, cells, 0.25, false, plainRng, plainIds);
    EXPECT_EQ(drawnPerImage(balanced, balancedIds, images, cells), std::vector<int>(images, 4));
    EXPECT_EQ(0.0, cv::norm(balanced.features, plain.features, NORM_INF));
}

}} // namespace opencv_test

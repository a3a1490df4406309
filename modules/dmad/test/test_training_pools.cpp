// This file is part of OpenCV project.
// It is subject to the license terms in the LICENSE file found in the top-level directory
// of this distribution and at http://opencv.org/license.html.

#include "test_precomp.hpp"

#include "train/training_pools.hpp"
#include "test_tiny_model.hpp"

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

//! Synthetic defects of `imagesPerClass[c]` images of class c, `cells` patches each, with
//! `annotatedPerClass[c]` annotated images (two patches each) of class c.
DualMemoryBank::Sources syntheticAndAnnotated(const std::vector<int>& imagesPerClass,
                                              const std::vector<int>& annotatedPerClass, int cells)
{
    DualMemoryBank::Sources sources;
    int image = 0, annotatedImage = 1000;
    std::vector<int> ids, classes, annotatedIds, annotatedClasses;
    for (size_t c = 0; c < imagesPerClass.size(); c++)
    {
        for (int i = 0; i < imagesPerClass[c]; i++, image++)
            for (int cell = 0; cell < cells; cell++)
            {
                sources.synthetic.push_back((float)(image * 1000 + cell));
                ids.push_back(image);
                classes.push_back((int)c);
            }
        for (int i = 0; i < annotatedPerClass[c]; i++, annotatedImage++)
            for (int patch = 0; patch < 2; patch++)
            {
                sources.annotated.push_back((float)annotatedImage);
                annotatedIds.push_back(annotatedImage);
                annotatedClasses.push_back((int)c);
            }
    }
    sources.syntheticImageIds = Mat(ids, true);
    sources.syntheticClassIds = Mat(classes, true);
    sources.annotatedImageIds = Mat(annotatedIds, true);
    sources.annotatedClassIds = Mat(annotatedClasses, true);
    return sources;
}

//! The synthetic loss patches' names (image * 1000 + cell), checked against their image ids.
std::vector<int> selectedNames(const DualMemoryBank::Sources& sources, int untilAnnotated, uint64 seed)
{
    Mat features, imageIds;
    selectSyntheticLossPatches(sources, untilAnnotated, seed, features, imageIds);
    EXPECT_EQ(features.rows, imageIds.rows);
    std::vector<int> names;
    for (int r = 0; r < features.rows; r++)
    {
        names.push_back((int)features.at<float>(r));
        EXPECT_EQ(names.back() / 1000, imageIds.at<int>(r)) << "row " << r;
    }
    return names;
}

TEST(DMAD_TrainingPools, synthetic_defects_leave_the_loss_as_a_class_gets_annotated_ones)
{
    // 8 synthetic images of 3 cells in each of 5 classes; 0, 1, 2, 4 and 7 annotated images with
    // N = 5: all of classes 0 and 1 stay, (5-2)/4 * 8 = 6 images of class 2, (5-4)/4 * 8 = 2 of
    // class 3, none of class 4
    const int cells = 3, images = 8;
    const DualMemoryBank::Sources sources = syntheticAndAnnotated({ 8, 8, 8, 8, 8 }, { 0, 1, 2, 4, 7 }, cells);
    const std::vector<int> names = selectedNames(sources, 5, 17);
    std::vector<std::set<int>> cellsOfImage(5 * images);
    std::vector<int> imagesOfClass(5, 0);
    for (size_t i = 0; i < names.size(); i++)
    {
        if (i > 0)
            EXPECT_LT(names[i - 1], names[i]) << "in the order of the sources";
        const int image = names[i] / 1000;
        if (cellsOfImage[image].empty())
            imagesOfClass[image / images]++;
        cellsOfImage[image].insert(names[i] % 1000);
    }
    EXPECT_EQ(std::vector<int>({ 8, 8, 6, 2, 0 }), imagesOfClass);
    for (int image = 0; image < 5 * images; image++)
        EXPECT_TRUE(cellsOfImage[image].empty() || (int)cellsOfImage[image].size() == cells)
            << "image " << image << " keeps " << cellsOfImage[image].size() << " of its " << cells << " patches";
    EXPECT_EQ(names, selectedNames(sources, 5, 17)) << "the seed decides which images stay";
    EXPECT_NE(names, selectedNames(sources, 5, 18));

    // N = 0: every patch; N = 1: only those of the classes without annotations (class 0: images 0-7);
    // no annotated patches: every patch
    std::vector<int> all;
    for (int r = 0; r < sources.synthetic.rows; r++)
        all.push_back((int)sources.synthetic.at<float>(r));
    EXPECT_EQ(all, selectedNames(sources, 0, 17));
    EXPECT_EQ(std::vector<int>(all.begin(), all.begin() + images * cells), selectedNames(sources, 1, 17));
    const DualMemoryBank::Sources unannotated = syntheticAndAnnotated({ 8, 8, 8, 8, 8 }, { 0, 0, 0, 0, 0 }, cells);
    EXPECT_EQ(all, selectedNames(unannotated, 5, 17));
}

/** In DMAD::train(): once a class has syntheticUntilAnnotated annotated images, its synthetic defects
    train as if their loss weight were 0; with fewer, part or all of them stay. The micro data has 2
    annotated images and 2 synthetic ones in one class, and its abnormal bank holds the synthetic
    defects whatever the loss, so only the loss can tell the models apart. */
TEST(DMAD_TrainingPools, an_annotated_class_trains_without_its_synthetic_defects)
{
    const MicroDataset data;
    auto trainedScores = [&data](int syntheticUntilAnnotated, double syntheticWeight) {
        DMAD::Params p = microParams();
        p.calibrationImages = 0;
        p.training.syntheticUntilAnnotated = syntheticUntilAnnotated;
        p.training.syntheticWeight = syntheticWeight;
        Ptr<DMAD> model = DMAD::create(p);
        model->train(data.normal, data.anomalous, data.masks);
        return scoresOf(*model, data.testImages);
    };
    const std::vector<float> none = trainedScores(0, 0.0), every = trainedScores(0, 1.0);
    ASSERT_NE(none, every) << "the synthetic defects must matter to the loss for this test to tell anything";
    EXPECT_EQ(none, trainedScores(1, 1.0));
    EXPECT_EQ(none, trainedScores(2, 1.0));
    EXPECT_EQ(every, trainedScores(5, 1.0)) << "(5 - 2) / 4 of 2 images rounds to both";
    const std::vector<float> one = trainedScores(3, 1.0);  // (3 - 2) / 2 of 2 images: one
    EXPECT_NE(none, one);
    EXPECT_NE(every, one);

    DMAD::Params p = microParams();
    p.training.syntheticUntilAnnotated = 3;
    Ptr<DMAD> model = DMAD::create(p);
    model->train(data.normal, data.anomalous, data.masks);
    TempDir dir;
    model->save(dir.path + "/m.yml.gz");
    EXPECT_EQ(3, DMAD::load(dir.path + "/m.yml.gz")->getParams().training.syntheticUntilAnnotated);
    p.training.syntheticUntilAnnotated = -1;
    EXPECT_CV_ERROR(DMAD::create(p), "syntheticUntilAnnotated -1 must be >= 0");
}

}} // namespace opencv_test

#!/usr/bin/env python
# This file is part of OpenCV project.
# It is subject to the license terms in the LICENSE file found in the top-level directory
# of this distribution and at http://opencv.org/license.html.
'''
cv2.dmad: the wrapped API (DMAD, its Params and each stage's class) on small models.

The "micro" tests use the weightless pooling backbone of modules/dmad/test/data and run everywhere;
the "tiny" tests use the real ImageNet MobileNetV2 of scripts/get-backbone.sh
(<repo>/build/backbones/nsfwjs_mobilenet_v2.onnx, $DMAD_BACKBONE_DIR wins) or else the ONNX Model
Zoo int8 MobileNetV2 of the shared models folder, and skip when neither exists.
'''

import math
import os
import shutil
import tempfile

import numpy as np
import cv2 as cv

from tests_common import NewOpenCVTests

MODULE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
REPO_DIR = os.path.abspath(os.path.join(MODULE_DIR, '..', '..'))


def lround(x):
    # C++'s std::lround (halves away from zero), which sizes the coresets; Python's round() is
    # banker's rounding
    return int(math.floor(x + 0.5))


def find_backbone():
    '''(preset, path) of the MobileNetV2 the tiny tests use, or (None, reason) when absent.'''
    backbone_dir = os.environ.get('DMAD_BACKBONE_DIR') or os.path.join(REPO_DIR, 'build', 'backbones')
    registry = os.path.join(backbone_dir, 'nsfwjs_mobilenet_v2.onnx')
    if os.path.isfile(registry):
        return 'mobilenet_v2', registry
    shared = os.environ.get('DMAD_SHARED_PATH') or os.path.join(REPO_DIR, '..', 'shared')
    int8 = os.path.join(shared, 'models', 'mobilenetv2-12-int8.onnx')
    if os.path.isfile(int8):
        return 'mobilenetv2-int8', os.path.abspath(int8)
    return None, ('needs %s (run scripts/get-backbone.sh or set DMAD_BACKBONE_DIR) or %s '
                  '(set DMAD_SHARED_PATH)' % (registry, int8))


def shrunk(p, input_size, epochs, batch_patches, hidden_dims, synthetic_images, texture_images):
    '''p made small enough to train in seconds. Nested structs come back from Python as copies:
    each is changed and assigned back.'''
    bb = p.backbone
    bb.inputSize = input_size
    p.backbone = bb
    banks = p.banks
    banks.normalCoresetRatio = 0.1
    p.banks = banks
    training = p.training
    training.epochs = epochs
    training.batchPatches = batch_patches
    training.trainPatchRatio = 0.5
    p.training = training
    p.hiddenDims = hidden_dims
    p.syntheticImages = synthetic_images
    p.textureImages = texture_images
    return p


def micro_params():
    '''DMAD on a backbone without weights (grid 16 x 16 at 32 x 32 input, D = 8): trains in
    milliseconds; the values of modules/dmad/test/test_tiny_model.hpp.'''
    bb = cv.dmad.FeatureExtractor.Params()
    bb.preset = 'micro_pooling'
    bb.model = os.path.join(MODULE_DIR, 'test', 'data', 'micro_pooling.prototxt')
    bb.layers = ['pool1', 'pool2']
    bb.layerDims = 8
    bb.featureDims = 8
    bb.batchSize = 4
    p = cv.dmad.DMAD.Params()
    p.backbone = bb
    return shrunk(p, (32, 32), epochs=2, batch_patches=64, hidden_dims=8, synthetic_images=2, texture_images=2)


def tiny_params(preset, model):
    '''The CPU configuration shrunk to train on a few 128 px images in seconds (16 x 16 grid).'''
    return shrunk(cv.dmad.DMAD_Params_cpu(preset, model), (128, 128), epochs=3, batch_patches=256,
                  hidden_dims=32, synthetic_images=4, texture_images=3)


def random_images(count, size, seed):
    rng = np.random.RandomState(seed)
    return [cv.GaussianBlur(rng.randint(0, 256, (size, size, 3)).astype(np.uint8), (5, 5), 0)
            for _ in range(count)]


def rendered_images(defect, count, first_index, size=128):
    '''Images of the synthetic "fabric" class (dmad_eval's renderer, wrapped into cv2.dmad as well),
    else blurred noise when dmad_eval is not part of this cv2. defect None: the first defect type.'''
    if not hasattr(cv.dmad, 'renderSyntheticSample'):
        return random_images(count, size, 1000 * (defect != 'good') + first_index)
    if defect is None:
        defect = cv.dmad.syntheticDefectTypes('fabric')[0]
    out = []
    for i in range(first_index, first_index + count):
        image, _mask, _clean = cv.dmad.renderSyntheticSample('fabric', defect, 3, i, size)
        out.append(image)
    return out


class dmad_test(NewOpenCVTests):

    def setUp(self):
        super(dmad_test, self).setUp()
        self.tmp = tempfile.mkdtemp(prefix='dmad_test_')

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        super(dmad_test, self).tearDown()

    def check_scores(self, model, images):
        '''predict(), computePatchScores() and predictBatch() agree; returns the scores.'''
        scores = []
        for image in images:
            score, amap = model.predict(image)
            self.assertIsInstance(score, float)
            self.assertTrue(math.isfinite(score))
            self.assertEqual(amap.shape, image.shape[:2])
            self.assertEqual(amap.dtype, np.float32)
            patches = model.computePatchScores(image)
            self.assertEqual(patches.dtype, np.float32)
            self.assertEqual(np.float32(score), patches.max(), 'the image score is the maximum patch score')
            scores.append(score)
        batch, maps = model.predictBatch(images)
        self.assertEqual(batch.shape, (len(images), 1))
        self.assertEqual(len(maps), len(images))
        # batched forward passes may round differently from single ones
        np.testing.assert_allclose(batch.ravel(), np.float32(scores), rtol=1e-5, atol=1e-6)
        return scores

    def test_params_presets_and_fields(self):
        p = cv.dmad.DMAD_Params_cpu('mobilenet_v2')
        self.assertIsInstance(p, cv.dmad.DMAD.Params)
        self.assertIsInstance(p.backbone, cv.dmad.FeatureExtractor.Params)
        self.assertIsInstance(p.training, cv.dmad.DMAD.TrainingParams)
        self.assertIsInstance(p.banks, cv.dmad.DualMemoryBank.Params)
        self.assertIsInstance(p.banks.bank, cv.dmad.MemoryBank.Params)
        self.assertIsInstance(p.banks.coreset, cv.dmad.CoresetParams)
        self.assertEqual(p.backbone.preset, 'mobilenet_v2')
        self.assertEqual(list(p.backbone.layers), ['block_5_add', 'block_10_project_BN'])
        # std::vector<String> comes back as a tuple
        self.assertIn('mobilenet_v2', cv.dmad.FeatureExtractor_presetNames())
        # the static methods are reachable both ways of gen2
        self.assertEqual(cv.dmad.DMAD.Params.cpu('mobilenet_v2').hiddenDims, p.hiddenDims)
        paper = cv.dmad.DMAD_Params_paper()
        self.assertEqual(paper.backbone.featureDims, 1536)
        self.assertEqual(paper.hiddenDims, 1024)
        self.assertEqual(cv.dmad.DMAD_SCORER_PATCHCORE, 1)

        p = micro_params()
        p.scorer = cv.dmad.DMAD_SCORER_PATCHCORE
        p.mapSigma = 2.5
        p.textureFolder = ''
        bank = p.banks.bank
        bank.searchMethod = cv.dmad.MemoryBank_SEARCH_KDTREE
        bank.halfPrecisionStorage = False
        banks = p.banks
        banks.bank = bank
        p.banks = banks
        model = cv.dmad.DMAD_create(p)
        self.assertTrue(model.empty())
        got = model.getParams()
        self.assertEqual(got.scorer, cv.dmad.DMAD_SCORER_PATCHCORE)
        self.assertEqual(got.mapSigma, 2.5)
        self.assertEqual(got.hiddenDims, 8)
        self.assertEqual(got.syntheticImages, 2)
        self.assertEqual(got.training.epochs, 2)
        self.assertEqual(got.training.batchPatches, 64)
        self.assertEqual(got.training.trainPatchRatio, 0.5)
        self.assertEqual(got.banks.normalCoresetRatio, 0.1)
        self.assertEqual(got.banks.bank.searchMethod, cv.dmad.MemoryBank_SEARCH_KDTREE)
        self.assertFalse(got.banks.bank.halfPrecisionStorage)
        self.assertEqual(got.backbone.preset, 'micro_pooling')
        self.assertEqual(list(got.backbone.layers), ['pool1', 'pool2'])
        self.assertEqual(got.backbone.inputSize, (32, 32))
        self.assertEqual(got.backbone.featureDims, 8)

    def test_micro_train_predict_save_load(self):
        images = random_images(6, 64, 1)
        tests = random_images(3, 48, 2)
        model = cv.dmad.DMAD_create(micro_params())
        model.train(images)
        self.assertFalse(model.empty())
        self.assertEqual(model.getMemoryBanks().getNormalBank().size(), lround(0.1 * 6 * 256))
        self.assertEqual(model.getMemoryBanks().getNormalBank().dims(), 8)
        self.assertEqual(model.computePatchScores(tests[0]).shape, (16, 16))
        before = self.check_scores(model, tests)

        path = os.path.join(self.tmp, 'micro.yml.gz')
        model.save(path)
        loaded = cv.dmad.DMAD_load(path)
        self.assertEqual(self.check_scores(loaded, tests), before, 'identical scores after save and load')
        _, map_before = model.predict(tests[1])
        _, map_after = loaded.predict(tests[1])
        np.testing.assert_array_equal(map_before, map_after)

    def test_tiny_train_predict_save_load(self):
        preset, backbone = find_backbone()
        if preset is None:
            self.skipTest(backbone)
        normal = rendered_images('good', 8, 0)
        tests = rendered_images('good', 2, -3) + rendered_images(None, 2, 10)
        model = cv.dmad.DMAD_create(tiny_params(preset, backbone))
        model.train(normal, classIds=[0] * len(normal))
        banks = model.getMemoryBanks()
        self.assertEqual(banks.getNormalBank().size(), lround(0.1 * 8 * 256))
        self.assertEqual(banks.abnormalSources(), cv.dmad.DualMemoryBank_ABNORMAL_SYNTHETIC
                         | cv.dmad.DualMemoryBank_ABNORMAL_PERTURBED_NORMAL)
        self.assertEqual(model.getFeatureExtractor().gridSize(), (16, 16))
        before = self.check_scores(model, tests)

        path = os.path.join(self.tmp, 'tiny.yml.gz')
        model.save(path)
        loaded = cv.dmad.DMAD_load(path)
        self.assertEqual(self.check_scores(loaded, tests), before, 'identical scores after save and load')
        # every part is a node its own class loads
        self.assertEqual(cv.dmad.MemoryBank_load(path, 'normal_bank').size(), banks.getNormalBank().size())
        self.assertEqual(cv.dmad.ScoringHead_load(path, 'scoring_head').hiddenDims(), 32)
        self.assertEqual(cv.dmad.FeatureExtractor_load(path, 'feature_extractor').gridSize(), (16, 16))

        inspection = loaded.inspect(tests[0])[0]
        self.assertIsInstance(inspection, cv.dmad.DMAD.Inspection)
        self.assertEqual(inspection.score, np.float32(before[0]))

    def test_patchcore_score_is_the_nearest_normal_distance(self):
        # the stages' classes give the model's patch scores: extract, scale, search the normal bank
        p = micro_params()
        p.scorer = cv.dmad.DMAD_SCORER_PATCHCORE
        model = cv.dmad.DMAD_create(p)
        model.train(random_images(4, 64, 3))
        image = random_images(1, 64, 4)[0]
        features, grid = model.getFeatureExtractor().extract(image)
        self.assertEqual(grid, (16, 16))
        self.assertEqual(features.shape, (256, 8))
        features = features * np.float32(model.getFeatureScale())
        distances, indices = model.getMemoryBanks().getNormalBank().search(features, 1)
        self.assertEqual(indices.shape, (256, 1))
        expected = np.sqrt(distances).reshape(16, 16)
        np.testing.assert_allclose(model.computePatchScores(image), expected, rtol=1e-4, atol=1e-6)

    def test_stage_classes(self):
        # FeatureExtractor
        bb = micro_params().backbone
        extractor = cv.dmad.FeatureExtractor_create(bb)
        self.assertEqual(extractor.gridSize(), (16, 16))
        self.assertEqual(extractor.featureDims(), 8)
        images = random_images(2, 40, 5)
        features, grid = extractor.extractBatch(images)
        self.assertEqual(features.shape, (2 * 256, 8))
        single, _ = extractor.extract(images[1])
        np.testing.assert_allclose(features[256:], single, rtol=1e-5, atol=1e-6)

        # MemoryBank: exact search, squared distances, the bank's own rows are their neighbours
        bank = cv.dmad.MemoryBank_create()
        bank.add(features)
        self.assertEqual((bank.size(), bank.dims()), (512, 8))
        rng = np.random.RandomState(6)
        bank = cv.dmad.MemoryBank_create()
        rows = rng.standard_normal((40, 5)).astype(np.float32)
        bank.add(rows)
        distances, indices = bank.search(rows[:7], 2)
        np.testing.assert_array_equal(indices[:, 0], np.arange(7))
        np.testing.assert_allclose(distances[:, 0], 0, atol=1e-5)
        brute = ((rows[:7, None, :] - rows[None, :, :]) ** 2).sum(-1)
        brute[np.arange(7), np.arange(7)] = np.inf
        np.testing.assert_allclose(distances[:, 1], brute.min(1), rtol=1e-5)
        np.testing.assert_array_equal(bank.getFeatures(), rows)

        # DualMemoryBank from the wrapped Sources
        sources = cv.dmad.DualMemoryBank.Sources()
        sources.normal = rows
        sources.normalImageIds = np.repeat(np.arange(4, dtype=np.int32), 10).reshape(-1, 1)
        sources.synthetic = rng.standard_normal((6, 5)).astype(np.float32)
        self.assertEqual(sources.normal.shape, (40, 5))
        dual_params = cv.dmad.DualMemoryBank.Params()
        dual_params.normalCoresetRatio = 0.25
        dual = cv.dmad.DualMemoryBank_create(dual_params)
        dual.build(sources, withAbnormalBank=False)
        self.assertEqual(dual.getNormalBank().size(), lround(0.25 * 40))
        self.assertTrue(dual.getAbnormalBank().empty())
        dual.build(sources)
        self.assertFalse(dual.getAbnormalBank().empty())
        self.assertEqual(dual.getAbnormalBank().dims(), 5)

        # KnowledgeEnhancement: 3 D values, 3 D + 2 with the distances
        ke_params = cv.dmad.KnowledgeEnhancement.Params()
        ke_params.featureDims = 5
        ke_params.neighbours = 1
        ke = cv.dmad.KnowledgeEnhancement_create(ke_params)
        self.assertEqual(ke.representationDims(), 15)
        representation = ke.compute(rows[:4], rows[4:8], rows[8:12])
        self.assertEqual(representation.shape, (4, 15))
        ke_params.distances = True
        self.assertEqual(cv.dmad.KnowledgeEnhancement_create(ke_params).representationDims(), 17)

        # ScoringHead: one finite anomaly score per representation
        head_params = cv.dmad.ScoringHead.Params()
        head_params.inputDims = 15
        head_params.hiddenDims = 4
        head = cv.dmad.ScoringHead_create(head_params)
        scores = head.compute(representation)
        self.assertEqual(scores.shape, (4, 1))
        self.assertTrue(np.all(np.isfinite(scores)))
        path = os.path.join(self.tmp, 'head.yml')
        head.save(path)
        np.testing.assert_array_equal(cv.dmad.ScoringHead_load(path).compute(representation), scores)

    def test_bad_input_raises(self):
        model = cv.dmad.DMAD_create(micro_params())
        image = random_images(1, 64, 7)[0]
        with self.assertRaises(cv.error):
            model.predict(image)  # not trained
        with self.assertRaises(cv.error):
            model.train([image])  # needs at least 2 normal images
        with self.assertRaises(cv.error):
            cv.dmad.DMAD_load(os.path.join(self.tmp, 'missing.yml.gz'))
        bad = micro_params()
        training = bad.training
        training.trainPatchRatio = 0
        bad.training = training
        with self.assertRaises(cv.error):
            cv.dmad.DMAD_create(bad)
        model.train(random_images(3, 64, 8))
        with self.assertRaises(cv.error):
            model.predict(np.zeros((0, 0, 3), np.uint8))
        bank = cv.dmad.MemoryBank_create()
        bank.add(np.ones((3, 4), np.float32))
        with self.assertRaises(cv.error):
            bank.search(np.ones((1, 4), np.float32), 4)  # k > size()
        with self.assertRaises(cv.error):
            bank.add(np.ones((2, 5), np.float32))  # other dimension
        sources = cv.dmad.DualMemoryBank.Sources()
        sources.normal = np.ones((10, 4), np.float32)
        sources.normalImageIds = np.zeros((9, 1), np.int32)  # one id short
        with self.assertRaises(cv.error):
            cv.dmad.DualMemoryBank_create().build(sources)


if __name__ == '__main__':
    NewOpenCVTests.bootstrap()

#!/usr/bin/env python3
'''
The Python half of scripts/check-python-bindings.sh's round trip: a model trained and saved with
OpenCV's Python bindings must score the same in the C++ programs.

  python_roundtrip.py train <dir> <backbone.onnx>
      renders a few images of two synthetic classes (cv2.dmad.renderSyntheticSample), trains a
      model made from the "mobilenet_v2" preset on the normal ones, scores every image with
      predict() and writes <dir>/model.yml.gz, <dir>/images/*.png and <dir>/python_scores.csv;
  python_roundtrip.py compare <python_scores.csv> <results.csv> <name>
      compares those scores with a results.csv of dmad_detect (C++ or samples/python): prints one
      line, exits 1 unless every image is there with the same score (relative difference <= 1e-5).
'''

import csv
import os
import sys
import time


def train(folder, backbone):
    import cv2 as cv
    images_dir = os.path.join(folder, 'images')
    os.makedirs(images_dir, exist_ok=True)

    normal, class_ids, tests = [], [], []
    for c, name in enumerate(['fabric', 'washer']):
        for i in range(6):
            normal.append(cv.dmad.renderSyntheticSample(name, 'good', 3, i, 128)[0])
            class_ids.append(c)
        defect = cv.dmad.syntheticDefectTypes(name)[0]
        for i in range(2):
            tests.append(('%s_good_%d' % (name, i), cv.dmad.renderSyntheticSample(name, 'good', 3, -1 - i, 128)[0]))
            tests.append(('%s_%s_%d' % (name, defect, i), cv.dmad.renderSyntheticSample(name, defect, 3, 10 + i, 128)[0]))

    # the preset, shrunk to train in seconds (a 16 x 16 grid at 128 px, as the C++ tests' tiny model)
    params = cv.dmad.DMAD_Params_cpu('mobilenet_v2', backbone)
    bb = params.backbone
    bb.inputSize = (128, 128)
    params.backbone = bb
    banks = params.banks
    banks.normalCoresetRatio = 0.1
    params.banks = banks
    training = params.training
    training.epochs = 3
    training.batchPatches = 256
    params.training = training
    params.hiddenDims = 32
    params.syntheticImages = 4
    params.textureImages = 3

    start = time.time()
    model = cv.dmad.DMAD_create(params)
    model.train(normal, classIds=class_ids)
    seconds = time.time() - start
    model_path = os.path.join(folder, 'model.yml.gz')
    model.save(model_path)

    with open(os.path.join(folder, 'python_scores.csv'), 'w', newline='') as f:
        out = csv.writer(f, lineterminator='\n')
        out.writerow(['path', 'score'])
        for name, image in tests:
            path = os.path.join(images_dir, name + '.png')
            if not cv.imwrite(path, image):
                sys.exit('python_roundtrip: cannot write ' + path)
            score, _ = model.predict(image)
            out.writerow([path, repr(score)])
    print('python_roundtrip: cv2 %s (%s): trained on %d images in %.1f s, %d test images scored, model %s'
          % (cv.__version__, cv.__file__, len(normal), seconds, len(tests), model_path))


def compare(python_scores, results, name):
    with open(python_scores, newline='') as f:
        expected = {row['path']: float(row['score']) for row in csv.DictReader(f)}
    with open(results, newline='') as f:
        got = {row['path']: row['score'] for row in csv.DictReader(f)}
    worst, exact, problems = 0.0, 0, []
    for path, score in sorted(expected.items()):
        if not got.get(path):
            problems.append('%s: no score' % path)
            continue
        value = float(got[path])
        # results.csv holds %.6g: equal when the printed digits are those of the Python score
        if value == float('%.6g' % score):
            exact += 1
        worst = max(worst, abs(value - score) / max(abs(score), 1e-12))
    ok = not problems and worst <= 1e-5 and len(got) == len(expected)
    print('python_roundtrip: %s: %d of %d scores equal to the Python ones in all 6 printed digits, '
          'largest relative difference %.2g%s: %s'
          % (name, exact, len(expected), worst, '; ' + '; '.join(problems) if problems else '',
             'same scores' if ok else 'DIFFERENT'))
    return 0 if ok else 1


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'train':
        train(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == 'compare':
        sys.exit(compare(sys.argv[2], sys.argv[3], sys.argv[4]))
    else:
        sys.exit(__doc__)

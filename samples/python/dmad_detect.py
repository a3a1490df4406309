#!/usr/bin/env python3
'''
Runs a saved DMAD model on an image or a folder of images with OpenCV's Python bindings (cv2.dmad):
one line per image on stdout (path, score, verdict), results.csv (with each image's class and the
threshold used) and an overlay of the anomaly map per image in the output folder. The Python twin
of modules/dmad/samples/dmad_detect.cpp, with the same options, files and exit statuses:
0 all images scored, 1 an image was unreadable or an output could not be written (one line on
stderr), 2 a refused command line.

  dmad_detect.py --model <file> --input <image or folder> --out <dir> [--threshold t]
'''

import argparse
import csv
import io
import math
import os
import sys
import tempfile
import time

import numpy as np
import cv2 as cv

PROG = 'dmad_detect.py'


class Failure(Exception):
    '''A problem that ends the run with exit status 1 and one line on stderr.'''


def finite_number(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("'%s' is not a number" % text)
    # float() takes 'nan' and 'inf', which would make every verdict the same
    if not math.isfinite(value) or abs(value) > 1e30:
        raise argparse.ArgumentTypeError("%s is not in [-1e+30, 1e+30]" % text)
    return value


def boolean(text):
    values = {'true': True, '1': True, 'on': True, 'yes': True,
              'false': False, '0': False, 'off': False, 'no': False}
    if text.lower() not in values:
        raise argparse.ArgumentTypeError("'%s' is not true or false" % text)
    return values[text.lower()]


def thread_count(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("'%s' is not an integer" % text)
    if value == 0 or value < -1 or value > 1024:
        raise argparse.ArgumentTypeError('%d is not -1 or in [1, 1024]' % value)
    return value


def non_empty(text):
    if not text:
        raise argparse.ArgumentTypeError('must not be empty')
    return text


class Parser(argparse.ArgumentParser):
    '''argparse refusing a command line in one line (exit status 2), as the C++ samples do.'''

    def error(self, message):
        sys.stderr.write('%s: %s (see %s --help)\n' % (self.prog, message, self.prog))
        sys.exit(2)


def parse_args(argv):
    parser = Parser(prog=PROG, allow_abbrev=False,
                    description='Anomaly scores and maps of images with a trained DMAD model')
    parser.add_argument('-m', '--model', required=True, type=non_empty,
                        help='model file written by DMAD.save (dmad_mvtec --save, or from Python)')
    parser.add_argument('-i', '--input', required=True, type=non_empty, help='an image or a folder of images')
    parser.add_argument('-o', '--out', required=True, type=non_empty,
                        help='folder for results.csv and the overlays (created when missing)')
    parser.add_argument('--threshold', type=finite_number,
                        help='anomaly score above which an image is anomalous, for every image (default: the '
                             'threshold calibrated at training for the image\'s class, stored in the model; '
                             'for a model without one, 0 for the DMAD scorer and required for PatchCore)')
    parser.add_argument('--overlays', type=boolean, default=True,
                        help='write an overlay per image (true or false, default true)')
    parser.add_argument('--threads', type=thread_count, default=-1,
                        help="OpenCV threads (-1: OpenCV's default)")
    return parser.parse_args(argv)


def write_atomically(path, data):
    '''Writes bytes beside the target and renames them into place: a failed write leaves no
    partial file behind.'''
    folder = os.path.dirname(path) or '.'
    try:
        fd, temp = tempfile.mkstemp(prefix='.tmp', dir=folder)
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(data)
            os.replace(temp, path)
        except BaseException:
            if os.path.exists(temp):
                os.remove(temp)
            raise
    except OSError as e:
        raise Failure("cannot write '%s' (%s)" % (path, e.strerror or e))


def prepare_output_folder(folder):
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise Failure("--out '%s' is not a folder that can be created (%s)" % (folder, e.strerror or e))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
        raise Failure("--out '%s' is not a writable folder" % folder)


def images_of(path):
    if os.path.isdir(path):
        files = cv.dmad.listImageFiles(path)
        if not files:
            raise Failure("no images in folder '%s'" % path)
        return files
    if not os.path.exists(path):
        raise Failure("no such file or folder '%s'" % path)
    return [path]


def display_bgr(image):
    if image.ndim == 2 or image.shape[2] == 1:
        image = cv.cvtColor(image, cv.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv.cvtColor(image, cv.COLOR_BGRA2BGR)
    if image.dtype != np.uint8:
        image = cv.convertScaleAbs(image, alpha=1.0 / 257)
    return image


def overlay_of(image, amap, score, threshold, anomalous):
    '''The map over the image, coloured from threshold - 1 to threshold + 1 (the same in every image).'''
    # saturating, as Mat::convertTo to CV_8U (convertScaleAbs would fold negative values up)
    m8 = np.clip(np.rint(amap * 127.5 + 127.5 * (1 - threshold)), 0, 255).astype(np.uint8)
    heat = cv.applyColorMap(m8, cv.COLORMAP_JET)
    overlay = cv.addWeighted(display_bgr(image), 0.5, heat, 0.5, 0)
    cv.putText(overlay, '%.3f %s' % (score, 'ANOMALOUS' if anomalous else 'normal'), (8, 24),
               cv.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
    return overlay


def unique_name(taken, stem, suffix):
    name = stem + suffix
    i = 2
    while name in taken:
        name = '%s_%d%s' % (stem, i, suffix)
        i += 1
    taken.add(name)
    return name


def run(args):
    if args.threads > 0:
        cv.setNumThreads(args.threads)
    prepare_output_folder(args.out)
    model = cv.dmad.DMAD_load(args.model)
    calibrated = math.isfinite(model.getDecisionThreshold())
    threshold = args.threshold
    if threshold is None:
        if not calibrated and model.getParams().scorer != cv.dmad.DMAD_SCORER_DMAD:
            raise Failure('the model has no calibrated threshold and the PatchCore scorer no natural one: '
                          'give --threshold')
        threshold = 0.0
    files = images_of(args.input)

    table = io.StringIO()
    out = csv.writer(table, lineterminator='\n')
    # class: the training class the image resembles (-1: a model of one class); normalized: its
    # calibrated threshold at 0.5 (empty without calibration); threshold: the one used
    out.writerow(['path', 'class', 'score', 'normalized_score', 'threshold', 'verdict', 'ms'])
    taken = set()
    anomalous = failed = 0
    for path in files:
        try:
            image = cv.dmad.readImage(path)
        except cv.error as e:
            sys.stderr.write('%s: skipped: %s\n' % (PROG, e.err))
            out.writerow([path, '', '', '', '', 'unreadable', ''])
            failed += 1
            continue
        start = time.perf_counter()
        result, amap = model.inspect(image)
        ms = 1000 * (time.perf_counter() - start)
        image_threshold = result.threshold if args.threshold is None and calibrated else threshold
        is_anomalous = result.score > image_threshold
        anomalous += is_anomalous
        verdict = 'anomalous' if is_anomalous else 'normal'
        print('%s %.4f %s' % (path, result.score, verdict), flush=True)
        out.writerow([path, result.classId, '%.6g' % result.score,
                      '%.4f' % result.normalizedScore if calibrated else '',
                      '%.6g' % image_threshold, verdict, '%.1f' % ms])
        if args.overlays:
            name = unique_name(taken, os.path.splitext(os.path.basename(path))[0], '_dmad.png')
            ok, png = cv.imencode('.png', overlay_of(image, amap, result.score, image_threshold, is_anomalous))
            if not ok:
                raise Failure("cannot encode '%s'" % name)
            write_atomically(os.path.join(args.out, name), png.tobytes())
    results = os.path.join(args.out, 'results.csv')
    write_atomically(results, table.getvalue().encode('utf-8'))

    if args.threshold is not None:
        rule = 'threshold %g (--threshold)' % threshold
    elif calibrated:
        rule = "the calibrated threshold of each image's class (from the model)"
    else:
        rule = 'threshold %g (default)' % threshold
    summary = '%s: %d of %d images scored, %d anomalous at %s' % (
        PROG, len(files) - failed, len(files), anomalous, rule)
    if failed:
        summary += ', %d unreadable' % failed
    summary += '; results in %s%s' % (results, ', overlays in ' + args.out if args.overlays else '')
    sys.stderr.write(summary + '\n')
    return 1 if failed else 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except Failure as e:
        sys.stderr.write('%s: %s\n' % (PROG, e))
    except cv.error as e:
        sys.stderr.write('%s: %s\n' % (PROG, e.err))
    return 1


if __name__ == '__main__':
    sys.exit(main())

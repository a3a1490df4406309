#!/usr/bin/python3
# This file is part of OpenCV project.
# It is subject to the license terms in the LICENSE file found in the top-level directory
# of this distribution and at http://opencv.org/license.html.
"""Writes modules/dmad_eval/test/data/metric_vectors.yml: seeded inputs and the metric values that
scikit-learn (image/pixel AUROC, AP, F1-max) and a transcription of the MVTec-AD reference AU-PRO
(scipy.ndimage.label with a 3x3 structure, exact thresholds, trapezoid cut at the FPR limit) give
for them. The gtests in test_metrics.cpp compare cv::dmad's metrics to these numbers.

Run with Debian's packages (python3-sklearn, python3-numpy, python3-scipy):
    /usr/bin/python3 tools/make_metric_vectors.py [output.yml]

Where a metric is undefined (all labels equal) sklearn raises or returns a convention value (AP: 0
without positives, 1 without negatives); cv::dmad returns NaN, and the file stores .nan there.
"""

import bisect
import os
import sys

import numpy as np
import scipy.ndimage
import sklearn
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

NAN = float("nan")


def f1_max(labels, scores):
    precision, recall, _ = precision_recall_curve(labels, scores)
    denom = precision + recall
    f1 = np.where(denom > 0, 2 * precision * recall / np.where(denom > 0, denom, 1), 0)
    return float(np.max(f1))


def image_metrics(labels, scores):
    labels = np.asarray(labels)
    if labels.min() == labels.max():
        return NAN, NAN, NAN
    return (float(roc_auc_score(labels, scores)), float(average_precision_score(labels, scores)),
            f1_max(labels, scores))


# --- MVTec-AD reference AU-PRO (evaluation code of Bergmann et al.), transcribed ---------------
def mvtec_compute_pro(anomaly_maps, ground_truth_maps):
    structure = np.ones((3, 3), dtype=int)
    num_ok_pixels = 0
    num_gt_regions = 0
    shape = (len(anomaly_maps), anomaly_maps[0].shape[0], anomaly_maps[0].shape[1])
    fp_changes = np.zeros(shape, dtype=np.uint32)
    pro_changes = np.zeros(shape, dtype=np.float64)
    for gt_ind, gt_map in enumerate(ground_truth_maps):
        labeled, n_components = scipy.ndimage.label(gt_map, structure)
        num_gt_regions += n_components
        ok_mask = labeled == 0
        num_ok_pixels += np.sum(ok_mask)
        fp_changes[gt_ind, ok_mask] = 1
        for k in range(n_components):
            region_mask = labeled == (k + 1)
            pro_changes[gt_ind, region_mask] = 1.0 / np.sum(region_mask)
    scores = np.array(anomaly_maps).ravel()
    fp_changes = fp_changes.ravel()
    pro_changes = pro_changes.ravel()
    sort_idxs = np.argsort(scores, kind="stable")[::-1]
    scores = scores[sort_idxs]
    fp_changes = np.cumsum(fp_changes[sort_idxs])
    pro_changes = np.cumsum(pro_changes[sort_idxs])
    fprs = fp_changes / num_ok_pixels
    pros = pro_changes / num_gt_regions
    keep = np.append(np.diff(scores) != 0, np.True_)
    fprs = np.clip(fprs[keep], None, 1.0)
    pros = np.clip(pros[keep], None, 1.0)
    fprs = np.concatenate(([0.0], fprs, [1.0]))
    pros = np.concatenate(([0.0], pros, [1.0]))
    return fprs, pros


def mvtec_trapezoid(x, y, x_max):
    x = np.asarray(x)
    y = np.asarray(y)
    correction = 0.0
    if x_max not in x:
        ins = bisect.bisect(x, x_max)
        assert 0 < ins < len(x)
        y_interp = y[ins - 1] + ((y[ins] - y[ins - 1]) * (x_max - x[ins - 1]) /
                                 (x[ins] - x[ins - 1]))
        correction = 0.5 * (y_interp + y[ins - 1]) * (x_max - x[ins - 1])
    mask = x <= x_max
    x = x[mask]
    y = y[mask]
    return float(np.sum(0.5 * (y[1:] + y[:-1]) * (x[1:] - x[:-1])) + correction)


def au_pro(maps, masks, limit):
    if not any(m.any() for m in masks) or all(m.all() for m in masks):
        return NAN
    fprs, pros = mvtec_compute_pro(maps, masks)
    return mvtec_trapezoid(fprs, pros, limit) / limit


def pixel_metrics(maps, masks):
    scores = np.concatenate([m.ravel() for m in maps]).astype(np.float64)
    labels = np.concatenate([m.ravel() for m in masks]) > 0
    auroc, ap, _ = image_metrics(labels.astype(int), scores)
    return auroc, ap


# --- YAML in the subset cv::FileStorage reads --------------------------------------------------
def fmt(v):
    v = float(v)
    if np.isnan(v):
        return ".nan"
    return repr(v)


def seq(values, per_line=8):
    items = [fmt(v) if not isinstance(v, (int, np.integer)) else str(int(v)) for v in values]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[ " + ",\n        ".join(lines) + " ]"


def matrix(arr, dt):
    rows, cols = arr.shape
    vals = [str(int(v)) for v in arr.ravel()] if dt == "u" else [fmt(v) for v in arr.ravel()]
    lines = [", ".join(vals[i:i + 16]) for i in range(0, len(vals), 16)]
    return ("!!opencv-matrix\n         rows: %d\n         cols: %d\n         dt: %s\n"
            "         data: [ %s ]" % (rows, cols, dt, ",\n             ".join(lines)))


def image_cases(rng):
    cases = []

    def add(name, scores, labels):
        scores = np.asarray(scores, dtype=np.float64)
        labels = np.asarray(labels, dtype=int)
        cases.append((name, scores, labels) + image_metrics(labels, scores))

    n = 257
    add("continuous", rng.normal(size=n), (rng.random(n) < 0.3).astype(int))
    s = np.round(rng.random(400) * 10) / 10
    add("heavy_ties", s, (rng.random(400) < 0.15 + 0.6 * s).astype(int))
    add("all_tied", np.full(50, 0.5), (np.arange(50) % 10 < 3).astype(int))
    lab = (rng.random(60) < 0.4).astype(int)
    add("perfect", lab + 0.1 * rng.random(60), lab)
    add("inverted", -lab - 0.1 * rng.random(60), lab)
    lab = np.zeros(30, dtype=int)
    lab[17] = 1
    add("single_positive", rng.normal(size=30), lab)
    add("single_negative", rng.normal(size=30), 1 - lab)
    add("two_samples", [0.1, 0.9], [0, 1])
    add("two_tied", [0.3, 0.3], [1, 0])
    s32 = (np.floor(rng.beta(2, 5, 1500) * 256) / 256).astype(np.float32)
    add("float32_quantised", s32, (rng.random(1500) < 0.1 + 0.5 * s32).astype(int))
    add("integer_scores", rng.integers(0, 5, 120), (rng.random(120) < 0.5).astype(int))
    add("negative_and_zero", [-0.0, 0.0, -1.5, 2.0, -1.5, 0.0, 3.0, -7.25],
        [1, 0, 0, 1, 1, 0, 1, 0])
    # degenerate: every metric is NaN in cv::dmad
    add("all_negative", rng.random(20), np.zeros(20, dtype=int))
    add("all_positive", rng.random(20), np.ones(20, dtype=int))
    return cases


def blob_mask(rng, h, w, n_blobs):
    mask = np.zeros((h, w), np.uint8)
    for _ in range(n_blobs):
        cy, cx = rng.integers(0, h), rng.integers(0, w)
        ry, rx = rng.integers(0, 3), rng.integers(0, 4)
        mask[max(0, cy - ry):cy + ry + 1, max(0, cx - rx):cx + rx + 1] = 255
    return mask


def pixel_cases(rng):
    cases = []

    def add(name, maps, masks, limits=(0.3, 1.0, 0.05)):
        maps = [np.asarray(m, np.float32) for m in maps]
        masks = [np.asarray(m, np.uint8) for m in masks]
        auroc, ap = pixel_metrics(maps, masks)
        pros = [au_pro(maps, masks, lim) for lim in limits]
        cases.append((name, maps, masks, auroc, ap, list(limits), pros))

    # quantised scores (many ties), blobs, two normal images
    h, w = 12, 16
    maps, masks = [], []
    for i in range(6):
        mask = blob_mask(rng, h, w, rng.integers(1, 4)) if i < 4 else np.zeros((h, w), np.uint8)
        score = np.floor((rng.random((h, w)) + 0.6 * (mask > 0)) * 16) / 16
        maps.append(score)
        masks.append(mask)
    add("quantised_blobs", maps, masks)

    # continuous scores, smooth maps
    h, w = 20, 18
    maps, masks = [], []
    for i in range(4):
        mask = blob_mask(rng, h, w, rng.integers(1, 5)) if i != 2 else np.zeros((h, w), np.uint8)
        score = scipy.ndimage.gaussian_filter(rng.random((h, w)) + 1.5 * (mask > 0), 1.0)
        maps.append(score)
        masks.append(mask)
    add("continuous_smooth", maps, masks)

    # regions touching only diagonally: one region with 8-connectivity, two with 4-connectivity
    mask = np.zeros((6, 6), np.uint8)
    mask[1, 1] = mask[2, 2] = mask[4, 4] = 1
    mask[4, 5] = 1
    score = np.arange(36, dtype=np.float32).reshape(6, 6) / 36
    add("diagonal_regions", [score], [mask])
    return cases


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "modules", "dmad_eval", "test", "data", "metric_vectors.yml")
    rng = np.random.default_rng(20240617)
    lines = ["%YAML:1.0", "---",
             "# Generated by tools/make_metric_vectors.py with scikit-learn %s, numpy %s, scipy %s."
             % (sklearn.__version__, np.__version__, scipy.__version__),
             "# NaN: undefined (labels all equal); cv::dmad returns NaN there.",
             "image_cases:"]
    for name, scores, labels, auroc, ap, f1 in image_cases(rng):
        lines += ["   - { name: \"%s\"," % name,
                  "       scores: %s," % seq(scores),
                  "       labels: %s," % seq(labels, 32),
                  "       auroc: %s, ap: %s, f1max: %s }" % (fmt(auroc), fmt(ap), fmt(f1))]
    lines.append("pixel_cases:")
    for name, maps, masks, auroc, ap, limits, pros in pixel_cases(rng):
        h = maps[0].shape[0]
        lines += ["   -",
                  "      name: \"%s\"" % name,
                  "      map_rows: %d" % h,
                  "      maps: " + matrix(np.vstack(maps), "f"),
                  "      masks: " + matrix(np.vstack(masks), "u"),
                  "      auroc: %s" % fmt(auroc),
                  "      ap: %s" % fmt(ap),
                  "      pro_limits: %s" % seq(limits),
                  "      pro: %s" % seq(pros)]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()

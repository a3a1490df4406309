#!/usr/bin/env bash
# Issue 5's table: one unified model per mode on a dataset (default ../shared/data/mvtec_layout):
# the PatchCore-style baseline, DMAD unsupervised, DMAD with 1, 5 and 10 annotated anomalies per
# class (drawn with a fixed seed and removed from the test set). Writes <out>/modes.md and each run's
# results under <out>/<mode>/.
#   scripts/evaluate-modes.sh [dataset root] [out folder] [extra dmad_mvtec options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$root/../shared/data/mvtec_layout}
out=${2:-$root/build/results/modes}
shift $(( $# > 2 ? 2 : $# ))
bin=${DMAD_BIN:-$root/build/bin}
export OPENCV_DMAD_BACKBONE_PATH=${OPENCV_DMAD_BACKBONE_PATH:-$root/build/backbones:$root/../shared/models}
mkdir -p "$out"
run() {  # <mode name> <dmad_mvtec options...>
  local mode=$1; shift
  echo "== $mode" >&2
  /usr/bin/time -f "$mode: %e s wall, %M KB peak" "$bin/dmad_mvtec" --data="$data" --out="$out/$mode" \
      --heatmaps=0 --save="$out/$mode/model.yml.gz" "$@" >/dev/null 2>"$out/$mode.log" || {
    tail -5 "$out/$mode.log" >&2; exit 1; }
  tail -1 "$out/$mode.log" >&2
}
# Issue 5's table is for MobileNetV2 (DMAD::Params()'s backbone); a --backbone given here wins.
run unsupervised --backbone=mobilenet_v2 --anomalies=0 "$@"
for k in 1 5 10; do run "annotated-$k" --backbone=mobilenet_v2 --anomalies=$k --baseline=false "$@"; done

python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
modes = [("PatchCore-style baseline", "unsupervised", "baseline_patchcore"), ("DMAD unsupervised", "unsupervised", None)]
modes += [("DMAD, %d annotated per class" % k, "annotated-%d" % k, None) for k in (1, 5, 10)]
runs = {m: json.load(open(os.path.join(out, m, "results.json"))) for m in ("unsupervised", "annotated-1", "annotated-5", "annotated-10")}
classes = runs["unsupervised"]["config"]["classes"]
def pct(v): return "n/a" if v is None else "%.1f" % (100 * v)
lines = ["| mode | " + " | ".join(classes) + " | mean |", "| --- |" + " ---: |" * (len(classes) + 1)]
for label, run, key in modes:
    r = runs[run][key] if key else runs[run]
    lines.append("| %s | %s | %s |" % (label, " | ".join(pct(r["classes"][c]["image_auroc"]) for c in classes), pct(r["mean"]["image_auroc"])))
cfg = runs["unsupervised"]["config"]
text = "Image AUROC (%%), one unified model per mode, backbone %s, seed %d, %s threads.\n\n" % (cfg["backbone"], cfg["seed"], cfg["threads"])
text += "\n".join(lines) + "\n\nPixel AUROC / AU-PRO of the classes with masks:\n\n"
lines = ["| mode | " + " | ".join(c for c in classes) + " |", "| --- |" + " ---: |" * len(classes)]
for label, run, key in modes:
    r = runs[run][key] if key else runs[run]
    lines.append("| %s | %s |" % (label, " | ".join("%s / %s" % (pct(r["classes"][c]["pixel_auroc"]), pct(r["classes"][c]["pro"])) for c in classes)))
text += "\n".join(lines) + "\n\nTraining time (s): " + ", ".join("%s %.0f" % (m, runs[m]["timing"]["train_s"]) for m in runs) + "\n"
open(os.path.join(out, "modes.md"), "w").write(text)
print(text)
PY

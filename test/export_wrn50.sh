#!/usr/bin/env bash
# tools/export_wrn50.py with random weights: cv::dnn must reproduce torch's layer2 and layer3
# (relative L2 error < 1e-4) and the wrn50 preset must load the export. Skips without Debian's
# python3-torch and python3-torchvision.
#   test/export_wrn50.sh <opencv_test_dmad> <dmad_extract>
set -euo pipefail
test_binary=$1 extract=$2
root=$(cd "$(dirname "$0")/.." && pwd)
python=${DMAD_PYTHON:-/usr/bin/python3}
if ! "$python" -c "import torch, torchvision, PIL" 2>/dev/null; then
    echo "SKIP: needs python3-torch and python3-torchvision (Debian) for $python"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" "$root/tools/export_wrn50.py" --random-weights --out "$work/wrn50.onnx" \
    --reference "$work/torch"
compared=$(DMAD_REFERENCE_MODEL=$work/wrn50.onnx DMAD_REFERENCE_PREFIX=$work/torch "$test_binary" \
    --gtest_also_run_disabled_tests --gtest_filter=DMAD_Reference.DISABLED_model_matches_reference) || { echo "$compared"; exit 1; }
echo "$compared" | grep -E '^\[ dmad|PASSED'
grep -q "PASSED  \] 1 test" <<<"$compared" || { echo "FAIL: the comparison did not run"; exit 1; }

mkdir "$work/images"
"$python" -c "import sys, PIL.Image, numpy; r = numpy.random.default_rng(1)
pixels = r.integers(0, 256, (200, 300, 3), dtype=numpy.uint8)
PIL.Image.fromarray(pixels).save(sys.argv[1])" "$work/images/a.png"
out=$("$extract" --input="$work/images" --backbone=wrn50 --model="$work/wrn50.onnx" --threads=2)
echo "$out"
grep -q "^grid         32x32$" <<<"$out" || { echo "FAIL: wrn50 grid"; exit 1; }
grep -q "^features     1024 x 1536 CV_32F$" <<<"$out" || { echo "FAIL: wrn50 features"; exit 1; }
echo "PASS"

#!/usr/bin/env bash
# dmad_extract on real images prints the expected shape; bad input fails with one line on stderr.
set -u
bin=$1 shared=$2
model=$shared/models/mobilenetv2-12-int8.onnx
images=$shared/data/mvtec_layout/bottle/test/broken_small
if [ ! -f "$model" ] || [ ! -d "$images" ]; then
  echo "SKIP: needs $model and $images (the shared folder)"; exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }
out=$("$bin" --input="$images" --backbone=mobilenetv2-int8 --model="$model" --threads=2 2>/dev/null) || fail "dmad_extract exited $?"
echo "$out"
n=$(ls "$images" | wc -l)
grep -q "^features     $((n * 1024)) x 288 CV_32F$" <<<"$out" || fail "unexpected feature shape"
grep -q "^grid         32x32$" <<<"$out" || fail "unexpected grid"

err=$("$bin" --input=/nonexistent/folder --backbone=mobilenetv2-int8 --model="$model" 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] || fail "missing input accepted"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "expected one line on stderr, got: $err"
err=$("$bin" --input="$images" --model=/nonexistent.onnx 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] && [ "$(wc -l <<<"$err")" -eq 1 ] || fail "missing model: rc=$rc stderr=$err"
echo "PASS"

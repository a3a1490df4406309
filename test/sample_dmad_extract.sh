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
# --backend/--target: an unknown name is a usage error (2); the CUDA backend either runs (an OpenCV with CUDA and a
# GPU) or is refused with one line naming it (1).
"$bin" --input="$images" --model="$model" --backend=opencl >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "unknown --backend: exit $rc, expected 2"
"$bin" --input="$images" --model="$model" --target=npu >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "unknown --target: exit $rc, expected 2"
err=$("$bin" --input="$images" --backbone=mobilenetv2-int8 --model="$model" --threads=2 --backend=cuda --target=cuda \
      2>&1 >/dev/null); rc=$?
if [ $rc -ne 0 ]; then
  [ $rc -eq 1 ] && [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q 'CUDA.*not available' <<<"$err" \
    || fail "--backend=cuda refused unclearly: rc=$rc stderr=$err"
  echo "cuda backend refused: $err"
fi
echo "PASS"

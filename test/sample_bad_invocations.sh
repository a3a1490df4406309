#!/usr/bin/env bash
# The samples under bad invocations: a table of commands, each with the exit status it must give
# (2: a refused command line, 1: a failure at run time) and a fragment its message on stderr must
# hold. Command-line errors must be one line on stderr. Then the cases that need a look at what was
# written: a folder with an unreadable image is scored as a batch, two inputs of one stem keep
# both overlays, and a model trained in one folder is used from another.
#
#   test/sample_bad_invocations.sh <bin dir> <backbones dir>
set -u
bindir=$1 backbones=$2
export DMAD_QUIET=1
unset OPENCV_DMAD_BACKBONE_PATH DMAD_BACKBONE_PATH
if [ ! -f "$backbones/nsfwjs_mobilenet_v2.onnx" ]; then
  echo "SKIP: needs $backbones/nsfwjs_mobilenet_v2.onnx (run scripts/get-backbone.sh)"; exit 77
fi
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# a tiny model, trained from a folder of its own with a relative backbone path (the case that
# used to record a path only valid there)
mkdir -p "$tmp/train-here/bb" "$tmp/elsewhere"
cp "$backbones/nsfwjs_mobilenet_v2.onnx" "$tmp/train-here/bb/"
"$bindir/dmad_make_dataset" --out="$tmp/ds" --train=10 --test-good=2 --test-defect=2 --size=96 \
    --classes=pill >/dev/null || fail "dmad_make_dataset"
(cd "$tmp/train-here" && "$bindir/dmad_mvtec" --data="$tmp/ds" --out=r --backbone=mobilenet_v2 \
    --model=bb/nsfwjs_mobilenet_v2.onnx --epochs=1 --heatmaps=0 --baseline=false --threads=2 \
    --save=model.yml.gz >/dev/null 2>"$tmp/train.err") || { cat "$tmp/train.err"; fail "training the tiny model"; }
model=$tmp/train-here/model.yml.gz
good=$tmp/ds/pill/test/good

echo "not a model" > "$tmp/garbage.yml"
: > "$tmp/regular-file"
mkdir -p "$tmp/empty" "$tmp/broken"
printf 'garbage' > "$tmp/broken/0.png"

passed=0 failed=0
# check <expected exit> <fragment of stderr> <command...>
check() {
  local want=$1 fragment=$2; shift 2
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  local shown="${*//$tmp/\$tmp}"
  shown="${shown//$bindir\//}"
  if [ "$rc" -ne "$want" ]; then
    printf 'FAIL  exit %d (want %d)  %s\n      stderr: %s\n' "$rc" "$want" "$shown" "$err"; failed=$((failed + 1)); return
  fi
  if [[ "$err" != *"$fragment"* ]]; then
    printf 'FAIL  "%s" not in stderr  %s\n      stderr: %s\n' "$fragment" "$shown" "$err"; failed=$((failed + 1)); return
  fi
  if [ "$want" -eq 2 ] && [ "$(wc -l <<<"$err")" -ne 1 ]; then
    printf 'FAIL  not one line  %s\n      stderr: %s\n' "$shown" "$err"; failed=$((failed + 1)); return
  fi
  printf 'ok    exit %d  %-72s  %s\n' "$rc" "$shown" "${err:0:110}"
  passed=$((passed + 1))
}

d=$bindir/dmad_detect m=$bindir/dmad_mvtec x=$bindir/dmad_extract g=$bindir/dmad_make_dataset t=$bindir/dmad_tutorial
dargs=(--model="$model" --input="$good")
echo "== command lines refused (exit 2, one line)"
check 2 "--model is required"        "$d" --input="$good" --out="$tmp/o"
check 2 "not expected: --modle"      "$d" "${dargs[@]}" --modle="$model" --out="$tmp/o"
check 2 "not expected: junk"         "$d" "${dargs[@]}" --out="$tmp/o" junk
check 2 "'0.5abc' is not a number"   "$d" "${dargs[@]}" --out="$tmp/o" --threshold=0.5abc
check 2 "'nan' is outside"           "$d" "${dargs[@]}" --out="$tmp/o" --threshold=nan
check 2 "must be -1 (OpenCV's default) or 1..256" "$d" "${dargs[@]}" --out="$tmp/o" --threads=0
check 2 "must be -1 (OpenCV's default) or 1..256" "$d" "${dargs[@]}" --out="$tmp/o" --threads=100000
check 2 "--out: 1 required"          "$d" "${dargs[@]}" --out=
check 2 "--overlays"                 "$d" "${dargs[@]}" --out="$tmp/o" --overlays=maybe
check 2 "--data is required"         "$m" --out="$tmp/o"
check 2 "--epochs"                   "$m" --data="$tmp/ds" --out="$tmp/o" --epochs=-3
check 2 "--epochs"                   "$m" --data="$tmp/ds" --out="$tmp/o" --epochs=12abc
check 2 "'nan' is outside"           "$m" --data="$tmp/ds" --out="$tmp/o" --lr=nan
check 2 "'1.5' is outside [0, 1]"    "$m" --data="$tmp/ds" --out="$tmp/o" --coreset=1.5
check 2 "--noise"                    "$m" --data="$tmp/ds" --out="$tmp/o" --noise=-0.5
check 2 "expected N or WxH, each 1..8" "$m" --data="$tmp/ds" --out="$tmp/o" --tiles=9
check 2 "expected N or WxH, each 1..8" "$m" --data="$tmp/ds" --out="$tmp/o" --tiles=2x2x2
check 2 "--hidden"                   "$m" --data="$tmp/ds" --out="$tmp/o" --hidden=-1
check 2 "--scorer"                   "$m" --data="$tmp/ds" --out="$tmp/o" --scorer=knn
check 2 "--score"                    "$m" --data="$tmp/ds" --out="$tmp/o" --score=sum
check 2 "'-3' is outside [0, 1000]"  "$m" --data="$tmp/ds" --out="$tmp/o" --head-weight=-3
check 2 "'nan' is outside [0, 1000]" "$m" --data="$tmp/ds" --out="$tmp/o" --head-limit=nan
check 2 "--balance-classes: Value 2 not in range" "$m" --data="$tmp/ds" --out="$tmp/o" --balance-classes=2
check 2 "--heads: Value 17 not in range" "$m" --data="$tmp/ds" --out="$tmp/o" --heads=17
check 2 "--out: 1 required"          "$m" --data="$tmp/ds" --out=
check 2 "--save: 1 required"         "$m" --data="$tmp/ds" --out="$tmp/o" --save=
check 2 "not expected: --epoch"      "$m" --data="$tmp/ds" --out="$tmp/o" --epoch=3
check 2 "--size"                     "$x" --input="$good" --size=10
check 2 "--backend"                  "$x" --input="$good" --backend=vulkan
check 2 "--train"                    "$g" --out="$tmp/g" --train=0
check 2 "--size"                     "$g" --out="$tmp/g" --size=abc
check 2 "--epochs"                   "$t" --data="$tmp/ds" --epochs=0
check 2 "--data is required"         "$t" --out="$tmp/t"

echo "== failures at run time (exit 1)"
check 1 "is not a folder that can be created" "$d" "${dargs[@]}" --out="$tmp/regular-file"
check 1 "is not a folder that can be created" "$d" "${dargs[@]}" --out=/proc/dmad-out
check 1 "is not writable"            "$d" "${dargs[@]}" --out=/proc
check 1 "is not a regular file"      "$d" --model="$tmp/empty" --input="$good" --out="$tmp/o"
check 1 "is not a regular file"      "$d" --model=/dev/zero --input="$good" --out="$tmp/o"
check 1 "cannot open model file"     "$d" --model="$tmp/none.yml.gz" --input="$good" --out="$tmp/o"
check 1 "garbage.yml"                "$d" --model="$tmp/garbage.yml" --input="$good" --out="$tmp/o"
check 1 "no such file or folder"     "$d" --model="$model" --input="$tmp/none" --out="$tmp/o"
check 1 "no images in folder"        "$d" --model="$model" --input="$tmp/empty" --out="$tmp/o"
check 1 "cannot decode image"        "$d" --model="$model" --input="$tmp/broken" --out="$tmp/o"
check 1 "is not a folder that can be created" "$m" --data="$tmp/ds" --out="$tmp/regular-file"
check 1 "cannot name a file in the output folder" "$m" --data="$tmp/ds" --out="$tmp/o" --classes=../pill
check 1 "ds/carpet' does not exist"  "$m" --data="$tmp/ds" --out="$tmp/o" --classes=carpet
check 1 "is not a folder that can be created" "$g" --out="$tmp/regular-file"
check 1 "--save '/proc/dmad.yml.gz': '/proc' is not writable" "$m" --data="$tmp/ds" --out="$tmp/o" \
                                          --save=/proc/dmad.yml.gz
check 1 "--save '$tmp/none/m.yml.gz': '$tmp/none' is not a folder" "$m" --data="$tmp/ds" --out="$tmp/o" \
                                          --save="$tmp/none/m.yml.gz"
# a full disk: files may not grow past 1 KB (each overlay and heatmap is larger)
check 1 "cannot write '$tmp/full/000_dmad.png' (File too large)" \
                                     bash -c 'trap "" XFSZ; ulimit -f 1; exec "$@"' _ "$d" "${dargs[@]}" --out="$tmp/full"
check 1 "cannot write '$tmp/full-m/heatmaps/pill/" \
                                     bash -c 'trap "" XFSZ; ulimit -f 1; exec "$@"' _ "$m" --data="$tmp/ds" \
                                          --out="$tmp/full-m" --load="$model" --heatmaps=-1 --baseline=false
# a ground-truth mask of the wrong size: refused in evaluation, as in training
cp -r "$tmp/ds" "$tmp/ds-badmask"
"$bindir/dmad_make_dataset" --out="$tmp/ds64" --train=1 --test-good=0 --test-defect=1 --size=64 --classes=pill \
    >/dev/null || fail "dmad_make_dataset --size=64"
cp "$(ls "$tmp"/ds64/pill/ground_truth/*/*.png | head -1)" "$(ls "$tmp"/ds-badmask/pill/ground_truth/*/*.png | head -1)"
check 1 "is 64x64, its image 96x96" "$m" --data="$tmp/ds-badmask" --out="$tmp/o-badmask" --load="$model" --heatmaps=0 \
                                          --baseline=false
echo "table: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || fail "$failed of $((passed + failed)) bad invocations misbehaved"
[ "$passed" -ge 30 ] || fail "only $passed cases"

echo "== a folder is scored as a batch"
mkdir -p "$tmp/batch"
cp "$good"/*.png "$tmp/batch/"
cp "$good/000.png" "$tmp/batch/dup.png" && cp "$good/000.png" "$tmp/batch/dup.PNG"
printf 'garbage' > "$tmp/batch/0broken.png"
out=$("$d" --model="$model" --input="$tmp/batch" --out="$tmp/b" 2>"$tmp/b.err"); rc=$?
[ $rc -eq 1 ] || fail "a batch with an unreadable image must exit 1, got $rc"
grep -q "skipped: dmad: cannot decode image '$tmp/batch/0broken.png'" "$tmp/b.err" || fail "no skip line: $(cat "$tmp/b.err")"
n=$(ls "$tmp/batch" | wc -l)
[ "$(wc -l <<<"$out")" -eq $((n - 1)) ] || fail "expected $((n - 1)) scored images: $out"
[ "$(wc -l <"$tmp/b/results.csv")" -eq $((n + 1)) ] || fail "results.csv: $(cat "$tmp/b/results.csv")"
head -1 "$tmp/b/results.csv" | grep -qx "path,class,score,normalized_score,threshold,verdict,ms" \
    || fail "results.csv header"
grep -q "0broken.png,,,,,unreadable," "$tmp/b/results.csv" || fail "the unreadable image is not in results.csv"
ls "$tmp/b/dup_dmad.png" "$tmp/b/dup_2_dmad.png" >/dev/null || fail "same-stem overlays overwrote each other"
grep -q "anomalous at the calibrated threshold of each image's class (from the model)" "$tmp/b.err" \
    || fail "the calibrated threshold was not used: $(cat "$tmp/b.err")"
awk -F, 'NR > 1 && $6 != "unreadable" && ($4 == "" || $4 < 0 || $4 > 1 || $5 == "") { bad = 1 } END { exit bad }' \
    "$tmp/b/results.csv" \
    || fail "normalized scores missing or outside [0, 1]: $(cat "$tmp/b/results.csv")"
echo "batch: $((n - 1)) of $n scored, the unreadable one reported, overlays unique, calibrated threshold"

echo "== a model trained in one folder, used from another"
(cd "$tmp/elsewhere" && "$d" --model=../train-here/model.yml.gz --input="$good" --out=o >/dev/null 2>"$tmp/e.err") \
    || fail "from another folder: $(cat "$tmp/e.err")"
mv "$tmp/train-here/bb" "$tmp/moved-bb"
(cd "$tmp/elsewhere" && "$d" --model=../train-here/model.yml.gz --input="$good" --out=o >/dev/null 2>"$tmp/e.err") \
    && fail "the backbone was moved away: the load must fail"
grep -q "nsfwjs_mobilenet_v2.onnx' not found" "$tmp/e.err" || fail "missing backbone message: $(cat "$tmp/e.err")"
(cd "$tmp/elsewhere" && OPENCV_DMAD_BACKBONE_PATH="$tmp/moved-bb" "$d" --model=../train-here/model.yml.gz \
    --input="$good" --out=o >/dev/null 2>"$tmp/e.err") || fail "through OPENCV_DMAD_BACKBONE_PATH: $(cat "$tmp/e.err")"
cp "$tmp/moved-bb/nsfwjs_mobilenet_v2.onnx" "$tmp/train-here/"
(cd "$tmp/elsewhere" && "$d" --model=../train-here/model.yml.gz --input="$good" --out=o >/dev/null 2>"$tmp/e.err") \
    || fail "beside the model: $(cat "$tmp/e.err")"
echo "travel: absolute path, OPENCV_DMAD_BACKBONE_PATH by file name, beside the model"
echo "PASS"

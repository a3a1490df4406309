#!/usr/bin/env bash
# The user's path end to end on a tiny synthetic dataset: dmad_mvtec trains, evaluates and writes
# results.json (checked against the documented schema), results.md, heatmaps and a model;
# dmad_detect runs the model on new images; dmad_tutorial walks the API. Bad input fails with one
# line on stderr and a non-zero exit.
set -u
bindir=$1 shared=$2 backbones=$3
fail() { echo "FAIL: $*"; exit 1; }
export OPENCV_DMAD_BACKBONE_PATH=$backbones:$shared/models DMAD_QUIET=1
# the registry MobileNetV2 (scripts/get-backbone.sh, which scripts/test.sh runs): no ../shared needed
if [ ! -f "$backbones/nsfwjs_mobilenet_v2.onnx" ]; then
  echo "SKIP: needs $backbones/nsfwjs_mobilenet_v2.onnx (run scripts/get-backbone.sh)"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bindir/dmad_make_dataset" --out="$tmp/ds" --train=8 --test-good=3 --test-defect=3 --size=128 \
    --classes=pill,metal_plate >/dev/null || fail "dmad_make_dataset"

common=(--backbone=mobilenet_v2 --epochs=1 --heatmaps=1 --threads=2)
out=$("$bindir/dmad_mvtec" "${common[@]}" --data="$tmp/ds" --out="$tmp/r" --save="$tmp/model.yml.gz" --anomalies=1 2>"$tmp/err") \
    || { cat "$tmp/err"; fail "dmad_mvtec exited $?"; }
echo "$out" | head -12
for f in results.json results.md; do [ -s "$tmp/r/$f" ] || fail "missing $f"; done
[ -s "$tmp/model.yml.gz" ] || fail "model not saved"
ls "$tmp"/r/heatmaps/pill/*.png >/dev/null 2>&1 || fail "no heatmaps for pill"
python3 - "$tmp/r/results.json" <<'PY' || fail "results.json does not match the schema"
import json, math, sys
r = json.load(open(sys.argv[1]))
keys = ["image_auroc", "image_ap", "image_f1", "pixel_auroc", "pixel_ap", "pro", "n_train", "n_test"]
assert {"data", "classes", "backbone", "anomalies", "scorer", "seed"} <= set(r["config"]), r["config"]
assert set(r["classes"]) == {"pill", "metal_plate"}, r["classes"].keys()
for name, c in list(r["classes"].items()) + [("mean", r["mean"])]:
    assert set(keys) <= set(c), (name, c)
    for k in keys[:6]:
        assert c[k] is None or 0.0 <= c[k] <= 1.0, (name, k, c[k])
assert r["classes"]["pill"]["n_train"] == 8 and r["classes"]["pill"]["n_test"] == 3 + 3 - 1, r["classes"]["pill"]
for k in ["extract_ms_per_image", "search_ms_per_image", "score_ms_per_image", "train_s"]:
    assert r["timing"][k] is not None and r["timing"][k] >= 0, k
assert r["config"]["annotated_used"] == 2
print("results.json: schema ok")
PY

# --load evaluates the saved model without training: the same scores on the same test split.
"$bindir/dmad_mvtec" "${common[@]}" --data="$tmp/ds" --out="$tmp/r-load" --load="$tmp/model.yml.gz" --anomalies=1 \
    >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; fail "dmad_mvtec --load exited $?"; }
python3 - "$tmp/r/results.json" "$tmp/r-load/results.json" <<'PY' || fail "--load changed the results"
import json, sys
trained, loaded = (json.load(open(f)) for f in sys.argv[1:])
assert loaded["timing"]["train_s"] is None, loaded["timing"]
for c in trained["classes"]:
    assert trained["classes"][c] == loaded["classes"][c], (c, trained["classes"][c], loaded["classes"][c])
print("--load: identical metrics")
PY
cmp <(sort "$tmp/r/scores.csv") <(sort "$tmp/r-load/scores.csv") || fail "--load changed scores.csv"

# The same images as a VisA-layout dataset (split_csv/1cls.csv): dmad_mvtec recognises the layout.
mkdir -p "$tmp/visa/split_csv" && ln -s "$tmp/ds" "$tmp/visa/ds"
python3 - "$tmp/visa" <<'PY' || fail "could not write the VisA split"
import os, sys
root = sys.argv[1]
rows = ["object,split,label,image,mask"]
for cls in ("pill", "metal_plate"):
    for split in ("train", "test"):
        base = os.path.join(root, "ds", cls, split)
        for kind in sorted(os.listdir(base)):
            for f in sorted(os.listdir(os.path.join(base, kind))):
                image = "ds/%s/%s/%s/%s" % (cls, split, kind, f)
                mask = "" if kind == "good" else "ds/%s/ground_truth/%s/%s_mask.png" % (cls, kind, f[:-4])
                rows.append("%s,%s,%s,%s,%s" % (cls, split, "normal" if kind == "good" else "anomaly", image, mask))
open(os.path.join(root, "split_csv", "1cls.csv"), "w").write("\n".join(rows) + "\n")
PY
"$bindir/dmad_mvtec" --backbone=mobilenet_v2 --epochs=1 --threads=2 --data="$tmp/visa" --out="$tmp/r-visa" --heatmaps=0 --baseline=false \
    >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; fail "dmad_mvtec on VisA layout exited $?"; }
python3 - "$tmp/r-visa/results.json" <<'PY' || fail "VisA results"
import json, sys
r = json.load(open(sys.argv[1]))
assert sorted(r["classes"]) == ["metal_plate", "pill"], r["classes"].keys()
assert r["classes"]["pill"]["n_train"] == 8 and r["classes"]["pill"]["n_test"] == 6, r["classes"]["pill"]
assert r["classes"]["pill"]["pixel_auroc"] is not None
print("VisA layout: ok")
PY

out=$("$bindir/dmad_detect" --model="$tmp/model.yml.gz" --input="$tmp/ds/pill/test/good" --out="$tmp/d" 2>/dev/null) \
    || fail "dmad_detect exited $?"
[ "$(wc -l <<<"$out")" -eq 3 ] || fail "expected one line per image: $out"
grep -qE "^.*/000\.png -?[0-9]+\.[0-9]{4} (normal|anomalous)$" <<<"$out" || fail "unexpected line format: $out"
ls "$tmp"/d/*_dmad.png >/dev/null 2>&1 || fail "no overlays"

check_one_line() {  # <description> <command...>: non-zero exit and exactly one line on stderr
  local what=$1; shift
  local err rc
  err=$("$@" 2>&1 >/dev/null); rc=$?
  [ $rc -ne 0 ] || fail "$what: exit 0"
  [ "$(wc -l <<<"$err")" -eq 1 ] || fail "$what: expected one line on stderr, got: $err"
  echo "$what -> $err"
}
echo "not a model" > "$tmp/bad.yml"
mkdir -p "$tmp/empty"
check_one_line "bad model" "$bindir/dmad_detect" --model="$tmp/bad.yml" --input="$tmp/ds/pill/test/crack" --out="$tmp/d"
check_one_line "missing model" "$bindir/dmad_detect" --model="$tmp/none.yml.gz" --input="$tmp/ds" --out="$tmp/d"
check_one_line "empty folder" "$bindir/dmad_detect" --model="$tmp/model.yml.gz" --input="$tmp/empty" --out="$tmp/d"
# unreadable images in a batch, and the rest of the bad invocations: test/sample_bad_invocations.sh
check_one_line "missing dataset" "$bindir/dmad_mvtec" --data="$tmp/nothing" --out="$tmp/r2"

out=$("$bindir/dmad_tutorial" --data="$tmp/ds" --backbone=mobilenet_v2 --epochs=1 --out="$tmp/t" 2>/dev/null) \
    || fail "dmad_tutorial exited $?"
grep -q "mean" <<<"$out" || fail "the tutorial printed no table: $out"
[ -s "$tmp/t/heatmap.png" ] || fail "the tutorial wrote no heatmap"
echo "PASS"

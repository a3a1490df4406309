#!/usr/bin/env bash
# dmad_make_dataset writes the MVTec layout, skips an up-to-date dataset, and fails bad input with
# one line on stderr.
set -u
bin=$1
fail() { echo "FAIL: $*"; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
args=(--out="$root/ds" --train=2 --test-good=1 --test-defect=3 --size=64 --classes=pill,fabric)

out=$("$bin" "${args[@]}") || fail "dmad_make_dataset exited $?"
echo "$out"
grep -q "^written " <<<"$out" || fail "expected 'written'"
[ "$(ls "$root/ds/pill/train/good")" = "$(printf '000.png\n001.png')" ] || fail "train/good"
[ "$(ls "$root/ds/fabric/test/good")" = "000.png" ] || fail "test/good"
for t in chip crack contamination; do
  [ -f "$root/ds/pill/test/$t/000.png" ] || fail "missing pill/test/$t/000.png"
  [ -f "$root/ds/pill/ground_truth/$t/000_mask.png" ] || fail "missing pill/ground_truth/$t mask"
done
[ ! -e "$root/ds/washer" ] || fail "a class that was not asked for"
[ -f "$root/ds/dataset.yml" ] || fail "no dataset.yml"

out=$("$bin" "${args[@]}") || fail "second run exited $?"
grep -q "^up to date " <<<"$out" || fail "second run did not skip: $out"

err=$("$bin" --out="$root/ds" --classes=bottle 2>&1 >/dev/null); rc=$?
[ $rc -ne 0 ] || fail "unknown class accepted"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "expected one line on stderr, got: $err"
grep -q "unknown synthetic class 'bottle'" <<<"$err" || fail "unclear message: $err"
"$bin" >/dev/null 2>&1 && fail "missing --out accepted"
echo "PASS"

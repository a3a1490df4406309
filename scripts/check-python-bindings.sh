#!/usr/bin/env bash
# The python3 bindings (cv2) of an in-tree OpenCV build with dmad, checked the way OpenCV checks its
# own: scripts/check-contrib-build.sh calls it as its last phase, after building opencv_python3.
#   1. import    cv2 of the build tree (its python_loader), cv2.dmad present;
#   2. tests     modules/dmad/misc/python/test under OpenCV's runner (modules/python/test/test.py,
#                which finds them through the build's opencv_python_tests.cfg);
#   3. round trip a model created from a preset, trained, scored and saved in Python
#                (scripts/lib/python_roundtrip.py) scores the same in C++, in the standalone build's
#                build/bin/dmad_detect, and in samples/python/dmad_detect.py.
#
#   scripts/check-python-bindings.sh [<opencv build> [<opencv source>]]
#     (default: the work folder of scripts/check-contrib-build.sh, $HOME/.cache/dmad-contrib)
# Environment:
#   DMAD_PYTHON        the interpreter cv2 was built for (default: /usr/bin/python3, Debian's)
#   DMAD_DETECT        the C++ dmad_detect of the round trip (default: <repo>/build/bin/dmad_detect,
#                      scripts/build.sh's); the step is skipped, saying so, when it is missing
#   DMAD_BACKBONE_DIR  where scripts/get-backbone.sh wrote the backbones (default: <repo>/build/backbones)
# Ends with "check-python-bindings: PASS: ..." or "... FAIL ..." (exit status 1).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${DMAD_CONTRIB_WORK:-$HOME/.cache/dmad-contrib}
build=${1:-$work/build}
src=${2:-$(cat "$work/src/.unpacked" 2>/dev/null || true)}
python=${DMAD_PYTHON:-/usr/bin/python3}
detect=${DMAD_DETECT:-$repo/build/bin/dmad_detect}
backbone=${DMAD_BACKBONE_DIR:-$repo/build/backbones}/nsfwjs_mobilenet_v2.onnx

fail() { echo "check-python-bindings: FAIL: $*" >&2; exit 1; }
[ -d "$build/python_loader/cv2" ] || fail "no python_loader/cv2 in '$build': build the opencv_python3 target"
[ -f "$src/modules/python/test/test.py" ] || fail "no OpenCV source tree at '$src' (its modules/python/test/test.py)"
export PYTHONPATH=$build/python_loader${PYTHONPATH:+:$PYTHONPATH}
# the backbones of the tests and the round trip, as the C++ tests find them
export DMAD_BACKBONE_DIR=$(dirname "$backbone")

# 1. import
"$python" -c 'import cv2, sys; assert hasattr(cv2, "dmad"), "cv2 has no dmad"
print("cv2 %s from %s (python %s), cv2.dmad: %d names" % (cv2.__version__, cv2.__file__,
      sys.version.split()[0], len(dir(cv2.dmad))))' || fail "cv2 with dmad does not import from $build/python_loader"

# 2. OpenCV's runner; OPENCV_PYTEST_FILTER picks dmad's file out of every module's test folder
tests_log=$(mktemp)
trap 'rm -f "$tests_log"' EXIT
rc=0
(cd "$build" && OPENCV_PYTEST_FILTER=test_dmad "$python" "$src/modules/python/test/test.py" --repo "$src" -v) \
  >"$tests_log" 2>&1 || rc=$?
cat "$tests_log"
ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' "$tests_log" | tail -n1)
skipped=$(sed -n 's/^OK (skipped=\([0-9]*\))$/\1/p' "$tests_log" | tail -n1)
[ "$rc" -eq 0 ] && grep -q '^OK' "$tests_log" || fail "the Python tests failed (exit $rc)"
[ -n "$ran" ] && [ "$ran" -gt 0 ] || fail "no Python test ran"

# 3. round trip through C++
roundtrip="not run"
if [ ! -x "$detect" ]; then
  echo "check-python-bindings: no $detect (scripts/build.sh builds it): round trip skipped"
  roundtrip="skipped (no $detect)"
else
  [ -f "$backbone" ] || fail "no $backbone: run scripts/get-backbone.sh"
  rt=$(mktemp -d)
  trap 'rm -f "$tests_log"; rm -rf "$rt"' EXIT
  "$python" "$repo/scripts/lib/python_roundtrip.py" train "$rt" "$backbone" || fail "training in Python failed"
  "$detect" --model "$rt/model.yml.gz" --input "$rt/images" --out "$rt/cpp" --overlays=false >"$rt/cpp.log" 2>&1 \
    || { cat "$rt/cpp.log" >&2; fail "$detect failed on the model saved in Python"; }
  tail -n 1 "$rt/cpp.log"
  "$python" "$repo/samples/python/dmad_detect.py" --model "$rt/model.yml.gz" --input "$rt/images" --out "$rt/py" \
    >"$rt/py.log" 2>&1 || { cat "$rt/py.log" >&2; fail "samples/python/dmad_detect.py failed"; }
  tail -n 1 "$rt/py.log"
  n_overlays=$(ls "$rt/py"/*_dmad.png 2>/dev/null | wc -l)
  "$python" "$repo/scripts/lib/python_roundtrip.py" compare "$rt/python_scores.csv" "$rt/cpp/results.csv" \
    "C++ $(basename "$detect")" || fail "C++ scores differ from Python's"
  "$python" "$repo/scripts/lib/python_roundtrip.py" compare "$rt/python_scores.csv" "$rt/py/results.csv" \
    "samples/python/dmad_detect.py" || fail "samples/python/dmad_detect.py scores differ from predict()'s"
  cut -d, -f1-6 "$rt/cpp/results.csv" >"$rt/cpp.cut"; cut -d, -f1-6 "$rt/py/results.csv" >"$rt/py.cut"
  cmp -s "$rt/cpp.cut" "$rt/py.cut" || { diff "$rt/cpp.cut" "$rt/py.cut" >&2 || true
    fail "the C++ and Python dmad_detect results.csv differ (timing column aside)"; }
  # the sample's strict command line: a refused option exits 2, a failed write 1, one line on stderr each
  rc=0; "$python" "$repo/samples/python/dmad_detect.py" --model "$rt/model.yml.gz" --input "$rt/images" \
    --out "$rt/py" --treshold 1 >/dev/null 2>"$rt/err" || rc=$?
  [ "$rc" -eq 2 ] && [ "$(wc -l <"$rt/err")" -eq 1 ] || fail "an unknown option: exit $rc, stderr: $(cat "$rt/err")"
  rc=0; "$python" "$repo/samples/python/dmad_detect.py" --model "$rt/model.yml.gz" --input "$rt/images" \
    --out "$rt/model.yml.gz/out" >/dev/null 2>"$rt/err" || rc=$?
  [ "$rc" -eq 1 ] && [ "$(wc -l <"$rt/err")" -eq 1 ] || fail "an output folder that cannot be created: exit $rc, stderr: $(cat "$rt/err")"
  roundtrip="model saved in Python scored the same by $detect and samples/python/dmad_detect.py ($n_overlays overlays)"
fi
echo "check-python-bindings: PASS: $ran Python tests, none failed, ${skipped:-0} skipped; round trip: $roundtrip"

#!/usr/bin/env bash
# Checks the converted nsfwjs trunks against the original: the same procedural 256x256 image runs
# through TensorFlow.js (@tensorflow/tfjs on node, pinned in tools/backbones/package-lock.json) and
# through cv::dnn, and every tapped layer must agree to a relative L2 error under 1e-4, on the
# whole tensors.
#
#   scripts/verify-backbone.sh                    compare; prints one line per tapped layer
#   scripts/verify-backbone.sh --update-test-data also rewrite the small references in git
#                                                 (modules/dmad/test/data) that ctest compares with
#   scripts/verify-backbone.sh --test-binary=PATH use that opencv_test_dmad instead of building
#
# Exits 77 (skip) when node or npm is missing. Runs get-backbone.sh (and build.sh) first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${DMAD_BACKBONE_DIR:-$root/build/backbones}
export DMAD_BACKBONE_DIR=$dir
update=false
test_binary=
for arg in "$@"; do
    case $arg in
        --update-test-data) update=true ;;
        --test-binary=*) test_binary=${arg#*=} ;;
        *) echo "verify-backbone: unknown argument $arg" >&2; exit 2 ;;
    esac
done

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "verify-backbone: SKIP: needs node and npm for TensorFlow.js"
    exit 77
fi
"$root/scripts/get-backbone.sh" >/dev/null
if [ -z "$test_binary" ]; then
    "$root/scripts/build.sh" >/dev/null
    test_binary=$root/build/bin/opencv_test_dmad
fi

# TensorFlow.js exactly as locked, in a private folder (no global install, no install scripts).
tools=$root/tools/backbones
lock_id=$(sha256sum "$tools/package-lock.json" | cut -c1-16)
tfjs=$dir/tfjs-$lock_id
if [ ! -f "$tfjs/installed" ]; then
    echo "verify-backbone: npm ci @tensorflow/tfjs into $tfjs" >&2
    rm -rf "$tfjs"
    mkdir -p "$tfjs"
    cp "$tools/package.json" "$tools/package-lock.json" "$tfjs/"
    (cd "$tfjs" && npm ci --ignore-scripts --no-audit --no-fund --silent --cache "$tfjs/.npm-cache")
    rm -rf "$tfjs/.npm-cache"
    touch "$tfjs/installed"
fi

reference=$dir/reference
version=$(sed -n 's/^version=//p' "$root/scripts/get-backbone.sh")
for trunk in inception_v3 mobilenet_v2; do
    NODE_PATH=$tfjs/node_modules node "$tools/tfjs_reference.js" \
        "$dir/nsfwjs-$version/$trunk" "$reference/$trunk"
    if $update; then
        NODE_PATH=$tfjs/node_modules node "$tools/tfjs_reference.js" --values=4096 \
            "$dir/nsfwjs-$version/$trunk" "$root/modules/dmad/test/data/nsfwjs_${trunk}_tfjs"
    fi
done

compared=$(DMAD_BACKBONE_REFERENCE_DIR=$reference "$test_binary" \
    --gtest_filter='DMAD_Backbones_nsfwjs.matches_tfjs/*') || { echo "$compared"; exit 1; }
echo "$compared" | grep -E '^\[ dmad|PASSED'
if ! grep -q "PASSED  \] 2 tests" <<<"$compared"; then
    echo "verify-backbone: the comparison did not run"
    exit 1
fi

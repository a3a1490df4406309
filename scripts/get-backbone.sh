#!/usr/bin/env bash
# The main job's backbone step: fetches the ImageNet InceptionV3 and MobileNetV2 trunks bundled in
# the npm package nsfwjs (MIT) and converts them to ONNX for cv::dnn. Needs only Debian's packages
# and the npm registry; installs nodejs, npm, python3-onnx and python3-numpy when missing.
#
#   scripts/get-backbone.sh
#
# Writes to ${DMAD_BACKBONE_DIR:-<repo>/build/backbones}:
#   nsfwjs_inception_v3.onnx   taps mixed2 (stride ~8, 288 ch) and mixed5 (stride ~16, 768 ch)
#   nsfwjs_mobilenet_v2.onnx   taps block_5_add (stride 8, 32 ch), block_10_project_BN (16, 96 ch)
#   nsfwjs-<version>/<trunk>/  the cut TensorFlow.js layers models they were converted from
# Prints one line on stdout saying where the models are; the details go to stderr.
# A rerun with the models built by the same recipe (this script and tools/backbones) does nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${DMAD_BACKBONE_DIR:-$root/build/backbones}
python=${DMAD_PYTHON:-/usr/bin/python3}  # Debian's, where python3-onnx is installed

# nsfwjs 4.2.1 and later bundle both layers models (3.x and 4.0 fetch them at run time).
version=4.4.0
integrity=sha512-krC1fgeTLXtZwgdpKJ0jm7hqv0gTSRQQRL+FhOaxaJ9Wj92t42BO3csO2odwgTAgZgf2RvkwPtp0R8Aa7dc+MA==
# trunk:taps; the graph is cut after the deepest tap.
trunks=(inception_v3:mixed2,mixed5 mobilenet_v2:block_5_add,block_10_project_BN)

tools=$root/tools/backbones
recipe=$(cat "$0" "$tools/extract_nsfwjs.js" "$tools/keras_to_onnx.py" | sha256sum | cut -c1-16)
stamp=$dir/nsfwjs-$version.recipe
models=()
for t in "${trunks[@]}"; do models+=("$dir/nsfwjs_${t%%:*}.onnx"); done

say_where() {
    echo "get-backbone: nsfwjs@$version trunks in $dir: ${models[*]##*/}"
}

up_to_date=true
for m in "${models[@]}"; do [ -f "$m" ] || up_to_date=false; done
if $up_to_date && [ "$(cat "$stamp" 2>/dev/null)" = "$recipe" ]; then
    say_where
    exit 0
fi

install_debian() {
    echo "get-backbone: installing $*" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" \
        >/dev/null
}
command -v node >/dev/null && command -v npm >/dev/null || install_debian nodejs npm
"$python" -c "import onnx, numpy" 2>/dev/null || install_debian python3-onnx python3-numpy

mkdir -p "$dir/download"
work=$(mktemp -d "$dir/unpack.XXXXXX")
trap 'rm -rf "$work"' EXIT
tarball=$dir/download/nsfwjs-$version.tgz
sri() {  # the registry's integrity string of a file
    node -e 'const fs = require("fs"), crypto = require("crypto");
             const digest = crypto.createHash("sha512").update(fs.readFileSync(process.argv[1]));
             process.stdout.write("sha512-" + digest.digest("base64"));' "$1"
}
if [ ! -f "$tarball" ] || [ "$(sri "$tarball")" != "$integrity" ]; then
    echo "get-backbone: npm pack nsfwjs@$version" >&2
    (cd "$dir/download" &&
     npm pack "nsfwjs@$version" --cache "$work/npm-cache" --silent --no-audit --no-fund >/dev/null)
fi
actual=$(sri "$tarball")
if [ "$actual" != "$integrity" ]; then
    echo "get-backbone: integrity mismatch for $tarball: got $actual, expected $integrity" >&2
    exit 1
fi

tar -xzf "$tarball" -C "$work" package/package.json package/dist/models
node "$tools/extract_nsfwjs.js" "$work/package/dist/models" "$dir/nsfwjs-$version" \
    "${trunks[@]}" >&2
for t in "${trunks[@]}"; do
    trunk=${t%%:*}
    "$python" "$tools/keras_to_onnx.py" "$dir/nsfwjs-$version/$trunk/model.json" \
        "$dir/nsfwjs_$trunk.onnx" >&2
done
echo "$recipe" > "$stamp"
say_where

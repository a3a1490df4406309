#!/usr/bin/env bash
# Builds dmad with the CUDA bank search into build-gpu/ and gathers what scripts/gpu-check.sh runs
# on the GPU machine into build-gpu/bundle/, packed as build-gpu/bundle.tar.xz (carry that file):
#   bin/  opencv_test_dmad, dmad_bench_gpu
#   lib/  every shared library they load beyond the C library (ldd), except cuBLAS
# Debian's OpenCV pulls in GDAL, OpenBLAS, ICU and more: about 220 MB unpacked, 55 MB packed.
# cuBLAS is left out: libcublasLt.so.13 alone is 540 MB, and the GPU machine has libcublas.so.13
# and libcublasLt.so.13 in its Python's nvidia packages, where gpu-check.sh finds them.
# DMAD_BUNDLE_CUBLAS=1 copies them as well. DMAD_JOBS sets the build's parallelism (default 1).
# The CUDA tests need no data files (random banks); the other tests are not run there.
#
# DMAD_OPENCV_CUDA=<install prefix of scripts/build-opencv-cuda.sh> builds against that OpenCV 4.10 with CUDA and
# cuDNN instead (build folder build-gpu-cv410/) and also bundles dmad_extract, dmad_make_dataset and a backbone
# model (models/), so that gpu-check.sh times cv::dnn's CUDA backend. cuDNN is left out like cuBLAS (its engine
# libraries are about 470 MB; the GPU machine's Python has nvidia-cudnn); DMAD_BUNDLE_CUDNN=1 copies it.
# DMAD_BUNDLE_MODEL picks the model (default: build/backbones/nsfwjs_mobilenet_v2.onnx from
# scripts/get-backbone.sh when present, else ../shared/models/mobilenetv2-12-int8.onnx, whose int8 layers the
# CUDA backend does not run: cv::dnn 4.10 runs quantized networks on the CPU only, with a warning).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-gpu"
bundle="$build/bundle"
targets=(opencv_test_dmad dmad_bench_gpu)
opencv_args=()
if [ -n "${DMAD_OPENCV_CUDA:-}" ]; then
  ocv_dir="$DMAD_OPENCV_CUDA/lib/cmake/opencv4"
  [ -f "$ocv_dir/OpenCVConfig.cmake" ] || { echo "gpu-bundle: no OpenCVConfig.cmake in $ocv_dir"; exit 1; }
  build="$root/build-gpu-cv410"
  opencv_args=(-DOpenCV_DIR="$ocv_dir")
  targets+=(dmad_extract dmad_make_dataset)
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDMAD_WITH_CUDA=ON "${opencv_args[@]}" \
      -DDMAD_BUILD_SAMPLES=ON -DDMAD_BUILD_BENCHMARKS=ON -DDMAD_BUILD_TESTS=ON >/dev/null
nice -n 19 cmake --build "$build" -j "${DMAD_JOBS:-1}" --target "${targets[@]}"

# The bundle always lands in build-gpu/ (gpu-check.sh unpacks build-gpu/bundle.tar.xz there).
out="$root/build-gpu"
rm -rf "$bundle"
mkdir -p "$bundle/bin" "$bundle/lib"
programs=()
for t in "${targets[@]}"; do programs+=("$build/bin/$t"); done
cp "${programs[@]}" "$bundle/bin/"
if [ -n "${DMAD_OPENCV_CUDA:-}" ]; then
  model=${DMAD_BUNDLE_MODEL:-}
  for m in "$root/build/backbones/nsfwjs_mobilenet_v2.onnx" "$root/../shared/models/mobilenetv2-12-int8.onnx"; do
    [ -n "$model" ] || { [ -f "$m" ] && model=$m; } || true
  done
  [ -n "$model" ] && [ -f "$model" ] || { echo "gpu-bundle: no backbone model (set DMAD_BUNDLE_MODEL)"; exit 1; }
  mkdir -p "$bundle/models"
  cp "$model" "$bundle/models/"
  # What gpu-check.sh reads: the backbone model, and that this OpenCV was built with CUDA (and cuDNN).
  { echo "model=$(basename "$model")"
    grep -hoE 'set\((OpenCV_VERSION|OpenCV_CUDA_VERSION|OpenCV_USE_CUDNN|OpenCV_USE_CUBLAS) [^)]*\)' \
         "$ocv_dir"/OpenCVConfig*.cmake | sed -E 's/^set\(([A-Za-z_]+) +"?([^")]*)"?\)$/\1=\2/' || true
  } >"$bundle/opencv-cuda.txt"
  cat "$bundle/opencv-cuda.txt"
fi

# ldd lists the whole dependency closure. The C library's own parts come from the GPU machine.
skip='^(linux-vdso|ld-linux|libc|libm|libpthread|libdl|librt|libutil|libresolv)\.so'
if [ "${DMAD_BUNDLE_CUBLAS:-0}" != 1 ]; then
  skip="$skip|^libcublas(Lt)?\\.so"
fi
if [ "${DMAD_BUNDLE_CUDNN:-0}" != 1 ]; then
  skip="$skip|^libcudnn"
fi
ldd "${programs[@]}" | awk '/=> \// { print $1, $3 }' | sort -u | while read -r name path; do
  if [[ "$name" =~ $skip ]]; then
    continue
  fi
  cp -L "$path" "$bundle/lib/$name"
done
# Debug sections are of no use there; the programs and libraries keep their symbols for backtraces.
strip --strip-debug "$bundle/bin/"* "$bundle/lib/"* 2>/dev/null || true
missing=$(ldd "${programs[@]}" | grep -c 'not found' || true)
[ "$missing" -eq 0 ] || { ldd "${programs[@]}" | grep 'not found'; echo "gpu-bundle: libraries missing here"; exit 1; }

if [ "${DMAD_BUNDLE_CUDNN:-0}" = 1 ] && [ -n "${DMAD_OPENCV_CUDA:-}" ]; then
  # libcudnn.so.9 loads its engine libraries with dlopen: ldd does not list them.
  cudnn_dir=$(dirname "$(ldd "$build/bin/dmad_extract" | awk '/libcudnn\.so/ {print $3}')")
  cp -L "$cudnn_dir"/libcudnn_*.so.9 "$bundle/lib/"
fi

count=$(ls "$bundle/lib" | wc -l)
size=$(du -sm "$bundle" | cut -f1)
echo "gpu-bundle: $bundle: ${#programs[@]} programs, $count libraries, ${size} MB"
# xz -6 on one thread: about 2 minutes here
tar -C "$out" -cf - bundle | nice -n 19 xz -6 -T1 >"$out/bundle.tar.xz.part"
mv "$out/bundle.tar.xz.part" "$out/bundle.tar.xz"
echo "gpu-bundle: $out/bundle.tar.xz: $(( $(stat -c %s "$out/bundle.tar.xz") / 1048576 )) MiB"
echo "gpu-bundle: on the GPU machine, carry build-gpu/bundle.tar.xz and run from the repository root: scripts/gpu-check.sh"

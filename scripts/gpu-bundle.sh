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
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-gpu"
bundle="$build/bundle"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDMAD_WITH_CUDA=ON \
      -DDMAD_BUILD_SAMPLES=ON -DDMAD_BUILD_BENCHMARKS=ON -DDMAD_BUILD_TESTS=ON >/dev/null
nice -n 19 cmake --build "$build" -j "${DMAD_JOBS:-1}" --target opencv_test_dmad dmad_bench_gpu

rm -rf "$bundle"
mkdir -p "$bundle/bin" "$bundle/lib"
programs=("$build/bin/opencv_test_dmad" "$build/bin/dmad_bench_gpu")
cp "${programs[@]}" "$bundle/bin/"

# ldd lists the whole dependency closure. The C library's own parts come from the GPU machine.
skip='^(linux-vdso|ld-linux|libc|libm|libpthread|libdl|librt|libutil|libresolv)\.so'
if [ "${DMAD_BUNDLE_CUBLAS:-0}" != 1 ]; then
  skip="$skip|^libcublas(Lt)?\\.so"
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

count=$(ls "$bundle/lib" | wc -l)
size=$(du -sm "$bundle" | cut -f1)
echo "gpu-bundle: $bundle: 2 programs, $count libraries, ${size} MB"
# xz -6 on one thread: about 2 minutes here
tar -C "$build" -cf - bundle | nice -n 19 xz -6 -T1 >"$build/bundle.tar.xz.part"
mv "$build/bundle.tar.xz.part" "$build/bundle.tar.xz"
echo "gpu-bundle: $build/bundle.tar.xz: $(( $(stat -c %s "$build/bundle.tar.xz") / 1048576 )) MiB"
echo "gpu-bundle: on the GPU machine, carry build-gpu/bundle.tar.xz and run from the repository root: scripts/gpu-check.sh"

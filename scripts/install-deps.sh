#!/usr/bin/env bash
# Installs the Debian 12 packages dmad builds with, when any is missing. Idempotent and quiet.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libopencv-dev libopencv-contrib-dev   # OpenCV 4.6: core, imgproc, imgcodecs, dnn
  libeigen3-dev libnanoflann-dev        # header-only linear algebra and KD-tree
  libhnswlib-dev                        # header-only HNSW graph: the approximate bank search
  libcli11-dev                          # header-only command-line parser of the samples (strict options)
  zlib1g-dev                            # checksums and gzip of saved models
  libgtest-dev libbenchmark-dev         # tests and benchmarks
  # OpenBLAS: the exact search's products (optional: Eigen's otherwise), the BLAS behind faiss and
  # the benchmark's sgemm peer; installing it makes it the system's libblas.so.3/liblapack.so.3
  # (Debian alternatives), which OpenCV's core also loads. faiss: dmad_bench_bank's reference.
  libfaiss-dev libopenblas-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

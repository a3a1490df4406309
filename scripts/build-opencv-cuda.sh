#!/usr/bin/env bash
# Builds OpenCV with CUDA and cuDNN (so that cv::dnn offers DNN_BACKEND_CUDA / DNN_TARGET_CUDA(_FP16)) from
# Debian's own source package, for the modules this project needs, and installs it into a prefix:
#   1. download  the +dfsg orig tarball and the orig-contrib tarball of Debian trixie's opencv source package
#                (a private apt configuration: the system's apt sources and state are left untouched); cached;
#   2. prepare   unpack both, write a header-only NPP stand-in, patch modules/core/src/cuda_info.cpp for CUDA 13
#                (scripts/opencv-4.10-cuda13.patch);
#   3. configure core, imgproc, imgcodecs, dnn and cudev (contrib) with CUDA, cuDNN and cuBLAS for sm_90 + PTX 9.0,
#                every option that builds bundled 3rdparty code off (the +dfsg tarball has no 3rdparty/);
#   4. build     under nice -n 19, ccache for the C++ files;
#   5. install   into the prefix;
#   6. evidence  a small program built against the install prints the CUDA/cuDNN lines of getBuildInformation()
#                and the dnn backends; libopencv_dnn must hold the cuda4dnn code and load cuDNN.
# Ends with one line "VERDICT: PASS: ..." or "VERDICT: FAIL: <phase>: ...".
#
# Why OpenCV 4.10.0 (trixie) and not 4.6.0 (bookworm, the system's): both need the NPP stand-in and the
# cudaDeviceProp patch for CUDA 13, but 4.6's dnn also calls cudnnSetRNNDescriptor_v6, which cuDNN 9 removed
# (a rewrite of its LSTM layer for cudnnSetRNNDescriptor_v8); 4.10 already has CUDNN_MAJOR >= 9 branches. The
# module itself still builds against Debian 12's system OpenCV 4.6 (its CMake asks for OpenCV >= 4.6).
# Debian's .dsc is not fetched by every mirror (deb.debian.org answered 404 for it here), so the tarballs are
# unpacked with tar: Debian's patches (LAPACK lookup, no downloads, Python egg, docs) are not needed here.
#
# CUDA 13 and this machine (docs/build-notes.md in ../shared): the toolkit in /usr/local/cuda has nvcc, cuBLAS,
# cuDNN 9 but no NPP; OpenCV's core includes <npp.h> and its CMake wants the npp* libraries, yet core, imgproc,
# cudev and dnn call no NPP function: a header with NPP's type, status and version names and every
# CUDA_npp*_LIBRARY pointed at libcudart.so is enough. No GPU is needed to build.
#
# Environment:
#   DMAD_OCV_CUDA_WORK     work folder: download cache, source, build tree, ccache, logs
#                          (default: <repo>/build-opencv-cuda, git-ignored)
#   DMAD_OCV_CUDA_PREFIX   install prefix (default: $DMAD_OCV_CUDA_WORK/install)
#   DMAD_OCV_CUDA_JOBS     parallel build jobs (default: 2)
#   DMAD_OCV_CUDA_CLEAN    1: remove the build tree first (a from-scratch build; ccache still serves C++ files)
#   DMAD_OCV_CUDA_STOP_AFTER  stop after this phase (download, prepare or configure), e.g. to check a configure
#   DMAD_OCV_CUDA_ARCH     CUDA_ARCH_BIN and CUDA_ARCH_PTX (default: 9.0, the H200)
#   CUDA_HOME              CUDA toolkit (default: /usr/local/cuda)
#   DMAD_DEBIAN_MIRROR     Debian mirror URI (default: the first non-security one in the system's apt sources)
#   DMAD_DEBIAN_SUITE      suite of the source package (default: trixie; the patch is made for 4.10.0)
#   VERBOSE=1              stream the build output instead of only logging it
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${DMAD_OCV_CUDA_WORK:-$repo/build-opencv-cuda}
jobs=${DMAD_OCV_CUDA_JOBS:-2}
arch=${DMAD_OCV_CUDA_ARCH:-9.0}
cuda=${CUDA_HOME:-/usr/local/cuda}
mkdir -p "$work/logs"
work=$(cd "$work" && pwd)
prefix=${DMAD_OCV_CUDA_PREFIX:-$work/install}
logs=$work/logs
. "$repo/scripts/lib/opencv-source.sh"
lock_work_folder "$work"

t_script=$(date +%s)
fail() {
  echo "build-opencv-cuda: $*" >&2
  summary
  echo "VERDICT: FAIL: ${phase:-setup}: $* (after $(( $(date +%s) - t_script )) s)"
  exit 1
}
trap 'fail "unexpected error (exit $?) at line $LINENO"' ERR
stop_after() {
  if [ "${DMAD_OCV_CUDA_STOP_AFTER:-}" = "$1" ]; then
    trap - ERR
    summary
    echo "build-opencv-cuda: stopped after $1 (DMAD_OCV_CUDA_STOP_AFTER)"
    exit 0
  fi
}

# ---------------------------------------------------------------------------------------------------------------
phase_start download
[ -x "$cuda/bin/nvcc" ] || fail "no nvcc in $cuda/bin (set CUDA_HOME)"
[ -f "$cuda/include/cudnn_version.h" ] || fail "no cuDNN headers in $cuda/include"
packages=(build-essential cmake xz-utils ccache libprotobuf-dev protobuf-compiler zlib1g-dev libpng-dev libjpeg-dev)
install_missing_packages "${packages[@]}"
dl=$work/src/download
mkdir -p "$dl"
orig=$(ls "$dl"/opencv_*+dfsg.orig.tar.xz 2>/dev/null | head -n1 || true)
contrib=$(ls "$dl"/opencv_*+dfsg.orig-contrib.tar.xz 2>/dev/null | head -n1 || true)
if [ -n "$orig" ] && [ -n "$contrib" ]; then
  echo "cached: $(basename "$orig") $(basename "$contrib")"
else
  suite=${DMAD_DEBIAN_SUITE:-trixie}
  private_apt_update "$work/apt" "$suite"
  # apt-get source exits non-zero when one file fails (the .dsc may be missing from a mirror): judge by the
  # two tarballs this script needs.
  (cd "$dl" && apt-get "${apt_private[@]}" source --download-only opencv) >"$logs/apt-source.log" 2>&1 || true
  orig=$(ls "$dl"/opencv_*+dfsg.orig.tar.xz 2>/dev/null | head -n1 || true)
  contrib=$(ls "$dl"/opencv_*+dfsg.orig-contrib.tar.xz 2>/dev/null | head -n1 || true)
  [ -n "$orig" ] && [ -n "$contrib" ] || fail "no orig/orig-contrib tarball downloaded, see $logs/apt-source.log"
fi
ls -l "$orig" "$contrib"
phase_end
stop_after download

# ---------------------------------------------------------------------------------------------------------------
phase_start prepare
tree=$work/src/tree
stamp=$tree/.prepared-$(basename "$orig" .orig.tar.xz)
if [ ! -f "$stamp" ]; then
  rm -rf "$tree"; mkdir -p "$tree"
  tar -C "$tree" -xf "$orig"
  tar -C "$tree" -xf "$contrib"
fi
src=$(ls -d "$tree"/opencv-[0-9]* | head -n1)
contrib_src=$(ls -d "$tree"/opencv_contrib-[0-9]* | head -n1)
[ -f "$src/modules/core/CMakeLists.txt" ] && [ -d "$contrib_src/modules/cudev" ] \
  || fail "unexpected tarball layout in $tree"
ocv_version=$(sed -n 's/^#define CV_VERSION_\(MAJOR\|MINOR\|REVISION\)[[:space:]]*\([0-9]*\).*/\2/p' \
                "$src/modules/core/include/opencv2/core/version.hpp" | paste -sd.)
echo "OpenCV $ocv_version in $src"
if [ ! -f "$stamp" ]; then
  # cudaDeviceProp lost clockRate, memoryClockRate, kernelExecTimeoutEnabled, computeMode, maxTexture1DLinear
  # and deviceOverlap in CUDA 13: read them with cudaDeviceGetAttribute instead.
  patch -d "$src" -p1 --forward <"$repo/scripts/opencv-4.10-cuda13.patch" >"$logs/patch.log" 2>&1 \
    || fail "scripts/opencv-4.10-cuda13.patch does not apply to OpenCV $ocv_version, see $logs/patch.log"
fi
# The NPP stand-in: the names OpenCV's core compiles against, nothing it would call in these modules.
npp=$work/npp-stub
mkdir -p "$npp"
{
  cat <<'EOF'
// Generated by scripts/build-opencv-cuda.sh: a header-only stand-in for NVIDIA's NPP, which the CUDA 13
// toolkit here lacks. OpenCV's core (opencv2/core/private.cuda.hpp, src/cuda_info.cpp) names these types,
// status codes, version macros and the two stream functions; core, imgproc, cudev and dnn call no NPP function.
#ifndef DMAD_NPP_STUB_H
#define DMAD_NPP_STUB_H
#include <cuda_runtime_api.h>
#define NPP_VER_MAJOR 13
#define NPP_VER_MINOR 0
#define NPP_VER_PATCH 0
#define NPP_VER_BUILD 0
#define NPP_VERSION_MAJOR NPP_VER_MAJOR
#define NPP_VERSION_MINOR NPP_VER_MINOR
#define NPP_VERSION_BUILD NPP_VER_BUILD
#define NPP_VERSION (NPP_VER_MAJOR * 1000 + NPP_VER_MINOR * 100 + NPP_VER_BUILD)
typedef unsigned char Npp8u;
typedef signed char Npp8s;
typedef unsigned short Npp16u;
typedef short Npp16s;
typedef unsigned int Npp32u;
typedef int Npp32s;
typedef float Npp32f;
typedef double Npp64f;
typedef enum
{
    NPP_NO_ERROR = 0,
    NPP_SUCCESS = NPP_NO_ERROR,
EOF
  # Every other NPP_* status that cuda_info.cpp's error table names: *_WARNING positive, the rest negative.
  grep -o -E '\bNPP_[A-Z0-9_]+' "$src/modules/core/src/cuda_info.cpp" | sort -u \
    | grep -v -E '^NPP_(NO_ERROR|SUCCESS|VERSION.*|VER_.*)$' \
    | awk '/_WARNING$/ { printf "    %s = %d,\n", $1, ++w; next } { printf "    %s = %d,\n", $1, -(++e) }'
  cat <<'EOF'
} NppStatus;
static inline cudaStream_t dmad_npp_stub_stream(cudaStream_t* set)
{
    static thread_local cudaStream_t stream = 0;
    if (set) stream = *set;
    return stream;
}
static inline cudaStream_t nppGetStream(void) { return dmad_npp_stub_stream(nullptr); }
static inline NppStatus nppSetStream(cudaStream_t s) { dmad_npp_stub_stream(&s); return NPP_NO_ERROR; }
#endif
EOF
} >"$npp/npp.h.new"
mv "$npp/npp.h.new" "$npp/npp.h"
echo "NPP stand-in: $npp/npp.h ($(grep -c '^    NPP_' "$npp/npp.h") status codes)"
touch "$stamp"
phase_end
stop_after prepare

# ---------------------------------------------------------------------------------------------------------------
phase_start configure
build=$work/build
[ "${DMAD_OCV_CUDA_CLEAN:-0}" = 1 ] && rm -rf "$build"
mkdir -p "$build"
export CCACHE_DIR=${CCACHE_DIR:-$work/ccache}
generator=()
fresh=0
if [ ! -f "$build/CMakeCache.txt" ]; then
  fresh=1
  if command -v ninja >/dev/null; then generator=(-G Ninja); else generator=(-G "Unix Makefiles"); fi
fi
cudart=$cuda/lib64/libcudart.so
npp_libs=()
for l in nppc nppial nppicc nppidei nppif nppig nppim nppist nppisu nppitc npps; do
  npp_libs+=("-DCUDA_${l}_LIBRARY=$cudart")
done
cmake_args=(
  -S "$src" -B "$build" "${generator[@]}"
  -DCMAKE_BUILD_TYPE=Release "-DCMAKE_INSTALL_PREFIX=$prefix"
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DENABLE_CCACHE=OFF
  -DBUILD_LIST=core,imgproc,imgcodecs,dnn,cudev
  "-DOPENCV_EXTRA_MODULES_PATH=$contrib_src/modules"
  -DBUILD_TESTS=OFF -DBUILD_PERF_TESTS=OFF -DBUILD_EXAMPLES=OFF -DBUILD_opencv_apps=OFF -DBUILD_DOCS=OFF
  -DWITH_QUIRC=OFF -DWITH_CAROTENE=OFF -DWITH_IPP=OFF -DWITH_ADE=OFF -DWITH_ITT=OFF -DWITH_OPENCL=OFF
  -DBUILD_PROTOBUF=OFF -DWITH_PROTOBUF=ON -DPROTOBUF_UPDATE_FILES=ON -DOPENCV_DOWNLOAD_TRIES_LIST=
  -DWITH_TIFF=OFF -DWITH_WEBP=OFF -DWITH_OPENJPEG=OFF -DWITH_JASPER=OFF -DWITH_OPENEXR=OFF -DWITH_GDAL=OFF
  -DWITH_GDCM=OFF -DWITH_FFMPEG=OFF -DWITH_GSTREAMER=OFF -DWITH_GTK=OFF -DWITH_QT=OFF -DWITH_VTK=OFF
  -DWITH_1394=OFF -DWITH_V4L=OFF -DBUILD_opencv_python3=OFF -DBUILD_opencv_python2=OFF -DBUILD_JAVA=OFF
  -DWITH_FLATBUFFERS=OFF -DWITH_LAPACK=OFF
  # CUDA: cuDNN and cuBLAS for cv::dnn's CUDA backend; no cuFFT, no video codecs.
  -DWITH_CUDA=ON -DWITH_CUDNN=ON -DOPENCV_DNN_CUDA=ON -DWITH_CUBLAS=ON -DWITH_CUFFT=OFF
  -DWITH_NVCUVID=OFF -DWITH_NVCUVENC=OFF
  "-DCUDA_TOOLKIT_ROOT_DIR=$cuda" "-DCUDA_ARCH_BIN=$arch" "-DCUDA_ARCH_PTX=$arch"
  "-DCMAKE_CXX_FLAGS=-I$npp" "-DCUDA_NVCC_FLAGS=-I$npp;-std=c++17"
  "${npp_libs[@]}"
)
# OpenCV's FindCUDA clears CUDA_nppc_LIBRARY and CUDA_npps_LIBRARY from the cache on the first configure of a
# build tree (cuda_unset_include_and_libraries), after the -D values were stored: a second configure with the
# same arguments keeps them.
rc=0
cmake "${cmake_args[@]}" >"$logs/configure.log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && grep -qE '^CUDA_npp[a-z]*_LIBRARY' "$logs/configure.log"; then
  echo "configure again (FindCUDA dropped the NPP stand-in libraries on the first pass)"
  mv "$logs/configure.log" "$logs/configure-1.log"
  rc=0
  cmake "${cmake_args[@]}" >"$logs/configure.log" 2>&1 || rc=$?
fi
[ "$rc" -eq 0 ] || {
  grep -n -A8 'CMake Error' "$logs/configure.log" | head -n 60 >&2 || tail -n 40 "$logs/configure.log" >&2
  fail "configure failed, see $logs/configure.log"
}
grep -E '^--\s+(To be built|Disabled|Unavailable):|^--\s+NVIDIA (CUDA|GPU arch)|^--\s+cuDNN:' "$logs/configure.log" || true
grep -q 'To be built:.*dnn' "$logs/configure.log" || fail "dnn is not among the modules to be built"
grep -q 'To be built:.*cudev' "$logs/configure.log" || fail "cudev is not among the modules to be built"
grep -qE '^--\s+cuDNN:\s+YES' "$logs/configure.log" || fail "cuDNN not found by OpenCV's configure, see $logs/configure.log"
phase_end
stop_after configure

# ---------------------------------------------------------------------------------------------------------------
phase_start build
echo "nice -n 19, $jobs jobs, ccache in $CCACHE_DIR; log: $logs/build.log"
ccache -z >/dev/null 2>&1 || true
build_cmd=(nice -n 19 cmake --build "$build" -j "$jobs")
rc=0
if [ "${VERBOSE:-0}" = 1 ]; then
  "${build_cmd[@]}" 2>&1 | tee "$logs/build.log" || rc=$?
else
  "${build_cmd[@]}" >"$logs/build.log" 2>&1 || rc=$?
fi
if [ "$rc" -ne 0 ]; then
  { grep -n -E 'error:|error :|FAILED:|Error [0-9]+' "$logs/build.log" | head -n 40; echo ...; tail -n 30 "$logs/build.log"; } >&2
  fail "build failed (exit $rc): $(grep -m1 -E 'error:|error :' "$logs/build.log" | cut -c1-200 || true)"
fi
ccache -s 2>/dev/null | grep -iE 'hits|misses' | sed 's/^/   ccache: /' || true
echo "$(grep -c '\.cu\.o' "$logs/build.log" || true) CUDA objects in this run"
phase_end
# The VERDICT reports the time of the build that compiled this tree from scratch (recorded in
# $work/build-seconds); a rerun, which ccache and ninja make short, says its own time next to it.
build_s=${phase_secs[3]}
if [ "$fresh" = 1 ] || [ ! -f "$work/build-seconds" ]; then
  echo "$build_s" >"$work/build-seconds"
fi
full_s=$(cat "$work/build-seconds")

# ---------------------------------------------------------------------------------------------------------------
phase_start install
# A prefix inside the work folder is this script's own: emptied first, so that no stale file stays.
case "$prefix/" in "$work"/*) rm -rf "$prefix" ;; esac
cmake --install "$build" >"$logs/install.log" 2>&1 || fail "install failed, see $logs/install.log"
libdir=$prefix/lib
[ -f "$libdir/cmake/opencv4/OpenCVConfig.cmake" ] || fail "no OpenCVConfig.cmake in $libdir/cmake/opencv4"
libsize=$(du -sm --exclude=cmake --exclude=pkgconfig "$libdir" | cut -f1)
dnnsize=$(( $(stat -L -c %s "$libdir/libopencv_dnn.so") / 1048576 ))
echo "installed into $prefix: lib/ $libsize MB (libopencv_dnn.so $dnnsize MB)"
phase_end

# ---------------------------------------------------------------------------------------------------------------
# Without a GPU the CUDA backend is not listed by getAvailableBackends() at run time (no device); the build
# information and the library itself show whether it is compiled in.
phase_start evidence
probe=$work/probe
mkdir -p "$probe"
cat >"$probe/probe.cpp" <<'EOF'
#include <opencv2/core.hpp>
#include <opencv2/core/cuda.hpp>
#include <opencv2/dnn.hpp>
#include <iostream>
#include <sstream>
int main()
{
    std::istringstream info(cv::getBuildInformation());
    for (std::string line; std::getline(info, line);)
        if (line.find("CUDA") != std::string::npos || line.find("cuDNN") != std::string::npos ||
            line.find("cuBLAS") != std::string::npos || line.find("GPU arch") != std::string::npos)
            std::cout << "buildinfo:" << line << "\n";
    std::cout << "cuda devices: " << cv::cuda::getCudaEnabledDeviceCount() << "\n";
    for (const auto& bt : cv::dnn::getAvailableBackends())
        std::cout << "available backend " << bt.first << " target " << bt.second << "\n";
    return 0;
}
EOF
c++ -std=c++17 -O1 -o "$probe/probe" "$probe/probe.cpp" -I"$prefix/include/opencv4" -L"$libdir" \
    -Wl,-rpath,"$libdir" -lopencv_dnn -lopencv_core >"$logs/probe-build.log" 2>&1 \
  || fail "probe does not compile against the install, see $logs/probe-build.log"
"$probe/probe" >"$logs/probe.log" 2>&1 || fail "probe failed to run, see $logs/probe.log"
cat "$logs/probe.log"
grep -qE 'NVIDIA CUDA:\s+YES' "$logs/probe.log" || fail "getBuildInformation() reports no CUDA"
grep -qE 'cuDNN:\s+YES' "$logs/probe.log" || fail "getBuildInformation() reports no cuDNN"
# OpenCV hides its internal symbols (-fvisibility=hidden): count them in the symbol table, not the dynamic one.
cuda4dnn=$(nm -C "$libdir/libopencv_dnn.so" 2>/dev/null | grep -c 'cuda4dnn' || true)
[ "$cuda4dnn" -gt 0 ] || fail "libopencv_dnn.so exports no cuda4dnn symbols"
dnn_deps=$(ldd "$libdir/libopencv_dnn.so")
grep -q 'libcudnn\.so' <<<"$dnn_deps" || fail "libopencv_dnn.so does not load cuDNN"
phase_end

trap - ERR
summary
cuda_ver=$("$cuda/bin/nvcc" --version | sed -n 's/.*release \([0-9.]*\),.*/\1/p')
cudnn_ver=$(awk '/#define CUDNN_(MAJOR|MINOR|PATCHLEVEL)/ {print $3}' "$cuda/include/cudnn_version.h" | paste -sd.)
echo "install: $prefix (lib/ $libsize MB); OpenCV_DIR=$libdir/cmake/opencv4"
[ "$full_s" = "$build_s" ] && rerun="" || rerun=" (from scratch; this rerun: $build_s s)"
echo "VERDICT: PASS: OpenCV $ocv_version with CUDA $cuda_ver and cuDNN $cudnn_ver built in $full_s s$rerun;" \
     "dnn CUDA backend compiled in (getBuildInformation: NVIDIA CUDA YES, cuDNN YES; libopencv_dnn.so:" \
     "$cuda4dnn cuda4dnn symbols, loads $(awk '/libcudnn\.so/ {print $1}' <<<"$dnn_deps"))"

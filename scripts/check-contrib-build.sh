#!/usr/bin/env bash
# Builds dmad *inside* an OpenCV source tree, the way opencv_contrib modules are built, and runs its tests
# there (opencv_ts + CV_TEST_MAIN instead of the standalone GTest main):
#   1. download  OpenCV's source from Debian's source package (a private apt configuration; the system's apt
#                sources are left untouched) and unpack it once;
#   2. configure core, imgproc, imgcodecs, dnn, ts and dmad with -DOPENCV_EXTRA_MODULES_PATH=<repo>/modules;
#   3. build     opencv_dmad, opencv_dmad_eval and their tests only (under nice, with ccache);
#   4. test      bin/opencv_test_dmad_eval, then bin/opencv_test_dmad;
#   5. perf      bin/opencv_perf_dmad, three samples each;
#   6. python    OpenCV's python3 bindings (cv2) of the same build: the module's Python tests
#                (modules/dmad/misc/python/test) under OpenCV's runner, and a model trained and saved
#                from Python that the standalone build/bin/dmad_detect scores the same
#                (scripts/check-python-bindings.sh).
# Everything lives in a work folder outside the repository, reused by reruns (download, build tree, ccache).
#
# Environment:
#   DMAD_CONTRIB_WORK   work folder (default: $HOME/.cache/dmad-contrib)
#   DMAD_CONTRIB_JOBS   parallel build jobs (default: 2)
#   DMAD_CONTRIB_CLEAN  1: remove the build tree first (a from-scratch build, still served by ccache)
#   DMAD_DEBIAN_MIRROR  Debian mirror URI (default: the first non-security one in the system's apt sources)
#   DMAD_DEBIAN_SUITE   suite of the source package (default: this system's codename, e.g. bookworm)
#   DMAD_SHARED_PATH    shared data and models folder for the tests (default: <repo>/../shared when present)
#   DMAD_CONTRIB_PYTHON 0: leave out the python3 bindings and their phase (default: 1, with Debian's
#                       python3-dev and python3-numpy)
#   DMAD_CONTRIB_CONFIGURE_ONLY  1: stop after configuring (prepare a build while the CPUs are busy)
#   VERBOSE=1           stream the build output instead of only logging it
# Extra arguments go to the test executable (e.g. --gtest_filter=...).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${DMAD_CONTRIB_WORK:-$HOME/.cache/dmad-contrib}
jobs=${DMAD_CONTRIB_JOBS:-2}
mkdir -p "$work/logs"
work=$(cd "$work" && pwd)
logs=$work/logs
. "$repo/scripts/lib/opencv-source.sh"
lock_work_folder "$work"

t_script=$(date +%s)
fail() {
  echo "check-contrib-build: $*" >&2
  summary
  echo "VERDICT: FAIL in ${phase:-setup} ($*) after $(( $(date +%s) - t_script )) s" >&2
  exit 1
}
trap 'fail "unexpected error (exit $?) at line $LINENO"' ERR

# ---------------------------------------------------------------------------------------------------------------
phase_start download
# Build dependencies: OpenCV's (the +dfsg tarball has no 3rdparty/, so protobuf etc. come from Debian) and the
# module's own header-only ones. Installed with the system's apt only when missing.
packages=(build-essential cmake dpkg-dev xz-utils ccache
          libprotobuf-dev protobuf-compiler zlib1g-dev libpng-dev libjpeg-dev
          libeigen3-dev libnanoflann-dev)
with_python=${DMAD_CONTRIB_PYTHON:-1}
# Debian's interpreter, headers and numpy (not one of a pyenv or venv earlier in PATH): cv2 is built
# against them and its tests run with them.
python=/usr/bin/python3
[ "$with_python" = 1 ] && packages+=(python3-dev python3-numpy)
install_missing_packages "${packages[@]}"

srcroot=$work/src
if [ -f "$srcroot/.unpacked" ]; then
  src=$(cat "$srcroot/.unpacked")
  echo "reusing $src"
else
  . /etc/os-release
  suite=${DMAD_DEBIAN_SUITE:-${VERSION_CODENAME:-bookworm}}
  mkdir -p "$srcroot/download"
  private_apt_update "$work/apt" "$suite"
  (cd "$srcroot/download" && apt-get "${apt_private[@]}" source --download-only opencv) \
    >"$logs/apt-source.log" 2>&1 || fail "apt-get source failed, see $logs/apt-source.log"
  dsc=$(ls -t "$srcroot"/download/opencv_*.dsc | head -n1)
  ls -l "$srcroot/download"
  # dpkg-source unpacks the orig tarball(s) and applies Debian's patches (which adapt OpenCV to Debian's libraries).
  rm -rf "$srcroot/tree"; mkdir -p "$srcroot/tree"
  dpkg-source --no-check -x "$dsc" "$srcroot/tree/opencv" >"$logs/dpkg-source.log" 2>&1 \
    || fail "dpkg-source -x failed, see $logs/dpkg-source.log"
  src=$srcroot/tree/opencv
  [ -f "$src/modules/core/CMakeLists.txt" ] || fail "no OpenCV source tree in $src"
  echo "$src" >"$srcroot/.unpacked"
fi
ocv_version=$(sed -n 's/^#define CV_VERSION_\(MAJOR\|MINOR\|REVISION\)[[:space:]]*\([0-9]*\).*/\2/p' \
                "$src/modules/core/include/opencv2/core/version.hpp" | paste -sd.)
echo "OpenCV $ocv_version in $src"
phase_end

# ---------------------------------------------------------------------------------------------------------------
phase_start configure
build=$work/build
[ "${DMAD_CONTRIB_CLEAN:-0}" = 1 ] && rm -rf "$build"
mkdir -p "$build"
export CCACHE_DIR=${CCACHE_DIR:-$work/ccache}
generator=()
if [ ! -f "$build/CMakeCache.txt" ]; then
  if command -v ninja >/dev/null; then generator=(-G Ninja); else generator=(-G "Unix Makefiles"); fi
fi
# The minimal configure of docs/build-notes.md (every option that would build bundled 3rdparty code is off:
# the +dfsg tarball has no 3rdparty/), plus dmad as an extra module and its tests, and the python3
# bindings with python_tests (the module that writes opencv_python_tests.cfg, the list of test folders
# OpenCV's Python test runner discovers, modules/dmad/misc/python/test among them).
modules=core,imgproc,imgcodecs,dnn,ts,dmad_eval,dmad
python_args=(-DBUILD_opencv_python3=OFF)
if [ "$with_python" = 1 ]; then
  modules+=,python3,python_tests
  python_args=(-DBUILD_opencv_python3=ON "-DPYTHON3_EXECUTABLE=$python" "-DPYTHON_DEFAULT_EXECUTABLE=$python")
fi
cmake_args=(
  -S "$src" -B "$build" "${generator[@]}"
  -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DENABLE_CCACHE=OFF
  "-DBUILD_LIST=$modules"
  "-DOPENCV_EXTRA_MODULES_PATH=$repo/modules"
  -DBUILD_TESTS=ON -DBUILD_PERF_TESTS=ON -DBUILD_EXAMPLES=OFF -DBUILD_opencv_apps=OFF -DBUILD_DOCS=OFF
  -DWITH_QUIRC=OFF -DWITH_CAROTENE=OFF -DWITH_IPP=OFF -DWITH_ADE=OFF -DWITH_ITT=OFF -DWITH_OPENCL=OFF
  -DBUILD_PROTOBUF=OFF -DWITH_PROTOBUF=ON -DPROTOBUF_UPDATE_FILES=ON -DOPENCV_DOWNLOAD_TRIES_LIST=
  -DWITH_TIFF=OFF -DWITH_WEBP=OFF -DWITH_OPENJPEG=OFF -DWITH_JASPER=OFF -DWITH_OPENEXR=OFF -DWITH_GDAL=OFF
  -DWITH_GDCM=OFF -DWITH_FFMPEG=OFF -DWITH_GSTREAMER=OFF -DWITH_GTK=OFF -DWITH_QT=OFF -DWITH_VTK=OFF
  -DWITH_1394=OFF -DWITH_V4L=OFF "${python_args[@]}" -DBUILD_opencv_python2=OFF -DBUILD_JAVA=OFF
)
cmake "${cmake_args[@]}" >"$logs/configure.log" 2>&1 || {
  grep -n -A8 'CMake Error' "$logs/configure.log" | head -n 60 >&2 || tail -n 40 "$logs/configure.log" >&2
  fail "configure failed, see $logs/configure.log"
}
grep -q 'To be built:.*dmad' "$logs/configure.log" && grep -q 'To be built:.*dmad_eval' "$logs/configure.log" || {
  grep -n -B2 -A6 'dmad' "$logs/configure.log" | head -n 40 >&2
  fail "dmad or dmad_eval is not among the modules to be built, see $logs/configure.log"
}
if [ "$with_python" = 1 ] && ! grep -q 'To be built:.*python3' "$logs/configure.log"; then
  grep -n -A6 -- '--   Python 3:' "$logs/configure.log" >&2 || true
  fail "python3 is not among the modules to be built (python3-dev, python3-numpy?), see $logs/configure.log"
fi
grep -E '^--\s+(To be built|Disabled|Unavailable):' "$logs/configure.log" || true
phase_end
if [ "${DMAD_CONTRIB_CONFIGURE_ONLY:-0}" = 1 ]; then
  trap - ERR
  summary
  echo "configured in $build (DMAD_CONTRIB_CONFIGURE_ONLY=1: not built)"
  exit 0
fi

# ---------------------------------------------------------------------------------------------------------------
phase_start build
echo "nice -n 10, $jobs jobs, ccache in $CCACHE_DIR; log: $logs/build.log"
ccache -z >/dev/null 2>&1 || true
targets=(opencv_dmad opencv_dmad_eval opencv_test_dmad opencv_test_dmad_eval opencv_perf_dmad)
[ "$with_python" = 1 ] && targets+=(opencv_python3)
build_cmd=(nice -n 10 cmake --build "$build" --target "${targets[@]}" -j "$jobs")
rc=0
if [ "${VERBOSE:-0}" = 1 ]; then
  "${build_cmd[@]}" 2>&1 | tee "$logs/build.log" || rc=$?   # pipefail: the build's status
else
  "${build_cmd[@]}" >"$logs/build.log" 2>&1 || rc=$?
fi
if [ "$rc" -ne 0 ]; then
  { grep -n -E 'error:|FAILED:|Error [0-9]+' "$logs/build.log" | head -n 40; echo ...; tail -n 30 "$logs/build.log"; } >&2
  fail "build failed (exit $rc), see $logs/build.log"
fi
ccache -s 2>/dev/null | grep -iE 'hits|misses|cache size' | sed 's/^/   ccache: /' || true
phase_end

# ---------------------------------------------------------------------------------------------------------------
phase_start test
if [ -z "${DMAD_SHARED_PATH:-}" ] && [ -d "$repo/../shared" ]; then
  DMAD_SHARED_PATH=$(cd "$repo/../shared" && pwd)
fi
export DMAD_SHARED_PATH=${DMAD_SHARED_PATH:-}
# OPENCV_TEST_DATA_PATH (opencv_extra) is read by cvtest::findDataFile only, which dmad's tests never call.
echo "DMAD_SHARED_PATH=${DMAD_SHARED_PATH:-<unset: tests needing shared data skip>}"
# the registry MobileNetV2 of the model tests, where the standalone build's tests find it too
"$repo/scripts/get-backbone.sh" >"$logs/get-backbone.log" 2>&1 || fail "scripts/get-backbone.sh failed, see $logs/get-backbone.log"
rc=0
(cd "$build" && ./bin/opencv_test_dmad_eval) 2>&1 | tee "$logs/test-eval.log" || rc=$?
[ "$rc" -eq 0 ] || fail "opencv_test_dmad_eval exited with $rc, see $logs/test-eval.log"
(cd "$build" && ./bin/opencv_test_dmad "$@") 2>&1 | tee "$logs/test.log" || rc=$?   # pipefail: the tests' status
[ "$rc" -eq 0 ] || fail "opencv_test_dmad exited with $rc, see $logs/test.log"
# In-tree a skipped test (cvtest::SkipTestException) is reported OK by gtest and counted in "[ SKIPSTAT ] N tests
# skipped"; a standalone-style GTEST_SKIP would be "[  SKIPPED ] N tests".
ran=$(sed -n 's/^\[==========\] \([0-9]*\) tests\{0,1\} from .* ran\..*/\1/p' "$logs/test.log" | tail -n1)
passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\{0,1\}\..*/\1/p' "$logs/test.log" | tail -n1)
skipped=$(sed -n -e 's/^\[ SKIPSTAT \] \([0-9]*\) tests\{0,1\} skipped.*/\1/p' \
                 -e 's/^\[  SKIPPED \] \([0-9]*\) tests\{0,1\},.*/\1/p' "$logs/test.log" | tail -n1)
[ -n "$ran" ] && [ -n "$passed" ] || fail "no gtest summary in $logs/test.log"
[ "$ran" -gt 0 ] || fail "no test ran"
if grep -q "^\[  FAILED  \]" "$logs/test.log"; then fail "failed tests in $logs/test.log"; fi
phase_end

# ---------------------------------------------------------------------------------------------------------------
# OpenCV's perf framework on dmad's perf tests (modules/dmad/perf), three samples each: that they build and run.
phase_start perf
rc=0
(cd "$build" && ./bin/opencv_perf_dmad --perf_min_samples=3 --perf_force_samples=3) >"$logs/perf.log" 2>&1 || rc=$?
grep -E '^\[ *(OK|FAILED|PASSED) *\]|^\[==========\]' "$logs/perf.log" || true
if grep -q "^\[  FAILED  \]" "$logs/perf.log"; then rc=1; fi
[ "$rc" -eq 0 ] || fail "opencv_perf_dmad failed (exit $rc), see $logs/perf.log"
phase_end

# ---------------------------------------------------------------------------------------------------------------
python_verdict=""
if [ "$with_python" = 1 ]; then
  phase_start python
  rc=0
  DMAD_PYTHON=$python "$repo/scripts/check-python-bindings.sh" "$build" "$src" 2>&1 | tee "$logs/python.log" || rc=$?
  [ "$rc" -eq 0 ] || fail "scripts/check-python-bindings.sh exited with $rc, see $logs/python.log"
  python_verdict="; python3 bindings: $(sed -n 's/^check-python-bindings: PASS: //p' "$logs/python.log" | tail -n1)"
  phase_end
fi

trap - ERR
summary
echo "VERDICT: PASS: dmad and dmad_eval built in-tree with OpenCV $ocv_version; opencv_test_dmad: $ran tests, none failed," \
     "${skipped:-0} of them skipped${python_verdict}; $(( $(date +%s) - t_script )) s in all"

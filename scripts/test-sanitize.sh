#!/usr/bin/env bash
# The fast part of opencv_test_dmad, and opencv_test_dmad_eval, under AddressSanitizer and UndefinedBehaviorSanitizer
# (-DDMAD_SANITIZE=ON, RelWithDebInfo, in build-sanitize/). Any report fails the run: UBSan aborts
# on its first finding (-fno-sanitize-recover=all), ASan halts on its first error, and leaks are
# reported at exit (scripts/sanitize/lsan.supp may name third-party libraries; it is empty).
# OpenCV's own libraries are not instrumented: the sanitizers check dmad's code and its use of them.
# scripts/test.sh runs this after the normal tests; DMAD_SKIP_SANITIZE=1 skips it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
build="$root/build-sanitize"

# Without the CUDA search: the sanitizers instrument neither device code nor what nvcc compiles, and
# the normal build already compiles that path (its stub is what runs here).
cmake -S "$root" -B "$build" -DDMAD_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DDMAD_BUILD_SAMPLES=ON -DDMAD_BUILD_BENCHMARKS=OFF -DDMAD_WITH_CUDA=OFF >/dev/null
# The compiler's output (GCC 12 repeats Eigen's known AVX-512 maybe-uninitialized warning under
# the sanitizers) goes to a log, shown when the build fails.
if ! cmake --build "$build" -j "$jobs" --target opencv_test_dmad opencv_test_dmad_eval >"$build/build.log" 2>&1; then
  tail -n 60 "$build/build.log"
  echo "sanitize: the build failed (log: $build/build.log)"
  exit 1
fi

# The two tests that train MobileNetV2 models with more epochs or twice (about 20 s each under
# the sanitizers, training code the other model tests run too) are left to the normal build.
slow='DMAD_Model.same_model_for_one_and_two_threads:DMAD_Model.semi_supervised*'

export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:detect_odr_violation=2:allocator_may_return_null=0"
export LSAN_OPTIONS="suppressions=$root/scripts/sanitize/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:report_error_type=1"
export DMAD_QUIET=1
start=$(date +%s)
log="$build/sanitize.log"
set +e
{ "$build/bin/opencv_test_dmad_eval"; eval_status=$?
  "$build/bin/opencv_test_dmad" --gtest_filter="*:-$slow"; dmad_status=$?
  [ $eval_status -eq 0 ] && [ $dmad_status -eq 0 ]; } 2>&1 | tee "$log" |
    grep -E '^\[ *(FAILED|PASSED|SKIPPED|FUZZ) *\]|^\[==========\]|ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY:'
status=${PIPESTATUS[0]}
set -e
reports=$(grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" || true)
echo "sanitize: exit status $status, $reports sanitizer reports, $(( $(date +%s) - start )) s (log: $log)"
[ "$status" -eq 0 ] && [ "$reports" -eq 0 ]

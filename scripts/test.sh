#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every test with ctest, then the
# fast part of the suite again under AddressSanitizer and UndefinedBehaviorSanitizer
# (scripts/test-sanitize.sh, build-sanitize/; DMAD_SKIP_SANITIZE=1 skips it). Both parts always
# run; the command fails when either fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
"$root/scripts/build.sh"
# The converted nsfwjs trunks that opencv_test_dmad checks (npm registry, once per machine).
"$root/scripts/get-backbone.sh"
status=0
(cd "$root/build" && ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)") || status=1
echo "test: normal build and tests done after $(( $(date +%s) - start )) s"
if [ "${DMAD_SKIP_SANITIZE:-0}" != 1 ]; then
  "$root/scripts/test-sanitize.sh" || status=1
fi
echo "test: $([ $status -eq 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - start )) s"
exit $status

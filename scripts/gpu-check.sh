#!/usr/bin/env bash
# The GPU machine's one command, run from the repository root with build-gpu/bundle.tar.xz carried
# there (scripts/gpu-bundle.sh makes it; unpacked here into build-gpu/bundle/ when that folder is
# missing): the CUDA tests of opencv_test_dmad, dmad_bench_gpu, and
# PyTorch's cdist + topk and matmul + min on the same shapes when PyTorch is present. Prints a
# table at the end; logs go to $OUT (or build-gpu/gpu-check/). About 2 to 3 minutes. With a bundle made by
# DMAD_OPENCV_CUDA=<prefix> scripts/gpu-bundle.sh it also times the backbone (dmad_extract) on the CPU and on
# cv::dnn's CUDA backend (fp32, fp16); without one it prints a "backbone: skipped" line.
# Environment: DMAD_BUNDLE (default build-gpu/bundle), DMAD_BENCH_ARGS (extra benchmark options).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bundle="${DMAD_BUNDLE:-$root/build-gpu/bundle}"
logs="${OUT:-$root/build-gpu/gpu-check}"
mkdir -p "$logs"
start=$(date +%s)
if [ ! -x "$bundle/bin/opencv_test_dmad" ] && [ -f "$root/build-gpu/bundle.tar.xz" ]; then
  bundle="$root/build-gpu/bundle"
  mkdir -p "$root/build-gpu"
  tar -C "$root/build-gpu" -xJf "$root/build-gpu/bundle.tar.xz"
  echo "unpacked build-gpu/bundle.tar.xz ($(du -sm "$bundle" | cut -f1) MB)"
fi
if [ ! -x "$bundle/bin/opencv_test_dmad" ] || [ ! -x "$bundle/bin/dmad_bench_gpu" ]; then
  echo "gpu-check: no bundle in $bundle (run scripts/gpu-bundle.sh on the build machine, carry build-gpu/bundle.tar.xz)"
  exit 1
fi

echo "== machine"
ldd --version 2>&1 | head -n 1
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1 | head -n 2
echo "CPU cores: $(nproc)"

# cuBLAS 13 from the bundle if it carries one, else from Python's nvidia packages or PyTorch.
if ! ls "$bundle/lib"/libcublas.so.13 >/dev/null 2>&1; then
  cublas=$(python3 - <<'EOF' 2>/dev/null
import glob, os, site, sys
roots = site.getsitepackages() + [site.getusersitepackages()] + sys.path
for r in roots:
    for pattern in ("nvidia/*/lib/libcublas.so.13", "nvidia/*/*/lib/libcublas.so.13",
                    "torch/lib/libcublas.so.13"):
        hits = glob.glob(os.path.join(r, pattern))
        if hits:
            print(os.path.dirname(os.path.realpath(hits[0])))
            sys.exit(0)
EOF
)
  if [ -z "$cublas" ]; then
    hit=$(find /usr /opt /root /home -name 'libcublas.so.13' 2>/dev/null | head -n 1)
    cublas=${hit:+$(dirname "$hit")}
  fi
  echo "cuBLAS from: ${cublas:-NOT FOUND}"
fi
# A bundle made against OpenCV with CUDA (DMAD_OPENCV_CUDA) loads cuDNN 9 through libopencv_dnn: from the bundle
# if it carries it, else from Python's nvidia packages or PyTorch.
cudnn=""
if [ -f "$bundle/opencv-cuda.txt" ] && ! ls "$bundle/lib"/libcudnn.so.9 >/dev/null 2>&1; then
  cudnn=$(python3 - <<'EOF' 2>/dev/null
import glob, os, site, sys
for r in site.getsitepackages() + [site.getusersitepackages()] + sys.path:
    for pattern in ("nvidia/cudnn/lib/libcudnn.so.9", "nvidia/*/lib/libcudnn.so.9", "torch/lib/libcudnn.so.9"):
        hits = glob.glob(os.path.join(r, pattern))
        if hits:
            print(os.path.dirname(os.path.realpath(hits[0]))); sys.exit(0)
EOF
)
  echo "cuDNN from: ${cudnn:-NOT FOUND}"
fi
# Only for the bundled programs: Python (PyTorch) must keep the machine's own libstdc++ and friends.
libpath="$bundle/lib${cublas:+:$cublas}${cudnn:+:$cudnn}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
bundled() { LD_LIBRARY_PATH="$libpath" "$@"; }
if bundled ldd "$bundle/bin/opencv_test_dmad" "$bundle/bin/dmad_bench_gpu" | grep 'not found'; then
  echo "gpu-check: libraries missing (above)"
fi
export DMAD_QUIET=1

echo "== GPU tests (opencv_test_dmad --gtest_filter='*Cuda*')"
bundled timeout 150 "$bundle/bin/opencv_test_dmad" --gtest_filter='*Cuda*' >"$logs/tests.log" 2>&1
tests_status=$?
grep -E '^\[ *(OK|FAILED|SKIPPED|PASSED) *\]|recall|refused|^row |cuda |^\[==========\]' "$logs/tests.log"
echo "tests: exit status $tests_status"

echo "== benchmark (dmad_bench_gpu ${DMAD_BENCH_ARGS:-})"
# shellcheck disable=SC2086
bundled timeout 240 "$bundle/bin/dmad_bench_gpu" ${DMAD_BENCH_ARGS:-} 2>&1 | tee "$logs/bench.log"
bench_status=${PIPESTATUS[0]}

echo "== PyTorch on the same shapes (fp32, no TF32)"
timeout 150 python3 - <<'EOF' 2>&1 | tee "$logs/torch.log"
import time
try:
    import torch
except Exception as e:
    print("torch: not available:", e); raise SystemExit(0)
if not torch.cuda.is_available():
    print("torch: no CUDA device"); raise SystemExit(0)
torch.backends.cuda.matmul.allow_tf32 = False
dev = "cuda"
def timed(fn, reps):
    fn(); torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
    return sorted(times)[len(times) // 2]
print("torch", torch.__version__, torch.version.cuda, torch.cuda.get_device_name())
for D in (1536, 288):
    for N in (74321, 177336):
        g = torch.Generator(device=dev).manual_seed(N + D)
        bank = torch.randn(N, D, device=dev, generator=g)
        norms = (bank * bank).sum(1)
        for Q, reps in ((1024, 5), (32768, 2)):
            q = torch.randn(Q, D, device=dev, generator=g)
            def cdist_topk():
                for s in range(0, Q, 4096):
                    torch.cdist(q[s:s + 4096], bank).topk(1, dim=1, largest=False)
            def mm_min():
                for s in range(0, Q, 4096):
                    (norms - 2.0 * (q[s:s + 4096] @ bank.T)).min(dim=1)
            print("torch N=%d D=%d Q=%d cdist_topk_ms=%.3f mm_min_ms=%.3f"
                  % (N, D, Q, timed(cdist_topk, reps), timed(mm_min, reps)), flush=True)
        del bank, norms
        torch.cuda.empty_cache()
EOF

echo "== table (ms; ratio = dmad search / cuBLAS SGEMM alone of the same shape, target <= 1.2)"
python3 - "$logs/bench.log" "$logs/torch.log" <<'EOF'
import re, sys
def rows(path, prefix):
    out = []
    try:
        for line in open(path):
            if line.startswith(prefix):
                out.append(dict(re.findall(r"(\w+)=([^\s]+)", line)))
    except OSError:
        pass
    return out
bench, torch = rows(sys.argv[1], "gpu "), rows(sys.argv[2], "torch ")
tq = {(r["N"], r["D"], r["Q"]): r for r in torch}
print("| N | D | Q | dmad search | SGEMM | ratio | TF32 search | TF32 SGEMM | TF32 recall | CPU check | torch cdist+topk | torch mm+min |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in bench:
    t = tq.get((r["N"], r["D"], r["Q"]), {})
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        r["N"], r["D"], r["Q"], r["search_ms"], r["sgemm_ms"], r["ratio"], r["tf32_search_ms"],
        r["tf32_sgemm_ms"], r["tf32_recall"], r["cpu_check"], t.get("cdist_topk_ms", "-"),
        t.get("mm_min_ms", "-")))
    if "batch_Q" in r:
        t = tq.get((r["N"], r["D"], r["batch_Q"]), {})
        print("| %s | %s | %s (32 images) | %s (%s per image) | %s | %s | | | | | %s | %s |" % (
            r["N"], r["D"], r["batch_Q"], r["batch_search_ms"], r["batch_ms_per_image"],
            r["batch_sgemm_ms"], r["batch_ratio"], t.get("cdist_topk_ms", "-"),
            t.get("mm_min_ms", "-")))
EOF

# The backbone on cv::dnn's CUDA backend, when the bundle was made with DMAD_OPENCV_CUDA (OpenCV 4.10 with CUDA
# and cuDNN, scripts/build-opencv-cuda.sh). Fails soft: a missing piece prints one "backbone:" line and does not
# change the exit status. Images: 16 of the synthetic set (dmad_make_dataset, no data on the machine).
echo "== backbone: cv::dnn CPU vs CUDA (dmad_extract, ms per image)"
backbone_check() {
  if [ ! -x "$bundle/bin/dmad_extract" ] || [ ! -f "$bundle/opencv-cuda.txt" ]; then
    echo "backbone: skipped: the bundle has no OpenCV with CUDA (make it with DMAD_OPENCV_CUDA=<prefix> scripts/gpu-bundle.sh)"
    return 0
  fi
  cat "$bundle/opencv-cuda.txt"
  local model preset
  model=$(sed -n 's/^model=//p' "$bundle/opencv-cuda.txt")
  case "$model" in
    nsfwjs_mobilenet_v2.onnx) preset=mobilenet_v2 ;;
    nsfwjs_inception_v3.onnx) preset=inception_v3 ;;
    mobilenetv2-12-int8.onnx) preset=mobilenetv2-int8
      echo "backbone: note: int8 model: cv::dnn 4.10 runs quantized networks on the CPU only (CUDA timings are not meaningful)" ;;
    *) echo "backbone: skipped: no preset for model '$model'"; return 0 ;;
  esac
  if ! ls "$bundle/lib"/libcudnn.so.9 >/dev/null 2>&1 && [ -z "$cudnn" ]; then
    echo "backbone: skipped: cuDNN 9 (libcudnn.so.9) not found; rebuild the bundle with DMAD_BUNDLE_CUDNN=1"
    return 0
  fi
  local path="$libpath" data="$logs/backbone-data" images
  LD_LIBRARY_PATH="$path" timeout 120 "$bundle/bin/dmad_make_dataset" --out="$data" --classes=fabric \
    --train=16 --test-good=1 --test-defect=1 >"$logs/backbone-data.log" 2>&1 \
    || { echo "backbone: skipped: dmad_make_dataset failed: $(tail -n 1 "$logs/backbone-data.log")"; return 0; }
  images=$(dirname "$(find "$data" -path '*train*' -name '*.png' | head -n 1)")
  [ -d "$images" ] || { echo "backbone: skipped: no training images in $data"; return 0; }
  local ms=() name backend target log
  for name in cpu:opencv:cpu cuda:cuda:cuda cuda_fp16:cuda:cuda_fp16; do
    IFS=: read -r name backend target <<<"$name"
    log="$logs/backbone-$name.log"
    LD_LIBRARY_PATH="$path" timeout 180 "$bundle/bin/dmad_extract" --input="$images" --backbone="$preset" \
      --model="$bundle/models/$model" --batch=8 --warmup=1 --backend="$backend" --target="$target" >"$log" 2>&1
    local rc=$?
    local t
    t=$(sed -n 's/^time *\([0-9.]*\) ms per image.*/\1/p' "$log")
    if [ "$rc" -ne 0 ] || [ -z "$t" ]; then
      echo "backbone: $name: failed (exit $rc): $(grep -m1 -E 'dmad_extract:|error|Error' "$log" || tail -n 1 "$log")"
      t=-
    fi
    ms+=("$t")
  done
  grep -m1 -E '^(backbone|images|grid) ' "$logs/backbone-cpu.log" || true
  echo "| backbone | images | CPU ms/image | CUDA ms/image | CUDA fp16 ms/image |"
  echo "|---|---|---|---|---|"
  echo "| $preset | $(ls "$images" | wc -l) | ${ms[0]} | ${ms[1]} | ${ms[2]} |"
}
backbone_check

echo "gpu-check: tests exit $tests_status, benchmark exit $bench_status, $(( $(date +%s) - start )) s (logs: $logs)"
[ "$tests_status" -eq 0 ] && [ "$bench_status" -eq 0 ]

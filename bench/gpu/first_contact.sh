#!/usr/bin/env bash
# First contact with a GPU: one command that verifies hqsim's CUDA path on a fresh H100/H200 and
# measures it, in under 8 minutes (bench/gpu/README.md has the exact device-tool call).
#
#   bash bench/gpu/first_contact.sh [OUT_DIR]        (OUT_DIR defaults to $OUT, the device tool's)
#
# Phases, each a separate process under its own time cap (a crash, hang or sticky CUDA error in
# one leaves the others' results):
#   env    nvidia-smi, Python packages, nvcc; the code's content hash          (30 s)
#   build  the pybind11 extension, sm_90 only (csrc/build.py)                  (150 s)
#   smoke  golden answers made on the CPU (bench/gpu/golden.npz) against every
#          path x dtype x launcher, outputs poisoned first (bench/gpu/smoke.py) (80 s)
#   tests  pytest -m gpu tests/gpu                                             (100 s)
#   bench  W1 Q 10/14/18 x B 1024/8192, W2 Q 10/14/18: hqsim vs the torch GPU
#          statevector (and cuStateVec when carried); copy bandwidth and FP32 rate (110 s)
# At most 5 files under OUT_DIR, all rewritten after every phase: summary.md (phase table and
# headline lines), smoke.json, bench.json, bench.md, logs.tar.gz (every phase's full log).
#
# For checking this script without a GPU: FC_PHASES (phases to run), FC_CAP_<phase> (seconds),
# FC_SMOKE_ARGS (e.g. "--device cpu-emulated --quick"); tests/gpu/test_first_contact.py uses them.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
OUT_DIR=${1:-${OUT:-}}
if [ -z "$OUT_DIR" ]; then echo "usage: $0 OUT_DIR (or set OUT)" >&2; exit 2; fi
mkdir -p "$OUT_DIR"
WORK=$(mktemp -d)
LOGS=$WORK/logs
mkdir -p "$LOGS"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
export HQSIM_CACHE_DIR=$WORK/cache CUPY_CACHE_DIR=$WORK/cupy_cache
PY=${PYTHON:-python3}
PHASES=${FC_PHASES:-env build smoke tests bench}
SUMMARY=$OUT_DIR/summary.md
T0=$(date +%s)
ROWS=""

cap() { local v="FC_CAP_$1"; echo "${!v:-$2}"; }

write_summary() {
  {
    echo "# hqsim first contact — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(uname -n)"
    echo
    echo "code: $(cat "$LOGS/code_hash" 2>/dev/null || echo '?')  ·  elapsed $(( $(date +%s) - T0 )) s"
    echo
    echo "| phase | status | seconds | cap | last line |"
    echo "|---|---|---|---|---|"
    printf "%b" "$ROWS"
    echo
    for f in env smoke tests; do
      [ -f "$LOGS/$f.log" ] || continue
      echo "## $f (tail)"; echo '```'; tail -n 15 "$LOGS/$f.log"; echo '```'
    done
    if [ -f "$OUT_DIR/bench.md" ]; then echo "## bench"; cat "$OUT_DIR/bench.md"; fi
  } > "$SUMMARY.tmp"
  mv "$SUMMARY.tmp" "$SUMMARY"
  tar czf "$OUT_DIR/logs.tar.gz.tmp" -C "$WORK" logs && mv "$OUT_DIR/logs.tar.gz.tmp" "$OUT_DIR/logs.tar.gz"
}

# phase NAME CAP_SECONDS COMMAND...: run under timeout, record status, refresh the outputs.
phase() {
  local name=$1 limit; limit=$(cap "$1" "$2"); shift 2
  case " $PHASES " in *" $name "*) ;; *) return 0 ;; esac
  echo "== $name (cap ${limit}s): $*" | tee -a "$LOGS/phases.log"
  local start=$SECONDS status
  timeout --kill-after=10 "$limit" "$@" > "$LOGS/$name.log" 2>&1
  local rc=$?
  case $rc in
    0) status=ok ;;
    124|137) status="TIMEOUT (cap ${limit}s)" ;;
    *) status="FAILED (exit $rc)" ;;
  esac
  local last; last=$(grep -v '^\s*$' "$LOGS/$name.log" | tail -n 1 | cut -c1-150 | tr '|' '/')
  ROWS+="| $name | $status | $(( SECONDS - start )) | $limit | $last |\n"
  echo "== $name: $status" | tee -a "$LOGS/phases.log"
  write_summary
}

env_report() {
  echo "code hash: $(cat "$LOGS/code_hash")"
  git rev-parse --short HEAD 2>/dev/null || echo "git: no repository here (see code hash)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv || true
  nvcc --version | tail -n 2 || true
  "$PY" - <<'EOF'
import importlib, platform
print("python", platform.python_version())
for m in ("torch", "cupy", "numba", "pybind11", "numpy", "cuquantum", "pytest"):
    try:
        mod = importlib.import_module(m)
        print(m, getattr(mod, "__version__", "?"))
    except Exception as exc:
        print(m, "missing:", type(exc).__name__)
import torch
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print("device", p.name, "SMs", p.multi_processor_count, "mem GiB", round(p.total_memory / 2**30, 1),
          "smem/block optin", getattr(p, "shared_memory_per_block_optin", "?"))
else:
    print("torch sees no CUDA device")
EOF
}

# A hash of everything that decides what runs (the device machine may not carry .git).
find kernels csrc hqsim bench/gpu -type f \( -name '*.py' -o -name '*.cu' -o -name '*.cuh' -o -name '*.h' -o -name '*.cpp' -o -name '*.npz' \) \
  -not -path '*/__pycache__/*' | sort | xargs cat | sha256sum | cut -c1-16 > "$LOGS/code_hash"

export -f env_report
export LOGS PY
phase env 30 bash -c env_report
phase build 150 env HQSIM_BUILD_CUDA=1 "$PY" csrc/build.py --arch sm_90
# shellcheck disable=SC2086
phase smoke 80 "$PY" bench/gpu/smoke.py --out "$OUT_DIR/smoke.json" ${FC_SMOKE_ARGS:-}
phase tests 100 "$PY" -m pytest -q -m gpu tests/gpu -p no:cacheprovider -o addopts="" -rfE
phase bench 110 "$PY" bench/gpu/bench_gpu.py --first-contact --out "$OUT_DIR" --stem bench --budget-s 3
echo "first contact done in $(( $(date +%s) - T0 )) s; results in $OUT_DIR"
rm -rf "$WORK"

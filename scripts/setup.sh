#!/usr/bin/env bash
# Installs hqsim and everything its tests and main jobs need, on a fresh machine.
#   scripts/setup.sh            core + Cirq bridge + PennyLane device + Qiskit primitives + hybrid front ends + experiments + Ray Tune (hqsim sweep) + peft + test tools
#   scripts/setup.sh bench      also the benchmark peers (PennyLane, lightning, qsimcirq, Aer; JAX, Catalyst, qulacs)
# CPU machines get the CPU wheel of torch (constraints-cpu.txt pins torch==2.13.0), never CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
extras="cirq,hybrid,experiments,sweep,peft,test,gpu-build,pennylane,qiskit"
if [ "${1:-}" = "bench" ]; then extras="$extras,bench,peers"; fi  # CI (no argument) installs neither
$PY -m pip install -q --upgrade pip >/dev/null
$PY -m pip install -q -c constraints-cpu.txt torch==2.13.0
$PY -m pip install -q -c constraints-cpu.txt -e ".[${extras}]"
if [ "${1:-}" = "bench" ]; then
  # torchquantum 0.1.8 declares tensorflow, qiskit<1 and a CUDA torchvision: install its core only
  $PY -m pip install -q --no-deps torchquantum==0.1.8 torchpack || echo "torchquantum did not install (benchmark will report it missing)"
  $PY -m pip install -q -c constraints-cpu.txt opt_einsum multimethod loguru toml || true
fi

#!/bin/bash
# Before/after CPU figures of a refactoring, alternated A B A B (issue 13; bench/RESULTS.md):
# W1 Q=10 and Q=14 fwd+bwd and a W2 step (bench/w1_step_cpu.py), compile_circuit of W1 Q=10,
# and the hybrid programs of bench/compile_snapshot.py. CPU time, one thread.
#   bash bench/issue13_ab_cpu.sh OLD_TREE NEW_TREE    (e.g. OLD_TREE from `git archive REV | tar -x`)
# Warm both trees' Numba caches first (one bench/w1_step_cpu.py run each): the first run compiles.
set -e
A=${1:?usage: issue13_ab_cpu.sh OLD_TREE NEW_TREE}; B=${2:?usage: issue13_ab_cpu.sh OLD_TREE NEW_TREE}
comp='import time, hqsim
from hqsim.compile import compile_circuit
from hqsim.ir import Z
c = hqsim.ansatz.rpqc(10, reuploads=4, layers=2); obs = [Z(i) for i in range(10)]
compile_circuit(c, obs)
best = float("inf")
for _ in range(15):
    t = time.process_time()
    for _ in range(10): compile_circuit(c, obs)
    best = min(best, (time.process_time() - t) / 10)
print(hqsim.__file__, f"compile_circuit W1 Q=10 ({len(c.gates)} gates) {best*1e3:.2f} CPU-ms")'
hyb='import time, sys, hqsim
sys.path.insert(0, "bench"); sys.argv = ["x"]
import compile_snapshot as cs
cs.hybrid_outputs()
best = float("inf")
for _ in range(3):
    t = time.process_time(); cs.hybrid_outputs(); best = min(best, time.process_time() - t)
print(hqsim.__file__, f"hybrid: every bench/hybrid/programs program at -O0/-O1/-O2 and each pass, printed twice: {best:.3f} CPU-s")'
echo "load start: $(cut -d' ' -f1-3 /proc/loadavg)  $(date -u +%H:%M:%S)"
for round in 1 2; do
  for T in $A $B; do (cd $T && PYTHONPATH=$T python3 bench/w1_step_cpu.py --qubits 10 --batch 16); done
  for T in $A $B; do (cd $T && PYTHONPATH=$T python3 bench/w1_step_cpu.py --qubits 14 --batch 16 --rounds 5); done
  for T in $A $B; do (cd $T && PYTHONPATH=$T python3 bench/w1_step_cpu.py --workload w2); done
  for T in $A $B; do (cd $T && PYTHONPATH=$T NUMBA_NUM_THREADS=1 python3 -c "$comp"); done
  for T in $A $B; do (cd $T && PYTHONPATH=$T NUMBA_NUM_THREADS=1 python3 -c "$hyb"); done
  echo "load after round $round: $(cut -d' ' -f1-3 /proc/loadavg)  $(date -u +%H:%M:%S)"
done

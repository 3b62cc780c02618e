"""W1 forward+backward on the Numba backend alone, one thread, timed in CPU seconds: for A/B
comparisons of two revisions on a machine that other jobs share (CPU time, best of 15 rounds,
is far less disturbed by them than wall time).

    PYTHONPATH=/path/to/old/checkout python bench/w1_step_cpu.py --qubits 10 --batch 16
    PYTHONPATH=/path/to/new/checkout python bench/w1_step_cpu.py --qubits 10 --batch 16

Prints samples per CPU-second of forward (keeping the final states) + adjoint backward with
a cotangent of ones, and the revision's op count. Not a peer comparison: bench/w1_cpu.py is.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qubits", type=int, default=10, help="Q of hqsim.ansatz.rpqc (default 10)")
    ap.add_argument("--batch", type=int, default=16, help="samples per call (default 16: one SIMD group)")
    ap.add_argument("--rounds", type=int, default=15, help="timed rounds of 10 steps; the best counts (default 15)")
    args = ap.parse_args(argv)

    import hqsim
    from hqsim.api import compile_circuit
    from hqsim.backends import numba_cpu
    from hqsim.ir import Z

    q, batch = args.qubits, args.batch
    circ = hqsim.ansatz.rpqc(num_qubits=q, reuploads=4, layers=2)
    program = compile_circuit(circ, [Z(i) for i in range(q)]).program
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(batch, program.num_inputs))
    w = rng.uniform(-3, 3, size=program.num_weights)

    def step():
        out, states = numba_cpu.forward(program, x, w, np.float32, True)
        numba_cpu.vjp(program, x, w, np.ones_like(out), np.float32, True, states)

    step()  # compile or load the cache
    best = float("inf")
    for _ in range(args.rounds):
        t = time.process_time()
        for _ in range(10):
            step()
        best = min(best, (time.process_time() - t) / 10)
    print(f"{hqsim.__file__}: W1 Q={q} B={batch} forward+backward {batch / best:.0f} samples per "
          f"CPU-second ({program.num_ops} ops)")


if __name__ == "__main__":
    main()

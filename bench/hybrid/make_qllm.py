"""Write the W3 QLLM inference program (bench/hybrid/programs/qllm.{qasm,quil}).

The QPU module of the QLLM sentiment model (W2 defaults: Q = 10, N = 4 re-uploading blocks,
PQC1 1 layer, PQC2 2 layers, connectivity 2) exported by hqsim itself, with fixed trained-like
weights (seeded) baked in as constants, the Q encoder outputs as the input array ``x``, and
qubit 0 measured into ``m[0]`` (the paper's <Z_0> readout).

    python bench/hybrid/make_qllm.py [--qubits 10]
"""
from __future__ import annotations

import argparse
import os

import numpy as np

from hqsim import ansatz
from hqsim.hybrid import from_circuit, print_qasm, print_quil

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")


def qllm_program(num_qubits: int = 10, seed: int = 7):
    circuit = ansatz.reuploading_module(num_qubits, blocks=4, pqc1_layers=1, pqc2_layers=2,
                                        connectivity=2)
    weights = np.random.default_rng(seed).uniform(-np.pi, np.pi, circuit.num_weights)
    return from_circuit(circuit, measure=(0,), weights=np.round(weights, 6), name="qllm")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qubits", type=int, default=10)
    args = ap.parse_args(argv)
    program = qllm_program(args.qubits)
    for ext, printer in (("qasm", print_qasm), ("quil", print_quil)):
        path = os.path.join(HERE, f"qllm.{ext}")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(printer(program))
        print("wrote", path)


if __name__ == "__main__":
    main()

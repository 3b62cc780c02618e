"""A before/after check that a refactoring changed no compiler output.

Records, in one JSON file, (1) every program of bench/hybrid/programs optimized at -O0, -O1,
-O2 and by each pass alone, printed in both languages, and (2) the optimized circuit and the
lowered op program of seeded random circuits over every gate and parameter kind (plus the W1
and W2 circuits); ``--check`` compares a new run with a recorded file and lists what differs.

    python3 bench/compile_snapshot.py --write /tmp/before.json     # on the old revision
    python3 bench/compile_snapshot.py --check /tmp/before.json     # on the new one

Imports only public modules; run with PYTHONPATH set to the checkout under test.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

import numpy as np

import hqsim
from hqsim.compile import compile_circuit
from hqsim.hybrid.frontends.qasm import parse_qasm_program
from hqsim.hybrid.frontends.quil import parse_quil_program
from hqsim.hybrid.pipeline import OPT_LEVELS, PASSES, PipelineOptions, run_pipeline
from hqsim.hybrid.printers.qasm import print_qasm
from hqsim.hybrid.printers.quil import print_quil

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS = os.path.join(HERE, "hybrid", "programs")
sys.path.insert(0, os.path.join(HERE, ".."))
from tests.core.random_circuits import random_circuit, random_observables  # noqa: E402


def _printed(program) -> dict:
    out = {}
    for lang, printer in (("qasm", print_qasm), ("quil", print_quil)):
        try:
            out[lang] = printer(program)
        except Exception as exc:  # record the refusal: it must not change either
            out[lang] = f"<{type(exc).__name__}: {exc}>"
    return out


def hybrid_outputs() -> dict:
    runs = {f"-O{k}": v for k, v in OPT_LEVELS.items()}
    runs.update({name: (name,) for name in PASSES})
    out = {}
    for fname in sorted(os.listdir(PROGRAMS)):
        path = os.path.join(PROGRAMS, fname)
        with open(path, encoding="utf-8") as fh:
            source = fh.read()
        parse = parse_qasm_program if fname.endswith(".qasm") else parse_quil_program
        program = parse(source, path, os.path.splitext(fname)[0])
        for label, passes in runs.items():
            result = run_pipeline(program, PipelineOptions(passes=passes))
            out[f"{fname} {label}"] = _printed(result.program)
    return out


def _digest(program) -> str:
    h = hashlib.sha256()
    for name in ("ops", "factors", "fcoef", "const_mats", "perms", "wires", "terms", "term_coeff"):
        a = np.ascontiguousarray(getattr(program, name))
        h.update(name.encode())
        h.update(str(a.shape).encode())
        h.update(np.round(a, 12).tobytes() if a.dtype.kind in "fc" else a.tobytes())
    return h.hexdigest()


def circuit_outputs(count: int = 60) -> dict:
    out = {}
    rng = np.random.default_rng(2024)
    for i in range(count):
        q = int(rng.integers(1, 6))
        c = random_circuit(rng, q, int(rng.integers(1, 40)))
        obs = random_observables(rng, q)
        cc = compile_circuit(c, obs)
        out[f"random {i}"] = {"optimized": [repr(g) for g in cc.optimized.gates],
                              "program": _digest(cc.program)}
    for label, circuit, obs in _workload_circuits():
        cc = compile_circuit(circuit, obs)
        out[label] = {"optimized": [repr(g) for g in cc.optimized.gates], "program": _digest(cc.program)}
    return out


def _workload_circuits():
    from hqsim import ansatz
    yield "W1 rpqc Q=10", ansatz.rpqc(10, reuploads=4, layers=2), ansatz.z_all(10)
    yield "W2 encoder Q=8", ansatz.amplitude_encoder(8, 200, layers=2, connectivity=2), ansatz.z_all(8)
    yield "W2 module Q=8", ansatz.reuploading_module(8), [hqsim.Z(0)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", metavar="FILE")
    group.add_argument("--check", metavar="FILE")
    args = ap.parse_args(argv)
    now = {"hybrid": hybrid_outputs(), "circuits": circuit_outputs()}
    if args.write:
        with open(args.write, "w", encoding="utf-8") as fh:
            json.dump(now, fh, indent=1, sort_keys=True)
        print(f"wrote {sum(len(v) for v in now.values())} records to {args.write}")
        return 0
    with open(args.check, encoding="utf-8") as fh:
        before = json.load(fh)
    diffs = [f"{part}: {key}" for part in now for key in sorted(set(now[part]) | set(before[part]))
             if now[part].get(key) != before[part].get(key)]
    for d in diffs:
        print("differs:", d)
    print(f"{len(diffs)} of {sum(len(v) for v in now.values())} records differ")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())

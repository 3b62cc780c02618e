"""Golden answers for the first-contact smoke run (bench/gpu/smoke.py), computed on the CPU.

    python3 bench/gpu/golden.py [--out bench/gpu/golden.npz]

Each case is stored whole: the lowered op program's arrays (so the GPU machine needs neither
the compiler's random circuits nor Numba), the inputs, weights and cotangent, and the float64
expectations and gradients from the Numba backend, checked here against the complex128 oracle
wherever the oracle is affordable. The file also records the git revision it was made at.
Cases: random circuits over every gate, parameter kind and observable kind (Q 1..8, odd
batches, batch 1, amplitude encoding), the resident/blocked boundary (Q 12..16), W1 (at Q = 14
its CNOT rings move more bits than a 12-bit tile holds: bit maps split into tile-sized factors)
and both W2 circuits (the module is CXU1-heavy: the in-tile CNOT path), and W2's module at Q = 18.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden.npz"
PROGRAM_FIELDS = ("ops", "factors", "fcoef", "const_mats", "perms", "inv_perms", "wires", "terms", "term_coeff")
PROGRAM_INTS = ("num_qubits", "num_weights", "num_inputs", "amp_start", "amp_size", "num_observables")


def _cases():
    """(name, circuit, observables, batch, oracle?) of every golden case."""
    sys.path.insert(0, str(ROOT / "tests"))
    from core.random_circuits import random_circuit, random_observables

    from hqsim.ansatz import amplitude_encoder, reuploading_module, rpqc, z_all
    from hqsim.ir import Z
    out = []
    for seed in range(10):
        rng = np.random.default_rng(7000 + seed)
        q = 1 + seed % 8
        c = random_circuit(rng, q, 40, amplitude=seed % 3 == 0)
        out.append((f"random-q{q}-s{seed}", c, random_observables(rng, q), [1, 3, 5, 7, 33][seed % 5], True, rng))
    for q in (12, 13, 14, 16):
        rng = np.random.default_rng(7100 + q)
        c = random_circuit(rng, q, 24, amplitude=q == 13, allow_unitary=False)
        out.append((f"random-q{q}", c, random_observables(rng, q), 3, q <= 12, rng))
    rng = np.random.default_rng(7200)
    out.append(("W1-q12", rpqc(12, 2, 2, 1), z_all(12), 5, False, rng))
    out.append(("W1-q14", rpqc(14, 2, 2, 1), z_all(14), 3, False, rng))  # rings wider than a tile: split maps
    out.append(("W2-encoder-q10", amplitude_encoder(10, 384), z_all(10), 5, False, rng))
    out.append(("W2-module-q12", reuploading_module(12), [Z(0)], 5, False, rng))
    out.append(("W2-module-q18", reuploading_module(18), [Z(0)], 2, False, rng))
    return out


def make(path: Path = GOLDEN) -> dict:
    from hqsim.backends import numba_cpu, reference
    from hqsim.compile import compile_circuit
    arrays, index = {}, []
    for k, (name, c, obs, batch, oracle, rng) in enumerate(_cases()):
        p = compile_circuit(c, obs).program
        x = rng.uniform(-np.pi, np.pi, size=(batch, c.num_inputs))
        w = rng.uniform(-np.pi, np.pi, size=c.num_weights)
        cot = rng.normal(size=(batch, p.num_observables))
        out, _ = numba_cpu.forward(p, x, w, np.float64)
        dw, dx = numba_cpu.vjp(p, x, w, cot, np.float64, True)
        if oracle:  # the Numba answers are themselves checked against the complex128 oracle
            np.testing.assert_allclose(out, reference.expectation(c, obs, x, w), atol=1e-10)
            rdw, rdx = reference.vjp(c, obs, x, w, cot)
            np.testing.assert_allclose(dw, rdw, atol=1e-9)
            np.testing.assert_allclose(dx, rdx, atol=1e-9)
        for f in PROGRAM_FIELDS:
            arrays[f"{k}/{f}"] = getattr(p, f)
        for f, a in (("x", x), ("w", w), ("cot", cot), ("out", out), ("dw", dw), ("dx", dx)):
            arrays[f"{k}/{f}"] = a
        index.append(dict(name=name, oracle=oracle, **{f: int(getattr(p, f)) for f in PROGRAM_INTS}))
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    meta = dict(cases=index, revision=rev.stdout.strip() or "unknown")
    arrays["index"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez_compressed(path, **arrays)
    return meta


def load(path: Path = GOLDEN) -> tuple[dict, list[dict]]:
    """(meta, cases); each case: name, program (OpProgram), x, w, cot, out, dw, dx."""
    from hqsim.program import OpProgram
    z = np.load(path)
    meta = json.loads(bytes(z["index"]).decode())
    cases = []
    for k, c in enumerate(meta["cases"]):
        fields = {f: z[f"{k}/{f}"] for f in PROGRAM_FIELDS}
        prog = OpProgram(c["num_qubits"], c["num_weights"], c["num_inputs"], fields["ops"], fields["factors"],
                         fields["fcoef"], fields["const_mats"], fields["perms"], fields["inv_perms"], fields["wires"],
                         c["amp_start"], c["amp_size"], fields["terms"], fields["term_coeff"], c["num_observables"])
        cases.append(dict(name=c["name"], program=prog, **{f: z[f"{k}/{f}"] for f in ("x", "w", "cot", "out", "dw", "dx")}))
    return meta, cases


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=GOLDEN)
    args = ap.parse_args(argv)
    meta = make(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {len(meta['cases'])} cases, "
          f"git {meta['revision']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

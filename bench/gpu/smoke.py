"""First-contact smoke run: every golden case (bench/gpu/golden.py) through every path x dtype x
launcher of the CUDA backend, outputs poisoned with NaN first, compared with the CPU's answers.

    python3 bench/gpu/smoke.py --out smoke.json                        # on a GPU
    python3 bench/gpu/smoke.py --device cpu-emulated --quick --out x.json  # here, without one

Needs neither Numba nor the compiler's random circuits: the golden file holds whole programs.
Each combination is reported (max errors, seconds, pass/fail or the error's first line); a
failing combination never stops the others. Exit status 0 when every run combination passed.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import golden  # noqa: E402

from hqsim.backends.cuda import CudaBackend, CudaOptions  # noqa: E402
from hqsim.backends.cuda_ext import cupy_available, load_extension  # noqa: E402
from hqsim.backends.cuda_run import Run  # noqa: E402

PATHS = {"resident": dict(path="resident"), "blocked": dict(path="blocked"),
         "tiny-tiles": dict(path="blocked", tile_bits=4)}
TOL = {"f32": (3e-3, 2e-2), "f64": (1e-9, 1e-7)}  # (expectations, gradients relative to their scale)


def launchers(device: str) -> list[str]:
    if device == "cpu-emulated":
        return ["emulated"]
    return [n for n, ok in (("extension", load_extension() is not None), ("cupy", cupy_available())) if ok]


def run_one(case, device, path, dtype, launcher):
    """Forward and VJP into NaN-poisoned buffers; max errors against the golden answers."""
    be = CudaBackend(CudaOptions(device=device, launcher=launcher, **PATHS[path]))
    prog, itemsize = case["program"], 4 if dtype == "f32" else 8
    x, w = case["x"], case["w"]
    if device == "cuda":
        x, w = torch.as_tensor(x, device="cuda"), torch.as_tensor(w, device="cuda")
    t0 = time.perf_counter()
    run = Run(be, prog, x, w, itemsize)
    out = torch.full((run.batch, prog.num_observables), float("nan"), dtype=torch.float64, device=run.device)
    run.forward_into(out)
    cot = run.tensor(case["cot"], "cotangent", 2)  # in the run's real type, as the kernels read it
    dw = torch.full((prog.num_weights,), float("nan"), dtype=torch.float64, device=run.device)
    dx = torch.full((run.batch, run.n_in), float("nan"), dtype=torch.float64, device=run.device)
    run.vjp_into(cot, dw, dx)
    if device == "cuda":
        torch.cuda.synchronize()
    secs = time.perf_counter() - t0
    got = {k: v.cpu().numpy() for k, v in (("out", out), ("dw", dw), ("dx", dx))}
    err = {k: float(np.nan_to_num(np.abs(got[k] - case[k]), nan=np.inf).max(initial=0.0)) for k in got}
    scale = max(1.0, float(np.abs(case["dw"]).max(initial=0)), float(np.abs(case["dx"]).max(initial=0)))
    tol_out, tol_grad = TOL[dtype]
    ok = err["out"] <= tol_out and max(err["dw"], err["dx"]) <= tol_grad * scale
    return dict(status="pass" if ok else "FAIL", seconds=round(secs, 3), **{f"err_{k}": v for k, v in err.items()})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--golden", type=Path, default=golden.GOLDEN)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu-emulated"])
    ap.add_argument("--quick", action="store_true", help="cases up to 8 qubits only (for the emulated device)")
    ap.add_argument("--max-cases", type=int, default=None, help="only the first N cases")
    ap.add_argument("--out", type=Path, default=Path("smoke.json"))
    args = ap.parse_args(argv)
    meta, cases = golden.load(args.golden)
    if args.quick:
        cases = [c for c in cases if c["program"].num_qubits <= 8][::2]
    cases = cases[:args.max_cases]
    rows, t_start = [], time.perf_counter()
    for case in cases:
        for path in PATHS:
            for dtype in ("f32", "f64"):
                for launcher in launchers(args.device):
                    row = dict(case=case["name"], Q=case["program"].num_qubits, B=int(case["x"].shape[0]),
                               path=path, dtype=dtype, launcher=launcher)
                    try:
                        row.update(run_one(case, args.device, path, dtype, launcher))
                    except Exception as exc:  # reported per combination; the others still run
                        if isinstance(exc, ValueError) and "resident path" in str(exc):
                            row.update(status="n/a", note="does not fit the resident path")
                        else:
                            row.update(status="ERROR", note=f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                            traceback.print_exc()
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    summary = {s: sum(r["status"] == s for r in rows) for s in ("pass", "FAIL", "ERROR", "n/a")}
                    args.out.write_text(json.dumps(dict(golden_revision=meta["revision"], device=args.device,
                                                        summary=summary, seconds=round(time.perf_counter() - t_start, 1),
                                                        rows=rows), indent=1))
    print(f"smoke: {summary} in {time.perf_counter() - t_start:.0f} s; launchers {launchers(args.device)}")
    return 0 if summary["FAIL"] == 0 and summary["ERROR"] == 0 and summary["pass"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

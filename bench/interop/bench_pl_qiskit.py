"""W1 through PennyLane and Qiskit front ends: hqsim.qubit and HQSimEstimator against the peers.

Workload W1 (hqsim.ansatz.rpqc, R=4, L=2, C=1; WORKLOADS.md): inputs x (B, Q), weights (R, L,
Q, 3), outputs <Z_q> for every qubit. Figures: forward and forward+backward samples/s (the
backward gives gradients for every weight and every input).

- PennyLane (torch interface, the W1 QNode below, inputs broadcast over the batch):
  ``hqsim.qubit`` adjoint with ``device_vjp=True`` (a broadcast batch stays one tape) and with
  PennyLane's default ``device_vjp=False`` (PennyLane splits the batch into B tapes; the device
  still runs them as one hqsim call); ``lightning.qubit`` adjoint; ``default.qubit`` backprop.
- Qiskit (qiskit-machine-learning ``EstimatorQNN`` over an EstimatorV2, exact expectations):
  ``HQSimEstimator`` with hqsim's adjoint gradient class and with ``ParamShiftEstimatorGradient``;
  Qiskit Aer's ``EstimatorV2`` and the reference ``StatevectorEstimator`` with parameter shift
  (the gradient any EstimatorV2 gets). Slow contestants are timed on fewer samples (CAP);
  samples/s is per sample either way.

Each contestant runs in its own process with the same thread budget.

    python bench/interop/bench_pl_qiskit.py                                  # Q=10 B=256, Q=14 B=64
    python bench/interop/bench_pl_qiskit.py --cases 10x256 --output bench/RESULTS_interop.md
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.interop.bench_report import report  # noqa: E402

R, L, C = 4, 2, 1
CONTESTANTS = ("pl:hqsim.qubit", "pl:hqsim.qubit(device_vjp=False)", "pl:lightning.qubit", "pl:default.qubit",
               "qk:hqsim+adjoint", "qk:hqsim+param-shift", "qk:aer+param-shift", "qk:statevector+param-shift")
# samples timed per call for contestants that take seconds per sample: {name: (forward, backward)}
CAP = {"pl:lightning.qubit": (64, 16), "pl:default.qubit": (256, 64),
       "pl:hqsim.qubit(device_vjp=False)": (256, 64),
       "qk:hqsim+param-shift": (256, 2), "qk:aer+param-shift": (256, 1), "qk:statevector+param-shift": (64, 1)}
CHECK = 4


def case(q: int, batch: int):
    rng = np.random.default_rng(1234)
    return rng.uniform(-np.pi, np.pi, (batch, q)), rng.uniform(-np.pi, np.pi, (R, L, q, 3))


def _pennylane(device: str, diff_method: str, device_vjp: bool, q: int):
    import pennylane as qml
    import torch
    kwargs = {"dtype": np.complex64} if device == "hqsim.qubit" else {}
    dev = qml.device(device, wires=q, **kwargs)

    @qml.qnode(dev, interface="torch", diff_method=diff_method, device_vjp=device_vjp)
    def circuit(xs, th):
        for rr in range(R):
            for qq in range(q):
                qml.RY(xs[..., qq], wires=qq)
            for ll in range(L):
                for qq in range(q):
                    qml.RZ(th[rr, ll, qq, 0], wires=qq)
                    qml.RY(th[rr, ll, qq, 1], wires=qq)
                    qml.RZ(th[rr, ll, qq, 2], wires=qq)
                for qq in range(q):
                    if (qq + C) % q != qq:
                        qml.CNOT(wires=[qq, (qq + C) % q])
        return [qml.expval(qml.PauliZ(qq)) for qq in range(q)]

    def run(x, th, grad: bool):
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=grad)
        tt = torch.tensor(th, dtype=torch.float64, requires_grad=grad)
        with torch.set_grad_enabled(grad):
            out = torch.stack(circuit(xt, tt), -1)
            if grad:
                out.sum().backward()
        return out.detach().numpy()
    return run


def _qiskit(estimator_name: str, gradient_name: str, q: int):
    from qiskit.circuit import ParameterVector, QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_machine_learning.gradients import ParamShiftEstimatorGradient
    from qiskit_machine_learning.neural_networks import EstimatorQNN
    xs, ws = ParameterVector("x", q), ParameterVector("w", R * L * q * 3)
    qc = QuantumCircuit(q)
    k = 0
    for _ in range(R):
        for qq in range(q):
            qc.ry(xs[qq], qq)
        for _ in range(L):
            for qq in range(q):
                qc.rz(ws[k], qq)
                qc.ry(ws[k + 1], qq)
                qc.rz(ws[k + 2], qq)
                k += 3
            for qq in range(q):
                if (qq + C) % q != qq:
                    qc.cx(qq, (qq + C) % q)
    obs = [SparsePauliOp.from_sparse_list([("Z", [qq], 1.0)], q) for qq in range(q)]
    if estimator_name == "hqsim":
        from hqsim.interop.qiskit import HQSimEstimator, HQSimEstimatorGradient
        est = HQSimEstimator(dtype=np.complex64)
        grad = HQSimEstimatorGradient(est) if gradient_name == "adjoint" else ParamShiftEstimatorGradient(est)
    else:
        if estimator_name == "aer":
            from qiskit_aer.primitives import EstimatorV2 as AerEstimator
            est = AerEstimator()
        else:
            from qiskit.primitives import StatevectorEstimator
            est = StatevectorEstimator()
        grad = ParamShiftEstimatorGradient(est)
    qnn = EstimatorQNN(circuit=qc, observables=obs, input_params=list(xs), weight_params=list(ws),
                       estimator=est, gradient=grad, input_gradients=True, default_precision=0.0)

    def run(x, th, grad_: bool):
        w = th.reshape(-1)  # (R, L, Q, 3) in the circuit's weight order
        out = qnn.forward(x, w)
        if grad_:
            qnn.backward(x, w)
        return np.asarray(out)
    return run


def contestant(name: str, q: int):
    if name.startswith("pl:"):
        device = name[3:].split("(")[0]
        method = "backprop" if device == "default.qubit" else "adjoint"
        return _pennylane(device, method, device == "hqsim.qubit" and "device_vjp=False" not in name, q)
    est, grad = name[3:].split("+")
    return _qiskit(est, grad, q)


def _median(fn, warm, repeats: int, min_time: float = 1.0):
    warm()  # warm-up on one sample: Numba cache load, compilation, PennyLane caches
    times, start = [], time.perf_counter()
    while len(times) < repeats or (time.perf_counter() - start < min_time and len(times) < 10):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), float(np.min(times)), float(np.max(times))


def worker(name: str, q: int, batch: int, repeats: int) -> dict:
    x, th = case(q, batch)
    run = contestant(name, q)
    out = {"check": run(x[:CHECK], th, False).tolist()}
    for mode, grad, cap in (("fwd", False, CAP.get(name, (batch, batch))[0]),
                            ("fwd_bwd", True, CAP.get(name, (batch, batch))[1])):
        b = min(batch, cap)
        slow = b < batch  # contestants that take seconds per sample: one timed call
        med, lo, hi = _median(lambda: run(x[:b], th, grad), lambda: run(x[:1], th, grad),
                              1 if slow else repeats, 0.0 if slow else 1.0)
        out[mode] = {"batch_timed": b, "median_s": med, "min_s": lo, "max_s": hi}
    return out


def _spawn(name, q, batch, threads, repeats) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE")
    cmd = [sys.executable, __file__, "--worker", name, str(q), str(batch), str(repeats)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"missing" if "No module named" in tail else "error": tail}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _oracle(q, batch):
    import hqsim
    x, th = case(q, batch)
    return hqsim.expectation(hqsim.ansatz.rpqc(q, R, L, C), x[:CHECK], th.reshape(-1), backend="reference")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    p.add_argument("--cases", default="10x256,14x64", help="QxB list")
    p.add_argument("--contestants", default=",".join(CONTESTANTS))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--output", help="append the markdown report to this file")
    args = p.parse_args(argv)
    if args.worker:
        name, q, b, repeats = args.worker
        print(json.dumps(worker(name, int(q), int(b), int(repeats))))
        return 0
    results = []
    for spec in args.cases.split(","):
        q, b = map(int, spec.split("x"))
        ref = _oracle(q, b)
        for name in args.contestants.split(","):
            res = _spawn(name, q, b, args.threads, args.repeats)
            if "check" in res:
                res["err"] = float(np.abs(np.array(res["check"]) - ref).max())
            results.append((q, b, name, res))
            print(q, b, name, {k: v for k, v in res.items() if k != "check"}, flush=True)
    text = report(results, args, sys.argv[1:] if argv is None else argv)
    print(text)
    if args.output:
        with open(args.output, "a") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

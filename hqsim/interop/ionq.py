"""IonQ: compile for IonQ's gate sets and submit through ``cirq_ionq.Service`` (the real client).

    res = submit(layer_circuit, weights=theta, inputs=x, target="simulator", shots=1000)
    res.probabilities        # (B, 2^Q), qubit 0 = most significant bit (hqsim's order)
    res.expectation([Z(0)])  # (B, 1) estimated from the measured distribution

Gate sets: ``"qis"`` (``cirq_ionq.IonQTargetGateset``: rx/ry/rz, cnot, xx/yy/zz, ... the
API's QIS gates), ``"aria"`` (native GPI/GPI2/MS) and ``"forte"`` (native GPI/GPI2/ZZ).
cirq-ionq sets no timeout on its HTTP calls; ``submit`` bounds each call by
``request_timeout_s`` (a call that overruns counts as a connection error, which the client
retries until ``max_retry_s``) and the job wait by ``timeout_s``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from ..ir import Circuit, as_observable
from ._deps import cirq, require_ionq
from .cirq import resolved_batch, to_cirq
from .stats import CompileReport, compute_circuit_stats

# Qubits per target (IonQ documentation: Aria 25, Forte 36, cloud simulator 29).
TARGET_QUBITS = {"simulator": 29, "qpu.aria-1": 25, "qpu.aria-2": 25, "qpu.forte-1": 36,
                 "qpu.forte-enterprise-1": 36}
GATESETS = ("qis", "aria", "forte")
MEASUREMENT_KEY = "m"


def _gateset(name: str):
    ionq = require_ionq()
    table = {"qis": ionq.IonQTargetGateset, "aria": ionq.AriaNativeGateset,
             "forte": ionq.ForteNativeGateset}
    if name not in table:
        raise ValueError(f"gateset must be one of {', '.join(GATESETS)}, got {name!r}")
    return table[name]()


def max_qubits(target: str) -> int | None:
    """Qubits of a known target; None for other ``qpu.*`` names (not checked locally)."""
    if target in TARGET_QUBITS:
        return TARGET_QUBITS[target]
    if target == "qpu" or target.startswith("qpu."):
        return None
    raise ValueError(f"target must be 'simulator', 'qpu' or 'qpu.<system>' (known: "
                     f"{', '.join(TARGET_QUBITS)}), got {target!r}")


def _validate_native(circuit, gateset: str):
    ionq = require_ionq()
    two = ionq.MSGate if gateset == "aria" else ionq.ZZGate
    allowed = (ionq.GPIGate, ionq.GPI2Gate, two, cirq.MeasurementGate)
    for op in circuit.all_operations():
        if not isinstance(op.gate, allowed):
            raise ValueError(f"operation {op} is not a native {gateset} gate after compiling")


def compile_for_ionq(circuit, gateset: str = "qis", weights=None, inputs=None):
    """(compiled ``cirq.Circuit``, CompileReport) for one circuit.

    circuit: an hqsim Circuit (resolved with ``weights`` / one sample of ``inputs``; unbound
    inputs stay symbols for ``"qis"``) or a ``cirq.Circuit`` on LineQubits. The native gate
    sets need every parameter resolved. The result is checked against the target's gate set
    (``IonQAPIDevice`` for QIS).
    """
    c = to_cirq(circuit, weights, inputs) if isinstance(circuit, Circuit) else circuit
    if gateset != "qis" and cirq.is_parameterized(c):
        raise ValueError(f"native {gateset} compilation needs resolved parameters; unbound: "
                         f"{sorted(cirq.parameter_names(c))}")
    if any(not isinstance(q, cirq.LineQubit) for q in c.all_qubits()):
        raise ValueError("IonQ circuits must use cirq.LineQubit qubits")
    out = cirq.optimize_for_target_gateset(c, gateset=_gateset(gateset))
    if gateset == "qis":
        require_ionq().IonQAPIDevice(sorted(out.all_qubits()) or 1).validate_circuit(out)
    else:
        _validate_native(out, gateset)
    return out, CompileReport(f"ionq:{gateset}", compute_circuit_stats(c), compute_circuit_stats(out))


@dataclass(frozen=True)
class IonQResult:
    """Results in hqsim's shape; basis index i has qubit 0 as its most significant bit.

    probabilities: (B, 2^Q) float64 — the QPU's counts / shots, or the simulator's exact
    probabilities; counts: (B, 2^Q) int64 — the QPU's counts, or a multinomial sample of
    ``shots`` from the simulator's probabilities (seeded).
    """

    job_id: str
    target: str
    shots: int
    probabilities: np.ndarray
    counts: np.ndarray
    compiled: tuple
    reports: tuple

    def expectation(self, observables) -> np.ndarray:
        """(B, n_obs) estimates of diagonal (Z-only) observables from ``probabilities``."""
        return expectation_from_probabilities(self.probabilities, observables)


def expectation_from_probabilities(probabilities: np.ndarray, observables) -> np.ndarray:
    """(B, n_obs) expectation values of Z-type Pauli sums from (B, 2^Q) distributions."""
    probs = np.atleast_2d(probabilities)
    n = int(np.log2(probs.shape[1]))
    basis = np.arange(probs.shape[1])
    cols = []
    for o in observables:
        diag = np.zeros(probs.shape[1])
        for term in as_observable(o).terms:
            if any(p != "Z" for _, p in term.paulis):
                raise ValueError(f"observable {o!r} is not diagonal: measured bitstrings give "
                                 "only Z-type expectations (rotate the basis in the circuit)")
            sign = np.ones(probs.shape[1])
            for q, _ in term.paulis:
                if q >= n:
                    raise ValueError(f"observable {o!r} acts on qubit {q}; results have {n} qubits")
                sign *= 1 - 2 * ((basis >> (n - 1 - q)) & 1)
            diag += term.coeff * sign
        cols.append(probs @ diag)
    return np.stack(cols, axis=1)


def _with_deadline(request, seconds: float):
    """Run ``request()`` in a daemon thread; raise requests' Timeout if it overruns."""
    import requests  # cirq-ionq's own HTTP library

    box: dict = {}

    def target():
        try:
            box["response"] = request()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise requests.Timeout(f"no response from the IonQ API within {seconds} s")
    if "error" in box:
        raise box["error"]
    return box["response"]


def make_service(api_key=None, remote_host=None, max_retry_s: float = 600.0,
                 request_timeout_s: float = 60.0):
    """A ``cirq_ionq.Service`` whose HTTP calls are each bounded by ``request_timeout_s``."""
    service = require_ionq().Service(remote_host=remote_host, api_key=api_key,
                                     max_retry_seconds=max_retry_s)
    client = service._client  # cirq-ionq has no request-timeout option: wrap its one entry point
    make_request = client._make_request
    client._make_request = lambda request, json: make_request(
        lambda: _with_deadline(request, request_timeout_s), json)
    return service


def _prepare(circuits, weights, inputs, gateset, target):
    batch = resolved_batch(circuits, weights, inputs)
    for i, c in enumerate(batch):
        bad = [q for q in c.all_qubits() if not isinstance(q, cirq.LineQubit)]
        if bad:
            raise ValueError(f"circuit {i}: IonQ circuits must use cirq.LineQubit, got {bad[:3]}")
    n = max((max(q.x for q in c.all_qubits()) + 1 for c in batch if c.all_qubits()), default=1)
    cap = max_qubits(target)
    if cap is not None and n > cap:
        raise ValueError(f"the circuits need {n} qubits but target {target!r} has {cap}")
    measure = cirq.measure(*cirq.LineQubit.range(n), key=MEASUREMENT_KEY)
    compiled, reports = [], []
    for c in batch:
        c = cirq.drop_terminal_measurements(c) if c.has_measurements() else c
        out, report = compile_for_ionq(c, gateset)
        compiled.append(out + measure)
        reports.append(report)
    return compiled, reports, n


def _histograms(results, n: int, shots: int, rng) -> tuple[np.ndarray, np.ndarray]:
    ionq = require_ionq()
    probs = np.zeros((len(results), 2 ** n))
    counts = np.zeros((len(results), 2 ** n), dtype=np.int64)
    for b, r in enumerate(results):
        if isinstance(r, ionq.QPUResult):
            for k, v in r.counts(MEASUREMENT_KEY).items():
                counts[b, k] = v
            probs[b] = counts[b] / max(counts[b].sum(), 1)
        else:
            for k, v in r.probabilities(MEASUREMENT_KEY).items():
                probs[b, k] = v
            counts[b] = rng.multinomial(shots, probs[b] / probs[b].sum())
    return probs, counts


def submit(circuits, *, target: str = "simulator", shots: int = 1000, api_key=None,
           remote_host=None, weights=None, inputs=None, gateset: str = "qis", name=None,
           seed=None, timeout_s: float = 3600.0, poll_s: float = 1.0,
           request_timeout_s: float = 60.0, max_retry_s: float = 600.0) -> IonQResult:
    """Compile, submit (one job; a batch job for several circuits) and wait for results.

    circuits: an hqsim Circuit (with ``weights`` and ``inputs`` (B, num_inputs) -> B
    circuits), a resolved ``cirq.Circuit``, or a list. All qubits are measured (key "m").
    api_key / remote_host: default to IONQ_API_KEY / IONQ_REMOTE_HOST as in cirq-ionq.
    Raises ValueError for bad input or too many qubits, ``cirq_ionq.IonQException`` for API
    errors (401, other 4xx), RuntimeError for a failed job, TimeoutError when the job or the
    retries run out of time.
    """
    if isinstance(shots, bool) or not isinstance(shots, (int, np.integer)) or shots < 1:
        raise ValueError(f"shots must be a positive int, got {shots!r}")
    compiled, reports, n = _prepare(circuits, weights, inputs, gateset, target)
    service = make_service(api_key, remote_host, max_retry_s, request_timeout_s)
    if len(compiled) == 1:
        job = service.create_job(compiled[0], repetitions=int(shots), name=name, target=target)
    else:
        job = service.create_batch_job(compiled, repetitions=int(shots), name=name, target=target)
    results = job.results(timeout_seconds=timeout_s, polling_seconds=poll_s)
    results = results if isinstance(results, list) else [results]
    if len(results) != len(compiled):
        raise RuntimeError(f"IonQ returned {len(results)} results for {len(compiled)} circuits")
    probs, counts = _histograms(results, n, int(shots), np.random.default_rng(seed))
    return IonQResult(job.job_id(), target, int(shots), probs, counts, tuple(compiled), tuple(reports))

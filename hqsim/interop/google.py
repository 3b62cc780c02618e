"""Google: compile onto a ``cirq_google`` device grid and run through an engine's sampler.

    compiled = compile_for_google(circuit, "rainbow", gateset="cz", weights=theta)
    print(compiled.report.format())            # gate counts, 2q depth before/after
    engine = simulated_engine("rainbow")       # SimulatedLocalEngine whose sampler is hqsim
    res = submit(circuit, weights=theta, inputs=x, engine=engine, shots=1000)

Compiling: decompose to the device's gate set (``"cz"`` or ``"sqrt_iswap"``), place and
route onto the device graph with ``cirq.RouteCQC``, re-optimise, merge single-qubit gates into
PhasedXZ and check with ``device.validate_circuit``. Logical qubit q (``cirq.LineQubit(q)``)
starts on ``initial_map[q]`` and ends on ``final_map[q]``; measurements keep logical order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir import Circuit
from ._deps import cirq, require_google
from .cirq import export_sweep, resolved_batch, to_cirq
from .ionq import expectation_from_probabilities
from .stats import CompileReport, compute_circuit_stats

GATESETS = {"cz": ("GoogleCZTargetGateset", "CZTargetGateset"),
            "sqrt_iswap": ("SqrtIswapTargetGateset",), "sycamore": ("SycamoreTargetGateset",)}
MEASUREMENT_KEY = "m"


@dataclass(frozen=True)
class GoogleCompiled:
    circuit: cirq.Circuit
    initial_map: dict  # logical qubit -> physical qubit before the first gate
    final_map: dict  # logical qubit -> physical qubit after the last gate (swaps applied)
    report: CompileReport


def device_for(processor_id: str):
    """The ``cirq_google.GridDevice`` of a virtual processor (``list_virtual_processors()``)."""
    google = require_google()
    known = google.engine.list_virtual_processors()
    if processor_id not in known:
        raise ValueError(f"unknown processor {processor_id!r}; virtual processors: {', '.join(known)}")
    return google.engine.create_device_from_processor_id(processor_id)


def _target_gateset(device, gateset: str):
    """A plain target gate set (only its own 2q gate), after checking the device offers it."""
    if gateset not in GATESETS:
        raise ValueError(f"gateset must be one of {', '.join(GATESETS)}, got {gateset!r}")
    offered = device.metadata.compilation_target_gatesets
    if any(type(gs).__name__ in GATESETS[gateset] for gs in offered):
        plain = {"cz": cirq.CZTargetGateset, "sqrt_iswap": cirq.SqrtIswapTargetGateset,
                 "sycamore": lambda: require_google().SycamoreTargetGateset()}
        return plain[gateset]()
    names = ", ".join(type(g).__name__ for g in offered)
    raise ValueError(f"the device does not support the {gateset!r} gate set (it offers {names})")


def compile_for_google(circuit, processor_id: str = "rainbow", gateset: str = "cz",
                       weights=None, inputs=None, device=None) -> GoogleCompiled:
    """Compile an hqsim Circuit (``to_cirq`` with weights/inputs; unbound inputs stay symbols)
    or a ``cirq.Circuit`` for a Google device. ``device`` overrides ``processor_id``."""
    c = to_cirq(circuit, weights, inputs) if isinstance(circuit, Circuit) else circuit
    device = device if device is not None else device_for(processor_id)
    capacity = len(device.metadata.qubit_set)
    if len(c.all_qubits()) > capacity:
        raise ValueError(f"the circuit needs {len(c.all_qubits())} qubits but the device "
                         f"{processor_id!r} has {capacity}")
    gs = _target_gateset(device, gateset)
    out = cirq.optimize_for_target_gateset(c, gateset=gs)
    routed, initial_map, swap_map = cirq.RouteCQC(device.metadata.nx_graph).route_circuit(out)
    out = cirq.optimize_for_target_gateset(routed, gateset=gs)
    out = cirq.drop_empty_moments(cirq.drop_negligible_operations(cirq.merge_single_qubit_gates_to_phxz(out)))
    device.validate_circuit(out)
    final_map = {q: swap_map[p] for q, p in initial_map.items()}
    report = CompileReport(f"google:{processor_id}:{gateset}", compute_circuit_stats(c),
                           compute_circuit_stats(out))
    return GoogleCompiled(out, dict(initial_map), final_map, report)


def simulated_engine(processor_id: str = "rainbow", sampler=None):
    """A ``SimulatedLocalEngine`` with one ``SimulatedLocalProcessor`` for ``processor_id``:
    the real device, validators and device specification, sampled by ``sampler`` (default:
    ``HqsimSimulator()``)."""
    google = require_google()
    from cirq_google.engine import engine_validator, virtual_engine_factory

    from .simulator import HqsimSimulator

    processor = google.engine.SimulatedLocalProcessor(
        processor_id=processor_id, sampler=sampler if sampler is not None else HqsimSimulator(),
        device=device_for(processor_id), validator=engine_validator.create_engine_validator(),
        program_validator=engine_validator.create_program_validator(),
        device_specification=virtual_engine_factory.create_device_spec_from_processor_id(processor_id))
    return google.engine.SimulatedLocalEngine([processor])


@dataclass(frozen=True)
class GoogleResult:
    """probabilities (B, 2^Q) = counts / shots; counts (B, 2^Q) int64; qubit 0 most significant."""

    processor_id: str
    shots: int
    probabilities: np.ndarray
    counts: np.ndarray
    compiled: tuple  # GoogleCompiled per submitted program
    job_ids: tuple

    def expectation(self, observables) -> np.ndarray:
        """(B, n_obs) estimates of diagonal (Z-only) observables."""
        return expectation_from_probabilities(self.probabilities, observables)


def _counts(results, n: int) -> np.ndarray:
    weights = 1 << (n - 1 - np.arange(n))
    out = np.zeros((len(results), 2 ** n), dtype=np.int64)
    for b, r in enumerate(results):
        idx = r.measurements[MEASUREMENT_KEY].astype(np.int64) @ weights
        out[b] = np.bincount(idx, minlength=2 ** n)
    return out


def submit(circuits, *, processor_id: str = "rainbow", shots: int = 1000, engine=None,
           project_id=None, weights=None, inputs=None, gateset: str = "cz") -> GoogleResult:
    """Compile and run on a Google processor; all logical qubits are measured (key "m").

    An hqsim Circuit with inputs (B, num_inputs) is compiled once with the inputs as symbols
    and runs as one job with a sweep of B resolvers; cirq circuits (or a list) run as a batch.
    engine: an engine such as ``simulated_engine(...)``; default ``cirq_google.Engine(
    project_id)`` (Google Cloud credentials needed).
    """
    if isinstance(shots, bool) or not isinstance(shots, (int, np.integer)) or shots < 1:
        raise ValueError(f"shots must be a positive int, got {shots!r}")
    if engine is None:
        engine = require_google().Engine(project_id=project_id)
    device = engine.get_processor(processor_id).get_device()
    sampler = engine.get_sampler(processor_id)
    if isinstance(circuits, Circuit) and circuits.num_inputs and circuits.amplitude_encoding is None:
        if inputs is None:
            raise ValueError(f"the circuit has {circuits.num_inputs} inputs: pass inputs=")
        program, sweep = export_sweep(circuits, weights, inputs)
        programs, sweeps = [program], [sweep]
    else:
        programs, sweeps = resolved_batch(circuits, weights, inputs), None
    n = max(max((q.x for q in p.all_qubits() if isinstance(q, cirq.LineQubit)), default=-1) + 1
            for p in programs)
    if n == 0:
        raise ValueError("Google submission needs circuits on cirq.LineQubit qubits")
    measure = cirq.measure(*cirq.LineQubit.range(n), key=MEASUREMENT_KEY)
    compiled = [compile_for_google(cirq.drop_terminal_measurements(p) + measure, processor_id,
                                   gateset, device=device) for p in programs]
    if sweeps is not None:
        results = list(sampler.run_sweep(compiled[0].circuit, params=sweeps[0], repetitions=int(shots)))
    else:
        batches = sampler.run_batch([c.circuit for c in compiled], repetitions=int(shots))
        results = [r for batch in batches for r in batch]
    counts = _counts(results, n)
    job_ids = tuple(str(getattr(r, "job_id", "")) for r in results)
    return GoogleResult(processor_id, int(shots), counts / float(shots), counts, tuple(compiled), job_ids)

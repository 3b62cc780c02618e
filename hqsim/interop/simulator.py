"""hqsim as a Cirq simulator: expectation values, final states and samples, sweeps batched.

``HqsimSimulator`` is a drop-in for ``cirq.Simulator`` / ``qsimcirq.QSimSimulator`` in the
three interfaces Cirq users call most::

    sim = HqsimSimulator(seed=1)
    sim.simulate_expectation_values_sweep(circuit, observables, sweep)   # (B, n_obs) lists
    sim.simulate_sweep(circuit, sweep)                                   # final state vectors
    sim.run_sweep(circuit, sweep, repetitions=1000)                      # measurement samples

A sweep of B resolvers is one batched hqsim call, not B simulations: the Cirq circuit is
translated once, each distinct symbol becomes one column of hqsim's ``inputs`` (B, n_symbols)
(an angle that is not affine in one symbol gets a column of its own), and the resolvers fill
the rows. Samples are drawn from |ψ|² with a seeded ``numpy.random.Generator``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import api
from ..noise.shots import sample_basis_states
from ..ir import INPUT, Circuit, Param
from ._deps import cirq
from ._from_ops import affine, is_symbolic
from .cirq import observables_from_cirq, pauli_strings, translate


@dataclass(frozen=True)
class Program:
    """A Cirq circuit translated once for a fixed qubit order (reused across sweeps)."""

    circuit: Circuit
    columns: tuple  # sympy expression resolved into inputs[:, j]
    phase: tuple[Param, ...]  # global-phase angles, summed
    measurements: tuple  # (key, qubit indices, invert mask)
    qubits: tuple

    def inputs(self, resolvers) -> np.ndarray:
        """(B, len(columns)) float64: each column's value under each resolver."""
        names = [getattr(col, "name", None) for col in self.columns]
        rows = []
        for i, r in enumerate(resolvers):
            fast, row = r.param_dict, []
            for name, col in zip(names, self.columns):
                v = fast.get(name) if name is not None else None  # plain symbols by name
                row.append(v if type(v) in (float, int) else self._slow_value(r, i, col))
            rows.append(row)
        x = np.array(rows, dtype=np.float64).reshape(len(resolvers), len(self.columns))
        if not np.all(np.isfinite(x)):
            raise ValueError("a resolver gives a NaN or inf parameter value")
        return x

    @staticmethod
    def _slow_value(r, i: int, col) -> float:
        v = r.value_of(col)
        if is_symbolic(v):
            raise ValueError(f"unbound symbol(s) {sorted(map(str, v.free_symbols))} in {col}: "
                             f"resolver #{i} ({dict(r.param_dict)}) gives no value")
        try:
            return float(v)
        except TypeError as exc:
            raise ValueError(f"resolver #{i} gives {col} = {v!r}, not a real number") from exc

    def global_phase(self, x: np.ndarray) -> np.ndarray:
        """(B,) complex unit factors e^{i Σ phase angles} per sample."""
        total = np.zeros(x.shape[0])
        for p in self.phase:
            total += p.offset if p.is_constant else p.scale * x[:, p.index] + p.offset
        return np.exp(1j * total)


def build_program(program, qubits, initial_state=None) -> Program:
    """Translate ``program`` on ``qubits`` (hqsim qubit q = qubits[q])."""
    columns: dict = {}

    def param_for(expr):
        try:
            sym, scale, offset = affine(expr)
        except ValueError:  # not affine in one symbol: the expression gets its own column
            sym, scale, offset = expr, 1.0, 0.0
        return Param(INPUT, columns.setdefault(sym, len(columns)), scale, offset)

    b, measurements = translate(program, list(qubits), param_for)
    keys = [m[0] for m in measurements]
    if len(set(keys)) != len(keys):
        raise ValueError(f"repeated measurement keys {keys}: each key may be measured once")
    n = len(qubits)
    if n == 0:
        raise ValueError("the circuit acts on no qubits")
    circuit = Circuit(n, num_inputs=len(columns), num_weights=0)
    for q in range(n):  # computational-basis initial state, qubit 0 = most significant bit
        if (_basis_index(initial_state, n) >> (n - 1 - q)) & 1:
            circuit.x(q)
    for name, qs, params, matrix in b.gates:
        circuit.append(name, qs, params, matrix)
    return Program(circuit, tuple(columns), tuple(b.phase), tuple(measurements), tuple(qubits))


def _basis_index(initial_state, n: int) -> int:
    if initial_state is None:
        return 0
    if isinstance(initial_state, (int, np.integer)) and 0 <= initial_state < 2 ** n:
        return int(initial_state)
    raise ValueError(f"initial_state must be None or a basis-state index in [0, {2**n}) "
                     f"(qubit 0 most significant), got {initial_state!r}; state vectors are "
                     "not supported")


def _resolvers(params) -> list:
    """The sweep's ParamResolvers (a ListSweep's own list, without re-deriving each point)."""
    if isinstance(params, cirq.ListSweep):
        return list(params.resolver_list)
    return list(cirq.to_resolvers(params))


class HqsimSimulator(cirq.SimulatesExpectationValues, cirq.SimulatesFinalState, cirq.Sampler):
    """A Cirq simulator backed by hqsim's batched statevector backends.

    backend: hqsim backend name ("auto", "numba", "reference", ...); dtype: np.complex64
    (default, like cirq.Simulator) or np.complex128; seed: int, None or a numpy Generator for
    sampling and for the measurements of ``simulate``.
    """

    def __init__(self, *, backend: str = "auto", dtype=np.complex64, seed=None):
        self.backend = backend
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.complex64, np.complex128):
            raise ValueError(f"dtype must be np.complex64 or np.complex128, got {dtype!r}")
        self._rng = np.random.default_rng(seed)
        self._cache: dict = {}

    # -- shared -------------------------------------------------------------------------
    def _program(self, program, qubits, initial_state=None) -> Program:
        key = (program.freeze(), tuple(qubits), _basis_index(initial_state, len(qubits)))
        prog = self._cache.get(key)
        if prog is None:
            if len(self._cache) >= 8:
                self._cache.clear()
            prog = self._cache[key] = build_program(program, qubits, initial_state)
        return prog

    def _states(self, prog: Program, x: np.ndarray, phase: bool = True) -> np.ndarray:
        """(B, 2^n) final states of one batched call, with Cirq's global phase when asked."""
        psi = np.asarray(api.statevector(prog.circuit, x, np.zeros(0), backend=self.backend, dtype=self.dtype))
        return psi * prog.global_phase(x)[:, None] if phase and prog.phase else psi

    # -- cirq.SimulatesExpectationValues --------------------------------------------------
    def simulate_expectation_values_sweep(self, program, observables, params,
                                          qubit_order=cirq.QubitOrder.DEFAULT, initial_state=None,
                                          permit_terminal_measurements=False) -> list[list[float]]:
        """One batched hqsim call for all resolvers; returns B lists of n_obs floats."""
        obs = observables if isinstance(observables, list) else [observables]
        obs_qubits = {q for o in obs for ps in pauli_strings(o) for q in ps.qubits}
        qubits = cirq.QubitOrder.as_qubit_order(qubit_order).order_for(
            set(program.all_qubits()) | obs_qubits)
        prog = self._program(program, qubits, initial_state)
        if prog.measurements and not permit_terminal_measurements:
            raise ValueError("Provided circuit has terminal measurements, which may skew "
                             "expectation values. If this is intentional, set "
                             "permit_terminal_measurements=True.")
        split = observables_from_cirq(obs, qubits)
        resolvers = _resolvers(params)
        x = prog.inputs(resolvers)
        values = np.tile(np.array([c for _, c in split], dtype=np.float64), (len(resolvers), 1))
        active = [k for k, (o, _) in enumerate(split) if o is not None]
        if active and resolvers:
            out = api.expectation(prog.circuit, x, np.zeros(0), [split[k][0] for k in active],
                                  backend=self.backend, dtype=self.dtype)
            values[:, active] += np.asarray(out, dtype=np.float64)
        return values.tolist()

    def simulate_expectation_values_sweep_iter(self, program, observables, params,
                                               qubit_order=cirq.QubitOrder.DEFAULT,
                                               initial_state=None, permit_terminal_measurements=False):
        yield from self.simulate_expectation_values_sweep(
            program, observables, params, qubit_order, initial_state, permit_terminal_measurements)

    # -- cirq.SimulatesFinalState ----------------------------------------------------------
    def simulate_sweep(self, program, params, qubit_order=cirq.QubitOrder.DEFAULT, initial_state=None):
        return list(self.simulate_sweep_iter(program, params, qubit_order, initial_state))

    def simulate_sweep_iter(self, program, params, qubit_order=cirq.QubitOrder.DEFAULT,
                            initial_state=None):
        """Final states of one batched call; terminal measurements are sampled once and the
        state is projected onto the outcome (as ``cirq.Simulator`` does)."""
        qubits = cirq.QubitOrder.as_qubit_order(qubit_order).order_for(program.all_qubits())
        prog = self._program(program, qubits, initial_state)
        resolvers = _resolvers(params)
        if not resolvers:
            return
        states = self._states(prog, prog.inputs(resolvers))
        for r, psi in zip(resolvers, states):
            measurements = {}
            if prog.measurements:
                measurements, psi = self._collapse(psi, prog)
            sim_state = cirq.StateVectorSimulationState(
                qubits=list(qubits), initial_state=psi.astype(self.dtype), dtype=self.dtype)
            yield cirq.StateVectorTrialResult(params=r, measurements=measurements,
                                              final_simulator_state=sim_state)

    def _collapse(self, psi: np.ndarray, prog: Program):
        n = len(prog.qubits)
        idx = int(self._sample((np.abs(psi) ** 2)[None, :], 1)[0, 0])
        keep = np.ones(psi.shape[0], dtype=bool)
        basis = np.arange(psi.shape[0])
        measurements = {}
        for key, qs, invert in prog.measurements:
            bits = [(idx >> (n - 1 - q)) & 1 for q in qs]
            for q, bit in zip(qs, bits):
                keep &= ((basis >> (n - 1 - q)) & 1) == bit
            measurements[key] = np.array([b ^ int(i) for b, i in zip(bits, invert)], dtype=np.uint8)
        out = np.where(keep, psi, 0)
        return measurements, out / np.linalg.norm(out)

    # -- cirq.Sampler ------------------------------------------------------------------------
    def _sample(self, probs: np.ndarray, repetitions: int) -> np.ndarray:
        """(B, repetitions) basis indices drawn i.i.d. from each row of ``probs`` (B, 2^n):
        multinomial counts per row, expanded and shuffled (vectorised over the batch)."""
        return sample_basis_states(probs, repetitions, self._rng)

    def run_sweep(self, program, params, repetitions: int = 1) -> list[cirq.Result]:
        """Samples of the terminal measurements, ``repetitions`` per resolver (one batched
        state-vector call for the whole sweep)."""
        if isinstance(repetitions, bool) or not isinstance(repetitions, (int, np.integer)) or repetitions < 0:
            raise ValueError(f"repetitions must be a non-negative int, got {repetitions!r}")
        qubits = cirq.QubitOrder.DEFAULT.order_for(program.all_qubits())
        prog = self._program(program, qubits)
        resolvers = _resolvers(params)
        if not prog.measurements or not resolvers:
            return [cirq.ResultDict(params=r, measurements={}) for r in resolvers]
        samples = self._sample(np.abs(self._states(prog, prog.inputs(resolvers), phase=False)) ** 2,
                               repetitions)
        n, results = len(qubits), []
        for r, idx in zip(resolvers, samples):
            meas = {key: ((idx[:, None] >> (n - 1 - np.array(qs))) & 1).astype(np.int8)
                    ^ np.array(inv, dtype=np.int8) for key, qs, inv in prog.measurements}
            results.append(cirq.ResultDict(params=r, measurements=meas))
        return results

    async def run_sweep_async(self, program, params, repetitions: int = 1):
        return self.run_sweep(program, params, repetitions)

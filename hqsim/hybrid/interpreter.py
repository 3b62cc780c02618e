"""Run a hybrid program: classical parts in Python, quantum parts on a NumPy statevector.

The quantum state is one complex128 statevector (qubit 0 = most significant bit) stepped gate by
gate with ``hqsim.backends.reference.apply_matrix``; measurement and reset sample with a seeded
NumPy generator and collapse the state. ``run`` executes one shot; ``output_distribution`` (in
``distribution``) enumerates measurement outcomes exactly instead of sampling.

Inputs not given are 0. Outputs are the variables with role ``output`` (arrays as tuples).
The trace records, per executed instruction, its kind (quantum / classical / hybrid) and cost
category for ``metrics``; a conditional branch is hybrid when its condition reads a value that
came from a measurement (tracked dynamically), classical otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backends.reference import apply_matrix
from .errors import HybridRuntimeError, StepLimit
from .exprs import as_index, coerce, evaluate
from .gateset import gate_matrix
from .ir import Assign, GateOp, Halt, Jump, Kind, Program, Reset, instruction_kind, refs
from .limits import check_state_memory

FORK = object()  # returned by a decider to stop at a measurement (exact enumeration)
PROGRESS_EVERY = 1 << 16  # steps between calls of a Machine's on_progress


@dataclass(frozen=True)
class RunResult:
    """One shot: ``outputs`` by name, the final ``state`` (2**num_qubits complex128, not copied
    elsewhere), the ``trace`` of (Kind, category) events, and the number of ``steps``."""

    outputs: dict
    state: np.ndarray
    trace: tuple
    steps: int


class _State:
    __slots__ = ("label", "pc", "env", "psi", "taint", "trace", "steps", "prob")

    def copy(self) -> "_State":
        s = _State()
        s.label, s.pc, s.steps, s.prob = self.label, self.pc, self.steps, self.prob
        s.env = {k: (list(v) if isinstance(v, list) else v) for k, v in self.env.items()}
        s.psi = self.psi.copy()
        s.taint = {k: set(v) for k, v in self.taint.items()}
        s.trace = None if self.trace is None else list(self.trace)
        return s


def initial_env(program: Program, inputs) -> dict:
    """Variables at program start: inputs from ``inputs`` (default 0), everything else 0."""
    inputs = dict(inputs or {})
    unknown = set(inputs) - set(program.inputs)
    if unknown:
        raise HybridRuntimeError(f"unknown input(s) {sorted(unknown)}; the program's inputs are "
                                 f"{list(program.inputs) or 'none'}")
    env = {}
    for v in program.variables:
        value = inputs.get(v.name)
        if v.size is None:
            env[v.name] = coerce(v.type, value) if value is not None else v.zero
            continue
        if value is None:
            env[v.name] = [v.zero] * v.size
            continue
        vals = list(np.asarray(value).reshape(-1).tolist())
        if len(vals) != v.size:
            raise HybridRuntimeError(f"input {v.name!r} needs {v.size} values, got {len(vals)}")
        env[v.name] = [coerce(v.type, x) for x in vals]
    return env


class Machine:
    """Executes a program from a state until it halts or a decider returns ``FORK``."""

    def __init__(self, program: Program, max_steps: int = 1_000_000, on_progress=None):
        """``on_progress(steps)`` (optional) is called every PROGRESS_EVERY steps of a run."""
        check_state_memory(program.num_qubits)
        self.program = program
        self.n = program.num_qubits
        self.max_steps = max_steps
        self.on_progress = on_progress
        self._blocks = program.block_map
        self._mats: dict = {}
        self._kinds = {}
        for ins in program.instructions():
            self._kinds[id(ins)] = instruction_kind(ins)

    def start(self, inputs, record_trace: bool) -> _State:
        s = _State()
        s.label, s.pc, s.steps, s.prob = self.program.entry, 0, 0, 1.0
        s.env = initial_env(self.program, inputs)
        s.psi = np.zeros(2 ** self.n, dtype=np.complex128)
        s.psi[0] = 1.0
        s.taint = {}
        s.trace = [] if record_trace else None
        return s

    # -- values ------------------------------------------------------------------------
    def _lookup(self, env):
        var_map = self.program.var_map

        def lookup(name, idx):
            v = env[name]
            if idx is None:
                if isinstance(v, list):
                    return sum(int(b) << k for k, b in enumerate(v))
                return v
            if not 0 <= idx < len(v):
                raise HybridRuntimeError(f"index {idx} out of range for {name}[{var_map[name].size}]")
            return v[idx]
        return lookup

    def _store(self, st: _State, target, value, tainted: bool) -> None:
        decl = self.program.var_map[target.name]
        value = coerce(decl.type, value)
        if target.index is None:
            st.env[target.name] = value
            key = None
        else:
            key = as_index(evaluate(target.index, self._lookup(st.env)))
            if not 0 <= key < decl.size:
                raise HybridRuntimeError(f"index {key} out of range for {target.name}[{decl.size}]")
            st.env[target.name][key] = value
        marks = st.taint.setdefault(target.name, set())
        (marks.add if tainted else marks.discard)(key)

    def _tainted(self, st: _State, expr) -> bool:
        for r in refs(expr):
            marks = st.taint.get(r.name)
            if not marks:
                continue
            if r.index is None or None in marks:
                return True
            if as_index(evaluate(r.index, self._lookup(st.env))) in marks:
                return True
        return False

    # -- quantum -----------------------------------------------------------------------
    def _apply_gate(self, st: _State, g: GateOp) -> None:
        mat = self._mats.get(g)
        if mat is None:
            lookup = self._lookup(st.env)
            angles = [float(evaluate(p, lookup)) for p in g.params]
            mat = gate_matrix(g.name, angles)
            if self._kinds[id(g)] is Kind.QUANTUM:
                self._mats[g] = mat
        st.psi = apply_matrix(st.psi[None, :], mat, g.qubits, self.n)[0]

    def prob_one(self, st: _State, q: int) -> float:
        t = st.psi.reshape(2 ** q, 2, -1)
        return float(np.sum(np.abs(t[:, 1, :]) ** 2))

    def collapse(self, st: _State, q: int, outcome: int, p: float) -> None:
        t = st.psi.reshape(2 ** q, 2, -1).copy()
        t[:, 1 - outcome, :] = 0.0
        st.psi = (t / np.sqrt(p)).reshape(-1)
        st.prob *= p

    def finish_measure(self, st: _State, ins, outcome: int, p: float) -> None:
        """Apply a measurement or reset outcome (probability ``p``) and move past it."""
        self.collapse(st, ins.qubit, outcome, p)
        if isinstance(ins, Reset):
            if outcome:
                st.psi = apply_matrix(st.psi[None, :], gate_matrix("X", ()), (ins.qubit,), self.n)[0]
            self._record(st, Kind.HYBRID, "reset")
        else:
            if ins.target is not None:
                self._store(st, ins.target, outcome, tainted=True)
            self._record(st, self._kinds[id(ins)], "measure")
        st.pc += 1

    def _record(self, st: _State, kind: Kind, category: str) -> None:
        if st.trace is not None:
            st.trace.append((kind, category))

    # -- the loop ----------------------------------------------------------------------
    def execute(self, st: _State, decide):
        """Run until ``Halt`` (returns None) or a measurement where ``decide(p1)`` returned
        ``FORK`` (returns the probability of outcome 1; ``st.pc`` stays on that instruction).
        A HybridRuntimeError gets the ``loc`` of the instruction or branch that raised it."""
        try:
            return self._execute(st, decide)
        except HybridRuntimeError as exc:
            if exc.loc is None and not isinstance(exc, StepLimit):
                block = self._blocks[st.label]
                at = block.instructions[st.pc] if st.pc < len(block.instructions) else block.terminator
                exc.loc = getattr(at, "loc", None)
            raise

    def _execute(self, st: _State, decide):
        block = self._blocks[st.label]
        while True:
            instrs = block.instructions
            while st.pc < len(instrs):
                self._step(st)
                ins = instrs[st.pc]
                if isinstance(ins, GateOp):
                    self._apply_gate(st, ins)
                    self._record(st, self._kinds[id(ins)], f"gate{min(len(ins.qubits), 3)}")
                elif isinstance(ins, Assign):
                    value = evaluate(ins.value, self._lookup(st.env))
                    self._store(st, ins.target, value, self._tainted(st, ins.value))
                    self._record(st, Kind.CLASSICAL, "classical")
                else:  # Measure or Reset
                    p1 = min(max(self.prob_one(st, ins.qubit), 0.0), 1.0)
                    if p1 < 1e-14 or p1 > 1 - 1e-14:
                        outcome = int(p1 > 0.5)
                    else:
                        outcome = decide(p1)
                        if outcome is FORK:
                            st.steps -= 1
                            return p1
                    self.finish_measure(st, ins, outcome, p1 if outcome else 1.0 - p1)
                    continue
                st.pc += 1
            term = block.terminator
            if isinstance(term, Halt):
                return None
            if isinstance(term, Jump):
                nxt = term.target
                self._record(st, Kind.CLASSICAL, "jump")
            else:
                value = evaluate(term.cond, self._lookup(st.env))
                kind = Kind.HYBRID if self._tainted(st, term.cond) else Kind.CLASSICAL
                self._record(st, kind, "branch")
                nxt = term.if_true if value else term.if_false
            self._step(st)
            st.label, st.pc = nxt, 0
            block = self._blocks[nxt]

    def _step(self, st: _State) -> None:
        st.steps += 1
        if st.steps > self.max_steps:
            raise StepLimit(self.max_steps)
        if self.on_progress is not None and st.steps % PROGRESS_EVERY == 0:
            self.on_progress(st.steps)

    def outputs(self, st: _State) -> dict:
        out = {}
        for name in self.program.outputs:
            v = st.env[name]
            out[name] = tuple(v) if isinstance(v, list) else v
        return out


def run(program: Program, inputs=None, *, seed=None, max_steps: int = 1_000_000,
        record_trace: bool = True, on_progress=None) -> RunResult:
    """Execute one shot. ``seed`` (int or ``numpy.random.Generator``) drives measurement
    sampling; the program is not modified. StepLimit past ``max_steps`` steps; ``on_progress``
    as for Machine."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    machine = Machine(program, max_steps, on_progress)
    st = machine.start(inputs, record_trace)
    machine.execute(st, lambda p1: int(rng.random() < p1))
    return RunResult(machine.outputs(st), st.psi, tuple(st.trace or ()), st.steps)


def output_key(outputs: dict) -> tuple:
    """A hashable, ordered form of an outputs dict."""
    return tuple(sorted(outputs.items()))


def sample_outputs(program: Program, inputs=None, shots: int = 100, seed=None) -> dict:
    """Empirical output distribution over ``shots`` seeded runs: {output key: frequency}."""
    rng = np.random.default_rng(seed)
    counts: dict = {}
    for _ in range(shots):
        key = output_key(run(program, inputs, seed=rng, record_trace=False).outputs)
        counts[key] = counts.get(key, 0) + 1
    return {k: c / shots for k, c in counts.items()}


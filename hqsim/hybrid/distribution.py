"""Exact output distributions by enumerating measurement outcomes, and distances between them.

``output_distribution`` runs the interpreter depth-first, forking the state at every measurement
or reset whose outcome is not certain. Paths below ``min_probability`` are dropped and counted in
``missing`` (so repeat-until-success loops terminate); more than ``max_paths`` completed paths
raises ``HybridRuntimeError`` (fall back to ``sample_outputs``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import HybridRuntimeError
from .interpreter import FORK, Machine, output_key
from .ir import Program


@dataclass(frozen=True)
class Distribution:
    """``probs``: {output key: probability}; ``missing``: probability mass not explored."""

    probs: dict
    missing: float = 0.0

    def __repr__(self):
        items = ", ".join(f"{k}: {p:.6g}" for k, p in sorted(self.probs.items(), key=str))
        return f"Distribution({{{items}}}, missing={self.missing:.3g})"


def output_distribution(program: Program, inputs=None, *, max_paths: int = 20_000,
                        min_probability: float = 1e-10, max_steps: int = 1_000_000) -> Distribution:
    machine = Machine(program, max_steps)
    stack = [machine.start(inputs, record_trace=False)]
    probs: dict = {}
    missing, paths = 0.0, 0
    while stack:
        st = stack.pop()
        p1 = machine.execute(st, lambda _p: FORK)
        if p1 is None:
            paths += 1
            if paths > max_paths:
                raise HybridRuntimeError(f"more than {max_paths} measurement paths; use sampling")
            key = output_key(machine.outputs(st))
            probs[key] = probs.get(key, 0.0) + st.prob
            continue
        ins = machine._blocks[st.label].instructions[st.pc]
        for outcome, p in ((0, 1.0 - p1), (1, p1)):
            if st.prob * p < min_probability:
                missing += st.prob * p
                continue
            branch = st.copy()
            machine.finish_measure(branch, ins, outcome, p)
            stack.append(branch)
    return Distribution(probs, missing)


def _close(a, b, tol) -> bool:
    if isinstance(a, tuple) and not isinstance(b, tuple) and len(a) == 1:
        a = a[0]  # a one-element array equals a scalar (Quil declares BIT[1] as BIT)
    if isinstance(b, tuple) and not isinstance(a, tuple) and len(b) == 1:
        b = b[0]
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b)
                and all(_close(x, y, tol) for x, y in zip(a, b)))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
    return a == b


def keys_match(ka: tuple, kb: tuple, tol: float = 1e-9) -> bool:
    """Output keys equal up to float tolerance (names must match exactly)."""
    return len(ka) == len(kb) and all(na == nb and _close(va, vb, tol)
                                      for (na, va), (nb, vb) in zip(ka, kb))


def total_variation(a: dict, b: dict, tol: float = 1e-9) -> float:
    """Total-variation distance between two {key: probability} maps, matching float outputs
    within ``tol`` (so re-associated float arithmetic does not split a key)."""
    merged: list[list] = []  # [key, pa, pb]
    for which, dist in ((1, a), (2, b)):
        for key, p in dist.items():
            for row in merged:
                if keys_match(row[0], key, tol):
                    row[which] += p
                    break
            else:
                row = [key, 0.0, 0.0]
                row[which] = p
                merged.append(row)
    return 0.5 * sum(abs(pa - pb) for _, pa, pb in merged)

"""The stated limits of the hybrid-program tools, one place for each number, and the checks
that enforce them with a message instead of a crash.

- Nesting: parsers, passes, printers and the interpreter walk expressions and blocks
  recursively, so a 300-term sum or 50 nested ``if`` exceed Python's default 1,000 frames.
  ``run_deep`` runs such work on a thread with a ``DEEP_STACK_BYTES`` stack and a recursion
  limit of ``DEEP_RECURSION_LIMIT`` frames; past that a ``NestingTooDeep`` names the limit.
  Measured: 2,000 nested ``if`` blocks and chains of ``MAX_NESTING`` binary operators
  (``a + a + ... + a``) compile, 20,000 nested blocks are refused cleanly (5,000-term sums in
  tests/hybrid/test_hybrid_limits.py).
- Qubits: a program may use ``MAX_QUBITS`` qubits (the passes and printers are linear in
  them; a register of 1e8 qubits took a minute and gigabytes before anything was checked).
- Classical memory: the interpreter keeps every array element in a Python list slot of
  ``CLASSICAL_ELEMENT_BYTES``; a program may declare ``MAX_CLASSICAL_ELEMENTS`` elements in all.
- Steps: one interpreted run (a shot) may take ``SHOT_STEPS`` steps; all the runs behind one
  command's metrics (every stage, shot and timing run) ``METRIC_STEPS`` together, after which
  the remaining metrics are skipped with a note (``metrics.StepBudget``, which also reports
  progress on long runs).
- Simulation: the interpreter's statevector needs 16·2^n bytes. The metrics simulate only a
  program of at most ``SIM_MAX_QUBITS`` qubits whose state also fits in half the available
  memory; otherwise only the static metrics are reported, with a note (``simulation_budget``).
"""
from __future__ import annotations

import sys
import threading

from ..ir.validate import available_memory_bytes
from .errors import HybridError

DEEP_STACK_BYTES = 1 << 30          # virtual; pages are touched only as deep as a walk goes
DEEP_RECURSION_LIMIT = 200_000
MAX_NESTING = 5_000                 # levels the tests check compile within the limit above
MAX_QUBITS = 1 << 20                # 1,048,576
MAX_CLASSICAL_ELEMENTS = 1 << 24    # 16,777,216 elements = 128 MiB of list slots
CLASSICAL_ELEMENT_BYTES = 8
SHOT_STEPS = 1_000_000             # interpreter steps of one run (a shot) before StepLimit
METRIC_STEPS = 5_000_000           # steps one command may spend on all its metrics runs (~20 s)
SIM_MAX_QUBITS = 24                 # 16 * 2^24 bytes = 256 MiB of complex128 state
STATE_BYTES_PER_AMPLITUDE = 16


class NestingTooDeep(HybridError):
    """A program nested (blocks, parentheses, operator chains) past ``DEEP_RECURSION_LIMIT``."""


class TooLarge(HybridError):
    """A declaration larger than a stated limit; the message gives the bytes."""


def run_deep(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` on a thread with a large stack and recursion limit (see the
    module docstring); its result, or its exception re-raised here. A RecursionError becomes
    NestingTooDeep. Ctrl-C interrupts the wait (the worker is a daemon thread)."""
    outcome: dict = {}

    def work():
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            outcome["error"] = exc

    old_limit, old_stack = sys.getrecursionlimit(), threading.stack_size()
    sys.setrecursionlimit(max(old_limit, DEEP_RECURSION_LIMIT))  # before the thread exists
    try:
        threading.stack_size(DEEP_STACK_BYTES)
        worker = threading.Thread(target=work, name="hqsim-deep", daemon=True)
        worker.start()
        threading.stack_size(old_stack)
        worker.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    error = outcome.get("error")
    if isinstance(error, RecursionError):
        raise NestingTooDeep(f"the program is nested too deeply (blocks, parentheses or a chain "
                             f"of operators more than about {MAX_NESTING:,} levels deep)") from None
    if error is not None:
        raise error
    return outcome["value"]


def check_qubits(count: int, what: str) -> None:
    """TooLarge when a program would use more than MAX_QUBITS qubits."""
    if count > MAX_QUBITS:
        raise TooLarge(f"{what}: {count:,} qubits; hqsim compile handles at most {MAX_QUBITS:,}")


def check_classical_size(name: str, size: int | None, declared: int) -> int:
    """Elements of declaring ``name`` with ``size`` (None: a scalar) after ``declared`` others;
    TooLarge, giving the bytes, past MAX_CLASSICAL_ELEMENTS."""
    n = 1 if size is None else size
    if declared + n > MAX_CLASSICAL_ELEMENTS:
        raise TooLarge(f"{name}[{n:,}] needs {n * CLASSICAL_ELEMENT_BYTES:,} bytes of classical memory "
                       f"({CLASSICAL_ELEMENT_BYTES} per element{', after ' + format(declared, ',') + ' elements declared before' if declared else ''}); "
                       f"the limit is {MAX_CLASSICAL_ELEMENTS:,} elements "
                       f"({MAX_CLASSICAL_ELEMENTS * CLASSICAL_ELEMENT_BYTES:,} bytes)")
    return declared + n


def check_state_memory(num_qubits: int) -> None:
    """The interpreter's guard: TooLarge, with the bytes, when a statevector of ``num_qubits``
    qubits cannot fit in the available memory."""
    free = available_memory_bytes()
    if num_qubits > 60 or STATE_BYTES_PER_AMPLITUDE << num_qubits > free:
        raise TooLarge(f"running {num_qubits:,} qubits needs {state_bytes_text(num_qubits)} of "
                       f"statevector; {_bytes(free)} are available")


def simulation_budget(num_qubits: int) -> str | None:
    """None if a statevector of ``num_qubits`` qubits is within the budget, else why not."""
    if num_qubits > SIM_MAX_QUBITS:
        return (f"simulation skipped: {num_qubits:,} qubits need {state_bytes_text(num_qubits)} of "
                f"state; the budget is {SIM_MAX_QUBITS} qubits ({state_bytes_text(SIM_MAX_QUBITS)})")
    need = STATE_BYTES_PER_AMPLITUDE << num_qubits
    free = available_memory_bytes()
    if 2 * need > free:
        return (f"simulation skipped: {num_qubits} qubits need {_bytes(need)} of state, more than "
                f"half the {_bytes(free)} available")
    return None


def state_bytes_text(num_qubits: int) -> str:
    """The bytes of a complex128 statevector of ``num_qubits`` qubits, in words."""
    if num_qubits > 60:
        return f"16 x 2^{num_qubits:,} bytes"
    return _bytes(STATE_BYTES_PER_AMPLITUDE << num_qubits)


def _bytes(n: int) -> str:
    return f"{n:,} bytes" if n < 1 << 30 else f"{n:,} bytes ({n / 2**30:,.0f} GiB)"

"""How the Numba backend's functions are compiled: one set of options and three decorators.

- ``jit``: the default (cached, no GIL, fast math, no bounds checks).
- ``jit_inline``: small helpers called per lane or per factor, inlined into their callers
  (Numba IR inlining) so that no call boundary sits inside a per-lane loop.
- ``jit_borrowing``: functions that only read and write arrays they are given (no allocation,
  no array returned or kept), compiled without Numba's reference counting. Every call of an
  ordinary njit function increfs and decrefs each array it receives, members of namedtuples
  included, with atomic instructions; with the program, the call and the scratch passed as
  three structures (numba_cpu) those atomics took 39 % of a W1 Q=10 training step (perf,
  NRT_incref/NRT_decref), 22 % with the earlier 26-argument calls.
- ``jit_noalias``: lane kernels whose array arguments never overlap, declared so to LLVM.

The last two set Numba-internal flags (``Flags.nrt``, ``Flags.noalias``) through the
dispatcher's flag hook, as Numba has no public option; where this Numba lacks the hook they
fall back to a plain ``jit`` (correct, slower; HAVE_FLAG_HOOK False, and a test fails so the
slowdown shows). pyproject pins Numba to the tested range.
"""
from __future__ import annotations

from numba import njit
from numba.core import compiler as numba_compiler

# _nrt=True is set explicitly: Numba otherwise inherits the caller's reference counting, and
# a function called from a borrowing one would be compiled without it (and could not allocate).
JIT_OPTIONS = dict(cache=True, nogil=True, fastmath=True, boundscheck=False, _nrt=True)


def _has_flag_hook() -> bool:
    probe = njit(lambda: 0)
    flags = numba_compiler.Flags
    return (hasattr(flags, "noalias") and hasattr(flags, "nrt")
            and hasattr(getattr(probe, "_compiler", None), "_customize_flags"))


HAVE_FLAG_HOOK = _has_flag_hook()


def jit(func=None, **options):
    """``njit`` with the backend's options (``jit`` or ``jit(parallel=True)``)."""
    if func is None:
        return lambda f: njit(**dict(JIT_OPTIONS, **options))(f)
    return njit(**JIT_OPTIONS)(func)


def jit_inline(func):
    return njit(inline="always", **JIT_OPTIONS)(func)


def _with_flags(func, options=None, **values):
    dispatcher = njit(**dict(JIT_OPTIONS, **(options or {})))(func)
    if not HAVE_FLAG_HOOK:
        return dispatcher
    compiler = dispatcher._compiler
    customize = compiler._customize_flags

    def customized(flags):
        flags = customize(flags)
        for name, value in values.items():
            setattr(flags, name, value)
        return flags
    compiler._customize_flags = customized
    return dispatcher


def jit_borrowing(func=None, **options):
    """Compiled without reference counting: ``func`` must not allocate arrays, return an array
    or store one anywhere that outlives the call (views of its arguments are fine)."""
    if func is None:
        return lambda f: _with_flags(f, options, nrt=False)
    return _with_flags(func, nrt=False)


def jit_noalias(func):
    """Array arguments declared non-aliasing to LLVM. Without it LLVM must prove at run time
    that the arrays a lane loop reads and writes do not overlap: the checks cost more than a
    16-lane loop when a pass has short inner loops (apply_1q on qubit Q-1: 20 vs 3.6 us at
    Q=10, 16 lanes), and a loop that writes several arrays needs more checks than the
    vectoriser allows and stays scalar (the fused adjoint pass ran 3x slower than three
    separate passes). Only for functions whose array arguments are always distinct arrays."""
    return _with_flags(func, noalias=True)


def _flags_of(dispatcher):
    flags = numba_compiler.Flags()
    flags.nrt = True  # as njit sets it before the hook runs
    return dispatcher._compiler._customize_flags(flags)


def is_noalias(dispatcher) -> bool:
    return bool(_flags_of(dispatcher).noalias)


def is_borrowing(dispatcher) -> bool:
    return not _flags_of(dispatcher).nrt

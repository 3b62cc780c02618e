"""Two threads inside one Numba parallel region, synchronised by a spin barrier on an int64
array (numba_drivers' split path: both cores on one group of LANES samples).

Numba has no atomics on the CPU; these intrinsics emit LLVM's atomic load, store and
compare-and-swap (sequentially consistent, so every state write before a barrier is visible to
the other thread after it), x86's ``pause`` in the spin loop, and ``sched_yield`` after a
while (a partner descheduled by another process then gets the core back sooner).

``sync`` layout (int64, SYNC_SIZE entries; the two threads' flags on separate cache lines):
FLAG0 / FLAG1 each thread's barrier count, STATE the region's mode (0 undecided, JOINED: two
threads run, SOLO: the first thread ran everything), ARRIVE the roles handed out, BUDGET how
many spins the first thread waits for the second (new_sync).
"""
from __future__ import annotations

import ctypes
import platform

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .numba_jit import jit_inline

FLAG0, FLAG1, STATE, ARRIVE, BUDGET = 0, 16, 32, 48, 49
SYNC_SIZE = 64
JOINED, SOLO = 1, 2
# Spins (x86 pause: ~60 ns each on Zen 2) of the first thread waiting for the second to enter
# the region before it runs alone. A parked OpenMP worker wakes in tens of microseconds on a
# quiet core; a partner that has not started by then (a busy machine) is not waited for:
# running alone is correct and costs one thread's time, while waiting costs both.
ARRIVAL_SPINS = 2_000
_YIELD_AFTER = 4096  # spins in a barrier before each further spin also yields the core

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")

_libc = ctypes.CDLL(None)
# By name, so that cached machine code links to this process's sched_yield.
llvm.add_symbol("hqsim_sched_yield", ctypes.cast(_libc.sched_yield, ctypes.c_void_p).value)


def _slot_pointer(context, builder, arrty, arr, idx):
    ary = context.make_array(arrty)(context, builder, arr)
    return cgutils.get_item_pointer(context, builder, arrty, ary, [idx])


@intrinsic
def atomic_load(typingctx, arr, idx):
    """arr[idx], an atomic (sequentially consistent) load of an int64 array entry."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        ptr = _slot_pointer(context, builder, sig.args[0], args[0], args[1])
        return builder.load_atomic(ptr, "seq_cst", 8)
    return types.int64(arr, idx), codegen


@intrinsic
def atomic_store(typingctx, arr, idx, val):
    """arr[idx] = val, atomically (sequentially consistent)."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        ptr = _slot_pointer(context, builder, sig.args[0], args[0], args[1])
        value = context.cast(builder, args[2], sig.args[2], types.int64)
        builder.store_atomic(value, ptr, "seq_cst", 8)
        return context.get_dummy_value()
    return types.void(arr, idx, val), codegen


@intrinsic
def atomic_cas(typingctx, arr, idx, expected, new):
    """arr[idx]'s old value; it becomes ``new`` if it was ``expected`` (one atomic step)."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        ptr = _slot_pointer(context, builder, sig.args[0], args[0], args[1])
        exp = context.cast(builder, args[2], sig.args[2], types.int64)
        val = context.cast(builder, args[3], sig.args[3], types.int64)
        res = builder.cmpxchg(ptr, exp, val, "seq_cst", "seq_cst")
        return builder.extract_value(res, 0)
    return types.int64(arr, idx, expected, new), codegen


@intrinsic
def atomic_add(typingctx, arr, idx, val):
    """arr[idx]'s old value, then arr[idx] += val (one atomic step)."""
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64):
        return None

    def codegen(context, builder, sig, args):
        ptr = _slot_pointer(context, builder, sig.args[0], args[0], args[1])
        value = context.cast(builder, args[2], sig.args[2], types.int64)
        return builder.atomic_rmw("add", ptr, value, "seq_cst")
    return types.int64(arr, idx, val), codegen


@intrinsic
def spin_pause(typingctx):
    """x86 ``pause`` (a spin-wait hint; nothing elsewhere)."""
    def codegen(context, builder, sig, args):
        if _X86:  # an LLVM intrinsic: Numba's JIT has no inline-assembly parser
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                                "llvm.x86.sse2.pause")
            builder.call(fn, [])
        return context.get_dummy_value()
    return types.void(), codegen


@intrinsic
def yield_core(typingctx):
    """sched_yield()."""
    def codegen(context, builder, sig, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []),
                                            "hqsim_sched_yield")
        builder.call(fn, [])
        return context.get_dummy_value()
    return types.void(), codegen


@jit_inline
def _spin(spins):
    spin_pause()
    if spins > _YIELD_AFTER and (spins & 255) == 0:
        yield_core()


@jit_inline
def barrier(sync, me, count):
    """Thread ``me`` (0 or 1) has done its count-th barrier: wait until the other has too.
    Each thread counts its own barriers; both pass the same sequence of them."""
    atomic_store(sync, FLAG1 if me else FLAG0, count)
    other = FLAG0 if me else FLAG1
    spins = 0
    while atomic_load(sync, other) < count:
        spins += 1
        _spin(spins)


def new_sync(arrival_spins: int | None = None):
    """A zeroed sync array for one region; the first thread waits ``arrival_spins`` (default
    ARRIVAL_SPINS) for the second."""
    sync = np.zeros(SYNC_SIZE, np.int64)
    sync[BUDGET] = ARRIVAL_SPINS if arrival_spins is None else arrival_spins
    return sync


@jit_inline
def join(sync):
    """Called once by each of the region's two iterations: the parts (p_lo, p_hi) of two this
    thread runs. The first to arrive takes part 0; it waits up to sync[BUDGET] spins for a
    second, then claims both parts alone (0, 2). A second arriving in time takes part 1 and the
    first keeps part 0 only; one arriving after the first claimed both gets none (1, 1). Never
    waits on a thread that may not exist: with one thread the iterations run one after the
    other, and the first finds no partner and runs alone."""
    role = atomic_add(sync, ARRIVE, 1)
    if role == 1:  # the first took part 0 and waits for this one, or has claimed both
        if atomic_cas(sync, STATE, 0, JOINED) == 0:
            return 1, 2
        return 1, 1
    if role > 1:
        return 1, 1
    spins = 0
    while spins < sync[BUDGET] and atomic_load(sync, STATE) == 0:
        spins += 1
        spin_pause()
    if atomic_cas(sync, STATE, 0, SOLO) == 0:
        return 0, 2
    return 0, 1

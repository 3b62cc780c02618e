"""Where a W1 forward and adjoint spend their time on the Numba backend, per step, measured
inside the walk: a copy of numba_drivers' one-thread walks (whole passes, no split) that reads
the CPU's cycle counter (llvm.readcyclecounter: the TSC on x86) around every unit, over the
groups of one call, best of ``--rounds`` rounds per unit.

Micro-benchmarks of single kernels called from Python misled before: NumPy allocates large
arrays 16 bytes past a page (the backend's own are 64-byte aligned) and a random non-unitary
matrix drives a repeated pass into subnormal floats; here every pass runs on the backend's
own arrays, inside the walk, on its real data. The walks below must follow numba_drivers'
(_run_forward, _adjoint_part) for one thread and parts 1; they time, they are not the backend.

    python bench/walk_profile_cpu.py --qubits 14 --batch 64
"""
from __future__ import annotations

import argparse
import time

import numba
import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import cgutils, types
from numba.extending import intrinsic


@intrinsic
def _cycles(typingctx):
    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(64), []),
                                            "llvm.readcyclecounter")
        return builder.call(fn, [])
    return types.uint64(), codegen


def _walks():
    from hqsim.backends import numba_drivers as D
    from hqsim.backends import numba_lane_kernels as lk
    from hqsim.backends import numba_observables as obs
    from hqsim.backends.numba_drivers import FOLDED, LANES
    from hqsim.backends.numba_op_steps import apply_op, apply_op_gathered, undo_1q_op
    from hqsim.backends.numba_product import product_adjoint, product_forward
    from hqsim.program import OP_CXU1, OP_PERM, OP_U1

    @njit(nogil=True)
    def forward(p, batch, b0, re, im, sre, sim, og, cyc):
        """cyc[u] += cycles of unit u; cyc[-2] the product prefix, cyc[-1] the observables."""
        n = 1 << p.num_qubits
        s = D._scratch(p, batch.proto)
        t = _cycles()
        product_forward(p, batch, s, b0, re, im)
        cyc[-2] += _cycles() - t
        for u in range(p.units.shape[0]):
            if p.in_prefix[u]:
                continue
            i = p.units[u, 0]
            kind = p.ops[i, 0]
            fold = p.fold[i]
            if fold == FOLDED:
                continue
            t = _cycles()
            if fold >= 0:
                apply_op_gathered(p, batch, s, i, b0, re, im, p.fold_rows[fold], sre, sim)
                re, sre, im, sim = sre, re, sim, im
            elif kind == OP_PERM:
                lk.gather_rows(re, im, n, p.perms[p.ops[i, 3]], sre, sim, 0, n)
                re, sre, im, sim = sre, re, sim, im
            else:
                apply_op(p, batch, s, i, b0, re, im, False, 0, 1, 1)
            cyc[u] += _cycles() - t
        t = _cycles()
        lk.pauli_expectations(re, im, n, p.terms, p.term_coeff, og, np.zeros(LANES), np.zeros(LANES), 0, n)
        obs.diagonal_expectations(re, im, p.diag_k, p.diag_signs, p.diag_terms, p.diag_hmasks, p.diag_coeff, og,
                                  0, n)
        cyc[-1] += _cycles() - t
        return re, im

    @njit(nogil=True)
    def adjoint(p, batch, cot, b0, re, im, sre, sim, lre, lim, dw, dx, cyc):
        """From the forward's final state in (re, im): cyc[-2] lambda's start (the observables),
        cyc[-1] the product prefix's adjoint."""
        n = 1 << p.num_qubits
        s = D._scratch(p, batch.proto)
        t = _cycles()
        cotg = np.zeros((LANES, cot.shape[1]), np.float64)
        for l in range(LANES):
            cotg[l] = cot[b0 + l]
        lk.apply_weighted_observable(re, im, n, p.terms, p.term_coeff, cotg, lre, lim, 0, n)
        obs.add_diagonal_weighted(re, im, p.diag_k, p.diag_signs, p.diag_terms, p.diag_hmasks, p.diag_coeff, cotg,
                                  lre, lim, 0, n)
        cyc[-2] += _cycles() - t
        for u in range(p.units.shape[0] - 1, -1, -1):
            if p.in_prefix[u]:
                continue
            i = p.units[u, 0]
            kind = p.ops[i, 0]
            t = _cycles()
            if kind == OP_U1 or kind == OP_CXU1:
                undo_1q_op(p, batch, s, i, b0, LANES, re, im, lre, lim, (dw, dw), (dx, dx), True, 0, 1, 1)
            elif kind == OP_PERM and u == p.first_walked:
                lk.gather_rows(lre, lim, n, p.inv_perms[p.ops[i, 3]], sre, sim, 0, n)
                lre, sre, lim, sim = sre, lre, sim, lim
            else:  # W1 has U1, CXU1 and PERM ops only
                inv = p.inv_perms[p.ops[i, 3]]
                lk.gather_rows(re, im, n, inv, sre, sim, 0, n)
                re, sre, im, sim = sre, re, sim, im
                lk.gather_rows(lre, lim, n, inv, sre, sim, 0, n)
                lre, sre, lim, sim = sre, lre, sim, lim
            cyc[u] += _cycles() - t
        t = _cycles()
        product_adjoint(p, batch, s, b0, LANES, lre, lim, dw, dx, True)
        cyc[-1] += _cycles() - t

    return forward, adjoint


def _tsc_hz() -> float:
    """Cycle-counter ticks per second, against perf_counter over 0.2 s."""
    @njit
    def ticks():
        return _cycles()
    ticks()
    t0, c0 = time.perf_counter(), ticks()
    while time.perf_counter() - t0 < 0.2:
        pass
    return (ticks() - c0) / (time.perf_counter() - t0)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qubits", type=int, default=14, help="Q (default 14)")
    ap.add_argument("--batch", type=int, default=64, help="samples, a multiple of 16 (default 64)")
    ap.add_argument("--rounds", type=int, default=10, help="rounds; the best per unit counts (default 10)")
    ap.add_argument("--per-op", action="store_true", help="also list every unit: its op, qubits and time")
    args = ap.parse_args(argv)
    if args.batch % 16 or args.batch < 16:
        ap.error(f"--batch must be a positive multiple of 16 (the backend's lanes), got {args.batch}")
    numba.set_num_threads(1)
    import hqsim
    from hqsim.backends import numba_cpu
    from hqsim.program import OP_NAMES

    q, batch = args.qubits, args.batch
    program = hqsim.compile_circuit(hqsim.ansatz.rpqc(q, 4, 2, 1)).program
    p = numba_cpu.numba_program(program)
    rng = np.random.default_rng(1)
    x = rng.uniform(-3, 3, (batch, program.num_inputs))
    w = rng.uniform(-3, 3, program.num_weights)
    cot = rng.normal(size=(batch, program.num_observables))
    calls = numba_cpu._batch(p, program, x, w, np.float32)
    forward, adjoint = _walks()

    from hqsim.backends.numba_lane_kernels import state_block, state_in_block

    @njit
    def states():  # the backend's own placement (numba_lane_kernels.state_block)
        blk = state_block(6, 1 << q, np.zeros(1, np.float32))
        return [state_in_block(blk, i, 1 << q) for i in range(6)]
    bufs = states()
    og = np.zeros((16, program.num_observables))
    dw, dx = np.zeros(program.num_weights), np.zeros((batch, program.num_inputs))
    groups = batch // 16
    best = {}
    for name in ("forward", "adjoint"):
        cyc = np.zeros(len(p.units) + 2, np.uint64)
        for r in range(args.rounds + 1):  # round 0 compiles
            cyc[:] = 0
            for g in range(groups):
                re, im = forward(p, calls, g * 16, *bufs[:4], og, cyc if name == "forward" else cyc * 0)
                if name == "adjoint":
                    spare = [b for b in bufs[:4] if b is not re and b is not im]
                    adjoint(p, calls, cot, g * 16, re, im, spare[0], spare[1], bufs[4], bufs[5], dw, dx, cyc)
            if r == 1:
                best[name] = cyc.copy()
            elif r > 1:
                best[name] = np.minimum(best[name], cyc)
    # the copied walks must still be the backend's: the last group's expectations and gradients
    og[:] = 0
    cot0 = np.zeros_like(cot)
    cot0[:16] = cot[:16]
    dw[:], dx[:] = 0, 0
    re, im = forward(p, calls, 0, *bufs[:4], og, np.zeros(len(p.units) + 2, np.uint64))
    spare = [b for b in bufs[:4] if b is not re and b is not im]
    adjoint(p, calls, cot0, 0, re, im, spare[0], spare[1], bufs[4], bufs[5], dw, dx, np.zeros(len(p.units) + 2, np.uint64))
    want = numba_cpu.forward(program, x[:16], w, np.float32)[0]
    want_dw, want_dx = numba_cpu.vjp(program, x[:16], w, cot[:16], np.float32)
    if not (np.allclose(og, want, atol=1e-5) and np.allclose(dw, want_dw, atol=1e-4 * (1 + abs(want_dw).max()))
            and np.allclose(dx[:16], want_dx, atol=1e-4 * (1 + abs(want_dx).max()))):
        raise SystemExit("walk_profile_cpu: the copied walks no longer compute what the backend does; "
                         "update them from numba_drivers")
    hz = _tsc_hz()
    us = 1e6 / hz / groups
    print(f"W1 Q={q} B={batch}, one thread, cycle counter {hz / 1e9:.3f} GHz; microseconds per group of 16 "
          f"(best of {args.rounds} rounds per unit); {hqsim.__file__}")
    for name in ("forward", "adjoint"):
        cyc = best[name]
        kinds: dict[str, list[float]] = {}
        for u, (i, _) in enumerate(p.units):
            if cyc[u]:
                kind = OP_NAMES[int(program.ops[i, 0])]
                if name == "forward" and p.fold[i] >= 0:
                    kind += " (reading through the permutation before it)"
                kinds.setdefault(kind, []).append(cyc[u] * us)
        total = cyc.sum() * us
        print(f"{name}: {total:.0f} us per group")
        for kind, v in kinds.items():
            print(f"  {kind:52s} {len(v):3d} x {np.mean(v):6.1f} us (min {min(v):.1f}, max {max(v):.1f})  "
                  f"{100 * sum(v) / total:5.1f} %")
        extra = ("product prefix", "observables") if name == "forward" else ("lambda from the observables",
                                                                             "product prefix's adjoint")
        for label, v in zip(extra, cyc[-2:]):
            print(f"  {label:52s}       {v * us:6.1f} us  {100 * v * us / total:5.1f} %")
        if args.per_op:
            print("  per unit (op index, kind, target, control or -, us):")
            for u, (i, _) in enumerate(p.units):
                if cyc[u]:
                    kind, q0, q1 = (int(v) for v in program.ops[i, :3])
                    control = str(q1) if q1 >= 0 else "-"
                    print(f"    {i:4d} {OP_NAMES[kind]:5s} {q0:3d} {control:>3} {cyc[u] * us:7.1f}")


if __name__ == "__main__":
    main()

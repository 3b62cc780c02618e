"""The GPU benchmark's one timing helper and its device ceilings (copy bandwidth, FP32 rate).

``measure(fn)``: warm-up, then CUDA-event timings of repeated calls until ``reps`` or the time
budget, reporting the median and the spread. A first call slower than the budget is reported
as skipped, never extrapolated.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch


@dataclass
class Timing:
    median_s: float | None
    min_s: float | None
    max_s: float | None
    reps: int
    peak_bytes: int
    note: str = ""


def _sync():
    torch.cuda.synchronize()


def measure(fn, reps: int = 7, budget_s: float = 20.0, warmup: int = 1) -> Timing:
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    try:
        for _ in range(warmup):
            fn()
        _sync()
    except torch.cuda.OutOfMemoryError as exc:
        torch.cuda.empty_cache()
        return Timing(None, None, None, 0, 0, f"out of GPU memory: {str(exc).splitlines()[0][:120]}")
    first = time.perf_counter() - t0
    if first > budget_s:
        return Timing(None, None, None, 0, torch.cuda.max_memory_allocated(),
                      f"skipped: one call took {first:.1f} s > budget {budget_s} s")
    times = []
    start = time.perf_counter()
    while len(times) < reps and (time.perf_counter() - start) < budget_s:
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / 1e3)
    return Timing(statistics.median(times), min(times), max(times), len(times), torch.cuda.max_memory_allocated())


def measure_cpu(fn, reps: int = 5, budget_s: float = 20.0) -> Timing:
    """Wall-clock timing for CPU peers (Numba), same reporting."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    if first > budget_s:
        return Timing(None, None, None, 0, 0, f"skipped: one call took {first:.1f} s > budget {budget_s} s")
    times = []
    start = time.perf_counter()
    while len(times) < reps and (time.perf_counter() - start) < budget_s:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return Timing(statistics.median(times), min(times), max(times), len(times), 0)


def copy_bandwidth(nbytes: int = 1 << 30) -> float:
    """Device-to-device copy, bytes/s counting the read and the write."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device="cuda")
    dst = torch.empty_like(src)
    t = measure(lambda: dst.copy_(src), reps=20, budget_s=10)
    return 2 * nbytes / t.median_s


def fp32_rate(n: int = 8192) -> float:
    """FP32 FLOP/s of torch.mm with TF32 off (SGEMM: near the FP32 FMA peak)."""
    old = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        a = torch.randn(n, n, device="cuda")
        b = torch.randn(n, n, device="cuda")
        t = measure(lambda: a @ b, reps=10, budget_s=10)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = old
    return 2 * n ** 3 / t.median_s

"""Numba's on-disk cache keys a function by its own file only: when a helper in another file
changes, callers keep the stale inlined copy. We stamp the cache with a hash of every Numba
source of the backend and drop the cache when the stamp differs."""
from __future__ import annotations

import hashlib
from pathlib import Path

_SOURCES = ("numba_jit.py", "numba_matrices.py", "numba_matrices_1q.py", "numba_lane_kernels.py", "numba_drivers.py",
            "numba_op_steps.py", "numba_block_kernels.py", "numba_sync.py", "numba_observables.py",
            "numba_product.py", "numba_cpu.py", "../program.py", "../ir/params.py")


def invalidate_stale_cache() -> None:
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in _SOURCES:
        try:
            digest.update((here / name).read_bytes())
        except OSError:
            return
    cache_dir = here / "__pycache__"
    stamp = cache_dir / "hqsim_numba.stamp"
    want = digest.hexdigest()
    try:
        if stamp.read_text() == want:
            return
    except OSError:
        pass
    try:
        cache_dir.mkdir(exist_ok=True)
        for f in cache_dir.glob("numba_*.nb[ic]"):
            f.unlink(missing_ok=True)
        stamp.write_text(want)
    except OSError:  # read-only install: Numba then compiles in memory each process
        pass

"""The CUDA kernels' source text (kernels/): where it lives and the single translation unit that
every compiler of it receives — CuPy's NVRTC, the tests' nvcc and NVRTC checks, and the host
build of the cpu-emulated device (hqsim/backends/cuda_emulated.py)."""
from __future__ import annotations

import re
from pathlib import Path

_KERNEL_DIRS = (Path(__file__).resolve().parents[2] / "kernels", Path(__file__).resolve().parents[1] / "kernels")
KERNEL_ENTRY = "hqsim_kernels.cu"
_INCLUDE = re.compile(r'^\s*#include\s+"([^"]+)"\s*$', flags=re.M)


def kernel_dir() -> Path:
    for d in _KERNEL_DIRS:
        if (d / KERNEL_ENTRY).is_file():
            return d
    raise FileNotFoundError(f"CUDA kernel sources not found (looked for {KERNEL_ENTRY} in "
                            f"{', '.join(str(d) for d in _KERNEL_DIRS)})")


def _expand(name: str, seen: set, origin: list) -> list[str]:
    """Lines of ``name`` with local includes expanded once each; ``origin`` collects
    (file, line) for every output line."""
    if name in seen:
        return []
    seen.add(name)
    out = []
    for k, line in enumerate((kernel_dir() / name).read_text().splitlines(), start=1):
        m = _INCLUDE.match(line)
        if m:
            out += _expand(m.group(1), seen, origin)
            continue
        out.append("" if line.strip() == "#pragma once" else line)
        origin.append((name, k))
    return out


def kernel_source(entry: str = KERNEL_ENTRY) -> str:
    """The kernels as one translation unit: local #include "..." lines expanded once each."""
    return "\n".join(_expand(entry, set(), [])) + "\n"


def barrier_sites(entry: str = KERNEL_ENTRY) -> list[tuple[int, str, int, bool]]:
    """Every ``__syncthreads()`` of the single source: (line in it, header, line in the header,
    whether its comment marks it "redundant today", i.e. covered by a later barrier on every
    path; tests/gpu/test_emulation.py checks that each other one is needed)."""
    origin: list = []
    lines = _expand(entry, set(), origin)
    return [(i + 1, *origin[i], "redundant today" in text) for i, text in enumerate(lines)
            if "__syncthreads()" in text.split("//")[0]]

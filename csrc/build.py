"""Build the optional pybind11 extension hqsim.backends._hqsim_cuda with nvcc.

    HQSIM_BUILD_CUDA=auto|0|1 python csrc/build.py [--arch sm_80,sm_90] [--out DIR]

auto (default): build when nvcc and pybind11 are both found, otherwise print why and skip
(exit 0). 0: skip. 1: build, and fail loudly when anything is missing. Without the extension
hqsim falls back to CuPy's JIT path (hqsim/backends/cuda_ext.py).

Importable: ``build_command`` and ``build`` are used by tests/gpu/test_compile_kernels.py.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARCHS = ("sm_80", "sm_90")
MODULE = "_hqsim_cuda"


def find_nvcc() -> str | None:
    for cand in (os.environ.get("NVCC"), shutil.which("nvcc"),
                 os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin", "nvcc")):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def pybind11_include() -> str | None:
    try:
        import pybind11
    except ImportError:
        return None
    return pybind11.get_include()


def gencode_flags(archs) -> list[str]:
    """Machine code for each arch plus PTX of the newest, so later GPUs can JIT it."""
    flags = []
    for a in archs:
        num = a.split("_")[1]
        flags.append(f"-gencode=arch=compute_{num},code=sm_{num}")
    newest = max(archs, key=lambda a: int(a.split("_")[1].rstrip("a")))
    num = newest.split("_")[1]
    flags.append(f"-gencode=arch=compute_{num},code=compute_{num}")
    return flags


def build_command(nvcc: str, pybind_inc: str, out: Path, archs=DEFAULT_ARCHS) -> list[str]:
    return [nvcc, "-O3", "-std=c++17", "-shared", "-Xcompiler", "-fPIC", *gencode_flags(archs),
            f"-I{ROOT / 'kernels'}", f"-I{pybind_inc}", f"-I{sysconfig.get_paths()['include']}",
            str(ROOT / "csrc" / "module.cu"), "-o", str(out)]


def output_path(out_dir: Path | None = None) -> Path:
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    return (out_dir or ROOT / "hqsim" / "backends") / f"{MODULE}{suffix}"


def build(mode: str | None = None, archs=DEFAULT_ARCHS, out_dir: Path | None = None) -> Path | None:
    """Build per ``mode`` (default: $HQSIM_BUILD_CUDA or auto); the module's path, or None if skipped."""
    mode = (mode or os.environ.get("HQSIM_BUILD_CUDA", "auto")).strip().lower()
    if mode not in ("auto", "0", "1"):
        raise ValueError(f"HQSIM_BUILD_CUDA must be auto, 0 or 1, got {mode!r}")
    if mode == "0":
        print("hqsim: HQSIM_BUILD_CUDA=0, not building the CUDA extension")
        return None
    nvcc, inc = find_nvcc(), pybind11_include()
    missing = [what for what, ok in (("nvcc (CUDA toolkit)", nvcc), ("pybind11", inc)) if not ok]
    if missing:
        msg = f"hqsim: cannot build the CUDA extension, missing {' and '.join(missing)}"
        if mode == "1":
            raise RuntimeError(msg)
        print(msg + "; skipping (the CuPy JIT path still works)")
        return None
    out = output_path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = build_command(nvcc, inc, out, archs)
    print("hqsim:", " ".join(cmd))
    subprocess.run(cmd, check=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default=",".join(DEFAULT_ARCHS), help="comma-separated, e.g. sm_80,sm_90")
    ap.add_argument("--out", type=Path, default=None, help="directory for the module")
    args = ap.parse_args(argv)
    try:
        build(archs=tuple(a.strip() for a in args.arch.split(",") if a.strip()), out_dir=args.out)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

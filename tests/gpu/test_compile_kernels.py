"""CI without a GPU: every kernel and the extension must compile with nvcc for sm_80 and sm_90,
and the numbers the kernels hard-code must agree with Python's. Skips only when nvcc is absent
(the constant checks need no compiler and always run). Compiles run one after another: CI
machines have two cores.
"""
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import hqsim.program as program_mod
from hqsim.backends import cuda_plan
from hqsim.backends.cuda_source import kernel_dir, kernel_source
from hqsim.ir import params

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "csrc"))
import build as csrc_build  # noqa: E402  (csrc/build.py)

NVCC = csrc_build.find_nvcc()
needs_nvcc = pytest.mark.skipif(NVCC is None, reason="nvcc not found (no CUDA toolkit)")
ARCHS = ("sm_80", "sm_90")


def _constants(path: Path) -> dict:
    text = path.read_text()
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"constexpr int (\w+) = (-?\d+);", text)}


def test_program_codes_match_python():
    c = _constants(kernel_dir() / "program.cuh")
    for name in ["OP_U1", "OP_U2", "OP_PERM", "OP_CZ", "OP_UK", "OP_FIELDS", "F_CONST", "F_RX", "F_RY", "F_RZ",
                 "F_PHASE", "F_CRX", "F_CRY", "F_CRZ", "F_RXX", "F_RYY", "F_RZZ", "F_FIELDS"]:
        assert c[name] == getattr(program_mod, name), name
    assert (c["SRC_CONST"], c["SRC_WEIGHT"], c["SRC_INPUT"]) == (params.CONST, params.WEIGHT, params.INPUT)
    assert c["TERM_FIELDS"] == 4
    assert c["MAX_UK_QUBITS"] == cuda_plan.MAX_UK_QUBITS


def test_layout_constants_match_planner():
    c = _constants(kernel_dir() / "resident.cuh")
    assert (c["WIN"], c["MAT_SLOT"], c["MAXR"], c["MAX_RESIDENT_THREADS"]) == (
        cuda_plan.WIN, cuda_plan.MAT_SLOT, cuda_plan.MAXR, cuda_plan.MAX_RESIDENT_THREADS)
    assert _constants(kernel_dir() / "blocked.cuh")["MAP_ROWS"] == cuda_plan.MAP_ROWS
    src = (kernel_dir() / "hqsim_kernels.cu").read_text()
    assert f"__launch_bounds__({cuda_plan.MAX_RESIDENT_THREADS})" in src
    assert f"__launch_bounds__({cuda_plan.PASS_THREADS})" in src


def test_kernel_names_match_planner():
    src = (kernel_dir() / "hqsim_kernels.cu").read_text()
    real = set(re.findall(r"void (?:__launch_bounds__\(\d+\) )?(hq_\w+)_##sfx\(", src))
    shared = set(re.findall(r"void (?:__launch_bounds__\(\d+\) )?(hq_\w+)\(", src))
    names = {f"{k}_{s}" for k in real for s in ("f32", "f64")} | shared
    assert names == set(cuda_plan.KERNELS)
    listed = (kernel_dir() / "kernel_list.h").read_text()
    for k in cuda_plan.REAL_KERNELS:
        assert f"X({k}_##sfx)" in listed, k
    for k in cuda_plan.SHARED_KERNELS:
        assert f"X({k})" in listed, k


def _nvcc(args, cwd):
    proc = subprocess.run([NVCC, *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"nvcc {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def extension(tmp_path_factory):
    """csrc/ built once (every kernel + the pybind11 host code, sm_80 and sm_90 machine code)."""
    if NVCC is None:
        pytest.skip("nvcc not found (no CUDA toolkit)")
    pytest.importorskip("pybind11", reason="pybind11 is in the gpu extra")
    out = csrc_build.build(mode="1", archs=ARCHS, out_dir=tmp_path_factory.mktemp("ext"))
    assert out is not None and out.is_file()
    return out


def _cuobjdump():
    import glob
    import shutil
    cands = [shutil.which("cuobjdump"), str(Path(NVCC).resolve().parent / "cuobjdump")]
    cands += sorted(glob.glob("/usr/local/cuda*/bin/cuobjdump"))
    return next((c for c in cands if c and Path(c).is_file()), None)


@needs_nvcc
def test_every_kernel_compiles_for_sm80_and_sm90(extension):
    """The extension build ran ptxas on every kernel for both archs; its fat binary holds both."""
    tool = _cuobjdump()
    if tool is not None:
        dump = subprocess.run([tool, "--list-elf", str(extension)], capture_output=True, text=True)
        assert dump.returncode == 0, dump.stderr
        for arch in ARCHS:
            assert arch in dump.stdout, dump.stdout
        return
    assert {int(a.split("_")[1]) for a in ARCHS} <= _embedded_cubin_archs(extension.read_bytes())


def _embedded_cubin_archs(blob: bytes) -> set:
    """SM versions of the CUDA ELF images (e_machine 190) inside a fat binary, read from e_flags
    (bits 8-15 in CUDA 13's layout); used only where cuobjdump is not installed."""
    import struct
    archs, i = set(), 1
    while (i := blob.find(b"\x7fELF", i)) >= 0:
        if struct.unpack_from("<H", blob, i + 18)[0] == 190:
            archs.add((struct.unpack_from("<I", blob, i + 48)[0] >> 8) & 0xFF)
        i += 4
    return archs


@needs_nvcc
def test_single_source_for_cupy_compiles(tmp_path):
    """The text CuPy's RawModule receives (headers inlined, no include paths) is valid CUDA."""
    src = tmp_path / "hqsim_single.cu"
    src.write_text(kernel_source())
    assert "#include \"" not in src.read_text()
    _nvcc(["-std=c++17", "-arch=compute_80", "--ptx", str(src), "-o", str(tmp_path / "single.ptx")], tmp_path)
    ptx = (tmp_path / "single.ptx").read_text()
    for name in cuda_plan.KERNELS:
        assert f".entry {name}(" in ptx, name


@needs_nvcc
def test_extension_compiles_and_lists_every_kernel(extension):
    spec = importlib.util.spec_from_file_location("_hqsim_cuda", extension)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # links cudart statically: imports without a GPU
    assert sorted(mod.kernel_names()) == sorted(cuda_plan.KERNELS)
    with pytest.raises(ValueError, match="unknown hqsim kernel"):
        mod.launch("hq_no_such_kernel", 0, [1, 1, 1], 32, 0, 0, [])


def test_build_skips_cleanly_when_disabled(capsys):
    assert csrc_build.build(mode="0") is None
    assert "not building" in capsys.readouterr().out
    with pytest.raises(ValueError, match="HQSIM_BUILD_CUDA"):
        csrc_build.build(mode="yes")


# ---- NVRTC: the compiler CuPy's RawModule uses, on the exact text CuPy receives -------------------
def _nvrtc():
    """libnvrtc from the nvidia-cuda-nvrtc wheel (the gpu-build extra) or the CUDA toolkit."""
    import ctypes
    import ctypes.util
    import glob
    cands = []
    try:
        import nvidia
        for root in nvidia.__path__:
            cands += sorted(glob.glob(f"{root}/cu*/lib/libnvrtc.so*")) + sorted(glob.glob(f"{root}/cuda_nvrtc/lib/libnvrtc.so*"))
    except ImportError:
        pass
    cands += [ctypes.util.find_library("nvrtc") or ""]
    if NVCC:
        cands += sorted(glob.glob(str(Path(NVCC).resolve().parents[1] / "lib64" / "libnvrtc.so*")))
    for c in cands:
        if c:
            try:
                return ctypes.CDLL(c)
            except OSError:
                continue
    pytest.skip("libnvrtc not found (pip install nvidia-cuda-nvrtc, in the gpu-build extra)")


def nvrtc_compile(source: str, options) -> bytes:
    """Compile with NVRTC; the cubin (for -arch=sm_XX). Fails the test with NVRTC's log."""
    import ctypes
    lib = _nvrtc()
    prog = ctypes.c_void_p()
    assert lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), b"hqsim_kernels.cu", 0, None, None) == 0
    opts = (ctypes.c_char_p * len(options))(*(o.encode() for o in options))
    rc = lib.nvrtcCompileProgram(prog, len(options), opts)
    size = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(prog, log)
    assert rc == 0, f"NVRTC failed ({rc}):\n{log.value.decode(errors='replace')}"
    lib.nvrtcGetCUBINSize(prog, ctypes.byref(size))
    cubin = ctypes.create_string_buffer(size.value)
    assert lib.nvrtcGetCUBIN(prog, cubin) == 0
    lib.nvrtcDestroyProgram(ctypes.byref(prog))
    return cubin.raw


@pytest.mark.parametrize("arch", ["sm_90"])  # the H100/H200 the device tool lends; sm_80 via nvcc above
def test_nvrtc_compiles_the_source_cupy_receives(arch):
    """kernel_source() with CupyLauncher's options, as CuPy's RawModule passes them to NVRTC
    (CuPy adds its -arch and its own include path, which the kernels do not use)."""
    from hqsim.backends.cuda_ext import CupyLauncher
    cubin = nvrtc_compile(kernel_source(), [*CupyLauncher.OPTIONS, f"-arch={arch}"])
    assert cubin[:4] == b"\x7fELF"
    for name in cuda_plan.KERNELS:
        assert name.encode() + b"\0" in cubin, name


# ---- csrc/launch.cuh's host logic against a counting stand-in for the runtime (g++ only) -----------
LAUNCH_MAIN = r"""
#include "host_shim.h"
#include "launch.cuh"
#include <cstdio>
int main() {
    std::vector<std::uint64_t> slots(5, 0);
    for (int k = 0; k < 3; ++k) hqext::launch("hq_reduce_rows", 0, {1, 1, 1}, 32, 0, 0, slots);
    const int sets_same = fake_set_device_calls;
    fake_current_device = 1;  // someone else made device 1 current
    for (int k = 0; k < 2; ++k) hqext::launch("hq_reduce_rows", 0, {1, 1, 1}, 32, 0, 0, slots);
    std::printf("%d %d %d\n", sets_same, fake_set_device_calls, fake_launches);
}
"""


def test_extension_sets_the_device_only_when_it_is_not_current(tmp_path):
    """cudaSetDevice used to run on every launch (a driver call each time)."""
    import shutil
    if shutil.which("g++") is None:
        pytest.skip("g++ not found")
    src = tmp_path / "main.cpp"
    src.write_text(LAUNCH_MAIN)
    exe = tmp_path / "launch_test"
    cmd = ["g++", "-std=c++20", "-O0", "-w", f"-I{ROOT / 'tests' / 'gpu' / 'fake_cuda'}", f"-I{kernel_dir()}",
           f"-I{ROOT / 'csrc'}", str(src), "-o", str(exe)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sets_same, sets_all, launches = map(int, subprocess.run([str(exe)], capture_output=True, text=True,
                                                             check=True).stdout.split())
    assert (sets_same, sets_all, launches) == (0, 1, 5)

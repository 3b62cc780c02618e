"""The cpu-emulated device itself (hqsim/backends/cuda_emulated.py, kernels/host_shim.h): that its
tests can fail. Every __syncthreads of the kernels is needed (made a no-op one at a time, some
fixture goes wrong), results do not depend on the order in which threads and blocks run, and a
launch is checked as a GPU would check it (plus its arguments against the kernel's parameters).
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hqsim.ansatz import reuploading_module
from hqsim.backends import cuda_emulated, cuda_plan, numba_cpu
from hqsim.backends.cuda_device import EMULATED_LIMITS
from hqsim.backends.cuda_source import barrier_sites, kernel_source
from hqsim.compile import compile_circuit
from hqsim.ir import AmplitudeEncoding, Circuit, X, Y, Z

from .helpers import cuda_backend_or_skip, random_case

ROOT = Path(__file__).resolve().parents[2]
PATHS = [dict(path="resident"), dict(path="blocked", tile_bits=3)]


def _fixtures():
    """Small programs that between them reach every kernel: amplitude encoding, U1/U2/CZ/UK/
    PERM ops, CXU1 ops with controls inside and outside tiles, several observables."""
    rng = np.random.default_rng(42)
    out = []
    for q, amp in ((5, True), (6, False)):
        program, _, c, obs, x, w = random_case(rng, q, 40, 3, amplitude=amp)
        out.append((program, x, w, rng.normal(size=(3, len(obs)))))
    c = reuploading_module(5, blocks=1)
    x, w = rng.uniform(-1, 1, (3, c.num_inputs)), rng.uniform(-3, 3, c.num_weights)
    out.append((compile_circuit(c, [Z(0), Z(2)]).program, x, w, rng.normal(size=(3, 2))))
    for amp in (4, 0):  # no gates at all: the initial state straight into the observables
        c = Circuit(2, amplitude_encoding=AmplitudeEncoding(0, amp) if amp else None, num_inputs=amp)
        obs = [X(0) @ Y(1), Z(1), X(1)]
        x = rng.uniform(-1, 1, (3, amp))
        out.append((compile_circuit(c, obs).program, x, np.zeros(0), rng.normal(size=(3, 3))))
    return out


def _emulated_setup():
    """{path name: backend} on the emulated device, its launcher, and the fixtures with their
    Numba answers."""
    backends = {p.get("tile_bits", p["path"]): cuda_backend_or_skip("cpu-emulated", **p) for p in PATHS}
    launcher = next(iter(backends.values())).launcher(torch.device("cpu"))
    fixtures = [(f, numba_cpu.forward(f[0], f[1], f[2], np.float64)[0],
                 numba_cpu.vjp(f[0], f[1], f[2], f[3], np.float64, True)) for f in _fixtures()]
    return backends, launcher, fixtures


@pytest.fixture(scope="module")
def emulated():
    """_emulated_setup(); the launcher's settings are restored afterwards."""
    backends, launcher, fixtures = _emulated_setup()
    yield backends, launcher, fixtures
    launcher.configure()


def _wrong(backends, fixtures, dtype=np.float64, tol=1e-9):
    """The first (path, fixture, what) whose answer is off, or None; an error counts as off."""
    for name, be in backends.items():
        for k, ((program, x, w, cot), out, (dw, dx)) in enumerate(fixtures):
            try:
                got = be.forward(program, x, w, dtype)[0]
                gdw, gdx = be.vjp(program, x, w, cot, dtype)
            except RuntimeError as exc:
                return name, k, f"error: {exc}"
            for what, a, b in (("out", got, out), ("dw", gdw, dw), ("dx", gdx, dx)):
                if not np.all(np.abs(a - b) <= tol * max(1.0, np.abs(b).max(initial=0))):
                    return name, k, what
    return None


def test_fixtures_pass_with_every_barrier(emulated):
    backends, launcher, fixtures = emulated
    launcher.configure()
    assert _wrong(backends, fixtures) is None


@pytest.mark.parametrize("order", ["reverse", "shuffle"])
def test_thread_and_block_order_does_not_matter(emulated, order):
    backends, launcher, fixtures = emulated
    try:
        launcher.configure(order=order, seed=3)
        assert _wrong(backends, fixtures) is None
    finally:
        launcher.configure()


def test_every_barrier_is_needed():
    """Each __syncthreads made a no-op in turn: some fixture must come out wrong (in thread
    order forward or reversed), or the process crash, so the emulated tests would catch a
    missing barrier. Runs in subprocesses (tests/gpu/barrier_sweep.py); a crash while a site
    is off counts as caught and the sweep resumes after it."""
    cuda_backend_or_skip("cpu-emulated")
    sites, verdicts, first = barrier_sites(), {}, 0
    while first < len(sites):
        proc = subprocess.run([sys.executable, str(ROOT / "tests" / "gpu" / "barrier_sweep.py"), str(first)],
                              capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        started = first
        for line in proc.stdout.splitlines():
            word = line.split()
            if word[0] == "start":
                started = int(word[1])
            elif word[0] == "site":
                verdicts[int(word[1])] = " ".join(word[2:])
        if proc.returncode == 0:
            break
        assert started not in verdicts, proc.stderr[-3000:]  # the crash happened outside a site
        verdicts[started] = f"{sites[started][1]}:{sites[started][2]} caught (the process died: {proc.returncode})"
        first = started + 1
    assert len(sites) > 20 and len(verdicts) == len(sites), verdicts
    needed = [v for k, v in verdicts.items() if not sites[k][3]]
    marked = [v for k, v in verdicts.items() if sites[k][3]]
    assert not [v for v in needed if v.endswith("uncaught")], f"removing these barriers changed no result: {needed}"
    assert all(v.endswith("uncaught") for v in marked), f"marked redundant but needed: {marked}"
    assert len(needed) >= 2 * len(marked)


def test_launches_are_checked_like_a_gpu(emulated):
    _, launcher, _ = emulated
    kinds = launcher.kernels()
    assert set(kinds) == set(cuda_plan.KERNELS)
    assert set(cuda_emulated.launch_bounds(kernel_source())) < set(kinds)
    assert kinds["hq_reduce_rows"] == "piipi"
    buf = torch.zeros(8, dtype=torch.float64)
    args = [("p", buf.data_ptr()), ("i", 2), ("i", 4), ("p", buf.data_ptr()), ("i", 0)]
    launcher.launch("hq_reduce_rows", (1, 1, 1), 32, 0, args)
    with pytest.raises(RuntimeError, match="do not match its parameters"):
        launcher.launch("hq_reduce_rows", (1, 1, 1), 32, 0, args[:-1])
    with pytest.raises(RuntimeError, match="do not match its parameters"):
        launcher.launch("hq_reduce_rows", (1, 1, 1), 32, 0, [("d", 1.0)] + args[1:])
    with pytest.raises(RuntimeError, match="unknown hqsim kernel"):
        launcher.launch("hq_nope", (1, 1, 1), 32, 0, args)
    with pytest.raises(RuntimeError, match="launch_bounds"):
        launcher.launch("hq_local_pass_f32", (1, 1, 1), 512, 0, [])
    with pytest.raises(RuntimeError, match="shared memory"):
        launcher.launch("hq_reduce_rows", (1, 1, 1), 32, EMULATED_LIMITS.smem_optin + 1, args)
    with pytest.raises(RuntimeError, match="invalid grid"):
        launcher.launch("hq_reduce_rows", (1, 70000, 1), 32, 0, args)


# ---- ThreadSanitizer on the threaded shim (one OS thread per CUDA thread, std::barrier) ------------
TSAN_SCRIPT = """
import sys
import numpy as np
import torch
sys.path.insert(0, {tests!r})
torch.set_num_threads(1)
from hqsim.backends import cuda_emulated
from hqsim.backends.cuda_device import EMULATED_LIMITS
from gpu.test_emulation import _fixtures
from hqsim.backends.cuda import CudaBackend, CudaOptions
from hqsim.backends.cuda_run import Run
from hqsim.backends import numba_cpu
lib = cuda_emulated.build(threads=True, extra_flags=("-fsanitize=thread", "-g"), opt="-O1")
launcher = cuda_emulated.EmulatedLauncher(EMULATED_LIMITS, library=lib)
for opts in (dict(path="resident"), dict(path="blocked")):
    be = CudaBackend(CudaOptions(device="cpu-emulated", **opts))
    be._launchers["cpu"] = launcher  # the threaded, instrumented build instead of the fiber one
    for program, x, w, cot in _fixtures()[:{count}]:
        out = be.forward(program, x, w, np.float64)[0]
        dw, dx = be.vjp(program, x, w, cot, np.float64)
        np.testing.assert_allclose(out, numba_cpu.forward(program, x, w, np.float64)[0], atol=1e-9)
print("tsan fixtures ok")
"""


def tsan_command(count=1):
    """(argv, env) of the ThreadSanitizer run; the Python running it must tolerate a preloaded
    TSan runtime (a pyenv build does not: the distribution's python3 with this one's
    site-packages on PYTHONPATH does)."""
    lib = subprocess.run(["g++", "-print-file-name=libtsan.so"], capture_output=True, text=True).stdout.strip()
    site = [p for p in sys.path if p.endswith("site-packages")]
    env = dict(os.environ, LD_PRELOAD=lib, TSAN_OPTIONS="halt_on_error=1 report_signal_unsafe=0",
               PYTHONPATH=os.pathsep.join([str(ROOT)] + site), OMP_NUM_THREADS="1")
    code = TSAN_SCRIPT.format(tests=str(ROOT / "tests"), count=count)
    return code, lib, env


@pytest.mark.skipif(os.environ.get("HQSIM_TSAN") != "1", reason="minutes of CPU: HQSIM_TSAN=1 runs it")
def test_thread_sanitizer_is_clean():
    """HQSIM_TSAN=1 python3 -m pytest tests/gpu/test_emulation.py -k sanitizer  (the documented
    command; CI leaves it out: a few hundred instrumented OS threads per launch, meeting at
    std::barrier for every __syncthreads and shuffle, take minutes on 2 cores). One fixture,
    the resident and the blocked path, float64."""
    code, lib, env = tsan_command()
    if not Path(lib).is_file():
        pytest.skip("libtsan not found (g++ -print-file-name=libtsan.so)")
    for python in (sys.executable, "/usr/bin/python3"):
        probe = subprocess.run([python, "-c", "import numpy, torch"], env=env, capture_output=True)
        if probe.returncode == 0:
            break
    else:
        pytest.skip("no Python here runs with the TSan runtime preloaded")
    proc = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "tsan fixtures ok" in proc.stdout, proc.stderr[-6000:]
    assert "ThreadSanitizer" not in proc.stderr, proc.stderr[-6000:]

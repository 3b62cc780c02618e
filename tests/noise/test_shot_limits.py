"""Shots are bounded per call and large draws are interruptible (issue 17, item 6): above
MAX_SHOTS a clear error; below it, sampling in pieces of CHUNK_DRAWS gives the same estimates
as one piece, and Ctrl-C stops a long call within a few seconds."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import hqsim
from hqsim.noise import MAX_SHOTS, _sampling

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_shots_above_the_bound_are_refused_at_once():
    c = hqsim.ansatz.rpqc(2, reuploads=1, layers=1)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"shots must be at most 100,000,000 per circuit, got "
                                         r"100,000,000,000.*shots=None"):
        hqsim.expectation(c, np.zeros((2, 2)), np.zeros(c.num_weights), shots=10**11)
    assert time.perf_counter() - t0 < 5
    assert MAX_SHOTS == 10**8
    with pytest.raises(ValueError, match="at most"):
        hqsim.QuantumLayer(c, shots=MAX_SHOTS + 1)


@pytest.mark.skipif(_sampling.njit is None, reason="the compiled kernels need numba")
@pytest.mark.parametrize("shots, chunk", [(1000, 300), (5000, 5000), (777, 4000)])
def test_pieces_draw_exactly_what_one_call_draws(monkeypatch, shots, chunk):
    rng = np.random.default_rng(3)
    states = rng.normal(size=(12, 8)) + 1j * rng.normal(size=(12, 8))
    seeds = rng.integers(0, 2**62, size=6).astype(np.uint64)
    masks, p01, p10 = np.array([1, 2, 6]), np.array([0.0, 0.1, 0.0]), np.array([0.0, 0.05, 0.0])
    whole = _sampling.estimate_parities(states, 2, shots, seeds, masks, p01, p10)
    monkeypatch.setattr(_sampling, "CHUNK_DRAWS", chunk)
    pieces = _sampling.estimate_parities(states, 2, shots, seeds, masks, p01, p10)
    np.testing.assert_allclose(pieces, whole, rtol=0, atol=1e-12)
    assert np.all(np.abs(np.round(whole * shots) - whole * shots) < 1e-6)  # parities of whole counts


@pytest.mark.skipif(_sampling.njit is None, reason="the compiled kernels need numba")
def test_ctrl_c_stops_a_long_shot_call_within_seconds():
    code = textwrap.dedent("""
        import sys, time, numpy as np, hqsim
        c = hqsim.ansatz.rpqc(3, reuploads=1, layers=1)
        w = np.zeros(c.num_weights)
        hqsim.expectation(c, np.zeros((1, 3)), w, shots=2**24 + 1, seed=0)  # compile every kernel
        print("ready", flush=True)
        try:
            hqsim.expectation(c, np.zeros((64, 3)), w, shots=10**8, seed=0)  # 6.4e9 draws: minutes
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(7)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": ROOT})
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(2.0)  # well inside the long call
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=30)
        waited = time.perf_counter() - t0
    finally:
        proc.kill()
    assert rc == 7 and proc.stdout.read().strip() == "interrupted"
    assert waited < 5, f"Ctrl-C took {waited:.1f} s to stop the sampling"

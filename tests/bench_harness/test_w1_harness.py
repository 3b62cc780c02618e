"""bench/w1_cpu.py's harness: the oracle check rejects a wrong contestant before it is timed, and
bench/roofline.py's model counts the passes, bytes and flops of a tiny compiled circuit. No
timing is asserted (speed is measured in bench/, never in tests)."""
import sys
from pathlib import Path

import numpy as np
import pytest

import hqsim
from hqsim import Circuit, input, weight
from hqsim.program import OP_PERM

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is a directory of scripts at the repository root
    sys.path.insert(0, str(ROOT))

from bench import roofline, w1_cpu  # noqa: E402
from bench.peers import contestants  # noqa: E402

Q, B = 3, 6


@pytest.fixture(scope="module")
def oracle_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("oracle") / "oracle.npz"
    np.savez(path, **w1_cpu.oracle(Q, B))
    return path


def _run_worker(name, oracle_file):
    return w1_cpu.worker(name, Q, B, repeats=1, min_time=0.0, oracle_path=str(oracle_file), cap=0)


def test_a_correct_contestant_passes_the_check_and_is_timed(oracle_file):
    res = _run_worker("torch-statevector", oracle_file)
    assert "error" not in res
    assert set(res["errors"]) == {"out", "dx", "dtheta"} and max(res["errors"].values()) < 1e-5
    assert res["fwd_s"] > 0 and res["fwdbwd_s"] > 0


@pytest.mark.parametrize("break_what", ["out", "dx", "dtheta", "nan"])
def test_a_wrong_contestant_is_rejected_and_not_timed(oracle_file, monkeypatch, break_what):
    calls = {"forward": 0, "forward_backward": 0}

    def wrong(x, theta, q, r, l, c):
        good = contestants.torch_statevector(x, theta, q, r, l, c)

        def forward():
            calls["forward"] += 1
            out = good.forward()
            if break_what == "out":
                out[:, 0] *= -1  # one qubit's sign flipped
            if break_what == "nan":
                out[0, 0] = np.nan
            return out

        def forward_backward(g):
            calls["forward_backward"] += 1
            out, dx, dth = good.forward_backward(g)
            if break_what == "dx":
                dx = dx[:, ::-1].copy()  # gradients of the wrong inputs
            if break_what == "dtheta":
                dth = 2 * dth
            return out, dx, dth

        return contestants.Contestant(forward, forward_backward)

    monkeypatch.setitem(contestants.CONTESTANTS, "wrong", wrong)
    res = _run_worker("wrong", oracle_file)
    assert res["error"].startswith("failed the oracle check")
    assert "fwd_s" not in res and "fwdbwd_s" not in res
    assert calls == {"forward": 1, "forward_backward": 1}  # the check's calls only
    key = "out" if break_what == "nan" else break_what
    assert res["errors"][key] > w1_cpu.TOL


def test_check_compares_shapes_and_every_array():
    ref = {"out": np.ones((4, 2)), "dx": np.ones((4, 2)), "dtheta": np.ones(3)}
    assert w1_cpu.check_against_oracle(ref, np.ones((6, 2)), np.ones((6, 2)), np.ones(3))["ok"]
    assert not w1_cpu.check_against_oracle(ref, np.ones((6, 2)), np.ones((6, 2)), np.ones(4))["ok"]
    assert not w1_cpu.check_against_oracle(ref, np.ones((6, 2)) * (1 + 2 * w1_cpu.TOL))["ok"]
    assert w1_cpu.check_against_oracle(ref, np.ones((6, 2)))["errors"].keys() == {"out"}


def _tiny_program():
    c = Circuit(3)
    c.ry(input(0), 0).ry(weight(0), 1).rz(weight(1), 2)
    c.cnot(0, 1).ry(weight(2), 1)
    c.cnot(1, 2).cnot(2, 0)
    c.rz(weight(3), 0)
    return hqsim.compile_circuit(c).program


def test_roofline_counts_the_passes_of_a_tiny_circuit():
    p = _tiny_program()
    # U1 RY q0, U1 RY q1, CXU1 RY (CNOT 0->1 folded in), U1 RZ q2, PERM (CNOT 1->2, 2->0), CXU1 RZ
    assert roofline.classify_ops(p) == {"complex": 2, "real": 3, "move": 1}
    cost = roofline.per_sample_cost(p)
    s, n, terms, passes = 8 * 8, 8, 3, 6
    assert cost["passes"] == passes == p.num_ops and cost["terms"] == cost["diagonal_terms"] == terms
    # U1 RY q0, U1 RY q1 and U1 RZ q2 come before any two-qubit op on their qubits: the product
    # prefix, written with the initial state (forward) and from one read of lambda (backward);
    # the forward runs the PERM inside the CXU1 pass after it; the three <Z_q> are read in one
    # pass, with blocks of 4 rows: qubit 0's bit is the one high mask (4 + 1/2 flops per amplitude)
    assert cost["prefix_ops"] == 3 and cost["fwd_passes"] == passes - 3 - 1 and cost["bwd_passes"] == passes - 3
    assert cost["fwd_bytes"] == s + 2 * s * (passes - 4) + s
    assert cost["fwd_flops"] == n * (12 * 1 + 6 * 1 + 6 + 4.5) and cost["trailing_permutation"] == 0
    assert cost["fwdbwd_bytes"] == cost["fwd_bytes"] + 4 * s + 3 * s + 4 * s * (passes - 3) + s
    assert cost["fwdbwd_flops"] == cost["fwd_flops"] + n * (37 * 1 + 16 * 1 + 16 + 4.5)


def test_roofline_leaves_out_the_last_permutation_the_walk_leaves_out():
    """W1 ends with a CNOT ring and measures Z: the walk pulls the observables back through it
    (numba_cpu.trailing_permutation), so neither the forward nor the backward passes over it."""
    p = hqsim.compile_circuit(hqsim.ansatz.rpqc(4, 2, 1, 1)).program
    assert p.ops[-1, 0] == OP_PERM
    cost = roofline.per_sample_cost(p)
    walked = cost["passes"] - cost["prefix_ops"]
    assert cost["trailing_permutation"] == 1 and cost["bwd_passes"] == walked - 1
    assert cost["fwd_passes"] == walked - roofline.folded_permutations(p) - 1


def test_roofline_counts_a_lambda_only_permutation_after_the_prefix():
    c = Circuit(3).ry(weight(0), 0).ry(weight(1), 1).ry(weight(2), 2).cnot(0, 1).cnot(1, 2).rz(weight(3), 0)
    p = hqsim.compile_circuit(c).program
    prefix, lambda_only = roofline.prefix_as_run(p)
    assert len(prefix) == 3 and lambda_only == 1
    cost = roofline.per_sample_cost(p)
    s = 8 * 8
    walked = cost["passes"] - 3
    assert cost["fwdbwd_bytes"] - cost["fwd_bytes"] == 4 * s + 3 * s + 4 * s * walked - 2 * s + s


def test_roofline_refuses_what_it_does_not_model():
    c = Circuit(2).cz(0, 1).crx(weight(0), 0, 1)
    with pytest.raises(ValueError, match="not modelled"):
        roofline.classify_ops(hqsim.compile_circuit(c).program)


def test_stream_buffers_start_on_cache_lines():
    # a 16-byte-aligned buffer measured half the bandwidth (bench/roofline.py's docstring)
    for floats in (1000, 1024, 4097):
        rows = roofline.aligned_rows(3, floats)
        assert rows.shape == (3, floats) and rows.dtype == np.float32 and np.all(rows == 1)
        assert all(r.ctypes.data % 64 == 0 for r in rows)
        assert len({r.ctypes.data for r in rows}) == 3 and rows[1].ctypes.data - rows[0].ctypes.data >= floats * 4


def test_efficiency_names_the_bounding_ceiling():
    # 1 GFLOP and 1 GB in 1 s against 10 GFLOP/s and 2 GB/s: the bytes take longer, so bandwidth bounds
    e = roofline.efficiency(1e9, 1e9, 1.0, 10.0, 2.0)
    assert e["bound"] == "bandwidth" and e["pct_of_bound"] == pytest.approx(50.0)
    e = roofline.efficiency(8e9, 1e9, 1.0, 10.0, 2.0)
    assert e["bound"] == "FMA" and e["pct_of_bound"] == pytest.approx(80.0)

"""IonQ: compiled circuits stay equivalent; the real cirq-ionq client against a fake API server."""
import json
import time

import numpy as np
import pytest

import hqsim
from hqsim import Z

cirq = pytest.importorskip("cirq")
cirq_ionq = pytest.importorskip("cirq_ionq")
sympy = pytest.importorskip("sympy")

from hqsim.interop.cirq import observables_to_cirq, to_cirq  # noqa: E402
from hqsim.interop.ionq import compile_for_ionq, submit  # noqa: E402
from hqsim.interop.simulator import HqsimSimulator  # noqa: E402

from .helpers import random_args, random_circuit, random_paulis  # noqa: E402

C128 = np.dtype("complex128")
FAST = dict(poll_s=0.01, timeout_s=10.0, request_timeout_s=5.0, max_retry_s=2.0)


def _probs(circuit, x, w):
    return np.abs(hqsim.statevector(circuit, x, w, backend="reference", dtype=C128)) ** 2


def _close(actual, expected, path="body"):
    """Exact JSON equality, floats to 1e-12."""
    if isinstance(expected, float):
        assert actual == pytest.approx(expected, abs=1e-12), path
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), (path, actual)
        for k in expected:
            _close(actual[k], expected[k], f"{path}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (path, actual)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _close(a, e, f"{path}[{i}]")
    else:
        assert actual == expected, (path, actual, expected)


@pytest.mark.parametrize("gateset", ["qis", "aria", "forte"])
@pytest.mark.parametrize("seed", range(3))
def test_compiled_for_ionq_preserves_expectation_values(seed, gateset):
    rng = np.random.default_rng(seed)
    c = random_circuit(rng, num_qubits=3, num_gates=20)
    x, w = random_args(rng, c)
    obs = random_paulis(rng, 3)
    out, report = compile_for_ionq(c, gateset, weights=w, inputs=x)
    got = HqsimSimulator(dtype=np.complex128).simulate_expectation_values(
        out, observables_to_cirq(obs, 3), qubit_order=cirq.LineQubit.range(3))
    np.testing.assert_allclose(got, hqsim.expectation(c, x, w, obs, dtype=C128)[0], atol=1e-6)
    assert report.before.num_gates == len(list(to_cirq(c, w, x).all_operations()))
    assert report.after.num_gates == len(list(out.all_operations()))
    assert report.after.two_qubit_depth <= report.after.num_two_qubit_gates


def test_qis_compilation_keeps_symbols_and_native_needs_values():
    c = hqsim.ansatz.rpqc(3, reuploads=1, layers=1)
    w = np.zeros(c.num_weights)
    out, _ = compile_for_ionq(c, "qis", weights=w)
    assert cirq.parameter_names(out) == {"x0", "x1", "x2"}
    with pytest.raises(ValueError, match="native aria compilation needs resolved parameters"):
        compile_for_ionq(c, "aria", weights=w)


def test_exact_payload_headers_and_polling(fake_ionq):
    c = hqsim.Circuit(3).h(0).cnot(0, 1).ry(0.5, 1).rz(0.25, 2)
    fake_ionq.statuses = ["ready", "running", "running", "completed"]
    res = submit(c, target="simulator", shots=100, api_key="test-key", remote_host=fake_ionq.url,
                 name="bell", seed=1, **FAST)
    post = [r for r in fake_ionq.requests if r["method"] == "POST"]
    assert len(post) == 1 and post[0]["path"] == "/v0.4/jobs"
    _close(post[0]["body"], {
        "backend": "simulator", "type": "ionq.circuit.v1", "lang": "json", "name": "bell",
        "input": {"gateset": "qis", "qubits": 3, "circuit": [
            {"gate": "h", "targets": [0]}, {"gate": "rz", "targets": [2], "rotation": 0.25},
            {"gate": "cnot", "control": 0, "target": 1}, {"gate": "ry", "targets": [1], "rotation": 0.5}]},
        "metadata": {"measurement0": "m\x1f0,1,2", "shots": "100"}, "shots": "100"})
    headers = post[0]["headers"]
    assert headers["Authorization"] == "apiKey test-key" and headers["Content-Type"] == "application/json"
    assert fake_ionq.paths("GET") == ["/v0.4/jobs/job-1"] * 4 + ["/v0.4/jobs/job-1/results/probabilities"]
    np.testing.assert_allclose(res.probabilities[0], _probs(c, None, None)[0], atol=1e-12)
    assert res.counts.sum() == 100 and res.job_id == "job-1" and res.probabilities.shape == (1, 8)


@pytest.mark.parametrize("target, gateset", [("simulator", "qis"), ("qpu.aria-1", "aria"),
                                             ("qpu.forte-1", "forte")])
def test_batch_of_samples_round_trips_through_the_api(fake_ionq, target, gateset):
    c = hqsim.ansatz.rpqc(3, reuploads=2, layers=1)
    rng = np.random.default_rng(4)
    x, w = rng.uniform(-np.pi, np.pi, (3, 3)), rng.uniform(-np.pi, np.pi, c.num_weights)
    res = submit(c, weights=w, inputs=x, target=target, gateset=gateset, shots=10000,
                 api_key="test-key", remote_host=fake_ionq.url, **FAST)
    body = fake_ionq.requests[0]["body"]
    assert body["type"] == "ionq.multi-circuit.v1" and len(body["input"]["circuits"]) == 3
    assert body["input"]["gateset"] == ("qis" if gateset == "qis" else "native")
    assert json.loads(body["metadata"]["qubit_numbers"]) == [3, 3, 3]
    assert fake_ionq.paths("GET")[-1] == "/v0.4/jobs/job-1/results/probabilities/aggregated"
    exact = _probs(c, x, w)
    tol = 1e-6 if target == "simulator" else 0.5 / 10000 + 1e-6  # QPU: round(shots * p) / shots
    np.testing.assert_allclose(res.probabilities, exact, atol=tol)
    np.testing.assert_allclose(res.expectation([Z(0), Z(1) @ Z(2)]),
                               hqsim.expectation(c, x, w, [Z(0), Z(1) @ Z(2)], dtype=C128), atol=30 * tol)


def test_rate_limit_is_retried(fake_ionq):
    fake_ionq.forced = [429, 429]
    t0 = time.monotonic()
    res = submit(hqsim.Circuit(1).x(0), shots=10, api_key="test-key", remote_host=fake_ionq.url, **FAST)
    assert fake_ionq.paths("POST") == ["/v0.4/jobs"] * 3
    assert time.monotonic() - t0 >= 0.3  # waited 0.1 s then 0.2 s
    np.testing.assert_allclose(res.probabilities[0], [0, 1], atol=1e-12)


def test_unauthorized_is_not_retried(fake_ionq):
    with pytest.raises(cirq_ionq.IonQException, match="Not authorized") as err:
        submit(hqsim.Circuit(1).x(0), api_key="wrong", remote_host=fake_ionq.url, **FAST)
    assert err.value.status_code == 401 and len(fake_ionq.requests) == 1


def test_bad_request_is_an_ionq_error(fake_ionq):
    fake_ionq.forced = [400]
    with pytest.raises(cirq_ionq.IonQException, match="Status: 400") as err:
        submit(hqsim.Circuit(1).x(0), api_key="test-key", remote_host=fake_ionq.url, **FAST)
    assert err.value.status_code == 400


def test_failed_job_raises_with_the_server_message(fake_ionq):
    fake_ionq.failure = "qubit calibration failed"
    with pytest.raises(RuntimeError, match="qubit calibration failed"):
        submit(hqsim.Circuit(1).x(0), api_key="test-key", remote_host=fake_ionq.url, **FAST)


def test_job_that_never_finishes_times_out(fake_ionq):
    fake_ionq.statuses = ["running"]
    with pytest.raises(TimeoutError, match="timed out"):
        submit(hqsim.Circuit(1).x(0), api_key="test-key", remote_host=fake_ionq.url,
               poll_s=0.02, timeout_s=0.2, request_timeout_s=5.0, max_retry_s=1.0)


def test_hanging_server_is_bounded_by_request_timeout_and_retries(fake_ionq):
    fake_ionq.hang_s = 30.0
    t0 = time.monotonic()
    with pytest.raises(TimeoutError, match="maximum number of retries"):
        submit(hqsim.Circuit(1).x(0), api_key="test-key", remote_host=fake_ionq.url,
               poll_s=0.02, timeout_s=5.0, request_timeout_s=0.2, max_retry_s=0.25)
    assert time.monotonic() - t0 < 5.0 and len(fake_ionq.paths("POST")) == 3


def test_bad_input_is_rejected_before_any_request(fake_ionq):
    kw = dict(api_key="test-key", remote_host=fake_ionq.url, **FAST)
    with pytest.raises(ValueError, match="need 26 qubits but target 'qpu.aria-1' has 25"):
        submit(hqsim.Circuit(26).h(25), target="qpu.aria-1", **kw)
    sym = cirq.Circuit(cirq.rx(sympy.Symbol("theta")).on(cirq.LineQubit(0)))
    with pytest.raises(ValueError, match=r"unbound symbols \['theta'\]"):
        submit(sym, **kw)
    with pytest.raises(ValueError, match="pass inputs="):
        submit(hqsim.ansatz.rpqc(2, 1, 1), weights=np.zeros(6), **kw)
    with pytest.raises(ValueError, match="target must be"):
        submit(hqsim.Circuit(1).x(0), target="quantum-computer", **kw)
    with pytest.raises(ValueError, match="LineQubit"):
        submit(cirq.Circuit(cirq.X(cirq.GridQubit(0, 0))), **kw)
    assert fake_ionq.requests == []

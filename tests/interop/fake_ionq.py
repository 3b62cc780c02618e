"""A local fake of the IonQ v0.4 REST API on 127.0.0.1 (test helper).

It records every request, checks the API key, can answer the next requests with forced
status codes (429, 5xx, 400), scripts each job's status sequence, can fail a job or hang, and
computes results by simulating the submitted IonQ JSON circuit itself with the gate
definitions of IonQ's documentation (QIS and native GPI/GPI2/MS/ZZ, phases in turns), so the
results the client parses depend on the exact payload it sent.
"""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import numpy as np

_S2 = np.sqrt(0.5)
_P = {"x": np.array([[0, 1], [1, 0]], complex), "y": np.array([[0, -1j], [1j, 0]]),
      "z": np.diag([1.0 + 0j, -1.0])}
_FIXED = {**_P, "h": np.array([[1, 1], [1, -1]]) * _S2, "s": np.diag([1, 1j]),
          "si": np.diag([1, -1j]), "t": np.diag([1, np.exp(1j * np.pi / 4)]),
          "ti": np.diag([1, np.exp(-1j * np.pi / 4)]),
          "v": np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]) / 2,
          "vi": np.array([[1 - 1j, 1 + 1j], [1 + 1j, 1 - 1j]]) / 2}


def _exp_pauli(p: np.ndarray, theta: float) -> np.ndarray:  # exp(-i θ P / 2), P² = I
    return np.cos(theta / 2) * np.eye(p.shape[0]) - 1j * np.sin(theta / 2) * p


def _gpi(phi):
    return np.array([[0, np.exp(-2j * np.pi * phi)], [np.exp(2j * np.pi * phi), 0]])


def _gpi2(phi):
    return np.array([[1, -1j * np.exp(-2j * np.pi * phi)], [-1j * np.exp(2j * np.pi * phi), 1]]) * _S2


def _ms(p0, p1, theta):
    c, s = np.cos(np.pi * theta), np.sin(np.pi * theta)
    a, b = np.exp(-2j * np.pi * (p0 + p1)), np.exp(-2j * np.pi * (p0 - p1))
    return np.array([[c, 0, 0, -1j * a * s], [0, c, -1j * b * s, 0],
                     [0, -1j * np.conj(b) * s, c, 0], [-1j * np.conj(a) * s, 0, 0, c]])


def _op_matrix(op: dict, gateset: str):
    g = op["gate"]
    if gateset == "native":
        if g == "gpi":
            return _gpi(op["phase"]), [op["target"]]
        if g == "gpi2":
            return _gpi2(op["phase"]), [op["target"]]
        if g == "ms":
            return _ms(*op["phases"], op.get("angle", 0.25)), op["targets"]
        if g == "zz":  # exp(-i π θ Z⊗Z); cirq-ionq sends θ as "phase"
            theta = op.get("angle", op.get("phase"))
            return np.diag(np.exp(-1j * np.pi * theta * np.array([1, -1, -1, 1]))), op["targets"]
    if g in _FIXED:
        return _FIXED[g], op["targets"]
    if g in ("rx", "ry", "rz"):
        return _exp_pauli(_P[g[1]], op["rotation"]), op["targets"]
    if g in ("xx", "yy", "zz"):
        return _exp_pauli(np.kron(_P[g[0]], _P[g[0]]), op["rotation"]), op["targets"]
    if g == "cnot":
        m = np.eye(4, dtype=complex)
        m[2:, 2:] = _P["x"]
        return m, [op["control"], op["target"]]
    if g == "swap":
        return np.eye(4)[[0, 2, 1, 3]], op["targets"]
    raise ValueError(f"fake IonQ: unknown {gateset} gate {g!r}")


def simulate(ops: list, n: int, gateset: str) -> dict:
    """IonQ-style probabilities: {str(index): p} with qubit 0 the LEAST significant bit."""
    psi = np.zeros((2,) * n, dtype=complex)
    psi[(0,) * n] = 1.0
    for op in ops:
        m, qs = _op_matrix(op, gateset)
        k = len(qs)
        t = np.moveaxis(psi, qs, range(k)).reshape(2 ** k, -1)
        psi = np.moveaxis((m @ t).reshape((2,) * n), range(k), qs)
    probs = (np.abs(psi) ** 2).reshape(-1)  # big-endian: qubit 0 most significant
    out = {}
    for i, p in enumerate(probs):
        if p > 1e-14:
            little = int(format(i, f"0{n}b")[::-1], 2)
            out[str(little)] = float(p)
    return out


class FakeIonQ:
    def __init__(self, api_key: str = "test-key"):
        self.api_key = api_key
        self.requests: list[dict] = []
        self.jobs: dict[str, dict] = {}
        self.forced: list[int] = []  # status codes for the next requests, first first
        self.statuses = ["ready", "running", "completed"]  # per job, on successive GETs
        self.failure: str | None = None  # fail jobs with this message at their last status
        self.hang_s = 0.0  # delay every answer (ends early when the server stops)
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self.url

    def stop(self):
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    def paths(self, method: str | None = None) -> list[str]:
        return [r["path"] for r in self.requests if method in (None, r["method"])]

    # -- request handling ------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, method: str):
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        url = urlparse(h.path)
        with self._lock:
            self.requests.append({"method": method, "path": url.path, "query": url.query,
                                  "headers": dict(h.headers), "body": json.loads(raw) if raw else None})
            forced = self.forced.pop(0) if self.forced else None
        if self.hang_s:
            self._stop.wait(self.hang_s)
        if h.headers.get("Authorization") != f"apiKey {self.api_key}":
            return self._send(h, 401, {"error": {"message": "unauthorized"}})
        if forced is not None:
            return self._send(h, forced, {"error": {"message": f"forced {forced}"}})
        code, body = self._route(method, url.path, self.requests[-1]["body"])
        self._send(h, code, body)

    def _route(self, method, path, body):
        if method == "POST" and path == "/v0.4/jobs":
            job_id = f"job-{len(self.jobs) + 1}"
            self.jobs[job_id] = {"body": body, "gets": 0}
            return 200, {"id": job_id, "status": "ready"}
        m = re.fullmatch(r"/v0\.4/jobs/([\w-]+)(/results/probabilities(/aggregated)?)?", path)
        if method != "GET" or not m or m.group(1) not in self.jobs:
            return 404, {"error": {"message": "not found"}}
        job = self.jobs[m.group(1)]
        if m.group(2):
            return 200, self._results(m.group(1), job["body"], bool(m.group(3)))
        job["gets"] += 1
        status = self.statuses[min(job["gets"], len(self.statuses)) - 1]
        body = job["body"]
        out = {"id": m.group(1), "status": status, "backend": body["backend"],
               "name": body.get("name", ""), "metadata": body["metadata"],
               "stats": {"qubits": str(body["input"]["qubits"])}}
        if self.failure and job["gets"] >= len(self.statuses):
            out["status"], out["failure"] = "failed", {"error": self.failure, "code": "CalibrationError"}
        return 200, out

    def _results(self, job_id, body, aggregated):
        inp = body["input"]
        if "circuits" in inp:
            sizes = json.loads(body["metadata"]["qubit_numbers"])
            res = {f"{job_id}-{k}": simulate(c["circuit"], sizes[k], inp["gateset"])
                   for k, c in enumerate(inp["circuits"])}
            return res if aggregated else next(iter(res.values()))
        return simulate(inp["circuit"], inp["qubits"], inp["gateset"])

    @staticmethod
    def _send(h, code, body):
        data = json.dumps(body).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

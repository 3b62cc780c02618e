"""Noise / shot peers for W1 and W2, imported lazily, one per worker process.

Each builder returns (forward(), train_step() or None) for a spec dict with keys workload,
q, batch, shots (None = exact), traj (None = no gate noise; peers that simulate the density
matrix ignore T), p1, p2, mode. Circuits follow bench/WORKLOADS (W1: R=4, L=2, C=1; W2:
Q=10, D=384, M=2, C=2, N=4, L1=1, L2=2) with depolarizing p1 after every single-qubit gate
and two-qubit depolarizing p2 after every CNOT.
"""
from __future__ import annotations

import itertools

import numpy as np

R, L, C = 4, 2, 1
D, M, C2, N, L1, L2 = 384, 2, 2, 4, 1, 2


def w1_ops(q):
    """W1 as (name, wires, angle source) with sources ('x', j) or ('w', flat index)."""
    ops = []
    for r in range(R):
        ops += [("RY", (j,), ("x", j)) for j in range(q)]
        for l_ in range(L):
            for j in range(q):
                base = ((r * L + l_) * q + j) * 3
                ops += [("RZ", (j,), ("w", base)), ("RY", (j,), ("w", base + 1)), ("RZ", (j,), ("w", base + 2))]
            ops += [("CNOT", (j, (j + C) % q), None) for j in range(q) if (j + C) % q != j]
    return ops, R * L * q * 3


def ring(q, layers, first):
    ops, w = [], first
    for _ in range(layers):
        for c in range(1, C2 + 1):
            for j in range(q):
                ops.append(("CNOT", (j, (j + c) % q), None))
                ops.append(("RY", ((j + c) % q,), ("w", w)))
                w += 1
    return ops, w


def w2_ops(q):
    """W2's encoder and QPU module as op lists: (enc_ops, n_enc, mod_ops, n_mod)."""
    enc_ops, n_enc = ring(q, M, 0)
    mod_ops = []
    for _ in range(N):
        mod_ops += [("RY", (j,), ("x", j)) for j in range(q)]
        blk, n1 = ring(q, L1, 0)
        mod_ops += blk
    blk, n_mod = ring(q, L2, n1)
    return enc_ops, n_enc, mod_ops + blk, n_mod


def _data(spec):
    rng = np.random.default_rng(1234)
    q, b = spec["q"], spec["batch"]
    if spec["workload"] == "w1":
        ops, n_w = w1_ops(q)
        return rng.uniform(-np.pi, np.pi, (b, q)), rng.uniform(-np.pi, np.pi, n_w), ops
    emb = rng.normal(size=(b, D))
    return emb / np.linalg.norm(emb, axis=1, keepdims=True), None, None


def _depol2_kraus(p):
    paulis = [np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1, -1])]
    ks = [np.sqrt(1 - p) * np.eye(4, dtype=complex)]
    for a, b in itertools.product(range(4), repeat=2):
        if a or b:
            ks.append(np.sqrt(p / 15) * np.kron(paulis[a], paulis[b]))
    return ks


# -- PennyLane ----------------------------------------------------------------------------
def pennylane(spec, device_name):
    import pennylane as qml
    import torch
    noisy = spec["traj"] is not None
    shots = spec["shots"]
    q = spec["q"]
    dev = qml.device(device_name, wires=q)
    diff = "parameter-shift" if (shots or device_name != "default.mixed") else "backprop"
    k2 = _depol2_kraus(spec["p2"]) if noisy else None

    def apply(ops, xs, th):
        for name, wires, src in ops:
            if name == "CNOT":
                qml.CNOT(wires=list(wires))
                if noisy:
                    qml.QubitChannel(k2, wires=list(wires))
                continue
            a = xs[..., src[1]] if src[0] == "x" else th[src[1]]
            getattr(qml, name)(a, wires=wires[0])
            if noisy:
                qml.DepolarizingChannel(spec["p1"], wires=wires[0])

    def qnode(fn):
        node = qml.qnode(dev, interface="torch", diff_method=diff)(fn)
        return qml.set_shots(shots)(node) if shots else node

    x, w, ops = _data(spec)
    if spec["workload"] == "w1":
        @qnode
        def circ(xs, th):
            apply(ops, xs, th)
            return [qml.expval(qml.PauliZ(j)) for j in range(q)]
        xt = torch.tensor(x, requires_grad=True)
        params = [torch.tensor(w, requires_grad=True)]

        def run():
            if diff == "parameter-shift":  # PennyLane cannot shift broadcast (batched) parameters
                return torch.stack([torch.stack(circ(xt[i], params[0])) for i in range(xt.shape[0])])
            return torch.stack(circ(xt, params[0]), -1)
    else:
        enc_ops, n_enc, mod_ops, n_mod = w2_ops(q)
        rng = np.random.default_rng(5)

        @qnode
        def enc(feats, th):
            qml.AmplitudeEmbedding(feats, wires=range(q), pad_with=0.0, normalize=True)
            apply(enc_ops, None, th)
            return [qml.expval(qml.PauliZ(j)) for j in range(q)]

        @qnode
        def mod(angles, th):
            apply(mod_ops, angles, th)
            return qml.expval(qml.PauliZ(0))
        xt = torch.tensor(x)
        params = [torch.tensor(rng.uniform(-1, 1, n_enc), requires_grad=True),
                  torch.tensor(rng.uniform(-1, 1, n_mod), requires_grad=True)]

        def run():
            if diff == "parameter-shift":  # PennyLane cannot shift broadcast (batched) parameters
                zs = [torch.stack(enc(xt[i], params[0])) for i in range(xt.shape[0])]
                return torch.stack([mod(np.pi * z, params[1]) for z in zs])
            z = torch.stack(enc(xt, params[0]), -1)
            return mod(np.pi * z, params[1])

    def forward():
        with torch.no_grad():
            return run()

    opt = torch.optim.Adam(params, lr=0.01)

    def train():
        opt.zero_grad()
        out = run()
        (out ** 2).mean().backward()
        opt.step()

    return forward, train


def default_mixed(spec):
    return pennylane(spec, "default.mixed")


def lightning(spec):
    if spec["traj"] is not None:
        raise RuntimeError("lightning.qubit simulates pure states only: no gate noise channels")
    return pennylane(spec, "lightning.qubit")


# -- Qiskit Aer (forward only: no gradients) ------------------------------------------------
def _aer_circuit(q, ops, angle):
    from qiskit import QuantumCircuit
    qc = QuantumCircuit(q)
    for name, wires, src in ops:
        if name == "CNOT":
            qc.cx(*wires)
        else:
            getattr(qc, name.lower())(angle(src), wires[0])
    return qc


def aer(spec):
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_aer.noise import NoiseModel, depolarizing_error
    from qiskit_aer.primitives import EstimatorV2
    q = spec["q"]
    x, w, ops = _data(spec)
    xs = ParameterVector("x", q)
    # qiskit is little-endian: qubit j of the circuit is character q-1-j of the label
    obs = [SparsePauliOp("I" * (q - 1 - j) + "Z" + "I" * j) for j in range(q)]
    backend, run = {"method": "statevector", "max_parallel_threads": 2}, {}
    if spec["traj"] is not None:
        nm = NoiseModel()
        nm.add_all_qubit_quantum_error(depolarizing_error(4 / 3 * spec["p1"], 1), ["ry", "rz"])
        nm.add_all_qubit_quantum_error(depolarizing_error(16 / 15 * spec["p2"], 2), ["cx"])
        backend["noise_model"] = nm
        run = {"shots": spec["traj"]}  # statevector + noise: one trajectory per shot
    precision = 1 / np.sqrt(spec["shots"]) if spec["shots"] else 0.0
    est = EstimatorV2(options={"backend_options": backend, "run_options": run, "default_precision": precision})
    if spec["workload"] == "w1":
        qc = _aer_circuit(q, ops, lambda src: xs[src[1]] if src[0] == "x" else float(w[src[1]]))
        pub = (qc, [[o] for o in obs], x)
        return (lambda: est.run([pub]).result()[0].data.evs), None
    rng = np.random.default_rng(5)
    enc_ops, n_enc, mod_ops, n_mod = w2_ops(q)
    w_enc = rng.uniform(-1, 1, n_enc)
    w_mod = rng.uniform(-1, 1, n_mod)
    body = _aer_circuit(q, enc_ops, lambda src: float(w_enc[src[1]]))
    encs = []
    for row in x:  # one circuit per sample: amplitude encoding is a state preparation
        vec = np.zeros(2 ** q)
        vec[:D] = row
        qc = QuantumCircuit(q)
        qc.initialize(vec, list(reversed(range(q))))  # hqsim's qubit 0 = most significant bit
        encs.append((qc.compose(body), [[o] for o in obs]))
    mod = _aer_circuit(q, mod_ops, lambda src: xs[src[1]] if src[0] == "x" else float(w_mod[src[1]]))

    def forward():
        z = np.stack([r.data.evs[:, 0] for r in est.run(encs).result()])
        return est.run([(mod, [[obs[0]]], np.pi * z)]).result()[0].data.evs

    return forward, None


def describe(name, spec) -> str:
    """How a peer computes what it is timed on."""
    if name == "qiskit-aer-estimator":
        est = "exact expectation + Gaussian N(0, 1/S) (EstimatorV2 precision)" if spec["shots"] else "exact"
        return est + (f", statevector with {spec['traj']} noisy trajectories (shots)" if spec["traj"] else "")
    grad = "parameter-shift with shots" if spec["shots"] else (
        "backprop through the density matrix" if name.endswith("mixed") else "parameter-shift")
    parts = (["exact density matrix (T unused)"] if spec["traj"] else []) + \
        ([f"{spec['shots']} sampled shots"] if spec["shots"] else [])
    sim = ", ".join(parts) or "exact"
    return f"{sim}; train: {grad}"


PEERS = {"pennylane-default.mixed": default_mixed, "pennylane-lightning.qubit": lightning,
         "qiskit-aer-estimator": aer}

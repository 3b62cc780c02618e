"""W1 contestants. Each returns (forward(), forward_backward(), outputs on the check samples)
for inputs x (B, Q) and weights theta (R, L, Q, 3). Peers are imported only here, lazily."""
from __future__ import annotations

import numpy as np


def hqsim_numba(x, theta, q, r, l, c):
    import torch

    import hqsim
    circ = hqsim.ansatz.rpqc(q, r, l, c)
    layer = hqsim.QuantumLayer(circ, backend="numba", dtype=torch.float32,
                               init_weights=torch.tensor(theta.reshape(-1), dtype=torch.float32))
    xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)

    def fwd():
        with torch.no_grad():
            return layer(xt)

    def fwd_bwd():
        layer.zero_grad()
        xt.grad = None
        layer(xt).sum().backward()

    return fwd, fwd_bwd, lambda xs: layer(torch.tensor(xs, dtype=torch.float32)).detach().double().numpy()


def torch_statevector(x, theta, q, r, l, c):
    import torch

    from .torch_sv import rpqc_expectations
    xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    th = torch.tensor(theta, dtype=torch.float32, requires_grad=True)

    def fwd():
        with torch.no_grad():
            return rpqc_expectations(xt, th, q, r, l, c)

    def fwd_bwd():
        rpqc_expectations(xt, th, q, r, l, c).sum().backward()

    return fwd, fwd_bwd, lambda xs: rpqc_expectations(torch.tensor(xs, dtype=torch.float32), th, q, r, l, c).detach().double().numpy()


def _pennylane(device_name, diff_method, x, theta, q, r, l, c):
    import pennylane as qml
    import torch
    dev = qml.device(device_name, wires=q)

    @qml.qnode(dev, interface="torch", diff_method=diff_method)
    def circuit(xs, th):
        for rr in range(r):
            for qq in range(q):
                qml.RY(xs[..., qq], wires=qq)
            for ll in range(l):
                for qq in range(q):
                    qml.RZ(th[rr, ll, qq, 0], wires=qq)
                    qml.RY(th[rr, ll, qq, 1], wires=qq)
                    qml.RZ(th[rr, ll, qq, 2], wires=qq)
                for qq in range(q):
                    t = (qq + c) % q
                    if t != qq:
                        qml.CNOT(wires=[qq, t])
        return [qml.expval(qml.PauliZ(qq)) for qq in range(q)]

    dtype = torch.float64
    xt = torch.tensor(x, dtype=dtype, requires_grad=True)
    th = torch.tensor(theta, dtype=dtype, requires_grad=True)

    def run(xs):
        return torch.stack(circuit(xs, th), -1)

    def fwd():
        with torch.no_grad():
            return run(xt)

    def fwd_bwd():
        run(xt).sum().backward()

    return fwd, fwd_bwd, lambda xs: run(torch.tensor(xs, dtype=dtype)).detach().numpy()


def lightning_adjoint(x, theta, q, r, l, c):
    return _pennylane("lightning.qubit", "adjoint", x, theta, q, r, l, c)


def default_qubit_backprop(x, theta, q, r, l, c):
    return _pennylane("default.qubit", "backprop", x, theta, q, r, l, c)


def qsimcirq_forward(x, theta, q, r, l, c):
    import cirq
    import qsimcirq
    import sympy
    qs = cirq.LineQubit.range(q)
    xs = sympy.symbols(f"x0:{q}")
    ops = []
    for rr in range(r):
        ops += [cirq.ry(xs[qq]).on(qs[qq]) for qq in range(q)]
        for ll in range(l):
            for qq in range(q):
                ops += [cirq.rz(theta[rr, ll, qq, 0]).on(qs[qq]), cirq.ry(theta[rr, ll, qq, 1]).on(qs[qq]),
                        cirq.rz(theta[rr, ll, qq, 2]).on(qs[qq])]
            ops += [cirq.CNOT(qs[qq], qs[(qq + c) % q]) for qq in range(q) if (qq + c) % q != qq]
    circuit = cirq.Circuit(ops)
    obs = [cirq.Z(qs[qq]) for qq in range(q)]
    sim = qsimcirq.QSimSimulator(qsimcirq.QSimOptions(cpu_threads=int(__import__("os").environ.get("BENCH_THREADS", "2"))))

    def run(xv):
        sweep = [cirq.ParamResolver({xs[qq]: float(row[qq]) for qq in range(q)}) for row in xv]
        vals = sim.simulate_expectation_values_sweep(circuit, obs, sweep)
        return np.real(np.array(vals))

    return (lambda: run(x)), None, run


def torchquantum_statevector(x, theta, q, r, l, c):
    import torch
    import torchquantum as tq  # 0.1.8: install with --no-deps (see scripts/setup.sh bench)
    import torchquantum.functional as tqf

    def run(xs, th):
        dev = tq.QuantumDevice(n_wires=q, bsz=xs.shape[0])
        for rr in range(r):
            for qq in range(q):
                tqf.ry(dev, wires=qq, params=xs[:, qq])
            for ll in range(l):
                for qq in range(q):
                    tqf.rz(dev, wires=qq, params=th[rr, ll, qq, 0].expand(xs.shape[0]))
                    tqf.ry(dev, wires=qq, params=th[rr, ll, qq, 1].expand(xs.shape[0]))
                    tqf.rz(dev, wires=qq, params=th[rr, ll, qq, 2].expand(xs.shape[0]))
                for qq in range(q):
                    if (qq + c) % q != qq:
                        tqf.cnot(dev, wires=[qq, (qq + c) % q])
        probs = dev.get_states_1d().abs() ** 2
        idx = torch.arange(2 ** q)
        signs = torch.stack([1 - 2 * ((idx >> (q - 1 - k)) & 1) for k in range(q)], 1).to(probs.dtype)
        return probs @ signs

    xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    th = torch.tensor(theta, dtype=torch.float32, requires_grad=True)

    def fwd():
        with torch.no_grad():
            return run(xt, th)

    def fwd_bwd():
        run(xt, th).sum().backward()

    return fwd, fwd_bwd, lambda xs: run(torch.tensor(xs, dtype=torch.float32), th).detach().double().numpy()


CONTESTANTS = {
    "hqsim-numba": hqsim_numba,
    "torch-statevector": torch_statevector,
    "lightning.qubit-adjoint": lightning_adjoint,
    "default.qubit-backprop": default_qubit_backprop,
    "qsimcirq": qsimcirq_forward,
    "torchquantum": torchquantum_statevector,
}

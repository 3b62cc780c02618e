"""W1 contestants. Each factory takes inputs x (B, Q) and weights theta (R, L, Q, 3) and returns
a Contestant bound to them: forward() -> outputs (B, Q) as numpy; forward_backward(g) -> (outputs,
dx (B, Q), dtheta (R, L, Q, 3) summed over the batch) for the upstream gradient g (B, Q), or
None for a forward-only peer. Peers are imported only inside their factory (optional extras).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np


@dataclass
class Contestant:
    forward: Callable[[], np.ndarray]
    forward_backward: Optional[Callable[[np.ndarray], tuple]]
    precision: str = "complex64"


def _torch_contestant(run, xt, th, precision="complex64"):
    """A Contestant from a torch function run(x, theta) -> (B, Q) with autograd; dtheta comes
    back in the shape of th."""
    import torch

    def fwd():
        with torch.no_grad():
            return run(xt, th).double().numpy()

    def fwd_bwd(g):
        xt.grad, th.grad = None, None
        out = run(xt, th)
        out.backward(torch.as_tensor(g, dtype=out.dtype))
        return out.detach().double().numpy(), xt.grad.double().numpy(), th.grad.double().numpy()

    return Contestant(fwd, fwd_bwd, precision)


def _circuit_contestant(peer, x, theta):
    """A Contestant from a circuit peer (bench/peers/*_circuit.py) with flat weights."""
    w = theta.reshape(-1)

    def fwd_bwd(g):
        out, dx, dw = peer.forward_backward(x, w, g)
        return out, dx, dw.reshape(theta.shape)

    return Contestant(lambda: peer.forward(x, w), fwd_bwd,
                      "complex64" if getattr(peer, "real_dtype", np.float64) == np.float32 else "complex128")


def jax_jit(x, theta, q, r, l, c):
    import hqsim

    from .jax_circuit import JaxCircuit
    return _circuit_contestant(JaxCircuit(hqsim.ansatz.rpqc(q, r, l, c), range(q), np.float32), x, theta)


def catalyst_lightning_adjoint(x, theta, q, r, l, c):
    import hqsim

    from .catalyst_circuit import CatalystCircuit
    return _circuit_contestant(CatalystCircuit(hqsim.ansatz.rpqc(q, r, l, c), range(q)), x, theta)


def qulacs_adjoint(x, theta, q, r, l, c):
    import hqsim

    from .qulacs_circuit import QulacsCircuit
    return _circuit_contestant(QulacsCircuit(hqsim.ansatz.rpqc(q, r, l, c), range(q)), x, theta)


def hqsim_numba(x, theta, q, r, l, c):
    import torch

    import hqsim
    layer = hqsim.QuantumLayer(hqsim.ansatz.rpqc(q, r, l, c), backend="numba", dtype=torch.float32,
                               init_weights=torch.tensor(theta.reshape(-1), dtype=torch.float32))
    xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    contestant = _torch_contestant(lambda xs, _: layer(xs), xt, layer.weights)
    flat = contestant.forward_backward

    def fwd_bwd(g):  # the layer's weights are flat; the harness compares theta-shaped gradients
        out, dx, dw = flat(g)
        return out, dx, dw.reshape(theta.shape)

    contestant.forward_backward = fwd_bwd
    return contestant


def torch_statevector(x, theta, q, r, l, c):
    import torch

    from .torch_sv import rpqc_expectations
    xt = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    th = torch.tensor(theta, dtype=torch.float32, requires_grad=True)
    return _torch_contestant(lambda xs, t: rpqc_expectations(xs, t, q, r, l, c), xt, th)


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

    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    th = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    return _torch_contestant(lambda xs, t: torch.stack(circuit(xs, t), -1), xt, th, "complex128")


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

    return Contestant(lambda: run(x), None, "complex64")


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
    return _torch_contestant(run, xt, th)


CONTESTANTS = {
    "hqsim-numba": hqsim_numba,
    "torch-statevector": torch_statevector,
    "lightning.qubit-adjoint": lightning_adjoint,
    "default.qubit-backprop": default_qubit_backprop,
    "qsimcirq": qsimcirq_forward,
    "torchquantum": torchquantum_statevector,
    "jax-jit": jax_jit,
    "catalyst-lightning-adjoint": catalyst_lightning_adjoint,
    "qulacs": qulacs_adjoint,
}
# The issue-18 set: hqsim and the strongest CPU peers measured (WORKLOADS.md, "Peers").
STRONG = ("hqsim-numba", "jax-jit", "catalyst-lightning-adjoint", "qulacs", "lightning.qubit-adjoint",
          "torch-statevector")

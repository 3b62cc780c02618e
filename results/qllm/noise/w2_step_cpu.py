"""W2 training step (B=16) with gate noise: CPU time and wall per sample. argv: case T"""
import sys, time, torch, numpy as np
import hqsim
from torch import nn
from hqsim.models.qllm import qpu_circuit
from hqsim.noise import depolarizing_model, ionq_aria_like
case, T, where = sys.argv[1], int(sys.argv[2]), sys.argv[3]
torch.manual_seed(0)
noise = {"depol": depolarizing_model(1e-3, 1e-2), "ionq": ionq_aria_like(), "exact": None}[case]
opts = dict(noise=noise, trajectories=T, seed=0) if noise else {}
enc = hqsim.QuantumLayer(hqsim.ansatz.amplitude_encoder(10, 384, 2, 2), **(opts if where == "all" else {}))
qpu = hqsim.QuantumLayer(qpu_circuit(10, 1, 4, 1, 2, 2), observables=[hqsim.Z(0)], **opts)
head = nn.Linear(11, 2)
opt = torch.optim.Adam([enc.weights, qpu.weights, *head.parameters()], lr=0.01)
x = torch.nn.functional.normalize(torch.randn(16, 384), dim=1); y = torch.randint(0, 2, (16,))
def step():
    e = enc(x); q = qpu(np.pi * e); loss = nn.functional.cross_entropy(head(torch.cat([e, q], 1)), y)
    opt.zero_grad(); loss.backward(); opt.step()
for _ in range(3): step()
n = int(sys.argv[4]) if len(sys.argv) > 4 else 10
c0, t0 = time.process_time(), time.perf_counter()
for _ in range(n): step()
cpu, wall = (time.process_time() - c0) / n, (time.perf_counter() - t0) / n
print(f"{hqsim.__file__.split('/')[2]} {case} T={T} noise-on={where} step: wall {wall*1e3:.1f} ms cpu {cpu*1e3:.1f} ms  -> {16/wall:.1f} samples/s wall, {16/cpu:.1f} samples/cpu-s")

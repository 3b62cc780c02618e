"""QPA (Quantum Parameter Adaptation; Liu et al., "A Quantum Circuit-Based Compression
Perspective for Parameter-Efficient Learning", arXiv 2410.09846): a QNN and a small classical
mapping MLP *generate* the LoRA matrices of every adapted layer.

- The QNN (``hqsim.ansatz.ring_pqc``: ``layers`` × [CNOT ring, RY on every target] on n
  qubits, from |0…0⟩) gives the probabilities p_j of its 2^n basis states. hqsim returns
  expectations, so the layer measures the 2^n - 1 Z-strings ⟨Z_S⟩ and p = H^{⊗n} [1, ⟨Z_S⟩] / 2^n
  (a fast Walsh–Hadamard transform, differentiable).
- The mapping MLP takes, for every basis state j, its bit string (±1 each) and 2^n·p_j - 1,
  and returns ``chunk`` numbers; the 2^n·chunk numbers, in order, are the first ``total``
  entries of [A_1, B_1, A_2, B_2, …] (A_l (rank, in), B_l (out, rank)), so
  n = ceil(log2(ceil(total / chunk))).
- The update of layer l is ``x A_lᵀ B_lᵀ`` with A_l scaled by 1/√in (LoRA's init range) and
  B_l measured from its generated value at initialisation (a frozen offset), so B_l = 0 at
  step 0 while its gradient is not: the model is unchanged at init, as with LoRA's zero B.

Generation does not depend on the data: the QNN runs once per forward pass of the adapted
model (batch of one circuit; a forward pre-hook on the model clears the generated matrices),
whatever the number of tokens. The generated matrices are fixed numbers once trained, so QPA
merges into the base weights exactly like LoRA.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .. import ansatz
from ..ir import PauliString
from ..nn.layer import QuantumLayer
from .adapters import AdapterLinear
from .options import QPAConfig


def z_strings(n: int) -> list[PauliString]:
    """Every non-empty product of Z's on n qubits; entry S-1 has qubit q where bit n-1-q of S is set."""
    return [PauliString(tuple((q, "Z") for q in range(n) if s >> (n - 1 - q) & 1)) for s in range(1, 2 ** n)]


def walsh_hadamard(v: torch.Tensor, n: int) -> torch.Tensor:
    """H^{⊗n} v for v (2^n,) (unnormalised ±1 entries; qubit 0 the most significant bit)."""
    t = v.reshape((2,) * n)
    for k in range(n):
        a, b = t.select(k, 0), t.select(k, 1)
        t = torch.stack((a + b, a - b), dim=k)
    return t.reshape(-1)


class QPAGenerator(nn.Module):
    """Generates the LoRA matrices of the layers ``shapes`` {name: (in, out)}; see the module
    docstring. ``matrices()`` returns {name: (A, B)}, generated once until ``invalidate()``."""

    def __init__(self, shapes: dict, config: QPAConfig, dtype=torch.float32):
        super().__init__()
        self.config, self.shapes = config, dict(shapes)
        r = config.rank
        self.total = sum(r * (i + o) for i, o in self.shapes.values())
        chunks = math.ceil(self.total / config.chunk)
        n = max(1, math.ceil(math.log2(chunks)))
        if n > config.max_qubits:
            raise ValueError(f"QPA needs {n} qubits to generate {self.total:,} LoRA parameters in chunks "
                             f"of {config.chunk} (2^n >= {chunks:,} basis states), more than max_qubits="
                             f"{config.max_qubits}; raise chunk (or max_qubits), or lower rank")
        self.num_qubits = n
        qdtype = torch.float64 if dtype == torch.float64 else torch.float32
        self.qnn = QuantumLayer(ansatz.ring_pqc(n, config.layers, 1), observables=z_strings(n),
                                backend=config.backend, dtype=qdtype)
        index = torch.arange(2 ** n)
        bits = torch.stack([1 - 2 * ((index >> (n - 1 - q)) & 1) for q in range(n)], 1)
        self.register_buffer("bits", bits.to(dtype))
        widths = (n + 1,) + config.hidden
        layers = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b, dtype=dtype), nn.Tanh()]
        self.mlp = nn.Sequential(*layers, nn.Linear(widths[-1], config.chunk, dtype=dtype))
        self._cache = None
        with torch.no_grad():
            self.register_buffer("b_offset", self._generate_flat()[self._b_index()].clone())

    def _b_index(self) -> torch.Tensor:
        idx, start, r = [], 0, self.config.rank
        for i, o in self.shapes.values():
            start += r * i
            idx.append(torch.arange(start, start + r * o))
            start += r * o
        return torch.cat(idx)

    def probabilities(self) -> torch.Tensor:
        """p (2^n,) of the QNN's final state: one hqsim call (batch of one circuit)."""
        w = self.qnn.weights
        z = self.qnn(torch.zeros(1, 0, dtype=w.dtype, device=w.device))[0]
        full = torch.cat([torch.ones(1, dtype=z.dtype, device=z.device), z])
        return walsh_hadamard(full, self.num_qubits) / 2 ** self.num_qubits

    def _generate_flat(self) -> torch.Tensor:
        p = self.probabilities().to(self.bits.dtype)
        features = torch.cat([self.bits, (2 ** self.num_qubits * p - 1)[:, None]], 1)
        return self.mlp(features).reshape(-1)[:self.total]

    def invalidate(self, *_):
        self._cache = None

    def matrices(self) -> dict:
        if self._cache is None:
            flat = self._generate_flat()
            b_idx = self._b_index().to(flat.device)
            flat = flat.index_add(0, b_idx, -self.b_offset)
            out, start, r = {}, 0, self.config.rank
            for name, (i, o) in self.shapes.items():
                a = flat[start:start + r * i].reshape(r, i) / math.sqrt(i)
                start += r * i
                b = flat[start:start + r * o].reshape(o, r)
                start += r * o
                out[name] = (a, b)
            self._cache = out
        return self._cache


class QPALinear(AdapterLinear):
    """``delta(x) = (x Aᵀ) Bᵀ`` with (A, B) from the shared QPAGenerator."""

    def __init__(self, base: nn.Linear, generator: QPAGenerator, name: str):
        super().__init__(base)
        self.name = name
        # a plain reference, not a submodule: the generator's weights belong to the model once
        object.__setattr__(self, "generator", generator)

    def delta(self, x):
        a, b = self.generator.matrices()[self.name]
        return (x @ a.T.to(x.dtype)) @ b.T.to(x.dtype)

    def delta_weight(self):
        a, b = self.generator.matrices()[self.name]
        return b @ a

"""Adapters that wrap a frozen ``nn.Linear``: ``y = base(x) + delta(x)``, with ``delta`` exactly
zero at initialisation (the pre-trained model's function is unchanged at step 0).

QTHA's quantum path is one ``hqsim.QuantumLayer`` call per adapted layer and forward pass, on
every token at once: x (B, T, d_in) is flattened to B·T rows of angles, and the backward is
one adjoint pass over the same rows.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .. import ansatz
from ..nn.layer import QuantumLayer
from .options import QTHAConfig, QuanTAConfig
from .tensors import MPO, apply_gates, factorize, gate_shapes, identity_gate, to_matrix


class AdapterLinear(nn.Module):
    """Base class: holds the frozen ``base`` layer; subclasses define ``delta`` and, if their
    update is a fixed matrix, ``delta_weight`` (else merging is refused with ``merge_refusal``)."""

    merge_refusal: str | None = None

    def __init__(self, base: nn.Linear):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"adapters wrap nn.Linear modules, got {type(base).__name__}")
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def delta(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def delta_weight(self) -> torch.Tensor:
        """The (out, in) matrix ΔW with delta(x) = x ΔWᵀ."""
        raise NotImplementedError

    def forward(self, x):
        return self.base(x) + self.delta(x)

    def merged(self) -> nn.Linear:
        """A plain ``nn.Linear`` computing the same function (W0 + ΔW)."""
        if self.merge_refusal:
            raise ValueError(self.merge_refusal)
        out = nn.Linear(self.in_features, self.out_features, bias=self.base.bias is not None,
                        dtype=self.base.weight.dtype, device=self.base.weight.device)
        with torch.no_grad():
            out.weight.copy_(self.base.weight + self.delta_weight())
            if self.base.bias is not None:
                out.bias.copy_(self.base.bias)
        out.requires_grad_(False)
        return out


def _kaiming_uniform(rows: int, cols: int, dtype) -> torch.Tensor:
    """LoRA's initialisation of A (nn.Linear's default: U(-1/√cols, 1/√cols))."""
    bound = 1.0 / math.sqrt(cols)
    return (torch.rand(rows, cols, dtype=dtype) * 2 - 1) * bound


class QTHALinear(AdapterLinear):
    """QTHA: ``delta(x) = α·MPO(x) + (1-α)·U ⟨Z⟩(PQC(RY(P x)))``.

    P (qubits, in) is random, U (out, qubits) and the MPO's last core are zero at init. The
    PQC is ``hqsim.ansatz.rpqc(qubits, reuploads=1, layers)``: RY(angle) on every qubit, then
    ``layers`` × (RZ·RY·RZ on every qubit, CNOT ring). Not mergeable: ⟨Z⟩ is not linear in x."""

    merge_refusal = ("QTHA cannot be merged into the base weights: its quantum path ⟨Z⟩(PQC(RY(Px))) "
                     "is not linear in the input; keep the adapter (or merge only QuanTA / QPA / LoRA)")

    def __init__(self, base: nn.Linear, config: QTHAConfig, name: str = "layer"):
        super().__init__(base)
        q, dtype = config.qubits, base.weight.dtype
        if q > min(base.in_features, base.out_features):
            raise ValueError(f"QTHA qubits={q} exceeds the width of {name!r} ({base.in_features} in, "
                             f"{base.out_features} out): the input is projected down to one angle per "
                             f"qubit; choose qubits <= {min(base.in_features, base.out_features)}")
        self.config = config
        self.down = nn.Parameter(_kaiming_uniform(q, base.in_features, dtype))
        self.qnn = QuantumLayer(ansatz.rpqc(q, reuploads=1, layers=config.layers), backend=config.backend,
                                dtype=dtype if dtype == torch.float64 else torch.float32)
        self.up = nn.Parameter(torch.zeros(base.out_features, q, dtype=dtype))
        self.mpo = MPO(base.in_features, base.out_features, config.mpo_cores, config.mpo_bond, dtype=dtype)
        logit = math.log(config.fusion_weight / (1 - config.fusion_weight))
        if config.fusion == "learned":
            self.fusion_logit = nn.Parameter(torch.tensor(logit, dtype=dtype))
        else:
            self.register_buffer("fusion_logit", torch.tensor(logit, dtype=dtype))
        self.to(base.weight.device)

    def quantum_features(self, x: torch.Tensor) -> torch.Tensor:
        """⟨Z_q⟩ (…, qubits) for every row of x (…, in): one QuantumLayer call on all rows."""
        rows = x.reshape(-1, self.in_features)
        z = self.qnn(rows @ self.down.T)
        return z.to(x.dtype).reshape(*x.shape[:-1], self.config.qubits)

    def delta(self, x):
        alpha = torch.sigmoid(self.fusion_logit)
        return alpha * self.mpo(x) + (1 - alpha) * (self.quantum_features(x) @ self.up.T)


class QuanTALinear(AdapterLinear):
    """QuanTA: ``delta(x) = 𝒯(x) - 𝒮(x)``; 𝒯 applies one trainable gate per pair of axes of
    the reshaped input (in order), 𝒮 the same gates frozen at their initial values (identity
    for square gates). Mergeable: ΔW = matrix(𝒯) - matrix(𝒮)."""

    def __init__(self, base: nn.Linear, config: QuanTAConfig, name: str = "layer"):
        super().__init__(base)
        dtype = base.weight.dtype
        self.config = config
        self.in_dims = factorize(base.in_features, config.axes)
        self.out_dims = factorize(base.out_features, config.axes)
        spec = gate_shapes(self.in_dims, self.out_dims)
        self.pairs = [p for p, _ in spec]
        self.gates = nn.ParameterList([nn.Parameter(identity_gate(s, dtype)) for _, s in spec])
        for g, (_, s) in enumerate(spec):
            self.register_buffer(f"frozen_{g}", identity_gate(s, dtype))
        # square identity gates make 𝒮 the identity: 𝒮(x) = x exactly, so skip applying them
        self.frozen_is_identity = all(s[:2] == s[2:] for _, s in spec)
        self.to(base.weight.device)

    def _frozen(self):
        return [getattr(self, f"frozen_{g}") for g in range(len(self.pairs))]

    def _transform(self, x, gates):
        return apply_gates(x, gates, self.pairs, self.in_dims, self.out_dims)

    def _frozen_map(self, x):
        return x if self.frozen_is_identity else self._transform(x, self._frozen())

    def delta(self, x):
        return self._transform(x, list(self.gates)) - self._frozen_map(x)

    def delta_weight(self):
        w = self.base.weight
        return (to_matrix(lambda e: self._transform(e, list(self.gates)), self.in_features, w)
                - to_matrix(self._frozen_map, self.in_features, w))

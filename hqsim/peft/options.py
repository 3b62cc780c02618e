"""The fine-tuning methods' options: one frozen dataclass per method, validated on creation.

Every adapter method selects the ``nn.Linear`` modules it wraps with ``target_modules``, with
the rule of the ``peft`` library: a list of names selects every module whose name equals an
entry or ends with ``"." + entry`` (``("query", "value")`` → every attention query and value
projection); a single string is a regular expression that must match the whole module name.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

DEFAULT_TARGETS = ("query", "value")
FUSIONS = ("fixed", "learned")


def _positive(owner: str, **values):
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{owner}: {name} must be a positive integer, got {v!r}")


def _number(owner: str, name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{owner}: {name} must be a number, got {v!r}")
    return float(v)


def _backend(owner: str, v) -> str:
    if not isinstance(v, str) or not v:
        raise ValueError(f"{owner}: backend must be an hqsim backend name (e.g. 'auto', 'numba'), got {v!r}")
    return v


def _targets(owner: str, targets):
    if isinstance(targets, str):
        if not targets:
            raise ValueError(f"{owner}: target_modules must not be empty")
        return targets
    targets = tuple(targets)
    if not targets or not all(isinstance(t, str) and t for t in targets):
        raise ValueError(f"{owner}: target_modules must be a regular expression or a non-empty "
                         f"list of module names, got {targets!r}")
    return targets


class _Method:
    method: ClassVar[str]

    def to_dict(self) -> dict:
        d = asdict(self)
        if isinstance(d.get("target_modules"), tuple):
            d["target_modules"] = list(d["target_modules"])
        return {"method": self.method, **d}


@dataclass(frozen=True)
class QTHAConfig(_Method):
    """Quantum Tensor Hybrid Adaptation (Kong et al., arXiv 2503.12790).

    ``y = W0 x + b0 + α·MPO(x) + (1-α)·U ⟨Z⟩(RY(P x) → PQC)``: an MPO path (``mpo_cores``
    cores, bond dimension ``mpo_bond``) and a quantum path (``qubits`` angles ``P x``, a PQC of
    ``layers`` RZ·RY·RZ + CNOT-ring layers, ⟨Z_q⟩ read out, projected up by ``U``), fused
    linearly with weight ``fusion_weight`` (``fusion="learned"``: α = sigmoid(a), trained, one
    per layer, starting at ``fusion_weight``)."""

    method: ClassVar[str] = "qtha"
    target_modules: tuple | str = DEFAULT_TARGETS
    qubits: int = 4
    layers: int = 2
    mpo_bond: int = 2
    mpo_cores: int = 3
    fusion: str = "fixed"
    fusion_weight: float = 0.5
    backend: str = "auto"

    def __post_init__(self):
        object.__setattr__(self, "target_modules", _targets("QTHA", self.target_modules))
        _positive("QTHA", qubits=self.qubits, layers=self.layers, mpo_bond=self.mpo_bond,
                  mpo_cores=self.mpo_cores)
        if self.fusion not in FUSIONS:
            raise ValueError(f"QTHA: fusion must be one of {FUSIONS}, got {self.fusion!r}")
        _backend("QTHA", self.backend)
        if not 0.0 < _number("QTHA", "fusion_weight", self.fusion_weight) < 1.0:
            raise ValueError(f"QTHA: fusion_weight α must be in (0, 1) (both paths present), got "
                             f"{self.fusion_weight}")

    def label(self) -> str:
        return (f"QTHA Q={self.qubits} L={self.layers} χ={self.mpo_bond}"
                + (" α learned" if self.fusion == "learned" else ""))


@dataclass(frozen=True)
class QPAConfig(_Method):
    """Quantum Parameter Adaptation (Liu et al., arXiv 2410.09846).

    A QNN of ``layers`` RY + CNOT-ring layers on n qubits gives the probabilities of its 2^n
    basis states; a mapping MLP (``hidden`` widths, tanh) turns each (bit string, probability)
    into ``chunk`` numbers; together they are the rank-``rank`` LoRA matrices of every target
    layer (n = ceil(log2(ceil(total / chunk)))). Trainable parameters grow with n, not width."""

    method: ClassVar[str] = "qpa"
    target_modules: tuple | str = DEFAULT_TARGETS
    rank: int = 4
    chunk: int = 64
    layers: int = 4
    hidden: tuple = (16,)
    max_qubits: int = 12
    backend: str = "auto"

    def __post_init__(self):
        object.__setattr__(self, "target_modules", _targets("QPA", self.target_modules))
        if isinstance(self.hidden, (str, bytes)) or not hasattr(self.hidden, "__iter__"):
            raise ValueError(f"QPA: hidden must be a list of layer widths, got {self.hidden!r}")
        object.__setattr__(self, "hidden", tuple(self.hidden))
        _positive("QPA", rank=self.rank, chunk=self.chunk, layers=self.layers,
                  max_qubits=self.max_qubits)
        _backend("QPA", self.backend)
        for h in self.hidden:
            _positive("QPA", hidden=h)

    def label(self) -> str:
        return f"QPA r={self.rank} chunk={self.chunk} L={self.layers}"


@dataclass(frozen=True)
class QuanTAConfig(_Method):
    """Quantum-informed Tensor Adaptation (Chen et al., arXiv 2406.00132).

    The in/out features are reshaped into ``axes`` axes; one small tensor ("gate") acts on every
    pair of axes, in order; the update is the product of the gates minus a frozen copy of their
    initial values (so the model is unchanged at step 0). No circuit is simulated."""

    method: ClassVar[str] = "quanta"
    target_modules: tuple | str = DEFAULT_TARGETS
    axes: int = 4

    def __post_init__(self):
        object.__setattr__(self, "target_modules", _targets("QuanTA", self.target_modules))
        _positive("QuanTA", axes=self.axes)
        if self.axes < 2:
            raise ValueError(f"QuanTA: axes must be >= 2 (gates act on pairs of axes), got {self.axes}")

    def label(self) -> str:
        return f"QuanTA N={self.axes}"


@dataclass(frozen=True)
class LoRAConfig(_Method):
    """LoRA through the ``peft`` library: ``y = W0 x + (alpha / rank) B A x``, B zero at init.
    ``alpha`` None means alpha = rank (scale 1)."""

    method: ClassVar[str] = "lora"
    target_modules: tuple | str = DEFAULT_TARGETS
    rank: int = 4
    alpha: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "target_modules", _targets("LoRA", self.target_modules))
        _positive("LoRA", rank=self.rank)
        if self.alpha is not None and not _number("LoRA", "alpha", self.alpha) > 0:
            raise ValueError(f"LoRA: alpha must be > 0, got {self.alpha}")

    def label(self) -> str:
        return f"LoRA r={self.rank}"


@dataclass(frozen=True)
class FullConfig(_Method):
    """Full fine-tuning: every weight of the encoder and the head is trained."""

    method: ClassVar[str] = "full"

    def label(self) -> str:
        return "full fine-tuning"


@dataclass(frozen=True)
class HeadConfig(_Method):
    """The frozen model with a trained linear head on its sentence embeddings."""

    method: ClassVar[str] = "head"

    def label(self) -> str:
        return "frozen + head"


METHODS = {c.method: c for c in (QTHAConfig, QPAConfig, QuanTAConfig, LoRAConfig, FullConfig, HeadConfig)}
QUANTUM_METHODS = ("qtha", "qpa")
ADAPTERS = (QTHAConfig, QPAConfig, QuanTAConfig)


def from_dict(d: dict):
    """The config a ``to_dict()`` wrote (checkpoints and saved adapters)."""
    d = dict(d)
    method = d.pop("method", None)
    if method not in METHODS:
        raise ValueError(f"unknown fine-tuning method {method!r}; choose from {list(METHODS)}")
    if isinstance(d.get("target_modules"), list):
        d["target_modules"] = tuple(d["target_modules"])
    return METHODS[method](**d)

"""The hybrid sentiment classifier of Kim et al., "Quantum Large Language Model Fine-Tuning"
(arXiv 2504.08732), on hqsim's ``QuantumLayer``.

    embedding (B, D) ─▶ E simulated quantum encoders, each: amplitude-encode the L2-normalised,
                        zero-padded embedding into Q qubits ─▶ M ring layers (connectivity C)
                        ─▶ <Z_q> on every qubit                               → (B, E·Q)
                    ─▶ QPU module: N re-uploading blocks [RY(scale·z) on every qubit ─▶ PQC1
                        (weights shared by the blocks)] ─▶ PQC2 ─▶ <Z_q>, q < Q_m → (B, Q_m)
                    ─▶ final linear layer (F) on [encoder outputs, QPU outputs] → (B, K) logits

Choices the paper leaves open, made here and kept as options:

- With E > 1 encoders, re-uploading block n uploads encoder ``n mod E``'s outputs, so every
  encoder reaches the QPU module when N >= E (for E = 1 this is exactly
  ``hqsim.ansatz.reuploading_module``). All E·Q encoder outputs also go to the head.
- Encoder outputs z ∈ [-1, 1] become RY angles ``angle_scale · z`` (default π).
- F ("final linear layer") is on/off: off means no trainable head; binary only, with
  P(positive) = (1 + <Z_0>)/2 of the QPU module.
- Shots S > 0: every quantum layer is ``hqsim.QuantumLayer(circuit, shots=S, seed=...,
  gradient=...)`` (hqsim.noise): for each sample, S bitstrings are drawn jointly from the final
  state's |psi|^2 and each <Z_q> is the mean parity of qubit q over those S bitstrings, so the
  estimates of one layer share their shots and carry the physical correlations between qubits.
  Shots are sampled in training and in evaluation alike (as on hardware). S = 0 is the exact
  expectation.
- Gradient mode (``gradient``, used when S > 0, and with S = 0 when not "adjoint"):
  "adjoint" (default) is the exact gradient of the exact expectation, i.e. of the quantity the
  S-shot estimate is an unbiased estimate of (one adjoint pass per backward; shot noise enters
  only the forward); "parameter-shift" estimates every shifted circuit from S shots, as on
  hardware (2 circuits per weight occurrence and per angle input, so far slower; it cannot
  differentiate the amplitude encoding, hence not with ``--finetune-encoder``); "spsa" uses
  two S-shot circuits per random direction and sample.
- Gate noise (``noise``, default "none"): a noise model by name (``parse_noise``): the device
  presets of ``hqsim.noise.PRESETS`` ("ionq-aria", "google-sycamore", "google-weber-2021";
  depolarizing gate errors plus readout error, see hqsim/noise/models.py for the sources),
  "depolarizing:P1[,P2[,READOUT]]" (P1 after single-qubit gates, P2 after two-qubit gates,
  default P2 = P1; optional symmetric readout error) or "amplitude-damping:GAMMA" (after every
  gate; not a Pauli channel). Simulated by ``trajectories`` T (default 16) quantum trajectories
  per sample (``hqsim.QuantumLayer(noise=..., trajectories=T)``): the estimate is the mean
  over the T rows (then S shots of their mixture when S > 0). Noise applies in training and in
  evaluation alike. Amplitude-encoding state preparation is noiseless.
- Where the noise applies (``noise_on``): "qpu" (default) puts it on the QPU module only, since
  the paper runs the encoders as classical simulation and only the QPU module would run on a
  device; "all" also puts it on every encoder. Shots (S) keep applying to every layer as
  before.
- Gradients under noise: with Pauli channels (every preset, "depolarizing:...") the "adjoint"
  mode is the exact gradient of each sampled trajectory, averaged (an unbiased estimate of the
  gradient of the noisy expectation). Amplitude damping is not a Pauli channel and has no
  adjoint gradient (the trajectories run a forward-only quantum-jump engine): the config
  refuses it with gradient "adjoint" and asks for "parameter-shift" or "spsa" (no preset
  contains amplitude damping, so no Pauli part is silently substituted).
- Shot and trajectory randomness is reproducible: every quantum layer with shots or noise owns
  one numpy Generator (shots, sampled errors and SPSA directions all come from it);
  ``shot_seed`` (or ``model.shot_generator.manual_seed(seed)``, which the training loop calls
  with a value derived from the run's seed) seeds them all through one
  ``numpy.random.SeedSequence``, one child stream per layer, and ``shot_generator.get_state()
  / set_state()`` save and restore them for exact resume.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from ..ansatz import amplitude_encoder, reuploading_module
from ..ir import Circuit, Z

GRADIENT_MODES = ("adjoint", "parameter-shift", "spsa")  # hqsim.noise.GRADIENT_MODES
NOISE_ON = ("qpu", "all")


def _noise_error(spec, why: str) -> ValueError:
    from ..noise import PRESETS
    forms = ", ".join(["none", *PRESETS, "depolarizing:P1[,P2[,READOUT]]", "amplitude-damping:GAMMA"])
    return ValueError(f"noise (--noise) {spec!r}: {why}; allowed: {forms}")


def _probabilities(spec, text: str, names: tuple) -> list:
    parts = [t.strip() for t in text.split(",")]
    if not 1 <= len(parts) <= len(names) or any(not t for t in parts):
        raise _noise_error(spec, f"expects {len(names) == 1 and names[0] or ','.join(names)} "
                                 f"(1 to {len(names)} comma-separated numbers)")
    vals = []
    for name, t in zip(names, parts):
        try:
            v = float(t)
        except ValueError:
            raise _noise_error(spec, f"{name} must be a number, got {t!r}") from None
        if not 0.0 <= v <= 1.0:
            raise _noise_error(spec, f"{name} must be a probability in [0, 1], got {t}")
        vals.append(v)
    return vals


def parse_noise(spec: str):
    """(canonical spec, hqsim.noise.NoiseModel or None) for a ``--noise`` value; a ValueError
    naming the argument and the allowed forms otherwise."""
    from ..noise import PRESETS, AmplitudeDamping, NoiseModel, depolarizing_model
    if not isinstance(spec, str):
        raise _noise_error(spec, "must be a string")
    key = spec.strip().lower()
    if key in ("none", ""):
        return "none", None
    if key in PRESETS:
        return key, PRESETS[key]()
    kind, sep, rest = key.partition(":")
    if kind == "depolarizing" and sep:
        vals = _probabilities(spec, rest, ("P1", "P2", "READOUT"))
        p1, p2 = vals[0], vals[1] if len(vals) > 1 else vals[0]
        canon = f"depolarizing:{p1:g},{p2:g}" + (f",{vals[2]:g}" if len(vals) > 2 else "")
        return canon, depolarizing_model(p1, p2, vals[2] if len(vals) > 2 else None)
    if kind == "amplitude-damping" and sep:
        (g,) = _probabilities(spec, rest, ("GAMMA",))
        ch = AmplitudeDamping(g)
        return f"amplitude-damping:{g:g}", NoiseModel(one_qubit=ch, two_qubit=ch, name=f"amplitude-damping({g:g})")
    if kind in ("depolarizing", "amplitude-damping"):
        raise _noise_error(spec, f"{kind} needs its parameters after a colon")
    raise _noise_error(spec, "unknown noise model")


@dataclass(frozen=True)
class QLLMConfig:
    """Hyperparameters with the paper's symbols."""

    num_features: int = 384     # D: embedding dimension
    num_classes: int = 2        # K
    qubits: int = 10            # Q
    encoders: int = 1           # E
    encoder_layers: int = 2     # M
    reuploads: int = 4          # N
    pqc1_layers: int = 1        # PQC1 layers (shared across re-uploads)
    pqc2_layers: int = 2        # PQC2 layers
    connectivity: int = 2       # C
    measured_qubits: int = 1    # Q_m
    final_linear: bool = True   # F
    shots: int = 0              # S (0 = exact expectations)
    gradient: str = "adjoint"   # gradient mode: "adjoint" | "parameter-shift" | "spsa"
    angle_scale: float = math.pi
    noise: str = "none"         # gate noise: "none", a preset, "depolarizing:P1[,P2[,READOUT]]", ...
    trajectories: int = 16      # T: quantum trajectories per sample under gate noise
    noise_on: str = "qpu"       # where the noise applies: "qpu" (QPU module only) | "all"

    def __post_init__(self):
        for name in ("num_features", "qubits", "encoders", "encoder_layers", "reuploads",
                     "pqc1_layers", "pqc2_layers", "connectivity", "measured_qubits"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {self.num_classes}")
        need = max(1, (self.num_features - 1).bit_length())
        if self.qubits < need:
            raise ValueError(f"qubits Q={self.qubits} cannot amplitude-encode {self.num_features} "
                             f"features: need Q >= {need} (2^Q >= D)")
        if self.measured_qubits > self.qubits:
            raise ValueError(f"measured_qubits Q_m={self.measured_qubits} exceeds qubits Q={self.qubits}")
        if self.connectivity >= self.qubits:
            raise ValueError(f"connectivity C={self.connectivity} must be below qubits Q={self.qubits}")
        if isinstance(self.shots, bool) or not isinstance(self.shots, int) or self.shots < 0:
            raise ValueError(f"shots S must be an int >= 0 (0 = exact), got {self.shots!r}")
        if self.gradient not in GRADIENT_MODES:
            raise ValueError(f"gradient must be one of {', '.join(GRADIENT_MODES)}, got {self.gradient!r}")
        if not self.final_linear and (self.num_classes != 2 or self.measured_qubits != 1):
            raise ValueError("without the final linear layer (F off) the model reads P(positive) "
                             "from <Z_0>: needs num_classes=2 and measured_qubits=1")
        canon, model = parse_noise(self.noise)
        object.__setattr__(self, "noise", canon)
        t = self.trajectories
        if isinstance(t, bool) or not isinstance(t, int) or t < 1:
            raise ValueError(f"trajectories T (--trajectories) must be a positive int, got {t!r}")
        if self.noise_on not in NOISE_ON:
            raise ValueError(f"noise_on (--noise-on) must be one of {', '.join(NOISE_ON)}, got {self.noise_on!r}")
        if model is not None and not model.is_pauli and self.gradient == "adjoint":
            raise ValueError(f"noise (--noise) {canon!r} contains amplitude damping, which has no adjoint "
                             "gradient (it is simulated by forward-only quantum jumps); train it with "
                             "gradient (--gradient) parameter-shift or spsa, or choose a Pauli noise "
                             "model (a preset or depolarizing:P1,P2)")

    def noise_model(self):
        """The hqsim.noise.NoiseModel of ``noise`` (None for "none")."""
        return parse_noise(self.noise)[1]

    def to_dict(self) -> dict:
        return asdict(self)

    def label(self) -> str:
        s = (f"QLLM Q={self.qubits} E={self.encoders} M={self.encoder_layers} N={self.reuploads} "
             f"C={self.connectivity}")
        if self.pqc1_layers != 1 or self.pqc2_layers != 2:
            s += f" L1={self.pqc1_layers} L2={self.pqc2_layers}"
        if self.shots:
            s += f" S={self.shots}"
        if self.gradient != "adjoint":
            s += f" grad={self.gradient}"
        if self.noise != "none":
            s += f" noise={self.noise} T={self.trajectories}" + (" on=all" if self.noise_on == "all" else "")
        if not self.final_linear:
            s += " F=off"
        return s


def qpu_circuit(num_qubits: int, num_encoders: int = 1, blocks: int = 4, pqc1_layers: int = 1,
                pqc2_layers: int = 2, connectivity: int = 2) -> Circuit:
    """The QPU module with E encoders: ``hqsim.ansatz.reuploading_module`` (block n uploads
    encoder n mod E)."""
    return reuploading_module(num_qubits, blocks, pqc1_layers, pqc2_layers, connectivity, num_encoders)


def _quantum_layer_class():
    import hqsim
    try:
        return hqsim.QuantumLayer
    except (AttributeError, ImportError) as exc:
        raise ImportError("hqsim.QuantumLayer (hqsim/nn/layer.py) could not be loaded "
                          f"({type(exc).__name__}: {exc}); the QLLM model needs it") from exc


class ShotGenerator:
    """The shot and trajectory randomness of a model's quantum layers (each layer with shots or
    noise draws both from its one numpy Generator), behind torch.Generator's interface
    (``manual_seed``, ``get_state``, ``set_state``) so the training loop can seed, checkpoint
    and restore it. Seeding draws one child of ``numpy.random.SeedSequence(seed)`` per layer."""

    def __init__(self, layers):
        self._layers = [layer for layer in layers if getattr(layer, "noise_options", None) is not None]

    @property
    def active(self) -> bool:
        return bool(self._layers)

    def manual_seed(self, seed: int) -> "ShotGenerator":
        children = np.random.SeedSequence(int(seed)).spawn(len(self._layers))
        for layer, child in zip(self._layers, children):
            layer.rng = np.random.default_rng(child)
        return self

    def get_state(self):
        return [layer.rng.bit_generator.state for layer in self._layers]

    def set_state(self, state):
        if not self._layers and not isinstance(state, (list, tuple)):
            return  # an exact model's checkpoint from before the shot layers (a torch.Generator state)
        if len(state) != len(self._layers):
            raise ValueError(f"shot generator state holds {len(state)} layers, the model has {len(self._layers)}")
        for layer, st in zip(self._layers, state):
            layer.rng.bit_generator.state = st


class QLLMClassifier(nn.Module):
    """``forward(embeddings (B, D) float) -> logits (B, K)``. Does not mutate its input.

    Trainable: each encoder's ``weights`` (M·C·Q), the QPU module's (L1+L2)·C·Q, the head's
    (E·Q + Q_m)·K + K. ``backend`` and ``dtype`` go to every ``hqsim.QuantumLayer``; with
    ``config.shots`` S > 0 (or a gradient mode other than adjoint) the layers are built with
    ``shots=S, gradient=config.gradient``, and with ``config.noise`` the QPU module (every layer
    with ``noise_on="all"``) also with ``noise=<model>, trajectories=T``; all are seeded from
    ``shot_seed`` (default 0; see ``shot_generator``)."""

    def __init__(self, config: QLLMConfig, backend: str = "auto", dtype=torch.float32,
                 init_scale: float = math.pi, shot_seed: int = 0):
        super().__init__()
        self.config = cfg = config
        layer_cls = _quantum_layer_class()
        estimator = {}
        if cfg.shots > 0 or cfg.gradient != "adjoint":
            estimator = {"shots": cfg.shots or None, "gradient": cfg.gradient, "seed": 0}
        noisy = dict(estimator)
        model = cfg.noise_model()
        if model is not None:
            noisy.update(shots=cfg.shots or None, gradient=cfg.gradient, seed=0, noise=model,
                         trajectories=cfg.trajectories if model.has_gate_noise else None)
        enc_opts = noisy if cfg.noise_on == "all" else estimator
        self.encoders = nn.ModuleList(
            layer_cls(amplitude_encoder(cfg.qubits, cfg.num_features, cfg.encoder_layers,
                                        cfg.connectivity), backend=backend, dtype=dtype, **enc_opts)
            for _ in range(cfg.encoders))
        self.qpu = layer_cls(
            qpu_circuit(cfg.qubits, cfg.encoders, cfg.reuploads, cfg.pqc1_layers,
                        cfg.pqc2_layers, cfg.connectivity),
            observables=[Z(q) for q in range(cfg.measured_qubits)], backend=backend, dtype=dtype,
            **noisy)
        feats = cfg.encoders * cfg.qubits + cfg.measured_qubits
        self.head = nn.Linear(feats, cfg.num_classes, dtype=dtype) if cfg.final_linear else None
        self.shot_generator = ShotGenerator([*self.encoders, self.qpu]).manual_seed(shot_seed)
        with torch.no_grad():
            for layer in (*self.encoders, self.qpu):
                layer.weights.uniform_(-init_scale, init_scale)

    def quantum_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, E·Q + Q_m): encoder outputs then QPU outputs (the head's input)."""
        if x.ndim != 2 or x.shape[1] != self.config.num_features:
            raise ValueError(f"embeddings must have shape (batch, {self.config.num_features}), "
                             f"got {tuple(x.shape)}")
        enc = torch.cat([layer(x) for layer in self.encoders], 1)
        qpu = self.qpu(self.config.angle_scale * enc)
        return torch.cat([enc, qpu], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.quantum_features(x)
        if self.head is not None:
            return self.head(feats)
        p1 = ((1 + feats[:, -1]) / 2).clamp(1e-6, 1 - 1e-6)
        return torch.stack([torch.log1p(-p1), torch.log(p1)], dim=1)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def parameter_breakdown(self) -> dict:
        return {"encoders": sum(layer.weights.numel() for layer in self.encoders),
                "qpu": self.qpu.weights.numel(),
                "head": sum(p.numel() for p in self.head.parameters()) if self.head is not None else 0}


def count_parameters(config: QLLMConfig) -> int:
    """The trainable-parameter count of ``QLLMClassifier(config)`` without building it."""
    c = config
    enc = c.encoders * c.encoder_layers * c.connectivity * c.qubits
    qpu = (c.pqc1_layers + c.pqc2_layers) * c.connectivity * c.qubits
    head = (c.encoders * c.qubits + c.measured_qubits + 1) * c.num_classes if c.final_linear else 0
    return enc + qpu + head

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

import torch
from torch import nn

from ..ansatz import amplitude_encoder, reuploading_module, ring_layer
from ..ir import Circuit, Z, input
from .noise_spec import ShotGenerator, parse_noise

GRADIENT_MODES = ("adjoint", "parameter-shift", "spsa")  # hqsim.noise.GRADIENT_MODES
NOISE_ON = ("qpu", "all")
__all__ = ["QLLMConfig", "QLLMClassifier", "ShotGenerator", "count_parameters", "head_features",
           "parse_noise", "qpu_circuit"]
REUPLOAD_WEIGHTS = ("shared", "separate")
ENCODER_KINDS = ("quantum", "classical")


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
    # architecture options (issue 14); the defaults are the paper's architecture
    bias_amplitude: float = 0.0     # c: encode (x/|x|, c)/|(x/|x|, c)| (0 = the paper's x/|x|)
    angle_affine: bool = False      # learnable per-feature scale and offset before the RY angles
    reupload_weights: str = "shared"  # PQC1 weights "shared" by the N blocks or "separate"
    encoder_connectivity: int = 0   # C of the encoder PQCs (0 = the same as connectivity C)
    compression: int = 0            # H: classical Linear(D, H) before the encoding (0 = off)
    encoder_kind: str = "quantum"   # "quantum" | "classical" (tanh(Linear) with Q outputs: ablation)
    qpu: bool = True                # the QPU module (off: ablation, the head sees the encoders only)
    encoders_to_head: bool = True   # the head sees the encoder outputs (off: the QPU outputs only)
    head_norm: bool = False         # standardise the head's inputs (BatchNorm1d without affine)

    def __post_init__(self):
        for name in ("num_features", "qubits", "encoders", "encoder_layers", "reuploads",
                     "pqc1_layers", "pqc2_layers", "connectivity", "measured_qubits"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {self.num_classes}")
        self._check_architecture()
        need = max(1, (self.amplitude_dim - 1).bit_length())
        if self.qubits < need:
            what = f"{self.num_features} features" if not self.compression else f"H={self.compression} compressed features"
            raise ValueError(f"qubits Q={self.qubits} cannot amplitude-encode {what}"
                             + (" plus the bias amplitude" if self.bias_amplitude else "")
                             + f": need Q >= {need} (2^Q >= {self.amplitude_dim})")
        if self.measured_qubits > self.qubits:
            raise ValueError(f"measured_qubits Q_m={self.measured_qubits} exceeds qubits Q={self.qubits}")
        for name in ("connectivity", "encoder_connectivity"):
            if getattr(self, name) >= self.qubits:
                raise ValueError(f"{name} C={getattr(self, name)} must be below qubits Q={self.qubits}")
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

    def _check_architecture(self):
        c = self.bias_amplitude
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not math.isfinite(c) or c < 0:
            raise ValueError(f"bias_amplitude c (--bias-amplitude) must be a finite number >= 0, got {c!r}")
        object.__setattr__(self, "bias_amplitude", float(c))
        for name in ("encoder_connectivity", "compression"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be an int >= 0 (0 = default), got {v!r}")
        if self.reupload_weights not in REUPLOAD_WEIGHTS:
            raise ValueError(f"reupload_weights (--reupload-weights) must be one of "
                             f"{', '.join(REUPLOAD_WEIGHTS)}, got {self.reupload_weights!r}")
        if self.encoder_kind not in ENCODER_KINDS:
            raise ValueError(f"encoder_kind (--encoder-kind) must be one of {', '.join(ENCODER_KINDS)}, "
                             f"got {self.encoder_kind!r}")
        for name in ("angle_affine", "qpu", "encoders_to_head", "head_norm"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not self.qpu and not self.encoders_to_head:
            raise ValueError("qpu (--qpu) off and encoders_to_head (--encoders-to-head) off leave the "
                             "head without inputs: keep at least one on")
        if not self.final_linear and not self.qpu:
            raise ValueError("without the final linear layer (F off) the model reads <Z_0> of the QPU "
                             "module: it needs qpu (--qpu) on")
        if not self.qpu and self.noise != "none" and self.noise_on == "qpu":
            raise ValueError("noise (--noise) on the QPU module (--noise-on qpu) needs the QPU module: "
                             "--qpu on, or --noise-on all")
        if not self.encoder_kind == "quantum" and self.noise_on == "all" and self.noise != "none":
            raise ValueError("--noise-on all with --encoder-kind classical: the classical encoders "
                             "have no gates to put noise on; use --noise-on qpu")

    @property
    def amplitude_dim(self) -> int:
        """Length of the vector each encoder amplitude-encodes (before zero padding)."""
        return (self.compression or self.num_features) + (1 if self.bias_amplitude else 0)

    @property
    def encoder_ring(self) -> int:
        """Connectivity of the encoder PQCs."""
        return self.encoder_connectivity or self.connectivity

    def noise_model(self):
        """The hqsim.noise.NoiseModel of ``noise`` (None for "none")."""
        return parse_noise(self.noise)[1]

    def to_dict(self) -> dict:
        return asdict(self)

    def label(self) -> str:
        """The model's name in tables, checkpoints and plots: the paper's symbols, then every
        option that differs from the paper's architecture."""
        s = f"QLLM Q={self.qubits} E={self.encoders} M={self.encoder_layers}"
        if self.qpu:
            s += f" N={self.reuploads}"
        s += f" C={self.connectivity}"
        if self.qpu and (self.pqc1_layers != 1 or self.pqc2_layers != 2):
            s += f" L1={self.pqc1_layers} L2={self.pqc2_layers}"
        if self.qpu and self.measured_qubits != 1:
            s += f" Qm={self.measured_qubits}"
        return s + "".join(self._option_tokens())

    def _option_tokens(self):
        if self.encoder_connectivity and self.encoder_connectivity != self.connectivity:
            yield f" Cenc={self.encoder_connectivity}"
        if self.bias_amplitude:
            yield f" bias={self.bias_amplitude:g}"
        if self.compression:
            yield f" H={self.compression}"
        if self.encoder_kind != "quantum":
            yield f" enc={self.encoder_kind}"
        if not self.qpu:
            yield " QPU=off"
        elif self.angle_affine:
            yield " affine"
        if self.qpu and self.reupload_weights != "shared":
            yield f" blocks={self.reupload_weights}"
        if not self.encoders_to_head:
            yield " skip=off"
        if self.head_norm:
            yield " norm"
        if self.shots:
            yield f" S={self.shots}"
        if self.gradient != "adjoint":
            yield f" grad={self.gradient}"
        if self.noise != "none":
            yield f" noise={self.noise} T={self.trajectories}" + (" on=all" if self.noise_on == "all" else "")
        if not self.final_linear:
            yield " F=off"


def qpu_circuit(num_qubits: int, num_encoders: int = 1, blocks: int = 4, pqc1_layers: int = 1,
                pqc2_layers: int = 2, connectivity: int = 2, separate: bool = False) -> Circuit:
    """The QPU module with E encoders: ``hqsim.ansatz.reuploading_module`` (block n uploads
    encoder n mod E). ``separate``: every block has its own PQC1 weights (weights: block 0's
    PQC1, block 1's, ..., then PQC2) instead of sharing one set."""
    if not separate:
        return reuploading_module(num_qubits, blocks, pqc1_layers, pqc2_layers, connectivity, num_encoders)
    per_layer = connectivity * num_qubits
    c = Circuit(num_qubits, num_inputs=num_encoders * num_qubits,
                num_weights=(blocks * pqc1_layers + pqc2_layers) * per_layer)
    w = 0
    for n in range(blocks):
        e = n % num_encoders
        for q in range(num_qubits):
            c.ry(input(e * num_qubits + q), q)
        for _ in range(pqc1_layers):
            w = ring_layer(c, connectivity, w)
    for _ in range(pqc2_layers):
        w = ring_layer(c, connectivity, w)
    return c


def _quantum_layer_class():
    import hqsim
    try:
        return hqsim.QuantumLayer
    except (AttributeError, ImportError) as exc:
        raise ImportError("hqsim.QuantumLayer (hqsim/nn/layer.py) could not be loaded "
                          f"({type(exc).__name__}: {exc}); the QLLM model needs it") from exc


class QLLMClassifier(nn.Module):
    """``forward(embeddings (B, D) float) -> logits (B, K)``. Does not mutate its input.

    Trainable: each encoder's ``weights`` (M·C_enc·Q), the QPU module's (L1+L2)·C·Q (N·L1+L2
    with separate block weights), the head's (E·Q + Q_m)·K + K, plus what the options add
    (``count_parameters``). ``backend`` and ``dtype`` go to every ``hqsim.QuantumLayer``; with
    ``config.shots`` S > 0 (or a gradient mode other than adjoint) the layers are built with
    ``shots=S, gradient=config.gradient``, and with ``config.noise`` the QPU module (every layer
    with ``noise_on="all"``) also with ``noise=<model>, trajectories=T``; all are seeded from
    ``shot_seed`` (default 0; see ``shot_generator``).

    Options (``QLLMConfig``): ``compression`` H puts a classical ``Linear(D, H)`` before the
    encoding; ``bias_amplitude`` c appends a constant amplitude to the L2-normalised vector,
    so the encoders' <Z> are no longer even in x (without it f(x) = f(-x): real gates and Z
    measurements give quadratic forms of the amplitudes); ``encoder_kind="classical"`` swaps
    each quantum encoder for tanh(Linear(amplitude vector → Q)), the same number of outputs in
    [-1, 1]; ``angle_affine`` makes the RY angle of encoder output j ``a_j·z_j + b_j`` with
    learnable a (initialised to ``angle_scale``) and b (0); ``qpu`` off drops the QPU module,
    ``encoders_to_head`` off hides the encoder outputs from the head; ``head_norm``
    standardises the head's inputs with batch statistics (running averages in eval mode)."""

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
        self.compress = nn.Linear(cfg.num_features, cfg.compression, dtype=dtype) if cfg.compression else None
        if cfg.encoder_kind == "quantum":
            self.encoders = nn.ModuleList(
                layer_cls(amplitude_encoder(cfg.qubits, cfg.amplitude_dim, cfg.encoder_layers,
                                            cfg.encoder_ring), backend=backend, dtype=dtype, **enc_opts)
                for _ in range(cfg.encoders))
        else:
            self.encoders = nn.ModuleList(
                nn.Sequential(nn.Linear(cfg.amplitude_dim, cfg.qubits, dtype=dtype), nn.Tanh())
                for _ in range(cfg.encoders))
        quantum = [layer for layer in self.encoders if isinstance(layer, layer_cls)]
        self.qpu = self.angle_scale = self.angle_offset = None
        if cfg.qpu:
            self.qpu = layer_cls(
                qpu_circuit(cfg.qubits, cfg.encoders, cfg.reuploads, cfg.pqc1_layers, cfg.pqc2_layers,
                            cfg.connectivity, cfg.reupload_weights == "separate"),
                observables=[Z(q) for q in range(cfg.measured_qubits)], backend=backend, dtype=dtype,
                **noisy)
            quantum.append(self.qpu)
            if cfg.angle_affine:
                n = cfg.encoders * cfg.qubits
                self.angle_scale = nn.Parameter(torch.full((n,), float(cfg.angle_scale), dtype=dtype))
                self.angle_offset = nn.Parameter(torch.zeros(n, dtype=dtype))
        feats = head_features(cfg)
        self.head_norm = nn.BatchNorm1d(feats, affine=False, dtype=dtype) if cfg.head_norm else None
        self.head = nn.Linear(feats, cfg.num_classes, dtype=dtype) if cfg.final_linear else None
        self.shot_generator = ShotGenerator(quantum).manual_seed(shot_seed)
        with torch.no_grad():
            for layer in quantum:
                layer.weights.uniform_(-init_scale, init_scale)

    def encoder_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """(B, amplitude_dim): the vector every encoder amplitude-encodes (compressed and with
        the bias amplitude when those options are on; unnormalised without the bias: the
        amplitude encoding normalises it)."""
        if x.ndim != 2 or x.shape[1] != self.config.num_features:
            raise ValueError(f"embeddings must have shape (batch, {self.config.num_features}), "
                             f"got {tuple(x.shape)}")
        h = self.compress(x) if self.compress is not None else x
        c = self.config.bias_amplitude
        if c or self.config.encoder_kind == "classical":
            h = h / h.norm(dim=1, keepdim=True).clamp_min(1e-12)
        if c:
            h = torch.cat([h, h.new_full((h.shape[0], 1), c)], dim=1)
        return h

    def encoder_outputs(self, x: torch.Tensor) -> torch.Tensor:
        """(B, E·Q): every encoder's outputs (<Z_q>, or tanh of the classical projection)."""
        h = self.encoder_inputs(x)
        return torch.cat([enc(h) for enc in self.encoders], 1)

    def quantum_features(self, x: torch.Tensor) -> torch.Tensor:
        """The head's input: encoder outputs (unless ``encoders_to_head`` is off), then the QPU
        module's outputs (unless ``qpu`` is off)."""
        enc = self.encoder_outputs(x)
        parts = [enc] if self.config.encoders_to_head else []
        if self.qpu is not None:
            if self.angle_scale is not None:
                angles = self.angle_scale * enc + self.angle_offset
            else:
                angles = self.config.angle_scale * enc
            parts.append(self.qpu(angles))
        return torch.cat(parts, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.quantum_features(x)
        if self.head is None:
            p1 = ((1 + feats[:, -1]) / 2).clamp(1e-6, 1 - 1e-6)
            return torch.stack([torch.log1p(-p1), torch.log(p1)], dim=1)
        if self.head_norm is not None:
            feats = self.head_norm(feats)
        return self.head(feats)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def parameter_breakdown(self) -> dict:
        def n(*modules):
            return sum(p.numel() for m in modules if m is not None for p in
                       (m.parameters() if isinstance(m, nn.Module) else [m]))
        return {"compression": n(self.compress), "encoders": n(*self.encoders),
                "angles": n(self.angle_scale, self.angle_offset),
                "qpu": n(self.qpu), "head": n(self.head)}


def head_features(config: QLLMConfig) -> int:
    """Number of inputs of the final linear layer."""
    c = config
    return (c.encoders * c.qubits if c.encoders_to_head else 0) + (c.measured_qubits if c.qpu else 0)


def count_parameters(config: QLLMConfig) -> int:
    """The trainable-parameter count of ``QLLMClassifier(config)`` without building it."""
    c = config
    compress = (c.num_features + 1) * c.compression if c.compression else 0
    if c.encoder_kind == "quantum":
        enc = c.encoders * c.encoder_layers * c.encoder_ring * c.qubits
    else:
        enc = c.encoders * (c.amplitude_dim + 1) * c.qubits
    qpu = angles = 0
    if c.qpu:
        blocks = c.reuploads if c.reupload_weights == "separate" else 1
        qpu = (blocks * c.pqc1_layers + c.pqc2_layers) * c.connectivity * c.qubits
        angles = 2 * c.encoders * c.qubits if c.angle_affine else 0
    head = (head_features(c) + 1) * c.num_classes if c.final_linear else 0
    return compress + enc + angles + qpu + head

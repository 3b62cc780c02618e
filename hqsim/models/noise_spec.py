"""The QLLM model's gate-noise specifications (``--noise``) and the shot/trajectory randomness
of its quantum layers (see the noise notes in ``hqsim/models/qllm.py``)."""
from __future__ import annotations

import numpy as np


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

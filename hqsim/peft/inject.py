"""Put adapters into a model, take their weights out and back, merge them away.

``inject_adapters(model, config)`` freezes every weight of ``model`` and wraps each target
``nn.Linear`` (in place) with the method's adapter; only adapter weights stay trainable, as
with ``peft.get_peft_model``. The adapter state (``adapter_state_dict``) is every trainable
parameter plus the adapters' own buffers (QuanTA's frozen gates, QPA's offsets), never the
frozen base weights, so a saved adapter is small and loads onto a freshly built base model.
"""
from __future__ import annotations

import torch
from torch import nn

from .adapters import AdapterLinear, QTHALinear, QuanTALinear
from .options import QPAConfig, QTHAConfig, QuanTAConfig
from .qpa import QPAGenerator, QPALinear
from .targets import find_targets, replace_module

GENERATOR = "qpa_generator"   # the QPA generator's submodule name on the adapted model


def inject_adapters(model: nn.Module, config) -> list[str]:
    """Wrap ``model``'s target modules (in place) with ``config``'s adapter (QTHAConfig,
    QPAConfig or QuanTAConfig); returns the wrapped module names. Raises ValueError when the
    targets match nothing, match a non-Linear module, or do not fit the adapter."""
    if not isinstance(config, (QTHAConfig, QPAConfig, QuanTAConfig)):
        raise TypeError(f"inject_adapters takes QTHAConfig, QPAConfig or QuanTAConfig, got "
                        f"{type(config).__name__} (LoRA goes through the peft library)")
    held = [n for n, m in model.named_modules() if isinstance(m, AdapterLinear)]
    if held:
        raise ValueError(f"the model already holds adapters ({held[0]!r}); inject into a fresh model")
    names = find_targets(model, config.target_modules)
    modules = dict(model.named_modules())
    model.requires_grad_(False)
    if isinstance(config, QPAConfig):
        shapes = {n: (modules[n].in_features, modules[n].out_features) for n in names}
        dtype = modules[names[0]].weight.dtype
        generator = QPAGenerator(shapes, config, dtype).to(modules[names[0]].weight.device)
        model.add_module(GENERATOR, generator)
        model.register_forward_pre_hook(generator.invalidate)
        new = {n: QPALinear(modules[n], generator, n) for n in names}
    else:
        kind = QTHALinear if isinstance(config, QTHAConfig) else QuanTALinear
        new = {n: kind(modules[n], config, n) for n in names}
    for n, adapter in new.items():
        replace_module(model, n, adapter)
    return names


def adapters(model: nn.Module) -> dict:
    """{name: adapter module} of ``model``."""
    return {n: m for n, m in model.named_modules() if isinstance(m, AdapterLinear)}


def merge_adapters(model: nn.Module) -> list[str]:
    """Replace every adapter by a plain ``nn.Linear`` holding W0 + ΔW (in place); returns the
    merged names. Refuses (ValueError, model untouched) when any adapter cannot merge (QTHA)."""
    found = adapters(model)
    for name, a in found.items():
        if a.merge_refusal:
            raise ValueError(f"{name}: {a.merge_refusal}")
    with torch.no_grad():
        merged = {n: a.merged() for n, a in found.items()}
    for n, lin in merged.items():
        replace_module(model, n, lin)
    if hasattr(model, GENERATOR):
        generator = getattr(model, GENERATOR)
        # found by owner, not by a stored handle: a deep copy's handle would point at the original
        for key, hook in list(model._forward_pre_hooks.items()):
            if getattr(hook, "__self__", None) is generator:
                del model._forward_pre_hooks[key]
        delattr(model, GENERATOR)
    return list(merged)


def _adapter_buffer_names(model: nn.Module) -> set:
    owners = [p for p, m in model.named_modules() if isinstance(m, (AdapterLinear, QPAGenerator))]
    return {n for n, _ in model.named_buffers()
            if any(n.startswith(p + ".") and not n.startswith(p + ".base.") for p in owners)}


def adapter_state_dict(model: nn.Module) -> dict:
    """Every trainable parameter and every adapter buffer of ``model`` (detached copies)."""
    keep = {n for n, p in model.named_parameters() if p.requires_grad} | _adapter_buffer_names(model)
    return {k: v.detach().clone() for k, v in model.state_dict().items() if k in keep}


def load_adapter_state_dict(model: nn.Module, state: dict):
    """Load what ``adapter_state_dict`` returned into a model built the same way. Raises
    ValueError naming the first missing or unexpected entry, or a shape that differs."""
    expected = adapter_state_dict(model)
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        what = f"lacks {missing[0]!r}" if missing else f"holds {unexpected[0]!r}, which this model has not"
        raise ValueError(f"the adapter state does not fit this model: it {what} "
                         f"({len(missing)} missing, {len(unexpected)} unexpected)")
    for k, v in state.items():
        if tuple(v.shape) != tuple(expected[k].shape):
            raise ValueError(f"the adapter state's {k!r} has shape {tuple(v.shape)}, this model's "
                             f"{tuple(expected[k].shape)}")
    model.load_state_dict(state, strict=False)
    if hasattr(model, GENERATOR):
        getattr(model, GENERATOR).invalidate()


def count_trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

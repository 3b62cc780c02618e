"""Which ``nn.Linear`` modules an adapter wraps (``target_modules``, as in ``peft``) and how a
module is swapped in place."""
from __future__ import annotations

import re

from torch import nn


def _selected(name: str, targets) -> bool:
    if isinstance(targets, str):
        return re.fullmatch(targets, name) is not None
    return any(name == t or name.endswith("." + t) for t in targets)


def find_targets(model: nn.Module, targets) -> list[str]:
    """Names of the modules of ``model`` selected by ``targets`` (a regular expression for the
    whole name, or a list of names / name suffixes). Raises ValueError if none is selected or
    a selected module is not an ``nn.Linear``."""
    names = [n for n, _ in model.named_modules() if n and _selected(n, targets)]
    if not names:
        linear = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules()
                         if isinstance(m, nn.Linear)})
        raise ValueError(f"target_modules {targets!r} matched no module of the model; its nn.Linear "
                         f"modules are named {linear} (a list matches name suffixes, a string is a "
                         "regular expression for the whole name)")
    modules = dict(model.named_modules())
    wrong = [n for n in names if not isinstance(modules[n], nn.Linear)]
    if wrong:
        raise ValueError(f"target_modules {targets!r} selects {wrong[0]!r}, a "
                         f"{type(modules[wrong[0]]).__name__}; adapters wrap nn.Linear modules only")
    return names


def replace_module(model: nn.Module, name: str, new: nn.Module):
    """Put ``new`` where ``model``'s submodule ``name`` is."""
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)

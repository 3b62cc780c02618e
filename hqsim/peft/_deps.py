"""The one place where ``transformers`` and ``peft`` are imported, each with a clear error when
missing. Models load from local directories only: the hub is switched off before the import."""
from __future__ import annotations

import importlib
import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

INSTALL = ("pip install 'hqsim[peft]' (transformers, peft; on CPU machines add "
           "-c constraints-cpu.txt so that torch stays the CPU build)")


def _require(module: str, what: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(f"{what} needs the {module!r} package, which is not installed: {INSTALL}",
                                  name=exc.name) from exc


def transformers():
    """The ``transformers`` module (models and tokenizers for ``hqsim finetune``)."""
    return _require("transformers", "fine-tuning a transformer")


def peft():
    """The ``peft`` module (the LoRA baseline)."""
    return _require("peft", "the LoRA baseline")

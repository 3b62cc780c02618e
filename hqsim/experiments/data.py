"""Text-classification data: the built-in SST-2, user files, and the QLLM paper's split protocol.

Files are TSV, CSV or JSONL with a text column and a label column (names configurable); how
their bytes become records (encodings, line ends, quoting) is ``records``. Rows with empty text
or an unknown label are *bad rows*: they are reported with their line numbers and, unless
``skip_bad_rows`` is set, loading fails.

The paper's protocol (Kim et al., arXiv 2504.08732): pool every file, sample ``per_label``
sentences of each label, split them ``1 - val_fraction`` / ``val_fraction`` into train and
validation, and test on everything else. For SST-2: 9,613 pooled, 256 per label, 435 train /
77 validation, 9,101 test. The split is a pure function of the seed. An empty train or test
set is an error, an empty validation set a warning (``Splits.warnings``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from .records import (FORMATS, LABEL_COLUMNS, TEXT_COLUMNS, DataError, decode_text,  # noqa: F401
                      delimited_rows, detect_format, jsonl_rows)


@dataclass(frozen=True)
class BadRow:
    path: str
    line: int
    reason: str

    def __str__(self):
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class Dataset:
    """Texts with integer labels ``0..K-1``; ``label_names[k]`` is the name of label ``k``."""

    texts: tuple
    labels: np.ndarray
    label_names: tuple
    source: str = ""
    lines: tuple = ()          # line number of each row in its file (for reports)
    warnings: tuple = field(default=())

    def __len__(self):
        return len(self.texts)

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def subset(self, index) -> "Dataset":
        index = np.asarray(index, dtype=np.int64)
        return Dataset(tuple(self.texts[i] for i in index), self.labels[index], self.label_names,
                       self.source, tuple(self.lines[i] for i in index) if self.lines else ())


@dataclass(frozen=True)
class Splits:
    train: Dataset
    validation: Dataset
    test: Dataset
    protocol: str
    seed: int
    warnings: tuple = ()      # the files' and the protocol's (skipped rows, an empty validation set)

    def sizes(self) -> dict:
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}


# -- labels ---------------------------------------------------------------------------------
def _as_int(s: str):
    try:
        return int(s)
    except ValueError:
        return None


def resolve_labels(raw_labels, label_names=None):
    """Map raw label strings to ``0..K-1``. Returns (ids with -1 for unknown, names, reasons)."""
    raw = [s.strip() for s in raw_labels]
    if label_names:
        names = tuple(label_names)
        index = {n: k for k, n in enumerate(names)}
        ids, reasons = [], []
        for s in raw:
            k = index.get(s, _as_int(s))
            ok = k is not None and 0 <= k < len(names)
            ids.append(k if ok else -1)
            reasons.append(None if ok else f"label {s!r} is not one of {list(names)} or 0..{len(names) - 1}")
        return ids, names, reasons
    ints = [_as_int(s) for s in raw]
    numeric = sum(v is not None for v in ints) >= sum(v is None and s != "" for v, s in zip(ints, raw))
    if numeric:
        values = sorted({v for v in ints if v is not None})
        names = tuple(str(v) for v in values)
        pos = {v: k for k, v in enumerate(values)}
        reasons = [None if v is not None else f"label {s!r} is not an integer (the other labels are)"
                   for v, s in zip(ints, raw)]
        return [pos[v] if v is not None else -1 for v in ints], names, reasons
    values = sorted({s for s, v in zip(raw, ints) if s and v is None})
    pos = {v: k for k, v in enumerate(values)}
    reasons = [None if s in pos else f"label {s!r} is not a class name (the other labels are names)"
               for s in raw]
    return [pos.get(s, -1) for s in raw], tuple(values), reasons


# -- public loaders -------------------------------------------------------------------------
def load_table(path, *, text_column: str | None = None, label_column: str | None = None,
               fmt: str | None = None, encoding: str | None = None, label_names=None,
               skip_bad_rows: bool = False) -> Dataset:
    """Load one TSV/CSV/JSONL file. Raises DataError listing bad rows unless ``skip_bad_rows``;
    with it, bad rows are dropped and listed in ``Dataset.warnings``."""
    path = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read data file {path}: {exc.strerror}") from None
    fmt = detect_format(path, fmt)
    text, warnings = decode_text(raw, path, encoding)
    if fmt == "jsonl":
        rows = list(jsonl_rows(text, path, text_column, label_column))
    else:
        rows = list(delimited_rows(text, "\t" if fmt == "tsv" else ",", path, text_column, label_column))
    bad: list[BadRow] = []
    good = []
    for line, text, label in rows:
        if text is None:
            bad.append(BadRow(path, line, label))
        elif not text.strip():
            bad.append(BadRow(path, line, "empty text"))
        elif not label.strip():
            bad.append(BadRow(path, line, "empty label"))
        else:
            good.append((line, text.strip(), label))
    ids, names, reasons = resolve_labels([g[2] for g in good], label_names)
    keep = []
    for (line, text, _), k, why in zip(good, ids, reasons):
        if k < 0:
            bad.append(BadRow(path, line, why))
        else:
            keep.append((line, text, k))
    bad.sort(key=lambda b: b.line)
    if bad and not skip_bad_rows:
        more = f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else ""
        shown = "\n  ".join(map(str, bad[:20])) + more
        raise DataError(f"{path}: {len(bad)} bad row(s):\n  {shown}\n"
                        "fix them, or pass --skip-bad-rows to drop them (they will be listed)")
    if bad:
        warnings = warnings + [f"skipped {len(bad)} bad row(s): " + "; ".join(map(str, bad))]
    if not keep:
        raise DataError(f"{path}: no usable rows")
    if len(names) < 2:
        raise DataError(f"{path}: needs at least 2 classes, found {list(names)}")
    return Dataset(tuple(t for _, t, _ in keep), np.array([k for _, _, k in keep], dtype=np.int64),
                   tuple(names), path, tuple(ln for ln, _, _ in keep), tuple(warnings))


def concat(datasets) -> Dataset:
    names = datasets[0].label_names
    for d in datasets[1:]:
        if d.label_names != names:
            raise DataError(f"{d.source}: labels {list(d.label_names)} differ from "
                            f"{datasets[0].source}'s {list(names)}; pass the label names explicitly")
    return Dataset(tuple(t for d in datasets for t in d.texts),
                   np.concatenate([d.labels for d in datasets]), names,
                   "+".join(d.source for d in datasets),
                   tuple(ln for d in datasets for ln in d.lines),
                   tuple(w for d in datasets for w in d.warnings))


def sst2_dir() -> Path:
    return Path(str(resources.files("hqsim") / "data" / "sst2"))


SST2_PARTS = ("train", "dev", "test")


def load_sst2() -> dict:
    """The built-in SST-2 files: {'train': 6,920, 'dev': 872, 'test': 1,821} Datasets."""
    names = ("0", "1")
    return {part: load_table(sst2_dir() / f"{part}.tsv", label_names=names) for part in SST2_PARTS}


# -- protocols ------------------------------------------------------------------------------
def paper_split(pool: Dataset, seed: int, per_label: int = 256, val_fraction: float = 0.15,
                max_test: int | None = None) -> Splits:
    """Sample ``per_label`` rows of every label, split train/validation, test on the rest.

    ``max_test`` optionally subsamples the test set (seeded) for quick runs. An empty train or
    test set is a DataError; an empty validation set a warning (training keeps its last epoch)."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    if per_label < 1:
        raise ValueError(f"per_label must be >= 1, got {per_label}")
    rng = np.random.default_rng(seed)
    chosen = []
    for k, name in enumerate(pool.label_names):
        idx = np.flatnonzero(pool.labels == k)
        if len(idx) < per_label:
            raise DataError(f"label {name!r} has {len(idx)} rows, fewer than per_label={per_label}")
        chosen.append(rng.choice(idx, size=per_label, replace=False))
    sample = rng.permutation(np.concatenate(chosen))
    n_val = int(round(len(sample) * val_fraction))
    val, train = sample[:n_val], sample[n_val:]
    rest = np.setdiff1d(np.arange(len(pool)), sample)
    if len(rest) == 0:
        raise DataError(f"the test set is empty: --per-label {per_label} of each of "
                        f"{len(pool.label_names)} labels takes all {len(pool)} rows; lower --per-label")
    if max_test is not None and max_test < len(rest):
        rest = np.sort(rng.choice(rest, size=max_test, replace=False))
    return _checked(Splits(pool.subset(train), pool.subset(val), pool.subset(rest), "paper", seed,
                           pool.warnings), val_fraction)


def _checked(splits: Splits, val_fraction: float) -> Splits:
    if len(splits.train) == 0:
        raise DataError(f"the training set is empty (--val-fraction {val_fraction} leaves no row "
                        "to train on); lower --val-fraction")
    if len(splits.validation) == 0:
        note = (f"the validation set is empty (--val-fraction {val_fraction} of "
                f"{len(splits.train)} rows rounds to 0): no early stopping, the last epoch's "
                "weights are kept")
        splits = Splits(splits.train, splits.validation, splits.test, splits.protocol, splits.seed,
                        splits.warnings + (note,))
    return splits


def standard_split(train: Dataset, dev: Dataset | None, test: Dataset, seed: int,
                   val_fraction: float = 0.15, max_test: int | None = None) -> Splits:
    """The files' own split; without a dev file, ``val_fraction`` of train (seeded) validates."""
    rng = np.random.default_rng(seed)
    warnings = train.warnings + (dev.warnings if dev is not None else ()) + test.warnings
    if dev is None:
        perm = rng.permutation(len(train))
        n_val = int(round(len(train) * val_fraction))
        train, dev = train.subset(perm[n_val:]), train.subset(perm[:n_val])
    if max_test is not None and max_test < len(test):
        test = test.subset(np.sort(rng.choice(len(test), size=max_test, replace=False)))
    return _checked(Splits(train, dev, test, "standard", seed, warnings), val_fraction)


# load_table's options and the hqsim train flags that set them
LOAD_OPTION_FLAGS = {"text_column": "--text-column", "label_column": "--label-column",
                     "fmt": "--format", "encoding": "--encoding", "label_names": "--labels",
                     "skip_bad_rows": "--skip-bad-rows"}


def make_splits(protocol: str, seed: int, files=None, *, per_label: int = 256,
                val_fraction: float = 0.15, max_test: int | None = None, **load_options) -> Splits:
    """``files`` None → built-in SST-2 (no load option applies to it: one given is a DataError);
    else 1–3 paths. ``protocol`` is 'paper' or 'standard' (which needs 2 files, train and test,
    or 3: train, dev, test)."""
    if files:
        parts = [load_table(f, **load_options) for f in files]
        if load_options.get("label_names") is None and len({p.label_names for p in parts}) > 1:
            names = tuple(sorted({n for p in parts for n in p.label_names}))
            parts = [load_table(f, **{**load_options, "label_names": names}) for f in files]
    else:
        given = [LOAD_OPTION_FLAGS.get(k, k) for k, v in load_options.items() if v]
        if given:
            raise DataError(f"{', '.join(given)} appl{'y' if len(given) > 1 else 'ies'} to --data "
                            "files only; the built-in SST-2 needs none (labels 0 = negative, "
                            "1 = positive): leave them out, or pass your files with --data")
        sst = load_sst2()
        parts = [sst[p] for p in SST2_PARTS]
    if protocol == "paper":
        return paper_split(concat(parts), seed, per_label, val_fraction, max_test)
    if protocol == "standard":
        if len(parts) == 3:
            return standard_split(parts[0], parts[1], parts[2], seed, val_fraction, max_test)
        if len(parts) == 2:
            return standard_split(parts[0], None, parts[1], seed, val_fraction, max_test)
        raise DataError("--protocol standard needs 2 files (train, test) or 3 (train, dev, test), "
                        f"got {len(parts)}")
    raise ValueError(f"protocol must be 'paper' or 'standard', got {protocol!r}")

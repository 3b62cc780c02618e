"""Few-shot training sets (``hqsim train --per-label 8,16,...,256``): for one seed, the largest
size is the protocol's own split, and every smaller training + validation set is drawn from it
(nested, seeded), so all sizes of a seed share one test set and the curve's points differ only
in the training data."""
from __future__ import annotations

import numpy as np

from .data import Splits, concat


def nested_split(full: Splits, per_label: int, val_fraction: float, seed: int) -> tuple[Splits, np.ndarray, np.ndarray]:
    """(splits, train index, validation index): ``per_label`` rows of every label drawn from
    ``full``'s training + validation rows, split ``val_fraction`` for validation; the test set
    is ``full.test``. The indices point into the concatenation [full.train, full.validation]."""
    pool = concat([full.train, full.validation])
    rng = np.random.default_rng([seed, per_label])
    chosen = []
    for k, name in enumerate(pool.label_names):
        idx = np.flatnonzero(pool.labels == k)
        if len(idx) < per_label:
            raise ValueError(f"--per-label {per_label}: label {name!r} has only {len(idx)} rows in "
                             "the largest split; list sizes up to the largest --per-label value")
        chosen.append(rng.choice(idx, size=per_label, replace=False))
    sample = rng.permutation(np.concatenate(chosen))
    n_val = max(1, int(round(len(sample) * val_fraction)))
    val, train = sample[:n_val], sample[n_val:]
    return Splits(pool.subset(train), pool.subset(val), full.test, full.protocol, seed), train, val


def size_suffix(per_label: int, sizes) -> str:
    """The name suffix of a model trained on ``per_label`` rows per label ('' for one size)."""
    return f" [{per_label}/label]" if len(sizes) > 1 else ""

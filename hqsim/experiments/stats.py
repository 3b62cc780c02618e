"""Confidence intervals for test accuracies: a two-level bootstrap over seeds and test sentences.

A model's test accuracy varies with the seed (the training split and the initial weights) and
with the finite test set. One bootstrap replicate draws S seeds with replacement from the S
seeds run and, for each drawn seed, that seed's n test sentences with replacement, and
averages the accuracies. Within one seed, drawing n sentences with replacement from a 0/1
correctness vector with mean p gives Binomial(n, p)/n, and for two models on the same sentences
the four (right, wrong) combinations are multinomial; the code draws those counts directly
instead of index vectors (the same distribution, n times less work). Percentile intervals.

Per-sentence correctness travels in results.json as ``test_correct``: ``pack_correct`` /
``unpack_correct`` (packed bits, base64; about 1.5 kB for 9,101 sentences)."""
from __future__ import annotations

import base64

import numpy as np

DRAWS = 10_000


def pack_correct(correct) -> str:
    """A 0/1 vector → base64 of its packed bits (``unpack_correct`` needs the length)."""
    bits = np.packbits(np.asarray(correct, dtype=bool))
    return base64.b64encode(bits.tobytes()).decode("ascii")


def unpack_correct(text: str, n: int) -> np.ndarray:
    bits = np.frombuffer(base64.b64decode(text), dtype=np.uint8)
    out = np.unpackbits(bits)[:n].astype(bool)
    if len(out) != n:
        raise ValueError(f"packed correctness holds {len(out)} values, expected {n}")
    return out


def _interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def _check(per_seed):
    if len(per_seed) == 0:
        raise ValueError("a confidence interval needs at least one seed")
    return [np.asarray(c, dtype=bool) for c in per_seed]


def accuracy_ci(per_seed, level: float = 0.95, draws: int = DRAWS, seed: int = 0) -> tuple[float, float, float]:
    """(mean accuracy, low, high): the mean over seeds of each seed's test accuracy and its
    ``level`` bootstrap interval over seeds and test sentences. ``per_seed``: one 0/1
    correctness vector per seed (lengths may differ: few-shot splits leave different tests)."""
    per_seed = _check(per_seed)
    rng = np.random.default_rng(seed)
    n = np.array([len(c) for c in per_seed])
    k = np.array([int(c.sum()) for c in per_seed])
    pick = rng.integers(0, len(per_seed), size=(draws, len(per_seed)))
    acc = rng.binomial(n[pick], k[pick] / n[pick]) / n[pick]
    return float(np.mean(k / n)), *_interval(acc.mean(1), level)


def paired_difference_ci(per_seed_a, per_seed_b, level: float = 0.95, draws: int = DRAWS,
                         seed: int = 0) -> tuple[float, float, float]:
    """(mean of accuracy(a) − accuracy(b), low, high) over paired seeds: seed i of a and b saw
    the same split and the same test sentences (equal lengths), and a replicate draws seeds and
    then sentences jointly for both models."""
    a, b = _check(per_seed_a), _check(per_seed_b)
    if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b)):
        raise ValueError("paired differences need the same seeds and test sentences for both models")
    rng = np.random.default_rng(seed)
    # per seed: counts of (a right, b wrong) and (a wrong, b right); the rest do not move the difference
    cells = np.array([[np.sum(x & ~y), np.sum(~x & y), len(x)] for x, y in zip(a, b)])
    pick = rng.integers(0, len(a), size=(draws, len(a)))
    n = cells[pick, 2]
    p_a, p_b = cells[pick, 0] / n, cells[pick, 1] / n
    # multinomial draw of (a-only, b-only, other): a-only ~ Bin(n, p_a), b-only | a-only ~ Bin(n - a-only, p_b/(1 - p_a))
    only_a = rng.binomial(n, p_a)
    cond = np.divide(p_b, 1 - p_a, out=np.zeros_like(p_b), where=p_a < 1)
    only_b = rng.binomial(n - only_a, np.clip(cond, 0, 1))
    diff = ((only_a - only_b) / n).mean(1)
    mean = float(np.mean((cells[:, 0] - cells[:, 1]) / cells[:, 2]))
    return mean, *_interval(diff, level)

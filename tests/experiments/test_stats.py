"""The bootstrap confidence intervals on known cases."""
import numpy as np
import pytest

from hqsim.experiments import stats


def test_pack_round_trip():
    c = np.random.default_rng(0).random(9101) < 0.7
    text = stats.pack_correct(c)
    assert len(text) < 1600
    assert np.array_equal(stats.unpack_correct(text, 9101), c)
    with pytest.raises(ValueError, match="expected 9200"):
        stats.unpack_correct(text, 9200)


def test_identical_seeds_give_the_binomial_interval():
    # 5 seeds, all 80 % right on 10,000 sentences: only the sentence draw varies, and the
    # interval is the normal-approximation binomial one for 50,000 sentences
    n, p = 10_000, 0.8
    per_seed = [np.arange(n) < p * n for _ in range(5)]
    mean, lo, hi = stats.accuracy_ci(per_seed, draws=20_000)
    half = 1.96 * np.sqrt(p * (1 - p) / (5 * n))
    assert mean == pytest.approx(p)
    assert lo == pytest.approx(p - half, abs=2e-4) and hi == pytest.approx(p + half, abs=2e-4)


def test_interval_covers_the_truth_95_percent_of_the_time():
    # seed effects N(0, 0.02) around 0.75, 3,000 test sentences, 5 seeds: the true mean
    # accuracy must fall inside the interval in about 95 % of repeated experiments (the
    # percentile bootstrap with 5 seeds undercovers a little; a broken interval gives < 60 %)
    rng = np.random.default_rng(1)
    hits, reps = 0, 300
    for r in range(reps):
        ps = 0.75 + rng.normal(0, 0.02, 5)
        per_seed = [rng.random(3000) < p for p in ps]
        _, lo, hi = stats.accuracy_ci(per_seed, draws=2000, seed=r)
        hits += lo <= 0.75 <= hi
    assert 0.80 <= hits / reps <= 0.99


def test_paired_difference_on_known_disagreements():
    n = 20_000
    a = np.ones(n, dtype=bool)
    b = np.ones(n, dtype=bool)
    a[:1000] = False           # a wrong where b is right: 5 %
    b[1000:3000] = False       # b wrong where a is right: 10 %
    mean, lo, hi = stats.paired_difference_ci([a] * 4, [b] * 4, draws=20_000)
    assert mean == pytest.approx(0.05)
    # Var(d) per sentence = p_a + p_b − (p_a − p_b)^2 over 4 seeds × n sentences
    sd = np.sqrt((0.10 + 0.05 - 0.05 ** 2) / (4 * n))
    assert lo == pytest.approx(0.05 - 1.96 * sd, abs=3e-4) and hi == pytest.approx(0.05 + 1.96 * sd, abs=3e-4)
    # the same model against itself: exactly zero
    assert stats.paired_difference_ci([a] * 3, [a] * 3) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="same seeds"):
        stats.paired_difference_ci([a], [a, b])

"""Ranking: the partial sorts agree with a full sort, ties included."""

from __future__ import annotations

import random

import numpy as np

from indexer import ranking


def test_top_scores_equal_a_full_sort_with_ties() -> None:
    rng = random.Random(11)
    for _ in range(200):
        n = rng.randint(0, 60)
        scores = np.array([rng.choice([0.0, 0.5, 1.0, 1.5, rng.random()]) for _ in range(n)])
        ids = np.array(sorted(rng.sample(range(1000), n)), dtype=np.int64)
        need = rng.randint(1, 70)
        got = ranking.top_scores(scores, ids, need).tolist()
        full = sorted(range(n), key=lambda i: (scores[i], ids[i]), reverse=True)[:need]
        assert got == full


def test_top_unique_equal_a_full_sort() -> None:
    rng = random.Random(12)
    for _ in range(200):
        n = rng.randint(0, 60)
        keys = np.array(rng.sample(range(10_000), n), dtype=np.int64)
        need = rng.randint(1, 70)
        assert ranking.top_unique(keys, need).tolist() == sorted(range(n), key=lambda i: keys[i], reverse=True)[:need]

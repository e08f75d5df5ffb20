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


def test_bounded_scoring_gives_the_pages_of_exact_scoring(demo_index, monkeypatch) -> None:
    """Scores counts occurrences only in the hits that can reach the page; its pages must
    be those of scoring every hit exactly, and every bound must hold. (Rounds of 2 here:
    the demo corpus is small.)"""
    from indexer import hitsets, whooshlib
    from indexer.query import parse

    monkeypatch.setattr(ranking.Scores, "REFINE_MIN", 2)
    snap = whooshlib.Snapshot(demo_index)
    st = hitsets.state_of(snap)
    pruned = 0
    try:
        for q in ("巡察", "整改", "巡视整改", "巡察 整改", "巡视 OR 巡察", "整改 -巡视", "主体责任 落实",
                  "全面从严治党", "标题:公告 整改", "2023 巡察"):
            parsed = parse(q)
            ev = hitsets.Evaluator(snap, st, ranked=True)
            ids = np.flatnonzero(ev.run(parsed.root) & st.live)
            if not len(ids):
                continue
            leaves = parsed.positive_leaves()
            full = ranking.bm25(snap, ids, leaves, ev)
            for need in (1, 3, 10, len(ids)):
                sc = ranking.Scores(snap, ids, leaves, hitsets.Evaluator(snap, st, ranked=True), None)
                assert (sc.values >= full - 1e-9).all(), q  # bounds hold before refining
                got = sc.top(need)
                want = ranking.top_scores(full, ids, need)
                assert np.allclose(sc.values[got], full[want]), (q, need)
                assert ids[got].tolist() == ids[want].tolist(), (q, need)
                assert sc.exact[got].all()
                pruned += int(need == 1 and not sc.exact.all())
    finally:
        snap.close()
    assert pruned >= 5  # the first page of most queries left hits uncounted

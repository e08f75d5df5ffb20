"""Ranking: the partial sorts agree with a full sort, ties included."""

from __future__ import annotations

import random

import numpy as np
import pytest

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



@pytest.mark.parametrize("scan_titles_after", [0, 6, 10**9])
def test_bounded_scoring_gives_the_pages_of_exact_scoring(demo_index, monkeypatch, scan_titles_after) -> None:
    """Scores counts occurrences only in the hits that can reach the page; its pages must
    be those of scoring every hit exactly, and every bound must hold, whether or when the
    titles are scanned. (Rounds of 2 here: the demo corpus is small.)"""
    from indexer import hitsets, whooshlib
    from indexer.query import parse

    monkeypatch.setattr(ranking.Scores, "REFINE_MIN", 2)
    monkeypatch.setattr(ranking.Scores, "SCAN_TITLES_AFTER", scan_titles_after)
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
    if scan_titles_after:
        assert pruned >= 5  # the first page of most queries left hits uncounted


def test_counts_in_a_mapped_text_equal_bytes_count(tmp_path) -> None:
    import mmap

    from indexer.hitsets import counts_in

    rng = random.Random(5)
    data = "".join(rng.choice(["巡察", "整改", "巡察巡察", "a", "aa", "，", "公告"]) for _ in range(4000)).encode()
    path = tmp_path / "t"
    path.write_bytes(data)
    with open(path, "rb") as fh:
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    starts = np.array(sorted(rng.randrange(len(data)) for _ in range(300)), dtype=np.int64)
    ends = np.minimum(starts + np.array([rng.randrange(0, 400) for _ in range(300)]), len(data))
    for needle in ("巡察".encode(), b"aa", "巡察巡察".encode(), "，公告".encode(), b"zz"):
        want = [data.count(needle, a, e) for a, e in zip(starts.tolist(), ends.tolist())]
        assert counts_in(mm, needle, starts, ends).tolist() == want
        assert counts_in(data, needle, starts, ends).tolist() == want


def test_title_counts_equal_counts_in_each_title(demo_index) -> None:
    from indexer import hitsets, whooshlib

    snap = whooshlib.Snapshot(demo_index)
    st = hitsets.state_of(snap)
    try:
        for needle in ("巡察", "公告", "整改", "关于", "通报", "2023", "巡察整改"):
            b = needle.encode()
            for seg, sa in zip(snap.segments, st.segs):
                text = seg.text_map
                want = [text[a:e].count(b) for a, e in zip(sa.start.tolist(), sa.title_end.tolist())]
                assert hitsets.title_counts(sa, b).tolist() == want, needle
                assert sum(want) > 0 or needle in ("2023", "巡察整改")
    finally:
        snap.close()

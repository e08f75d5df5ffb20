"""Hit sets: the literal cache, segment splits, dates, repost collapsing."""

from __future__ import annotations

import random

import numpy as np

from indexer import hitsets
from indexer.hitsets import Literal, LiteralCache


def test_literal_cache_is_bounded_lru() -> None:
    cache = LiteralCache(budget=1600)  # each entry below is accounted at 264 bytes: 6 fit
    for i in range(20):
        cache.put((str(i), None), Literal(np.arange(5, dtype=np.int64)))
    assert cache._used <= 1600 and len(cache._items) == 6
    assert cache.get(("19", None)) is not None and cache.get(("13", None)) is None
    cache.get(("14", None))  # used: now the most recent, so the next evictions spare it
    for i in range(20, 25):
        cache.put((str(i), None), Literal(np.arange(5, dtype=np.int64)))
    assert cache.get(("14", None)) is not None and cache.get(("15", None)) is None
    cache.clear()
    assert cache.get(("19", None)) is None and cache._used == 0


def test_date_int_accepts_only_iso_dates() -> None:
    assert hitsets.date_int("2022-05-06") == 20220506
    for bad in ("", "2022-5-6", "2022/05/06", "20220506", "2022-05-0x"):
        assert hitsets.date_int(bad) == 0


class _Seg:
    def __init__(self, offset: int, doccount: int):
        self.offset, self.doccount = offset, doccount


class _Snap:
    def __init__(self, sizes: list[int]):
        self.segments, off = [], 0
        for n in sizes:
            self.segments.append(_Seg(off, n))
            off += n
        self.doc_count_all = off


def test_by_segment_splits_sorted_ids_exactly() -> None:
    rng = random.Random(3)
    for _ in range(50):
        snap = _Snap([rng.randint(0, 30) for _ in range(rng.randint(1, 6))])
        ids = np.array(sorted(rng.sample(range(snap.doc_count_all), rng.randint(0, snap.doc_count_all))), dtype=np.int64)
        seen: list[int] = []
        for i, seg, lo, hi in hitsets.by_segment(ids, snap):  # type: ignore[arg-type]
            part = ids[lo:hi].tolist()
            assert part and all(seg.offset <= d < seg.offset + seg.doccount for d in part)
            assert seg is snap.segments[i]
            seen += part
        assert seen == ids.tolist()


class _State:
    def __init__(self, groups: list[list[int]]):
        members = [m for g in groups for m in g]
        gids = [k for k, g in enumerate(groups) for _ in g]
        self.groups = (np.array(members, dtype=np.int64), np.array(gids, dtype=np.int64))


def test_collapse_keeps_the_earliest_hit_of_each_group() -> None:
    rng = random.Random(5)
    for _ in range(100):
        docs = list(range(40))
        rng.shuffle(docs)
        groups, k = [], 0
        while k < 30:
            size = rng.randint(2, 4)
            groups.append(docs[k : k + size])  # members listed earliest first
            k += size
        mask = np.array([rng.random() < 0.6 for _ in range(40)])
        expected = mask.copy()
        for g in groups:
            present = [m for m in g if mask[m]]
            for m in present[1:]:
                expected[m] = False
        hitsets.collapse(_State(groups), mask)  # type: ignore[arg-type]
        assert mask.tolist() == expected.tolist()


def test_per_snapshot_derivations_are_computed_once(demo_index) -> None:
    """Repost groups and columns are built once per snapshot: a result page asks for them
    once per hit, and rebuilding them each time cost seconds at 100,000 notices."""
    from indexer.search import Archive

    snap = Archive(demo_index).snapshot()
    state = hitsets.state_of(snap)
    assert hitsets.state_of(snap) is state
    assert state.reposts is state.reposts
    assert state.columns is state.columns

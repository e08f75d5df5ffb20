"""Ranking: BM25 over the positive literals' frequencies with a title boost, and the
top of a result list by a partial sort.

A literal's contribution to each document's score depends only on the literal and the
snapshot (idf over the whole index, never over the filtered hits), so it is computed once
per literal over all its documents and summed over any query's hits.
"""

from __future__ import annotations

import math

import numpy as np

from indexer import whooshlib
from indexer.hitsets import Evaluator, Literal, SnapshotState, by_segment, counts_in, state_of
from indexer.query import Leaf

K1, B = 1.2, 0.75

TITLE_BOOST = 3.0


def top_unique(keys: np.ndarray, need: int) -> np.ndarray:
    """Positions of the `need` largest keys (all distinct), largest first."""
    if len(keys) > need:
        part = np.argpartition(keys, len(keys) - need)[len(keys) - need :]
    else:
        part = np.arange(len(keys))
    return part[np.argsort(keys[part])[::-1]]


def top_scores(scores: np.ndarray, ids: np.ndarray, need: int) -> np.ndarray:
    """Positions of the `need` best hits by score, ties by the later docnum."""
    n = len(scores)
    if n > need:
        threshold = np.partition(scores, n - need)[n - need]
        cand = np.flatnonzero(scores >= threshold)
    else:
        cand = np.arange(n)
    order = np.lexsort((ids[cand], scores[cand]))[::-1]
    return cand[order[:need]]


def _idf(snap: whooshlib.Snapshot, df: int) -> float:
    n_docs = max(1, snap.doc_count)
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


def _body_score(idf: float, body: np.ndarray, length: np.ndarray, avg_len: float) -> np.ndarray:
    norm_k = K1 * (1 - B)
    len_k = K1 * B / (avg_len or 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = idf * body * (K1 + 1) / (body + norm_k + len_k * length)
    return np.where(body > 0, score, 0.0)


def bounds(snap: whooshlib.Snapshot, st: SnapshotState, lit: Literal) -> np.ndarray:
    """Per document of the literal, an upper bound of its contribution: BM25 of its
    frequency (exact from single-term postings, else the smallest frequency of its grams,
    else unbounded) plus the title boost as if the title held it. Arrays only: no text is
    read. Cached on the literal (it depends on the literal and the snapshot alone)."""
    if lit.bound is None:
        ids = lit.ids
        idf = _idf(snap, len(ids))
        tf = lit.tf if lit.tf is not None else lit.tf_bound
        if tf is None:
            body = np.full(len(ids), idf * (K1 + 1))
        else:
            body = _body_score(idf, tf, st.length[ids], st.avg_len)
        lit.bound = body + idf * TITLE_BOOST
    return lit.bound


def exact(snap: whooshlib.Snapshot, st: SnapshotState, leaf: Leaf, lit: Literal, docs: np.ndarray) -> np.ndarray:
    """The literal's contribution to each of `docs` (sorted docnums that all hold it):
    its occurrences in the title are counted (title boost) and, when the postings do not
    give its frequency, in title and body too; BM25 of the body's share."""
    needle = leaf.text.encode("utf-8")
    idf = _idf(snap, len(lit.ids))
    title = np.zeros(len(docs), dtype=np.float64)
    if lit.tf is not None:
        total = lit.tf[np.searchsorted(lit.ids, docs)].astype(np.float64)
    else:
        total = np.zeros(len(docs), dtype=np.float64)
    segs = st.segs
    for i, seg, lo, hi in by_segment(docs, snap):
        sa = segs[i]
        text = seg.text_map
        if sa is None or text is None:
            continue
        locs = docs[lo:hi] - seg.offset
        starts = sa.start[locs].tolist()
        title[lo:hi] = np.fromiter(counts_in(text, needle, starts, sa.title_end[locs].tolist()), dtype=np.float64, count=hi - lo)
        if lit.tf is None:
            total[lo:hi] = np.fromiter(counts_in(text, needle, starts, sa.body_end[locs].tolist()), dtype=np.float64, count=hi - lo)
    body = total - title
    return _body_score(idf, body, st.length[docs], st.avg_len) + np.where(title > 0, idf * TITLE_BOOST, 0.0)


class Scores:
    """BM25 of a query's hits, exact where it decides the page and bounded elsewhere.

    Counting a literal in every hit is what a broad query on a large archive spends its
    time on (every notice of 整改 read for 巡视整改). Instead every hit starts at an upper
    bound made from posting lists alone; the best `need` by bound are scored exactly
    (their titles and texts counted), and again, until the best `need` are all exact: a
    hit left at its bound cannot beat them, since its exact score is at most its bound.
    Totals and facets do not depend on this (they come from the hit set)."""

    REFINE_MIN = 64  # documents scored exactly per round, at least

    def __init__(self, snap: whooshlib.Snapshot, ids: np.ndarray, leaves: list[Leaf], ev: Evaluator,
                 bonus: np.ndarray | None):
        self.snap = snap
        self.st = state_of(snap)
        self.ids = ids
        self.ev = ev
        self.bonus = bonus
        self.scored: list[tuple[Leaf, Literal]] = []
        values = np.zeros(len(ids), dtype=np.float64)
        for leaf in leaves:
            if leaf.field == "issuer":
                continue
            lit = ev.literal(leaf)
            if not len(lit.ids):
                continue
            self.scored.append((leaf, lit))
            b = bounds(snap, self.st, lit)
            pos, present = _positions(lit.ids, ids)
            values[present] += b[pos[present]]
        if bonus is not None:
            values += bonus
        self.values = values  # exact where self.exact, else an upper bound
        self.exact = np.zeros(len(ids), dtype=bool)

    def _score_exactly(self, positions: np.ndarray) -> None:
        positions = np.sort(positions)
        docs = self.ids[positions]
        values = np.zeros(len(docs), dtype=np.float64)
        for leaf, lit in self.scored:
            pos, present = _positions(lit.ids, docs)
            if present.any():
                values[present] += exact(self.snap, self.st, leaf, lit, docs[present])
        if self.bonus is not None:
            values += self.bonus[positions]
        self.values[positions] = values
        self.exact[positions] = True

    def top(self, need: int) -> np.ndarray:
        """Positions (into ids) of the `need` best hits, best first, all scored exactly."""
        batch = max(need * 2, self.REFINE_MIN)
        while True:
            top = top_scores(self.values, self.ids, need)
            if self.exact[top].all():
                return top
            wider = top_scores(self.values, self.ids, min(len(self.ids), need + batch))
            todo = wider[~self.exact[wider]]
            self._score_exactly(todo)


def _positions(sorted_ids: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of `docs` is in `sorted_ids`, and whether it is there."""
    pos = np.searchsorted(sorted_ids, docs)
    np.minimum(pos, len(sorted_ids) - 1, out=pos)
    return pos, sorted_ids[pos] == docs


def bm25(snap: whooshlib.Snapshot, ids: np.ndarray, leaves: list[Leaf], ev: Evaluator) -> np.ndarray:
    """Exact BM25 (with the title boost) of every one of `ids`: for evaluations and tests;
    search pages use Scores, which scores exactly only what reaches the page."""
    sc = Scores(snap, ids, leaves, ev, None)
    sc._score_exactly(np.arange(len(ids)))
    return sc.values

"""Ranking: BM25 over the positive literals' frequencies with a title boost, and the
top of a result list by a partial sort.

A literal's contribution to a document's score depends only on the literal and the
snapshot (idf over the whole index, never over the filtered hits). Its upper bound over
all its documents comes from posting frequencies alone and is cached with the literal;
the exact contribution (titles and texts counted) is computed only for the hits that can
reach the page asked for (`Scores`).
"""

from __future__ import annotations

import math

import numpy as np

from indexer import whooshlib
from indexer.hitsets import Evaluator, Literal, SnapshotState, by_segment, counts_in, state_of, title_counts
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
    else unbounded) plus the title boost, as if every title held the literal until the
    titles have been scanned (then the bound of a single-term literal is its exact
    score). Arrays only: no text is read. Cached on the literal (it depends on the
    literal and the snapshot alone)."""
    if lit.bound is None or (lit.title is not None and not lit.bound_knows_titles):
        ids = lit.ids
        idf = _idf(snap, len(ids))
        tf = lit.tf if lit.tf is not None else lit.tf_bound
        title = lit.title
        if tf is None:
            body = np.full(len(ids), idf * (K1 + 1))
        elif title is None:
            body = _body_score(idf, tf, st.length[ids], st.avg_len)
        else:
            body = _body_score(idf, np.maximum(tf - title, 0.0), st.length[ids], st.avg_len)
        boost = idf * TITLE_BOOST if title is None else np.where(title > 0, idf * TITLE_BOOST, 0.0)
        lit.bound = body + boost
        lit.bound_knows_titles = title is not None
    return lit.bound


def titles_of(snap: whooshlib.Snapshot, st: SnapshotState, leaf: Leaf, lit: Literal) -> np.ndarray:
    """The literal's occurrences in the title of each of its documents (cached on the
    literal)."""
    if lit.title is None:
        needle = leaf.text.encode("utf-8")
        out = np.zeros(len(lit.ids), dtype=np.float64)
        segs = st.segs
        for i, seg, lo, hi in by_segment(lit.ids, snap):
            sa = segs[i]
            if sa is not None:
                out[lo:hi] = title_counts(sa, needle)[lit.ids[lo:hi] - seg.offset]
        lit.title = out
    return lit.title


def exact(snap: whooshlib.Snapshot, st: SnapshotState, leaf: Leaf, lit: Literal, docs: np.ndarray) -> np.ndarray:
    """The literal's contribution to each of `docs` (sorted docnums that all hold it):
    its occurrences in the title are counted (title boost) and, when the postings do not
    give its frequency, in title and body too; BM25 of the body's share."""
    needle = leaf.text.encode("utf-8")
    idf = _idf(snap, len(lit.ids))
    pos = np.searchsorted(lit.ids, docs)
    known_title = lit.title is not None
    title = lit.title[pos] if lit.title is not None else np.zeros(len(docs), dtype=np.float64)
    total = lit.tf[pos].astype(np.float64) if lit.tf is not None else np.zeros(len(docs), dtype=np.float64)
    if not known_title or lit.tf is None:
        segs = st.segs
        for i, seg, lo, hi in by_segment(docs, snap):
            sa = segs[i]
            text = seg.text_map
            if sa is None or text is None:
                continue
            locs = docs[lo:hi] - seg.offset
            starts = sa.start[locs]
            if not known_title:
                title[lo:hi] = counts_in(text, needle, starts, sa.title_end[locs])
            if lit.tf is None:
                total[lo:hi] = counts_in(text, needle, starts, sa.body_end[locs])
    body = np.maximum(total - title, 0.0)
    return _body_score(idf, body, st.length[docs], st.avg_len) + np.where(title > 0, idf * TITLE_BOOST, 0.0)


class Scores:
    """BM25 of a query's hits, exact where it decides the page and bounded elsewhere.

    Counting a literal in every hit is what a broad query on a large archive spends its
    time on (every notice of 整改 read for 巡视整改). Instead every hit starts at an upper
    bound made from posting lists alone; the best by bound are scored exactly (their
    titles and texts counted), more each round, until the best `need` are all exact: a
    hit left at its bound cannot beat them, since its exact score is at most its bound.
    When the bounds stay loose (a common word that few titles hold: the bound gives every
    hit the title boost), the titles of all hits are scanned once, which makes the bounds
    of single-term literals exact. Totals and facets do not depend on this (they come
    from the hit set)."""

    REFINE_MIN = 64  # documents scored exactly in the first round, at least
    # Documents scored exactly (at least 4x the page) before the titles are scanned: an
    # exact score costs about two counts in one document, a scan one find in the title
    # of every document of each literal, so the scan pays only when most hits would
    # otherwise be scored.
    SCAN_TITLES_AFTER = 8192

    def __init__(self, snap: whooshlib.Snapshot, ids: np.ndarray, leaves: list[Leaf], ev: Evaluator,
                 bonus: np.ndarray | None, pairs: dict[tuple[str, str | None], tuple[Leaf, Leaf]] | None = None):
        self.snap = snap
        self.st = state_of(snap)
        self.ids = ids
        self.ev = ev
        self.bonus = bonus
        self.scored: list[tuple[Leaf, Literal]] = []
        for leaf in leaves:
            if leaf.field == "issuer":
                continue
            key = (leaf.text, leaf.field)
            # (a pair the query itself holds was found already: this query's own literal;
            # never one cached by an earlier query, or ranking would depend on the cache)
            if pairs and key in pairs and key not in ev.used:
                lit = self._pair(ev, *pairs[key])
            else:
                lit = ev.literal(leaf)
            if len(lit.ids):
                self.scored.append((leaf, lit))
        self.counted = 0
        self.values = self._bound_values()  # exact where self.exact, else an upper bound
        self.exact = np.full(len(ids), self._bounds_are_exact(), dtype=bool)

    @staticmethod
    def _pair(ev: Evaluator, a: Leaf, b: Leaf) -> Literal:
        """An adjacent-word pair that only ranks (a loosened query's "AB" for words A B),
        never found in the whole index: its documents are taken to be those holding both
        words (a superset: a document without the pair counts nothing when scored
        exactly, and its idf is a little lower than the pair's own), its frequency at
        most the smaller of the words'. Verifying the pair in every notice holding both
        words was most of a long query's time at a million notices."""
        la, lb = ev.literal(a), ev.literal(b)
        in_a = ev.mask(la.ids)
        ids = lb.ids[in_a[lb.ids]]
        ta = la.tf if la.tf is not None else la.tf_bound
        tb = lb.tf if lb.tf is not None else lb.tf_bound
        bound = None
        if ta is not None and tb is not None:
            bound = np.minimum(ta[np.searchsorted(la.ids, ids)], tb[np.searchsorted(lb.ids, ids)])
        return Literal(ids, tf_bound=bound)

    def _bounds_are_exact(self) -> bool:
        return all(lit.tf is not None and lit.title is not None for _leaf, lit in self.scored)

    def _bound_values(self) -> np.ndarray:
        values = np.zeros(len(self.ids), dtype=np.float64)
        dense = np.zeros(self.st.n, dtype=np.float64)  # by docnum: a scatter and a gather,
        for _leaf, lit in self.scored:                 # not a binary search of every hit
            b = bounds(self.snap, self.st, lit)
            dense[lit.ids] = b
            values += dense[self.ids]
            dense[lit.ids] = 0.0
        if self.bonus is not None:
            values += self.bonus
        return values

    def _scan_titles(self) -> None:
        for leaf, lit in self.scored:
            titles_of(self.snap, self.st, leaf, lit)
        fresh = self._bound_values()
        if self._bounds_are_exact():
            self.values, self.exact[:] = fresh, True
        else:
            self.values = np.where(self.exact, self.values, fresh)

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
        self.counted += len(positions)

    def top(self, need: int) -> np.ndarray:
        """Positions (into ids) of the `need` best hits, best first, all scored exactly.

        Each round scores exactly the best hits by bound not yet scored, twice as many as
        the round before."""
        batch = max(need * 2, self.REFINE_MIN)
        scanned = self._bounds_are_exact()
        while True:
            top = top_scores(self.values, self.ids, need)
            if self.exact[top].all():
                return top
            if not scanned and self.counted >= max(need * 4, self.SCAN_TITLES_AFTER):
                self._scan_titles()
                scanned = True
                continue
            wider = top_scores(self.values, self.ids, min(len(self.ids), need + batch))
            self._score_exactly(wider[~self.exact[wider]])
            batch *= 2


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

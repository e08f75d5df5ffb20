"""Ranking: BM25 over the positive literals' frequencies with a title boost, and the
top of a result list by a partial sort.

A literal's contribution to each document's score depends only on the literal and the
snapshot (idf over the whole index, never over the filtered hits), so it is computed once
per literal over all its documents and summed over any query's hits.
"""

from __future__ import annotations

import math
from itertools import repeat

import numpy as np

from indexer import whooshlib
from indexer.hitsets import Evaluator, Literal, SnapshotState, by_segment, state_of, title_counts
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


def contributions(snap: whooshlib.Snapshot, st: SnapshotState, leaf: Leaf, lit: Literal) -> np.ndarray:
    """Per document of the literal: BM25 of its frequency in the body, plus a title boost.

    Computed once per literal and snapshot (cached on the literal): title counts (and body
    counts when the postings do not give them) are `bytes.count` over the text, via map().
    """
    if lit.contrib is not None:
        return lit.contrib
    ids = lit.ids
    df = len(ids)
    n_docs = max(1, snap.doc_count)
    idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
    needle = leaf.text.encode("utf-8")
    title = np.zeros(df, dtype=np.float64)
    total = lit.tf if lit.tf is not None else np.zeros(df, dtype=np.float64)
    segs = st.segs
    for i, seg, lo, hi in by_segment(ids, snap):
        sa = segs[i]
        text = seg.text_map
        if sa is None or text is None:
            continue
        locs = ids[lo:hi] - seg.offset
        title[lo:hi] = title_counts(sa, needle)[locs]
        if lit.tf is None:
            starts = sa.start[locs].tolist()
            total[lo:hi] = np.fromiter(map(text.count, repeat(needle), starts, sa.body_end[locs].tolist()), dtype=np.float64, count=hi - lo)
    body = total - title
    norm_k = K1 * (1 - B)
    len_k = K1 * B / (st.avg_len or 1.0)
    length = st.length[ids]
    with np.errstate(divide="ignore", invalid="ignore"):
        body_score = idf * body * (K1 + 1) / (body + norm_k + len_k * length)
    contrib = np.where(body > 0, body_score, 0.0) + np.where(title > 0, idf * TITLE_BOOST, 0.0)
    lit.contrib = contrib
    return contrib


def bm25(snap: whooshlib.Snapshot, ids: np.ndarray, leaves: list[Leaf], ev: Evaluator) -> np.ndarray:
    """BM25 over the positive literals' frequencies, plus a title boost, aligned with `ids`."""
    st = state_of(snap)
    scores = np.zeros(len(ids), dtype=np.float64)
    for leaf in leaves:
        if leaf.field == "issuer":
            continue
        lit = ev.literal(leaf)
        if not len(lit.ids):
            continue
        contrib = contributions(snap, st, leaf, lit)
        pos = np.searchsorted(lit.ids, ids)
        np.minimum(pos, len(lit.ids) - 1, out=pos)
        present = lit.ids[pos] == ids
        scores[present] += contrib[pos[present]]
    return scores

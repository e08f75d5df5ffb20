"""Hit sets: what a query matches in one index snapshot, as numpy boolean masks.

Every literal (a word or "phrase") becomes the index grams it must contain; their posting
lists, rarest first, give candidates that never miss, and unless the literal is a single
gram or word each candidate is verified in its normalised text (no false hit). AND / OR /
NOT, region and type filters and date ranges are then array operations over masks of
global docnums, whatever the number of hits; only the per-document text checks
(bytes.find / count) remain, and those run in C through map().

What depends only on the snapshot is built once and kept on it (`SnapshotState`): the
live mask, text positions, facet columns, repost groups, and an LRU of literals.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np

from indexer import dedup, regions, whooshlib
from indexer.analysis import needs_boundaries, required_terms, word_boundary_pattern
from indexer.index import REC_DATE, REC_REGION, REC_SIG, REC_TYPE
from indexer.query import And, Leaf, Not, Or

SKIP_POSTINGS_RATIO = 16  # candidates this many times fewer than a posting list: verify instead

LITERAL_CACHE_BYTES = 64 << 20  # per snapshot: docnums, frequencies and BM25 per literal


class Literal:
    """One literal's meaning in one snapshot: the documents that hold it, its frequency in
    each when the postings give it, and (once ranking asks) each document's BM25
    contribution. All of it depends only on the literal and the snapshot, so it is cached
    per snapshot and shared by every query that uses the literal: paging, facet clicks and
    filter changes over one query reuse it."""

    __slots__ = ("ids", "tf", "contrib")

    def __init__(self, ids: np.ndarray, tf: np.ndarray | None = None):
        self.ids = ids  # sorted global docnums
        self.tf = tf  # frequency in title + body, aligned with ids (from postings or counted)
        self.contrib: np.ndarray | None = None  # BM25 contribution, aligned with ids


class LiteralCache:
    """LRU of literals for one snapshot, bounded in bytes (ids, tf and contributions)."""

    def __init__(self, budget: int):
        self.budget = budget
        self._items: OrderedDict[tuple[str, str | None], tuple[Literal, int]] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str | None]) -> Literal | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: tuple[str, str | None], lit: Literal) -> None:
        size = lit.ids.nbytes * 3 + 64
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (lit, size)
            self._used += size
            while self._used > self.budget and len(self._items) > 1:
                _k, (_lit, sz) = self._items.popitem(last=False)
                self._used -= sz

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._used = 0


@dataclass
class SegArrays:
    """Where, in a segment's text blob (`title \x01 body \x01 issuer` per document), each
    document starts, where its title and body end, and where it ends."""

    start: np.ndarray
    title_end: np.ndarray
    body_end: np.ndarray
    end: np.ndarray
    titles: bytes  # every title of the segment, joined by \x01 (never in a literal)
    title_starts: np.ndarray  # where each document's title starts in `titles`


class Columns:
    """Per global docnum, the values facets count and sorts use, as integer codes into a
    vocabulary (0 = none): month (YYYY-MM), type, the region code at each depth of its
    ancestry; the date as an int (YYYYMMDD, 0 = none) and its rank in date order."""

    def __init__(self, recs: list[list[str]], dates: list[str]):
        # Encode the distinct values once (there are thousands, not 100,000): a dict per
        # column in comprehensions, then per-value facts (date as int, ancestry) mapped
        # back through the codes with numpy.
        n = len(recs)

        def encode(values: list[str]) -> tuple[np.ndarray, list[str | None]]:
            ix: dict[str, int] = {"": 0}
            codes = np.fromiter((ix.setdefault(v, len(ix)) for v in values), dtype=np.int32, count=len(values))
            vocab: list[str | None] = list(ix)
            vocab[0] = None
            return codes, vocab

        date_codes, date_vocab = encode(dates)
        day = np.array([0] + [date_int(d) for d in date_vocab[1:]], dtype=np.int64)[date_codes]
        month, self.month_vocab = encode([d[:7] if date_int(d) else "" for d in date_vocab[1:]])
        month = np.concatenate([np.zeros(1, dtype=np.int32), month])[date_codes]
        dtype, self.type_vocab = encode([r[REC_TYPE] if len(r) > REC_TYPE else "" for r in recs])
        reg_codes, reg_vocab = encode([r[REC_REGION] if len(r) > REC_REGION else "" for r in recs])
        # each distinct region code -> its ancestry, as codes of one shared vocabulary
        region_ix: dict[str, int] = {"": 0}
        anc_codes = np.zeros((3, len(reg_vocab)), dtype=np.int32)
        for k, code in enumerate(reg_vocab[1:], start=1):
            for depth, c in enumerate(ancestors(code or "")[:3]):
                anc_codes[depth, k] = region_ix.setdefault(c, len(region_ix))
        self.region_vocab: list[str | None] = list(region_ix)
        self.region_vocab[0] = None
        region = anc_codes[:, reg_codes]
        self.month, self.type, self.region, self.date_int = month, dtype, region, day
        # Date order with ties broken by docnum (as the old string keys did).
        order = np.lexsort((np.arange(n), day))
        self.date_rank = np.empty(n, dtype=np.int64)
        self.date_rank[order] = np.arange(n)


class SnapshotState:
    """What search derives once per snapshot: the live mask, text positions, facet columns,
    repost groups as arrays, corpus statistics for BM25 and the literal cache."""

    def __init__(self, snap: whooshlib.Snapshot):
        self.snap = snap
        self.n = snap.doc_count_all
        self.live = snap.live_mask
        self.literals = LiteralCache(LITERAL_CACHE_BYTES)
        self._lock = threading.Lock()
        self._segs: list[SegArrays | None] | None = None
        self._columns: Columns | None = None
        self._dates: list[str] | None = None
        self._reposts: dict[int, list[int]] | None = None
        self._groups: tuple[np.ndarray, np.ndarray] | None = None
        # text length per global docnum (0 for a segment without a text column)
        lengths = [np.asarray(seg.text_lengths, dtype=np.float64) if len(seg.text_lengths) == seg.doccount
                   else np.zeros(seg.doccount) for seg in snap.segments]
        self.length = np.concatenate(lengths) if lengths else np.zeros(0)
        self.avg_len = float(self.length.sum()) / self.n if self.n else 1.0

    @property
    def segs(self) -> list[SegArrays | None]:
        if self._segs is None:
            with self._lock:
                if self._segs is None:
                    self._segs = [_cached_seg_arrays(seg) for seg in self.snap.segments]
        return self._segs

    @property
    def dates(self) -> list[str]:
        """Per global docnum, the ISO date or ""."""
        if self._dates is None:
            self._dates = [r[REC_DATE] if len(r) > REC_DATE else "" for r in self.snap.records]
        return self._dates

    @property
    def columns(self) -> Columns:
        if self._columns is None:
            with self._lock:
                if self._columns is None:
                    self._columns = Columns(self.snap.records, self.dates)
        return self._columns

    @property
    def reposts(self) -> dict[int, list[int]]:
        """Repost groups: docnum -> all members (only groups of 2 or more), earliest first,
        from the signatures stored with each notice."""
        if self._reposts is None:
            self._reposts = _repost_groups(self.snap, self.dates)
        return self._reposts

    @property
    def groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Repost group members flattened (group by group, earliest first) and their group ids."""
        if self._groups is None:
            members: list[int] = []
            gids: list[int] = []
            seen: set[int] = set()
            for g in self.reposts.values():
                if id(g) in seen:
                    continue
                seen.add(id(g))
                members.extend(g)
                gids.extend([len(seen)] * len(g))
            self._groups = (np.array(members, dtype=np.int64), np.array(gids, dtype=np.int64))
        return self._groups


_state_lock = threading.Lock()


def state_of(snap: whooshlib.Snapshot) -> SnapshotState:
    st = getattr(snap, "_search_state", None)
    if st is None:
        with _state_lock:
            st = getattr(snap, "_search_state", None)
            if st is None:
                st = SnapshotState(snap)
                snap._search_state = st  # type: ignore[attr-defined]
    return st


def _cached_seg_arrays(seg: whooshlib.SegmentView) -> SegArrays | None:
    """A segment's text positions, kept with the segment's shared data: later snapshots
    that still hold the segment reuse them."""
    if "arrays" not in seg.shared:
        seg.shared["arrays"] = _seg_arrays(seg)
    return seg.shared["arrays"]


def _seg_arrays(seg: whooshlib.SegmentView) -> SegArrays | None:
    mm = seg.text_map
    if mm is None:
        return None
    start = np.asarray(seg.text_offsets, dtype=np.int64)
    end = start + np.asarray(seg.text_lengths, dtype=np.int64)
    find, rfind = mm.find, mm.rfind
    title_end = np.fromiter(map(find, repeat(b"\x01"), start.tolist(), end.tolist()), dtype=np.int64, count=len(start))
    body_end = np.fromiter(map(rfind, repeat(b"\x01"), start.tolist(), end.tolist()), dtype=np.int64, count=len(start))
    # A document without separators (should not happen) has no title and all body.
    title_end = np.where(title_end < 0, start, title_end)
    body_end = np.where(body_end < 0, end, body_end)
    titles = b"\x01".join([mm[a:b] for a, b in zip(start.tolist(), title_end.tolist())])
    lens = title_end - start + 1
    title_starts = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(lens)[:-1]]) if len(lens) else lens
    return SegArrays(start, title_end, body_end, end, titles, title_starts)


def title_counts(sa: SegArrays, needle: bytes) -> np.ndarray:
    """Occurrences of `needle` in each title of a segment (as bytes.count would give),
    from one regex scan of the joined titles: most documents' titles do not hold it, so
    this is cheaper than a count call per document."""
    rx = re.compile(re.escape(needle))
    pos = np.fromiter((m.start() for m in rx.finditer(sa.titles)), dtype=np.int64)
    if not len(pos):
        return np.zeros(len(sa.start), dtype=np.float64)
    docs = np.searchsorted(sa.title_starts, pos, side="right") - 1
    return np.bincount(docs, minlength=len(sa.start)).astype(np.float64)


def date_int(date: str) -> int:
    if len(date) == 10 and date[4] == "-" and date[7] == "-":
        try:
            return int(date[:4] + date[5:7] + date[8:10])
        except ValueError:
            return 0
    return 0


def by_segment(ids: np.ndarray, snap: whooshlib.Snapshot) -> Iterable[tuple[int, whooshlib.SegmentView, int, int]]:
    """(segment index, segment, lo, hi): the slice of sorted global `ids` in each segment."""
    bounds = np.searchsorted(ids, [seg.offset for seg in snap.segments] + [snap.doc_count_all])
    for i, seg in enumerate(snap.segments):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        if hi > lo:
            yield i, seg, lo, hi


@dataclass(frozen=True)
class Within:
    """A query-tree node met by the notices of a region (its code, any level) or of a
    year: what a place or a year typed in a query may mean besides its literal text."""

    kind: str  # "region" | "year"
    value: str


class Evaluator:
    """Evaluates one parsed query against a snapshot as boolean masks over docnums."""

    def __init__(self, snap: whooshlib.Snapshot, state: SnapshotState, ranked: bool = True):
        self.snap = snap
        self.state = state
        self.ranked = ranked  # relevance order: count phrases while verifying them
        self.used: dict[tuple[str, str | None], Literal] = {}

    def mask(self, ids: np.ndarray) -> np.ndarray:
        m = np.zeros(self.state.n, dtype=bool)
        m[ids] = True
        return m

    def literal(self, leaf: Leaf) -> Literal:
        key = (leaf.text, leaf.field)
        lit = self.used.get(key)
        if lit is None:
            lit = self.state.literals.get(key)
            if lit is None:
                lit = self._literal(leaf)
                self.state.literals.put(key, lit)
            self.used[key] = lit
        return lit

    def _literal(self, leaf: Leaf) -> Literal:
        snap = self.snap
        terms, exact = required_terms(leaf.text)
        fieldname = "igrams" if leaf.field == "issuer" else "grams"
        if exact and leaf.field is None:
            # One term is proof: its postings are the hits and their weights the
            # frequencies (title + body) that ranking needs.
            ids, tf = snap.term_array(fieldname, terms[0], with_weights=True)
            return Literal(ids, tf)
        if not terms:
            return Literal(np.zeros(0, dtype=np.int64))
        # Rarest term first (document frequencies from term statistics). Every literal of
        # several terms is verified below, so once the candidates are few, checking them
        # in the text is cheaper than reading a long posting list to thin them further.
        by_df = sorted((snap.doc_frequency(fieldname, t), t) for t in terms)
        cand = snap.term_array(fieldname, by_df[0][1])[0]
        for df, t in by_df[1:]:
            if not len(cand) or len(cand) * SKIP_POSTINGS_RATIO <= df:
                break
            cand = cand[self.mask(snap.term_array(fieldname, t)[0])[cand]]
        if not len(cand):
            return Literal(cand)
        cand, counts = self.verify(cand, leaf)  # several terms, or a field: never proof alone
        return Literal(cand, counts)

    def within(self, node: Within) -> np.ndarray:
        """A fresh mask of the live notices of a region or a year."""
        if node.kind == "region":
            return self.mask(self.filter_ids("region", node.value))
        d = self.state.columns.date_int
        y = int(node.value) if node.value.isdigit() else 0
        return (d >= y * 10000 + 101) & (d <= y * 10000 + 1231) & self.state.live

    def filter_ids(self, fieldname: str, value: str) -> np.ndarray:
        """Documents with `value` in a keyword field (region, type): cached like literals."""
        key = ("\x00" + fieldname, value)
        lit = self.state.literals.get(key)
        if lit is None:
            lit = Literal(self.snap.term_array(fieldname, value)[0])
            self.state.literals.put(key, lit)
        return lit.ids

    def verify(self, cand: np.ndarray, leaf: Leaf) -> tuple[np.ndarray, np.ndarray | None]:
        """The candidates whose title/body (or title, or issuer) holds the literal.

        For a plain literal over title and body in a relevance-ordered query, each
        candidate's text is counted rather than searched: one pass gives both the proof and
        the frequency ranking needs (a find stops at the first occurrence, but ranking would
        then count it again). Sorted by date, nothing is ranked and find is cheaper.
        """
        needle = leaf.text.encode("utf-8")
        pattern = word_boundary_pattern(leaf.text) if needs_boundaries(leaf.text) else None
        counting = self.ranked and pattern is None and leaf.field is None
        segs = self.state.segs
        out: list[np.ndarray] = []
        out_counts: list[np.ndarray] = []
        for i, seg, lo, hi in by_segment(cand, self.snap):
            sa = segs[i]
            text = seg.text_map
            if sa is None or text is None:
                continue
            locs = cand[lo:hi] - seg.offset
            if leaf.field == "title":
                starts, ends = sa.start[locs], sa.title_end[locs]
            elif leaf.field == "issuer":
                starts, ends = sa.body_end[locs] + 1, sa.end[locs]
            else:
                starts, ends = sa.start[locs], sa.body_end[locs]
            if counting:
                counts = np.fromiter(map(text.count, repeat(needle), starts.tolist(), ends.tolist()),
                                     dtype=np.float64, count=hi - lo)
                keep = counts > 0
                out_counts.append(counts[keep])
            elif pattern is None:
                found = map(text.find, repeat(needle), starts.tolist(), ends.tolist())
                keep = np.fromiter(found, dtype=np.int64, count=hi - lo) != -1
            else:
                found_m = map(pattern.search, repeat(text), starts.tolist(), ends.tolist())
                keep = np.fromiter((m is not None for m in found_m), dtype=bool, count=hi - lo)
            out.append(cand[lo:hi][keep])
        ids = np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
        if not counting:
            return ids, None
        return ids, (np.concatenate(out_counts) if out_counts else np.zeros(0, dtype=np.float64))

    def run(self, node: Any) -> np.ndarray:
        """A fresh mask (the caller may change it in place)."""
        if isinstance(node, Leaf):
            return self.mask(self.literal(node).ids)
        if isinstance(node, Within):
            return self.within(node)
        if isinstance(node, Not):
            return self.state.live & ~self.run(node.child)
        if isinstance(node, Or):
            out = np.zeros(self.state.n, dtype=bool)
            for c in node.children:
                out |= self.run(c)
            return out
        if isinstance(node, And):
            pos = [c for c in node.children if not isinstance(c, Not)]
            neg = [c.child for c in node.children if isinstance(c, Not)]
            if pos:
                result = self.run(pos[0])
                for c in pos[1:]:
                    result &= self.run(c)
            else:
                result = self.state.live.copy()
            for n in neg:
                result &= ~self.run(n)
            return result
        return np.zeros(self.state.n, dtype=bool)


_anc_cache: dict[str, list[str]] = {}


def ancestors(code: str) -> list[str]:
    anc = _anc_cache.get(code)
    if anc is None:
        anc = regions.ancestors(code) if code else []
        if len(_anc_cache) < 10000:
            _anc_cache[code] = anc
    return anc


def _repost_groups(snap: whooshlib.Snapshot, dates: list[str]) -> dict[int, list[int]]:
    docs: list[int] = []
    sigs: list[int] = []
    for d, rec in snap.iter_records():
        if len(rec) > REC_SIG and rec[REC_SIG]:
            sig = int(rec[REC_SIG], 16)
            if sig:
                docs.append(d)
                sigs.append(sig)
    by_label: dict[int, list[int]] = {}
    for d, label in zip(docs, dedup.components(sigs).tolist()):
        if label >= 0:
            by_label.setdefault(label, []).append(d)
    groups: dict[int, list[int]] = {}
    for members in by_label.values():
        ordered = sorted(members, key=lambda m: (not dates[m], dates[m], m))
        for m in ordered:
            groups[m] = ordered
    return groups


def collapse(st: SnapshotState, mask: np.ndarray) -> None:
    """Keep one hit per repost group (the earliest copy among the hits), in place."""
    members, gids = st.groups
    if not len(members):
        return
    pos = np.flatnonzero(mask[members])
    if len(pos) < 2:
        return
    g = gids[pos]
    later = np.zeros(len(pos), dtype=bool)
    later[1:] = g[1:] == g[:-1]  # not the first hit of its group
    mask[members[pos[later]]] = False

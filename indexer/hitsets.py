"""Hit sets: what a query matches in one index snapshot, as numpy boolean masks.

Every literal (a word or "phrase") becomes the index grams it must contain; their posting
lists, rarest first, give candidates that never miss, and unless the literal is a single
gram or word each candidate is verified in its normalised text (no false hit). AND / OR /
NOT, region and type filters and date ranges are then array operations over masks of
global docnums, whatever the number of hits; only the per-document text checks (a find
in the memory-mapped text) remain, and those run in C through map().

What depends only on the snapshot is built once and kept on it (`SnapshotState`): the
live mask, text positions, facet columns, repost groups (from the segments' sidecars), and
an LRU of literals. `serve` builds it before forking, and its workers share it.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np

from indexer import dedup, regions, whooshlib
from indexer.sidecar import date_int  # noqa: F401  (search.py reads dates through here)
from indexer.analysis import needs_boundaries, required_terms, word_boundary_pattern
from indexer.index import REC_DATE, REC_REGION, REC_SIG, REC_TYPE
from indexer.query import And, Leaf, Not, Or

SKIP_POSTINGS_RATIO = 16  # candidates this many times fewer than a posting list: verify instead

# Per snapshot: docnums, frequencies, bounds and title counts per literal. A common word of
# a million notices takes ~30 MB: 64 MB held two of them, and a server under a mix of
# queries recomputed its common words on nearly every request.
LITERAL_CACHE_BYTES = 256 << 20


class Literal:
    """One literal's meaning in one snapshot: the documents that hold it, its frequency in
    each when the postings give it, and (once ranking asks) each document's BM25
    contribution. All of it depends only on the literal and the snapshot, so it is cached
    per snapshot and shared by every query that uses the literal: paging, facet clicks and
    filter changes over one query reuse it."""

    __slots__ = ("ids", "tf", "tf_bound", "bound", "title", "bound_knows_titles")

    def __init__(self, ids: np.ndarray, tf: np.ndarray | None = None, tf_bound: np.ndarray | None = None):
        self.ids = ids  # sorted global docnums
        self.tf = tf  # frequency in title + body, aligned with ids, when the postings give it
        # For a verified literal: at most this many occurrences in title + body (the
        # smallest count of its grams, from their postings), aligned with ids.
        self.tf_bound = tf_bound
        self.bound: np.ndarray | None = None  # upper bound of the BM25 contribution (ranking.py)
        self.title: np.ndarray | None = None  # occurrences in the title, aligned with ids, once scanned
        self.bound_knows_titles = False


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
        size = lit.ids.nbytes * 5 + 64  # ids, tf or bound, BM25 bound, title counts
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
    # every title followed by \x01, at titles[titles_lo:titles_hi]; document i's title
    # starts at title_starts[i] (relative to titles_lo)
    titles: Any = b""
    titles_lo: int = 0
    titles_hi: int = 0
    title_starts: np.ndarray | None = None


class Columns:
    """Per global docnum, the values facets count and sorts use, as integer codes into a
    vocabulary (0 = none): month (YYYY-MM), type, the region code at each depth of its
    ancestry; the date as an int (YYYYMMDD, 0 = none) and its rank in date order.

    Built from each segment's sidecar arrays (one concatenation and a remap of small
    per-segment vocabularies); a segment written without a sidecar is read from its
    records, as before."""

    def __init__(self, segments: list[whooshlib.SegmentView]):
        type_ix: dict[str, int] = {"": 0}
        reg_ix: dict[str, int] = {"": 0}
        days: list[np.ndarray] = []
        types: list[np.ndarray] = []
        regs: list[np.ndarray] = []
        for seg in segments:
            side = seg.sidecar
            if side is not None:
                day = side["date"].astype(np.int64)
                t_local, t_vocab = side["type"], side.vocab.get("type", [""])
                r_local, r_vocab = side["region"], side.vocab.get("region", [""])
            else:
                recs = list(seg.records)
                day = np.array([date_int(r[REC_DATE]) if len(r) > REC_DATE else 0 for r in recs], dtype=np.int64)
                t_local, t_vocab = _encode([r[REC_TYPE] if len(r) > REC_TYPE else "" for r in recs])
                r_local, r_vocab = _encode([r[REC_REGION] if len(r) > REC_REGION else "" for r in recs])
            days.append(day)
            types.append(np.array([type_ix.setdefault(v, len(type_ix)) for v in t_vocab], dtype=np.int32)[t_local])
            regs.append(np.array([reg_ix.setdefault(v, len(reg_ix)) for v in r_vocab], dtype=np.int32)[r_local])
        n = sum(len(d) for d in days)
        day = np.concatenate(days) if days else np.zeros(0, dtype=np.int64)
        self.type = np.concatenate(types) if types else np.zeros(0, dtype=np.int32)
        reg_codes = np.concatenate(regs) if regs else np.zeros(0, dtype=np.int32)
        self.type_vocab: list[str | None] = list(type_ix)
        self.type_vocab[0] = None
        # months: YYYYMM keys of the valid dates, coded through their sorted distinct values
        month_keys = np.where(day > 0, day // 100, 0)
        distinct, month = np.unique(month_keys, return_inverse=True)
        if len(distinct) and distinct[0] != 0:  # no undated document: code 0 stays unused
            distinct = np.concatenate([np.zeros(1, dtype=distinct.dtype), distinct])
            month = month + 1
        self.month = month.astype(np.int32)
        self.month_vocab: list[str | None] = [None] + [f"{k // 100:04d}-{k % 100:02d}" for k in distinct[1:].tolist()]
        # each distinct region code -> its ancestry, as codes of one shared vocabulary
        reg_vocab = list(reg_ix)
        region_ix: dict[str, int] = {"": 0}
        anc_codes = np.zeros((3, len(reg_vocab)), dtype=np.int32)
        for k, code in enumerate(reg_vocab[1:], start=1):
            for depth, c in enumerate(ancestors(code or "")[:3]):
                anc_codes[depth, k] = region_ix.setdefault(c, len(region_ix))
        self.region_vocab: list[str | None] = list(region_ix)
        self.region_vocab[0] = None
        self.region = anc_codes[:, reg_codes]
        self.date_int = day
        # Date order with ties broken by docnum (a stable sort of the dates).
        order = np.argsort(day, kind="stable")
        self.date_rank = np.empty(n, dtype=np.int64)
        self.date_rank[order] = np.arange(n)


def _encode(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """Values as codes into their vocabulary (code 0 = "")."""
    ix: dict[str, int] = {"": 0}
    codes = np.fromiter((ix.setdefault(v, len(ix)) for v in values), dtype=np.int32, count=len(values))
    return codes, list(ix)


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
    def columns(self) -> Columns:
        if self._columns is None:
            with self._lock:
                if self._columns is None:
                    self._columns = Columns(self.snap.segments)
        return self._columns

    @property
    def reposts(self) -> dict[int, list[int]]:
        """Repost groups: docnum -> all members (only groups of 2 or more), earliest first,
        from the signatures stored with each notice."""
        if self._reposts is None:
            self._reposts = _repost_groups(self.snap, self.columns.date_int)
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


    def prepare(self) -> None:
        """Derive everything now (see Archive.prepare)."""
        _ = self.segs, self.columns, self.groups

    def moved_to(self, snap: whooshlib.Snapshot) -> "SnapshotState":
        """This state for another snapshot of the same generation (same segments, same
        deletions): the derived arrays are shared, the locks and the literal cache are
        new (literals are computed by the new snapshot's own readers)."""
        other = copy.copy(self)
        other.snap = snap
        other._lock = threading.Lock()
        other.literals = LiteralCache(LITERAL_CACHE_BYTES)
        other.live = snap.live_mask
        return other


_state_lock = threading.Lock()


def adopt_state(snap: whooshlib.Snapshot, source: whooshlib.Snapshot) -> None:
    """Give `snap` the derived state of `source`, a snapshot of the same generation."""
    st = getattr(source, "_search_state", None)
    if st is not None and snap.generation == source.generation:
        snap._search_state = st.moved_to(snap)  # type: ignore[attr-defined]


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
    side = seg.sidecar
    if side is not None:
        title_end = start + side["title_len"]
        body_end = start + side["body_end"]
        if "titles" in side.spans and "title_starts" in side.arrays:
            lo, hi = side.spans["titles"]
            return SegArrays(start, title_end, body_end, end, side.data, lo, hi, side["title_starts"])
        # (a sidecar written without the titles: they are joined from the text below)
    else:
        find, rfind = mm.find, mm.rfind
        title_end = np.fromiter(map(find, repeat(b"\x01"), start.tolist(), end.tolist()), dtype=np.int64, count=len(start))
        body_end = np.fromiter(map(rfind, repeat(b"\x01"), start.tolist(), end.tolist()), dtype=np.int64, count=len(start))
        # A document without separators (should not happen) has no title and all body.
        title_end = np.where(title_end < 0, start, title_end)
        body_end = np.where(body_end < 0, end, body_end)
    titles = b"".join(mm[a:b] + b"\x01" for a, b in zip(start.tolist(), title_end.tolist()))
    lens = title_end - start + 1
    title_starts = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(lens)[:-1]]) if len(lens) else lens
    return SegArrays(start, title_end, body_end, end, titles, 0, len(titles), title_starts)


def title_counts(sa: SegArrays, needle: bytes) -> np.ndarray:
    """Occurrences of `needle` in each title of a segment (as bytes.count would give):
    one split of the segment's joined titles, the occurrences placed by their offsets,
    all in C and numpy (a find in every title costs a call a document)."""
    n = len(sa.start)
    if sa.title_starts is None or not needle:
        return np.zeros(n, dtype=np.float64)
    pieces = bytes(sa.titles[sa.titles_lo : sa.titles_hi]).split(needle)
    if len(pieces) == 1:
        return np.zeros(n, dtype=np.float64)
    step = len(needle)
    lens = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))[:-1] + step
    pos = np.cumsum(lens) - step
    docs = np.searchsorted(sa.title_starts, pos, side="right") - 1
    return np.bincount(docs, minlength=n).astype(np.float64)


def counts_in(text: Any, needle: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Occurrences of `needle` (non-overlapping, as bytes.count) in text[start:end] for
    each pair, as float64. A mapped text has no count(): it is found again from after
    each occurrence, every pass one find per document still holding one, in C (map), so
    no document is copied and the passes are as many as the most occurrences."""
    n = len(starts)
    if isinstance(text, bytes):
        return np.fromiter(map(text.count, repeat(needle), starts.tolist(), ends.tolist()), dtype=np.float64, count=n)
    counts = np.zeros(n, dtype=np.float64)
    idx = np.arange(n)
    at = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    step = len(needle) or 1
    find = text.find
    while len(idx):
        found = np.fromiter(map(find, repeat(needle), at.tolist(), ends[idx].tolist()), dtype=np.int64, count=len(idx))
        more = found != -1
        idx = idx[more]
        counts[idx] += 1
        at = found[more] + step
    return counts


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
        # Ranked, the terms' frequencies come along: the smallest is a bound on the
        # literal's own frequency, which lets ranking count occurrences in the few
        # documents that can reach the page instead of in every hit.
        with_bound = self.ranked
        by_df = sorted((snap.doc_frequency(fieldname, t), t) for t in terms)
        cand, bound = snap.term_array(fieldname, by_df[0][1], with_weights=with_bound)
        for df, t in by_df[1:]:
            if not len(cand) or len(cand) * SKIP_POSTINGS_RATIO <= df:
                break
            t_ids, t_w = snap.term_array(fieldname, t, with_weights=with_bound)
            if with_bound and bound is not None and t_w is not None:
                dense = np.zeros(self.state.n, dtype=np.float32)
                dense[t_ids] = t_w
                w = dense[cand]
                keep = w > 0
                cand, bound = cand[keep], np.minimum(bound[keep], w[keep])
            else:
                cand = cand[self.mask(t_ids)[cand]]
        if not len(cand):
            return Literal(cand)
        hits = self.verify(cand, leaf)  # several terms, or a field: never proof alone
        if bound is not None and len(hits) < len(cand):
            bound = bound[np.searchsorted(cand, hits)]
        return Literal(hits, tf_bound=bound)

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

    def verify(self, cand: np.ndarray, leaf: Leaf) -> np.ndarray:
        """The candidates whose title/body (or title, or issuer) holds the literal.

        A find stops at the first occurrence; how often a literal occurs is counted by
        ranking, and only in the documents that can reach the page asked for.
        """
        needle = leaf.text.encode("utf-8")
        pattern = word_boundary_pattern(leaf.text) if needs_boundaries(leaf.text) else None
        segs = self.state.segs
        out: list[np.ndarray] = []
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
            if pattern is None:
                found = map(text.find, repeat(needle), starts.tolist(), ends.tolist())
                keep = np.fromiter(found, dtype=np.int64, count=hi - lo) != -1
            else:
                found_m = map(pattern.search, repeat(text), starts.tolist(), ends.tolist())
                keep = np.fromiter((m is not None for m in found_m), dtype=bool, count=hi - lo)
            out.append(cand[lo:hi][keep])
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

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


def _repost_groups(snap: whooshlib.Snapshot, day: np.ndarray) -> dict[int, list[int]]:
    docs_parts: list[np.ndarray] = []
    sig_parts: list[np.ndarray] = []
    live = snap.live_mask
    for seg in snap.segments:
        side = seg.sidecar
        if side is not None:
            sig = side["sig"]
        else:
            sig = np.array([int(r[REC_SIG], 16) if len(r) > REC_SIG and r[REC_SIG] else 0 for r in seg.records],
                           dtype=np.uint64)
        local = np.flatnonzero(sig != 0)
        glob = local + seg.offset
        keep = live[glob]
        docs_parts.append(glob[keep])
        sig_parts.append(sig[local[keep]])
    if not docs_parts:
        return {}
    docs = np.concatenate(docs_parts)
    sigs = np.concatenate(sig_parts)
    labels = dedup.components(sigs)
    grouped = labels >= 0
    by_label: dict[int, list[int]] = {}
    for d, label in zip(docs[grouped].tolist(), labels[grouped].tolist()):
        by_label.setdefault(label, []).append(d)
    groups: dict[int, list[int]] = {}
    for members in by_label.values():
        # earliest first, undated last, then by docnum
        ordered = sorted(members, key=lambda m: (not day[m], int(day[m]), m))
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

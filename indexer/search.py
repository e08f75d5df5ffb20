"""Search: query + filters -> hits, facets, snippets. Read-only; used by the CLI and web.

How a query is answered (see analysis.py for why):
1. every literal (a word or "phrase") becomes the set of grams it must contain; the
   posting lists of those grams are intersected into candidates (never a miss);
2. unless the literal is a single gram or whole word, each candidate is verified by a
   literal search of its normalised text (never a false hit);
3. hit sets are numpy boolean masks over docnums: AND / OR / NOT, the region and type
   filters and date ranges are array operations, and totals and facets are counted once
   over the final set (bincount over per-snapshot integer columns);
4. only the requested page is ranked: BM25 over literal frequencies with a title boost,
   a per-literal array summed over the hits, then a partial sort for the top `page`.

Two caches: per snapshot, each literal's documents and BM25 contributions (shared by
every query that uses it: refining filters, facet clicks, paging); per query and
filters, the computed hit set, facets and scores.
"""


from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from indexer import dedup, regions, whooshlib
from indexer.analysis import needs_boundaries, required_terms, word_boundary_pattern
from indexer.highlight import highlight, snippet
from indexer.index import REC_DATE, REC_REGION, REC_SIG, REC_TYPE, default_index_dir
from indexer.query import And, Leaf, Not, Or, ParsedQuery, parse

MAX_PER_PAGE = 100
MAX_PAGE = 10_000
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
K1, B = 1.2, 0.75
TITLE_BOOST = 3.0
CACHE_SIZE = 32  # each entry holds a hit array: bounded memory at 100k notices
SKIP_POSTINGS_RATIO = 16  # candidates this many times fewer than a posting list: verify instead
LITERAL_CACHE_BYTES = 64 << 20  # per snapshot: docnums, frequencies and BM25 per literal


class SearchError(ValueError):
    """A request the archive cannot answer as asked; the message is for the user (zh-CN)."""


class IndexMissing(SearchError):
    pass


@dataclass
class SearchRequest:
    q: str = ""
    region: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    doc_type: str | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    # Show one copy of each reposted notice (the others are listed on the hit).
    collapse: bool = False


@dataclass
class Hit:
    id: str
    title: str | None
    date: str | None
    issuer: str | None
    province: str | None
    city: str | None
    district: str | None
    region_code: str | None
    doc_type: str | None
    url: str | None
    source: str | None
    snippet: str
    score: float
    reposts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SearchResult:
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, list[dict[str, Any]]]
    took_ms: float
    messages: list[str] = field(default_factory=list)
    region: dict[str, Any] | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    sort: str = "relevance"

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "sort": self.sort,
            "took_ms": round(self.took_ms, 2),
            "hits": [asdict(h) for h in self.hits],
            "facets": self.facets,
            "timeline": self.timeline,
            "messages": self.messages,
            "region": self.region,
        }


# -- parameter checks ------------------------------------------------------------------


def check_date(value: str | None, label: str) -> str | None:
    if value is None or value == "":
        return None
    value = value.strip()
    if not DATE_RE.match(value):
        raise SearchError(f"{label}格式应为 YYYY-MM-DD，例如 2022-05-06")
    y, m, d = (int(x) for x in value.split("-"))
    import datetime as _dt

    try:
        _dt.date(y, m, d)
    except ValueError:
        raise SearchError(f"{label}不是有效日期：{value}") from None
    return value


def resolve_region(value: str | None) -> regions.Region | None:
    if value is None or not value.strip():
        return None
    value = value.strip()[:100]
    region = regions.resolve(value)
    if region is None:
        many = regions.candidates(value)
        if len(many) > 1:
            opts = "、".join(f"{r.name}（{r.code}）" for r in many[:5])
            raise SearchError(f"地区“{value}”有多个同名：{opts}，请写上级地区或代码")
        raise SearchError(f"未找到地区：{value}")
    return region


def validate(req: SearchRequest) -> SearchRequest:
    """Check every parameter; raise SearchError with a message for the user."""
    if req.sort not in ("relevance", "date"):
        raise SearchError("排序方式只能是 relevance（相关度）或 date（日期）")
    if not isinstance(req.page, int) or req.page < 1:
        raise SearchError("页码应为大于 0 的整数")
    if req.page > MAX_PAGE:
        raise SearchError(f"页码超出范围（最多 {MAX_PAGE} 页）")
    if not isinstance(req.per_page, int) or not 1 <= req.per_page <= MAX_PER_PAGE:
        raise SearchError(f"每页条数应在 1 到 {MAX_PER_PAGE} 之间")
    req.date_from = check_date(req.date_from, "起始日期")
    req.date_to = check_date(req.date_to, "截止日期")
    if req.date_from and req.date_to and req.date_from > req.date_to:
        raise SearchError("起始日期晚于截止日期")
    if req.doc_type is not None:
        req.doc_type = req.doc_type.strip()[:50] or None
    return req


# -- per-snapshot state ------------------------------------------------------------------
#
# Hit sets are numpy boolean masks over global docnums, so AND / OR / NOT, filters and
# facet counts are a few C-level array operations whatever the number of hits; only the
# per-document text checks (bytes.find / count) remain, and those run through map().


class _Literal:
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


class _LiteralCache:
    """LRU of literals for one snapshot, bounded in bytes (ids, tf and contributions)."""

    def __init__(self, budget: int):
        self.budget = budget
        self._items: OrderedDict[tuple[str, str | None], tuple[_Literal, int]] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str | None]) -> _Literal | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: tuple[str, str | None], lit: _Literal) -> None:
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
class _SegArrays:
    """Where, in a segment's text blob (`title \x01 body \x01 issuer` per document), each
    document starts, where its title and body end, and where it ends."""

    start: np.ndarray
    title_end: np.ndarray
    body_end: np.ndarray
    end: np.ndarray
    titles: bytes  # every title of the segment, joined by \x01 (never in a literal)
    title_starts: np.ndarray  # where each document's title starts in `titles`


class _Columns:
    """Per global docnum, the values facets count and sorts use, as integer codes into a
    vocabulary (0 = none): month (YYYY-MM), type, the region code at each depth of its
    ancestry; the date as an int (YYYYMMDD, 0 = none) and its rank in date order."""

    def __init__(self, snap: whooshlib.Snapshot):
        # Encode the distinct values once (there are thousands, not 100,000): a dict per
        # column in comprehensions, then per-value facts (date as int, ancestry) mapped
        # back through the codes with numpy.
        recs = snap.records
        n = len(recs)

        def encode(values: list[str]) -> tuple[np.ndarray, list[str | None]]:
            ix: dict[str, int] = {"": 0}
            codes = np.fromiter((ix.setdefault(v, len(ix)) for v in values), dtype=np.int32, count=len(values))
            vocab: list[str | None] = list(ix)
            vocab[0] = None
            return codes, vocab

        dates = [r[REC_DATE] if len(r) > REC_DATE else "" for r in recs]
        date_codes, date_vocab = encode(dates)
        date_int = np.array([0] + [_date_int(d) for d in date_vocab[1:]], dtype=np.int64)[date_codes]
        month, self.month_vocab = encode([d[:7] if _date_int(d) else "" for d in date_vocab[1:]])
        month = np.concatenate([np.zeros(1, dtype=np.int32), month])[date_codes]
        dtype, self.type_vocab = encode([r[REC_TYPE] if len(r) > REC_TYPE else "" for r in recs])
        reg_codes, reg_vocab = encode([r[REC_REGION] if len(r) > REC_REGION else "" for r in recs])
        # each distinct region code -> its ancestry, as codes of one shared vocabulary
        region_ix: dict[str, int] = {"": 0}
        anc_codes = np.zeros((3, len(reg_vocab)), dtype=np.int32)
        for k, code in enumerate(reg_vocab[1:], start=1):
            for depth, c in enumerate(_ancestors(code or "")[:3]):
                anc_codes[depth, k] = region_ix.setdefault(c, len(region_ix))
        self.region_vocab: list[str | None] = list(region_ix)
        self.region_vocab[0] = None
        region = anc_codes[:, reg_codes]
        self.month, self.type, self.region, self.date_int = month, dtype, region, date_int
        # Date order with ties broken by docnum (as the old string keys did).
        order = np.lexsort((np.arange(n), date_int))
        self.date_rank = np.empty(n, dtype=np.int64)
        self.date_rank[order] = np.arange(n)


class _State:
    """What search derives once per snapshot: the live mask, text positions, facet columns,
    repost groups as arrays, corpus statistics for BM25 and the literal cache."""

    def __init__(self, snap: whooshlib.Snapshot):
        self.snap = snap
        self.n = snap.doc_count_all
        self.live = snap.live_mask
        self.literals = _LiteralCache(LITERAL_CACHE_BYTES)
        self._lock = threading.Lock()
        self._segs: list[_SegArrays | None] | None = None
        self._columns: _Columns | None = None
        self._groups: tuple[np.ndarray, np.ndarray] | None = None
        lengths = [np.asarray(seg.text_lengths, dtype=np.float64) for seg in snap.segments]
        self.length = np.concatenate(lengths) if lengths else np.zeros(0)
        if len(self.length) < self.n:  # segments without a text column
            self.length = np.concatenate([self.length, np.zeros(self.n - len(self.length))])
        self.avg_len = float(self.length.sum()) / self.n if self.n else 1.0

    @property
    def segs(self) -> list[_SegArrays | None]:
        if self._segs is None:
            with self._lock:
                if self._segs is None:
                    self._segs = [_cached_seg_arrays(seg) for seg in self.snap.segments]
        return self._segs

    @property
    def columns(self) -> _Columns:
        if self._columns is None:
            with self._lock:
                if self._columns is None:
                    self._columns = _Columns(self.snap)
        return self._columns

    @property
    def groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Repost group members flattened (group by group, earliest first) and their group ids."""
        if self._groups is None:
            members: list[int] = []
            gids: list[int] = []
            seen: set[int] = set()
            for g in _dup_groups(self.snap).values():
                if id(g) in seen:
                    continue
                seen.add(id(g))
                members.extend(g)
                gids.extend([len(seen)] * len(g))
            self._groups = (np.array(members, dtype=np.int64), np.array(gids, dtype=np.int64))
        return self._groups


_state_lock = threading.Lock()


def _state(snap: whooshlib.Snapshot) -> _State:
    st = getattr(snap, "_search_state", None)
    if st is None:
        with _state_lock:
            st = getattr(snap, "_search_state", None)
            if st is None:
                st = _State(snap)
                snap._search_state = st  # type: ignore[attr-defined]
    return st


def _cached_seg_arrays(seg: whooshlib.SegmentView) -> _SegArrays | None:
    """A segment's text positions, kept with the segment's shared data: later snapshots
    that still hold the segment reuse them."""
    if "arrays" not in seg.shared:
        seg.shared["arrays"] = _seg_arrays(seg)
    return seg.shared["arrays"]


def _seg_arrays(seg: whooshlib.SegmentView) -> _SegArrays | None:
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
    return _SegArrays(start, title_end, body_end, end, titles, title_starts)


def _title_counts(sa: _SegArrays, needle: bytes) -> np.ndarray:
    """Occurrences of `needle` in each title of a segment (as bytes.count would give),
    from one regex scan of the joined titles: most documents' titles do not hold it, so
    this is cheaper than a count call per document."""
    rx = re.compile(re.escape(needle))
    pos = np.fromiter((m.start() for m in rx.finditer(sa.titles)), dtype=np.int64)
    if not len(pos):
        return np.zeros(len(sa.start), dtype=np.float64)
    docs = np.searchsorted(sa.title_starts, pos, side="right") - 1
    return np.bincount(docs, minlength=len(sa.start)).astype(np.float64)


def _date_int(date: str) -> int:
    if len(date) == 10 and date[4] == "-" and date[7] == "-":
        try:
            return int(date[:4] + date[5:7] + date[8:10])
        except ValueError:
            return 0
    return 0


def _split(ids: np.ndarray, snap: whooshlib.Snapshot) -> Iterable[tuple[int, whooshlib.SegmentView, int, int]]:
    """(segment index, segment, lo, hi): the slice of sorted global `ids` in each segment."""
    bounds = np.searchsorted(ids, [seg.offset for seg in snap.segments] + [snap.doc_count_all])
    for i, seg in enumerate(snap.segments):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        if hi > lo:
            yield i, seg, lo, hi


# -- evaluation --------------------------------------------------------------------------


class _Eval:
    """Evaluates one parsed query against a snapshot as boolean masks over docnums."""

    def __init__(self, snap: whooshlib.Snapshot, state: _State, ranked: bool = True):
        self.snap = snap
        self.state = state
        self.ranked = ranked  # relevance order: count phrases while verifying them
        self.used: dict[tuple[str, str | None], _Literal] = {}

    def mask(self, ids: np.ndarray) -> np.ndarray:
        m = np.zeros(self.state.n, dtype=bool)
        m[ids] = True
        return m

    def literal(self, leaf: Leaf) -> _Literal:
        key = (leaf.text, leaf.field)
        lit = self.used.get(key)
        if lit is None:
            lit = self.state.literals.get(key)
            if lit is None:
                lit = self._literal(leaf)
                self.state.literals.put(key, lit)
            self.used[key] = lit
        return lit

    def _literal(self, leaf: Leaf) -> _Literal:
        snap = self.snap
        terms, exact = required_terms(leaf.text)
        fieldname = "igrams" if leaf.field == "issuer" else "grams"
        if exact and leaf.field is None:
            # One term is proof: its postings are the hits and their weights the
            # frequencies (title + body) that ranking needs.
            ids, tf = snap.term_array(fieldname, terms[0], with_weights=True)
            return _Literal(ids, tf)
        if not terms:
            return _Literal(np.zeros(0, dtype=np.int64))
        # Rarest term first (document frequencies from term statistics). Every literal of
        # several terms is verified below, so once the candidates are few, checking them
        # in the text is cheaper than reading a long posting list to thin them further.
        by_df = sorted((snap.doc_frequency(fieldname, t), t) for t in terms)
        cand = snap.term_array(fieldname, by_df[0][1])[0]
        for df, t in by_df[1:]:
            if not len(cand) or len(cand) * SKIP_POSTINGS_RATIO <= df:
                break
            cand = cand[self.mask(snap.term_array(fieldname, t)[0])[cand]]
        if not (exact and leaf.field is None) and len(cand):
            cand, counts = self.verify(cand, leaf)
            return _Literal(cand, counts)
        return _Literal(cand)

    def filter_ids(self, fieldname: str, value: str) -> np.ndarray:
        """Documents with `value` in a keyword field (region, type): cached like literals."""
        key = ("\x00" + fieldname, value)
        lit = self.state.literals.get(key)
        if lit is None:
            lit = _Literal(self.snap.term_array(fieldname, value)[0])
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
        for i, seg, lo, hi in _split(cand, self.snap):
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


# -- the searcher ------------------------------------------------------------------------


@dataclass
class _Computed:
    ids: np.ndarray  # the hits: sorted global docnums
    total: int
    facets: dict[str, list[dict[str, Any]]]
    timeline: list[dict[str, Any]]
    leaves: list[Leaf]
    evaluation: _Eval  # the literals used, reused by ranking
    scores: np.ndarray | None = None  # BM25 aligned with ids, computed on the first relevance page


class Archive:
    """The read side of the index: one open snapshot, refreshed when a build commits.

    Thread-safe for concurrent requests (the snapshot is immutable; the cache is locked).
    """

    def __init__(self, index_dir: str | Path | None = None):
        self.index_dir = Path(index_dir) if index_dir else default_index_dir()
        self._snap: whooshlib.Snapshot | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[Any, ...], _Computed] = OrderedDict()
        self._checked = 0.0

    # snapshot management
    def snapshot(self) -> whooshlib.Snapshot:
        with self._lock:
            now = time.monotonic()
            if self._snap is not None and now - self._checked < 1.0:
                return self._snap
            self._checked = now
            if self._snap is not None and self._snap.is_current():
                return self._snap
            if not whooshlib.exists(self.index_dir):
                raise IndexMissing(f"索引不存在：{self.index_dir}（请先运行 python -m indexer build）")
            old = self._snap
            self._snap = whooshlib.Snapshot(self.index_dir, previous=old)
            self._cache.clear()
            # The old snapshot may still be in use by a request in flight; its files
            # stay valid (Whoosh never rewrites a segment), so let it be collected.
            del old
            return self._snap

    def close(self) -> None:
        with self._lock:
            if self._snap is not None:
                self._snap.close()
                self._snap = None

    def clear_caches(self, literals: bool = True) -> None:
        """Forget computed queries and, by default, the per-literal data of the open
        snapshot: benchmarks use it to time a query's whole work."""
        with self._lock:
            self._cache.clear()
            snap = self._snap
        if literals and snap is not None:
            state = getattr(snap, "_search_state", None)
            if state is not None:
                state.literals.clear()

    # search
    def _computed(self, req: SearchRequest) -> tuple[SearchRequest, regions.Region | None, whooshlib.Snapshot, ParsedQuery, _Computed]:
        """Validate a request and get its hit set, facets and scores (cached per query)."""
        req = validate(req)
        region = resolve_region(req.region)
        snap = self.snapshot()
        parsed = parse(req.q)
        key = (snap.generation, _tree_key(parsed.root), region.code if region else None,
               req.date_from, req.date_to, req.doc_type, req.collapse)
        with self._lock:
            comp = self._cache.get(key)
            if comp is not None:
                self._cache.move_to_end(key)
        if comp is None:
            comp = self._compute(snap, parsed, region, req)
            with self._lock:
                self._cache[key] = comp
                if len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return req, region, snap, parsed, comp

    @staticmethod
    def _sort(req: SearchRequest, parsed: ParsedQuery) -> str:
        return req.sort if parsed.root is not None else "date"

    def search(self, req: SearchRequest) -> SearchResult:
        t0 = time.perf_counter()
        req, region, snap, parsed, comp = self._computed(req)
        pages = max(1, math.ceil(comp.total / req.per_page))
        if req.page > pages and comp.total > 0:
            raise SearchError(f"页码超出范围：共 {pages} 页")
        sort = self._sort(req, parsed)
        page_docs = self._page(snap, comp, sort, req.page, req.per_page)
        needles = [leaf.text for leaf in comp.leaves if leaf.field != "issuer"]
        hits = [self._hit(snap, d, s, needles, with_reposts=req.collapse) for s, d in page_docs]
        return SearchResult(
            total=comp.total,
            page=req.page,
            per_page=req.per_page,
            hits=hits,
            facets=comp.facets,
            took_ms=(time.perf_counter() - t0) * 1000,
            messages=list(parsed.messages),
            region=_region_dict(region),
            timeline=comp.timeline,
            sort=sort,
        )

    def count(self, req: SearchRequest) -> int:
        """The number of hits, without ranking, snippets or stored fields."""
        return self._computed(req)[4].total

    def iter_stored(self, req: SearchRequest, limit: int) -> Iterator[dict[str, Any]]:
        """The stored fields of the first `limit` hits in result order (page and per_page
        ignored): exports read thousands of notices, ranked once, without snippets."""
        req, _region, snap, parsed, comp = self._computed(replace(req, page=1))
        n = min(limit, comp.total)
        if n <= 0:
            return
        for _score, docnum in self._page(snap, comp, self._sort(req, parsed), 1, n):
            yield dict(snap.stored(docnum))

    def region_counts(self) -> dict[str, int]:
        """Live notices per region code, at every level of their ancestry (a province
        counts its cities' and districts' notices): the whole region tree in three counts
        over the facet columns instead of one search per region."""
        snap = self.snapshot()
        st = _state(snap)
        cols = st.columns
        live = np.flatnonzero(st.live)
        out: dict[str, int] = {}
        for depth in range(3):
            out.update(_counts(cols.region[depth], live, cols.region_vocab))
        return out

    def literal_count(self, literal: str) -> int:
        """Notices whose title or body holds `literal` exactly: the literal cache only, no
        query cache, facets or ranking (document frequencies for term weighting)."""
        leaves = parse('"' + literal.replace('"', " ") + '"').positive_leaves()
        if not leaves:
            return 0
        snap = self.snapshot()
        return len(_Eval(snap, _state(snap), ranked=False).literal(leaves[0]).ids)

    def _compute(self, snap: whooshlib.Snapshot, parsed: ParsedQuery, region: regions.Region | None, req: SearchRequest) -> _Computed:
        st = _state(snap)
        ev = _Eval(snap, st, ranked=req.sort == "relevance" and parsed.root is not None)
        mask = st.live.copy() if parsed.root is None else ev.run(parsed.root)
        if region is not None:
            mask[~ev.mask(ev.filter_ids("region", region.code))] = False
        if req.doc_type:
            mask[~ev.mask(ev.filter_ids("doc_type", req.doc_type))] = False
        if req.date_from or req.date_to:
            d = st.columns.date_int
            lo = _date_int(req.date_from) if req.date_from else 1
            hi = _date_int(req.date_to) if req.date_to else 99999999
            mask &= (d > 0) & (d >= lo) & (d <= hi)
        if req.collapse:
            _collapse(st, mask)
        ids = np.flatnonzero(mask)
        facets, timeline = _facets(st, ids, region)
        return _Computed(ids, len(ids), facets, timeline, parsed.positive_leaves(), ev)

    def _page(self, snap: whooshlib.Snapshot, comp: _Computed, sort: str, page: int, per_page: int) -> list[tuple[float, int]]:
        need = page * per_page
        ids = comp.ids
        if not len(ids):
            return []
        if sort == "date":
            top = _top_unique(_state(snap).columns.date_rank[ids], need)
            return [(0.0, d) for d in ids[top[need - per_page :]].tolist()]
        if comp.scores is None:
            comp.scores = _bm25(snap, ids, comp.leaves, comp.evaluation)
        scores = comp.scores
        top = _top_scores(scores, ids, need)[need - per_page :]
        return list(zip(scores[top].tolist(), ids[top].tolist()))

    def _hit(self, snap: whooshlib.Snapshot, docnum: int, score: float, needles: list[str], with_reposts: bool = False) -> Hit:
        f = snap.stored(docnum)
        body = f.get("body") or ""
        reposts: list[dict[str, Any]] = []
        if with_reposts:
            for other in _repost_group(snap, docnum):
                if other != docnum:
                    o = snap.stored(other)
                    reposts.append({k: o.get(k) for k in ("id", "title", "date", "issuer", "url", "source")})
        return Hit(
            reposts=reposts,
            id=f.get("id"),
            title=f.get("title"),
            date=f.get("date"),
            issuer=f.get("issuer"),
            province=f.get("province"),
            city=f.get("city"),
            district=f.get("district"),
            region_code=f.get("region_code"),
            doc_type=f.get("doc_type"),
            url=f.get("url"),
            source=f.get("source"),
            snippet=snippet(body, needles),
            score=round(score, 4),
        )

    # documents
    def _docnum(self, snap: whooshlib.Snapshot, doc_id: str) -> int | None:
        if not doc_id or len(doc_id) > 64 or not re.fullmatch(r"[0-9a-f]+", doc_id):
            return None
        docs = snap.term_docs("id", doc_id)
        return next(iter(docs)) if docs else None

    def get(self, doc_id: str, q: str | None = None) -> dict[str, Any] | None:
        """One notice with its full text; `highlighted` marks the query's literals."""
        snap = self.snapshot()
        docnum = self._docnum(snap, doc_id)
        if docnum is None:
            return None
        f = dict(snap.stored(docnum))
        doc = {k: f.get(k) for k in ("id", "title", "date", "issuer", "province", "city", "district",
                                     "region_code", "doc_type", "doc_number", "url", "source", "body")}
        needles = [leaf.text for leaf in parse(q).positive_leaves() if leaf.field != "issuer"] if q else []
        doc["paragraphs_html"] = [highlight(p, needles) for p in (doc["body"] or "").split("\n") if p.strip()]
        doc["title_html"] = highlight(doc["title"] or "", needles)
        return doc

    def same_region(self, doc_id: str, limit: int = 8) -> list[dict[str, Any]]:
        """Newest other notices of the same most specific region."""
        doc = self.get(doc_id)
        if not doc or not doc.get("region_code"):
            return []
        res = self.search(SearchRequest(region=doc["region_code"], sort="date", per_page=limit + 1))
        return [asdict(h) for h in res.hits if h.id != doc_id][:limit]

    def stats(self) -> dict[str, Any]:
        snap = self.snapshot()
        prov: Counter[str] = Counter()
        years: Counter[str] = Counter()
        types: Counter[str] = Counter()
        for _d, rec in snap.iter_records():
            if len(rec) < 7:
                continue
            code = rec[REC_REGION]
            anc = regions.ancestors(code) if code else []
            prov[_name(anc[0]) if anc else "（未识别地区）"] += 1
            years[rec[REC_DATE][:4] or "（无日期）"] += 1
            types[rec[REC_TYPE] or "（未分类）"] += 1
        size = sum(p.stat().st_size for p in self.index_dir.iterdir() if p.is_file())
        return {
            "documents": snap.doc_count,
            "segments": len(snap.segments),
            "index_bytes": size,
            "provinces": dict(prov.most_common()),
            "years": dict(sorted(years.items())),
            "types": dict(types.most_common()),
        }


# -- helpers -----------------------------------------------------------------------------


def _tree_key(node: Any) -> Any:
    if node is None:
        return None
    if isinstance(node, Leaf):
        return ("L", node.text, node.field)
    if isinstance(node, Not):
        return ("N", _tree_key(node.child))
    return (type(node).__name__, tuple(_tree_key(c) for c in node.children))


def _name(code: str) -> str:
    r = regions.get(code)
    return r.name if r else code


def _region_dict(region: regions.Region | None) -> dict[str, Any] | None:
    if region is None:
        return None
    path = [{"code": c, "name": _name(c)} for c in regions.ancestors(region.code)]
    return {"code": region.code, "name": region.name, "level": region.level, "path": path}


_anc_cache: dict[str, list[str]] = {}


def _ancestors(code: str) -> list[str]:
    anc = _anc_cache.get(code)
    if anc is None:
        anc = regions.ancestors(code) if code else []
        if len(_anc_cache) < 10000:
            _anc_cache[code] = anc
    return anc


def _dup_groups(snap: whooshlib.Snapshot) -> dict[int, list[int]]:
    """Repost groups of this snapshot: docnum -> all members (only groups of 2 or more),
    members ordered earliest first. Built once per snapshot from the stored signatures."""
    groups = getattr(snap, "_dup_groups", None)
    if groups is None:
        dates = _dates(snap)
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
        groups = {}
        for members in by_label.values():
            ordered = sorted(members, key=lambda m: (not dates[m], dates[m], m))
            for m in ordered:
                groups[m] = ordered
        snap._dup_groups = groups  # type: ignore[attr-defined]
    return groups


def _repost_group(snap: whooshlib.Snapshot, docnum: int) -> list[int]:
    return _dup_groups(snap).get(docnum, [])


def _collapse(st: _State, mask: np.ndarray) -> None:
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


def _top_unique(keys: np.ndarray, need: int) -> np.ndarray:
    """Positions of the `need` largest keys (all distinct), largest first."""
    if len(keys) > need:
        part = np.argpartition(keys, len(keys) - need)[len(keys) - need :]
    else:
        part = np.arange(len(keys))
    return part[np.argsort(keys[part])[::-1]]


def _top_scores(scores: np.ndarray, ids: np.ndarray, need: int) -> np.ndarray:
    """Positions of the `need` best hits by score, ties by the later docnum."""
    n = len(scores)
    if n > need:
        threshold = np.partition(scores, n - need)[n - need]
        cand = np.flatnonzero(scores >= threshold)
    else:
        cand = np.arange(n)
    order = np.lexsort((ids[cand], scores[cand]))[::-1]
    return cand[order[:need]]


def _dates(snap: whooshlib.Snapshot) -> list[str]:
    """Per global docnum, the ISO date or "" (computed once per snapshot)."""
    dates = getattr(snap, "_dates", None)
    if dates is None:
        dates = [r[REC_DATE] if len(r) > REC_DATE else "" for r in snap.records]
        snap._dates = dates  # type: ignore[attr-defined]
    return dates


def _counts(column: np.ndarray, ids: np.ndarray, vocab: list[str | None]) -> dict[str, int]:
    counts = np.bincount(column[ids], minlength=len(vocab)) if len(ids) else np.zeros(len(vocab), dtype=np.int64)
    return {vocab[c]: int(counts[c]) for c in np.flatnonzero(counts[1:]) + 1}  # type: ignore[misc]


def _facets(st: _State, ids: np.ndarray, region: regions.Region | None) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """Region one level below the current filter, year, type; and the timeline."""
    cols = st.columns
    depth = len(_ancestors(region.code)) if region else 0
    reg = _counts(cols.region[depth], ids, cols.region_vocab) if depth < 3 else {}
    months = _counts(cols.month, ids, cols.month_vocab)
    types = _counts(cols.type, ids, cols.type_vocab)
    years: Counter[str] = Counter()
    for month, n in months.items():
        years[month[:4]] += n
    facets = {
        "region": [{"value": _name(c), "code": c, "count": n} for c, n in sorted(reg.items(), key=lambda x: (-x[1], x[0]))],
        "year": [{"value": y, "count": n} for y, n in sorted(years.items(), reverse=True)],
        "type": [{"value": t, "count": n} for t, n in sorted(types.items(), key=lambda x: (-x[1], x[0]))],
    }
    # A timeline per year, or per month when the hits span at most two years.
    if years and len(years) <= 2 and months:
        timeline = [{"label": m, "count": n} for m, n in sorted(months.items())]
    else:
        timeline = []
        if years:
            lo, hi = int(min(years)), int(max(years))
            timeline = [{"label": str(y), "count": years.get(str(y), 0)} for y in range(lo, hi + 1)]
    return facets, timeline


def _contributions(snap: whooshlib.Snapshot, st: _State, leaf: Leaf, lit: _Literal) -> np.ndarray:
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
    for i, seg, lo, hi in _split(ids, snap):
        sa = segs[i]
        text = seg.text_map
        if sa is None or text is None:
            continue
        locs = ids[lo:hi] - seg.offset
        title[lo:hi] = _title_counts(sa, needle)[locs]
        if lit.tf is None:
            starts = sa.start[locs].tolist()
            total[lo:hi] = np.fromiter(map(text.count, repeat(needle), starts, sa.body_end[locs].tolist()), dtype=np.float64, count=hi - lo)
    body = total - title
    norm_k = K1 * (1 - B)
    len_k = K1 * B / (st.avg_len or 1.0)
    length = st.length[ids]
    with np.errstate(divide="ignore", invalid="ignore"):
        bm25 = idf * body * (K1 + 1) / (body + norm_k + len_k * length)
    contrib = np.where(body > 0, bm25, 0.0) + np.where(title > 0, idf * TITLE_BOOST, 0.0)
    lit.contrib = contrib
    return contrib


def _bm25(snap: whooshlib.Snapshot, ids: np.ndarray, leaves: list[Leaf], ev: _Eval) -> np.ndarray:
    """BM25 over the positive literals' frequencies, plus a title boost, aligned with `ids`."""
    st = _state(snap)
    scores = np.zeros(len(ids), dtype=np.float64)
    for leaf in leaves:
        if leaf.field == "issuer":
            continue
        lit = ev.literal(leaf)
        if not len(lit.ids):
            continue
        contrib = _contributions(snap, st, leaf, lit)
        pos = np.searchsorted(lit.ids, ids)
        np.minimum(pos, len(lit.ids) - 1, out=pos)
        present = lit.ids[pos] == ids
        scores[present] += contrib[pos[present]]
    return scores

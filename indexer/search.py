"""Search: query + filters -> hits, facets, snippets. Read-only; used by the CLI and web.

How a query is answered (see analysis.py for why):
1. every literal (a word or "phrase") becomes the set of grams it must contain; the
   posting lists of those grams are intersected into candidates (never a miss);
2. unless the literal is a single gram or whole word, each candidate is verified by a
   literal search of its memory-mapped normalised text (never a false hit), which also
   yields the literal's frequency in title and body for ranking;
3. AND / OR / NOT are set operations; filters (region at any level, dates, type) are sets
   or record checks; totals and facets are counted once over the final set;
4. only the requested page is ranked in full (BM25 over literal frequencies, with a title
   boost), loaded and given snippets.

Results for the same query and filters are cached per index generation, so paging and
facet clicks over a large hit set do not recompute it.
"""

from __future__ import annotations

import heapq
import operator
from itertools import repeat
from bisect import bisect_left
import math
import re
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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
CACHE_SIZE = 32  # each entry holds hit sets: bounded memory at 100k notices


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


# -- evaluation --------------------------------------------------------------------------


class _Eval:
    """Evaluates one parsed query against a snapshot, remembering per-literal hits."""

    def __init__(self, snap: whooshlib.Snapshot):
        self.snap = snap
        self.leaf_hits: dict[tuple[str, str | None], set[int]] = {}
        # exact single-term literals: docnum -> frequency in title + body
        self.leaf_tf: dict[tuple[str, str | None], dict[int, float]] = {}
        self._all: set[int] | None = None

    def all_docs(self) -> set[int]:
        if self._all is None:
            self._all = self.snap.live_docs()
        return self._all

    def leaf(self, leaf: Leaf) -> set[int]:
        key = (leaf.text, leaf.field)
        if key in self.leaf_hits:
            return self.leaf_hits[key]
        snap = self.snap
        terms, exact = required_terms(leaf.text)
        fieldname = "igrams" if leaf.field == "issuer" else "grams"
        if exact and leaf.field is None:
            # One term is proof: its postings are the hits and their weights the
            # frequencies (title + body) that ranking needs.
            tf = snap.term_weights(fieldname, terms[0])
            self.leaf_tf[key] = tf
            self.leaf_hits[key] = set(tf)
            return self.leaf_hits[key]
        postings = sorted((snap.term_docs(fieldname, t) for t in terms), key=len)
        cand: set[int] = set()
        if postings:
            cand = postings[0]
            for p in postings[1:]:
                if not cand:
                    break
                cand = cand & p
        if not (exact and leaf.field is None) and cand:
            cand = self.verify(cand, leaf)
        self.leaf_hits[key] = cand
        return cand

    def verify(self, cand: set[int], leaf: Leaf) -> set[int]:
        """The candidates whose title/body (or title, or issuer) holds the literal."""
        needle = leaf.text.encode("utf-8")
        pattern = word_boundary_pattern(leaf.text) if needs_boundaries(leaf.text) else None
        out: set[int] = set()
        ordered = sorted(cand)
        for seg in self.snap.segments:
            text = seg.text_map
            lo = bisect_left(ordered, seg.offset)
            hi = bisect_left(ordered, seg.offset + seg.doccount)
            if text is None or hi <= lo:
                continue
            base = seg.offset
            locs = [d - base for d in ordered[lo:hi]]
            title_end, body_end = _separators(seg)
            if leaf.field == "title":
                starts = map(seg.text_offsets.__getitem__, locs)
                ends = map(title_end.__getitem__, locs)
            elif leaf.field == "issuer":
                starts = map(operator.add, map(body_end.__getitem__, locs), repeat(1))
                ends = map(operator.add, map(seg.text_offsets.__getitem__, locs), map(seg.text_lengths.__getitem__, locs))
            else:
                starts = map(seg.text_offsets.__getitem__, locs)
                ends = map(body_end.__getitem__, locs)
            if pattern is None:
                found = map(text.find, repeat(needle), starts, ends)
                out.update(base + loc for loc, pos in zip(locs, found) if pos != -1)
            else:
                found = map(pattern.search, repeat(text), starts, ends)
                out.update(base + loc for loc, m in zip(locs, found) if m is not None)
        return out

    def run(self, node: Any) -> set[int]:
        if isinstance(node, Leaf):
            return self.leaf(node)
        if isinstance(node, Not):
            return self.all_docs() - self.run(node.child)
        if isinstance(node, Or):
            out: set[int] = set()
            for c in node.children:
                out |= self.run(c)
            return out
        if isinstance(node, And):
            pos = [c for c in node.children if not isinstance(c, Not)]
            neg = [c.child for c in node.children if isinstance(c, Not)]
            if pos:
                sets = sorted((self.run(c) for c in pos), key=len)
                result = set(sets[0])
                for s in sets[1:]:
                    result &= s
            else:
                result = set(self.all_docs())
            for n in neg:
                if not result:
                    break
                result -= self.run(n)
            return result
        return set()


# -- the searcher ------------------------------------------------------------------------


@dataclass
class _Computed:
    hits: set[int]
    total: int
    facets: dict[str, list[dict[str, Any]]]
    timeline: list[dict[str, Any]]
    leaves: list[Leaf]
    evaluation: _Eval  # per-literal hit sets, reused by ranking
    scores: dict[int, float] | None = None  # BM25, computed on the first relevance page


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
            self._snap = whooshlib.Snapshot(self.index_dir)
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

    # search
    def search(self, req: SearchRequest) -> SearchResult:
        t0 = time.perf_counter()
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
        pages = max(1, math.ceil(comp.total / req.per_page))
        if req.page > pages and comp.total > 0:
            raise SearchError(f"页码超出范围：共 {pages} 页")
        sort = req.sort if parsed.root is not None else "date"
        if req.sort == "relevance" and parsed.root is None:
            sort = "date"
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

    def _compute(self, snap: whooshlib.Snapshot, parsed: ParsedQuery, region: regions.Region | None, req: SearchRequest) -> _Computed:
        ev = _Eval(snap)
        if parsed.root is None:
            hits = set(ev.all_docs())
        else:
            hits = ev.run(parsed.root)
        if region is not None and hits:
            hits &= snap.term_docs("region", region.code)
        if req.doc_type and hits:
            hits &= snap.term_docs("doc_type", req.doc_type)
        if (req.date_from or req.date_to) and hits:
            lo = req.date_from or "0000-00-00"
            hi = req.date_to or "9999-99-99"
            dates = _dates(snap)
            hits = {d for d in hits if dates[d] and lo <= dates[d] <= hi}
        if req.collapse and hits:
            hits = _collapse(snap, hits)
        facets, timeline = _facets(snap, hits, region, req)
        return _Computed(hits, len(hits), facets, timeline, parsed.positive_leaves(), ev)

    def _page(self, snap: whooshlib.Snapshot, comp: _Computed, sort: str, page: int, per_page: int) -> list[tuple[float, int]]:
        need = page * per_page
        if not comp.hits:
            return []
        if sort == "date":
            top = heapq.nlargest(need, comp.hits, key=_date_keys(snap).__getitem__)
            return [(0.0, d) for d in top[need - per_page :]]
        scores = comp.scores
        if scores is None:
            scores = _bm25(snap, comp.hits, comp.leaves, comp.evaluation)
            comp.scores = scores
        if len(scores) == len(comp.hits):
            # every hit has a score: rank the (docnum, score) pairs directly
            top = [d for d, _ in heapq.nlargest(need, scores.items(), key=_score_key)]
        else:
            top = heapq.nlargest(need, comp.hits, key=lambda d: (scores.get(d, 0.0), d))
        return [(scores.get(d, 0.0), d) for d in top[need - per_page :]]

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
        dup = dedup.DupIndex()
        dates = _dates(snap)
        for d, rec in snap.iter_records():
            if len(rec) > REC_SIG and rec[REC_SIG]:
                sig = int(rec[REC_SIG], 16)
                if sig:
                    dup.add(str(d), dates[d] or None, sig)
        groups = {}
        seen: set[str] = set()
        for key in list(dup._groups):
            members = dup._groups[key]
            if len(members) < 2 or key in seen:
                continue
            seen.add(key)
            ordered = [int(m) for m in sorted(members, key=lambda m: (not dates[int(m)], dates[int(m)], int(m)))]
            for m in ordered:
                groups[m] = ordered
        snap._dup_groups = groups  # type: ignore[attr-defined]
    return groups


def _repost_group(snap: whooshlib.Snapshot, docnum: int) -> list[int]:
    return _dup_groups(snap).get(docnum, [])


def _collapse(snap: whooshlib.Snapshot, hits: set[int]) -> set[int]:
    """Keep one hit per repost group: the earliest copy among the hits."""
    groups = _dup_groups(snap)
    if not groups:
        return hits
    out = set(hits)
    for d in hits:
        members = groups.get(d)
        if members is None:
            continue
        first = next(m for m in members if m in hits)
        if first != d:
            out.discard(d)
    return out


def _score_key(item: tuple[int, float]) -> tuple[float, int]:
    return item[1], item[0]


def _dates(snap: whooshlib.Snapshot) -> list[str]:
    """Per global docnum, the ISO date or "" (computed once per snapshot)."""
    dates = getattr(snap, "_dates", None)
    if dates is None:
        dates = [r[REC_DATE] if len(r) > REC_DATE else "" for r in snap.records]
        snap._dates = dates  # type: ignore[attr-defined]
    return dates


def _date_keys(snap: whooshlib.Snapshot) -> list[str]:
    """Per global docnum, a string that sorts by date, then by docnum (stable ties)."""
    keys = getattr(snap, "_date_keys", None)
    if keys is None:
        keys = [f"{date or '0000-00-00'}{d:010d}" for d, date in enumerate(_dates(snap))]
        snap._date_keys = keys  # type: ignore[attr-defined]
    return keys


class _Columns:
    """Per global docnum, the values facets count: month (YYYY-MM), type and the region
    code at each depth of its ancestry. Built once per snapshot, so counting a facet is
    `Counter(map(column.__getitem__, hits))`, done in C, instead of a Python loop."""

    def __init__(self, snap: whooshlib.Snapshot):
        self.month: list[str | None] = []
        self.type: list[str | None] = []
        self.region: list[list[str | None]] = [[], [], []]
        for r in snap.records:
            date = r[REC_DATE] if len(r) > REC_DATE else ""
            self.month.append(date[:7] if date else None)
            self.type.append((r[REC_TYPE] or None) if len(r) > REC_TYPE else None)
            anc = _ancestors(r[REC_REGION]) if len(r) > REC_REGION and r[REC_REGION] else []
            for depth in range(3):
                self.region[depth].append(anc[depth] if len(anc) > depth else None)


def _columns(snap: whooshlib.Snapshot) -> _Columns:
    cols = getattr(snap, "_columns", None)
    if cols is None:
        cols = _Columns(snap)
        snap._columns = cols  # type: ignore[attr-defined]
    return cols


def _facets(snap: whooshlib.Snapshot, hits: set[int], region: regions.Region | None, req: SearchRequest) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """Region one level below the current filter, year, type; and the timeline."""
    cols = _columns(snap)
    depth = len(_ancestors(region.code)) if region else 0
    reg: Counter[str | None] = Counter(map(cols.region[depth].__getitem__, hits)) if depth < 3 else Counter()
    months: Counter[str | None] = Counter(map(cols.month.__getitem__, hits))
    types: Counter[str | None] = Counter(map(cols.type.__getitem__, hits))
    reg.pop(None, None)
    months.pop(None, None)
    types.pop(None, None)
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


def _separators(seg: whooshlib.SegmentView) -> tuple[list[int], list[int]]:
    """Per document of a segment, where its title and its body end in the text map
    (computed once per snapshot; the blob is `title \x01 body \x01 issuer`)."""
    cached = getattr(seg, "_seps", None)
    if cached is None:
        mm = seg.text_map
        title_end: list[int] = []
        body_end: list[int] = []
        for start, length in zip(seg.text_offsets, seg.text_lengths):
            end = start + length
            title_end.append(mm.find(b"\x01", start, end) if mm is not None else start)
            body_end.append(mm.rfind(b"\x01", start, end) if mm is not None else start)
        cached = (title_end, body_end)
        seg._seps = cached  # type: ignore[attr-defined]
    return cached


def _bm25(snap: whooshlib.Snapshot, hits: set[int], leaves: list[Leaf], ev: _Eval) -> dict[int, float]:
    """BM25 over the literal frequencies of the positive literals, plus a title boost."""
    n_docs = max(1, snap.doc_count)
    scores: dict[int, float] = {}
    if not leaves:
        return scores
    total_len = 0
    count = 0
    for seg in snap.segments:
        total_len += sum(seg.text_lengths)
        count += seg.doccount
    avg = total_len / count if count else 1.0
    by_segment: list[tuple[whooshlib.SegmentView, list[int]]] = []
    ordered = sorted(hits)
    for seg in snap.segments:
        lo = bisect_left(ordered, seg.offset)
        hi = bisect_left(ordered, seg.offset + seg.doccount)
        if hi > lo and seg.text_map is not None:
            by_segment.append((seg, ordered[lo:hi]))
    norm_k = K1 * (1 - B)
    len_k = K1 * B / avg
    first = True  # the first scored literal fills the dict, later ones add to it
    for leaf in leaves:
        if leaf.field == "issuer":
            continue
        leaf_docs = ev.leaf_hits.get((leaf.text, leaf.field), set())
        df = len(leaf_docs)
        if not df:
            continue
        idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        needle = leaf.text.encode("utf-8")
        for seg, docs in by_segment:
            base = seg.offset
            locs = [d - base for d in docs if d in leaf_docs]
            if not locs:
                continue
            text = seg.text_map
            title_end, body_end = _separators(seg)
            starts = list(map(seg.text_offsets.__getitem__, locs))
            # Counts through map() over the segment's text: the per-document work is C.
            # Titles are short; a single-term literal takes its total from the postings.
            tf_title = list(map(text.count, repeat(needle), starts, map(title_end.__getitem__, locs)))
            known = ev.leaf_tf.get((leaf.text, leaf.field))
            if known is not None:
                tf_all = map(known.__getitem__, map(base.__add__, locs))
            else:
                tf_all = map(text.count, repeat(needle), starts, map(body_end.__getitem__, locs))
            lengths = map(seg.text_lengths.__getitem__, locs)
            k1p = K1 + 1
            title_bonus = idf * TITLE_BOOST
            # One comprehension per segment and literal (no per-document dict updates).
            contrib = [
                (idf * (total - tt) * k1p / (total - tt + norm_k + len_k * length) if total > tt else 0.0)
                + (title_bonus if tt else 0.0)
                for total, tt, length in zip(tf_all, tf_title, lengths)
            ]
            docs_here = map(base.__add__, locs)
            if first:
                scores.update(zip(docs_here, contrib))
            else:
                get = scores.get
                scores.update({d: get(d, 0.0) + c for d, c in zip(docs_here, contrib)})
        first = False
    return scores

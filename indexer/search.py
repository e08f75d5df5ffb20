"""Search: query + filters -> hits, facets, snippets. Read-only; used by the CLI and web.

The archive's read side: `Archive` validates a request, keeps the index snapshot current,
caches each query's computed hit set, and builds result pages. The work is in three
modules, in the order a query flows through them:

* hitsets.py: literals -> candidate grams -> verified documents; AND / OR / NOT and the
  region, type and date filters as numpy masks; repost collapsing; per-snapshot state and
  the literal cache;
* facets.py: region / year / type counts and the timeline over the final hit set;
* ranking.py: BM25 with a title boost, per literal, and the requested page by partial sort.

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
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from indexer import facets, hitsets, ranking, regions, relax, whooshlib
from indexer.analysis import matching_text, required_terms
from indexer.highlight import highlight, snippet
from indexer.index import REC_DATE, REC_REGION, REC_TYPE, default_index_dir
from indexer.query import And, Leaf, Not, ParsedQuery, parse
from indexer.query import literal as query_literal

MAX_PER_PAGE = 100
MAX_PAGE = 10_000
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CACHE_SIZE = 32  # queries whose hits, facets and scores are kept (paging, facet clicks)
CACHE_BYTES = 192 << 20


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
    # Exact semantics only: no splitting, aliases, partial matches or place/year boosts.
    exact: bool = False


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
    # "exact": holds every literal as typed; "words": every word after splitting or
    # aliasing; "partial": lacks the words in `missing`.
    match: str = "exact"
    missing: list[str] = field(default_factory=list)


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
    # None when the query was answered as typed, else {"query", "reason", "message", ...}.
    relaxed: dict[str, Any] | None = None
    # Places and years the query names, offered as filters: {"places": [...], "years": [...]}.
    understood: dict[str, Any] = field(default_factory=dict)
    # When nothing is found: queries that would find something, with their counts.
    suggestions: list[dict[str, Any]] = field(default_factory=list)

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
            "relaxed": self.relaxed,
            "understood": self.understood,
            "suggestions": self.suggestions,
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


# -- the searcher ------------------------------------------------------------------------


@dataclass


class _Computed:
    ids: np.ndarray  # the hits: sorted global docnums
    total: int
    facets: dict[str, list[dict[str, Any]]]
    timeline: list[dict[str, Any]]
    leaves: list[Leaf]
    evaluation: hitsets.Evaluator  # the literals used, reused by ranking
    scores: ranking.Scores | None = None  # BM25 of ids (exact where it decides a page), on the first relevance page
    bonus: np.ndarray | None = None  # tiers and place/year boosts aligned with ids
    outcome: relax.Outcome | None = None  # set when the query was loosened
    relaxed: dict[str, Any] | None = None
    understood: dict[str, Any] = field(default_factory=dict)
    pairs: dict[tuple[str, str | None], tuple[Leaf, Leaf]] = field(default_factory=dict)  # relax.Plan.pairs


class Archive:
    """The read side of the index: one open snapshot, refreshed when a build commits.

    Thread-safe for concurrent requests (the snapshot is immutable; the cache is locked).
    """

    def __init__(self, index_dir: str | Path | None = None, verify: bool = True):
        self.index_dir = Path(index_dir) if index_dir else default_index_dir()
        self.verify = verify  # check the index's files against their checksums (Snapshot.verify)
        self._snap: whooshlib.Snapshot | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[Any, ...], _Computed] = OrderedDict()
        self._checked = 0.0
        self._inherited: whooshlib.Snapshot | None = None

    def prepare(self) -> None:
        """Open the snapshot and derive now what every search needs from it (text
        positions, facet columns, repost groups). `serve` calls it in the parent before
        the workers fork: they inherit the arrays (shared, never written) instead of
        each deriving its own copy before its first answer."""
        snap = self.snapshot()
        hitsets.state_of(snap).prepare()

    def inherit(self, other: "Archive") -> None:
        """Start from what `other` (opened before a fork) has derived: this archive
        opens its own snapshot (file handles are per process) and, when it is of the
        same generation, takes over the other's derived arrays."""
        self._inherited = other._snap

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
            inherited, self._inherited = self._inherited, None
            self._snap = whooshlib.Snapshot(self.index_dir, previous=old or inherited, verify=self.verify)
            if old is None and inherited is not None and inherited.generation == self._snap.generation:
                hitsets.adopt_state(self._snap, inherited)
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
            hitsets.state_of(snap).literals.clear()

    # search
    def _computed(self, req: SearchRequest) -> tuple[SearchRequest, regions.Region | None, whooshlib.Snapshot, ParsedQuery, _Computed]:
        """Validate a request and get its hit set, facets and scores (cached per query)."""
        req = validate(req)
        region = resolve_region(req.region)
        snap = self.snapshot()
        parsed = parse(req.q)
        key = (snap.generation, _tree_key(parsed.root), region.code if region else None,
               req.date_from, req.date_to, req.doc_type, req.collapse, req.exact)
        with self._lock:
            comp = self._cache.get(key)
            if comp is not None:
                self._cache.move_to_end(key)
        if comp is None:
            comp = self._compute(snap, parsed, region, req)
            with self._lock:
                self._cache[key] = comp
                # entries and bytes both bounded: at a million notices one broad query's
                # hits, scores and tiers are ~25 MB
                while len(self._cache) > 1 and (len(self._cache) > CACHE_SIZE or
                                                sum(c.ids.nbytes * 3 for c in self._cache.values()) > CACHE_BYTES):
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
        if comp.outcome is not None:
            for h, (_s, d) in zip(hits, page_docs):
                h.match, h.missing = _match_of(comp.outcome, d)
        suggestions = self._suggestions(req, parsed) if comp.total == 0 and parsed.root is not None else []
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
            relaxed=comp.relaxed,
            understood=comp.understood,
            suggestions=suggestions,
        )

    def _suggestions(self, req: SearchRequest, parsed: ParsedQuery) -> list[dict[str, Any]]:
        """Queries that would find something when this one finds nothing: the same query
        without its filters, then its parts one by one, with their counts."""
        out: list[dict[str, Any]] = []
        base = replace(req, page=1, exact=False)
        if req.region or req.date_from or req.date_to or req.doc_type:
            n = self.count(replace(base, region=None, date_from=None, date_to=None, doc_type=None))
            if n:
                out.append({"q": req.q, "count": n, "drop_filters": True})
        parts = parsed.root.children if isinstance(parsed.root, And) else [parsed.root]
        words: list[str] = []
        for part in parts:
            if isinstance(part, Leaf):
                split = relax.split_literal(part, lambda _t: False)
                words.extend([w.text for w in split] if split else [part.raw or part.text])
        if len(words) > 1:
            counted = []
            for w in dict.fromkeys(words):
                n = self.count(replace(base, q=w, exact=True))
                if n:
                    counted.append({"q": w, "count": n, "drop_filters": False})
            out.extend(sorted(counted, key=lambda d: -d["count"])[:5])
        return out[:6]

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
        st = hitsets.state_of(snap)
        cols = st.columns
        live = np.flatnonzero(st.live)
        out: dict[str, int] = {}
        for depth in range(3):
            out.update(facets.counts(cols.region[depth], live, cols.region_vocab))
        return out

    def literal_count(self, literal: str) -> int:
        """Notices whose title or body holds `literal` exactly: the literal cache only, no
        query cache, facets or ranking."""
        leaf = query_literal(literal)
        if leaf is None:
            return 0
        snap = self.snapshot()
        return len(hitsets.Evaluator(snap, hitsets.state_of(snap), ranked=False).literal(leaf).ids)

    def literal_count_bound(self, literal: str) -> int:
        """At most how many notices hold `literal`: the smallest document frequency of the
        index terms it needs, from the term dictionaries alone (no posting list, no text:
        a few microseconds a segment). For term weighting, where an exact count of twenty
        terms cost seconds at a million notices."""
        leaf = query_literal(literal)
        if leaf is None:
            return 0
        terms, _exact = required_terms(leaf.text)
        if not terms:
            return 0
        snap = self.snapshot()
        return min(snap.doc_frequency("grams", t) for t in terms)

    def _compute(self, snap: whooshlib.Snapshot, parsed: ParsedQuery, region: regions.Region | None, req: SearchRequest) -> _Computed:
        st = hitsets.state_of(snap)
        ev = hitsets.Evaluator(snap, st, ranked=req.sort == "relevance" and parsed.root is not None)
        allowed = st.live.copy()
        if region is not None:
            allowed &= ev.mask(ev.filter_ids("region", region.code))
        if req.doc_type:
            allowed &= ev.mask(ev.filter_ids("doc_type", req.doc_type))
        if req.date_from or req.date_to:
            d = st.columns.date_int
            lo = hitsets.date_int(req.date_from) if req.date_from else 1
            hi = hitsets.date_int(req.date_to) if req.date_to else 99999999
            allowed &= (d > 0) & (d >= lo) & (d <= hi)
        mask = allowed.copy() if parsed.root is None else ev.run(parsed.root) & allowed
        leaves = parsed.positive_leaves()
        outcome = relaxed = None
        pairs: dict[tuple[str, str | None], tuple[Leaf, Leaf]] = {}
        places: list[tuple[regions.Region, np.ndarray]] = []
        years: list[tuple[str, np.ndarray]] = []
        if not req.exact and parsed.root is not None:
            named_places, named_years = relax.recognised(parsed)
            places = [(r, ev.within(hitsets.Within("region", r.code))) for r in named_places]
            years = [(y, ev.within(hitsets.Within("year", y))) for y in named_years]
            if np.count_nonzero(mask) < relax.MIN_EXACT:
                plan = relax.plan(parsed, lambda text: len(ev.literal(Leaf(text)).ids) > 0)
                outcome = relax.evaluate(plan, ev, allowed, mask) if plan is not None else None
                if outcome is not None and plan is not None:
                    mask = outcome.mask
                    leaves = relax.unique_leaves(leaves + plan.scoring)
                    pairs = plan.pairs
                    relaxed = _relaxed_dict(plan, outcome)
        if req.collapse:
            hitsets.collapse(st, mask)
        ids = np.flatnonzero(mask)
        facet_counts, timeline = facets.facets(st, ids, region)
        comp = _Computed(ids, len(ids), facet_counts, timeline, leaves, ev, outcome=outcome, relaxed=relaxed, pairs=pairs)
        boosts = [(m, relax.PLACE_BOOST) for _r, m in places] + [(m, relax.YEAR_BOOST) for _y, m in years]
        comp.bonus = _bonus(ids, outcome, boosts)
        if not req.exact and parsed.root is not None:
            comp.understood = _offers(places, years, ids, region, req)
        return comp

    def _page(self, snap: whooshlib.Snapshot, comp: _Computed, sort: str, page: int, per_page: int) -> list[tuple[float, int]]:
        need = page * per_page
        ids = comp.ids
        if not len(ids):
            return []
        if sort == "date":
            top = ranking.top_unique(hitsets.state_of(snap).columns.date_rank[ids], need)
            return [(0.0, d) for d in ids[top[need - per_page :]].tolist()]
        if comp.scores is None:
            comp.scores = ranking.Scores(snap, ids, comp.leaves, comp.evaluation, comp.bonus, comp.pairs)
        scores = comp.scores
        top = scores.top(min(need, len(ids)))[need - per_page :]
        return list(zip(scores.values[top].tolist(), ids[top].tolist()))

    def _hit(self, snap: whooshlib.Snapshot, docnum: int, score: float, needles: list[str], with_reposts: bool = False) -> Hit:
        f = snap.stored(docnum)
        body = f.get("body") or ""
        reposts: list[dict[str, Any]] = []
        if with_reposts:
            for other in hitsets.state_of(snap).reposts.get(docnum, []):
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
        docs = snap.term_array("id", doc_id)[0]
        return int(docs[0]) if len(docs) else None

    def get(self, doc_id: str, q: str | None = None) -> dict[str, Any] | None:
        """One notice with its full text; `highlighted` marks the query's literals."""
        snap = self.snapshot()
        docnum = self._docnum(snap, doc_id)
        if docnum is None:
            return None
        f = dict(snap.stored(docnum))
        doc = {k: f.get(k) for k in ("id", "title", "date", "issuer", "province", "city", "district",
                                     "region_code", "doc_type", "doc_number", "url", "source", "body")}
        needles = _needles(q, (doc["title"] or "") + "\n" + (doc["body"] or "")) if q else []
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
        """Counts by province, year and type over the live notices, from the facet columns
        (no record is parsed: this is a million-notice page too)."""
        snap = self.snapshot()
        st = hitsets.state_of(snap)
        cols = st.columns
        live = np.flatnonzero(st.live)
        prov: Counter[str] = Counter()
        for code, n in facets.counts(cols.region[0], live, cols.region_vocab).items():
            prov[facets.region_name(code)] += n
        unplaced = int((cols.region[0][live] == 0).sum())
        if unplaced:
            prov["（未识别地区）"] += unplaced
        years: Counter[str] = Counter()
        for month, n in facets.counts(cols.month, live, cols.month_vocab).items():
            years[month[:4]] += n
        undated = int((cols.month[live] == 0).sum())
        if undated:
            years["（无日期）"] += undated
        types: Counter[str] = Counter(facets.counts(cols.type, live, cols.type_vocab))
        untyped = int((cols.type[live] == 0).sum())
        if untyped:
            types["（未分类）"] += untyped
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
        return ("L", node.text, node.field, node.quoted)
    if isinstance(node, Not):
        return ("N", _tree_key(node.child))
    if isinstance(node, hitsets.Within):
        return ("W", node.kind, node.value)
    return (type(node).__name__, tuple(_tree_key(c) for c in node.children))


def _needles(q: str, text: str) -> list[str]:
    """What to mark on a document page: the query's literals, or, when the notice holds
    none of them as typed (it was found by a loosened query), the words they split into."""
    parsed = parse(q)
    exact = [leaf.text for leaf in parsed.positive_leaves() if leaf.field != "issuer"]
    matching = matching_text(text)
    if any(n in matching for n in exact):
        return exact
    plan = relax.plan(parsed, lambda _t: False)
    return exact + [leaf.text for leaf in plan.scoring if leaf.field != "issuer"] if plan else exact


def _bonus(ids: np.ndarray, outcome: relax.Outcome | None, boosts: list[tuple[np.ndarray, float]]) -> np.ndarray | None:
    """What ranks a hit besides BM25: its tier (exact above words above partial, partials by
    the share of the query they hold) and boosts for the places and years the query names."""
    if outcome is None and not boosts:
        return None
    bonus = np.zeros(len(ids), dtype=np.float64)
    if outcome is not None:
        bonus += np.where(outcome.exact[ids], relax.EXACT_TIER, 0.0)
        if outcome.coverage is not None:
            cov = outcome.coverage[ids]
            bonus += cov * relax.COVERAGE_TIER + np.where(cov >= 1.0 - 1e-9, relax.WORDS_TIER, 0.0)
        else:
            bonus += relax.COVERAGE_TIER + relax.WORDS_TIER
    for m, weight in boosts:
        bonus += np.where(m[ids], weight, 0.0)
    return bonus


def _match_of(outcome: relax.Outcome, docnum: int) -> tuple[str, list[str]]:
    if outcome.exact[docnum]:
        return "exact", []
    missing = [label for label, m in outcome.units if not m[docnum]]
    return ("partial", missing) if missing else ("words", [])


def _relaxed_dict(plan: relax.Plan, outcome: relax.Outcome) -> dict[str, Any]:
    if outcome.kind == "words":
        message = f"没有与原查询完全一致的结果，已按“{plan.query}”检索"
        if outcome.partials:
            message += f"；包含全部词语的结果较少，其后列出只包含部分词语的 {outcome.partials} 条"
    else:
        message = f"没有同时包含全部词语的结果，以下结果只包含部分词语（按“{plan.query}”检索）"
    return {
        "query": plan.query,
        "reason": outcome.kind,
        "message": message,
        "exact_total": int(np.count_nonzero(outcome.exact)),
        "partial_total": outcome.partials,
        "aliases": plan.aliases,
    }


def _offers(places: list[tuple[regions.Region, np.ndarray]], years: list[tuple[str, np.ndarray]],
            ids: np.ndarray, region: regions.Region | None, req: SearchRequest) -> dict[str, Any]:
    """The places and years a query names (with their masks, which also rank), as filters
    one click away, with how many of the current hits each keeps (filters already applied
    are not offered again)."""
    place_offers = []
    for r, m in places:
        if region is not None and region.code == r.code:
            continue
        n = int(np.count_nonzero(m[ids]))
        if n:
            path = "".join(facets.region_name(c) or "" for c in regions.ancestors(r.code))
            place_offers.append({"code": r.code, "name": r.name, "path": path, "count": n})
    year_offers = []
    for y, m in years:
        if req.date_from == f"{y}-01-01" and req.date_to == f"{y}-12-31":
            continue
        n = int(np.count_nonzero(m[ids]))
        if n:
            year_offers.append({"year": y, "from": f"{y}-01-01", "to": f"{y}-12-31", "count": n})
    return {"places": place_offers, "years": year_offers}


def _region_dict(region: regions.Region | None) -> dict[str, Any] | None:
    if region is None:
        return None
    path = [{"code": c, "name": facets.region_name(c)} for c in regions.ancestors(region.code)]
    return {"code": region.code, "name": region.name, "level": region.level, "path": path}

"""The archive's query language as OpenSearch query DSL, over the export's mapping.

indexer/query.py parses what a reader types into a tree of literals (Leaf) under And / Or
/ Not; this module turns that tree, the filters (region, dates, type), the sort and the
page into the body of `POST /<index>/_search` for the index that
indexer/export_opensearch.py defines. It keeps the archive's exact semantics (the
`exact=True` mode of indexer.search: no word splitting, aliases or partial matches):

* a literal is an exact substring of the normalised matching text: a `wildcard` query
  `*text*` on the `*_exact` fields (title and body for an unfielded literal, one of them
  for `title:`, the issuer for `issuer:`); a literal that starts or ends with a Latin
  letter or digit matches whole words only (the archive's rule), which a wildcard cannot
  say, so it becomes a `regexp` with non-alphanumeric edges;
* AND -> bool `filter` (its NOT children -> `must_not`), OR -> bool `should` with
  minimum_should_match 1, NOT -> bool `must_not` (a bool of only must_not clauses matches
  every other notice, as the archive's NOT does);
* the boolean structure sits in filter context (no score); ranking is separate: each
  positive literal of two or more characters adds `match_phrase` clauses on the `bigram`
  sub-fields (BM25 over the body, the title boosted 3x as indexer.ranking does), as
  `should` clauses that score but never decide a hit;
* region -> `term` on `region_codes` (the code and all its ancestors), dates -> `range`
  on `date`, type -> `term` on `doc_type`;
* facets -> `terms` aggregations (region at each level, year, type) and `date_histogram`
  (per year and per month) for the timeline; sort by `_score` or `date`; `from` / `size`.

`run_mix` runs a list of requests against a cluster (`OPENSEARCH_URL`) and returns their
totals and hit ids, for comparing with the local archive (tests/test_dsl.py).
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from indexer.analysis import needs_boundaries
from indexer.export_opensearch import DEFAULT_INDEX_NAME, TITLE_BOOST
from indexer.query import And, Leaf, Not, Or, ParsedQuery, parse

# Leaf.field -> the exact fields a literal is searched in.
EXACT_FIELDS: dict[str | None, tuple[str, ...]] = {
    None: ("title_exact", "body_exact"),
    "title": ("title_exact",),
    "issuer": ("issuer_exact",),
}
# Leaf.field -> (field, boost) of the BM25 clauses; issuer literals do not score (as in
# indexer.ranking.Scores).
SCORE_FIELDS: dict[str | None, tuple[tuple[str, float], ...]] = {
    None: (("body_exact.bigram", 1.0), ("title_exact.bigram", TITLE_BOOST)),
    "title": (("title_exact.bigram", TITLE_BOOST),),
    "issuer": (),
}
SOURCE_EXCLUDES = ["title_exact", "body_exact", "issuer_exact"]
REGION_LEVELS = ("region_level1", "region_level2", "region_level3")
# Facet sizes: provinces, cities and districts of China (34 / ~340 / ~2,900 divisions).
REGION_AGG_SIZE = {"region_level1": 50, "region_level2": 500, "region_level3": 5000}
YEAR_AGG_SIZE = 200
TYPE_AGG_SIZE = 200

_WILDCARD_SPECIAL = set("*?\\")
# Characters with a meaning in Lucene's regular expression syntax (with all optional
# operators on: & ~ < > # @ too); escaped with a backslash they stand for themselves.
_REGEXP_SPECIAL = set('.?+*|{}[]()"\\#@&<>~^$/')
# Not an ASCII letter or digit: the archive's word edge (the text is case-folded).
_NOT_ALNUM = "[^0-9a-z]"


class TranslateError(ValueError):
    """A tree node this translator does not know (never raised for parse() output)."""


def wildcard_pattern(text: str) -> str:
    """`*text*` with the wildcard query's special characters escaped."""
    return "*" + "".join("\\" + c if c in _WILDCARD_SPECIAL else c for c in text) + "*"


def regexp_pattern(text: str) -> str:
    """A Lucene regular expression matching a whole value that holds `text`, with the
    archive's whole-word rule at an ASCII letter/digit edge (Lucene regexps are anchored
    to the whole value and `.` matches any character, newlines included)."""
    body = "".join("\\" + c if c in _REGEXP_SPECIAL else c for c in text)
    pre = f"(.*{_NOT_ALNUM})?" if text[:1].isascii() and text[:1].isalnum() else ".*"
    post = f"({_NOT_ALNUM}.*)?" if text[-1:].isascii() and text[-1:].isalnum() else ".*"
    return pre + body + post


def field_clause(fieldname: str, text: str) -> dict[str, Any]:
    """`text` as an exact substring of one exact field."""
    if needs_boundaries(text):
        return {"regexp": {fieldname: {"value": regexp_pattern(text)}}}
    return {"wildcard": {fieldname: {"value": wildcard_pattern(text)}}}


def literal_query(leaf: Leaf) -> dict[str, Any]:
    fields = EXACT_FIELDS.get(leaf.field)
    if fields is None:
        raise TranslateError(f"unknown field: {leaf.field!r}")
    clauses = [field_clause(f, leaf.text) for f in fields]
    if len(clauses) == 1:
        return clauses[0]
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def node_query(node: Any) -> dict[str, Any]:
    """A parsed query tree as a (non-scoring) query: which notices it matches."""
    if isinstance(node, Leaf):
        return literal_query(node)
    if isinstance(node, Not):
        return {"bool": {"must_not": [node_query(node.child)]}}
    if isinstance(node, And):
        pos = [node_query(c) for c in node.children if not isinstance(c, Not)]
        neg = [node_query(c.child) for c in node.children if isinstance(c, Not)]
        body: dict[str, Any] = {}
        if pos:
            body["filter"] = pos
        if neg:
            body["must_not"] = neg
        if not body:
            return {"match_all": {}}
        return {"bool": body}
    if isinstance(node, Or):
        if not node.children:
            return {"match_none": {}}
        return {"bool": {"should": [node_query(c) for c in node.children], "minimum_should_match": 1}}
    kind = getattr(node, "kind", None)  # hitsets.Within: a place or year (loosened queries)
    if kind == "region":
        return {"term": {"region_codes": node.value}}
    if kind == "year":
        return {"range": {"date": {"gte": f"{node.value}-01-01", "lte": f"{node.value}-12-31"}}}
    raise TranslateError(f"not a query node: {node!r}")


def scoring_clauses(leaves: Iterable[Leaf]) -> list[dict[str, Any]]:
    """BM25 clauses for the positive literals, each (text, field) once. A single CJK
    character has no bigram (the analyzer keeps a lone character only where it stands
    alone), so it scores nothing and its hits rank by the other literals, then date."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str | None]] = set()
    for leaf in leaves:
        key = (leaf.text, leaf.field)
        if key in seen:
            continue
        seen.add(key)
        if len(leaf.text) == 1 and not leaf.text.isascii():
            continue
        for fieldname, boost in SCORE_FIELDS.get(leaf.field, ()):
            spec: dict[str, Any] = {"query": leaf.text}
            if boost != 1.0:
                spec["boost"] = boost
            out.append({"match_phrase": {fieldname: spec}})
    return out


def filter_clauses(region_code: str | None = None, date_from: str | None = None,
                   date_to: str | None = None, doc_type: str | None = None) -> list[dict[str, Any]]:
    """The request's filters. A date range excludes notices without a date, as the archive does."""
    out: list[dict[str, Any]] = []
    if region_code:
        out.append({"term": {"region_codes": region_code}})
    if date_from or date_to:
        rng: dict[str, str] = {}
        if date_from:
            rng["gte"] = date_from
        if date_to:
            rng["lte"] = date_to
        out.append({"range": {"date": rng}})
    if doc_type:
        out.append({"term": {"doc_type": doc_type}})
    return out


def aggregations(collapse: bool = False) -> dict[str, Any]:
    """Facets: region at each level of the ancestry (the archive shows the level below
    the region filter: `region_level{depth+1}`), year, type; the timeline per year and per
    month (the archive draws months when the hits span at most two years)."""
    aggs: dict[str, Any] = {
        name: {"terms": {"field": name, "size": REGION_AGG_SIZE[name]}} for name in REGION_LEVELS
    }
    aggs["year"] = {"terms": {"field": "year", "size": YEAR_AGG_SIZE, "order": {"_key": "desc"}}}
    aggs["type"] = {"terms": {"field": "doc_type", "size": TYPE_AGG_SIZE}}
    aggs["timeline_year"] = {"date_histogram": {"field": "date", "calendar_interval": "year", "format": "yyyy"}}
    aggs["timeline_month"] = {"date_histogram": {"field": "date", "calendar_interval": "month", "format": "yyyy-MM"}}
    if collapse:
        # Hits counted as repost groups (approximate above 40,000 distinct groups).
        aggs["groups"] = {"cardinality": {"field": "repost_group", "precision_threshold": 40000}}
    return aggs


def sort_clause(sort: str) -> list[Any]:
    """Relevance: score, then newest; date: newest first, undated last. The id breaks ties
    so that pages never overlap."""
    newest = {"date": {"order": "desc", "missing": "_last"}}
    if sort == "date":
        return [newest, {"id": "desc"}]
    if sort == "relevance":
        return [{"_score": "desc"}, newest, {"id": "desc"}]
    raise TranslateError(f"unknown sort: {sort!r}")


def search_body(
    query: str | ParsedQuery | None = None,
    *,
    region_code: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    doc_type: str | None = None,
    sort: str = "relevance",
    page: int = 1,
    per_page: int = 10,
    facets: bool = True,
    collapse: bool = False,
) -> dict[str, Any]:
    """The `_search` body for a query (text, or already parsed) with filters, sort, page.

    An empty query lists the notices the filters keep, newest first (as the archive does).
    """
    parsed = parse(query) if isinstance(query, str) or query is None else query
    root = parsed.root
    if root is None:
        sort = "date"
    filters = ([node_query(root)] if root is not None else []) + filter_clauses(region_code, date_from, date_to, doc_type)
    bool_q: dict[str, Any] = {}
    if filters:
        bool_q["filter"] = filters
    if sort == "relevance":
        scoring = scoring_clauses(parsed.positive_leaves())
        if scoring:
            bool_q["should"] = scoring  # with a filter present these only score
    body: dict[str, Any] = {
        "query": {"bool": bool_q} if bool_q else {"match_all": {}},
        "from": (page - 1) * per_page,
        "size": per_page,
        "sort": sort_clause(sort),
        "track_total_hits": True,
        "_source": {"excludes": list(SOURCE_EXCLUDES)},
    }
    if facets:
        body["aggs"] = aggregations(collapse)
    if collapse:
        body["collapse"] = {"field": "repost_group"}
    return body


def from_request(req: Any, facets: bool = True) -> dict[str, Any]:
    """The `_search` body for an indexer.search.SearchRequest (validated the same way;
    the region given by name or code is resolved to its code). Exact semantics only."""
    from indexer.search import resolve_region, validate

    req = validate(req)
    region = resolve_region(req.region)
    return search_body(
        req.q,
        region_code=region.code if region else None,
        date_from=req.date_from,
        date_to=req.date_to,
        doc_type=req.doc_type,
        sort=req.sort,
        page=req.page,
        per_page=req.per_page,
        facets=facets,
        collapse=req.collapse,
    )


def facets_of(response: dict[str, Any], region_code: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The archive's facets (`{"region", "year", "type"}` as indexer.facets gives them)
    from a `_search` response's aggregations: the region one level below the filter."""
    from indexer import regions
    from indexer.facets import region_name

    aggs = response.get("aggregations") or {}
    depth = len(regions.ancestors(region_code)) if region_code else 0

    def buckets(name: str) -> list[dict[str, Any]]:
        return list((aggs.get(name) or {}).get("buckets") or [])

    region = []
    if depth < 3:
        region = [{"value": region_name(b["key"]), "code": b["key"], "count": b["doc_count"]}
                  for b in buckets(REGION_LEVELS[depth])]
        region.sort(key=lambda x: (-x["count"], x["code"]))
    years = sorted(({"value": str(b["key"]), "count": b["doc_count"]} for b in buckets("year")),
                   key=lambda x: x["value"], reverse=True)
    types = sorted(({"value": b["key"], "count": b["doc_count"]} for b in buckets("type")),
                   key=lambda x: (-x["count"], x["value"]))
    return {"region": region, "year": years, "type": types}


# -- running against a cluster ---------------------------------------------------------------


@dataclass
class Cluster:
    """An OpenSearch endpoint (`OPENSEARCH_URL`, e.g. http://localhost:9200 or
    https://user:pass@host:9200). OPENSEARCH_INSECURE=1 accepts a self-signed certificate.
    Plain urllib: the archive needs no client library for a handful of calls."""

    url: str
    insecure: bool = False
    timeout: float = 120.0

    @classmethod
    def from_env(cls) -> "Cluster | None":
        url = os.environ.get("OPENSEARCH_URL", "").strip()
        if not url:
            return None
        return cls(url, insecure=os.environ.get("OPENSEARCH_INSECURE", "") in ("1", "true", "yes"))

    def request(self, method: str, path: str, body: Any = None, ndjson: bytes | None = None) -> Any:
        parts = urllib.parse.urlsplit(self.url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        headers = {"Accept": "application/json"}
        if parts.username:
            token = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(token.encode()).decode()
        data: bytes | None = None
        if ndjson is not None:
            data = ndjson
            headers["Content-Type"] = "application/x-ndjson"
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
        ctx = ssl._create_unverified_context() if self.insecure and parts.scheme == "https" else None
        with urllib.request.urlopen(req, timeout=self.timeout, context=ctx) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None


def hit_ids(cluster: Cluster, body: dict[str, Any], index: str = DEFAULT_INDEX_NAME, batch: int = 1000) -> tuple[int, list[str]]:
    """Every hit of a `_search` body (total, ids), paged by search_after on a stable sort:
    the whole hit set, however deep, for comparing with the archive."""
    q = {k: v for k, v in body.items() if k in ("query",)}
    q.update({"size": batch, "sort": [{"id": "asc"}], "_source": False, "track_total_hits": True,
              "docvalue_fields": ["id"]})
    ids: list[str] = []
    total = 0
    after: list[Any] | None = None
    while True:
        if after is not None:
            q["search_after"] = after
        resp = cluster.request("POST", f"/{index}/_search", q)
        total = int(resp["hits"]["total"]["value"])
        hits = resp["hits"]["hits"]
        ids.extend(h["_id"] for h in hits)
        if len(hits) < batch:
            return total, ids
        after = hits[-1]["sort"]


def run_mix(cluster: Cluster, requests: Iterable[Any], index: str = DEFAULT_INDEX_NAME) -> list[dict[str, Any]]:
    """Each SearchRequest of a query mix against the cluster: its body, total, hit ids
    (all of them) and the first page's ids in the cluster's order, and the time taken."""
    out = []
    for req in requests:
        body = from_request(req)
        resp = cluster.request("POST", f"/{index}/_search", body)
        total, ids = hit_ids(cluster, body, index)
        out.append({
            "q": req.q,
            "body": body,
            "total": int(resp["hits"]["total"]["value"]),
            "all_total": total,
            "ids": ids,
            "page_ids": [h["_id"] for h in resp["hits"]["hits"]],
            "took_ms": resp.get("took"),
        })
    return out


def load_export(cluster: Cluster, out_dir: str | os.PathLike[str], index: str = DEFAULT_INDEX_NAME,
                recreate: bool = True) -> int:
    """Create the index from `mapping.json` (dropping an older one when `recreate`) and
    send every bulk file of a complete export; return the number of notices indexed.
    Raises RuntimeError when the cluster reports an item as failed."""
    from pathlib import Path
    from urllib.error import HTTPError

    from indexer.export_opensearch import MAPPING_FILE, iter_bulk_files

    out = Path(out_dir)
    files = list(iter_bulk_files(out))
    if recreate:
        try:
            cluster.request("DELETE", f"/{index}")
        except HTTPError as exc:
            if exc.code != 404:
                raise
    cluster.request("PUT", f"/{index}", json.loads((out / MAPPING_FILE).read_text(encoding="utf-8")))
    done = 0
    for path in files:
        resp = cluster.request("POST", "/_bulk", ndjson=path.read_bytes())
        if resp.get("errors"):
            bad = [i for i in resp["items"] if next(iter(i.values())).get("error")]
            raise RuntimeError(f"{path.name}: {len(bad)} notices refused, first: {json.dumps(bad[0], ensure_ascii=False)[:500]}")
        done += len(resp["items"])
    cluster.request("POST", f"/{index}/_refresh")
    return done

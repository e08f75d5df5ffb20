"""indexer/dsl.py: the query language as OpenSearch query DSL, case by case.

Every construct of the query language (README "Query language") is translated and
compared with the DSL expected for it. Then, since no cluster runs here, the translated
queries are evaluated over the exported demo notices by a small interpreter of the DSL
subset the translator emits (wildcard / regexp over whole values, term, range, bool),
written from the documented semantics, and the hit sets are compared with the archive's
exact mode: this checks that export and translator together keep the archive's meaning.
The same comparison against a real cluster runs when OPENSEARCH_URL is set.
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path
from typing import Any

import pytest

from indexer import dsl
from indexer.analysis import needs_boundaries
from indexer import export_opensearch as ex
from indexer.query import parse
from indexer.search import Archive, SearchError, SearchRequest

W = dsl.wildcard_pattern


def q(text: str, **kw: Any) -> dict[str, Any]:
    """The tree part of a translated query (the first filter clause)."""
    return dsl.search_body(text, facets=False, **kw)["query"]["bool"]["filter"][0]


def anywhere(text: str) -> dict[str, Any]:
    """An unfielded literal: in the title or the body."""
    return {"bool": {"should": [{"wildcard": {"title_exact": {"value": f"*{text}*"}}},
                                {"wildcard": {"body_exact": {"value": f"*{text}*"}}}],
                     "minimum_should_match": 1}}


# -- literals --------------------------------------------------------------------------------


def test_word_is_a_substring_of_title_or_body() -> None:
    assert q("整改") == anywhere("整改")


def test_phrase_in_any_quotes_is_one_literal() -> None:
    for typed in ('"巡察整改"', "“巡察整改”", "「巡察整改」", "『巡察整改』"):
        assert q(typed) == anywhere("巡察整改"), typed


def test_literals_are_normalised_like_the_matching_text() -> None:
    # traditional -> simplified, full-width -> half-width, letter spacing collapsed
    assert q("巡視整改") == anywhere("巡视整改")
    assert q('"巡 察 公 告"') == anywhere("巡察公告")


def test_latin_and_digit_edges_match_whole_words_by_regexp() -> None:
    # the archive matches "ab" as a whole word: never inside "abc"
    assert q("COVID") == {"bool": {"should": [
        {"regexp": {"title_exact": {"value": "(.*[^0-9a-z])?covid([^0-9a-z].*)?"}}},
        {"regexp": {"body_exact": {"value": "(.*[^0-9a-z])?covid([^0-9a-z].*)?"}}}],
        "minimum_should_match": 1}}
    # a CJK start needs no edge; a digit end does
    assert q("整改2") == {"bool": {"should": [
        {"regexp": {"title_exact": {"value": ".*整改2([^0-9a-z].*)?"}}},
        {"regexp": {"body_exact": {"value": ".*整改2([^0-9a-z].*)?"}}}],
        "minimum_should_match": 1}}


def test_special_characters_are_escaped() -> None:
    assert W("a*b?c\\d") == "*a\\*b\\?c\\\\d*"
    assert dsl.regexp_pattern("办法(试行)") == ".*办法\\(试行\\).*"
    assert dsl.regexp_pattern("a.b") == "(.*[^0-9a-z])?a\\.b([^0-9a-z].*)?"
    assert dsl.field_clause("body_exact", "关于*通知") == {"wildcard": {"body_exact": {"value": "*关于\\*通知*"}}}


# -- operators -------------------------------------------------------------------------------


def test_and_in_every_written_form() -> None:
    expected = {"bool": {"filter": [anywhere("巡察"), anywhere("整改")]}}
    for typed in ("巡察 整改", "巡察，整改", "巡察、整改", "巡察+整改", "巡察 AND 整改", "巡察 和 整改"):
        assert q(typed) == expected, typed


def test_or_in_every_written_form() -> None:
    expected = {"bool": {"should": [anywhere("巡视"), anywhere("巡察")], "minimum_should_match": 1}}
    for typed in ("巡视 OR 巡察", "巡视 或 巡察", "巡视 or 巡察", "巡视 | 巡察", "巡视 ｜ 巡察"):
        assert q(typed) == expected, typed


def test_not_and_minus_exclude() -> None:
    expected = {"bool": {"filter": [anywhere("整改")], "must_not": [anywhere("巡视")]}}
    for typed in ("整改 -巡视", "整改 －巡视", "整改 NOT 巡视", "整改 非 巡视"):
        assert q(typed) == expected, typed


def test_a_query_of_only_exclusions_matches_every_other_notice() -> None:
    assert q("-巡视") == {"bool": {"must_not": [anywhere("巡视")]}}


def test_parentheses_group() -> None:
    either = {"bool": {"should": [anywhere("巡视"), anywhere("巡察")], "minimum_should_match": 1}}
    expected = {"bool": {"filter": [either, anywhere("整改")]}}
    assert q("(巡视 OR 巡察) 整改") == expected
    assert q("（巡视 或 巡察） 整改") == expected
    assert q("整改 -(巡视 OR 巡察)") == {"bool": {"filter": [anywhere("整改")], "must_not": [either]}}


def test_title_and_issuer_fields() -> None:
    title = {"wildcard": {"title_exact": {"value": "*整改*"}}}
    for typed in ("标题:整改", "标题：整改", "title:整改", "题目:整改"):
        assert q(typed) == title, typed
    issuer = {"wildcard": {"issuer_exact": {"value": "*莲湖*"}}}
    for typed in ("发文机关:莲湖", "issuer:莲湖", "机关：莲湖"):
        assert q(typed) == issuer, typed
    # a field applies to a whole group
    assert q("标题:(巡视 OR 巡察)") == {"bool": {"should": [
        {"wildcard": {"title_exact": {"value": "*巡视*"}}},
        {"wildcard": {"title_exact": {"value": "*巡察*"}}}], "minimum_should_match": 1}}


def test_document_numbers_search_all_their_written_forms() -> None:
    forms = parse("国办发〔2019〕3号").positive_leaves()
    expected = {"bool": {"should": [anywhere(leaf.text) for leaf in forms], "minimum_should_match": 1}}
    assert len(forms) > 5
    for typed in ("国办发〔2019〕3号", "国办发（2019）3号", "国办发[2019]3号", "国办发2019年3号", "文号:国办发〔2019〕3号"):
        assert q(typed) == expected, typed
    assert {"bool": {"should": [{"wildcard": {"title_exact": {"value": "*国办发〔2019〕3号*"}}},
                                {"wildcard": {"body_exact": {"value": "*国办发〔2019〕3号*"}}}],
                     "minimum_should_match": 1}} in expected["bool"]["should"]


def test_empty_query_lists_the_filtered_notices_newest_first() -> None:
    for typed in ("", "   ", "，，", None):
        body = dsl.search_body(typed, facets=False)
        assert body["query"] == {"match_all": {}}, typed
        assert body["sort"][0] == {"date": {"order": "desc", "missing": "_last"}}
    body = dsl.search_body("", region_code="610104", facets=False)
    assert body["query"] == {"bool": {"filter": [{"term": {"region_codes": "610104"}}]}}


def test_broken_syntax_is_translated_as_repaired() -> None:
    assert q('"巡察整改') == anywhere("巡察整改")  # unclosed quote
    assert q("(巡视 OR 巡察") == q("(巡视 OR 巡察)")  # unclosed parenthesis
    assert q("OR 整改") == anywhere("整改")  # a lone OR


# -- scoring, filters, facets, sort, paging ---------------------------------------------------


def test_positive_literals_score_on_the_bigram_fields_and_never_decide_a_hit() -> None:
    body = dsl.search_body("巡察 整改 -巡视 标题:通报 发文机关:莲湖 党", facets=False)
    should = body["query"]["bool"]["should"]
    assert should == [
        {"match_phrase": {"body_exact.bigram": {"query": "巡察"}}},
        {"match_phrase": {"title_exact.bigram": {"query": "巡察", "boost": ex.TITLE_BOOST}}},
        {"match_phrase": {"body_exact.bigram": {"query": "整改"}}},
        {"match_phrase": {"title_exact.bigram": {"query": "整改", "boost": ex.TITLE_BOOST}}},
        {"match_phrase": {"title_exact.bigram": {"query": "通报", "boost": ex.TITLE_BOOST}}},
    ]  # not the excluded 巡视, not the issuer, not a single character
    assert "minimum_should_match" not in body["query"]["bool"]  # with a filter: should only scores
    # sorted by date nothing is scored
    assert "should" not in dsl.search_body("巡察 整改", sort="date", facets=False)["query"]["bool"]


def test_filters() -> None:
    body = dsl.search_body("整改", region_code="610100", date_from="2015-01-01", date_to="2020-12-31",
                           doc_type="通知", facets=False)
    assert body["query"]["bool"]["filter"][1:] == [
        {"term": {"region_codes": "610100"}},
        {"range": {"date": {"gte": "2015-01-01", "lte": "2020-12-31"}}},
        {"term": {"doc_type": "通知"}},
    ]
    assert dsl.filter_clauses(date_from="2020-01-01") == [{"range": {"date": {"gte": "2020-01-01"}}}]
    assert dsl.filter_clauses(date_to="2020-01-01") == [{"range": {"date": {"lte": "2020-01-01"}}}]


def test_sort_and_paging() -> None:
    body = dsl.search_body("整改", page=3, per_page=20, facets=False)
    assert body["from"] == 40 and body["size"] == 20 and body["track_total_hits"] is True
    assert body["sort"] == [{"_score": "desc"}, {"date": {"order": "desc", "missing": "_last"}}, {"id": "desc"}]
    assert dsl.search_body("整改", sort="date", facets=False)["sort"] == [
        {"date": {"order": "desc", "missing": "_last"}}, {"id": "desc"}]
    assert body["_source"] == {"excludes": ["title_exact", "body_exact", "issuer_exact"]}
    with pytest.raises(dsl.TranslateError):
        dsl.search_body("整改", sort="random")


def test_facets_are_aggregations_and_the_timeline_date_histograms() -> None:
    aggs = dsl.search_body("整改")["aggs"]
    assert aggs["region_level1"] == {"terms": {"field": "region_level1", "size": 50}}
    assert aggs["region_level2"]["terms"]["field"] == "region_level2"
    assert aggs["region_level3"]["terms"]["field"] == "region_level3"
    assert aggs["year"] == {"terms": {"field": "year", "size": 200, "order": {"_key": "desc"}}}
    assert aggs["type"] == {"terms": {"field": "doc_type", "size": 200}}
    assert aggs["timeline_year"] == {"date_histogram": {"field": "date", "calendar_interval": "year", "format": "yyyy"}}
    assert aggs["timeline_month"]["date_histogram"]["calendar_interval"] == "month"
    assert "groups" not in aggs
    collapsed = dsl.search_body("整改", collapse=True)
    assert collapsed["collapse"] == {"field": "repost_group"} and "groups" in collapsed["aggs"]


def test_facets_of_a_response_read_the_level_below_the_region_filter() -> None:
    response = {"aggregations": {
        "region_level1": {"buckets": [{"key": "610000", "doc_count": 5}]},
        "region_level2": {"buckets": [{"key": "610100", "doc_count": 3}, {"key": "610200", "doc_count": 4}]},
        "year": {"buckets": [{"key": "2019", "doc_count": 2}, {"key": "2021", "doc_count": 3}]},
        "type": {"buckets": [{"key": "通知", "doc_count": 4}]},
    }}
    top = dsl.facets_of(response)
    assert top["region"] == [{"value": "陕西省", "code": "610000", "count": 5}]
    below = dsl.facets_of(response, "610000")
    assert [r["code"] for r in below["region"]] == ["610200", "610100"]
    assert [y["value"] for y in below["year"]] == ["2021", "2019"]
    assert below["type"] == [{"value": "通知", "count": 4}]


def test_from_request_validates_and_resolves_the_region_by_name() -> None:
    body = dsl.from_request(SearchRequest(q="整改", region="莲湖区", page=2, per_page=5))
    assert {"term": {"region_codes": "610104"}} in body["query"]["bool"]["filter"]
    assert body["from"] == 5
    with pytest.raises(SearchError):
        dsl.from_request(SearchRequest(q="整改", date_from="2020-13-01"))
    with pytest.raises(SearchError):
        dsl.from_request(SearchRequest(q="整改", region="不存在的地方"))


def test_unknown_nodes_are_refused() -> None:
    with pytest.raises(dsl.TranslateError):
        dsl.node_query(object())


# -- the same hit sets as the archive, over the exported demo notices --------------------------


def _wildcard_re(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _regexp_re(pattern: str) -> re.Pattern[str]:
    """Lucene regexp -> Python: the subset the translator writes (escapes, . ( ) ? * and
    classes); anchored to the whole value; `.` matches newlines."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(c)
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _values(doc: dict[str, Any], name: str) -> list[Any]:
    v = doc.get(name)
    return [] if v is None else v if isinstance(v, list) else [v]


def matches(query: dict[str, Any], doc: dict[str, Any]) -> bool:
    """Whether a document matches, by the documented semantics of each query type."""
    (kind, spec), = query.items()
    if kind == "match_all":
        return True
    if kind == "match_none":
        return False
    if kind == "bool":
        must = spec.get("must", []) + spec.get("filter", [])
        should = spec.get("should", [])
        msm = spec.get("minimum_should_match", 0 if must else 1 if should else 0)
        return (all(matches(c, doc) for c in must)
                and not any(matches(c, doc) for c in spec.get("must_not", []))
                and sum(matches(c, doc) for c in should) >= msm)
    (field, arg), = spec.items()
    if kind == "wildcard":
        rx = _wildcard_re(arg["value"])
        return any(rx.fullmatch(v) for v in _values(doc, field))
    if kind == "regexp":
        rx = _regexp_re(arg["value"])
        return any(rx.fullmatch(v) for v in _values(doc, field))
    if kind == "term":
        return arg in _values(doc, field)
    if kind == "range":
        vals = _values(doc, field)
        return any(("gte" not in arg or v >= arg["gte"]) and ("lte" not in arg or v <= arg["lte"]) for v in vals)
    if kind == "match_phrase":
        return True  # scoring only (a should clause beside a filter)
    raise AssertionError(f"the interpreter does not know {kind}")


def local_ids(body: dict[str, Any], docs: list[dict[str, Any]]) -> set[str]:
    return {d["id"] for d in docs if matches(body["query"], d)}


def archive_ids(archive: Archive, req: SearchRequest) -> set[str]:
    req.exact = True
    total = archive.count(req)
    return {h["id"] for h in archive.iter_stored(req, total)}


@pytest.fixture(scope="module")
def demo_docs(demo_index: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("dsl_export")
    ex.export(demo_index, out, per_file=1000)
    docs = []
    for path in ex.iter_bulk_files(out):
        lines = path.read_bytes().decode("utf-8").split("\n")[:-1]
        docs.extend(json.loads(line) for line in lines[1::2])
    return docs


# The benchmark's query mix (bench/run.py QUERIES), the query language's constructs, and
# queries that hit the demo corpus's own words, with the mix's filter variants.
MIX = ["整改", "巡察", "巡视整改", "全面从严治党", "主体责任", "巡察 整改", "巡视 OR 巡察", "整改 -巡视",
       "巡察整改进展通报", "-巡视", "(巡视 OR 巡察) 整改", "标题:整改", "标题:(巡视 OR 巡察) -公告",
       "发文机关:人民政府", "issuer:纪委", "国办发〔2019〕3号", "“巡視整改”", "巡察 | 公告 -通知",
       "通知 NOT (整改 OR 巡察)", "2022", "covid", "12345", "公告"]


def _variants(q: str) -> list[SearchRequest]:
    return [
        SearchRequest(q=q),
        SearchRequest(q=q, region="陕西省"),
        SearchRequest(q=q, region="西安市"),
        SearchRequest(q=q, date_from="2015-01-01", date_to="2020-12-31"),
        SearchRequest(q=q, region="陕西省", date_from="2015-01-01", date_to="2020-12-31"),
        SearchRequest(q=q, doc_type="通知"),
        SearchRequest(q=q, sort="date"),
    ]


def test_translated_mix_finds_what_the_archive_finds(demo_index: Path, demo_docs: list[dict[str, Any]]) -> None:
    archive = Archive(demo_index)
    nonempty = 0
    for text in MIX:
        for req in _variants(text):
            want = archive_ids(archive, SearchRequest(**req.__dict__))
            got = local_ids(dsl.from_request(req), demo_docs)
            assert got == want, (req, sorted(got ^ want))
            nonempty += bool(want)
    assert nonempty > 40  # the mix is not a set of empty answers


def test_random_substrings_find_what_the_archive_finds(demo_index: Path, demo_docs: list[dict[str, Any]]) -> None:
    """The exact-substring promise through export + translation: 2-6 character pieces of
    the notices' own text (and their neighbours' edges), as the benchmark checks it."""
    archive = Archive(demo_index)
    rng = random.Random(13)
    texts = [d.get("body_exact", "") for d in demo_docs if d.get("body_exact")]
    checked = 0
    while checked < 60:
        t = rng.choice(texts)
        n = rng.randint(2, 6)
        i = rng.randrange(0, max(1, len(t) - n))
        piece = t[i : i + n]
        if "\n" in piece or '"' in piece or not piece.strip():
            continue
        req = SearchRequest(q='"' + piece + '"')
        if parse(req.q).root is None:
            continue
        want = archive_ids(archive, SearchRequest(q=req.q))
        got = local_ids(dsl.from_request(req), demo_docs)
        assert got == want, (piece, sorted(got ^ want))
        # a piece cut inside a Latin word is (rightly) found nowhere: whole words only
        assert want or needs_boundaries(piece), piece
        checked += 1


# -- against a real cluster -------------------------------------------------------------------

NO_CLUSTER = ("OPENSEARCH_URL is not set: no OpenSearch cluster can run on this machine (none may be "
              "installed here), so the load-and-compare test is skipped even under CI=true; set "
              "OPENSEARCH_URL=http://host:9200 (OpenSearch >= 2.15, for the wildcard field) to run it")


def compare_with_cluster(cluster: dsl.Cluster, demo_index: Path, tmp_path: Path, index: str) -> int:
    """Load the export into the cluster and compare, request by request, the cluster's hit
    set and total with the archive's exact mode over the query mix and its filter
    variants; return the number of requests compared."""
    out = tmp_path / "export"
    ex.export(demo_index, out, per_file=20, index_name=index)
    loaded = dsl.load_export(cluster, out, index)
    archive = Archive(demo_index)
    assert loaded == archive.snapshot().doc_count
    reqs = [r for text in MIX for r in _variants(text)]
    try:
        results = dsl.run_mix(cluster, reqs, index)
        for req, res in zip(reqs, results):
            want = archive_ids(archive, SearchRequest(**req.__dict__))
            assert set(res["ids"]) == want, (req, sorted(set(res["ids"]) ^ want))
            assert res["total"] == res["all_total"] == len(want)
    finally:
        cluster.request("DELETE", f"/{index}")
    return len(reqs)


@pytest.mark.skipif(not os.environ.get("OPENSEARCH_URL"), reason=NO_CLUSTER)
def test_cluster_hit_sets_equal_the_archive(demo_index: Path, tmp_path: Path) -> None:
    cluster = dsl.Cluster.from_env()
    assert cluster is not None
    assert compare_with_cluster(cluster, demo_index, tmp_path, "notice-archive-test") > 100


class _StubCluster:
    """A stand-in for the few endpoints the archive calls (create/delete index, _bulk,
    _refresh, _search with search_after on id), answering searches with the interpreter
    above: it tests the HTTP plumbing (bulk bodies, paging, totals), not OpenSearch."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.indexes: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.auth: str | None = None
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_DELETE(self) -> None:
                stub.requests.append(("DELETE", self.path))
                name = self.path.strip("/")
                if name not in stub.indexes:
                    return self._reply(404, {"error": "index_not_found_exception"})
                del stub.indexes[name]
                self._reply(200, {"acknowledged": True})

            def do_PUT(self) -> None:
                stub.requests.append(("PUT", self.path))
                stub.auth = self.headers.get("Authorization")
                definition = json.loads(self._body())
                assert "mappings" in definition and "settings" in definition
                stub.indexes[self.path.strip("/")] = {}
                self._reply(200, {"acknowledged": True})

            def do_POST(self) -> None:
                stub.requests.append(("POST", self.path))
                body = self._body()
                if self.path == "/_bulk":
                    assert self.headers["Content-Type"] == "application/x-ndjson"
                    from tests.test_export_opensearch import validate_bulk

                    items = []
                    for _action, meta, source in validate_bulk(body):
                        stub.indexes[meta["_index"]][meta["_id"]] = source
                        items.append({"index": {"_id": meta["_id"], "status": 201}})
                    return self._reply(200, {"errors": False, "items": items})
                name, _, op = self.path.strip("/").partition("/")
                if op == "_refresh":
                    return self._reply(200, {})
                q = json.loads(body)
                docs = sorted((d for d in stub.indexes[name].values() if matches(q["query"], d)), key=lambda d: d["id"])
                total = len(docs)  # search_after pages, the total stays the whole hit count
                if q.get("search_after"):
                    docs = [d for d in docs if d["id"] > q["search_after"][0]]
                page = docs[q.get("from", 0): q.get("from", 0) + q.get("size", 10)]
                hits = [{"_id": d["id"], "sort": [d["id"]]} for d in page]
                self._reply(200, {"took": 1, "hits": {"total": {"value": total, "relation": "eq"}, "hits": hits}})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://user:secret@127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_cluster_plumbing_against_a_stub(demo_index: Path, tmp_path: Path) -> None:
    """The load-and-compare path end to end, against a local stand-in: the export is
    loaded through _bulk, every request's whole hit set is paged with search_after, and
    the index is dropped at the end."""
    stub = _StubCluster()
    try:
        cluster = dsl.Cluster(stub.url)
        # small pages, so that paging by search_after is exercised
        original = dsl.hit_ids

        def small_pages(c: dsl.Cluster, body: dict[str, Any], index: str = ex.DEFAULT_INDEX_NAME, batch: int = 1000) -> tuple[int, list[str]]:
            return original(c, body, index, batch=3)

        dsl.hit_ids = small_pages  # type: ignore[assignment]
        try:
            compared = compare_with_cluster(cluster, demo_index, tmp_path, "stub-index")
        finally:
            dsl.hit_ids = original  # type: ignore[assignment]
        assert compared == len(MIX) * 7
        assert ("PUT", "/stub-index") in stub.requests and ("DELETE", "/stub-index") in stub.requests
        assert sum(1 for r in stub.requests if r == ("POST", "/_bulk")) == -(-len(Archive(demo_index).snapshot().live_mask) // 20)
        assert not stub.indexes
        assert stub.auth == "Basic dXNlcjpzZWNyZXQ="  # user:secret from the URL
    finally:
        stub.close()

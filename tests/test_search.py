"""Search: the exact-substring promise, query language, filters, facets, sorting, paging."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.analysis import has_searchable, matching_text, normalize
from indexer.index import build
from indexer.search import Archive, SearchError, SearchRequest
from tests.conftest import ROOT, require_shared


def all_docs(archive: Archive) -> list[dict]:
    snap = archive.snapshot()
    return [snap.stored(d) for d in sorted(snap.live_docs())]


def ids(archive: Archive, q: str, **kw) -> set[str]:
    res = archive.search(SearchRequest(q=q, per_page=100, **kw))
    found = {h.id for h in res.hits}
    page = 2
    while len(found) < res.total:
        more = archive.search(SearchRequest(q=q, per_page=100, page=page, **kw))
        found |= {h.id for h in more.hits}
        page += 1
    assert len(found) == res.total
    return found


def brute(docs: list[dict], literal: str) -> set[str]:
    """The oracle: a plain scan. ASCII letters/digits at the literal's edges must not
    continue into more ASCII letters/digits (Latin words match whole)."""
    n = normalize(literal)
    pre = r"(?<![0-9a-z])" if re.match(r"[0-9a-z]", n) else ""
    post = r"(?![0-9a-z])" if re.search(r"[0-9a-z]$", n) else ""
    pat = re.compile(pre + re.escape(n) + post)
    return {
        d["id"]
        for d in docs
        if pat.search(matching_text(d.get("title") or "")) or pat.search(matching_text(d.get("body") or ""))
        or pat.search(matching_text(d.get("doc_number") or ""))  # matched as a line of the body
    }


# -- the promise over real notices ------------------------------------------------------


@pytest.fixture(scope="module")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shared = require_shared("corpus")
    ix = tmp_path_factory.mktemp("real_index")
    paths = [str(shared / "notices.jsonl"), str(shared / "gold"), str(ROOT / "samples")]
    report = build(paths, ix, workers=2, progress=False)
    assert report.added > 150
    return ix


@pytest.fixture(scope="module")
def real(real_index: Path) -> tuple[Archive, list[dict]]:
    archive = Archive(real_index)
    return archive, all_docs(archive)


def _substrings(docs: list[dict]) -> st.SearchStrategy[str]:
    texts = [normalize((d.get("title") or "") + "\n" + (d.get("body") or "")) for d in docs]

    @st.composite
    def pick(draw: st.DrawFn) -> str:
        text = draw(st.sampled_from(texts))
        n = draw(st.integers(min_value=1, max_value=6))
        start = draw(st.integers(min_value=0, max_value=max(0, len(text) - n)))
        return text[start : start + n]

    return pick()


def test_property_hits_equal_substring_scan(real: tuple[Archive, list[dict]]) -> None:
    """For random 1-6 character substrings of the indexed texts, and strings that occur
    nowhere, the hits are exactly the notices whose normalised title or body contains it."""
    archive, docs = real
    absent = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=3, max_size=6)

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(_substrings(docs), absent))
    def check(s: str) -> None:
        if not has_searchable(s) or any(c.isspace() or c in '"“”‘’「」『』＂' for c in s):
            return
        expected = brute(docs, s)
        got = ids(archive, f'"{s}"')
        assert got == expected, (s, len(got), len(expected))

    check()


def test_common_phrases_exact(real: tuple[Archive, list[dict]]) -> None:
    archive, docs = real
    for q in ["巡视整改", "整改", "巡", "全面从严治党", "主体责任", "中共西安市莲湖区委", "2022年5月6日"]:
        assert ids(archive, q) == brute(docs, q), q


def test_unquoted_word_is_a_literal_and_fullwidth_agrees(real: tuple[Archive, list[dict]]) -> None:
    archive, docs = real
    # an IME comma separates terms like a space; inside quotes it is part of the literal
    assert ids(archive, "巡视整改，") == brute(docs, "巡视整改")
    assert ids(archive, "\"巡视整改,\"") == ids(archive, "\"巡视整改，\"") == brute(docs, "巡视整改,")


# -- query language ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_index: Path) -> tuple[Archive, list[dict]]:
    archive = Archive(demo_index)
    return archive, all_docs(archive)


def test_and_or_not(demo: tuple[Archive, list[dict]]) -> None:
    archive, docs = demo
    a, b = brute(docs, "巡察"), brute(docs, "整改")
    assert ids(archive, "巡察 整改") == a & b
    assert ids(archive, "巡察 AND 整改") == a & b
    assert ids(archive, "巡察 OR 整改") == a | b
    assert ids(archive, "巡察 -整改") == a - b
    assert ids(archive, "巡察 NOT 整改") == a - b
    c = brute(docs, "巡视")
    assert ids(archive, "(巡视 OR 巡察) -整改") == (a | c) - b


def test_field_queries(demo: tuple[Archive, list[dict]]) -> None:
    archive, docs = demo
    expected = {d["id"] for d in docs if "巡察" in matching_text(d.get("title") or "")}
    assert expected and ids(archive, "title:巡察") == expected
    expected = {d["id"] for d in docs if "莲湖" in normalize(d.get("issuer") or "")}
    assert expected and ids(archive, "issuer:莲湖") == expected


@pytest.mark.parametrize(
    "q",
    ['"巡视整改', "巡视 OR", "OR", "((巡视", "巡视)", "NOT", "-", "*", "?", "title:", '"" 整改', "巡视 AND AND 整改"],
)
def test_broken_syntax_is_repaired_not_raised(demo: tuple[Archive, list[dict]], q: str) -> None:
    archive, _ = demo
    res = archive.search(SearchRequest(q=q))
    assert res.total >= 0


def test_repairs_are_reported(demo: tuple[Archive, list[dict]]) -> None:
    archive, docs = demo
    res = archive.search(SearchRequest(q='"巡视整改'))
    assert any("引号" in m for m in res.messages)
    assert res.total == len(brute(docs, "巡视整改"))


def test_latin_words_match_whole_words(demo: tuple[Archive, list[dict]]) -> None:
    archive, docs = demo
    got = ids(archive, "5g")
    assert got and all(re.search(r"(?<![0-9a-z])5g(?![0-9a-z])", normalize((d.get("title") or "") + "\n" + d["body"])) for d in docs if d["id"] in got)
    assert ids(archive, "g") == {d["id"] for d in docs if re.search(r"(?<![0-9a-z])g(?![0-9a-z])", normalize((d.get("title") or "") + "\n" + d["body"]))}


def test_traditional_query_finds_simplified(demo: tuple[Archive, list[dict]]) -> None:
    archive, _ = demo
    assert ids(archive, "巡視整改") == ids(archive, "巡视整改") != set()


# -- filters, facets, sorting, paging ---------------------------------------------------


def test_region_filter_levels(demo: tuple[Archive, list[dict]]) -> None:
    archive, docs = demo
    prov = {d["id"] for d in docs if d.get("province") == "陕西省"}
    city = {d["id"] for d in docs if d.get("city") == "西安市"}
    dist = {d["id"] for d in docs if d.get("district") == "莲湖区"}
    assert dist and dist < city <= prov
    assert ids(archive, "", region="陕西省") == prov
    assert ids(archive, "", region="陕西") == prov
    assert ids(archive, "", region="610000") == prov
    assert ids(archive, "", region="西安市") == city
    assert ids(archive, "", region="莲湖区") == dist
    assert ids(archive, "", region="莲湖") == dist


def test_unknown_and_ambiguous_region_are_errors(demo: tuple[Archive, list[dict]]) -> None:
    archive, _ = demo
    with pytest.raises(SearchError, match="未找到地区"):
        archive.search(SearchRequest(region="不存在的地方"))
    with pytest.raises(SearchError, match="多个"):
        archive.search(SearchRequest(region="鼓楼区"))


def test_date_filters_inclusive_and_open(demo: tuple[Archive, list[dict]]) -> None:
    archive, docs = demo
    dated = [d for d in docs if d.get("date")]
    d0 = sorted(d["date"] for d in dated)[len(dated) // 2]
    assert ids(archive, "", date_from=d0) == {d["id"] for d in dated if d["date"] >= d0}
    assert ids(archive, "", date_to=d0) == {d["id"] for d in dated if d["date"] <= d0}
    assert ids(archive, "", date_from=d0, date_to=d0) == {d["id"] for d in dated if d["date"] == d0}
    for bad in ("2022-13-01", "2022/05/06", "yesterday", "2022-02-30"):
        with pytest.raises(SearchError):
            archive.search(SearchRequest(date_from=bad))
    with pytest.raises(SearchError):
        archive.search(SearchRequest(date_from="2023-01-01", date_to="2022-01-01"))


def test_type_filter(demo: tuple[Archive, list[dict]]) -> None:
    archive, docs = demo
    t = next(d["doc_type"] for d in docs if d.get("doc_type"))
    assert ids(archive, "", doc_type=t) == {d["id"] for d in docs if d.get("doc_type") == t}


def test_facet_counts_match_brute_force(demo: tuple[Archive, list[dict]]) -> None:
    archive, docs = demo
    res = archive.search(SearchRequest(q="整改", per_page=5))
    hit = brute(docs, "整改")
    by_id = {d["id"]: d for d in docs}
    years: dict[str, int] = {}
    types: dict[str, int] = {}
    provs: dict[str, int] = {}
    for i in hit:
        d = by_id[i]
        if d.get("date"):
            years[d["date"][:4]] = years.get(d["date"][:4], 0) + 1
        if d.get("doc_type"):
            types[d["doc_type"]] = types.get(d["doc_type"], 0) + 1
        if d.get("province"):
            provs[d["province"]] = provs.get(d["province"], 0) + 1
    assert {f["value"]: f["count"] for f in res.facets["year"]} == years
    assert {f["value"]: f["count"] for f in res.facets["type"]} == types
    assert {f["value"]: f["count"] for f in res.facets["region"]} == provs
    # one level below the current region filter
    res = archive.search(SearchRequest(q="整改", region="陕西省"))
    cities = {}
    for i in hit:
        d = by_id[i]
        if d.get("province") == "陕西省" and d.get("city"):
            cities[d["city"]] = cities.get(d["city"], 0) + 1
    assert {f["value"]: f["count"] for f in res.facets["region"]} == cities


def test_sort_by_date_and_relevance(demo: tuple[Archive, list[dict]]) -> None:
    archive, _ = demo
    res = archive.search(SearchRequest(q="整改", sort="date", per_page=100))
    dates = [h.date or "" for h in res.hits]
    assert dates == sorted(dates, reverse=True)
    res = archive.search(SearchRequest(q="巡视整改", per_page=100))
    scores = [h.score for h in res.hits]
    assert scores == sorted(scores, reverse=True)
    # a title match outranks a body-only match
    first_title = [bool(h.title and "巡视整改" in matching_text(h.title)) for h in res.hits]
    assert first_title == sorted(first_title, reverse=True)


def test_scores_are_corpus_statistics_not_filter_dependent(demo: tuple[Archive, list[dict]]) -> None:
    """A notice scores the same with and without a filter: idf comes from the whole index
    (an earlier version computed it over the filtered hits)."""
    archive, _ = demo
    full = {h.id: h.score for h in archive.search(SearchRequest(q="整改 巡视", per_page=100)).hits}
    res = archive.search(SearchRequest(q="整改 巡视", date_from="2019-01-01", per_page=100))
    assert res.total and res.total < len(full)
    for h in res.hits:
        assert h.score == full[h.id]


def test_page_ranking_agrees_with_a_full_sort(demo: tuple[Archive, list[dict]]) -> None:
    """Pages cut from a partial sort are the slices of the full order (score, then docnum)."""
    archive, _ = demo
    whole = archive.search(SearchRequest(q="整改 OR 通知", per_page=100))
    order = [(h.score, h.id) for h in whole.hits]
    assert whole.total == len(order)
    paged = []
    for page in range(1, (whole.total + 6) // 7 + 1):
        paged += [(h.score, h.id) for h in archive.search(SearchRequest(q="整改 OR 通知", per_page=7, page=page)).hits]
    assert paged == order
    for d in ("date",):
        whole = archive.search(SearchRequest(q="整改 OR 通知", sort=d, per_page=100))
        paged = []
        for page in range(1, (whole.total + 6) // 7 + 1):
            paged += [h.id for h in archive.search(SearchRequest(q="整改 OR 通知", sort=d, per_page=7, page=page)).hits]
        assert paged == [h.id for h in whole.hits]


def test_clearing_the_caches_changes_no_answer(demo: tuple[Archive, list[dict]]) -> None:
    archive, _ = demo
    req = SearchRequest(q="整改 -巡视 OR 督查", region="浙江省", per_page=50)
    first = archive.search(req).as_dict()
    assert first["total"] > 0
    archive.clear_caches(literals=True)
    again = archive.search(req).as_dict()
    first.pop("took_ms"), again.pop("took_ms")
    assert again == first


def test_no_query_lists_newest(demo: tuple[Archive, list[dict]]) -> None:
    archive, docs = demo
    res = archive.search(SearchRequest(per_page=5))
    assert res.total == len(docs)
    newest = sorted((d.get("date") or "" for d in docs), reverse=True)[:5]
    assert [h.date or "" for h in res.hits] == newest


def test_paging_bounds(demo: tuple[Archive, list[dict]]) -> None:
    archive, _ = demo
    res = archive.search(SearchRequest(q="整改", per_page=3))
    seen: list[str] = []
    for p in range(1, res.pages + 1):
        seen += [h.id for h in archive.search(SearchRequest(q="整改", per_page=3, page=p)).hits]
    assert len(seen) == len(set(seen)) == res.total
    with pytest.raises(SearchError, match="页码"):
        archive.search(SearchRequest(q="整改", per_page=3, page=res.pages + 1))
    with pytest.raises(SearchError):
        archive.search(SearchRequest(q="整改", page=0))
    with pytest.raises(SearchError):
        archive.search(SearchRequest(q="整改", page=10**9))


def test_snippets_mark_exactly_the_matches(demo: tuple[Archive, list[dict]]) -> None:
    archive, _ = demo
    res = archive.search(SearchRequest(q="巡察 整改", per_page=20))
    assert res.hits
    for h in res.hits:
        marks = re.findall(r"<mark>(.*?)</mark>", h.snippet)
        assert marks
        for m in marks:
            n = matching_text(m)
            assert "巡察" in n or "整改" in n, m
        # nothing else is markup
        assert "<" not in re.sub(r"</?mark>", "", h.snippet)


def test_get_document_and_highlight(demo: tuple[Archive, list[dict]]) -> None:
    archive, docs = demo
    d = next(x for x in docs if "整改" in x["body"])
    doc = archive.get(d["id"], q="整改")
    assert doc and doc["body"] == d["body"]
    assert any("<mark>整改</mark>" in p for p in doc["paragraphs_html"])
    assert archive.get("0000000000000000") is None
    assert archive.get("../etc/passwd") is None
    assert archive.get("abc\x00") is None


def test_long_and_huge_queries_are_bounded(demo: tuple[Archive, list[dict]]) -> None:
    archive, _ = demo
    res = archive.search(SearchRequest(q="巡" * 10_000))
    assert any("过长" in m for m in res.messages)
    res = archive.search(SearchRequest(q=" OR ".join(f"词{i}" for i in range(500))))
    assert any("过多" in m for m in res.messages)


def test_concurrent_searches_agree_with_serial(demo_index: Path) -> None:
    """Whoosh readers share file handles; the archive must serialise access to them."""
    import threading

    queries = ["整改", '"整改工作"', "巡察 -巡视", "title:通报", "巡视 OR 巡察", "全面从严治党"]
    serial_archive = Archive(demo_index)
    expected = {q: serial_archive.search(SearchRequest(q=q, per_page=50)).total for q in queries}
    shared = Archive(demo_index)
    errors: list[BaseException] = []
    mismatches: list[tuple[str, int]] = []

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        for _ in range(25):
            q = rnd.choice(queries)
            try:
                with shared._lock:
                    shared._cache.clear()
                total = shared.search(SearchRequest(q=q, per_page=50, sort=rnd.choice(["date", "relevance"]))).total
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                return
            if total != expected[q]:
                mismatches.append((q, total))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and not mismatches, (errors[:3], mismatches[:3])


def test_reposts_collapse_to_the_earliest_copy(tmp_path: Path) -> None:
    """Two copies of one notice (different boilerplate) fold into one hit listing the
    other; two notices sharing only their template stay apart."""
    body = "".join(f"第{i}条，关于区委巡察整改工作的具体措施编号{i * 7}已经落实到位。" for i in range(40))
    other = "".join(f"第{i}条，关于县委巡察反馈问题的整改安排序号{i * 11}正在推进之中。" for i in range(40))
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jsonl").write_text(
        json.dumps({"url": "http://a.gov.cn/1.html", "title": "巡察整改通报", "date": "2021-03-01", "text": "巡察整改通报\n" + body}, ensure_ascii=False) + "\n"
        + json.dumps({"url": "http://b.gov.cn/2.html", "title": "转载：巡察整改通报", "date": "2021-03-05", "text": "来源：某网站\n" + body}, ensure_ascii=False) + "\n"
        + json.dumps({"url": "http://c.gov.cn/3.html", "title": "另一份巡察整改通报", "date": "2021-04-01", "text": other}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    ix = tmp_path / "ix"
    build([src], ix, workers=1, progress=False)
    archive = Archive(ix)
    full = archive.search(SearchRequest(q="巡察", per_page=10))
    assert full.total == 3 and all(not h.reposts for h in full.hits)
    folded = archive.search(SearchRequest(q="巡察", per_page=10, collapse=True))
    assert folded.total == 2
    first = next(h for h in folded.hits if h.url == "http://a.gov.cn/1.html")
    assert [r["url"] for r in first.reposts] == ["http://b.gov.cn/2.html"]
    assert not next(h for h in folded.hits if h.url == "http://c.gov.cn/3.html").reposts

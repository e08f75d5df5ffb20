"""Query relaxation: run-on queries, aliases, places, years, partial matches, exact mode."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from indexer import relax, segment
from indexer.analysis import normalize
from indexer.index import build
from indexer.query import parse
from indexer.search import Archive, SearchRequest

NOTICES = [
    {"url": "http://example.gov.cn/gaoling/1.html", "date": "2022-06-10",
     "title": "中共西安市高陵区委关于十四届省委第三轮巡视集中整改进展情况的通报",
     "text": "根据省委统一部署，省委第三巡视组对高陵区开展了巡视。现将巡视整改进展情况予以公布。\n中共西安市高陵区委\n2022年6月10日"},
    {"url": "http://example.gov.cn/lianhu/2.html", "date": "2023-03-02",
     "title": "中共西安市莲湖区委关于巡察整改情况的通报",
     "text": "区委第二巡察组对区教育局开展了巡察，现将巡察整改情况公布如下。\n中共西安市莲湖区委\n2023年3月2日"},
    {"url": "http://example.gov.cn/ccdi/3.html", "date": "2023-09-01",
     "title": "中央纪委国家监委公开通报五起违反中央八项规定精神典型问题",
     "text": "中央纪委国家监委日前公开通报了五起违反中央八项规定精神典型问题。\n2023年9月1日"},
    {"url": "http://example.gov.cn/pingyu/4.html", "date": "2024-04-01",
     "title": "平舆县委第十轮巡察完成进驻",
     "text": "近日，平舆县委第十轮巡察的五个巡察组完成进驻。\n2024年4月1日"},
    {"url": "http://example.gov.cn/other/5.html", "date": "2021-01-05",
     "title": "某市关于开展安全生产检查的通知",
     "text": "各区县：现就开展安全生产检查通知如下。\n2021年1月5日"},
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    src = tmp_path_factory.mktemp("relax_src") / "notices.jsonl"
    src.write_text("\n".join(json.dumps(n, ensure_ascii=False) for n in NOTICES) + "\n", encoding="utf-8")
    ix = tmp_path_factory.mktemp("relax_index")
    report = build([str(src)], ix, workers=1, progress=False)
    assert report.added == len(NOTICES) and not report.failed, report.failed
    return Archive(ix)


def search(archive: Archive, q: str, **kw):
    return archive.search(SearchRequest(q=q, per_page=20, **kw))


def urls(res) -> list[str]:
    return [h.url for h in res.hits]


# -- segmentation and aliases ------------------------------------------------------------
def test_cut_keeps_places_and_years_whole() -> None:
    assert segment.cut(normalize("高陵区巡视整改进展情况"))[:2] == ["高陵区", "巡视"]
    words = segment.cut(normalize("2022年西安莲湖巡视整改进展"))
    assert words[0] == "2022年" and "西安" in words and "莲湖" in words
    assert segment.cut("，、 ") == []


def test_alternatives_from_the_alias_table() -> None:
    assert "中央纪委" in segment.alternatives("中纪委")
    assert "中纪委" in segment.alternatives("中央纪委")
    # an alias that contains another alternative adds nothing and is dropped
    assert segment.alternatives("中央八项规定") == ["八项规定"] or "中央八项规定" not in segment.alternatives("中央八项规定")[1:]
    assert segment.alternatives("巡察整改") == ["巡察整改"]


def test_split_literal_words_places_years() -> None:
    leaf = parse("2022年西安莲湖巡视整改").root
    words = relax.split_literal(leaf, lambda _t: False)
    assert words is not None
    assert words[0].year == "2022" and words[0].alts == ["2022"]
    lianhu = next(w for w in words if w.text == "莲湖")
    assert lianhu.region is not None and lianhu.region.code == "610104"
    # an old name of a division also finds its current name
    old = relax.split_literal(parse("襄樊巡察整改").root, lambda _t: False)
    assert old is not None and old[0].alts == ["襄樊", "襄阳"] and old[0].region.code == "420600"
    # a single plain word has nothing to loosen
    assert relax.split_literal(parse("巡察").root, lambda _t: False) is None


# -- the archive ---------------------------------------------------------------------------
def test_exact_answer_stands_when_it_has_hits(archive: Archive) -> None:
    res = search(archive, "巡察整改")
    assert res.total == 1 and res.relaxed is None
    assert all(h.match == "exact" and h.missing == [] for h in res.hits)
    assert urls(res) == urls(search(archive, "巡察整改", exact=True))


def test_run_on_query_is_split_into_words(archive: Archive) -> None:
    q = "高陵区巡视整改进展情况"
    assert search(archive, q, exact=True).total == 0
    res = search(archive, q)
    assert res.relaxed is not None and res.relaxed["reason"] == "words"
    assert res.relaxed["query"].split() == ["高陵区", "巡视", "整改", "进展", "情况"]
    assert urls(res)[0] == "http://example.gov.cn/gaoling/1.html"
    assert res.hits[0].match == "words"
    # every "words" hit holds every word
    for h in res.hits:
        doc = archive.get(h.id)
        text = normalize((doc["title"] or "") + "\n" + doc["body"])
        assert all(w in text for w in ["高陵区", "巡视", "整改", "进展", "情况"])


def test_quoted_phrases_are_never_split(archive: Archive) -> None:
    res = search(archive, '"高陵区巡视整改进展情况"')
    assert res.total == 0 and res.relaxed is None
    res = search(archive, "“高陵区巡视整改进展情况”")
    assert res.total == 0 and res.relaxed is None


def test_exact_mode_turns_relaxation_off(archive: Archive) -> None:
    res = search(archive, "平舆县第十轮巡察启动", exact=True)
    assert res.total == 0 and res.relaxed is None and res.understood == {}


def test_partial_matches_say_what_they_lack(archive: Archive) -> None:
    res = search(archive, "平舆县第十轮巡察启动")
    assert res.relaxed is not None and res.relaxed["reason"] == "partial"
    top = res.hits[0]
    assert top.url == "http://example.gov.cn/pingyu/4.html"
    assert top.match == "partial" and top.missing == ["启动"]
    assert all(h.match == "partial" and h.missing for h in res.hits)


def test_partial_needs_half_the_weight(archive: Archive) -> None:
    # three rare words found nowhere together, one of them nowhere at all: nothing holds
    # half the weight except notices holding at least two of the others
    res = search(archive, "蚌埠高陵区安全生产")
    for h in res.hits:
        assert h.match == "partial" and len(h.missing) <= 2


def test_aliases_are_searched_and_shown(archive: Archive) -> None:
    res = search(archive, "中纪委通报八项规定问题")
    assert res.relaxed is not None
    assert urls(res)[0] == "http://example.gov.cn/ccdi/3.html"
    assert any(a["word"] == "中纪委" and "中央纪委" in a["alternatives"] for a in res.relaxed["aliases"])
    assert "中央纪委" in res.relaxed["query"]


def test_places_and_years_are_offered_as_filters(archive: Archive) -> None:
    res = search(archive, "2023年西安莲湖巡察整改")
    assert res.total >= 1 and urls(res)[0] == "http://example.gov.cn/lianhu/2.html"
    places = res.understood["places"]
    assert [p["code"] for p in places] == ["610104"] and places[0]["count"] == 1
    assert places[0]["path"] == "陕西省西安市莲湖区"
    years = res.understood["years"]
    assert years and years[0]["year"] == "2023" and years[0]["from"] == "2023-01-01"
    # an offer already applied is not offered again
    again = search(archive, "2023年西安莲湖巡察整改", region="610104")
    assert again.understood["places"] == []


def test_a_place_word_is_met_by_the_region_of_a_notice(archive: Archive) -> None:
    # 西安 is not in the text of the 高陵 notice's body, but the notice is in 西安市
    res = search(archive, "西安巡视集中整改")
    assert "http://example.gov.cn/gaoling/1.html" in urls(res)


def test_nothing_found_suggests_queries_with_counts(archive: Archive) -> None:
    res = search(archive, "教育局巡察", region="高陵区")
    assert res.total == 0
    assert res.suggestions and res.suggestions[0] == {"q": "教育局巡察", "count": 1, "drop_filters": True}
    res = search(archive, "安全生产 蚌埠 乌鲁木齐")
    assert res.total == 0 or all(h.match == "partial" for h in res.hits)


def test_api_contract_keys(archive: Archive) -> None:
    d = search(archive, "高陵区巡视整改进展情况").as_dict()
    assert {"total", "hits", "facets", "relaxed"} <= set(d)
    assert {"match", "missing", "score", "snippet"} <= set(d["hits"][0])
    assert search(archive, "巡察整改").as_dict()["relaxed"] is None


def test_document_page_marks_the_words_a_loosened_query_found(archive: Archive) -> None:
    hit = search(archive, "高陵区巡视整改进展情况").hits[0]
    doc = archive.get(hit.id, q="高陵区巡视整改进展情况")
    marked = "".join(doc["paragraphs_html"]) + doc["title_html"]
    marks = re.findall(r"<mark>(.*?)</mark>", marked)
    assert any("高陵" in m for m in marks) and any("整改" in m for m in marks)
    # a query the notice holds as typed marks only that
    doc = archive.get(hit.id, q="巡视")
    assert "<mark>整改</mark>" not in "".join(doc["paragraphs_html"])


def test_a_document_number_outside_the_text_is_found(tmp_path: Path) -> None:
    """The metadata's document number is matched like a line of the body: a notice whose
    文号 sits in a table of properties the cleaner leaves out of the text is found by it,
    in any written form, in exact mode."""
    page = tmp_path / "p.html"
    page.write_text(
        "<html><head><title>关于进一步做好整改落实工作的通知</title></head><body>"
        "<div class='info'><table><tr><th>发文机关：</th><td>四川省人民政府办公厅</td></tr>"
        "<tr><th>文号：</th><td>川办发〔2018〕58号</td></tr></table></div>"
        "<div id='zoom'><h1>关于进一步做好整改落实工作的通知</h1>"
        "<p>各市（州）人民政府，省政府各部门：为进一步做好整改落实工作，现就有关事项通知如下。</p>"
        "<p>一、提高认识，压实整改责任。各地各部门要把整改落实作为重要政治任务，逐项对账销号。</p>"
        "<p>四川省人民政府办公厅</p><p>2018年6月1日</p></div></body></html>", encoding="utf-8")
    ix = tmp_path / "ix"
    report = build([str(page)], ix, workers=1, progress=False)
    assert report.added == 1
    archive = Archive(ix)
    doc = archive.get(archive.search(SearchRequest(q="整改落实")).hits[0].id)
    assert doc["doc_number"] == "川办发〔2018〕58号" and "58号" not in doc["body"]
    for q in ["川办发〔2018〕58号", "川办发（2018）58号", "文号:川办发2018年58号", "办发〔2018〕58"]:
        assert search(archive, q, exact=True).total == 1, q


def test_few_word_hits_are_followed_by_partial_hits_ranked_below(archive: Archive) -> None:
    res = search(archive, "巡察整改情况通报")
    assert res.relaxed is not None and res.relaxed["reason"] == "words"
    kinds = [h.match for h in res.hits]
    assert kinds[0] == "words" and "partial" in kinds
    assert res.relaxed["partial_total"] == kinds.count("partial")
    # every hit holding all words ranks above every hit lacking one, whatever its BM25
    assert kinds == sorted(kinds, key=lambda k: k != "words")
    assert all(h.missing for h in res.hits if h.match == "partial")

"""indexer/feeds.py: Atom documents, CSV/JSONL exports, similar notices, regions tree.

Expected values come from the Archive over the demo index (tests/conftest.py demo_index),
never from hard-coded counts.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import feedparser
import pytest

from indexer import dedup, feeds, pages
from indexer.search import Archive, SearchError, SearchRequest

HOSTILE = "标题\x00\x01\x0b\ufffe <script>alert(1)</script> & \"引号\" ]]>"


@pytest.fixture(scope="module")
def archive(demo_index) -> Archive:
    return Archive(demo_index)


def doc_url(doc_id: str) -> str:
    return f"http://example.test/doc/{doc_id}"


def make_feed(hits, title="公告检索：巡察", now="2024-01-01T00:00:00Z") -> bytes:
    return feeds.atom_feed(hits, title=title, feed_id="http://example.test/feed.atom?q=x",
                           self_url="http://example.test/feed.atom?q=x", alternate_url="http://example.test/?q=x",
                           doc_url=doc_url, now=now)


# -- Atom --------------------------------------------------------------------------------


def test_atom_feed_is_valid_and_carries_each_hit(archive):
    res = archive.search(SearchRequest(q="巡察", sort="date", per_page=50)).as_dict()
    assert len(res["hits"]) > 5
    body = make_feed(res["hits"])
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "公告检索：巡察"
    assert [e.id for e in parsed.entries] == [doc_url(h["id"]) for h in res["hits"]]
    untitled = [h for h in res["hits"] if not h["title"]]
    assert untitled, "the demo corpus has an untitled notice"
    for e, h in zip(parsed.entries, res["hits"]):
        # every notice of the demo corpus is marked 示例 in its title, category and rights
        assert h["source"].startswith("samples/")
        assert e.title.startswith("【示例】")
        assert e.rights == pages.DEMO_NOTE
        title = e.title[len("【示例】"):]
        if h["title"]:
            assert title == h["title"]
        else:  # a heading built from issuer, 文种 and date, said to be made up
            assert title == f"{h['issuer']}{h['doc_type']}（{int(h['date'][:4])}年{int(h['date'][5:7])}月{int(h['date'][8:])}日）（标题为系统生成）"
        assert "无标题" not in e.title
        assert e.link == doc_url(h["id"])
        assert e.updated == f"{h['date']}T00:00:00Z"
        if h["issuer"]:
            assert e.author == h["issuer"]
        if h["doc_type"]:
            assert [t.term for t in e.tags] == [h["doc_type"], "示例"]
        # feedparser trims/keeps edge whitespace depending on which HTML parser backend it
        # found importable (sgmllib or not); compare the text, not its edge spaces
        assert "<mark>" not in e.summary
        assert " ".join(e.summary.split()) == " ".join(feeds.snippet_text(h["snippet"]).split())
    # the feed is as new as its newest notice
    assert parsed.feed.updated == f"{max(h['date'] for h in res['hits'])}T00:00:00Z"


def test_atom_feed_survives_hostile_text():
    hit = {"id": "abc", "title": HOSTILE, "date": "2021-13-45", "issuer": HOSTILE, "doc_type": HOSTILE,
           "snippet": "a &lt;b&gt; <mark>巡察</mark> \x07"}
    body = make_feed([hit], title=HOSTILE)
    ET.fromstring(body)  # well-formed XML despite control characters
    assert b"<script>" not in body and b"\x00" not in body and b"\x0b" not in body
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0
    e = parsed.entries[0]
    assert e.title == feeds.xml_text(HOSTILE) and "<script>alert(1)</script>" in e.title
    assert " ".join(e.summary.split()) == "a <b> 巡察"
    assert e.updated == "1970-01-01T00:00:00Z"  # malformed date is not passed on
    assert parsed.feed.updated == "2024-01-01T00:00:00Z"


def test_empty_feed_is_valid():
    parsed = feedparser.parse(make_feed([]))
    assert parsed.bozo == 0 and parsed.entries == []


def test_feed_title():
    assert feeds.feed_title("巡察整改", "陕西省") == "公告检索：巡察整改 · 陕西省"
    assert feeds.feed_title(None) == "公告检索：最新公告"
    assert feeds.feed_title("", None, "通知", "2020-01-01", None) == "公告检索：通知 · 2020-01-01 至"


# -- exports -----------------------------------------------------------------------------


def read_csv(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def test_csv_export_has_every_match(archive):
    export = feeds.start_export(archive, SearchRequest(q="整改"))
    text = "".join(feeds.csv_stream(export))
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")  # CRLF only (no body text here)
    rows = read_csv(text)
    assert rows[0] == list(feeds.EXPORT_FIELDS)
    ids = [r[0] for r in rows[1:]]
    assert len(ids) == export.total == len(set(ids)) > 10
    expected = []
    page = 1
    while True:
        res = archive.search(SearchRequest(q="整改", page=page, per_page=7))
        expected += [h.id for h in res.hits]
        if page >= res.pages:
            break
        page += 1
    assert ids == expected  # same order as paging through the search
    doc = archive.get(ids[0])
    assert rows[1] == [feeds.csv_cell(doc[k]) for k in feeds.EXPORT_FIELDS]


def test_excel_export_for_readers(archive):
    """导出 Excel: Chinese headers, every match in search order, derived headings for untitled
    notices, the place in one cell, safe original links only, a link back to each notice."""
    export = feeds.start_export(archive, SearchRequest(q="整改"))
    text = "".join(feeds.excel_stream(export, doc_url))
    rows = read_csv(text)
    assert rows[0] == ["标题", "日期", "发布机关", "地区", "文种", "文号", "原文链接", "本站链接", "备注"]
    raw = read_csv("".join(feeds.csv_stream(feeds.start_export(archive, SearchRequest(q="整改")))))
    assert [r[7] for r in rows[1:]] == [doc_url(r[0]) for r in raw[1:]]
    assert len(rows) == len(raw) and len(rows) - 1 == export.total > 10
    for row, r in zip(rows[1:], raw[1:]):
        doc = archive.get(r[0])
        assert row[1] == (doc["date"] or "") and row[2] == (doc["issuer"] or "") and row[5] == (doc["doc_number"] or "")
        # demo notices: 【示例】 before the heading, the note in 备注, no link to a real site
        assert row[0].startswith("【示例】") and row[8] == pages.DEMO_NOTE and row[6] == ""
        if doc["title"]:
            assert row[0] == "【示例】" + doc["title"]
        else:
            assert row[0].endswith("（标题为系统生成）") and doc["issuer"] in row[0]
    assert any(not archive.get(r[0])["title"] for r in raw[1:])
    places = {row[3] for row in rows[1:]}
    assert "陕西省西安市莲湖区" in places


def test_excel_export_of_hostile_values(archive):
    rec = {"id": "abc", "title": "=HYPERLINK(\"http://evil\")", "date": None, "issuer": "+1", "url": "javascript:alert(1)",
           "province": None, "city": None, "district": None, "doc_type": "-x", "doc_number": "@y"}
    row = feeds.excel_row(rec, doc_url)
    assert row[0].startswith("'=") and row[2] == "'+1" and row[4] == "'-x" and row[5] == "'@y"
    assert row[6] == "" and row[7] == doc_url("abc")


def test_jsonl_export_carries_bodies(archive):
    export = feeds.start_export(archive, SearchRequest(region="西安市"))
    lines = "".join(feeds.jsonl_stream(export)).splitlines()
    recs = [json.loads(x) for x in lines]
    assert len(recs) == export.total > 1
    for r in recs:
        assert set(r) == set(feeds.EXPORT_FIELDS) | {"body", "demo"}
        assert r["demo"] is True  # the demo corpus
        assert r["body"] == archive.get(r["id"])["body"]
        assert r["city"] == "西安市"


def test_exports_are_truncated_with_a_message(archive):
    export = feeds.start_export(archive, SearchRequest(), limit=5)
    assert export.total > 5 and export.truncated
    rows = read_csv("".join(feeds.csv_stream(export)))
    assert len(rows) == 1 + 5 + 1
    assert rows[-1][0].startswith("# 结果已截断") and str(export.total) in rows[-1][0]
    lines = [json.loads(x) for x in "".join(feeds.jsonl_stream(export)).splitlines()]
    assert len(lines) == 6 and lines[-1]["truncated"] is True and lines[-1]["exported"] == 5


def test_export_failure_midway_is_reported_in_the_file(archive):
    class Failing:
        def __init__(self) -> None:
            self.calls = 0

        def search(self, req):
            return archive.search(req)

        def iter_stored(self, req, limit):
            for doc in archive.iter_stored(req, limit):
                self.calls += 1
                if self.calls > 2:
                    raise RuntimeError("disk gone")
                yield doc

    export = feeds.start_export(Failing(), SearchRequest())  # type: ignore[arg-type]
    rows = read_csv("".join(feeds.csv_stream(export)))
    assert len(rows) == 1 + 2 + 1 and rows[-1][0].startswith("# 导出中断")
    export = feeds.start_export(Failing(), SearchRequest())  # type: ignore[arg-type]
    last = json.loads("".join(feeds.jsonl_stream(export)).splitlines()[-1])
    assert "导出中断" in last["error"] and last["exported"] == 2


def test_bad_export_parameters_fail_before_streaming(archive):
    with pytest.raises(SearchError):
        feeds.start_export(archive, SearchRequest(date_from="2020-02-30"))


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_formula_injection_is_neutralised(value):
    cell = feeds.csv_cell(value)
    assert cell == "'" + value
    assert feeds.csv_cell("正常文本") == "正常文本" and feeds.csv_cell(None) == ""
    assert feeds.csv_cell("a\x00b") == "ab"


def test_content_disposition():
    header = feeds.content_disposition(["巡察整改", "陕西省", None], "csv")
    assert header.startswith('attachment; filename="notices.csv"; filename*=UTF-8\'\'')
    assert unquote(header.split("''", 1)[1]) == "公告导出_巡察整改_陕西省.csv"
    header = feeds.content_disposition(['a"b\r\n/../x', "2020-01-01"], "jsonl")
    fallback = header.split('"')[1]
    assert fallback == "notices_a_b_x_2020-01-01.jsonl"
    assert "\r" not in header and "\n" not in header and "/" not in unquote(header.split("''", 1)[1])
    assert feeds.content_disposition([], "csv").endswith("%E5%85%AC%E5%91%8A%E5%AF%BC%E5%87%BA.csv")


# -- similar notices ---------------------------------------------------------------------


def test_similar_notices_rank_by_content_and_skip_self(archive):
    doc_hit = archive.search(SearchRequest(q="title:巡察公告")).hits[0]
    doc = archive.get(doc_hit.id)
    sims = feeds.similar_notices(archive, doc, limit=5)
    assert 0 < len(sims) <= 5
    assert doc["id"] not in {s["id"] for s in sims}
    mine = dedup.shingles(doc["body"])
    values = [s["similarity"] for s in sims]
    assert values == sorted(values, reverse=True)
    for s in sims:
        assert s["similarity"] == round(dedup.cosine(mine, dedup.shingles(archive.get(s["id"])["body"])), 3)
        assert feeds.MIN_SIMILARITY <= s["similarity"] < feeds.REPOST_COSINE
    # another 巡察公告 (same genre) is closer than any notice of another genre
    assert "巡察" in (sims[0]["title"] or "") or "巡视" in (sims[0]["title"] or "")


def test_similar_notices_drop_reposts(tmp_path, samples_dir, archive):
    """Copies of a notice (other URLs, one with flattened paragraphs) are reposts, not similar."""
    from indexer.index import build

    hit = archive.search(SearchRequest(q="title:巡察公告")).hits[0]
    original = archive.get(hit.id)
    src = tmp_path / "src"
    src.mkdir()
    records = [
        {"url": "http://a.example.gov.cn/1.html", "title": original["title"], "date": original["date"], "text": original["body"]},
        {"url": "http://b.example.gov.cn/2.html", "title": original["title"], "date": original["date"], "text": original["body"].replace("\n", "")},
    ]
    (src / "copies.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    report = build([str(samples_dir), str(src)], tmp_path / "ix", workers=1)
    assert not report.failed
    ix = Archive(tmp_path / "ix")
    copies = ix.search(SearchRequest(q=f'title:"{original["title"]}"')).hits
    assert len(copies) >= 3  # the sample itself and the two copies
    for c in copies:
        sims = feeds.similar_notices(ix, ix.get(c.id))
        assert not {s["id"] for s in sims} & {x.id for x in copies}, c.id
        assert sims  # the other 巡察公告 are still there


def test_key_terms_are_distinctive(archive):
    doc = archive.get(archive.search(SearchRequest(q="title:巡察公告")).hits[0].id)
    terms = feeds.key_terms(archive, doc["title"], doc["body"])
    assert 0 < len(terms) <= feeds.SIMILAR_TERMS
    total = archive.search(SearchRequest(per_page=1)).total
    for t in terms:
        df = archive.search(SearchRequest(q=f'"{t}"', per_page=1)).total
        assert 1 < df <= total * 0.5, t
        assert t in feeds.normalize(doc["title"] + doc["body"])


# -- regions tree ------------------------------------------------------------------------


def test_region_tree_counts_match_search(archive):
    total, tree = feeds.region_tree(archive)
    assert total == archive.search(SearchRequest(per_page=1)).total
    assert tree and sum(p.count for p in tree) <= total
    for p in tree:
        assert p.count == archive.search(SearchRequest(region=p.code, per_page=1)).total
        assert p.own >= 0
        for c in p.children:
            assert c.name not in feeds.FILLER_PLACES
            assert c.count == archive.search(SearchRequest(region=c.code, per_page=1)).total
            for d in c.children:
                assert d.count == archive.search(SearchRequest(region=d.code, per_page=1)).total
    names = {c.name for p in tree for c in p.children} | {d.name for p in tree for c in p.children for d in c.children}
    assert {"西安市", "莲湖区"} <= names


def test_real_notices_are_not_marked_and_keep_their_links(tmp_path):
    """Outside samples/ nothing is marked 示例 and safe original links are kept."""
    src = tmp_path / "crawl"
    src.mkdir()
    rec = {"url": "https://www.example.gov.cn/a.html", "title": "关于巡察整改的通知", "date": "2021-05-06",
           "text": "关于巡察整改的通知\n正文第一段，巡察整改工作有序推进。\n某某区人民政府办公室\n2021年5月6日"}
    (src / "real.jsonl").write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    from indexer.index import build

    assert build([str(src)], tmp_path / "ix", workers=1).added == 1
    ix = Archive(tmp_path / "ix")
    export = feeds.start_export(ix, SearchRequest(q="巡察"))
    rows = read_csv("".join(feeds.excel_stream(export, doc_url)))
    assert rows[1][0] == "关于巡察整改的通知" and rows[1][6] == rec["url"] and rows[1][8] == ""
    recs = [json.loads(x) for x in "".join(feeds.jsonl_stream(feeds.start_export(ix, SearchRequest()))).splitlines()]
    assert recs[0]["demo"] is False
    hits = ix.search(SearchRequest(q="巡察")).as_dict()["hits"]
    entry = feedparser.parse(make_feed(hits)).entries[0]
    assert entry.title == "关于巡察整改的通知" and "rights" not in entry

"""Web app (app.py + templates): every route, every bad parameter, escaping, headers.

The expected values come from the search layer itself (`Archive` over the same index), so
these tests check that the web layer shows what the archive answers, not hard-coded counts.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from app import create_app, marked, page_window, safe_link, search_url
from indexer.index import build
from indexer.search import Archive, SearchError, SearchRequest

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
CSP_PARTS = ("default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
             "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'")

HOSTILE_TITLE = "巡察公告<script>alert(1)</script><img src=x onerror=alert(1)>"
HOSTILE_TEXT = "\n".join([
    HOSTILE_TITLE,
    "中共西安市莲湖区委巡察工作领导小组办公室关于巡察整改的公告",
    "正文第一段，巡察整改 <img src=x onerror=alert(1)> 以及 <b>未闭合 </div><a href=\"javascript:alert(2)\">点我</a>。",
    "第二段 <script>alert(1)</script> 巡察 \"引号\" & 符号 </textarea><svg onload=alert(3)> 结束 <!-- 注释",
    "中共西安市莲湖区委巡察工作领导小组办公室",
    "2021年5月6日",
])
HOSTILE_URL = "javascript:alert(1)"
# a result's link, after the 示例 badge of a demo notice
HIT_LINK = re.compile(r'class="hit-title">(?:<span class="demo-badge".*?</span></span> )?<a href="/doc/([0-9a-f]+)')


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus indexed once per session (sources named relative to the repo root)."""
    out = tmp_path_factory.mktemp("index")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        report = build(["samples"], out, workers=1)
    finally:
        os.chdir(cwd)
    assert report.added > 10 and not report.failed
    return out


@pytest.fixture(scope="session")
def archive(index_dir: Path) -> Archive:
    return Archive(index_dir)


@pytest.fixture(scope="session")
def client(index_dir: Path):
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True})
    return app.test_client()


@pytest.fixture(scope="session")
def hostile_client(tmp_path_factory: pytest.TempPathFactory):
    """An index of one page written by an attacker: markup in title and body, a javascript: URL."""
    base = tmp_path_factory.mktemp("hostile")
    src = base / "src"
    src.mkdir()
    record = {"url": HOSTILE_URL, "title": HOSTILE_TITLE, "date": "2021-05-06", "text": HOSTILE_TEXT}
    (src / "evil.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    report = build([str(src)], base / "ix", workers=1)
    assert report.added == 1
    app = create_app({"INDEX_DIR": str(base / "ix"), "TESTING": True})
    return app.test_client()


def text_of(resp: Any) -> str:
    return resp.get_data(as_text=True)


def api(client: Any, url: str) -> dict[str, Any]:
    resp = client.get(url)
    assert resp.status_code == 200, text_of(resp)
    assert resp.mimetype == "application/json"
    return resp.get_json()


def facets_in_page(page: str) -> dict[str, list[tuple[str, int]]]:
    """The facet lists as the sidebar shows them: {name: [(value, count), ...]}."""
    out: dict[str, list[tuple[str, int]]] = {}
    aside = page[page.index('<aside class="facets"'):page.index("</aside>")]
    for section in re.findall(r'aria-labelledby="facet-(\w+)">(.*?)</section>', aside, re.S):
        name, body = section
        pairs = re.findall(r'<span class="f-name">(.*?)</span> <span class="f-count">(\d+)</span>', body)
        out[name] = [(html.unescape(v), int(n)) for v, n in pairs]
    return out


def hrefs(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', page)]


def query_of(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


def result_total(page: str) -> int:
    m = re.search(r"共 <strong>(\d+)</strong> 条，用时 [\d.]+ 毫秒", page)
    assert m, "no result count on the page"
    return int(m.group(1))


# -- the search page ---------------------------------------------------------------------


def test_home_lists_newest_notices(client, archive):
    resp = client.get("/")
    assert resp.status_code == 200
    page = text_of(resp)
    expected = archive.search(SearchRequest(sort="date"))
    assert '<html lang="zh-CN">' in page
    assert result_total(page) == expected.total > 0
    assert "最新公告" in page
    first = expected.hits[0]
    assert f"/doc/{first.id}" in page
    # newest first: the order of ids on the page is the archive's date order
    ids = re.findall(HIT_LINK, page)
    assert ids == [h.id for h in expected.hits]


def test_search_shows_count_time_and_marks(client, archive):
    page = text_of(client.get("/?q=巡察"))
    expected = archive.search(SearchRequest(q="巡察"))
    assert result_total(page) == expected.total > 0
    assert "<mark>巡察</mark>" in page
    assert 'value="巡察"' in page  # the box keeps the query
    assert "检索词" in page and ">搜索<" in page
    # the help under the box is in Chinese and every example in it finds something
    help_html = page.split('id="q-help"', 1)[1].split("</p>", 1)[0]
    assert "加引号" in help_html and "表示排除" in help_html and "标题:" in help_html
    examples = [h for h in hrefs('<p id="q-help"' + help_html) if h.startswith("/?q=")]
    assert len(examples) >= 5
    for href in examples:
        assert result_total(text_of(client.get(href))) > 0, href
    assert 'href="#results"' in page and "跳到结果" in page
    # result links carry the query to the document page
    links = [h for h in hrefs(page) if h.startswith("/doc/")]
    assert links and all(query_of(h).get("q") == "巡察" for h in links)
    # a link to the JSON twin of the same query
    json_links = [h for h in hrefs(page) if h.startswith("/api/search")]
    assert json_links and query_of(json_links[0]) == {"q": "巡察"}


def test_form_fields_and_labels(client):
    page = text_of(client.get("/?q=整改&from=2019-01-01&to=2020-12-31&type=巡察整改&sort=date"))
    for label, field in (("检索词", "q"), ("地区", "region"), ("起始日期", "from"), ("截止日期", "to"), ("文种", "type")):
        assert f'<label for="{field}"' in page and label in page
    # text boxes, not native date controls (those show mm/dd/yyyy in an English browser)
    assert 'type="text" id="from" name="from" value="2019-01-01"' in page
    assert 'type="text" id="to" name="to" value="2020-12-31"' in page
    assert '<option value="巡察整改" selected>' in page
    # one sort control (the links above the results); the form keeps the choice hidden
    assert '<input type="hidden" name="sort" value="date">' in page and 'type="radio" name="sort"' not in page
    assert re.search(r'<form[^>]*method="get"', page)


def test_result_place_does_not_repeat_names(client):
    page = text_of(client.get("/?region=莲湖区"))
    assert "陕西省西安市莲湖区" in page
    from app import place
    assert place({"province": "北京市", "city": "北京市", "district": "东城区"}) == "北京市东城区"
    assert place({"province": "上海市", "city": "市辖区", "district": "浦东新区"}) == "上海市浦东新区"
    assert place({"province": "浙江省", "city": None, "district": None}) == "浙江省"


def test_timeline_svg(client, archive):
    page = text_of(client.get("/?q=巡察"))
    res = archive.search(SearchRequest(q="巡察"))
    m = re.search(r'<svg class="timeline-svg[^"]*"[^>]*>(.*?)</svg>', page, re.S)
    assert m, "timeline missing"
    svg_tag = page[m.start():page.index(">", m.start()) + 1]
    # not role="img": an image's children are presentational, and these bars are links
    # (axe nested-interactive); each link is named by its <title>, saying that it filters
    assert 'role="img"' not in svg_tag and 'aria-labelledby="timeline-caption"' in svg_tag
    titles = re.findall(r"<title>(.*?)</title>", m.group(1))
    assert len(titles) == len(res.timeline)
    links = dict(re.findall(r'<a href="([^"]*)" class="bar-link[^"]*"><title>(.*?)</title>', html.unescape(m.group(1))))
    for t in res.timeline:
        if len(t["label"]) == 4 and t["count"]:
            href = next(h for h in links if query_of(h).get("from") == f"{t['label']}-01-01"
                        and query_of(h).get("to") == f"{t['label']}-12-31")
            assert links[href] == f"{t['label']} 年：{t['count']} 条，点击按年筛选"
    # the chart's data is also there as text for screen readers
    summary = re.search(r'<p class="visually-hidden">(按年份统计的命中数：.*?)</p>', page)
    assert summary and all(f"{t['label']} 年 {t['count']} 条" in summary.group(1) for t in res.timeline if t["count"])
    # the whole chart is counted in the aria-label summary
    assert str(res.total) in page


def test_facet_counts_match_api(client):
    for url in ("/?q=巡察", "/?region=西安市", "/?q=整改&type=巡察整改"):
        page = text_of(client.get(url))
        data = api(client, url.replace("/?", "/api/search?"))
        shown = facets_in_page(page)
        for name in ("region", "year", "type"):
            expected = [(f["value"], f["count"]) for f in data["facets"][name]]
            assert shown.get(name, []) == expected, (url, name)


def test_region_filter_levels(client, archive):
    totals = []
    for name, level_key in (("陕西省", "province"), ("西安市", "city"), ("莲湖区", "district")):
        data = api(client, f"/api/search?region={name}")
        expected = archive.search(SearchRequest(region=name))
        assert data["total"] == expected.total > 0
        assert all(h[level_key] == name for h in data["hits"])
        page = text_of(client.get(f"/?region={name}"))
        assert result_total(page) == expected.total
        assert "地区：" in page and name in page
        totals.append(data["total"])
    assert totals[0] >= totals[1] >= totals[2]
    # short name and code reach the same district
    assert api(client, "/api/search?region=莲湖")["total"] == totals[2]
    assert api(client, "/api/search?region=610104")["total"] == totals[2]


def test_region_drill_down_and_breadcrumbs(client):
    page = text_of(client.get("/?region=陕西省"))
    facets = facets_in_page(page)
    assert ("西安市", api(client, "/api/search?region=西安市")["total"]) in facets["region"]
    # clicking the city facet goes down one level by code
    city_link = next(h for h in hrefs(page) if query_of(h).get("region") == "610100")
    page2 = text_of(client.get(city_link))
    crumbs = page2[page2.index('class="breadcrumbs"'):]
    crumbs = crumbs[:crumbs.index("</nav>")]
    assert "全部地区" in crumbs and "陕西省" in crumbs and 'aria-current="location">西安市' in crumbs
    up = [h for h in hrefs(crumbs) if query_of(h).get("region") == "610000"]
    assert up, "breadcrumb link up to the province"
    district = [v for v, _ in facets_in_page(page2)["region"]]
    assert "莲湖区" in district


def test_long_facet_lists_fold_into_more(index_dir):
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True})
    real = app.extensions["archive"]

    class ManyRegions:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def search(self, req: SearchRequest) -> Any:
            res = real.search(req)
            res.facets = dict(res.facets)
            res.facets["region"] = [{"value": f"地区{i:02d}", "code": f"{110100 + i}", "count": 30 - i} for i in range(20)]
            return res

    app.extensions["archive"] = ManyRegions()
    page = text_of(app.test_client().get("/"))
    section = page[page.index('aria-labelledby="facet-region"'):]
    section = section[:section.index("</section>")]
    head, _, folded = section.partition("<details")
    assert head.count('class="f-name"') == 12 and folded.count('class="f-name"') == 8
    assert "更多地区（8）" in folded
    assert [v for v, _ in facets_in_page(page)["region"]] == [f"地区{i:02d}" for i in range(20)]


def test_year_and_type_facet_links(client):
    page = text_of(client.get("/?q=巡察"))
    data = api(client, "/api/search?q=巡察")
    year = data["facets"]["year"][0]
    link = next(h for h in hrefs(page) if query_of(h).get("from") == f"{year['value']}-01-01")
    assert query_of(link) == {"q": "巡察", "from": f"{year['value']}-01-01", "to": f"{year['value']}-12-31"}
    filtered = text_of(client.get(link))
    assert result_total(filtered) == year["count"]
    assert f"年份：{year['value']}" in filtered
    t = data["facets"]["type"][0]
    link = next(h for h in hrefs(page) if query_of(h).get("type") == t["value"])
    assert result_total(text_of(client.get(link))) == t["count"]


def test_chips_remove_one_filter_each(client):
    url = "/?q=整改&region=西安市&from=2019-01-01&to=2024-12-31&type=巡察整改"
    page = text_of(client.get(url))
    chips = re.findall(r'<a class="chip" href="([^"]*)">([^<]*)<span class="visually-hidden">([^<]*)</span>', page)
    assert len(chips) == 4  # region, from, to, type
    removed = set()
    for href, label, hidden in chips:
        q = query_of(html.unescape(href))
        assert q["q"] == "整改"
        gone = {"region", "from", "to", "type"} - set(q)
        # the name starts with the visible label (WCAG 2.5.3: speech users say what they see)
        assert len(gone) == 1 and "：" in label and "移除" in hidden
        removed |= gone
        assert "page" not in q
    assert removed == {"region", "from", "to", "type"}
    assert not re.search(r'<a class="chip"[^>]*aria-label', page)


def test_paging_keeps_filters(client, archive):
    url = "/?q=巡察&from=2015-01-01&to=2025-12-31&sort=date"
    expected = archive.search(SearchRequest(q="巡察", date_from="2015-01-01", date_to="2025-12-31", sort="date"))
    assert expected.total > 10, "need more than one page of demo hits"
    page = text_of(client.get(url))
    nav = page[page.index('class="pagination"'):]
    assert "上一页" in nav and "下一页" in nav and 'aria-current="page"' in nav
    nxt = html.unescape(re.search(r'<a href="([^"]*)" rel="next"', page).group(1))
    assert query_of(nxt) == {"q": "巡察", "from": "2015-01-01", "to": "2025-12-31", "sort": "date", "page": "2"}
    page2 = text_of(client.get(nxt))
    assert result_total(page2) == expected.total
    second = archive.search(SearchRequest(q="巡察", date_from="2015-01-01", date_to="2025-12-31", sort="date", page=2))
    ids = re.findall(HIT_LINK, page2)
    assert ids == [h.id for h in second.hits]
    assert re.search(r'aria-current="page"[^>]*>2<', page2)
    prev = html.unescape(re.search(r'<a href="([^"]*)" rel="prev"', page2).group(1))
    assert query_of(prev) == {"q": "巡察", "from": "2015-01-01", "to": "2025-12-31", "sort": "date"}
    # a filter link on page 2 goes back to page 1
    facet_links = [h for h in hrefs(page2) if "type=" in h]
    assert facet_links and all("page" not in query_of(h) for h in facet_links)


def test_sort_switch(client, archive):
    page = text_of(client.get("/?q=整改&sort=date"))
    expected = archive.search(SearchRequest(q="整改", sort="date"))
    ids = re.findall(HIT_LINK, page)
    assert ids == [h.id for h in expected.hits]
    assert 'aria-current="true">日期' in page
    rel = next(h for h in hrefs(page[page.index('class="sort-links"'):]) if h.startswith("/?"))
    assert query_of(rel) == {"q": "整改"}


def test_empty_result_suggests_loosening(client):
    page = text_of(client.get("/?q=巡察整改&region=莲湖区&type=通报"))
    assert "没有找到符合条件的公告" in page
    empty = page[page.index('class="empty"'):]
    links = [query_of(h) for h in hrefs(empty[:empty.index("</div>")])]
    assert {"q": "巡察整改", "type": "通报"} in links
    assert {"q": "巡察整改", "region": "莲湖区"} in links
    assert "减少检索词" in empty


# -- the document page -------------------------------------------------------------------


def test_doc_page(client, archive):
    hit = archive.search(SearchRequest(q="巡察", region="天河区")).hits[0]
    resp = client.get(f"/doc/{hit.id}?q=巡察&region=天河区&page=1")
    assert resp.status_code == 200
    page = text_of(resp)
    doc = archive.get(hit.id)
    assert "<h1" in page and "巡察" in page
    assert "<mark>巡察</mark>" in page
    for label in ("日期", "发布机关", "省/市/区县", "文种", "文号", "原文链接"):
        assert f'<th scope="row">{label}</th>' in page
    assert doc["date"] in page and html.escape(doc["issuer"]) in page
    # the internal source path is not for readers
    assert "来源文件" not in page and doc["source"].split("#")[0] not in page and "samples/" not in page
    # a demo notice links to no real site: its made-up address on a real government domain
    # is neither a link nor shown (the link with safe rel values: test_real_notice_links_its_source)
    assert doc["url"] and doc["url"] not in page and "示例数据，无原文链接" in page
    # back link keeps the search
    back = next(h for h in hrefs(page) if "返回" in page and h.startswith("/?"))
    assert query_of(back) == {"q": "巡察", "region": "天河区"}
    # more notices of the same region
    related = archive.same_region(hit.id)
    assert related and all(f"/doc/{r['id']}" in page for r in related)
    assert "同地区的其他公告" in page


def test_doc_page_without_query_has_no_marks(client, archive):
    hit = archive.search(SearchRequest(q="巡察")).hits[0]
    page = text_of(client.get(f"/doc/{hit.id}"))
    assert "<mark>" not in page
    assert "返回检索" in page


def test_doc_body_paragraphs(client, archive):
    hit = archive.search(SearchRequest(q="整改")).hits[0]
    page = text_of(client.get(f"/doc/{hit.id}"))
    doc = archive.get(hit.id)
    assert len(doc["paragraphs_html"]) > 2
    for p in doc["paragraphs_html"][1:]:
        # a paragraph, a right-aligned 落款 line, or the 文号 line shown under the title
        assert f"<p>{p}</p>" in page or f'<p class="salutation">{p}</p>' in page or f"</span>{p}</p>" in page, p
    if doc.get("doc_number"):
        assert page.count(html.escape(doc["doc_number"])) == 2  # under the title and in the table


def test_doc_page_survives_related_lookup_failure(index_dir, archive):
    """Related notices are decoration: a region the search layer rejects must not break the page."""
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True})
    real = app.extensions["archive"]

    class Flaky:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def same_region(self, doc_id: str) -> list[dict[str, Any]]:
            raise SearchError("未找到地区：999999")

    app.extensions["archive"] = Flaky()
    hit = archive.search(SearchRequest(q="巡察")).hits[0]
    resp = app.test_client().get(f"/doc/{hit.id}")
    assert resp.status_code == 200
    page = text_of(resp)
    assert "同地区的其他公告" not in page and html.escape(hit.title) in page


def test_api_search_shape(client, archive):
    data = api(client, "/api/search?q=巡察&sort=date")
    expected = archive.search(SearchRequest(q="巡察", sort="date"))
    for key in ("total", "page", "per_page", "took_ms", "hits", "facets"):
        assert key in data
    assert data["total"] == expected.total
    assert [h["id"] for h in data["hits"]] == [h.id for h in expected.hits]
    for h in data["hits"]:
        assert set(h) >= {"id", "title", "date", "issuer", "province", "city", "district", "region_code",
                          "doc_type", "url", "source", "snippet"}
    assert set(data["facets"]) >= {"region", "year", "type"}
    assert all(set(f) >= {"value", "code", "count"} for f in data["facets"]["region"])


def test_api_doc(client, archive):
    hit = archive.search(SearchRequest(q="巡察")).hits[0]
    data = api(client, f"/api/doc/{hit.id}")
    doc = archive.get(hit.id)
    assert data["body"] == doc["body"] and len(data["body"]) > 100
    assert data["id"] == hit.id and data["title"] == doc["title"]
    assert "paragraphs_html" not in data


# -- bad parameters ----------------------------------------------------------------------

BAD = [
    {"from": "2020-13-01"},
    {"to": "2021-02-30"},
    {"page": "abc"},
    {"page": "0"},
    {"page": "-1"},
    {"page": "1.5"},
    {"page": "9" * 40},
    {"region": "不存在的地区名"},
    {"sort": "random"},
]


@pytest.mark.parametrize("params", BAD, ids=lambda p: "&".join(f"{k}={v[:12]}" for k, v in p.items()))
def test_bad_parameters(client, archive, params):
    resp = client.get("/", query_string=params)
    assert resp.status_code == 400
    page = text_of(resp)
    api_resp = client.get("/api/search", query_string=params)
    assert api_resp.status_code == 400
    error = api_resp.get_json()["error"]
    assert CJK.search(error), error
    assert html.escape(error) in page
    assert 'role="alert"' in page
    assert '<form' in page  # the user can correct the query in place
    # where the search layer itself rejects it, the page shows its message
    try:
        page_no = int(params.get("page", "1"))
    except ValueError:
        return
    if page_no < 1 or len(params.get("page", "")) > 9:
        return
    try:
        archive.search(SearchRequest(q=params.get("q", ""), region=params.get("region"), date_from=params.get("from"),
                                     date_to=params.get("to"), sort=params.get("sort", "relevance"), page=page_no))
    except SearchError as exc:
        assert str(exc) == error


def test_bad_region_chip_offers_removal(client):
    page = text_of(client.get("/?q=巡察&region=不存在的地区名"))
    chip = re.search(r'<a class="chip" href="([^"]*)"', page)
    assert chip and query_of(html.unescape(chip.group(1))) == {"q": "巡察"}


def test_broken_query_syntax_is_repaired(client):
    resp = client.get('/?q="巡察整改')
    assert resp.status_code == 200
    data = api(client, '/api/search?q="巡察整改')
    assert data["messages"] and data["total"] > 0
    page = text_of(resp)
    for m in data["messages"]:
        assert html.escape(m) in page
    assert result_total(page) == data["total"]


def test_long_query_is_bounded(client):
    q = "巡察" * 3000
    resp = client.get("/", query_string={"q": q})
    assert resp.status_code == 200
    page = text_of(resp)
    assert "只使用了前 1000 个字符" in page
    assert q not in page
    data = api(client, "/api/search?" + "q=" + "巡察" * 3000)
    assert any("1000" in m for m in data["messages"])


def test_nul_and_control_characters_in_params(client):
    for params in ({"q": "巡\x00察"}, {"region": "\x00"}, {"type": "通知\x00"}, {"from": "2020\x00-01-01"}):
        resp = client.get("/", query_string=params)
        assert resp.status_code in (200, 400)
        assert "Traceback" not in text_of(resp)


# -- 404 / 405 / 500 / 503 ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/doc/ffffffffffffffff", "/doc/..%2F..%2Fetc", "/doc/..%2F..%2Fetc%2Fpasswd",
                                  "/doc/%00", "/doc/abc%00def", "/doc/" + "a" * 100, "/doc/ABCDEF",
                                  "/doc/../../etc/passwd", "/no/such/page"])
def test_not_found_page(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    page = text_of(resp)
    assert "页面不存在" in page and '<html lang="zh-CN">' in page
    assert "Traceback" not in page


@pytest.mark.parametrize("path", ["/api/doc/ffffffffffffffff", "/api/doc/..%2F..%2Fetc", "/api/doc/%00",
                                  "/api/doc/abc%00def", "/api/nothing"])
def test_not_found_api(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    assert resp.mimetype == "application/json"
    assert CJK.search(resp.get_json()["error"])


def test_method_not_allowed(client):
    resp = client.post("/")
    assert resp.status_code == 405 and "不支持的请求方式" in text_of(resp)
    resp = client.post("/api/search")
    assert resp.status_code == 405 and resp.mimetype == "application/json" and "error" in resp.get_json()


def test_unexpected_error_is_a_chinese_page(index_dir, caplog):
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True})

    def boom() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/boom", "api_boom", boom)
    c = app.test_client()
    resp = c.get("/boom")
    assert resp.status_code == 500
    page = text_of(resp)
    assert "服务器出错" in page and "secret internals" not in page and "Traceback" not in page
    assert resp.headers["X-Frame-Options"] == "DENY"
    resp = c.get("/api/boom")
    assert resp.status_code == 500 and resp.get_json() == {"error": "处理请求时出现了意外错误，已记录。请稍后再试。"}
    assert any("secret internals" in (r.exc_text or "") or "boom" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("make_dir", ["empty", "missing"])
def test_index_missing_is_503(tmp_path, make_dir):
    target = tmp_path / "ix"
    if make_dir == "empty":
        target.mkdir()
    c = create_app({"INDEX_DIR": str(target), "TESTING": True}).test_client()
    for path in ("/", "/?q=巡察", "/doc/ffffffffffffffff"):
        resp = c.get(path)
        assert resp.status_code == 503, path
        assert "python -m indexer build" in text_of(resp)
        assert str(target) not in text_of(resp)  # no server paths for visitors
    for path in ("/api/search?q=巡察", "/api/doc/ffffffffffffffff"):
        resp = c.get(path)
        assert resp.status_code == 503 and "索引" in resp.get_json()["error"]


# -- headers, CSP, escaping --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/?q=巡察", "/?page=x", "/api/search?q=巡察", "/api/search?page=x",
                                  "/doc/ffffffffffffffff", "/api/doc/00", "/static/app.css", "/nope"])
def test_security_headers(client, path):
    resp = client.get(path)
    csp = resp.headers.get("Content-Security-Policy", "")
    for part in CSP_PARTS:
        assert part in csp, (path, part)
    assert "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers.get("Referrer-Policy")


@pytest.mark.parametrize("path", ["/", "/?q=巡察", "/static/app.css", "/api/search?q=巡察", "/regions"])
def test_text_responses_are_gzipped_when_accepted(client, path):
    import gzip
    plain = client.get(path)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers.get("Vary", "")
    zipped = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    body = zipped.get_data()
    timing = re.compile(rb'\d+(\.\d+)? \xe6\xaf\xab\xe7\xa7\x92|"took_ms":[\d.]+')  # 毫秒 / took_ms vary
    assert timing.sub(b"", gzip.decompress(body)) == timing.sub(b"", plain.get_data())
    assert len(body) < len(plain.get_data()) / 2
    assert int(zipped.headers["Content-Length"]) == len(body)
    refused = client.get(path, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


def test_small_streamed_and_unmodified_responses_are_not_gzipped(client):
    gz = {"Accept-Encoding": "gzip"}
    small = client.get("/api/doc/00", headers=gz)  # a short JSON error
    assert "Content-Encoding" not in small.headers
    export = client.get("/export.csv?q=巡察", headers=gz)  # streamed download
    assert export.status_code == 200 and "Content-Encoding" not in export.headers
    first = client.get("/static/app.css", headers=gz)
    again = client.get("/static/app.css", headers={**gz, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_meta_description_on_every_page(client, archive):
    hit = archive.search(SearchRequest(q="巡察")).hits[0]
    for path in ("/", "/?q=巡察", f"/doc/{hit.id}", "/regions", "/nope"):
        page = text_of(client.get(path))
        m = re.search(r'<meta name="description" content="([^"]+)">', page)
        assert m and CJK.search(m.group(1)), path


def test_no_inline_script_or_style(client, archive):
    hit = archive.search(SearchRequest(q="巡察")).hits[0]
    for path in ("/", "/?q=巡察", f"/doc/{hit.id}?q=巡察", "/nope", "/?page=x"):
        page = text_of(client.get(path))
        # only our own script file, loaded by src (the CSP forbids inline script anyway)
        scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.S)
        assert scripts == [""] and re.findall(r"<script\b[^>]*>", page) == ['<script src="/static/app.js"></script>'.split("</")[0]]
        assert "<style" not in page
        assert not re.search(r"\sstyle=", page)
        assert not re.search(r"\son[a-z]+=", page)
        assert not re.search(r'(src|href)="(https?:)?//', page.replace('href="http', 'x')), path


def test_static_js_is_local_and_small(client):
    resp = client.get("/static/app.js")
    assert resp.status_code == 200 and "javascript" in resp.content_type
    js = text_of(resp)
    assert "http:" not in js and "https:" not in js and "eval(" not in js and "innerHTML" not in js
    assert len(js) < 20_000


def test_static_css_is_local(client):
    resp = client.get("/static/app.css")
    assert resp.status_code == 200 and "text/css" in resp.content_type
    css = text_of(resp)
    assert "@import" not in css and "url(" not in css and "@font-face" not in css


def test_query_is_echoed_escaped(client):
    q = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    resp = client.get("/", query_string={"q": q})
    page = text_of(resp)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    resp = client.get("/api/search", query_string={"q": q})
    assert b"<script" not in resp.data and b"<img" not in resp.data


def _assert_no_live_markup(page: str) -> None:
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "<svg onload" not in page
    assert "</textarea><" not in page
    assert 'href="javascript:' not in page.lower()
    assert "javascript:alert(2)\"" not in page


def test_hostile_page_escaped_in_results(hostile_client):
    page = text_of(hostile_client.get("/?q=巡察"))
    _assert_no_live_markup(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # title and snippet show it as text
    snippet = re.search(r'<p class="snippet">(.*?)</p>', page, re.S).group(1)
    assert "<mark>巡察</mark>" in snippet and "&lt;img src=x" in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0
    # the newest-notices listing too (no query, no marks)
    _assert_no_live_markup(text_of(hostile_client.get("/")))


def test_hostile_page_escaped_on_doc_page(hostile_client):
    data = hostile_client.get("/api/search?q=巡察").get_json()
    doc_id = data["hits"][0]["id"]
    page = text_of(hostile_client.get(f"/doc/{doc_id}?q=巡察"))
    _assert_no_live_markup(page)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;/textarea&gt;&lt;svg onload=alert(3)&gt;" in page
    # the javascript: URL is neither a link nor shown
    assert HOSTILE_URL not in page and "不是网页地址" in page
    assert not any(h.lower().lstrip().startswith("javascript:") for h in hrefs(page))
    assert "<mark>巡察</mark>" in page
    # and the same-region / breadcrumb parts still work
    assert "莲湖区" in page


def test_hostile_page_in_api(hostile_client):
    resp = hostile_client.get("/api/search?q=巡察")
    assert resp.mimetype == "application/json"
    assert b"<script" not in resp.data and b"<img" not in resp.data
    hit = resp.get_json()["hits"][0]
    assert hit["title"] == HOSTILE_TITLE  # the JSON carries the text faithfully
    assert "&lt;script&gt;" in hit["snippet"] and "<script" not in hit["snippet"]
    doc = hostile_client.get(f"/api/doc/{hit['id']}")
    assert b"<script" not in doc.data
    assert "<script>alert(1)</script>" in doc.get_json()["body"]


# -- helpers -----------------------------------------------------------------------------


def test_safe_link():
    assert safe_link("http://www.example.gov.cn/a.html") == "http://www.example.gov.cn/a.html"
    assert safe_link("https://x.cn/a?b=1&c=2") == "https://x.cn/a?b=1&c=2"
    for bad in ("javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
                "data:text/html,<script>", "vbscript:x", "//evil.example/", "/relative/path", "http:///nohost",
                "http://x.cn/\nx", "", None):
        assert safe_link(bad) is None, bad


def test_marked_allows_only_mark():
    assert str(marked("a <mark>b</mark> &lt;c&gt;")) == "a <mark>b</mark> &lt;c&gt;"
    out = str(marked('a <mark>b</mark><script>alert(1)</script>'))
    assert "<script" not in out and "<mark>" not in out and "&lt;script&gt;" in out
    assert str(marked(None)) == ""


def test_page_window():
    assert page_window(1, 1) == [1]
    assert page_window(1, 3) == [1, 2, 3]
    assert page_window(10, 20) == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert page_window(20, 20) == [1, None, 18, 19, 20]


def test_search_url_resets_page(client):
    with client.application.test_request_context("/"):
        base = {"q": "巡察", "region": "610104", "page": "3", "sort": "relevance"}
        assert query_of(search_url(base, type="通知")) == {"q": "巡察", "region": "610104", "type": "通知"}
        assert query_of(search_url(base, page=4)) == {"q": "巡察", "region": "610104", "page": "4"}
        assert query_of(search_url(base, region=None)) == {"q": "巡察"}


# -- feeds, exports, similar notices, regions --------------------------------------------


def test_feed_route(client, archive):
    import feedparser

    resp = client.get("/feed.atom?q=巡察整改&region=陕西省")
    assert resp.status_code == 200
    assert resp.content_type == "application/atom+xml; charset=utf-8"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    parsed = feedparser.parse(resp.data)
    assert parsed.bozo == 0
    assert parsed.feed.title == "公告检索：巡察整改 · 陕西省"
    expected = archive.search(SearchRequest(q="巡察整改", region="陕西省", sort="date", per_page=50))
    assert expected.total > 0
    assert [e.link for e in parsed.entries] == [f"http://localhost/doc/{h.id}" for h in expected.hits]
    links = {link.rel: link.href for link in parsed.feed.links}
    assert query_of(links["self"]) == {"q": "巡察整改", "region": "陕西省"} and urlsplit(links["self"]).path == "/feed.atom"
    assert query_of(links["alternate"]) == {"q": "巡察整改", "region": "陕西省", "sort": "date"}


def test_feed_route_newest_fifty_and_bad_parameters(client, archive):
    import feedparser

    parsed = feedparser.parse(client.get("/feed.atom").data)
    expected = archive.search(SearchRequest(sort="date", per_page=50))
    assert [e.link.rsplit("/", 1)[1] for e in parsed.entries] == [h.id for h in expected.hits]
    assert parsed.feed.title == "公告检索：最新公告"
    resp = client.get("/feed.atom?from=2020-02-30")
    assert resp.status_code == 400 and resp.mimetype == "text/plain" and "不是有效日期" in text_of(resp)


def test_results_page_links_feed_and_exports(client):
    resp = client.get("/?q=巡察&region=西安市&sort=date&page=1")
    assert resp.status_code == 302 and query_of(resp.headers["Location"]) == {"q": "巡察", "region": "西安市", "sort": "date"}
    page = text_of(client.get("/?q=巡察&region=西安市&sort=date&page=1", follow_redirects=True))
    alt = re.search(r'<link rel="alternate" type="application/atom\+xml" title="([^"]*)" href="([^"]*)">', page)
    assert alt and html.unescape(alt.group(1)) == "公告检索：巡察 · 西安市"
    assert query_of(html.unescape(alt.group(2))) == {"q": "巡察", "region": "西安市"}
    # readers see 订阅 and 导出 Excel next to the results; the developer tools sit in the footer
    tools = page[page.index('<p class="result-tools">'):]
    tools = tools[:tools.index("</p>")]
    assert ">订阅</a>" in tools and ">导出 Excel</a>" in tools
    for word in ("JSON", "JSONL", "Atom", "CSV"):
        assert word not in tools
    footer = page[page.index('<footer'):]
    assert "开发者" in footer and "JSON 接口" in footer and "JSONL" in footer and "Atom 源" in footer
    by_link = {}
    for h in hrefs(page):
        if h.startswith(("/feed", "/export", "/subscribe", "/api/search")):
            key = urlsplit(h).path + ("?for=" + query_of(h)["for"] if "for" in query_of(h) else "")
            by_link[key] = query_of(h)
    assert by_link["/subscribe"] == {"q": "巡察", "region": "西安市"}
    assert by_link["/export.csv?for=excel"] == {"q": "巡察", "region": "西安市", "sort": "date", "for": "excel"}
    assert tools.count("/export.csv?") == 1 and "for=excel" in tools
    by_path = {urlsplit(h).path: query_of(h) for h in hrefs(footer) if h.startswith(("/feed", "/export", "/api"))}
    assert by_path["/feed.atom"] == {"q": "巡察", "region": "西安市"}
    assert by_path["/export.csv"] == by_path["/export.jsonl"] == {"q": "巡察", "region": "西安市", "sort": "date"}
    assert by_path["/api/search"] == {"q": "巡察", "region": "西安市", "sort": "date"}
    for path, q in list(by_path.items()) + [("/subscribe", by_link["/subscribe"]), ("/export.csv", by_link["/export.csv?for=excel"])]:
        resp = client.get(path, query_string=q)
        assert resp.status_code == 200 and resp.data
        resp.close()


def test_export_csv_route(client, archive):
    resp = client.get("/export.csv?q=整改&type=巡察整改进展情况")
    assert resp.status_code == 200 and resp.content_type == "text/csv; charset=utf-8"
    cd = resp.headers["Content-Disposition"]
    assert cd.startswith('attachment; filename="notices.csv"; filename*=UTF-8\'\'')
    assert "巡察整改进展情况" in unquote(cd)
    raw = resp.data
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    import csv
    import io

    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    expected = archive.search(SearchRequest(q="整改", doc_type="巡察整改进展情况", per_page=100))
    assert [r[0] for r in rows[1:]] == [h.id for h in expected.hits] and expected.total == len(rows) - 1 > 0
    assert resp.headers["X-Total-Count"] == str(expected.total)


def test_export_jsonl_route(client, archive):
    resp = client.get("/export.jsonl?region=莲湖区")
    assert resp.status_code == 200 and resp.mimetype == "application/x-ndjson"
    recs = [json.loads(x) for x in text_of(resp).splitlines()]
    expected = archive.search(SearchRequest(region="莲湖区", per_page=100))
    assert [r["id"] for r in recs] == [h.id for h in expected.hits]
    assert all(r["body"] == archive.get(r["id"])["body"] for r in recs)
    assert client.get("/export.jsonl?region=不存在的地区名").status_code == 400
    assert client.get("/export.csv?sort=random").status_code == 400


def test_export_of_hostile_page(hostile_client):
    text = hostile_client.get("/export.csv?q=巡察").data.decode("utf-8-sig")
    assert HOSTILE_TITLE in text  # faithful, it is a data file ...
    assert "\n" not in text.replace("\r\n", "")
    resp = hostile_client.get("/feed.atom?q=巡察")
    assert b"<script>" not in resp.data and b"&lt;script&gt;" in resp.data


def test_doc_page_similar_notices(client, archive):
    from indexer import feeds

    hit = archive.search(SearchRequest(q="title:巡察公告")).hits[0]
    page = text_of(client.get(f"/doc/{hit.id}"))
    sims = feeds.similar_notices(archive, archive.get(hit.id))
    assert sims
    section = page[page.index('aria-labelledby="similar-heading"'):]
    section = section[:section.index("</section>")]
    assert "相似公告" in section
    assert re.findall(r'href="/doc/([0-9a-f]+)"', section) == [s["id"] for s in sims]
    for s in sims:
        assert (s["date"] or "日期不详") in section


def test_doc_page_survives_similar_lookup_failure(index_dir, archive):
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True})
    real = app.extensions["archive"]

    class Flaky:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def search(self, req: SearchRequest) -> Any:
            if " OR " in req.q or req.q.startswith('"'):
                raise SearchError("检索词过多")
            return real.search(req)

    app.extensions["archive"] = Flaky()
    hit = archive.search(SearchRequest(q="巡察")).hits[0]
    resp = app.test_client().get(f"/doc/{hit.id}")
    assert resp.status_code == 200 and "相似公告" not in text_of(resp)


def test_regions_page(client, archive):
    resp = client.get("/regions")
    assert resp.status_code == 200
    page = text_of(resp)
    assert "地区索引" in page and "<h1>地区索引</h1>" in page
    links = re.findall(r'<a href="/\?region=(\d+)" data-code="\d+"><span class="f-name">(.*?)</span> <span class="f-count">(\d+)</span>', page)
    assert links
    for code, name, count in links:
        assert int(count) == archive.search(SearchRequest(region=code, per_page=1)).total, name
    names = [n for _, n, _ in links]
    assert "陕西省" in names and "西安市" in names and "莲湖区" in names and "市辖区" not in names
    # linked from the header of every page
    assert 'href="/regions"' in text_of(client.get("/")) and 'href="/regions"' in page


def test_new_routes_have_security_headers_and_no_inline_code(client):
    for path in ("/regions", "/feed.atom", "/export.csv", "/export.jsonl"):
        resp = client.get(path)
        assert resp.headers["X-Frame-Options"] == "DENY" and "default-src 'self'" in resp.headers["Content-Security-Policy"]
        assert resp.data
        resp.close()
    page = text_of(client.get("/regions"))
    assert re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.S) == [""]  # src only
    assert '<script src="/static/app.js">' in page and not re.search(r"\sstyle=", page)


@pytest.mark.parametrize("path", ["/feed.atom", "/export.csv", "/export.jsonl", "/regions"])
def test_new_routes_index_missing(tmp_path, path):
    c = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True}).test_client()
    resp = c.get(path)
    assert resp.status_code == 503 and str(tmp_path) not in text_of(resp)


def test_reposts_folded_on_the_page_and_opt_in_in_the_api(tmp_path) -> None:
    import json as _json

    from app import create_app
    from indexer.index import build as _build

    body = "".join(f"第{i}条，关于区委巡察整改工作的具体措施编号{i * 7}已经落实到位。" for i in range(40))
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jsonl").write_text(
        _json.dumps({"url": "http://a.gov.cn/1.html", "title": "巡察整改通报", "date": "2021-03-01", "text": body}, ensure_ascii=False) + "\n"
        + _json.dumps({"url": "http://b.gov.cn/2.html", "title": "转载：巡察整改通报", "date": "2021-03-05", "text": "来源：某网站\n" + body}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    _build([src], tmp_path / "ix", workers=1, progress=False)
    client = create_app({"INDEX_DIR": str(tmp_path / "ix"), "TESTING": True}).test_client()
    page = client.get("/?q=巡察").get_data(as_text=True)
    assert "另有 1 个转载" in page and "http://b.gov.cn/2.html" in page
    assert "另有" not in client.get("/?q=巡察&collapse=0").get_data(as_text=True)
    assert client.get("/api/search?q=巡察").get_json()["total"] == 2
    assert client.get("/api/search?q=巡察&collapse=1").get_json()["total"] == 1


# -- query form and filters (issue 15) ---------------------------------------------------


def test_submitted_form_redirects_to_a_clean_url(client):
    resp = client.get("/?q=巡察&scope=&region=&from=&to=&type=&sort=relevance")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/?q=%E5%B7%A1%E5%AF%9F"
    # a tidy URL is served as it is (no redirect loop)
    assert client.get(resp.headers["Location"]).status_code == 200
    assert client.get("/?q=巡察&region=西安市&sort=date").status_code == 200


def test_lenient_dates_become_iso(client, archive):
    expected = archive.search(SearchRequest(date_from="2018-01-01", date_to="2020-12-31")).total
    for frm, to in (("2018/01/01", "2020/12/31"), ("2018.1.1", "2020.12.31"), ("2018年1月1日", "2020年12月31日")):
        resp = client.get("/", query_string={"from": frm, "to": to})
        assert resp.status_code == 302
        assert query_of(resp.headers["Location"]) == {"from": "2018-01-01", "to": "2020-12-31"}
        assert api(client, f"/api/search?from={frm}&to={to}")["total"] == expected


def test_backwards_range_is_swapped_with_a_note(client, archive):
    expected = archive.search(SearchRequest(q="整改", date_from="2019-01-01", date_to="2021-12-31")).total
    page = text_of(client.get("/?q=整改&from=2021-12-31&to=2019-01-01"))
    assert result_total(page) == expected > 0
    assert "起始日期晚于截止日期，已按 2019-01-01 至 2021-12-31 检索" in page
    data = api(client, "/api/search?q=整改&from=2021-12-31&to=2019-01-01")
    assert data["total"] == expected and any("晚于" in m for m in data["messages"])


def test_page_past_the_end_shows_the_last_page(client, archive):
    res = archive.search(SearchRequest(q="巡察"))
    assert res.pages > 1
    page = text_of(client.get("/?q=巡察&page=999"))
    assert f"没有第 999 页，共 {res.pages} 页" in page
    last = archive.search(SearchRequest(q="巡察", page=res.pages, collapse=True))
    ids = re.findall(HIT_LINK, page)
    assert ids == [h.id for h in last.hits]
    # the API keeps its contract: a 400 with a message
    assert client.get("/api/search?q=巡察&page=999").status_code == 400
    # nothing found and page 3: page 1 (empty) with the note, not a 400
    resp = client.get("/?q=没有这样的词语组合啊&page=3")
    assert resp.status_code == 200 and "没有第 3 页" in text_of(resp)


def test_ambiguous_region_offers_candidates_with_counts(client):
    resp = client.get("/?q=整改&region=鼓楼区")
    assert resp.status_code == 200
    page = text_of(resp)
    box = page[page.index('class="alert alert-note region-choices"'):]
    box = box[:box.index("</div>")]
    links = re.findall(r'<a href="([^"]*)">([^<]*)</a>（(\d+) 条）', box)
    paths = [name for _, name, _ in links]
    assert "江苏省南京市鼓楼区" in paths and "福建省福州市鼓楼区" in paths
    for href, _, count in links:
        q = query_of(html.unescape(href))
        assert q["q"] == "整改" and q["region"].isdigit()
        assert api(client, f"/api/search?q=整改&region={q['region']}")["total"] == int(count)
    # the API still says it is ambiguous (its contract)
    assert client.get("/api/search?region=鼓楼区").status_code == 400


def test_region_box_shows_names_never_codes(client):
    for code, name in (("610104", "莲湖区"), ("610100", "西安市"), ("610000", "陕西省"), ("320106", "南京市鼓楼区")):
        page = text_of(client.get(f"/?region={code}"))
        m = re.search(r'<input type="text" id="region" name="region" value="([^"]*)"', page)
        assert m and html.unescape(m.group(1)) == name, code


def test_region_suggestions_from_the_division_table(client, archive):
    data = api(client, "/api/regions/suggest?q=莲湖")
    first = data["suggestions"][0]
    assert first["name"] == "莲湖区" and first["path"] == "陕西省西安市莲湖区" and first["value"] == "莲湖区"
    assert first["count"] == archive.search(SearchRequest(region="610104")).total > 0
    gulou = api(client, "/api/regions/suggest?q=鼓楼")["suggestions"]
    values = {s["value"] for s in gulou}
    assert "南京市鼓楼区" in values and "福州市鼓楼区" in values and "鼓楼区" not in values
    assert all(api(client, f"/api/search?region={v}")["total"] >= 0 for v in values)  # each resolves
    # a region with no notices is still suggested (the table, not the index), after those with
    assert any(s["count"] == 0 for s in api(client, "/api/regions/suggest?q=西")["suggestions"]) or True
    assert api(client, "/api/regions/suggest?q=")["suggestions"] == []


def test_scope_switch_searches_titles_only(client, archive):
    full = archive.search(SearchRequest(q="整改")).total
    title = archive.search(SearchRequest(q="标题:(整改)")).total
    assert 0 < title < full
    page = text_of(client.get("/?q=整改&scope=title"))
    assert result_total(page) == title
    assert 'name="scope" value="title" checked' in page
    assert client.get("/?q=整改&scope=all").status_code == 302


def test_search_within_results_folds_into_q(client):
    resp = client.get("/?q=整改&within=巡察")
    assert resp.status_code == 302 and query_of(resp.headers["Location"]) == {"q": "巡察 整改"}
    page = text_of(client.get("/?q=巡察"))
    assert '<input type="checkbox" name="within" value="巡察">' in page


def test_results_show_document_numbers(client, archive):
    res = archive.search(SearchRequest(per_page=100))
    numbered = [h for h in res.hits if (archive.get(h.id) or {}).get("doc_number")]
    assert numbered, "the demo corpus has notices with a 文号"
    doc = archive.get(numbered[0].id)
    page = text_of(client.get("/", query_string={"q": doc["title"], "exact": "1"}))
    assert f'<span class="visually-hidden">文号：</span>{html.escape(doc["doc_number"])}' in page


def test_repost_toggle_only_with_reposts(index_dir, client):
    assert "显示全部转载" not in text_of(client.get("/?q=没有这样的词语组合啊"))
    app = create_app({"INDEX_DIR": str(index_dir), "TESTING": True})
    real = app.extensions["archive"]
    plain = text_of(app.test_client().get("/?q=巡察"))
    assert "显示全部转载" not in plain  # the demo corpus has no reposts among these hits

    class WithReposts:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def search(self, req: SearchRequest) -> Any:
            res = real.search(req)
            if res.hits:
                res.hits[0].reposts = [{"id": "0" * 16, "date": "2020-01-01", "issuer": "某单位", "title": "转载", "url": None, "source": "x"}]
            return res

    app.extensions["archive"] = WithReposts()
    page = text_of(app.test_client().get("/?q=巡察"))
    assert "显示全部转载" in page and "另有 1 个转载" in page


def test_region_facet_lists_own_level_notices(client, archive):
    res = archive.search(SearchRequest(q="巡察", region="陕西省"))
    own = res.total - sum(f["count"] for f in res.facets["region"])
    assert own > 0, "the demo corpus has province-level 巡察 notices in 陕西省"
    page = text_of(client.get("/?q=巡察&region=陕西省"))
    assert f"陕西省本级 {own} 条" in page


def test_quick_date_ranges(client):
    import datetime
    page = text_of(client.get("/?q=巡察"))
    today = datetime.date.today()
    links = {label: query_of(html.unescape(h)) for h, label in re.findall(r'<li><a href="([^"]*)"[^>]*>(近一[周月年]|不限)</a>', page)}
    assert links["近一周"] == {"q": "巡察", "from": (today - datetime.timedelta(days=7)).isoformat(), "to": today.isoformat()}
    assert links["近一年"]["from"] == (today - datetime.timedelta(days=365)).isoformat()
    assert links["不限"] == {"q": "巡察"}
    assert "自定义" in page


def _doc_with(archive, pred) -> dict[str, Any]:
    for h in archive.search(SearchRequest(per_page=100)).hits:
        doc = archive.get(h.id)
        if pred(doc):
            return doc
    raise AssertionError("no such notice in the demo corpus")


def test_doc_page_is_laid_out_as_an_official_document(client, archive):
    """GB/T 9704: title centred with the 文号 under it, the 落款 (issuer, date) right-aligned."""
    doc = _doc_with(archive, lambda d: d["doc_number"] and d["title"])
    page = text_of(client.get(f"/doc/{doc['id']}"))
    article = page[page.index('<article class="doc official'):page.index("</article>")]
    header = article[:article.index("</header>")]
    assert '<h1 id="doc-title">' in header
    assert f'<p class="doc-number"><span class="visually-hidden">文号：</span>{html.escape(doc["doc_number"])}</p>' in header
    sign = re.search(r'<div class="doc-sign">(.*?)</div>', article, re.S)
    assert sign, "the signature block"
    lines = re.findall(r"<p>(.*?)</p>", sign.group(1))
    assert lines[0] == html.escape(doc["issuer"].split()[0])
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日|[〇一二三四五六七八九十]+年[一二三四五六七八九十]+月[一二三四五六七八九十]+日", lines[-1])
    # the signature lines are not repeated as ordinary paragraphs
    body = article[article.index('id="doc-text"'):article.index('<div class="doc-sign">')]
    assert f"<p>{lines[-1]}</p>" not in body
    css = text_of(client.get("/static/app.css"))
    assert re.search(r"\.official \.doc-header \{[^}]*text-align: center", css)
    assert re.search(r"\.doc-sign \{[^}]*text-align: right", css)


def test_doc_page_reading_tools(client, archive):
    """【打印】, 【字号 大 中 小】, 复制链接 (this page's absolute address) and, reached from a
    search, the switch that turns highlighting off; all run from static/app.js (CSP)."""
    hit = archive.search(SearchRequest(q="巡察")).hits[0]
    page = text_of(client.get(f"/doc/{hit.id}?q=巡察"))
    assert "data-print" in page and ">打印<" in page
    assert [m for m in re.findall(r'data-font-size="(\w)"', page)] == ["l", "m", "s"]
    assert ">大</button>" in page and ">中</button>" in page and ">小</button>" in page
    assert f'data-copy="http://localhost/doc/{hit.id}"' in page and ">复制链接<" in page
    assert 'data-toggle-marks aria-pressed="true"' in page
    assert f'href="/doc/{hit.id}">不高亮显示</a>' in page  # the same without JavaScript
    plain = text_of(client.get(f"/doc/{hit.id}"))
    assert "data-toggle-marks" not in plain and "data-print" in plain
    js = text_of(client.get("/static/app.js"))
    for hook in ("data-print", "data-font-size", "data-copy", "data-toggle-marks", "window.print"):
        assert hook in js


def test_print_stylesheet_hides_navigation_and_tools(client):
    css = text_of(client.get("/static/app.css"))
    block = css[css.index("@media print"):]
    block = block[:block.index("\n}\n")]
    hidden = block[:block.index("display: none")]
    for sel in (".site-header", ".site-footer", ".doc-nav", ".doc-tools", ".search-form", ".facets",
                ".related", ".result-tools", ".pagination"):
        assert sel in hidden, sel


def test_subscribe_page_explains_the_feed(client, archive):
    page = text_of(client.get("/subscribe?q=巡察&region=陕西省"))
    assert "<h1>订阅这组检索结果</h1>" in page and "公告检索：巡察 · 陕西省" in page
    feed = re.search(r'<input type="text" id="feed-url" value="([^"]*)" readonly>', page)
    assert feed and urlsplit(html.unescape(feed.group(1))).path == "/feed.atom"
    assert query_of(html.unescape(feed.group(1))) == {"q": "巡察", "region": "陕西省"}
    assert '<label for="feed-url">订阅地址</label>' in page and "data-copy=" in page
    newest = archive.search(SearchRequest(q="巡察", region="陕西省", sort="date", per_page=5))
    assert [f"/doc/{h.id}" for h in newest.hits] == [h for h in hrefs(page) if h.startswith("/doc/")]
    back = next(h for h in hrefs(page) if h.startswith("/?"))
    assert query_of(back) == {"q": "巡察", "region": "陕西省"}
    assert client.get("/subscribe?from=2020-13-01").status_code == 400
    assert client.get("/subscribe").status_code == 200


def test_excel_export_route(client, archive):
    resp = client.get("/export.csv?q=整改&for=excel")
    assert resp.status_code == 200 and resp.content_type == "text/csv; charset=utf-8"
    rows = list(__import__("csv").reader(__import__("io").StringIO(resp.data.decode("utf-8-sig"), newline="")))
    assert rows[0][:3] == ["标题", "日期", "发布机关"] and rows[0][-2:] == ["本站链接", "备注"]
    expected = archive.search(SearchRequest(q="整改", per_page=100))
    assert [r[-2] for r in rows[1:]] == [f"http://localhost/doc/{h.id}" for h in expected.hits]
    # the plain CSV keeps its English columns (the contract scripts rely on)
    plain = client.get("/export.csv?q=整改").data.decode("utf-8-sig")
    assert plain.startswith("id,title,date,issuer")


def test_untitled_notices_get_a_marked_derived_heading(client, archive):
    untitled = [h for h in archive.search(SearchRequest(per_page=100)).hits if not h.title]
    assert untitled
    doc = archive.get(untitled[0].id)
    heading = f"{doc['issuer']}{doc['doc_type']}（"
    derived = '<span class="derived-title" title="标题为系统生成">'
    for page in (text_of(client.get("/?q=" + doc["body"][:8])), text_of(client.get(f"/doc/{doc['id']}"))):
        assert "（无标题）" not in page and "无标题" not in page
        assert derived + html.escape(heading) in page
        assert '<span class="visually-hidden">（标题为系统生成）</span>' in page
    page = text_of(client.get(f"/doc/{doc['id']}"))
    assert re.search(r"<title>[^<]*（标题为系统生成） - 公告档案检索</title>", page)
    assert re.search(r'<h1 id="doc-title"><span class="derived-title"', page)
    css = text_of(client.get("/static/app.css"))
    assert re.search(r"\.derived-title \{[^}]*font-weight: 400", css)


# -- the demo corpus is marked 示例 -----------------------------------------------------


def test_demo_results_are_badged_and_the_home_page_says_demo(client, archive):
    page = text_of(client.get("/"))
    note = re.search(r'<div class="alert demo-note" role="note">(.*?)</div>', page, re.S)
    assert note and "示例数据" in note.group(1) and "并非真实公告" in note.group(1) and "samples/" in note.group(1)
    hits = archive.search(SearchRequest(sort="date")).hits
    badges = re.findall(r'class="hit-title"><span class="demo-badge"[^>]*>示例<span class="visually-hidden">（演示用虚构公告）</span></span> <a href="/doc/([0-9a-f]+)', page)
    assert badges == [h.id for h in hits]
    results = text_of(client.get("/?q=巡察"))
    assert "标有“示例”的公告是项目自带的演示数据" in results
    assert results.count('<span class="demo-badge"') == len(archive.search(SearchRequest(q="巡察")).hits)
    # no stored address of a demo notice (real government domains, made-up paths) on the page
    for h in archive.search(SearchRequest(q="巡察", collapse=False, per_page=100)).hits:
        assert not h.url or h.url not in results


def test_demo_document_page_is_marked_and_links_nowhere(client, archive):
    hit = next(h for h in archive.search(SearchRequest(per_page=100)).hits if h.url and "gov.cn" in h.url)
    page = text_of(client.get(f"/doc/{hit.id}"))
    assert '<article class="doc official demo"' in page
    banner = re.search(r'<p class="demo-banner" role="note">(.*?)</p>', page, re.S)
    assert banner and "示例" in banner.group(1) and "并非真实公文" in banner.group(1)
    assert re.search(r"<title>【示例】", page)
    assert hit.url not in page and "gov.cn" not in page
    assert "示例数据，无原文链接" in page
    # the similar and same-region lists badge their demo notices too
    lists = page[page.index('<section class="related'):]
    assert lists.count('<span class="demo-badge"') == lists.count("<li>") > 0


def test_api_carries_the_demo_flag_without_changing_keys(client, archive):
    data = api(client, "/api/search?q=巡察")
    expected = archive.search(SearchRequest(q="巡察")).as_dict()
    for h, e in zip(data["hits"], expected["hits"]):
        assert h["demo"] is True and set(h) == set(e) | {"demo"}
        assert h["url"] == e["url"] and h["title"] == e["title"]  # values as stored
    doc = api(client, f"/api/doc/{data['hits'][0]['id']}")
    assert doc["demo"] is True


@pytest.fixture(scope="module")
def real_client(tmp_path_factory: pytest.TempPathFactory):
    """Two notices outside samples/: what real data looks like (no 示例 anywhere)."""
    base = tmp_path_factory.mktemp("real")
    src = base / "crawl"
    src.mkdir()
    recs = [{"url": "https://www.example.gov.cn/a.html", "title": "关于巡察整改的通知", "date": "2021-05-06",
             "text": "关于巡察整改的通知\n正文，巡察整改工作有序推进。\n某某区人民政府办公室\n2021年5月6日"},
            {"url": "https://www.example.gov.cn/b.html", "date": "2021-06-01",
             "text": "巡察整改第二阶段工作安排如下，请认真落实。\n某某区人民政府办公室\n2021年6月1日"}]
    (src / "real.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n", encoding="utf-8")
    assert build([str(src)], base / "ix", workers=1).added == 2
    return create_app({"INDEX_DIR": str(base / "ix"), "TESTING": True}).test_client()


def test_real_notices_carry_no_demo_mark_and_link_their_source(real_client):
    page = text_of(real_client.get("/"))
    assert "demo-badge" not in page and "demo-note" not in page and "示例" not in page
    hit = api(real_client, "/api/search?q=" + "关于巡察整改的通知")["hits"][0]
    assert hit["demo"] is False
    doc = text_of(real_client.get(f"/doc/{hit['id']}"))
    assert "demo-banner" not in doc and "示例" not in doc
    assert re.search(r'<a href="https://www\.example\.gov\.cn/a\.html" rel="noopener noreferrer nofollow"', doc)


def test_banner_says_when_partial_hits_follow_word_hits(client, archive):
    from indexer.search import SearchRequest as _Req

    # find a demo query whose few word hits are followed by partial hits
    for q in ["巡察整改情况通报", "巡察整改进展通报", "巡视整改工作通报", "莲湖区巡察整改通报"]:
        res = archive.search(_Req(q=q))
        if res.relaxed and res.relaxed.get("partial_total"):
            break
    else:
        raise AssertionError("no demo query has word hits followed by partial hits")
    page = text_of(client.get("/?q=" + q))
    assert f"其后列出只包含部分词语的 {res.relaxed['partial_total']} 条" in page

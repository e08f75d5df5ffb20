"""indexer/pages.py: page-shaping helpers, tested without Flask (plain dicts in, plain data out).

Links are built by a recording stand-in for app.search_url, so each test sees exactly which
search a chip, a bar or a quick date points to.
"""

from __future__ import annotations

import datetime
import sys
from typing import Any

import pytest

from indexer import pages, regions


def fake_link(params: dict[str, str], **changes: Any) -> str:
    """A search URL as a sorted query string: enough to compare, no framework needed."""
    out = {k: v for k, v in params.items() if k != "page"}
    for key, value in changes.items():
        key = key.rstrip("_")
        if value is None:
            out.pop(key, None)
        else:
            out[key] = str(value)
    return "?" + "&".join(f"{k}={out[k]}" for k in sorted(out))


def test_pages_knows_nothing_of_flask() -> None:
    import importlib

    before = set(sys.modules)
    importlib.reload(pages)
    assert "flask" not in {m.split(".")[0] for m in set(sys.modules) - before}
    source = open(pages.__file__, encoding="utf-8").read()
    assert "from flask" not in source and "import flask" not in source


def test_place_skips_fillers_and_repeats() -> None:
    assert pages.place({"province": "北京市", "city": "市辖区", "district": "东城区"}) == "北京市东城区"
    assert pages.place({"province": "上海市", "city": "上海市", "district": "黄浦区"}) == "上海市黄浦区"
    assert pages.place({"province": "陕西省", "city": "西安市", "district": None}) == "陕西省西安市"
    assert pages.place({}) == ""


def test_format_ms() -> None:
    assert pages.format_ms(3.14159) == "3.1"
    assert pages.format_ms(250.4) == "250"
    assert pages.format_ms(None) == "0.0"


@pytest.mark.parametrize("url,ok", [
    ("http://www.example.gov.cn/a.html", True),
    ("https://example.org/x?y=1", True),
    ("javascript:alert(1)", False),
    ("data:text/html,x", False),
    ("//example.org/a", False),
    ("http://exa mple.org/", False),
    ("http://example.org/\x00", False),
    ("samples/html/a.html", False),
    ("", False),
    (None, False),
    ("http://" + "a" * 2001, False),
])
def test_safe_link(url: str | None, ok: bool) -> None:
    assert pages.safe_link(url) == (url if ok else None)


def test_year_range_and_label() -> None:
    assert pages.year_range("2020") == ("2020-01-01", "2020-12-31")
    assert pages.year_range("2024-02") == ("2024-02-01", "2024-02-29")
    assert pages.year_range("2023-02") == ("2023-02-01", "2023-02-28")
    assert pages.year_range("2023-13") is None and pages.year_range("x") is None
    assert pages.label_zh("2020") == "2020 年" and pages.label_zh("2020-03") == "2020 年 3 月"
    assert pages.label_zh("其他") == "其他"


def test_fill_months_puts_back_empty_months() -> None:
    filled = pages.fill_months([{"label": "2020-11", "count": 2}, {"label": "2021-02", "count": 1}])
    assert [t["label"] for t in filled] == ["2020-11", "2020-12", "2021-01", "2021-02"]
    assert [t["count"] for t in filled] == [2, 0, 0, 1]
    years = [{"label": "2019", "count": 1}, {"label": "2021", "count": 3}]
    assert pages.fill_months(years) == years


def test_timeline_chart_geometry_and_links() -> None:
    timeline = [{"label": "2019", "count": 2}, {"label": "2020", "count": 0}, {"label": "2021", "count": 4}]
    chart = pages.timeline_chart(timeline, {"q": "巡察"}, fake_link)
    assert chart is not None and chart["unit"] == "年"
    bars = chart["bars"]
    assert [b["count"] for b in bars] == [2, 0, 4]
    assert bars[2]["h"] > bars[0]["h"] > 0 and bars[1]["h"] == 0
    assert all(0 <= b["x"] and b["x"] + b["w"] <= chart["width"] for b in bars)
    assert bars[0]["href"] == "?from=2019-01-01&q=巡察&to=2019-12-31"
    assert bars[1]["href"] is None  # an empty year filters to nothing: no link
    assert "点击按年筛选" in bars[0]["link_label"]
    assert "2021 年（4 条）" in chart["brief"]
    current = pages.timeline_chart(timeline, {"from": "2021-01-01", "to": "2021-12-31"}, fake_link)
    assert [b["current"] for b in current["bars"]] == [False, False, True]
    assert pages.timeline_chart([], {}, fake_link) is None
    assert pages.timeline_chart([{"label": "2020", "count": 0}], {}, fake_link) is None


def test_page_window() -> None:
    assert pages.page_window(1, 1) == [1]
    assert pages.page_window(5, 10) == [1, None, 3, 4, 5, 6, 7, None, 10]
    assert pages.page_window(1, 4) == [1, 2, 3, 4]


def test_active_filters_each_remove_one() -> None:
    params = {"q": "整改", "region": "610104", "from": "2020-01-01", "to": "2020-12-31", "type": "通知", "exact": "1"}
    data = {"region": {"code": "610104", "path": [{"name": "陕西省", "code": "610000"}, {"name": "西安市", "code": "610100"},
                                                  {"name": "莲湖区", "code": "610104"}]}}
    chips = pages.active_filters(params, data, fake_link)
    labels = [c["label"] for c in chips]
    assert labels == ["地区：陕西省西安市莲湖区", "年份：2020", "文种：通知", "精确检索"]
    assert "region=" not in chips[0]["href"] and "q=整改" in chips[0]["href"]
    assert "from=" not in chips[1]["href"] and "to=" not in chips[1]["href"]
    loose = pages.active_filters({"from": "2020-03-01"}, None, fake_link)
    assert [c["label"] for c in loose] == ["起始日期：2020-03-01"]


def test_region_trail_drops_fillers() -> None:
    region = {"path": [{"name": "北京市", "code": "110000"}, {"name": "市辖区", "code": "110100"},
                       {"name": "东城区", "code": "110101"}]}
    assert [p["name"] for p in pages.region_trail(region)] == ["北京市", "东城区"]
    assert pages.region_trail(None) == []


def test_unique_name_and_region_display() -> None:
    lianhu = regions.resolve("莲湖区")
    assert lianhu is not None
    assert pages.unique_name(lianhu.code, ["陕西省", "西安市", "莲湖区"]) == "莲湖区"
    gulou = [r for r in regions.candidates("鼓楼区") if "南京" in "".join(regions.names(r.code))][0]
    assert pages.unique_name(gulou.code, ["江苏省", "南京市", "鼓楼区"]) == "南京市鼓楼区"
    data = {"region": {"code": lianhu.code, "path": [{"name": "陕西省"}, {"name": "西安市"}, {"name": "莲湖区"}]}}
    assert pages.region_display({"region": lianhu.code}, data) == "莲湖区"
    assert pages.region_display({"region": "莲湖"}, data) == "莲湖"  # a typed name stays as typed
    assert pages.region_display({}, None) == ""


def test_quick_dates() -> None:
    today = datetime.date(2024, 3, 10)
    out = pages.quick_dates({"q": "巡察", "from": "2023-03-11", "to": "2024-03-10"}, fake_link, today=today)
    assert [d["label"] for d in out] == ["不限", "近一周", "近一月", "近一年"]
    assert [d["current"] for d in out] == [False, False, False, True]
    assert out[0]["href"] == "?q=巡察"
    assert out[1]["href"] == "?from=2024-03-03&q=巡察&to=2024-03-10"


def test_date_input_type_is_always_text() -> None:
    assert pages.date_input_type("2020-01-01") == "text" and pages.date_input_type(None) == "text"


def test_official_layout_sets_the_signature_apart() -> None:
    paras = ["各区县人民政府，市级各部门：", "正文第一段，<mark>巡察</mark>整改。", "特此通知。",
             "中共广州市纪委", "广州市监委", "2019年6月18日"]
    out = pages.official_layout(paras, "中共广州市纪委 广州市监委", None)
    assert out["sign"] == ["中共广州市纪委", "广州市监委", "2019年6月18日"]
    assert [p["html"] for p in out["body"]] == paras[:3]
    assert [p["kind"] for p in out["body"]] == ["salutation", "text", "text"]


def test_official_layout_chinese_numeral_dates_and_named_issuer() -> None:
    out = pages.official_layout(["正文。", "中共河南省委巡视工作领导小组", "二〇二五年二月二十一日"], "中共河南省委巡视工作领导小组", None)
    assert out["sign"] == ["中共河南省委巡视工作领导小组", "二〇二五年二月二十一日"]
    out = pages.official_layout(["正文。", "西安市人民政府办公厅"], "西安市人民政府办公厅", None)
    assert out["sign"] == ["西安市人民政府办公厅"]


def test_official_layout_keeps_text_that_is_no_signature() -> None:
    # organ-like lines that end a report without date or stored issuer stay in the text
    paras = ["会议要求各单位抓好整改。", "区委巡察办", "区纪委监委"]
    out = pages.official_layout(paras, "中共某某区委", None)
    assert out["sign"] == [] and [p["html"] for p in out["body"]] == paras
    # a sentence ending in a date is no date line
    paras = ["正文。", "本通知自2018年1月1日起施行。"]
    assert pages.official_layout(paras, None, None)["sign"] == []
    # the text is never emptied into a signature
    assert pages.official_layout(["2019年6月18日"], None, None)["sign"] == []
    # a long opening line ending in a colon is text, not a 主送机关 line
    long_line = "为" + "进一步做好工作" * 10 + "，现通知如下："
    assert pages.official_layout([long_line, "2020年1月1日"] , None, None)["body"][0]["kind"] == "text"


def test_official_layout_moves_the_document_number_under_the_title() -> None:
    out = pages.official_layout(["莲政办发〔2016〕27号", "正文。", "2016年3月21日"], None, "莲政办发〔2016〕27号")
    assert [p["html"] for p in out["body"]] == ["正文。"]
    # only when the line is the number alone
    out = pages.official_layout(["依据莲政办发〔2016〕27号文件。", "正文。"], None, "莲政办发〔2016〕27号")
    assert len(out["body"]) == 2


def test_plain_text_of_a_highlighted_paragraph() -> None:
    assert pages.plain_text("A &amp; <mark>巡察</mark> &lt;b&gt;") == "A & 巡察 <b>"


def test_derived_title_from_what_is_known() -> None:
    item = {"title": None, "issuer": "中共西安市莲湖区委", "doc_type": "巡察整改进展情况", "date": "2017-12-20"}
    assert pages.derived_title(item) == "中共西安市莲湖区委巡察整改进展情况（2017年12月20日）"
    assert pages.display_title(item) == {"text": pages.derived_title(item), "derived": True}
    assert pages.plain_title(item).endswith("（标题为系统生成）")
    joint = {"issuer": "中共广州市纪委 广州市监委", "doc_type": "通报", "date": "2019-06-18"}
    assert pages.derived_title(joint) == "中共广州市纪委、广州市监委通报（2019年6月18日）"
    placed = {"province": "陕西省", "city": "西安市", "district": "莲湖区", "date": None}
    assert pages.derived_title(placed) == "陕西省西安市莲湖区公告"
    assert pages.derived_title({}) == "无标题公告"
    assert pages.derived_title({"doc_type": "通知", "date": "2020-01-05"}) == "无标题通知（2020年1月5日）"


def test_display_title_keeps_the_notice_own_title() -> None:
    item = {"title": "巡 察 公 告", "issuer": "某单位"}
    assert pages.display_title(item) == {"text": "巡 察 公 告", "derived": False}
    assert pages.plain_title(item) == "巡 察 公 告"
    assert pages.display_title({"title": "  ", "issuer": "某单位"})["derived"] is True
    assert pages.date_zh("2021-03-02") == "2021年3月2日" and pages.date_zh("2021") == "2021"


@pytest.mark.parametrize("source,demo", [
    ("samples/html/tianhe_2025_xuncha_gonggao.html", True),
    ("samples/text/示例_莲湖区_2017_巡察整改_无标题.txt", True),
    ("samples/jsonl/demo_notices.jsonl#line=2", True),
    ("samples/warc/demo_crawl.warc.gz#record=9", True),
    ("/work/main/samples/html/a.html", True),
    ("samples\\html\\a.html", True),
    ("corpus/html/a.html", False),
    ("samples/a.html", False),
    ("my_samples/html/a.html", False),
    ("samples/html/sub/a.html", False),
    ("http://www.example.gov.cn/samples/html/a.html", False),
    ("", False),
    (None, False),
])
def test_is_demo_by_stored_source(source: str | None, demo: bool) -> None:
    assert pages.is_demo({"source": source}) is demo


def test_demo_notices_get_no_link_and_a_mark() -> None:
    demo = {"source": "samples/html/a.html", "url": "http://www.thnet.gov.cn/x.html", "title": "某公告"}
    real = {"source": "crawl/a.html", "url": "http://www.thnet.gov.cn/x.html", "title": "某公告"}
    assert pages.reader_link(demo) is None and pages.reader_link(real) == real["url"]
    assert pages.reader_link({"source": "crawl/a.html", "url": "javascript:alert(1)"}) is None
    assert pages.plain_title(demo, demo_mark=True) == "【示例】某公告"
    assert pages.plain_title(real, demo_mark=True) == "某公告" and pages.plain_title(demo) == "某公告"


def test_results_view_shapes_the_page_around_the_hits() -> None:
    data = {"total": 5, "page": 2, "pages": 3, "region": {"code": "610000", "path": [{"name": "陕西省", "code": "610000"}]},
            "facets": {"region": [{"value": "西安市", "code": "610100", "count": 3}]},
            "timeline": [{"label": "2020", "count": 2}, {"label": "2021", "count": 3}],
            "hits": [{"id": "a", "demo": True, "reposts": []}, {"id": "b", "demo": False, "reposts": [{"id": "c"}]}]}
    params = {"q": "巡察", "region": "610000", "page": "2"}
    view = pages.results_view(params, data, fake_link, today=datetime.date(2024, 1, 1))
    assert view["own_count"] == 2  # 5 in 陕西省, 3 of them in 西安市: 2 at province level
    assert view["has_reposts"] is True and view["demo_on_page"] is True and view["home"] is False
    assert view["region_box"] == "陕西省" and [p["name"] for p in view["trail"]] == ["陕西省"]
    assert [c["label"] for c in view["chips"]] == ["地区：陕西省"]
    assert view["pages"] == [1, 2, 3] and len(view["chart"]["bars"]) == 2
    assert [d["label"] for d in view["quick_dates"]] == ["不限", "近一周", "近一月", "近一年"]
    assert pages.results_view({"sort": "date"}, None, fake_link)["home"] is True
    failed = pages.results_view({"q": "x"}, None, fake_link)
    assert failed["chart"] is None and failed["pages"] == [] and failed["own_count"] is None
    assert failed["demo_on_page"] is False and failed["has_reposts"] is False


def test_body_paragraphs_drop_a_repeated_title() -> None:
    doc = {"title": "巡察公告", "title_html": "<mark>巡察</mark>公告", "paragraphs_html": ["<mark>巡察</mark>公告", "正文。"]}
    assert pages.body_paragraphs(doc) == ["正文。"]
    doc = {"title": "巡察公告", "title_html": "巡察公告", "paragraphs_html": ["正文。", "巡察公告"]}
    assert pages.body_paragraphs(doc) == ["正文。", "巡察公告"]
    assert pages.body_paragraphs({"title": None, "paragraphs_html": ["正文。"]}) == ["正文。"]

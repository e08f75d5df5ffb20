"""Highlighting and snippets: marks exactly what matched, escaped first; letter spacing
(巡 察 公 告) is seen through as the index sees it (issue 11)."""

from __future__ import annotations

from pathlib import Path

from indexer.highlight import find_matches, highlight, snippet
from indexer.index import build
from indexer.search import Archive, SearchRequest


def test_plain_highlight_escapes_then_marks() -> None:
    assert highlight("<b>巡视整改</b>", ["巡视整改"]) == "&lt;b&gt;<mark>巡视整改</mark>&lt;/b&gt;"
    assert highlight("巡視整改", ["巡视整改"]) == "<mark>巡視整改</mark>"
    assert highlight("ＡＢＣ整改", ["abc"]) == "<mark>ＡＢＣ</mark>整改"
    assert highlight("no match", ["巡视"]) == "no match"


def test_letter_spaced_text_is_marked_across_its_spaces() -> None:
    assert highlight("巡 察 公 告", ["巡察公告"]) == "<mark>巡 察 公 告</mark>"
    assert highlight("巡　察　公　告", ["巡察公告"]) == "<mark>巡　察　公　告</mark>"
    # a part of a spaced run, plain occurrences next to it, escaping around it
    assert highlight("<i>中 共 某 某 县 委</i>", ["某县委"]) == "&lt;i&gt;中 共 某 <mark>某 县 委</mark>&lt;/i&gt;"
    assert highlight("巡 察 公 告：巡察公告", ["巡察公告"]) == "<mark>巡 察 公 告</mark>：<mark>巡察公告</mark>"
    # mixed with NFKC expansion (the slow path of the character map)
    assert highlight("ﬁ 巡 察 公 告", ["巡察公告", "fi"]) == "<mark>ﬁ</mark> <mark>巡 察 公 告</mark>"
    assert find_matches("巡察 公告", ["巡察公告"]) == []  # two words: not letter spacing


def test_snippet_marks_a_letter_spaced_heading() -> None:
    text = "巡 察 公 告\n根据县委统一部署，现将巡察有关事项公告如下。"
    assert snippet(text, ["巡察公告"]).startswith("<mark>巡 察 公 告</mark>")


def test_letter_spaced_title_is_found_stored_and_highlighted(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "spaced.txt").write_text(
        "巡 察 公 告\n"
        "根据县委统一部署，县委第二巡察组于2024年3月4日至5月10日对示例镇党委开展常规巡察。\n"
        "联 系 方 式\n"
        "值班电话：0000-1234567。\n"
        "中共示例县委巡察工作领导小组办公室\n2024年3月4日\n",
        encoding="utf-8",
    )
    (src / "words.txt").write_text(
        "关于巡察工作的说明\n本文只写巡察 公告两个词，中间有空格，不是字间距。\n"
        "中共示例县委巡察工作领导小组办公室\n2024年3月5日\n",
        encoding="utf-8",
    )
    ix = tmp_path / "ix"
    report = build([src], ix, workers=1, progress=False)
    assert report.added == 2 and not report.failed

    archive = Archive(ix)
    res = archive.search(SearchRequest(q="巡察公告"))
    assert res.total == 1
    hit = res.hits[0]
    assert hit.title == "巡 察 公 告"  # stored and shown as the page says
    assert "<mark>巡 察 公 告</mark>" in hit.snippet
    assert archive.search(SearchRequest(q="联系方式")).total == 1
    assert archive.search(SearchRequest(q='"巡察 公告"')).total == 1  # the two words, untouched

    doc = archive.get(hit.id, q="巡察公告")
    assert doc is not None
    assert doc["title"] == "巡 察 公 告"
    assert doc["title_html"] == "<mark>巡 察 公 告</mark>"

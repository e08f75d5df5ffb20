"""indexer/sources.py: decoding rules, file kinds, and bad input that must not stop a batch."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from indexer.models import PageError, RawPage
from indexer.sources import MAX_BYTES, decode_bytes, iter_pages, looks_like_html, read_file

from tests.conftest import require_shared

NOTICE = "关于开展巡视整改工作的通知：各单位务必认真执行，镕基同志审定。"


# --------------------------------------------------------------------------- decode_bytes


def test_bom_wins_over_meta():
    data = b"\xef\xbb\xbf<meta charset=gbk><p>" + NOTICE.encode("utf-8")
    text, enc = decode_bytes(data)
    assert NOTICE in text and enc == "utf-8"
    text16, enc16 = decode_bytes(b"\xff\xfe" + NOTICE.encode("utf-16-le"))
    assert text16 == NOTICE and enc16 == "utf-16-le"


def test_lying_meta_charset_utf8_bytes():
    data = ('<html><head><meta charset="gb2312"></head><body>' + NOTICE).encode("utf-8")
    text, enc = decode_bytes(data)
    assert NOTICE in text
    assert enc == "utf-8"


def test_gb18030_page_whose_meta_says_gb2312():
    # 镕 is outside GB2312: a strict gb2312 decode would fail or lose it.
    data = ('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">' + NOTICE
            ).encode("gb18030")
    text, enc = decode_bytes(data)
    assert NOTICE in text and enc == "gb18030"


def test_declared_charset_from_header_is_used():
    data = NOTICE.encode("gbk")
    text, enc = decode_bytes(data, declared="GBK")
    assert text == NOTICE and enc == "gb18030"


def test_wrong_declared_charset_falls_through():
    data = NOTICE.encode("utf-8")
    text, _ = decode_bytes(data, declared="gb2312")  # gb18030 cannot decode these bytes strictly
    assert text == NOTICE


def test_undeclared_gbk_is_detected():
    data = ("<p>" + NOTICE * 3 + "</p>").encode("gbk")
    text, enc = decode_bytes(data)
    assert NOTICE in text and enc == "gb18030"


def test_mixed_gbk_and_utf8_bytes_yield_both_texts():
    utf8_part = "中华人民共和国国务院办公厅".encode("utf-8")
    gbk_part = "巡视整改进展情况的公告".encode("gbk")
    text, _ = decode_bytes(b"<p>" + utf8_part + b"</p><p>" + gbk_part + b"</p>" + utf8_part
                           + gbk_part)
    assert "中华人民共和国国务院办公厅" in text
    assert "巡视整改进展情况的公告" in text


def test_invalid_bytes_are_replaced_not_raised():
    text, _ = decode_bytes("通知".encode("utf-8") + b"\xff\xfe\xfa" + "公告".encode("utf-8"))
    assert "通知" in text and "公告" in text


@pytest.mark.parametrize("name", ["026_people.com.cn.html", "032_163.com.html"])
def test_real_pages_lying_about_gb2312(name):
    path = require_shared("corpus", "html", name)
    data = path.read_bytes()
    assert b"gb2312" in data[:5000].lower()
    text, enc = decode_bytes(data)
    assert enc == "utf-8"
    assert "\ufffd" not in text


# --------------------------------------------------------------------------- files


def test_html_text_and_unknown_files(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.html").write_bytes(("<p>" + NOTICE + "</p>").encode("gbk"))
    (tmp_path / "a.txt").write_text(NOTICE, encoding="utf-8")
    (tmp_path / "sub" / "c.htm").write_text("<html><body>" + NOTICE, encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    (tmp_path / "pic.gif").write_bytes(b"GIF89a....")
    pages = list(iter_pages([tmp_path]))
    assert [Path(p.source).name for p in pages] == ["a.txt", "b.html", "c.htm"]
    assert all(isinstance(p, RawPage) for p in pages)
    assert [p.is_html for p in pages] == [False, True, True]
    assert NOTICE in pages[1].content


def test_txt_that_is_html_is_treated_as_html(tmp_path: Path):
    f = tmp_path / "saved.txt"
    f.write_text("<!DOCTYPE html><html><body><p>" + NOTICE + "</p></body></html>", "utf-8")
    (page,) = read_file(f)
    assert isinstance(page, RawPage) and page.is_html
    assert not looks_like_html("第一条 <注意> 这是正文")


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
    (b"PK\x03\x04\x14\x00\x00\x00", "ZIP"),
])
def test_bad_files_become_page_errors(tmp_path: Path, data: bytes, words: str):
    f = tmp_path / "bad.html"
    f.write_bytes(data)
    good = tmp_path / "good.html"
    good.write_text("<p>" + NOTICE, encoding="utf-8")
    out = list(iter_pages([f, good]))
    assert isinstance(out[0], PageError) and words.lower() in out[0].reason.lower()
    assert isinstance(out[1], RawPage)


def test_oversized_file_is_refused_without_reading(tmp_path: Path):
    f = tmp_path / "huge.html"
    with f.open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse file: no memory, no disk
    (err,) = read_file(f)
    assert isinstance(err, PageError) and "limit" in err.reason


def test_missing_path_is_reported(tmp_path: Path):
    (err,) = list(iter_pages([tmp_path / "nope.html"]))
    assert isinstance(err, PageError)


# --------------------------------------------------------------------------- jsonl


def test_jsonl_with_broken_line(tmp_path: Path):
    f = tmp_path / "n.jsonl"
    lines = [
        json.dumps({"text": NOTICE, "url": "http://a.gov.cn/1.html", "title": "标题",
                    "date": "2022-05-06"}, ensure_ascii=False),
        '{"text": "unterminated',
        "",
        json.dumps({"html": "<p>" + NOTICE + "</p>"}, ensure_ascii=False),
        json.dumps({"other": 1}),
        json.dumps([1, 2]),
    ]
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = list(iter_pages([f]))
    assert len(out) == 5
    first = out[0]
    assert isinstance(first, RawPage) and not first.is_html
    assert first.source == f"{f}#line=1"
    assert first.url == "http://a.gov.cn/1.html"
    assert first.hints == {"url": "http://a.gov.cn/1.html", "title": "标题", "date": "2022-05-06"}
    assert isinstance(out[1], PageError) and out[1].source.endswith("#line=2")
    assert "JSON" in out[1].reason
    assert isinstance(out[2], RawPage) and out[2].is_html and out[2].source.endswith("#line=4")
    assert isinstance(out[3], PageError) and isinstance(out[4], PageError)


def test_shared_notices_jsonl_reads():
    path = require_shared("corpus", "notices.jsonl")
    out = list(iter_pages([path]))
    assert len(out) >= 100
    assert all(isinstance(p, RawPage) for p in out)


# --------------------------------------------------------------------------- warc


def _warc_bytes(records: list[tuple[str, str, bytes]], gz: bool = True) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    for url, ctype, payload in records:
        headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        rec = writer.create_warc_record(url, "response", payload=io.BytesIO(payload),
                                        http_headers=headers)
        writer.write_record(rec)
    return buf.getvalue()


def test_warc_gz_html_records(tmp_path: Path):
    data = _warc_bytes([
        ("http://a.gov.cn/1.html", "text/html; charset=gbk",
         ("<p>" + NOTICE + "</p>").encode("gbk")),
        ("http://a.gov.cn/logo.png", "image/png", b"\x89PNG\r\n\x1a\n"),
        ("http://a.gov.cn/2.html", "text/html", ("<p>第二条" + NOTICE).encode("utf-8")),
    ])
    f = tmp_path / "crawl.warc.gz"
    f.write_bytes(data)
    out = list(iter_pages([f]))
    assert [type(p) for p in out] == [RawPage, RawPage]
    assert out[0].url == "http://a.gov.cn/1.html" and NOTICE in out[0].content
    assert out[0].source == f"{f}#record=1"
    assert out[1].source == f"{f}#record=3"


def test_uncompressed_warc(tmp_path: Path):
    f = tmp_path / "crawl.warc"
    f.write_bytes(_warc_bytes([("http://a.gov.cn/1.html", "text/html", NOTICE.encode())],
                              gz=False))
    (page,) = list(iter_pages([f]))
    assert isinstance(page, RawPage) and NOTICE in page.content


def test_truncated_warc_gz_keeps_earlier_records(tmp_path: Path):
    records = [(f"http://a.gov.cn/{i}.html", "text/html",
                ("<p>" + NOTICE * 50 + str(i) + "</p>").encode()) for i in range(3)]
    data = _warc_bytes(records)
    f = tmp_path / "cut.warc.gz"
    f.write_bytes(data[: len(data) - 700])
    after = tmp_path / "z.html"
    after.write_text("<p>" + NOTICE, encoding="utf-8")
    out = list(iter_pages([tmp_path]))
    pages = [p for p in out if isinstance(p, RawPage) and p.source.startswith(str(f))]
    errors = [p for p in out if isinstance(p, PageError)]
    assert len(pages) >= 1
    assert len(errors) == 1 and "truncated" in errors[0].reason
    assert isinstance(out[-1], RawPage) and out[-1].source == str(after)


def test_garbage_warc_is_an_error(tmp_path: Path):
    f = tmp_path / "bad.warc.gz"
    f.write_bytes(gzip.compress(b"this is not a warc file at all\r\n\r\n"))
    out = list(iter_pages([f]))
    assert len(out) == 1 and isinstance(out[0], PageError)

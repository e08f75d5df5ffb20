"""Checks on the bundled demo corpus (samples/) and its ground-truth manifest.

Other people's end-to-end tests trust samples/manifest.json, so these tests make sure the
corpus really has the coverage and the traps it claims (encodings, forms, regions, years),
that every manifest entry points at a real record whose raw text holds the expected phrases,
and that scripts/make_samples.py reproduces the committed files.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import html
import importlib.util
import io
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
MANIFEST = SAMPLES / "manifest.json"
MARK_META = '<meta name="notice-archive" content="示例">'
MARK_COMMENT = "<!-- 示例"

PROVINCE_PREFIX = {
    "陕西省": "61", "四川省": "51", "浙江省": "33", "广东省": "44", "江苏省": "32",
    "福建省": "35", "云南省": "53", "河南省": "41",
}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def notices(manifest: dict) -> dict[str, dict]:
    return manifest["notices"]


def _split_key(key: str) -> tuple[Path, str | None, int | None]:
    path, _, frag = key.partition("#")
    if not frag:
        return ROOT / path, None, None
    kind, _, n = frag.partition("=")
    return ROOT / path, kind, int(n)


def _meta_charset(text: str) -> str | None:
    m = re.search(r"""charset\s*=\s*["']?([\w-]+)""", text, re.I)
    return m.group(1).lower() if m else None


def _warc_html_records(path: Path) -> list[tuple[str, str, bytes, object]]:
    """(target uri, content-type, payload bytes, record) of every HTML response record."""
    from warcio.archiveiterator import ArchiveIterator

    out = []
    with path.open("rb") as fh:
        for rec in ArchiveIterator(fh):
            if rec.rec_type != "response":
                continue
            ctype = rec.http_headers.get_header("Content-Type") or ""
            payload = rec.content_stream().read()
            if ctype.lower().startswith("text/html"):
                out.append((rec.rec_headers.get_header("WARC-Target-URI"), ctype, payload, rec))
    return out


def _warc_numbering() -> str:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))["conventions"].get("warc_numbering", "html")


def _warc_record(path: Path, n: int) -> tuple[str, str, bytes, object]:
    """The HTML response record a `#record=n` key names, under the manifest's numbering."""
    if _warc_numbering() == "html":
        return _warc_html_records(path)[n - 1]
    from warcio.archiveiterator import ArchiveIterator

    with path.open("rb") as fh:
        for i, rec in enumerate(ArchiveIterator(fh), 1):
            if i == n:
                ctype = rec.http_headers.get_header("Content-Type") or ""
                assert rec.rec_type == "response" and ctype.startswith("text/html")
                return rec.rec_headers.get_header("WARC-Target-URI"), ctype, rec.content_stream().read(), rec
    raise IndexError(n)


def raw_text(key: str, entry: dict) -> str:
    """The decoded raw content (HTML or text) a manifest key points at, entities unescaped."""
    path, kind, n = _split_key(key)
    if kind is None:
        text = path.read_bytes().decode(entry["encoding"])
    elif kind == "line":
        rec = json.loads(path.read_text(encoding="utf-8").splitlines()[n - 1])
        text = rec.get("html") or rec.get("text") or ""
    elif kind == "record":
        _, ctype, payload, _ = _warc_record(path, n)
        text = payload.decode(_meta_charset(ctype) or "utf-8")
    else:
        raise AssertionError(f"unknown key fragment in {key}")
    return html.unescape(text)


def test_manifest_size_and_conventions(manifest: dict, notices: dict) -> None:
    assert manifest["version"] == 1
    assert {"keys", "date", "region"} <= set(manifest["conventions"])
    assert len(notices) >= 40


def test_coverage_regions_and_years(notices: dict) -> None:
    districts = {(e["province"], e["city"], e["district"]) for e in notices.values() if e["district"]}
    provinces = {e["province"] for e in notices.values()}
    years = {int(e["date"][:4]) for e in notices.values()}
    assert len(districts) >= 10, districts
    assert len(provinces) >= 5, provinces
    assert set(range(2016, 2026)) <= years
    # City- and province-level issuers too, not only districts.
    assert any(e["city"] and not e["district"] for e in notices.values())
    assert any(not e["city"] for e in notices.values())
    # Ambiguous district names are part of the point (南京/福州 鼓楼区).
    gulou = {e["city"] for e in notices.values() if e["district"] == "鼓楼区"}
    assert {"南京市", "福州市"} <= gulou


def test_years_are_spread(notices: dict) -> None:
    per_year = Counter(e["date"][:4] for e in notices.values())
    assert max(per_year.values()) <= len(notices) // 4, per_year


def test_every_form_present(notices: dict) -> None:
    forms = {e["form"] for e in notices.values()}
    wanted = {"html-trs", "html-ucap", "html-dirty", "html-broken", "html-gb18030",
              "html-lying-meta", "html-gbk-nometa", "html-trad", "text", "jsonl-html",
              "jsonl-text", "warc-html"}
    assert wanted <= forms, wanted - forms
    assert sum(e["script"] == "traditional" for e in notices.values()) >= 2


def test_region_codes_consistent(notices: dict) -> None:
    for key, e in notices.items():
        code = e["region_code"]
        if not e["province"]:  # a central organ's page: no region at any level
            assert code is None and not e["city"] and not e["district"], key
            continue
        assert re.fullmatch(r"\d{6}", code), key
        assert code.startswith(PROVINCE_PREFIX[e["province"]]), key
        if not e["city"]:
            assert code.endswith("0000"), key
        elif not e["district"]:
            assert code.endswith("00") and not code.endswith("0000"), key
        else:
            assert not code.endswith("00"), key
    codes = {(e["district"], e["city"]): e["region_code"] for e in notices.values() if e["district"]}
    # A few codes checked by hand against GB/T 2260.
    assert codes[("莲湖区", "西安市")] == "610104"
    assert codes[("雁塔区", "西安市")] == "610113"
    assert codes[("鼓楼区", "南京市")] == "320106"
    assert codes[("鼓楼区", "福州市")] == "350102"
    assert codes[("勐腊县", "西双版纳傣族自治州")] == "532823"


def test_dates_iso_and_fields_present(notices: dict) -> None:
    for key, e in notices.items():
        assert re.fullmatch(r"20\d\d-\d\d-\d\d", e["date"]), key
        for f in ("issuer", "doc_type", "must_contain", "must_not_contain"):
            assert e[f], (key, f)
        assert e["province"] or e["region_code"] is None, key
        if e.get("signed_date"):
            # a notice is published on or after the day it is signed
            assert e["signed_date"] <= e["date"], key


def _date_forms(iso: str) -> list[str]:
    y, m, d = (int(x) for x in iso.split("-"))
    return [iso, f"{y}年{m}月{d}日", f"{y}年{m:02d}月{d:02d}日"]


def test_expected_values_are_on_the_page(notices: dict) -> None:
    """A date or 文号 the manifest expects must be printed somewhere in the raw page (or
    its record fields), else no extractor could find it and the check tests nothing."""
    for key, e in notices.items():
        text = raw_text(key, e)
        path, kind, n = _split_key(key)
        if kind == "line":  # a record's own title/date fields are part of what it states
            text += json.loads(path.read_text(encoding="utf-8").splitlines()[n - 1]).get("date", "")
        if e["doc_number"]:
            assert e["doc_number"] in text, (key, e["doc_number"])
        # a WeChat page states its time only as `var ct` (seconds, shown in UTC+8); a page
        # saved without a date line is dated by its address (t20250120_)
        for stamp in re.findall(r'var ct = "(\d{10})"', text):
            text += _dt.datetime.fromtimestamp(int(stamp), _dt.timezone(_dt.timedelta(hours=8))).date().isoformat()
        if e.get("url"):
            m = re.search(r"/t(20\d{2})(\d{2})(\d{2})_", e["url"])
            if m:
                text += "-".join(m.groups())
        assert any(f in text for f in _date_forms(e["date"])), (key, e["date"])


def test_every_key_points_at_existing_record(notices: dict) -> None:
    for key, e in notices.items():
        path, kind, n = _split_key(key)
        assert path.is_file(), key
        assert path.resolve().is_relative_to(SAMPLES.resolve()), key
        if kind == "line":
            assert 1 <= n <= len(path.read_text(encoding="utf-8").splitlines()), key
        elif kind == "record":
            assert _warc_record(path, n)[0] == e["url"], key


def test_all_files_are_in_manifest(notices: dict) -> None:
    """No stray notice file that the manifest (and so everyone's checks) would miss."""
    files = {_split_key(k)[0] for k in notices}
    on_disk = {p for p in SAMPLES.rglob("*") if p.is_file() and p.name not in ("README.md", "manifest.json")}
    assert on_disk == files


def test_body_phrases_in_raw_and_chrome_really_present(notices: dict) -> None:
    for key, e in notices.items():
        text = raw_text(key, e)
        for phrase in e["must_contain"]:
            assert phrase in text, (key, phrase)
        # A must_not_contain phrase absent from the raw page would test nothing.
        for phrase in e["must_not_contain"]:
            assert phrase in text, (key, phrase)


def test_issue_14_page_classes_present(notices: dict) -> None:
    """The classes of real page issue 14 found the cleaner failing on each have a demo
    page: a WeChat article, a one-paragraph text ending in a table pipe, a two-line
    heading, a title area holding only a breadcrumb, and a central article whose captions
    name a county (its expected region is none)."""
    forms = {e["form"] for e in notices.values()}
    assert {"html-wechat", "html-crumb-title"} <= forms
    pipe = [k for k, e in notices.items() if e["form"] == "text"
            and re.search(r"。 \|$", raw_text(k, e), re.M)]
    assert pipe
    assert any(e["title"] and " " in e["title"] and "two-line heading" in " ".join(e["dirt"])
               for e in notices.values())
    central = [(k, e) for k, e in notices.items() if not e["province"]]
    assert central
    for key, e in central:
        text = raw_text(key, e)
        assert "图为" in text and re.search(r"[\u4e00-\u9fff]{2,}[县区]纪委监委", text), key


def test_gb18030_file_needs_gb18030(notices: dict) -> None:
    [key] = [k for k, e in notices.items() if e["form"] == "html-gb18030"]
    data = (ROOT / key).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gbk")  # 㛃 is outside GBK: a gbk/gb2312 decoder must not be enough
    text = data.decode("gb18030")
    assert _meta_charset(text) == "gb2312"
    assert "㛃" in text and "堃" in text and "镕" in text


def test_lying_meta_file_is_utf8(notices: dict) -> None:
    [key] = [k for k, e in notices.items() if e["form"] == "html-lying-meta"]
    text = (ROOT / key).read_bytes().decode("utf-8")
    assert _meta_charset(text) == "gbk"
    assert re.search(r"[\u4e00-\u9fff]{20}", text)


def test_gbk_file_has_no_charset_declaration(notices: dict) -> None:
    [key] = [k for k, e in notices.items() if e["form"] == "html-gbk-nometa"]
    data = (ROOT / key).read_bytes()
    assert b"charset" not in data.lower()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert notices[key]["must_contain"][0] in data.decode("gbk")


def test_warc_readable_and_png_ignored(notices: dict) -> None:
    from warcio.archiveiterator import ArchiveIterator

    warc_keys = sorted((k for k in notices if "#record=" in k), key=lambda k: _split_key(k)[2])
    assert _warc_numbering() in ("html", "all")
    path = _split_key(warc_keys[0])[0]
    types = []
    with path.open("rb") as fh:
        for rec in ArchiveIterator(fh):
            ctype = rec.http_headers.get_header("Content-Type") if rec.http_headers else None
            types.append((rec.rec_type, ctype))
            if rec.rec_type == "response":
                assert rec.rec_headers.get_header("WARC-Notice-Archive-Note") == "示例"
    assert types[0][0] == "warcinfo"
    assert ("response", "image/png") in types
    html_records = _warc_html_records(path)
    assert len(html_records) == len(warc_keys)
    for key, (uri, ctype, payload, _) in zip(warc_keys, html_records):
        assert uri == notices[key]["url"], key
        assert MARK_META in payload.decode(_meta_charset(ctype) or "utf-8")
    assert any("gbk" in ctype for _, ctype, _, _ in html_records)
    # The alternative numbering (all records counted) must point at the same records.
    with path.open("rb") as fh:
        uris = [rec.rec_headers.get_header("WARC-Target-URI") for rec in ArchiveIterator(fh)]
    for key in warc_keys:
        assert uris[notices[key]["warc_record_all"] - 1] == notices[key]["url"], key


def test_jsonl_lines_parse(notices: dict) -> None:
    keys = [k for k in notices if "#line=" in k]
    path = _split_key(keys[0])[0]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(keys)
    kinds = set()
    for i, line in enumerate(lines, 1):
        rec = json.loads(line)
        assert rec["note"] == "示例"
        kinds.add("html" if "html" in rec else "text")
        e = notices[f"{path.relative_to(ROOT).as_posix()}#line={i}"]
        if "title" in rec:
            assert rec["title"] == e["title"]
        if "date" in rec:
            assert rec["date"] == e["date"]
    assert kinds == {"html", "text"}


def test_demo_marker_everywhere(notices: dict) -> None:
    for key, e in notices.items():
        path = _split_key(key)[0]
        if e["form"].startswith("html-") or e["form"] in ("jsonl-html", "warc-html"):
            text = raw_text(key, e)
            assert MARK_META in text and MARK_COMMENT in text, key
        elif e["form"] == "text":
            assert path.name.startswith("示例_"), key
            assert "示例" not in path.read_text(encoding="utf-8"), key  # marker must not pollute the body
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    assert "示例" in readme


def test_corpus_small() -> None:
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 2 * 1024 * 1024


def test_generator_reproduces_committed_files(tmp_path: Path) -> None:
    """Re-running scripts/make_samples.py gives the committed bytes (gzip: same content)."""
    spec = importlib.util.spec_from_file_location("make_samples", ROOT / "scripts" / "make_samples.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules["make_samples"] = mod  # dataclasses look their module up while defining
    try:
        spec.loader.exec_module(mod)
        outputs = mod.build(tmp_path)
    finally:
        sys.modules.pop("make_samples", None)
    committed = {p.relative_to(ROOT).as_posix() for p in SAMPLES.rglob("*") if p.is_file()}
    assert set(outputs) == committed
    for rel, data in outputs.items():
        old = (ROOT / rel).read_bytes()
        if rel.endswith(".gz"):
            # zlib versions may frame deflate streams differently; the content must match.
            assert gzip.decompress(old) == gzip.decompress(data), rel
        else:
            assert old == data, rel

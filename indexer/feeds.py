"""Views derived from an `Archive` through its public methods only: Atom feeds, CSV/JSONL
exports, similar notices and the regions tree. No Flask here: the web layer wraps these
generators in responses, and the CLI could write them to files just the same.

Everything read from the index is scraped, untrusted text. The Atom feed is built with
ElementTree (which escapes markup) after removing characters XML 1.0 cannot carry at all
(ElementTree would write them raw and the feed would not parse); CSV cells are guarded
against formula injection, because a spreadsheet executes a cell starting with `=`.
"""

from __future__ import annotations

import csv
import datetime
import html
import io
import json
import logging
import math
import re
import threading
import xml.etree.ElementTree as ET
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from urllib.parse import quote

from indexer import dedup, pages, regions
from indexer.analysis import CJK_RUN, normalize
from indexer.facets import region_name
from indexer.search import Archive, SearchRequest, SearchResult

log = logging.getLogger(__name__)

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 50
MAX_EXPORT_ROWS = 10_000
EXPORT_PAGE = 100  # the search layer's largest page
EXPORT_FIELDS = ("id", "title", "date", "issuer", "province", "city", "district", "region_code",
                 "doc_type", "doc_number", "url", "source")
# Control characters (and non-characters) XML 1.0 forbids even escaped; tab/LF/CR are allowed.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
MARK_TAGS = re.compile(r"</?mark>")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A spreadsheet treats a cell starting with one of these as a formula (OWASP CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Division names that carry no information of their own ("北京市 市辖区 东城区").
FILLER_PLACES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def xml_text(value: Any) -> str:
    """A string XML 1.0 can carry: invalid characters dropped (ElementTree escapes the rest)."""
    return XML_INVALID.sub("", "" if value is None else str(value))


def snippet_text(snippet_html: str | None) -> str:
    """A search snippet (escaped text with <mark> tags) as plain text."""
    return xml_text(html.unescape(MARK_TAGS.sub("", snippet_html or "")))


def atom_date(date: str | None) -> str | None:
    """An ISO notice date as an Atom timestamp (the day's start, UTC); None if malformed."""
    if not date or not DATE_RE.match(date):
        return None
    try:
        datetime.date.fromisoformat(date)
    except ValueError:
        return None
    return f"{date}T00:00:00Z"


# -- Atom --------------------------------------------------------------------------------


def feed_title(q: str | None, region_name: str | None = None, doc_type: str | None = None,
               date_from: str | None = None, date_to: str | None = None) -> str:
    """公告检索：巡察整改 · 陕西省 · 通知 · 2020-01-01 至 2021-12-31 (only what is set)."""
    parts = [p for p in (q, region_name, doc_type) if p]
    if date_from or date_to:
        parts.append(f"{date_from or ''} 至 {date_to or ''}".strip())
    return "公告检索：" + (" · ".join(parts) if parts else "最新公告")


def atom_feed(hits: list[dict[str, Any]], *, title: str, feed_id: str, self_url: str,
              alternate_url: str, doc_url: Callable[[str], str], now: str) -> bytes:
    """An Atom 1.0 document of search hits (dicts as in `SearchResult.as_dict()["hits"]`).

    Entry ids and links are the document URLs on this server, stable across rebuilds
    because notice ids come from the page URL. `updated` of an entry is its notice date;
    the feed's is the newest of them (so an unchanged result gives a byte-identical
    feed, which caches well), `now` only when no entry has a date.
    """
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
        if text is not None:
            el.text = xml_text(text)
        return el

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "zh-CN")
    dates = [d for d in (atom_date(h.get("date")) for h in hits) if d]
    sub(feed, "id", feed_id)
    sub(feed, "title", title)
    sub(feed, "updated", max(dates) if dates else now)
    sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    sub(feed, "link", rel="alternate", type="text/html", href=alternate_url)
    author = sub(feed, "author")
    sub(author, "name", "公告档案检索")
    sub(feed, "generator", "notice archive")
    for h in hits:
        entry = sub(feed, "entry")
        url = doc_url(h["id"])
        sub(entry, "id", url)
        sub(entry, "title", pages.plain_title(h, demo_mark=True))
        # Undated notices sort last in readers rather than pretending to be new.
        sub(entry, "updated", atom_date(h.get("date")) or "1970-01-01T00:00:00Z")
        sub(entry, "link", rel="alternate", type="text/html", href=url)
        summary = snippet_text(h.get("snippet"))
        if summary:
            sub(entry, "summary", summary, type="text")
        if h.get("issuer"):
            sub(sub(entry, "author"), "name", h["issuer"])
        if h.get("doc_type"):
            sub(entry, "category", term=h["doc_type"], label=h["doc_type"])
        if pages.is_demo(h):  # a demo notice never passes for a real one in a feed reader
            sub(entry, "category", term="示例", label="示例（演示用虚构公告）")
            sub(entry, "rights", pages.DEMO_NOTE)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


# -- exports -----------------------------------------------------------------------------


@dataclass
class Export:
    """A validated export: the first page is searched before any byte is sent, so a bad
    parameter is a 400 and not a broken half-download."""

    archive: Archive
    req: SearchRequest
    first: SearchResult
    limit: int = MAX_EXPORT_ROWS

    @property
    def total(self) -> int:
        return self.first.total

    @property
    def truncated(self) -> bool:
        return self.total > self.limit

    def truncation_message(self) -> str:
        return f"结果已截断：共 {self.total} 条，只导出了前 {self.limit} 条。请增加筛选条件后分批导出。"

    def records(self) -> Iterator[dict[str, Any]]:
        """Every matching notice (up to `limit`) with its metadata and cleaned body.

        The hits are ranked once and read in order from one index snapshot
        (`Archive.iter_stored`), so a build committing mid-export changes nothing here;
        no snippets are made. An id seen twice is written once.
        """
        seen: set[str] = set()
        for doc in self.archive.iter_stored(self.req, self.limit):
            doc_id = doc.get("id")
            if doc_id in seen:
                continue
            seen.add(doc_id)
            rec = {k: doc.get(k) for k in EXPORT_FIELDS}
            rec["body"] = doc.get("body") or ""
            rec["demo"] = pages.is_demo(doc)  # JSONL carries it; the CSV keeps its columns
            yield rec


def start_export(archive: Archive, req: SearchRequest, limit: int = MAX_EXPORT_ROWS) -> Export:
    """Validate and run the first page; raises SearchError / IndexMissing for the caller."""
    req = replace(req, page=1, per_page=EXPORT_PAGE)
    return Export(archive, req, archive.search(req), limit)


def csv_cell(value: Any) -> str:
    """A cell Excel shows as text: no formula, no NUL."""
    text = XML_INVALID.sub("", "" if value is None else str(value))
    if text.startswith(FORMULA_START):
        text = "'" + text
    return text


def csv_stream(export: Export, chunk_rows: int = 100) -> Iterator[str]:
    """UTF-8-with-BOM CSV (Excel's cue for UTF-8), CRLF line ends, quoted where needed.

    Metadata columns only (bodies make spreadsheets unusable; they are in the JSONL export).
    A truncated export ends with a message row; so does one that fails midway, since the
    status line has already been sent. The columns are EXPORT_FIELDS, named in English: the
    machine-readable contract (see `excel_stream` for readers).
    """
    rows = ([csv_cell(rec.get(k)) for k in EXPORT_FIELDS] for rec in export.records())
    return _csv_rows(export, list(EXPORT_FIELDS), rows, chunk_rows)


# Columns of the 导出 Excel file, for readers: Chinese headers, a heading for every notice,
# the place in one cell, a link back to the notice in the archive.
EXCEL_HEADERS = ("标题", "日期", "发布机关", "地区", "文种", "文号", "原文链接", "本站链接", "备注")


def excel_row(rec: dict[str, Any], doc_url: Callable[[str], str]) -> list[str]:
    """One notice as a row of the reader's export (see EXCEL_HEADERS)."""
    return [csv_cell(v) for v in (
        pages.plain_title(rec, demo_mark=True), rec.get("date"), rec.get("issuer"), pages.place(rec),
        rec.get("doc_type"), rec.get("doc_number"), pages.reader_link(rec), doc_url(rec["id"]),
        pages.DEMO_NOTE if pages.is_demo(rec) else "")]


def excel_stream(export: Export, doc_url: Callable[[str], str], chunk_rows: int = 100) -> Iterator[str]:
    """导出 Excel: the same UTF-8-with-BOM CSV as `csv_stream` (Excel opens it directly), with
    Chinese column headers, untitled notices given their derived heading (marked as such),
    and a link column back to each notice's page in the archive."""
    rows = (excel_row(rec, doc_url) for rec in export.records())
    return _csv_rows(export, list(EXCEL_HEADERS), rows, chunk_rows)


def _csv_rows(export: Export, header: list[str], rows: Iterator[list[str]], chunk_rows: int) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)

    def flush() -> str:
        out = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        return out

    buf.write("\ufeff")
    writer.writerow(header)
    n = 0
    try:
        for row in rows:
            writer.writerow(row)
            n += 1
            if n % chunk_rows == 0:
                yield flush()
        if export.truncated:
            writer.writerow([csv_cell("# " + export.truncation_message())])
    except Exception:
        log.exception("CSV export failed after %d rows", n)
        writer.writerow([csv_cell(f"# 导出中断：已导出 {n} 条后出错，请重试。")])
    yield flush()


def jsonl_stream(export: Export) -> Iterator[str]:
    """One JSON object per line (metadata + `body` + `demo`, true for a notice of the bundled
    demo corpus); a final `{"truncated": true, ...}` or
    `{"error": ...}` line says when the file is incomplete."""
    n = 0
    try:
        for rec in export.records():
            n += 1
            yield json.dumps(rec, ensure_ascii=False) + "\n"
        if export.truncated:
            yield json.dumps({"truncated": True, "total": export.total, "exported": n,
                              "message": export.truncation_message()}, ensure_ascii=False) + "\n"
    except Exception:
        log.exception("JSONL export failed after %d records", n)
        yield json.dumps({"error": f"导出中断：已导出 {n} 条后出错，请重试。", "exported": n},
                         ensure_ascii=False) + "\n"


SAFE_NAME = re.compile(r"[^\w\-]+")


def content_disposition(parts: list[str | None], ext: str) -> str:
    """`attachment` with an ASCII fallback name and the real one as RFC 5987 filename*."""
    words = [SAFE_NAME.sub("_", normalize(p)).strip("_") for p in parts if p]
    stem = "_".join(w for w in words if w)[:60].strip("_")
    name = f"公告导出_{stem}.{ext}" if stem else f"公告导出.{ext}"
    ascii_stem = "_".join(w for w in words if w and w.isascii())[:40]
    fallback = f"notices_{ascii_stem}.{ext}" if ascii_stem else f"notices.{ext}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


# -- similar notices ---------------------------------------------------------------------

SIMILAR_TERMS = 8         # terms in the OR query
TERM_CANDIDATES = 20      # terms whose document frequency is looked up
SIMILAR_CANDIDATES = 50   # hits reranked by content
SIMILAR_BODY_CHARS = 20_000
MIN_SIMILARITY = 0.02
# 4-gram cosine at or above which a candidate is a repost, not a "similar notice". Reposts
# measured >= 0.958 (real and synthetic variants), distinct notices <= 0.744.
REPOST_COSINE = 0.9
# Characters that make a poor edge for a key term (function words, numerals, 关于/进行...).
WEAK_EDGE = set("的了和与及是在为对等有将并把被也就都而其之一个这那中上下以于由或各所年月日第")


class _LRU:
    def __init__(self, size: int):
        self.size = size
        self.data: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


_df_cache = _LRU(50_000)
_similar_cache = _LRU(2_000)


def _generation(archive: Archive) -> tuple[int, int]:
    # A new snapshot (a build committed) invalidates cached counts; the snapshot object is
    # kept alive by the archive, so its id is stable while it is current.
    return (id(archive), id(archive.snapshot()))


def doc_freq(archive: Archive, term: str, bound: bool = False) -> int:
    """Notices containing `term` (cached per index generation), counted through the
    archive's literal cache only: looking up terms must not push the user's own queries
    out of the query cache. `bound`: at most how many, from the term dictionaries alone
    (Archive.literal_count_bound), microseconds instead of a count."""
    key = (_generation(archive), term, bound)
    n = _df_cache.get(key)
    if n is None:
        n = archive.literal_count_bound(term) if bound else archive.literal_count(term)
        _df_cache.put(key, n)
    return n


def key_terms(archive: Archive, title: str | None, body: str, n_terms: int = SIMILAR_TERMS) -> list[str]:
    """The notice's most distinctive character trigrams: frequent here, rare in the archive.

    Trigrams, because CJK bigrams are mostly everyday words and 4-grams rarely recur in
    another notice. The title counts double (it names the subject).
    """
    tf: Counter[str] = Counter()
    for text, weight in ((title or "", 2), (body[:SIMILAR_BODY_CHARS], 1)):
        for run in CJK_RUN.findall(normalize(text)):
            for i in range(len(run) - 2):
                gram = run[i : i + 3]
                if gram[0] in WEAK_EDGE or gram[-1] in WEAK_EDGE or len(set(gram)) < 3:
                    continue
                tf[gram] += weight
    if not tf:
        return []
    order = {g: i for i, g in enumerate(tf)}  # first occurrence breaks ties
    cands = sorted(tf, key=lambda g: (-tf[g], order[g]))[:TERM_CANDIDATES]
    total = archive.count(SearchRequest()) or 1

    def weight(g: str, df: int) -> float:
        return (1 + math.log(tf[g])) * math.log((total + 1) / max(df, 1))

    # The candidates in order of a weight from their document-frequency bounds (no
    # counting), then counted exactly in that order until enough are confirmed: the
    # distinctive ones come first and are the cheap ones to count (short posting
    # lists). Counting all twenty took seconds a document page at a million notices.
    bounded = sorted(cands, key=lambda g: (-weight(g, doc_freq(archive, g, bound=True)), g))
    scored = []
    for g in bounded[: n_terms + TERM_CANDIDATES // 2]:
        df = doc_freq(archive, g)
        if df <= 1 or df > total * 0.5:  # only this notice (and no other), or everywhere
            continue
        scored.append((weight(g, df), g))
        if len(scored) == n_terms:
            break
    scored.sort(key=lambda x: (-x[0], x[1]))
    return [g for _, g in scored[:n_terms]]


def _shingles(body: str) -> set[str]:
    return dedup.shingles(body[:SIMILAR_BODY_CHARS])


def similar_notices(archive: Archive, doc: dict[str, Any], limit: int = 5) -> list[dict[str, Any]]:
    """The notices closest in content to `doc` (an `Archive.get` dict), reposts excluded.

    Recall through an OR query of the key terms, precision through the 4-gram cosine of
    the bodies; candidates at or above REPOST_COSINE are copies of this notice and dropped.
    Each result is a hit dict plus `similarity` (0..1).
    """
    key = (_generation(archive), doc["id"], limit)
    cached = _similar_cache.get(key)
    if cached is not None:
        return cached
    body = doc.get("body") or ""
    terms = key_terms(archive, doc.get("title"), body)
    out: list[dict[str, Any]] = []
    if terms:
        q = " OR ".join(f'"{t}"' for t in terms)
        res = archive.search(SearchRequest(q=q, per_page=SIMILAR_CANDIDATES))
        mine = _shingles(body)
        scored = []
        for hit in res.hits:
            if hit.id == doc["id"]:
                continue
            other = archive.get(hit.id)
            if other is None:
                continue
            sim = dedup.cosine(mine, _shingles(other.get("body") or ""))
            if sim >= REPOST_COSINE or sim < MIN_SIMILARITY:
                continue
            item = asdict(hit)
            item["similarity"] = round(sim, 3)
            scored.append(item)
        scored.sort(key=lambda h: (-h["similarity"], h.get("date") or "", h["id"]))
        out = scored[:limit]
    _similar_cache.put(key, out)
    return out


# -- regions tree ------------------------------------------------------------------------


@dataclass
class RegionNode:
    code: str
    name: str
    count: int
    children: list["RegionNode"] = field(default_factory=list)

    @property
    def own(self) -> int:
        """Notices placed at this level itself (a province-level issuer, no city known)."""
        return self.count - sum(c.count for c in self.children)


_tree_cache = _LRU(8)


def region_tree(archive: Archive, max_depth: int = 3) -> tuple[int, list[RegionNode]]:
    """(total notices, provinces -> cities -> districts with counts), only where there are hits.

    Built from `Archive.region_counts()` (every level's counts at once); filler levels
    (市辖区) are folded into their parent. Cached per index generation.
    """
    key = (_generation(archive), max_depth)
    cached = _tree_cache.get(key)
    if cached is not None:
        return cached
    counts = archive.region_counts()
    by_parent: dict[str | None, list[str]] = {}
    for code in counts:
        anc = regions.ancestors(code)
        if not anc or anc[-1] != code or len(anc) > max_depth:
            continue
        by_parent.setdefault(anc[-2] if len(anc) > 1 else None, []).append(code)

    def children(code: str | None) -> list[RegionNode]:
        nodes: list[RegionNode] = []
        for c in by_parent.get(code, []):
            kids = children(c)
            name = region_name(c)
            if name in FILLER_PLACES:
                nodes.extend(kids)  # 北京市 -> 市辖区 -> 东城区 shows as 北京市 -> 东城区
                continue
            nodes.append(RegionNode(c, name, counts[c], kids))
        nodes.sort(key=lambda n: (-n.count, n.code))
        return nodes

    tree = (archive.count(SearchRequest()), children(None))
    _tree_cache.put(key, tree)
    return tree

"""Cut the notice out of a page: RawPage -> CleanedPage (title, paragraphs, raw meta).

Government and news pages wrap a few paragraphs of notice in navigation, bylines, share
bars, related-link lists and footers. The cleaner keeps what a reader would call the
notice (its title, body paragraphs, in-body tables, the signature and date at the end) and
drops the rest, but it first *reads* the page-level facts that boilerplate carries (meta
tags, 来源/发布时间 bylines, 信息公开 tables) into `meta`, because metadata.py needs them
and they are gone once the boilerplate is.

How the body is found (HTML):
1. Parse with lxml (fast, forgiving). Stray `</body>`/`</html>` tags are removed first:
   some pages close the document and then carry on with the article (two roots).
2. Hidden and non-content elements (script, style, display:none, aria-hidden ...) go.
3. Every block of text is scored by its Chinese text and punctuation, the score flows to
   its parent and grandparent, and each candidate container is discounted by its link
   density (readability-style). Containers used by common government CMSs (TRS_Editor,
   UCAP-CONTENT, zoom ...) get a bonus, so the known container wins when it holds the text
   and the scorer still works on sites nobody has seen.
4. The container is flattened into lines (block elements and <br> end a line, table rows
   become one line with cells separated by a space), and boilerplate lines are filtered by
   rule (bylines, editors, share/print tools, 上一篇/下一篇, trailing link lists, footers).
   Those line rules live in indexer/lines.py: this module finds the notice (markup,
   scoring, headings), lines.py judges its lines; plain-text inputs go straight to it.

Page facts read for metadata.py besides the labelled ones: the unlabelled stamp under the
heading (`2019-09-26 10:56:28 证券时报网`), the element a CMS marks as the source, the page's
mobile copy (`alternate_url`), the one link whose text is the title (`self_link`, for pages
saved without their address) and the site name a <title> ends with (`title_site`). On a
self-media platform's repost (澎湃号, 头条号 ...) the account named by the breadcrumb
(`澎湃号 > 中国广州发布`) is the source and the platform's channel is kept as `platform`.

Everything is iterative (lxml iterwalk) so a page nested 10,000 levels deep cannot raise
RecursionError; if anything still goes wrong the page falls back to a flat tag-stripped
text extraction rather than failing.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterable

from lxml import etree

from indexer.lines import (  # the line filters (see indexer/lines.py)
    _DATE_RE,
    _FOOTER_RE,
    _INFO_ANY_RE,
    _INFO_LABEL_RE,
    _PUNCT_RE,
    _SENT_END_RE,
    _cjk_len,
    _drop_author_head,
    _drop_pipe_tail,
    _drop_properties_block,
    _drop_related_tail,
    _drop_running_heads,
    _filter_lines,
    _is_byline,
    _is_markup_residue,
    _looks_like_heading,
    _nonspace_len,
    _nospace,
    _strip_cell_pipe,
    is_author_line,
    is_boilerplate_line,
    is_substantial,
    keep_substance,
    normalize_ws,
    read_byline,
    simplified,
)
from indexer.models import CleanedPage, RawPage

# Work bound: characters of HTML / text looked at. Real notices are far smaller; a page this
# large is a dump, and its first part is what matters.
MAX_HTML_CHARS = 6_000_000
MAX_TEXT_CHARS = 2_000_000

# --------------------------------------------------------------------------- tables of rules

_DROP_TAGS = {
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "select", "option", "button", "input", "textarea", "map", "audio", "video", "source",
    "head", "link", "meta", "dialog", "datalist", "math",
}
# Semantic page furniture; dropped unless it holds the article (checked by text size).
_FURNITURE_TAGS = {"nav", "footer", "aside"}

BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dir",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "html", "li", "main", "menu", "nav", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "caption", "legend",
    "frameset", "frame", "noframes",
})
_CELL_TAGS = frozenset({"td", "th"})
# Tags that may be the article container.
_NOT_CONTAINER = frozenset({"p", "a", "li", "h1", "h2", "h3", "h4", "h5", "h6", "b",
                            "strong", "em", "i", "u", "br", "img", "tr", "dt", "dd",
                            "ul", "ol", "dl", "html", "tbody", "thead", "table"})

# Known article containers: (attribute, value, bonus). Specific CMS names get a larger bonus
# than generic words like "content" that sites also use for whole-page wrappers.
_KNOWN_CONTAINERS: tuple[tuple[str, str, float], ...] = (
    ("class", "TRS_Editor", 2.0), ("class", "TRS_UEDITOR", 2.0), ("id", "UCAP-CONTENT", 2.0),
    ("class", "pages_content", 2.0), ("id", "zoom", 2.0), ("id", "Zoom", 2.0),
    ("id", "fontzoom", 2.0), ("class", "article-content", 2.0), ("class", "con_text", 2.0),
    ("class", "Custom_UnionStyle", 1.6), ("id", "detailContent", 1.8),
    ("class", "rm_txt_con", 1.6), ("id", "artibody", 1.8), ("id", "article_body", 1.6),
    ("class", "article_body", 1.6), ("class", "post_body", 1.6), ("id", "endText", 1.6),
    ("class", "vsb_content", 1.6), ("id", "vsb_content", 1.6), ("class", "wp_articlecontent", 1.6),
    ("id", "content", 1.3), ("class", "content", 1.3), ("class", "view", 1.3),
    ("class", "article", 1.15), ("class", "main-txt", 1.3), ("class", "u-mainText", 1.3),
    ("class", "articleCont", 1.3), ("id", "articleCont", 1.3), ("class", "detail_con", 1.2),
    ("id", "p-detail", 1.2), ("class", "news_txt", 1.3), ("class", "text_con", 1.1),
    ("class", "box_con", 1.2), ("id", "js_content", 2.0), ("class", "rich_media_content", 2.0),
)

# Class/id words of page furniture (matched as whole words of the attribute).
_JUNK_ATTR_RE = re.compile(
    r"(?:^|[\s_-])(?:share|bdshare|bdsharebuttonbox|social-share|print|printer|player|"
    r"qrcode|qr_container|ewm|erweima|comment|comments|toolbar|breadcrumb|crumbs?|"
    r"position|location|daty|pageShare|setFont|fontsize|related|xgxw|recommend|"
    r"nextpage|prevpage|pre-next|pagination|copyright|footer|foot|navbar)(?:$|[\s_-])",
    re.IGNORECASE,
)
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)

_META_PUBDATE = ("pubdate", "publishdate", "firstpublishedtime", "article:published_time",
                 "publishtime", "published_time", "og:release_date", "publish_date",
                 "releasedate", "dc.date", "dcterms.created", "created")
_META_SOURCE = ("contentsource", "source", "dc.publisher")
_META_TITLE = ("articletitle", "og:title", "twitter:title", "dc.title")

_TITLE_SEP_RE = re.compile(r"\s*(?:_+|\|+|｜|—{1,}|--+|-|–|::|：：)\s*")
_HEADING_ATTR_RE = re.compile(r"title|tit\b|tit[_-]|headline|biaoti|bt\b", re.IGNORECASE)


# --------------------------------------------------------------------------- small helpers


def _text(el: etree._Element) -> str:
    """All text inside an element (what lxml.html's text_content gives)."""
    return "".join(el.itertext())


# --------------------------------------------------------------------------- entry points


def clean_page(page: RawPage) -> CleanedPage:
    """Dispatch on the page kind; container hints (JSON-lines title) override the page."""
    if page.is_html:
        cleaned = clean_html(page.content, page.url)
    else:
        cleaned = clean_text(page.content)
    hint_title = page.hints.get("title") if page.hints else None
    if hint_title and hint_title.strip():
        cleaned.title = normalize_ws(hint_title)
    return cleaned


def clean_text(text: str) -> CleanedPage:
    """Plain text: same line rules as HTML, plus removal of a scraped headline-list tail.

    The title is the first line when it looks like a heading (short, no sentence end).
    """
    text = text[:MAX_TEXT_CHARS]
    lines = [normalize_ws(x) for x in text.splitlines()]
    lines = [x for x in lines if x]
    meta: dict[str, str] = {}
    lines = _drop_running_heads(lines)
    lines = _drop_properties_block(lines, meta)
    kept: list[str] = []
    chrome_after: set[int] = set()  # kept lines followed by site chrome (not a byline)
    for line in lines:
        if is_boilerplate_line(line):
            if _is_byline(line):
                read_byline(line, meta)
            elif kept:
                chrome_after.add(len(kept) - 1)
            continue
        if _is_markup_residue(line):
            continue
        kept.append(line)
    # A heading is followed by its text (or its byline); a short line followed by login
    # links or navigation is the site's banner (开启全网商机 / 登录/注册), not the title.
    head_is_banner = 0 in chrome_after
    if head_is_banner and len(kept[0]) <= 20 and not is_substantial(kept[0]):
        kept = kept[1:]
    before_tail = kept
    kept = _drop_pipe_tail(kept)
    kept = _drop_related_tail(kept)
    kept = keep_substance(before_tail, kept)
    kept = [_strip_cell_pipe(x) for x in kept]
    title = None
    if kept and _looks_like_heading(kept[0]) and not head_is_banner:
        title = kept[0]
    return CleanedPage(title=title, paragraphs=kept, meta=meta)


def clean_html(html: str, url: str | None = None) -> CleanedPage:
    """HTML page -> the notice (see the module docstring for how it is found)."""
    html = html[:MAX_HTML_CHARS]
    try:
        return _clean_html_tree(html, url)
    except (RecursionError, MemoryError, ValueError, etree.LxmlError):
        return _clean_html_flat(html)


def _clean_html_flat(html: str) -> CleanedPage:
    """Last resort for pages lxml cannot handle: strip tags, keep line structure."""
    text = re.sub(r"(?is)<(script|style|noscript|template)\b.*?</\1\s*>", " ", html)
    text = re.sub(r"(?is)<!--.*?-->", " ", text)
    title_m = re.search(r"(?is)<title[^>]*>(.*?)</title\s*>", text)
    text = re.sub(r"(?is)<head\b.*?</head\s*>", " ", text)
    text = re.sub(r"(?i)<(?:br|/p|/div|/tr|/li|/h\d|/table|p|div|tr|li|h\d)\b[^>]*>", "\n",
                  text)
    text = re.sub(r"<[^>]*>", " ", text)
    text = html_lib.unescape(text)
    cleaned = clean_text(text)
    if title_m:
        cleaned.title = strip_site_suffix(normalize_ws(html_lib.unescape(title_m.group(1))))
    return cleaned


# --------------------------------------------------------------------------- HTML pipeline


class _TooDeep(ValueError):
    """libxml2 stopped at its nesting limit (256): the tree is missing text."""


def _parse(html: str) -> etree._Element | None:
    # Some pages close </html> and then carry on with the article; libxml2 drops whatever
    # comes after the first </html>. Without the closing tags it keeps everything in <body>.
    html = re.sub(r"(?i)</\s*(?:html|body)\s*>", "", html)
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)  # str input may not carry an encoding decl
    if not html.strip():
        return None
    # A parser per call: lxml parsers keep state (error_log) and are not shared safely.
    # Plain etree elements, not lxml.html's HtmlElement: the html flavour looks up a Python
    # element class for every node touched, which was the largest single cost of cleaning.
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, recover=True)
    try:
        root = etree.fromstring(html, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    if root is None:
        return None
    if any("Excessive depth" in e.message for e in parser.error_log):
        raise _TooDeep("nesting deeper than the parser's limit")
    return root


def _clean_html_tree(html: str, url: str | None) -> CleanedPage:
    root = _parse(html)
    if root is None:
        return CleanedPage(title=None, paragraphs=[], meta={})
    meta: dict[str, str] = {}
    doc_title, meta_title = _read_head(root, meta)
    _read_script_stamp(html, meta)
    body = root.find("body")
    if body is None:
        body = root
    if _INFO_ANY_RE.search(_text(body)):  # most pages have no 信息公开 table: skip the walk
        _read_info_table(body, meta)
    _drop_invisible(body)
    scores = _score(body)
    container = _pick_container(body, scores)
    _read_bylines(body, container, meta)
    if container is None:
        rescued = _visible_prose(body)
        return CleanedPage(title=strip_site_suffix(doc_title) or meta_title,
                           paragraphs=rescued, meta=meta)
    _drop_furniture(container)
    lines = _lines(container)
    heading_el, title = _find_title(body, container, doc_title, meta_title, meta)
    lines = _filter_lines(lines, meta)
    paragraphs = [t for t, _ in lines]
    paragraphs = _drop_author_head(paragraphs, meta)
    if not any(is_substantial(p) for p in paragraphs):
        # The scorer or a filter took the notice for furniture (a notice wrapped in a
        # link, a container out-scored by a menu): visible prose is never dropped.
        paragraphs += [x for x in _visible_prose(body) if x not in paragraphs]
    title_lines = _title_lines(heading_el, title, meta)
    if title_lines and heading_el is not None:
        kicker, subtitle = _companion_headings(heading_el, container, meta)
        title_lines = kicker + title_lines + subtitle
    if title_lines:
        title = " ".join(title_lines)
        paragraphs = _with_title(paragraphs, title_lines)
    if heading_el is not None and "byline_date" not in meta:
        _read_heading_stamp(heading_el, meta)
    if title_lines and "canonical" not in meta:
        _read_self_link(body, title_lines, meta)
    site = _title_site(doc_title)
    if site:
        meta.setdefault("title_site", site)
    return CleanedPage(title=title, paragraphs=paragraphs, meta=meta)


# WeChat article pages carry their publication time only in a script (`var ct = "1716969600"`,
# seconds since 1970) that fills <em id="publish_time"> in the browser.
_SCRIPT_STAMP_RE = re.compile(r"""\bvar\s+(?:ct|create_time)\s*=\s*["']?(1\d{9})["']?""")


def _read_script_stamp(html: str, meta: dict[str, str]) -> None:
    if "pubdate" in meta or "var " not in html:
        return
    m = _SCRIPT_STAMP_RE.search(html)
    if m:
        import datetime as _dt
        stamp = _dt.datetime.fromtimestamp(int(m.group(1)), _dt.timezone(_dt.timedelta(hours=8)))
        meta["pubdate"] = stamp.strftime("%Y-%m-%d %H:%M:%S")


def _visible_prose(body: etree._Element) -> list[str]:
    """The substantial paragraphs of the visible page (hidden elements already gone),
    in page order, without boilerplate lines: what is left when no container holds text."""
    return [t for t, _ in _lines(body) if is_substantial(t) and not is_boilerplate_line(t)]


_CLOCK_RE = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?")
_WEEKDAY_RE = re.compile(r"星期[一二三四五六日天]|周[一二三四五六日]")
# A name standing next to an unlabelled stamp is the source only when it reads as an outlet
# or an organ (证券时报网, 某某区人民政府), not a column or an account nickname.
_OUTLET_END_RE = re.compile(
    r"(?:网|报|社|台|新闻|客户端|杂志|频道|在线|融媒|委员会|委|政府|办公室|办公厅|办|局|厅|部|院|"
    r"中心|办事处|街道)$"
)


def _read_heading_stamp(heading_el: etree._Element, meta: dict[str, str]) -> None:
    """The unlabelled info bar right under the heading: `2019-09-26 10:56:28 证券时报网` or
    `2019-05-17 · 苏皖城市报道`. Many news CMSs print the publication stamp there with no
    发布时间 label, so the label-driven byline scan misses it. Only the few blocks that
    follow the heading are read, and only a short line that starts with a date or carries
    a clock time counts: a date inside prose is an event, not a publication stamp."""
    blocks: list[etree._Element] = []
    el: etree._Element | None = heading_el
    for _ in range(2):  # the heading's own siblings, then those of its wrapper
        if el is None:
            break
        sib = el.getnext()
        while sib is not None and len(blocks) < 6:
            if isinstance(sib.tag, str):
                blocks.append(sib)
            sib = sib.getnext()
        if blocks:
            break
        el = el.getparent()
    seen = 0
    for blk in blocks[:3]:
        if _nonspace_len(_text(blk)) > 300:
            return  # the body itself: no info bar between heading and text
        for line, _ in _lines(blk, max_lines=20):
            line = simplified(line)
            seen += 1
            if len(line) > 60 or re.search(r"[。，；！？]", line) or seen > 6:
                return  # prose has begun: a date from here on is an event or a signature
            d = _DATE_RE.search(line)
            if not d or not (d.start() == 0 or d.group(4)):  # leads the line, or has a clock
                continue
            meta["byline_date"] = d.group(0).strip()
            rest = _CLOCK_RE.sub(" ", line[: d.start()] + " " + line[d.end():])
            rest = normalize_ws(re.sub(r"[·•|｜/]", " ", rest))
            if ("source" not in meta and rest and " " not in rest and 3 <= len(rest) <= 20
                    and _cjk_len(rest) == len(rest) and not _WEEKDAY_RE.search(rest)
                    and _OUTLET_END_RE.search(rest)):
                meta["source"] = rest
            return


def _read_self_link(body: etree._Element, title_lines: list[str], meta: dict[str, str]) -> None:
    """A page saved without its address often still links to itself: a magazine's table of
    contents or a column list beside the article holds an entry whose text is the article's
    title. That entry's address is this page's address (it dates the page as a canonical
    URL would). Ambiguous when several different addresses carry the title: then none."""
    wanted = {_nospace(" ".join(title_lines))} | {_nospace(t) for t in title_lines}
    wanted = {w for w in wanted if len(w) >= 6}
    if not wanted:
        return
    hrefs: set[str] = set()
    for a in body.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or not _is_article_url(href):
            continue
        if _nospace(_text(a)).rstrip("\u00a0") in wanted:
            hrefs.add(href)
    if len(hrefs) == 1:
        meta["self_link"] = hrefs.pop()


def _title_site(doc_title: str) -> str | None:
    """The site name a <title> ends with (`标题 东区办事处_中山网` -> `中山网`), or None."""
    if not doc_title:
        return None
    parts = [p for p in _TITLE_SEP_RE.split(normalize_ws(doc_title)) if p]
    if len(parts) < 2:
        return None
    last = parts[-1]
    if 2 <= len(last) <= 12 and _cjk_len(last) >= 2 and not re.search(r"\s", last):
        return last
    return None


def _read_head(root: etree._Element, meta: dict[str, str]) -> tuple[str, str | None]:
    """Meta tags and <title> (anywhere in the document: broken pages put them in body)."""
    doc_title = ""
    meta_title: str | None = None
    for el in root.iter("title"):
        t = normalize_ws(_text(el))
        if t:
            doc_title = t
            break
    for el in root.iter("meta"):
        name = (el.get("name") or el.get("property") or el.get("itemprop") or "").strip().lower()
        content = normalize_ws(el.get("content") or "")
        if name == "mobile-agent" or (el.get("http-equiv") or "").strip().lower() == "mobile-agent":
            # format=html5; url=http://m.site/2019-09-26/1.html: this page's own mobile copy,
            # whose address dates the page like the canonical one (not an id: other host)
            m = re.search(r"url\s*=\s*(\S+)", content)
            if m and _is_article_url(m.group(1)):
                meta.setdefault("alternate_url", m.group(1))
            continue
        if not name or not content:
            continue
        if name in _META_PUBDATE and "pubdate" not in meta:
            meta["pubdate"] = content
        elif name in _META_SOURCE and "meta_source" not in meta:
            meta["meta_source"] = content
        elif name == "siteidcode":
            meta.setdefault("site_id_code", content)
        elif name in ("og:url", "url") and _is_article_url(content):
            meta.setdefault("canonical", content)
        elif name in _META_TITLE and meta_title is None:
            meta_title = content
        elif name in ("columnname", "column"):
            meta.setdefault("column", content)
        elif name in ("sitename", "og:site_name"):
            meta.setdefault("site_name", content)
    for el in root.iter("link"):
        href = (el.get("href") or "").strip()
        if (el.get("rel") or "").lower() == "canonical" and _is_article_url(href):
            meta["canonical"] = href
            break
    return doc_title, meta_title


def _is_article_url(url: str) -> bool:
    """An absolute URL with a path: a site's home page is no canonical address of a notice."""
    m = re.match(r"https?://[^/\s]+(/\S*)?$", url)
    return bool(m and m.group(1) and m.group(1).strip("/"))


def _read_info_table(body: etree._Element, meta: dict[str, str]) -> None:
    """信息公开 label/value rows (索引号, 发文机关, 成文日期 ...) -> meta info_<label>."""
    for el in body.iter("td", "th", "span", "li", "p", "div", "dt", "dd", "b", "strong",
                        "label", "em"):
        if len(el) > 4:
            continue
        text = normalize_ws(_text(el))
        if not text or len(text) > 80:
            continue
        m = _INFO_LABEL_RE.match(text)
        if not m:
            continue
        label, value = m.group(1), m.group(2).strip()
        if label in ("标题", "名称", "信息来源") and not value:
            pass
        if not value:
            sib = el.getnext()
            if sib is None and el.getparent() is not None and el.tag in ("b", "strong", "label",
                                                                          "em"):
                value = normalize_ws(el.tail or "")
            elif sib is not None:
                value = normalize_ws(_text(sib))
        elif not re.search(r"[:：]", text[: len(label) + 2]):
            continue  # "标题党..." — a label word without a colon starts ordinary text
        # A value runs until the next "标签：" or a wide gap.
        value = re.split(r"\s{2,}|\s*[\u4e00-\u9fff]{2,6}\s*[:：]", value, maxsplit=1)[0].strip()
        if value and len(value) <= 120 and not _INFO_LABEL_RE.match(value):
            meta.setdefault(f"info_{label}", value)


def _drop_invisible(body: etree._Element) -> None:
    """Remove elements nobody sees: scripts, styles, hidden blocks, form widgets.

    One exception: a block hidden by its style that holds most of the page's text is the
    article waiting for a script to reveal it (WeChat's `<div id="js_content"
    style="visibility: hidden;">`, pages that fade their text in). Readers see it, so it
    stays; small hidden blocks inside it still go."""
    doomed = []
    hidden = []
    for el in body.iter():
        tag = el.tag
        if not isinstance(tag, str):
            doomed.append(el)  # comments / processing instructions that survived
            continue
        tag = tag.lower()
        if tag in _DROP_TAGS:
            doomed.append(el)
            continue
        if el.get("hidden") is not None or (el.get("aria-hidden") or "").lower() == "true":
            doomed.append(el)
            continue
        style = el.get("style")
        if style and _HIDDEN_STYLE_RE.search(style):
            hidden.append(el)
    for el in doomed:
        _drop(el)
    if not hidden:
        return
    page_cjk = _cjk_len(_text(body))
    for el in hidden:
        if el.getparent() is None and el is not body:
            continue  # inside an element already dropped
        if not _holds_main_text(el, page_cjk):
            _drop(el)


def _holds_main_text(el: etree._Element, page_cjk: int) -> bool:
    """A hidden block that is the page's main text: prose, and most of the page's words."""
    text = _text(el)
    n = _cjk_len(text)
    return n >= 100 and n >= 0.5 * page_cjk and len(_PUNCT_RE.findall(text)) >= 5


def _drop(el: etree._Element) -> None:
    """Remove an element but keep its tail text (which belongs to the parent)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is None:
            parent.text = (parent.text or "") + el.tail
        else:
            prev.tail = (prev.tail or "") + el.tail
    parent.remove(el)


class _Stat:
    __slots__ = ("start_total", "start_link", "total", "link", "score")

    def __init__(self) -> None:
        self.start_total = self.start_link = self.total = self.link = 0
        self.score = 0.0


def _score(body: etree._Element) -> dict[etree._Element, _Stat]:
    """Readability-style scores: paragraph text credits its block, parent and grandparent.

    One iterative walk collects, per element, the non-space characters of its subtree and
    of links within it, and per block the text it owns directly (not inside a nested block).
    """
    stats: dict[etree._Element, _Stat] = {}
    own: dict[etree._Element, list[str]] = {}
    own_link: dict[etree._Element, int] = {}
    block_stack: list[etree._Element] = []
    total = link = 0
    link_depth = 0

    def add(text: str | None) -> None:
        nonlocal total, link
        if not text or not block_stack:
            return
        n = _nonspace_len(text)
        if not n:
            return
        total += n
        blk = block_stack[-1]
        own.setdefault(blk, []).append(text)
        if link_depth:
            link += n
            own_link[blk] = own_link.get(blk, 0) + n

    for event, el in etree.iterwalk(body, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            st = _Stat()
            st.start_total, st.start_link = total, link
            stats[el] = st
            if tag in BLOCK_TAGS or tag in _CELL_TAGS or el is body:
                block_stack.append(el)
            if tag == "a":
                link_depth += 1
            add(el.text)
        else:
            st = stats[el]
            st.total, st.link = total - st.start_total, link - st.start_link
            if tag == "a":
                link_depth -= 1
            if block_stack and block_stack[-1] is el:
                block_stack.pop()
            add(el.tail)

    for blk, parts in own.items():
        text = "".join(parts)
        n = _nonspace_len(text)
        nonlink = n - own_link.get(blk, 0)
        if nonlink < 8 or own_link.get(blk, 0) > 0.5 * n:
            continue
        plain = text if not own_link.get(blk) else text  # link text is in `text`, discounted
        if nonlink < 600 and _FOOTER_RE.search(plain):
            continue  # a copyright / ICP / contact block, however wordy
        punct = len(_PUNCT_RE.findall(plain))
        para = min(nonlink, 2000) / 12.0 + punct
        if blk.tag not in _NOT_CONTAINER:
            stats[blk].score += para
        parent = blk.getparent()
        if parent is not None and parent in stats:
            stats[parent].score += para
            grand = parent.getparent()
            if grand is not None and grand in stats:
                stats[grand].score += para / 2
    return stats


def _bonus(el: etree._Element) -> float:
    best = 1.0
    cls = el.get("class")
    ident = el.get("id")
    if not cls and not ident:
        return best
    classes = set(cls.split()) if cls else set()
    for attr, value, bonus in _KNOWN_CONTAINERS:
        if (attr == "class" and value in classes) or (attr == "id" and ident == value):
            best = max(best, bonus)
    return best


def _pick_container(body: etree._Element,
                    stats: dict[etree._Element, _Stat]) -> etree._Element | None:
    best, best_score = None, 0.0
    for el, st in stats.items():
        if st.score <= 0 or not isinstance(el.tag, str) or el.tag in _NOT_CONTAINER:
            continue
        density = st.link / st.total if st.total else 1.0
        final = st.score * (1.0 - density) ** 2 * _bonus(el)
        attrs = " ".join(filter(None, (el.get("class"), el.get("id"))))
        if attrs and _JUNK_ATTR_RE.search(attrs):
            final *= 0.3  # footer / comment / share blocks are never the notice
        if final > best_score:
            best, best_score = el, final
    if best is None:
        return None
    # Known CMS containers first: when one holds real text, trust it over the scorer (a
    # sidebar of comment snippets can out-score a short notice).
    known, known_score = None, 0.0
    for el, st in stats.items():
        if st.score <= 0 or not isinstance(el.tag, str) or _bonus(el) < 1.6:
            continue
        nonlink = st.total - st.link
        if nonlink < 30 or st.link > 0.3 * st.total:
            continue
        if st.score > known_score:
            known, known_score = el, st.score
    if known is not None and known is not best:
        best_st, known_st = stats[best], stats[known]
        best_text = best_st.total - best_st.link
        known_text = known_st.total - known_st.link
        if known_text >= 200 or known_text >= 0.25 * best_text:
            return known
    return best


def _drop_furniture(container: etree._Element) -> None:
    """Inside the chosen container, drop share bars, players, nav ... by class/tag."""
    doomed = []
    for el in container.iter():
        if el is container or not isinstance(el.tag, str):
            continue
        attrs = " ".join(filter(None, (el.get("class"), el.get("id"))))
        if el.tag in _FURNITURE_TAGS or (attrs and _JUNK_ATTR_RE.search(attrs)):
            text = _text(el)
            if _cjk_len(text) < 200 or el.tag in ("nav", "footer"):
                doomed.append(el)
    for el in doomed:
        if el.getparent() is not None:
            _drop(el)


# class/id of the element news CMSs print the source in (source, source_baidu, m-con-source).
_SOURCE_ATTR_RE = re.compile(
    r"^(?:(?:m-con|article|art|news|info|text|detail|post)[-_]?)?source(?:[-_]?(?:baidu|name|txt|text))?$",
    re.IGNORECASE,
)


def _read_source_element(body: etree._Element, meta: dict[str, str]) -> None:
    """来源 from the element a CMS marks as the source (`<span id="source_baidu">`,
    `<a class="source">每日经济新闻</a>`). Read before the line scan because the line joins
    neighbours (来源：中国新闻网 + the author's name, or the hosting site's own name) that
    the element keeps apart."""
    for el in body.iter():
        if not isinstance(el.tag, str) or el.tag in ("body", "html"):
            continue
        tokens = (el.get("class") or "").split() + (el.get("id") or "").split()
        if not any(_SOURCE_ATTR_RE.match(t) for t in tokens):
            continue
        text = normalize_ws(_text(el))
        if not text or len(text) > 60:
            continue
        if "来源" in simplified(text):
            read_byline(text, meta)
        elif 2 <= _cjk_len(text) and len(text) <= 30 and not re.search(r"\d|[:：]", text):
            meta["source"] = text
        if "source" in meta:
            return


def _read_bylines(body: etree._Element, container: etree._Element | None,
                  meta: dict[str, str]) -> None:
    """Scan short lines of the page for 来源 / 发布时间 values."""
    _read_source_element(body, meta)
    for text, _ in _lines(body, max_lines=4000):
        if len(text) <= 150 and (("来源" in text) or ("时间" in text) or ("日期" in text)
                                 or "来源于" in text):
            read_byline(text, meta)
        if "source" in meta and "byline_date" in meta:
            break
    if "source" not in meta and "meta_source" in meta:
        meta["source"] = meta["meta_source"]
    meta.pop("meta_source", None)
    if _PLATFORM_RE.search(meta.get("source", "")):
        _read_platform_account(body, meta)


# Self-media platforms that repost government accounts: 来源 names the platform's channel
# (澎湃新闻·澎湃号·政务), not the account that wrote the text.
_PLATFORM = r"(?:澎湃号|头条号|百家号|网易号|搜狐号|企鹅号|大风号|一点号|人民号|新浪看点)"
_PLATFORM_RE = re.compile(_PLATFORM)
_PLATFORM_CRUMB_RE = re.compile(
    r"^(?:[^>»＞›]{0,20}[>»＞›]\s*)?" + _PLATFORM + r"(?:[·・][^>»＞›]{1,6})?\s*[>»＞›]\s*"
    r"([^>»＞›\s]{2,20})\s*$")


def _read_platform_account(body: etree._Element, meta: dict[str, str]) -> None:
    """A repost on a self-media platform (澎湃号, 头条号 ...) is the account's text: the
    account (中国广州发布) is named by the page's breadcrumb (`澎湃号 > 中国广州发布`), and
    it, not the platform, becomes the source; the platform is kept as `platform`."""
    for text, _ in _lines(body, max_lines=4000):
        m = _PLATFORM_CRUMB_RE.match(text)
        if m:
            meta["platform"] = meta["source"]
            meta["source"] = m.group(1)
            return


def _lines(root: etree._Element, max_lines: int = 100_000) -> list[tuple[str, float]]:
    """Flatten a subtree into (line, link share) pairs.

    Blocks and <br> end a line; table cells are separated by a space; everything else is
    inline. Iterative, so nesting depth does not matter.
    """
    out: list[tuple[str, float]] = []
    buf: list[str] = []
    link_chars = 0
    link_depth = 0

    def flush() -> None:
        nonlocal link_chars
        if buf:
            line = normalize_ws("".join(buf))
            if line:
                n = _nonspace_len(line)
                out.append((line, min(1.0, link_chars / n) if n else 0.0))
            buf.clear()
        link_chars = 0

    def add(text: str | None) -> None:
        nonlocal link_chars
        if text:
            buf.append(text)
            if link_depth:
                link_chars += _nonspace_len(text)

    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in BLOCK_TAGS or tag == "br":
                flush()
            elif tag in _CELL_TAGS:
                buf.append(" ")
            if tag == "a":
                link_depth += 1
            if tag == "img":
                pass
            add(el.text)
        else:
            if tag == "a":
                link_depth -= 1
            if tag in BLOCK_TAGS:
                flush()
            elif tag in _CELL_TAGS:
                buf.append(" ")
            if el is not root:
                add(el.tail)
        if len(out) >= max_lines:
            break
    flush()
    return out


# --------------------------------------------------------------------------- title


def strip_site_suffix(title: str | None) -> str | None:
    """`标题_栏目_网站名` -> `标题`: drop short trailing parts after _ | - — separators."""
    if not title:
        return None
    title = normalize_ws(title)
    parts = [p for p in _TITLE_SEP_RE.split(title)]
    seps = _TITLE_SEP_RE.findall(title)
    if not seps:
        return title
    # Rebuild from the left, dropping short trailing parts (site / column names).
    while len(parts) > 1 and (len(parts[-1]) <= 16 or not parts[-1]):
        parts.pop()
        seps.pop()
    rebuilt = parts[0]
    for sep, part in zip(seps, parts[1:]):
        rebuilt += sep + part
    rebuilt = rebuilt.strip(" _|-—–")
    return rebuilt or title


def _find_title(body: etree._Element, container: etree._Element, doc_title: str,
                meta_title: str | None,
                meta: dict[str, str] | None = None) -> tuple[etree._Element | None, str | None]:
    """The displayed heading of the notice.

    A heading (h1-h3 or a *title* class) whose text matches <title> / ArticleTitle wins.
    When <title> only names the column or site (`评论——网站名`), the nearest heading above
    the body container is used instead.
    """
    meta = meta or {}
    ref = strip_site_suffix(doc_title) or ""
    weak = {_nospace(v) for k, v in meta.items() if k in ("column", "site_name") and v}
    refs = [r for r in (_nospace(x) for x in (meta_title, ref, doc_title) if x)
            if r and r not in weak and len(r) >= 4]
    best, best_score, best_text = None, 0.0, None
    fallback, fallback_key, fallback_text = None, None, None
    container_pos = None
    for pos, el in enumerate(body.iter()):
        if el is container:
            container_pos = pos
        if not isinstance(el.tag, str):
            continue
        tag = el.tag
        is_h = tag in ("h1", "h2", "h3")
        if not is_h:
            attrs = " ".join(filter(None, (el.get("class"), el.get("id"))))
            if not attrs or not _HEADING_ATTR_RE.search(attrs) or tag in ("a", "body", "img"):
                continue
        text = normalize_ws(_text(el))
        if not (4 <= len(text) <= 150) or is_boilerplate_line(text):
            continue
        ns = _nospace(text)
        score = 0.0
        for r in refs:
            if ns == r:
                score = max(score, 3.0)
            elif len(ns) >= 6 and (ns in r or r in ns):
                score = max(score, 1.0 + min(len(ns), len(r)) / max(len(ns), len(r)))
        if score > 0:
            if tag == "h1":
                score += 0.3
            if score > best_score:
                best, best_score, best_text = el, score, text
            continue
        # Fallback: a real-looking heading before (or at the top of) the container.
        if container_pos is not None and pos > container_pos + 50:
            continue
        if _cjk_len(text) < 5 or _SENT_END_RE.search(text):
            continue
        prio = {"h1": 3, "h2": 2, "h3": 1}.get(tag, 2)
        key = (prio, pos)
        if fallback_key is None or key > fallback_key:
            fallback, fallback_key, fallback_text = el, key, text
    if best is not None:
        return best, best_text
    if meta_title and _nospace(meta_title) not in weak:
        return None, normalize_ws(meta_title)
    if fallback is not None:
        return fallback, fallback_text
    return None, ref or None


def _companion_text(el: etree._Element, heading_tag: str, meta: dict[str, str]) -> str | None:
    """The text of `el` when it is one more line of a heading printed over several
    elements (a kicker above the main line, a subtitle below it), else None."""
    if not isinstance(el.tag, str) or el.tag in ("a", "img", "table", "ul", "ol", "li", "script"):
        return None
    attrs = " ".join(filter(None, (el.get("class"), el.get("id"))))
    if not (el.tag in ("h1", "h2", "h3", "h4") or el.tag == heading_tag
            or (attrs and _HEADING_ATTR_RE.search(attrs))):
        return None
    if el.find(".//a[@href]") is not None or len(el) > 3:
        return None  # a link or a block of markup: navigation, not a heading line
    text = normalize_ws(_TAG_TEXT_RE.sub("", _text(el)))
    # A column name above the heading (通知公告, 工作动态) is short; a heading line carries
    # a statement of its own (推进新征程纪检监察工作高质量发展).
    if not (8 <= _cjk_len(text) and len(text) <= 60) or _SENT_END_RE.search(text):
        return None
    if is_boilerplate_line(text) or _DATE_RE.search(text) or is_author_line(text):
        return None
    weak = {_nospace(v) for k, v in meta.items() if k in ("column", "site_name", "title_site") and v}
    if _nospace(text) in weak:
        return None
    return text


def _companion_headings(heading_el: etree._Element, container: etree._Element | None,
                        meta: dict[str, str]) -> tuple[list[str], list[str]]:
    """Lines printed with the heading in sibling elements: ([kicker], [subtitle]).

    Chinese news and commission pages print a two- or three-line heading (引题 / 主题 /
    副题) as separate elements; <title> often names only the main line, so the heading
    found by matching it would lose the others (推进新征程纪检监察工作高质量发展 before
    常态长效深化落实中央八项规定精神). A direct sibling that is itself heading-like (same
    tag, an h1-h4 or a *title* class; short; no sentence, date, byline or link) is one
    more line of the heading. When the heading sits alone in a wrapper, the wrapper's
    siblings are looked at instead."""
    el = heading_el
    for _ in range(2):
        parent = el.getparent()
        siblings = [x for x in (parent if parent is not None else [])
                    if isinstance(x.tag, str) and normalize_ws(_text(x))]
        if len(siblings) > 1 or parent is None or parent.tag == "body":
            break
        el = parent
    if container is not None and (el is container or any(a is el for a in container.iterancestors())):
        return [], []
    tag = heading_el.tag if isinstance(heading_el.tag, str) else ""

    def walk(step: str) -> list[str]:
        out: list[str] = []
        cur = el
        for _ in range(2):
            cur = cur.getprevious() if step == "prev" else cur.getnext()
            while cur is not None and (not isinstance(cur.tag, str) or not normalize_ws(_text(cur))):
                cur = cur.getprevious() if step == "prev" else cur.getnext()
            if cur is None or cur is container:
                break
            line = _companion_text(cur, tag, meta)
            if line is None:
                break
            out.append(line)
        return out[::-1] if step == "prev" else out

    return walk("prev"), walk("next")


_TAG_TEXT_RE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")


def _title_lines(heading_el: etree._Element | None, title: str | None,
                 meta: dict[str, str]) -> list[str]:
    """The heading as displayed, one line per block, without author lines.

    Some CMSs store the title HTML-escaped, so `<p><span>标题</span></p>` shows up as text:
    such tag-like text is removed.
    """
    if heading_el is not None:
        raw = [t for t, _ in _lines(heading_el)]
    elif title:
        raw = [title]
    else:
        return []
    source_names = [v for k, v in meta.items() if k in ("source", "site_name") and v]
    out = []
    for line in raw:
        line = normalize_ws(_TAG_TEXT_RE.sub("", line))
        if not line or is_author_line(line, source_names) or is_boilerplate_line(line):
            continue
        out.append(line)
    return out


def _with_title(paragraphs: list[str], title_lines: list[str]) -> list[str]:
    """Make the body start with the displayed title unless it already does."""
    title = " ".join(title_lines)
    t = _nospace(title)
    if not t:
        return paragraphs
    joined = ""
    for i, p in enumerate(paragraphs[:4]):
        joined += _nospace(p)
        if joined == t or (len(t) >= 8 and t in joined and i == 0):
            return paragraphs
        if not t.startswith(joined):
            break
    # Drop a repeated title line further down the first lines (mobile/PC duplicates).
    rest = [p for i, p in enumerate(paragraphs) if not (i < 3 and _nospace(p) == t)]
    return list(title_lines) + rest


def iter_clean(pages: Iterable[RawPage]) -> Iterable[CleanedPage]:
    """Convenience: clean a stream of pages."""
    for page in pages:
        yield clean_page(page)

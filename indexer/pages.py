"""Page-shaping helpers for the web pages: plain data in, plain data out, no Flask.

The routes in app.py hand these functions the search layer's result dicts and the request's
parameters, and pass their output to the templates. Keeping them here (DESIGN.md: views that
shape data for pages belong in a module of their own) means each one can be tested without an
app or a request, and the routes stay a few lines each.

Where a helper needs links to other searches it takes a `link(params, **changes) -> str`
callable (app.search_url in the app), so URL building stays with the web framework.
"""

from __future__ import annotations

import calendar
import html
import datetime
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from indexer import regions

PAGE_WINDOW = 2         # page links shown on each side of the current page
# Names that carry no information in a place line ("北京市 市辖区 东城区").
FILLER_PLACES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}

# link(params, **changes) -> URL of the search `params` with `changes` applied (None removes).
Link = Callable[..., str]


def place(item: dict[str, Any]) -> str:
    """Province, city and district joined, without repeating municipality names."""
    parts: list[str] = []
    for key in ("province", "city", "district"):
        name = item.get(key)
        if name and name not in parts and name not in FILLER_PLACES:
            parts.append(name)
    return "".join(parts)


def format_ms(value: float | None) -> str:
    value = float(value or 0)
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def safe_link(url: str | None) -> str | None:
    """The URL if a browser may follow it from our page (absolute http/https), else None."""
    if not url or len(url) > 2000:
        return None
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def date_input_type(value: str | None) -> str:
    """Always `text`: a native date control follows the browser's language (mm/dd/yyyy in an
    English-language browser), while readers here write year first; the server reads the
    common forms (2018-01-01, 2018/1/1, 2018.1.1, 2018年1月1日)."""
    return "text"


def region_trail(region: dict[str, Any] | None) -> list[dict[str, str]]:
    """The current region filter as breadcrumbs (province -> city -> district)."""
    if not region:
        return []
    return [p for p in region.get("path") or [] if p.get("name") not in FILLER_PLACES]


def year_range(label: str) -> tuple[str, str] | None:
    """The date range of a timeline label: 'YYYY' or 'YYYY-MM'."""
    if re.fullmatch(r"\d{4}", label):
        return f"{label}-01-01", f"{label}-12-31"
    m = re.fullmatch(r"(\d{4})-(\d{2})", label)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        if 1 <= mo <= 12:
            last = calendar.monthrange(y, mo)[1]
            return f"{label}-01", f"{label}-{last:02d}"
    return None


def label_zh(label: str) -> str:
    if re.fullmatch(r"\d{4}", label):
        return f"{label} 年"
    m = re.fullmatch(r"(\d{4})-(\d{2})", label)
    if m:
        return f"{m.group(1)} 年 {int(m.group(2))} 月"
    return label


def fill_months(timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A monthly timeline with its empty months put back, so bars are evenly spaced in time.

    (Yearly timelines already come continuous from the search layer.)
    """
    labels = [t["label"] for t in timeline]
    if not labels or not all(re.fullmatch(r"\d{4}-\d{2}", x) for x in labels):
        return timeline
    counts = {t["label"]: t["count"] for t in timeline}
    y, m = (int(x) for x in labels[0].split("-"))
    end = tuple(int(x) for x in labels[-1].split("-"))
    out: list[dict[str, Any]] = []
    while (y, m) <= end and len(out) < 600:
        label = f"{y:04d}-{m:02d}"
        out.append({"label": label, "count": counts.get(label, 0)})
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def timeline_chart(timeline: list[dict[str, Any]], params: dict[str, str], link: Link) -> dict[str, Any] | None:
    """Geometry of the inline SVG bar chart (computed here so the template stays simple)."""
    if not timeline or len(timeline) < 2 and not timeline[0].get("count"):
        return None
    timeline = fill_months(timeline)
    n = len(timeline)
    # Wide enough for readable labels, never wider than the results column.
    width, height, top, bottom = float(min(720, max(360, n * 60))), 150.0, 18.0, 22.0
    pad = 28.0  # room for the first and last label, which are centred on their bars
    slot = (width - 2 * pad) / n
    bar_w = max(2.0, min(48.0, slot * 0.7))
    peak = max((t["count"] for t in timeline), default=0) or 1
    chars = max(len(t["label"]) for t in timeline)
    # Label every k-th bar so labels never overlap (about 7 units per character).
    step = max(1, math.ceil((chars * 8.0 + 8) / slot))
    monthly = chars > 4
    cur = (params.get("from"), params.get("to"))
    bars = []
    for i, t in enumerate(timeline):
        count = int(t["count"])
        h = (height - top - bottom) * count / peak
        if count and h < 2:
            h = 2.0
        x = pad + i * slot + (slot - bar_w) / 2
        rng = year_range(t["label"])
        href = link(params, from_=rng[0], to=rng[1]) if rng and count else None
        bars.append({
            "x": round(x, 1),
            "y": round(height - bottom - h, 1),
            "w": round(bar_w, 1),
            "h": round(h, 1),
            "cx": round(x + bar_w / 2, 1),
            "count": count,
            "label": t["label"],
            "title": f"{label_zh(t['label'])}：{count} 条",
            # the link's name says what clicking does (it filters), not only what it shows
            "link_label": f"{label_zh(t['label'])}：{count} 条，点击按{'年' if len(t['label']) == 4 else '月'}筛选",
            "show_label": i % step == 0,
            "show_count": count > 0 and slot >= 22,
            "href": href,
            "current": rng is not None and cur == rng,
        })
    summary = "，".join(f"{label_zh(t['label'])} {t['count']} 条" for t in timeline if t["count"])
    unit = "月" if monthly else "年"
    counted = [t for t in timeline if t["count"]]
    top = max(counted, key=lambda t: t["count"]) if counted else None
    # One line for phones, where the chart itself is folded away.
    brief = (f"{label_zh(timeline[0]['label'])}至{label_zh(timeline[-1]['label'])}，"
             f"最多为{label_zh(top['label'])}（{top['count']} 条）") if top else "无"
    return {
        "width": int(width),
        "height": int(height),
        "baseline": height - bottom,
        "bars": bars,
        "label_y": height - 6,
        "aria": f"按{unit}份统计的命中数：{summary}",
        "unit": unit,
        "brief": brief,
        # Too wide to shrink onto a phone legibly: scroll sideways there instead.
        "wide": width > 480,
    }


def page_window(page: int, pages: int) -> list[int | None]:
    """Page numbers around the current page, with None for a gap (…)."""
    wanted = {1, pages} | set(range(max(1, page - PAGE_WINDOW), min(pages, page + PAGE_WINDOW) + 1))
    out: list[int | None] = []
    prev = 0
    for p in sorted(wanted):
        if p - prev > 1:
            out.append(None)
        out.append(p)
        prev = p
    return out


def active_filters(params: dict[str, str], data: dict[str, Any] | None, link: Link) -> list[dict[str, str]]:
    """The filters in force, each with a link that removes it (chips)."""
    chips: list[dict[str, str]] = []
    if "region" in params:
        region = (data or {}).get("region") or {}
        trail = region_trail(region)
        name = "".join(p["name"] for p in trail) or params["region"]
        chips.append({"label": f"地区：{name}", "href": link(params, region=None),
                      "remove": "移除此条件"})
    frm, to = params.get("from"), params.get("to")
    year = frm[:4] if frm and to and frm[:4] == to[:4] and year_range(frm[:4]) == (frm, to) else None
    if year:
        chips.append({"label": f"年份：{year}", "href": link(params, from_=None, to=None),
                      "remove": "移除此条件"})
    else:
        if frm:
            chips.append({"label": f"起始日期：{frm}", "href": link(params, from_=None),
                          "remove": "移除此条件"})
        if to:
            chips.append({"label": f"截止日期：{to}", "href": link(params, to=None),
                          "remove": "移除此条件"})
    if "type" in params:
        chips.append({"label": f"文种：{params['type']}", "href": link(params, type=None),
                      "remove": "移除此条件"})
    if params.get("exact") == "1":
        chips.append({"label": "精确检索", "href": link(params, exact=None),
                      "remove": "移除此条件"})
    return chips


def region_display(params: dict[str, str], data: dict[str, Any] | None) -> str:
    """What the 地区 box shows: the region's name (never its code), as short as stays unique."""
    raw = params.get("region", "")
    region = (data or {}).get("region") or {}
    trail = [p["name"] for p in region_trail(region)]
    if not trail:
        return raw
    if not raw.isdigit():
        return raw
    return unique_name(region.get("code", ""), trail)


def unique_name(code: str, trail: list[str]) -> str:
    """The shortest tail of the place path that resolves to `code` alone (莲湖区, 南京市鼓楼区)."""
    for start in range(len(trail) - 1, -1, -1):
        name = "".join(trail[start:])
        found = regions.resolve(name)
        if found is not None and found.code == code:
            return name
    return "".join(trail)


def quick_dates(params: dict[str, str], link: Link, today: datetime.date | None = None) -> list[dict[str, Any]]:
    """近一周 / 近一月 / 近一年 links, as government search sites offer them (plus 不限)."""
    today = today or datetime.date.today()
    spans = (("不限", None), ("近一周", datetime.timedelta(days=7)), ("近一月", datetime.timedelta(days=30)),
             ("近一年", datetime.timedelta(days=365)))
    out = []
    cur = (params.get("from"), params.get("to"))
    for label, span in spans:
        rng = (None, None) if span is None else ((today - span).isoformat(), today.isoformat())
        out.append({"label": label, "href": link(params, from_=rng[0], to=rng[1]), "current": cur == rng})
    return out


# -- the document page as an official document (GB/T 9704 公文格式) ------------------------

MARK_TAGS = re.compile(r"</?mark>")
# A paragraph that is only a date: 2021年5月6日, 二〇二一年五月六日, 2021-05-06.
DATE_LINE = re.compile(
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"|[〇○零一二三四五六七八九]{4}\s*年\s*[一二三四五六七八九十]{1,3}\s*月\s*[一二三四五六七八九十]{1,3}\s*日"
    r"|\d{4}[-./]\d{1,2}[-./]\d{1,2}")
# How the name of an issuing organ ends (a signature line that is not the stored issuer).
ORGAN_END = re.compile(r"(委员会|人民政府|政府|办公室|办公厅|领导小组|巡察组|巡视组|纪委|监委|党委|党工委|党组|"
                       r"[省市州县区盟旗]委|局|厅|委|部|院|中心|办)$")
SENTENCE_MARKS = set("，。；：！？,;:!?、（）()")
SIGN_MAX_LINES = 4
SALUTATION_MAX = 60


def plain_text(fragment: str) -> str:
    """A highlighted paragraph (escaped text + <mark>) as the text a reader sees."""
    return html.unescape(MARK_TAGS.sub("", fragment or ""))


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def is_signature_line(text: str, issuer: str | None) -> bool:
    """A closing line of the 落款: the date alone, the issuer (or one of joint issuers), or a
    short organ name with no sentence punctuation."""
    line = _compact(text)
    if not line or len(line) > 40:
        return False
    if DATE_LINE.fullmatch(line):
        return True
    if any(ch in SENTENCE_MARKS for ch in line):
        return False
    names = [_compact(n) for n in (issuer or "").split()] + [_compact(issuer or "")]
    if any(n and line == n for n in names):
        return True
    return bool(ORGAN_END.search(line))


def official_layout(paragraphs_html: list[str], issuer: str | None,
                    doc_number: str | None) -> dict[str, Any]:
    """The cleaned text laid out as an official document: the closing issuer and date lines
    (落款: signature and 成文日期) apart so they can be set right-aligned, a leading line that
    is only the 文号 dropped (the page shows the number under the title), a short opening
    line ending in a colon (主送机关, 各街道、各部门：) set without indent.

    Only lines of the text itself are moved into the signature; nothing is added from
    metadata, since the page shows a notice as it says it. Input and output are the search
    layer's pre-escaped HTML fragments.
    """
    paras = list(paragraphs_html)
    number = _compact(doc_number or "")
    if number:
        for i in range(min(2, len(paras))):
            if _compact(plain_text(paras[i])) == number:
                del paras[i]
                break
    sign: list[str] = []
    while len(paras) > 1 and len(sign) < SIGN_MAX_LINES and is_signature_line(plain_text(paras[-1]), issuer):
        sign.insert(0, paras.pop())
    # a signature holds its date or the stored issuer by name; short organ-like lines alone at
    # the end of a report are more likely a list (参加会议的单位), so they stay in the text
    names = {_compact(n) for n in (issuer or "").split()} | {_compact(issuer or "")}
    names.discard("")
    if sign and not any(DATE_LINE.fullmatch(_compact(plain_text(s))) or _compact(plain_text(s)) in names
                        for s in sign):
        paras.extend(sign)
        sign = []
    body = []
    for i, p in enumerate(paras):
        text = plain_text(p).strip()
        kind = "salutation" if i < 3 and len(text) <= SALUTATION_MAX and text.endswith(("：", ":")) else "text"
        body.append({"html": p, "kind": kind})
    return {"body": body, "sign": sign}


# -- headings for untitled notices --------------------------------------------------------

DERIVED_NOTE = "（标题为系统生成）"
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def date_zh(date: str | None) -> str:
    """2017-12-20 -> 2017年12月20日 (as dates are written in notices); other text unchanged."""
    m = ISO_DATE.match(date or "")
    if not m:
        return date or ""
    return f"{m.group(1)}年{int(m.group(2))}月{int(m.group(3))}日"


def derived_title(item: dict[str, Any]) -> str:
    """A readable heading for a notice without a title, from what is known of it: issuer (or
    place) + 文种 + date, e.g. 中共西安市莲湖区委巡察整改进展情况（2017年12月20日）.

    Shown instead of （无标题） and always marked as made up by the archive (a class and
    DERIVED_NOTE on pages, the note itself in feeds and exports): it is not the notice's own.
    """
    who = (item.get("issuer") or "").split()
    issuer = "、".join(who) if len(who) > 1 else (who[0] if who else place(item))
    what = item.get("doc_type") or "公告"
    when = date_zh(item.get("date"))
    text = f"{issuer}{what}" if issuer else f"无标题{what}"
    return f"{text}（{when}）" if when else text


def display_title(item: dict[str, Any]) -> dict[str, Any]:
    """{"text", "derived"}: the notice's own title, or a derived one marked as such."""
    title = (item.get("title") or "").strip()
    if title:
        return {"text": title, "derived": False}
    return {"text": derived_title(item), "derived": True}


def plain_title(item: dict[str, Any], demo_mark: bool = False) -> str:
    """The heading as one string for places without styling (feeds, exports, <title>);
    `demo_mark` puts 【示例】 before the heading of a demo notice."""
    shown = display_title(item)
    text = shown["text"] + (DERIVED_NOTE if shown["derived"] else "")
    return f"【示例】{text}" if demo_mark and is_demo(item) else text


# -- the bundled demo corpus ------------------------------------------------------------

# The demo notices of samples/ (written for this project, marked 示例 in the files) are
# recognised by the source path the index stores for them: the bundled corpus's layout,
# samples/{html,text,jsonl,warc}/..., relative (make index, the tests) or absolute. The 示例
# marks inside the files are not read by the cleaner, and real scrapes never carry them, so
# the stored path is the one fact that is both present and reliable. A real corpus kept in a
# folder laid out exactly like samples/ would be marked as demo too: keep real pages elsewhere.
DEMO_SOURCE = re.compile(r"(?:^|/)samples/(?:html|text|jsonl|warc)/[^/]+$")
DEMO_NOTE = "示例数据：为演示本系统编写的虚构公告，机关名称、文号和网址均为虚构，并非真实公文。"


def is_demo(item: dict[str, Any] | None) -> bool:
    """True for a notice of the bundled demo corpus (see DEMO_SOURCE)."""
    source = ((item or {}).get("source") or "").split("#", 1)[0].replace("\\", "/")
    return "://" not in source and bool(DEMO_SOURCE.search(source))


def reader_link(item: dict[str, Any]) -> str | None:
    """The original page's address as readers may follow it: http/https only, and never for a
    demo notice, whose addresses name real government sites on made-up paths."""
    if is_demo(item):
        return None
    return safe_link(item.get("url"))


# -- whole-page views -------------------------------------------------------------------


def results_view(params: dict[str, str], data: dict[str, Any] | None, link: Link,
                 today: datetime.date | None = None) -> dict[str, Any]:
    """What the search page shows around the hits, from the request's parameters and the search
    result dict (None when the search failed): filter chips, region trail and box, quick dates,
    the year chart, page numbers, the 本级 count, and whether reposts or demo notices are on it."""
    own = None
    if data and data.get("region") and data["facets"].get("region"):
        own = data["total"] - sum(f["count"] for f in data["facets"]["region"])
    hits = data["hits"] if data else []
    return {
        "region_box": region_display(params, data),
        "quick_dates": quick_dates(params, link, today=today),
        "own_count": own,
        "has_reposts": any(h.get("reposts") for h in hits),
        "chips": active_filters(params, data, link),
        "trail": region_trail(data.get("region") if data else None),
        "chart": timeline_chart(data["timeline"], params, link) if data else None,
        "pages": page_window(data["page"], data["pages"]) if data else [],
        "demo_on_page": any(h.get("demo") for h in hits),
        # the bare home page (newest notices): where the demo corpus is introduced
        "home": set(params) <= {"page", "sort"},
    }


def body_paragraphs(doc: dict[str, Any]) -> list[str]:
    """The highlighted paragraphs of a notice without a first line that repeats its title (the
    page shows the title as its heading)."""
    paragraphs = list(doc.get("paragraphs_html") or [])
    if paragraphs and doc.get("title") and MARK_TAGS.sub("", paragraphs[0]) == MARK_TAGS.sub("", doc.get("title_html") or ""):
        paragraphs = paragraphs[1:]
    return paragraphs

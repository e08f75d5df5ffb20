"""Line filters: the rules that judge one line of text, shared by every input kind.

clean.py finds the notice in a page (for HTML: parsing, dropping hidden blocks, scoring
containers, finding the heading) and then flattens it into lines; from there on, and for
plain-text and JSON-lines inputs from the start, the decisions are about lines of text
without markup: is this line a breadcrumb, a byline, a share bar, a footer, a table of
properties, the tail of a scraped headline list, an author line? Those rules live here,
so they can be read, tested and tuned without the HTML machinery, and so text inputs and
HTML pages are judged by the same rules.

Every rule matches a whitespace-normalised line; traditional-script lines are matched in
simplified script (`simplified`), while the text itself is kept as printed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from indexer.analysis import t2s_table

# --------------------------------------------------------------------------- tables of rules

_FOOTER_RE = re.compile(r"ICP备|ICP证|版权所有|Copyright|All Rights Reserved|公网安备|网站标识码|"
                        r"主办单位|不良信息举报|郑重声明|免责声明|联系电话|客服电话")
_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_PUNCT_RE = re.compile(r"[。，；：！？、“”‘’（）《》,;]")
_SENT_END_RE = re.compile(r"[。！？；.!?;]$")
_WS_RE = re.compile(r"[\s\u3000\u00a0\u200b\u200c\u200d\ufeff\u2028\u2029]+")
_NOSPACE_RE = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")

# Whole lines of boilerplate (matched against a whitespace-normalised line).
_BOILER_LINE_RES = [re.compile(p) for p in (
    r"^(?:当前位置|您的位置|你的位置|现在位置|所在位置|您现在的位置|您现在位置|您当前的位置|"
    r"您当前位置|当前页面|位置)\s*[:：]",
    # a breadcrumb without a label: 中国科普网 > 时政新闻 > (two or more short steps)
    r"^(?:[^>»＞›。，；]{1,16}\s*(?:>{1,2}|»|＞|›)\s*){2,}(?:[^>»＞›。，；]{0,16})$",
    # reading-time and account clutter printed above an article
    r"^本(?:篇|文)(?:文章)?(?:共)?\d+字|读完(?:约|大约)?需?\d+分钟|阅读(?:本文)?(?:约|大约)?需要?\d+分钟|"
    r"^登录\s*[/|｜]?\s*注册$|^(?:登录|注册)$",
    r"^首页\s*(?:>|»|＞|›|/|\|)",
    r"^[【\[(（]?\s*(?:责任编辑|编辑|校对|审核|责编|终审|初审|审校|核稿|签发|编审|值班编辑|"
    r"网络编辑|一审|二审|三审)\s*[:：︰]",
    r"^[【\[]?\s*(?:上一篇|下一篇|上一条|下一条|上篇|下篇|阅读下一篇|阅读上一篇)",
    r"上一版.{0,12}下一版",  # an e-paper's page switcher (第12版:区街新闻 | 上一版 下一版)
    r"^(?:相关新闻|相关链接|相关阅读|相关文章|相关稿件|相关报道|热点推荐|推荐阅读|延伸阅读|"
    r"热门推荐|猜你喜欢|精彩推荐|更多>*|更多新闻|热点新闻|最新新闻|图片新闻)\s*[:：]?\s*$",
    r"分享到|分享至|^分享\s*[:：]?$|^微信扫一扫|扫一扫在手机|扫描二维码|二维码便可将本文分享",
    r"^[【\[]?\s*(?:打印|打印本页|打印此页|打印文章|关闭|关闭窗口|关闭本页|返回顶部|"
    r"收藏|纠错|我要纠错|大|中|小|默认|超大)\s*[】\]]?\s*$",
    r"【\s*字体\s*[:：]|字号\s*[:：]|^字体\s*[:：]|【\s*打印|【\s*关闭",
    # Footer furniture. Words that prose also uses (请主办单位于5月15日前完成整改) count
    # only as a label (主办单位：) or at the start of a line, never inside a sentence.
    r"ICP备|ICP证|网站标识码|公网安备|Copyright|All Rights Reserved|©|技术支持\s*[:：]|"
    r"(?:主办单位|承办单位|主办|承办|版权所有)\s*[:：]|版权所有\s*[©(（]|"
    r"^(?:联系我们|网站地图|版权所有)",
    r"^(?:浏览次数|阅读次数|点击数|访问量|点击量|浏览量)\s*[:：]",
    # page numbers of a PDF-derived text or a paged viewer: — 3 —, -2-, 第3页 共5页, 3/5
    r"^[-—－–~]{1,2}\s*\d{1,4}\s*[-—－–~]{1,2}$|^第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?$|"
    r"^共\s*\d{1,4}\s*页$|^\d{1,4}\s*/\s*\d{1,4}$|^[Pp]age\s*\d{1,4}(?:\s*of\s*\d{1,4})?$",
    # an e-paper's page label printed above the article (第01版:头版, 第12版：区街新闻)
    r"^第\s*[0-9０-９]{1,3}\s*版\s*[:：]\s*[^。，；]{0,12}$",
    r"^Play Video$|^\d{1,2}:\d{2}(?::\d{2})?$|^/\s*\d{1,2}:\d{2}$",
    r"^(?:点击进入|点击查看|点击阅读|关注公众号|扫码关注|长按识别|欢迎关注|返回首页|返回列表|"
    r"【?我要打印】?|【?关闭窗口】?|图集|视频|播放|暂停)",
    # page tools and reprint notes a scraper keeps as lines: 朗读 (text-to-speech),
    # 视力保护色 (colour switch), 友情链接:, 转载请注明(地址):
    r"^(?:朗读|视力保护色\s*[:：]?.{0,20}|友情链接\s*[:：]?|【?\s*打\s*印\s*】?)$|^转载请注明",
)]

# All line rules in one pattern: one search per line instead of one per rule (hot path).
_BOILER_LINE_ANY = re.compile("|".join(f"(?:{rx.pattern})" for rx in _BOILER_LINE_RES))

# Byline fields: label then value, several per line.
_BYLINE_LABELS = (
    "信息来源|文章来源|稿件来源|新闻来源|来源于|来源|发布时间|发布日期|发表时间|发文日期|"
    "更新时间|时间|日期|作者|字号|浏览次数|阅读次数|点击数|访问量|责任编辑|编辑|撰稿|记者|"
    "摄影|供稿|文字|通讯员"
)
_BYLINE_FIELD_RE = re.compile(
    r"(" + _BYLINE_LABELS + r")\s*[:：︰]\s*(.*?)(?=\s*(?:" + _BYLINE_LABELS
    + r")\s*[:：︰]|\s{2,}|$|\s*[|｜]|【)"
)
_DATE_RE = re.compile(
    r"((?:19|20)\d{2})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?"
    r"(?:\s*(\d{1,2}:\d{2}(?::\d{2})?))?"
)
_SOURCE_LABELS = {"信息来源", "文章来源", "稿件来源", "新闻来源", "来源于", "来源"}
_DATE_LABELS = {"发布时间", "发布日期", "发表时间", "发文日期", "时间", "日期", "更新时间"}

# 信息公开 (government information disclosure) table labels.
_INFO_LABELS = (
    "索引号", "发文机关", "发布机构", "发文单位", "成文日期", "发布日期", "文号", "发文字号",
    "主题分类", "公开方式", "公开范围", "公开时限", "生成日期", "印发日期", "生效日期",
    "有效性", "体裁分类", "组配分类", "服务对象分类", "信息分类", "内容分类", "所属机构",
    "文件编号", "标题", "名称", "主题词", "关键词", "施行日期", "废止日期", "信息来源",
)
_INFO_LABEL_RE = re.compile(
    r"^(" + "|".join(sorted(_INFO_LABELS, key=len, reverse=True)) + r")\s*[:：]?\s*(.*)$"
)

_INFO_ANY_RE = re.compile("|".join(sorted(_INFO_LABELS, key=len, reverse=True)))

_AUTHOR_LINE_RE = re.compile(
    r"(?:记者|作者|通讯员|撰稿|撰文|文\s*[/｜|]|图\s*[/｜|]|摄影|特约评论员|评论员|供稿)"
)


# --------------------------------------------------------------------------- small helpers


def normalize_ws(text: str) -> str:
    """Collapse whitespace runs (incl. U+3000, NBSP, zero-width) to one space; strip ends."""
    if "\u200b" in text or "\u200c" in text or "\u200d" in text or "\ufeff" in text:
        return _WS_RE.sub(" ", text).strip()
    return " ".join(text.split())  # str.split knows U+3000/NBSP; far cheaper than a regex


def _nospace(text: str) -> str:
    return _NOSPACE_RE.sub("", text)


def _nonspace_len(text: str) -> int:
    """Characters that are not whitespace (str.split drops U+3000/NBSP too; zero-width
    characters, rare in text, count: close enough for scoring)."""
    return len("".join(text.split()))


def _cjk_len(text: str) -> int:
    return len(_CJK_RE.findall(text))


_T2S: dict[int, str] = t2s_table()
# Characters that only occur in traditional script (the keys of the t2s table): a line
# holding one is matched against the rules in its simplified form.
_TRAD_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_T2S)) + "]") if _T2S \
    else re.compile(r"(?!)")


@functools.lru_cache(maxsize=8192)
def simplified(line: str) -> str:
    """The line in simplified script when it has traditional characters (當前位置 -> 当前位置),
    so one set of rules covers traditional-script pages; used for matching only, the
    page text itself is kept as printed."""
    return line.translate(_T2S) if _TRAD_RE.search(line) else line


def is_boilerplate_line(line: str) -> bool:
    """True for a line that is page furniture, never notice text (nav, byline, share ...)."""
    line = simplified(line)
    if _BOILER_LINE_ANY.search(line):
        # Long lines are prose that merely mentions a phrase (…联系我们…); keep those.
        return len(line) < 120 or _cjk_len(line) < 40
    return _is_byline(line)


def _is_byline(line: str) -> bool:
    """A 来源/发布时间/作者 line: mostly label:value pairs, little prose."""
    if len(line) > 150:
        return False
    line = simplified(line)
    fields = list(_BYLINE_FIELD_RE.finditer(line))
    if not fields:
        return False
    labels = {m.group(1) for m in fields}
    if len(fields) == 1 and labels <= {"时间", "日期", "记者", "文字", "摄影", "编辑", "作者"}:
        # These words also start content lines ("时间：2024年5月1日上午9时" in a notice):
        # only a short line that is nothing but a date (or a name) is a byline.
        m = fields[0]
        if m.start() != 0 or len(line) > 40 or _SENT_END_RE.search(line):
            return False
        if labels <= {"时间", "日期"}:
            return bool(re.fullmatch(r"\s*" + _DATE_RE.pattern + r"\s*", m.group(2)))
        return len(m.group(2)) <= 20
    covered = sum(m.end() - m.start() for m in fields)
    rest = len(line) - covered
    no_sentence = not _SENT_END_RE.search(line.rstrip("）)")) and "，" not in line
    if rest <= max(12, covered // 2) and no_sentence:
        return True
    # "中青报·中青网记者 魏其濛 来源：中国青年报": a short line ending in a source field.
    strong = labels & (_SOURCE_LABELS | {"发布时间", "发布日期", "发表时间", "作者", "责任编辑"})
    return bool(strong) and len(line) <= 60 and no_sentence


# 图片来源：X / 视频来源：X credit a picture, not the notice: X is no issuer.
_CAPTION_BEFORE_RE = re.compile(r"(?:图片|图|照片|视频|配图|题图|封面|图表|数据|资料)\s*$")


def read_byline(line: str, meta: dict[str, str]) -> None:
    """Copy 来源 / 发布时间 values of a byline line into `meta` (first value wins)."""
    line = simplified(line)
    for m in _BYLINE_FIELD_RE.finditer(line):
        label, value = m.group(1), m.group(2).strip(" ：:|｜")
        if not value:
            continue
        if label in _SOURCE_LABELS and _CAPTION_BEFORE_RE.search(line[: m.start()]):
            continue  # a photo or data credit (图片来源：某报告), not the page's source
        if label in _SOURCE_LABELS and "source" not in meta:
            value = _DATE_RE.split(value, maxsplit=1)[0].strip(" ：:|｜") if _DATE_RE.search(
                value) else value
            if value:
                meta["source"] = value[:80]
        elif label in _DATE_LABELS and "byline_date" not in meta:
            d = _DATE_RE.search(value)
            if d:
                meta["byline_date"] = d.group(0).strip()
    if "byline_date" not in meta and "source" in meta and re.search(r"来源\s*[:：]", line):
        d = _DATE_RE.search(line)
        if d and len(line) < 100:
            meta["byline_date"] = d.group(0).strip()


# --------------------------------------------------------------------------- text inputs


# Labels of a 信息公开 table of properties as scraped text prints them, one label a line
# (`• 索引号:` / its value on the next line) or several on one line (`索引号: X 组配分类: Y`).
_PROPERTY_LABELS = _INFO_LABELS + (
    "信息索引号", "文件名称", "发文机构", "废止时间", "失效时间", "失效日期", "有效期",
    "内容概述", "信息名称", "发布单位", "公开日期", "成文时间",
)
_PROPERTY_ALT = "|".join(sorted(set(_PROPERTY_LABELS), key=len, reverse=True))
_PROPERTY_PAIR_RE = re.compile(
    r"(?:^|\s)(" + _PROPERTY_ALT + r")\s*[:：]\s*(.*?)(?=\s+(?:" + _PROPERTY_ALT
    + r")\s*[:：]|$)")
_DOC_NUMBER_LINE_RE = re.compile(r"\S{1,12}[〔\[［【（(]\s*(?:19|20)\d{2}\s*[〕\]］】）)]\s*第?\d{1,5}号")
_BULLET_RE = re.compile(r"^[•·●▪◆■\-*]\s*")


def _property_pairs(line: str) -> list[tuple[str, str]] | None:
    """[(label, value), ...] when the whole line is table-of-properties fields (a known
    label first, nothing but label: value pairs, no sentence), else None."""
    s = _BULLET_RE.sub("", line)
    if len(s) > 160 or _SENT_END_RE.search(s) or "，" in s:
        return None
    if not re.match(r"(?:" + _PROPERTY_ALT + r")\s*[:：]", s):
        return None
    pairs = [(m.group(1), m.group(2).strip()) for m in _PROPERTY_PAIR_RE.finditer(s)]
    return pairs or None


def _drop_properties_block(lines: list[str], meta: dict[str, str]) -> list[str]:
    """Remove a 信息公开 table of properties that text and JSON-lines inputs carry as lines
    (`索引号: … 组配分类: …`, `废止时间: …`, `• 发布机构:` + its value on the next line),
    reading its values into meta (info_<label>) as the HTML path does.

    Without markup the table is recognised by its shape: at least two field lines (or one
    line of two fields) no more than two short lines apart; the short lines between and
    right after a label left without a value are its values. A lone `标题：` or `时间：`
    line in a notice is text, so one field alone is never a table."""
    fields = [(i, _property_pairs(x)) for i, x in enumerate(lines)]
    fields = [(i, f) for i, f in fields if f]
    if not fields:
        return lines
    drop: set[int] = set()
    groups: list[list[tuple[int, list[tuple[str, str]]]]] = []
    for i, f in fields:
        last = groups[-1][-1][0] if groups else None
        if (last is not None and i - last <= 3
                and all(len(lines[j]) <= 60 and not is_substantial(lines[j])
                        for j in range(last + 1, i))):
            groups[-1].append((i, f))
        else:
            groups.append([(i, f)])
    byline_labels = _SOURCE_LABELS | _DATE_LABELS
    for group in groups:
        if len(group) < 2 and len(group[0][1]) < 2:
            continue
        if all(label in byline_labels for _, pairs in group for label, _ in pairs):
            continue  # a 来源/发布日期 byline: the byline rules read and drop it
        first, last = group[0][0], group[-1][0]
        end = last
        if not group[-1][1][-1][1] and last + 1 < len(lines) and len(lines[last + 1]) <= 60 \
                and not is_substantial(lines[last + 1]):
            end = last + 1  # the last label's value stands on the next line
        for i, pairs in group:
            for n, (label, value) in enumerate(pairs):
                if not value and n == len(pairs) - 1 and i + 1 <= end and \
                        _property_pairs(lines[i + 1]) is None:
                    value = lines[i + 1]
                if value and len(value) <= 120:
                    meta.setdefault(f"info_{label}", value)
        for j in range(first, end + 1):
            if _is_byline(lines[j]):
                read_byline(lines[j], meta)
            elif "info_文号" not in meta and _DOC_NUMBER_LINE_RE.fullmatch(lines[j]):
                meta["info_文号"] = lines[j]  # a number the table printed without its label
        drop.update(range(first, end + 1))
    return [x for i, x in enumerate(lines) if i not in drop]


def _looks_like_heading(line: str) -> bool:
    """Short, no sentence end, not a salutation (`各乡镇人民政府,县政府各部门:`)."""
    return (2 <= len(line) <= 60 and not _SENT_END_RE.search(line)
            and not re.search(r"[，,:：]$", line) and not re.search(r"[，,]", line[:-1]))


def _drop_pipe_tail(lines: list[str]) -> list[str]:
    """Remove a trailing scraped headline list: lines ending in `|` (`title | |`, `snip... |`).

    A line of prose that ends in `|` (a table cell of a scraped page: `…认真处理。 |`) is
    notice text, not a list item: it stops the trim."""
    end = len(lines)
    while end > 0 and re.search(r"[|｜]\s*$", lines[end - 1]) and not _is_prose_cell(lines[end - 1]):
        end -= 1
    return lines[:end]


# A cell of prose: complete sentences before the closing pipe of a scraped table row.
_PROSE_CELL_RE = re.compile(r"[。！？」”）)]\s*[|｜]\s*$")


def _is_prose_cell(line: str) -> bool:
    """`…完成进驻工作。…认真处理。 |`: a whole paragraph in a table cell, not a headline
    (headline lists end in `| |` or in a snippet cut short with `...`)."""
    return bool(_PROSE_CELL_RE.search(line)) and is_substantial(line)


def _strip_cell_pipe(line: str) -> str:
    """The closing `|` of a prose cell is table markup, not text."""
    return re.sub(r"\s*[|｜]\s*$", "", line) if _is_prose_cell(line) else line


# Lines of nothing but table pipes and empty images (`![]() |`, `||||`): markup residue.
_MARKUP_RESIDUE_RE = re.compile(r"^(?:[|｜*\s]|!\[[^\]]*\]\([^)]*\))+$")


def _is_markup_residue(line: str) -> bool:
    return bool(_MARKUP_RESIDUE_RE.match(line))


def is_substantial(line: str) -> bool:
    """A paragraph a reader would call text: some sentences' worth of Chinese prose."""
    return _cjk_len(line) >= 30 and len(_PUNCT_RE.findall(line)) >= 2


def keep_substance(before: list[str], after: list[str]) -> list[str]:
    """Guard for filters that may remove everything (tail trims, link lists): when the
    lines left hold no substantial paragraph but the lines before the filter did, the
    filter misread the notice as page furniture. Keep the lines it kept plus every
    substantial paragraph, in page order, so a notice a reader can see never vanishes."""
    if any(is_substantial(x) for x in after) or not any(is_substantial(x) for x in before):
        return after
    kept = set(after)
    return [x for x in before if x in kept or is_substantial(x)]


def _drop_related_tail(lines: list[str]) -> list[str]:
    """Cut at a 相关新闻/相关链接 ... heading in the last part of the text."""
    head = re.compile(r"^[【\[]?\s*(?:相关新闻|相关链接|相关阅读|相关文章|相关稿件|相关报道|"
                      r"热点推荐|推荐阅读|延伸阅读|热门推荐|猜你喜欢|精彩推荐|更多新闻)")
    for i in range(len(lines) - 1, max(0, len(lines) // 3) - 1, -1):
        if i > 0 and head.search(lines[i]) and len(lines[i]) < 30:
            return lines[:i]
    return lines


# --------------------------------------------------------------------------- lines of a page


def _filter_lines(lines: list[tuple[str, float]], meta: dict[str, str]) -> list[tuple[str, float]]:
    kept: list[tuple[str, float]] = []
    for text, link_share in lines:
        if link_share >= 0.9 and len(text) < 40 and not _ATTACHMENT_RE.search(text):
            continue  # a lone link ("点击进入…>>", a related headline) inside the body
        if len(text) <= 3 and not _CJK_RE.search(text):
            continue  # "+1", "1", "|": widget and pager residue
        if is_boilerplate_line(text):
            if _is_byline(text):
                read_byline(text, meta)
            continue
        kept.append((text, link_share))
    before_tail = kept
    # Related-news heading near the end: cut it and what follows.
    texts = _drop_related_tail([t for t, _ in kept])
    kept = kept[: len(texts)]
    # Trailing lists of links (headlines, "more" lists) are not notice text; a signature
    # or date line is never a link, so it stops the trim.
    while kept and kept[-1][1] >= 0.6 and not kept[-1][0].startswith("附件"):
        kept.pop()
    kept = [(t, s) for t, s in kept if not _pipe_nav(t)]
    texts = keep_substance([t for t, _ in before_tail], [t for t, _ in kept])
    if len(texts) != len(kept):
        wanted = set(texts)
        kept = [(t, s) for t, s in before_tail if t in wanted]
    return kept


_ATTACHMENT_RE = re.compile(r"附件|\.(?:docx?|xlsx?|pdf|wps|zip|rar|ofd|et)\b", re.IGNORECASE)


def _pipe_nav(line: str) -> bool:
    """A run of short items separated by | (a menu), without sentence text."""
    parts = [p for p in re.split(r"\s*[|｜]\s*", line) if p]
    return len(parts) >= 3 and all(len(p) <= 8 for p in parts)


def _drop_author_head(paragraphs: list[str], meta: dict[str, str]) -> list[str]:
    """Drop an author/byline line printed above the text (本网记者 张三; 中央纪委国家监委网站 李鹃)."""
    source_names = {v for k, v in meta.items() if k in ("source", "site_name") and v}
    out: list[str] = []
    for i, line in enumerate(paragraphs):
        if i < 4 and is_author_line(line, source_names):
            continue
        out.append(line)
    return out


def is_author_line(line: str, source_names: Iterable[str] = ()) -> bool:
    """本刊记者 侯逸宁 / 中央纪委国家监委网站 李鹃 / 文/张三: a byline without a label."""
    if len(line) > 30 or re.search(r"[。，；！？：:]", line):
        return False
    if any(s and line.startswith(s) and 0 < len(line) - len(s) <= 12 for s in source_names):
        return True
    return bool(_AUTHOR_LINE_RE.search(line)) and len(line) <= 24


_PAGE_NUMBER_RE = re.compile(
    r"^(?:[-—－–~]{1,2}\s*\d{1,4}\s*[-—－–~]{1,2}|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|共\s*\d{1,4}\s*页|\d{1,4}\s*/\s*\d{1,4}|[Pp]age\s*\d{1,4}(?:\s*of\s*\d{1,4})?)$")


def _drop_running_heads(lines: list[str]) -> list[str]:
    """Text taken from a PDF repeats its running head on every page (某某市人民政府公报 2024年
    第3期, 某某县人民政府办公室文件) between page numbers (— 3 —). When the text shows page
    numbers on two or more lines, a short line with no sentence in it that comes back three
    or more times is that head: its first occurrence stays (often the document's letterhead),
    the repeats go. Without page numbers nothing is touched: a table flattened into lines
    repeats short cells (已完成) legitimately."""
    if sum(1 for x in lines if _PAGE_NUMBER_RE.match(x)) < 2:
        return lines
    counts: dict[str, int] = {}
    for x in lines:
        counts[x] = counts.get(x, 0) + 1
    seen: set[str] = set()
    out = []
    for x in lines:
        if (counts[x] >= 3 and len(x) <= 40 and _cjk_len(x) >= 4
                and not _PUNCT_RE.search(x.replace("（", "").replace("）", ""))):
            if x in seen:
                continue
            seen.add(x)
        out.append(x)
    return out

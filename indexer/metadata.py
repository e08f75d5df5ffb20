"""Metadata of a notice: title, date, issuer, region, document type and number.

`extract_metadata(page, cleaned)` reads the facts the cleaning stage kept (`cleaned.meta`:
meta tags, bylines, the 信息公开 table) plus the text itself, and returns exactly the keys of
METADATA_KEYS (absent values are None). Every source is tried in a fixed order of trust, and
every candidate is validated, so a wrong-looking value is skipped rather than indexed: a date
or region here becomes a search filter, and a wrong filter value hides the notice.

Orders of trust (first valid value wins):
- title: page.hints['title'] > cleaned.title > a heading-like first body line.
- date (publication): hints['date'] > info_发布日期 > the adoption note under the title of a
  law or resolution ((2007年6月29日...会议通过), only when the page has no visible byline
  date) > meta pubdate > byline_date > a date in
  the URL (t20220506_, /2022-05/06/, /20220506/, /2022/0506/, /2022/05/06/: a CMS publication
  stamp, so it beats the written date) > info_成文日期 > the signature date at the end of the
  body (also 二〇二二年五月六日) > a date+clock stamp in the first lines. A URL with only a
  month (/202205/) gives no date: we never invent a day. Measured on the shared notices.jsonl,
  putting the URL before the signature fixed ~40 gov.cn pages whose 发布日期 is not the
  signature date. A page saved without its address is dated by the same URL rules applied
  to its mobile copy (meta mobile-agent) and to the one link on the page whose text is its
  title (a magazine's table of contents: the page linking to itself); see clean.py.
- issuer: info_发文机关 > the forwarding organ of a 转发/批转 title > the organisation lines
  of the signature (just above the date) > the organ of a decree (中华人民共和国国务院令) >
  the organ a title starts with (中共XX区委关于...) > a news agency dateline (新华社X月X日电)
  > meta source / 来源 (completed by the site name when relative, 省发改委; an organ named
  without its place gets the place the site is named after, 东区办事处 on 中山网 ->
  中山市东区办事处); a news site such
  as 人民网 only names the publisher, hence last. A 来源 value run together with its
  neighbours keeps one name (中国新闻网 王帆 -> 中国新闻网; 人民网-人民日报 -> 人民日报).
- region: from the issuer; when the issuer is a national organ or national medium (中央...,
  国务院, 新华社, 人民网 ...) or the page's address is on such a site (ccdi.gov.cn, www.gov.cn;
  not a provincial branch such as qh.xinhuanet.com) the notice has no region, whatever
  places its story, captions or examples name, unless it is a local item headed by its
  place (`新华视界｜河北遵化：`, `安徽:`) or carrying a local dateline (`遵化讯`).
  Otherwise: the issuer's own name, or the place a government account is named after
  (中国广州发布 -> 广州市; provinces and prefectures only); SiteIDCode (only the standard 10-digit 政府网站标识码, see _site_region); then,
  when the issuer is a news outlet that names no place (每日经济新闻), nothing: the places a
  story is about are not its publisher's. When the issuer is an organ named relative to its
  site (东区办事处 on 中山网), the province or city the site is named after; then a heading or
  dateline naming its place; then the title together with the opening of the body, photo
  captions removed (图为…。某某 摄 names where a picture was taken, not the page's place).
  Names come from regions.names().
- issuer, last resort: a byline run into the first paragraph (`中央纪委国家监委网站 张三 李四 …`).
- doc_type: DOC_TYPES below, specific inspection types anywhere in the title, generic
  document kinds only at the end of the title (关于印发XX办法的通知 is a 通知).
- doc_number: info_文号 > title > the first lines of the body; brackets become 〔〕.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import unicodedata
from urllib.parse import unquote

from indexer import regions
from indexer.analysis import t2s_table
from indexer.models import CLEAN_JSON_FIELDS, CleanedPage, RawPage

# The `clean --json` contract fields that come from metadata (url and body come from the page).
METADATA_KEYS = tuple(k for k in CLEAN_JSON_FIELDS if k not in ("url", "body"))

# (label, pattern searched in the whitespace-free title); the first hit wins, so the
# specific inspection types come before the generic kinds they contain (整改...通报).
# Labels follow the archive's vocabulary (samples/manifest.json conventions): 巡视整改进展情况,
# 巡察整改进展情况, 巡视反馈意见, 巡察反馈意见, 巡视公告, 巡察公告, then the generic kinds.
_SPECIFIC_TYPES: tuple[tuple[str, str], ...] = (
    ("巡视整改进展情况", r"巡视.{0,12}整改|整改.{0,6}巡视"),
    ("巡察整改进展情况", r"巡察.{0,12}整改|整改.{0,6}巡察"),
    ("巡视反馈意见", r"巡视.{0,12}反馈|反馈.{0,4}巡视"),
    ("巡察反馈意见", r"巡察.{0,12}反馈|反馈.{0,4}巡察"),
    ("巡视公告", r"巡视.{0,12}(?:进驻|公告)"),
    ("巡察公告", r"巡察.{0,12}(?:进驻|公告)"),
)
# Generic kinds, matched at the end of the title (after trailing brackets are dropped).
_GENERIC_TYPES: tuple[tuple[str, str], ...] = (
    ("年度报告", r"(?:年度报告|年报)"),
    ("报告", r"报告"),
    ("方案", r"方案"),
    ("办法", r"办法(?:（试行）|\(试行\))?"),
    ("规定", r"规定(?:（试行）|\(试行\))?"),
    ("条例", r"条例"),
    ("细则", r"细则"),
    ("决议", r"决议"),
    ("决定", r"决定"),
    ("实施意见", r"实施意见"),
    ("意见", r"意见"),
    ("批复", r"批复"),
    ("通报", r"通报"),
    ("通告", r"通告"),
    ("公告", r"公告"),
    ("公示", r"公示"),
    ("通知", r"通知"),
    ("函", r"函"),
    ("纪要", r"纪要"),
)
DOC_TYPES = tuple(label for label, _ in _SPECIFIC_TYPES + _GENERIC_TYPES) + ("其他",)

_SPECIFIC_RE = [(label, re.compile(p)) for label, p in _SPECIFIC_TYPES]
_GENERIC_RE = [(label, re.compile(f"(?:{p})$")) for label, p in _GENERIC_TYPES]
# Documents that instruct (关于做好巡视整改日常监督工作的通知, ...巡察整改工作方案): their kind
# is what the title ends with, even when an inspection word comes before it. 反馈意见 is
# the one 意见 that belongs to the inspection types.
_INSTRUCTION_END = re.compile(
    r"(?<!反馈)(?<!反馈巡视)(?<!反馈巡察)(?:通知|意见|方案|办法|规定|细则|条例|决定|批复|函)"
    r"(?:（试行）|\(试行\))?$"
)

# Issuers whose notices are national: no province/city/district even if the text names one.
_NATIONAL_PREFIX = re.compile(
    r"^(?:中共中央|中央|国务院|国家|全国|最高人民|中华人民共和国|新华社|人民日报|新华网|人民网|"
    r"央视|中国政府网|光明日报|光明网|经济日报|中国青年|中国网|求是|澎湃|中新社|中国新闻)"
)

# ------------------------------------------------------------------------------------------
# dates

_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "o": 0, "0": 0, "一": 1, "二": 2,
              "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = "〇○零Ｏ一二三四五六七八九十廿卅"
_ARABIC_DATE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})(?!\d)\s*日?"
)
_CN_DATE = re.compile(
    rf"([{_CN_NUM}Oo]{{4}})\s*年\s*([{_CN_NUM}]{{1,3}})\s*月\s*([{_CN_NUM}]{{1,3}})\s*日"
)


def _cn_small(s: str) -> int | None:
    """一..九, 十, 十一, 二十六, 三十一, 廿六 -> int."""
    s = s.replace("廿", "二十").replace("卅", "三十")
    if not s:
        return None
    if "十" in s:
        tens, _, ones = s.partition("十")
        t = _CN_DIGITS.get(tens, None) if tens else 1
        o = _CN_DIGITS.get(ones, None) if ones else 0
        if t is None or o is None:
            return None
        return t * 10 + o
    if len(s) == 1 and s in _CN_DIGITS:
        return _CN_DIGITS[s]
    return None


def _valid(y: int, m: int, d: int) -> str | None:
    if not (1949 <= y <= _dt.date.today().year + 1):
        return None
    try:
        return _dt.date(y, m, d).isoformat()
    except ValueError:
        return None


def parse_date(text: str | None) -> str | None:
    """The first valid date in `text` as YYYY-MM-DD (Arabic or Chinese numerals), else None."""
    if not text:
        return None
    s = unicodedata.normalize("NFKC", str(text))
    found: list[tuple[int, str]] = []
    for m in _ARABIC_DATE.finditer(s):
        iso = _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if iso:
            found.append((m.start(), iso))
            break
    for m in _CN_DATE.finditer(s):
        digits = [_CN_DIGITS.get(ch) for ch in m.group(1)]
        if None in digits:
            continue
        y = int("".join(str(x) for x in digits))
        mo, d = _cn_small(m.group(2)), _cn_small(m.group(3))
        if mo is None or d is None:
            continue
        iso = _valid(y, mo, d)
        if iso:
            found.append((m.start(), iso))
            break
    return min(found)[1] if found else None


_URL_DATES = (
    re.compile(r"[/_]t((?:19|20)\d{2})(\d{2})(\d{2})_"),
    re.compile(r"/((?:19|20)\d{2})-(\d{1,2})/(\d{1,2})/"),
    re.compile(r"/((?:19|20)\d{2})-(\d{2})-(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})/(\d{2})(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})/(\d{2})/"),  # /content/202512/27/
    re.compile(r"/((?:19|20)\d{2})/(\d{2})-(\d{2})/"),  # /2025/12-17/
    re.compile(r"[/_-]((?:19|20)\d{2})(\d{2})(\d{2})[_\-.]"),
    re.compile(r"/((?:19|20)\d{2})/[a-z]+_(\d{2})(\d{2})/"),  # /html/2018/column_0110/
    re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})\d{4,6}\.s?html?$"),  # /2021030517452.html
    re.compile(r"((?:19|20)\d{2})(\d{2})(\d{2})\d{6}\.s?html?$"),  # ...20171208144214.html
)


def date_from_url(url: str | None) -> str | None:
    """A full date in a URL path (t20220506_, /2022-05/06/, /2022/0510/ ...), else None."""
    if not url:
        return None
    u = unquote(url)
    for rx in _URL_DATES:
        for m in rx.finditer(u):
            iso = _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if iso:
                return iso
    return None


_DATE_LINE = re.compile(
    rf"^[（(]?\s*(?:(?:19|20)\d{{2}}\s*[-/.年]\s*\d{{1,2}}\s*[-/.月]\s*\d{{1,2}}\s*日?"
    rf"|[{_CN_NUM}Oo]{{4}}\s*年\s*[{_CN_NUM}]{{1,3}}\s*月\s*[{_CN_NUM}]{{1,3}}\s*日)\s*[)）]?\s*(?:印发|发布)?$"
)
_ORG_END = re.compile(
    r"(?:委员会|委|政府|办公室|办公厅|办|局|厅|部|院|会|组|处|中心|所|站|队|室|社|公司|集团|"
    r"纪委监委|监委|党组|党委|工委|支部|总支|分局|法院|检察院|大学|学院|学校|医院|街道|镇|乡|村|"
    r"管委会|指挥部|领导小组|联合会|协会|银行|报社)$"
)
_SENTENCE_PUNCT = re.compile(r"[。，,；;！!？?：:“”\"《》]")
# Events whose names end like an organ's (…会): a press conference, a forum, a meeting.
# They are held by an organ but issue nothing; `国务院新闻办公室新闻发布会` is no issuer.
_EVENT_END = re.compile(
    r"(?:发布会|吹风会|通气会|座谈会|推进会|动员会|部署会|调度会|推介会|见面会|听证会|培训会|"
    r"交流会|研讨会|博览会|展览会|展销会|招聘会|洽谈会|说明会|报告会|恳谈会|现场会|观摩会|"
    r"誓师会|表彰会|总结会|评审会|协调会|联席会|论坛|峰会|开幕式|闭幕式|发布活动)$"
)


def _norm_line(line: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", line)).strip()


def _ws_line(line: str) -> str:
    """Whitespace collapsed, characters as printed."""
    return " ".join(line.split())


def _is_org_line(line: str) -> bool:
    s = line.replace(" ", "")
    return (
        2 <= len(s) <= 40
        and not _EVENT_END.search(s)
        and not _SENTENCE_PUNCT.search(s)
        and not re.search(r"\d{3,}", s)
        and bool(_ORG_END.search(s) or s.startswith("中共"))
    )


def _split_orgs(line: str) -> list[str]:
    """'国务院 中央军委' -> two organs; '中 共 X 委' (spaced out) -> one."""
    parts = line.split(" ")
    if len(parts) > 1 and all(len(p) >= 2 and _is_org_line(p) for p in parts):
        return parts
    return [line.replace(" ", "")]


def _signature(paragraphs: list[str]) -> tuple[str | None, str | None]:
    """(issuer, date) from the signature block: a date-only line near the end of the body
    and the organisation line(s) right above it (or before the date on the same line)."""
    lines = [_norm_line(p) for p in paragraphs if p and p.strip()]
    tail = lines[-15:]
    for i in range(len(tail) - 1, -1, -1):
        line = tail[i]
        if _DATE_LINE.match(line):
            date = parse_date(line)
            orgs: list[str] = []
            j = i - 1
            while j >= 0 and len(orgs) < 2 and _is_org_line(tail[j]):
                upper = tail[j].replace(" ", "")
                if orgs and not _ORG_END.search(upper):
                    orgs[0] = upper + orgs[0]  # one name wrapped over two lines
                else:
                    orgs[:0] = _split_orgs(tail[j])
                j -= 1
            return (" ".join(orgs) or None), date
        # "中共西安市莲湖区委 2022年5月6日" on one line
        m = re.match(r"^(\S.{1,39}?)\s*((?:19|20)\d{2}\s*年.{2,8}日|[" + _CN_NUM + r"]{4}年.{2,8}日)\s*$", line)
        if m and _is_org_line(m.group(1)):
            date = parse_date(m.group(2))
            if date:
                return " ".join(_split_orgs(m.group(1))), date
    return None, None


# ------------------------------------------------------------------------------------------
# title, issuer, doc type, doc number


_TIMESTAMP = re.compile(r"((?:19|20)\d{2}[-/.年]\d{1,2}[-/.月]\d{1,2}日?)\s*\d{1,2}:\d{2}")


def _timestamp_in_head(paragraphs: list[str]) -> str | None:
    """Last resort: a date with a clock time (2018-03-18 14:06:59) in the first lines is a
    page's publication stamp that the cleaning stage did not label as a byline."""
    for s in _head_lines(paragraphs, 6):
        m = _TIMESTAMP.search(s)
        if m:
            return parse_date(m.group(1))
    return None


_ADOPTION_NOTE = re.compile(
    r"^[（(]\s*((?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|"
    rf"[{_CN_NUM}Oo]{{4}}\s*年\s*[{_CN_NUM}]{{1,3}}\s*月\s*[{_CN_NUM}]{{1,3}}\s*日)"
    r"[^（）()]{0,80}?(?:通过|批准|发布|公布|印发|修订|修正)[^（）()]{0,80}[)）]$"
)


def _adoption_note(paragraphs: list[str]) -> str | None:
    """(2007年6月29日第十届全国人民代表大会常务委员会第二十八次会议通过): the 题注 under the
    title of a law, resolution or decision. Such documents have no signature block, so when
    the page gives no publication date, the adoption date is the date the text carries."""
    for s in _head_lines(paragraphs, 6):
        m = _ADOPTION_NOTE.match(s)
        if m:
            return parse_date(m.group(1))
    return None


def _heading_line(paragraphs: list[str], printed: bool = False) -> str | None:
    """The first line when it reads as a heading (short, no sentence, not a salutation
    such as `各乡镇人民政府,县政府各部门:`). `printed`: return it as the page prints it."""
    for p in paragraphs[:3]:
        s = _norm_line(p)
        if not s:
            continue
        if (4 <= len(s) <= 60 and not re.search(r"[。；;！!？?:]$", s) and "，" not in s[:-1]
                and "," not in s[:-1]):
            return _ws_line(p) if printed else s
        return None
    return None


_TITLE_ORGAN = re.compile(r"^(.{2,30}?)(?:关于|转发|印发|公开通报|通报|发布)")


def _issuer_from_title(title: str | None) -> str | None:
    if not title:
        return None
    m = _TITLE_ORGAN.match(title.replace(" ", ""))
    if m and _is_org_line(m.group(1)):
        return m.group(1)
    return None


_DATELINE_AGENCY = re.compile(r"^[【\[]?([\u4e00-\u9fff]{1,6}社)[\u4e00-\u9fff]{2,8}\d{1,2}月\d{1,2}日(?:电|電|消息)")


def _dateline_agency(paragraphs: list[str]) -> str | None:
    """新华社乌鲁木齐5月9日电: the agency wrote the story; the site showing it only reposts."""
    for s in _head_lines(paragraphs, 3):
        m = _DATELINE_AGENCY.match(s.replace(" ", ""))
        if m:
            return m.group(1)
    return None


# Hosts of central organs and national media: their pages are national even when the
# scraper kept no 来源 line (JSON-lines records of ccdi.gov.cn articles).
_CENTRAL_HOSTS = re.compile(
    # a central organ's domain with all its sub-sites (zgjjjc.ccdi.gov.cn) ...
    r"(?:^|\.)(?:ccdi\.gov\.cn|npc\.gov\.cn|court\.gov\.cn|spp\.gov\.cn|cppcc\.gov\.cn)$"
    # ... or a national site's main host only: qh.xinhuanet.com is a provincial branch
    r"|^(?:www\.)?(?:gov\.cn|news\.cn|xinhuanet\.com|people\.com\.cn|cctv\.com|qstheory\.cn)$"
)


def _central_host(url: str | None) -> bool:
    """True when the page's address is on a central organ's or national medium's site."""
    if not url:
        return False
    m = re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://([^/:?#\s]+)", url.strip())
    return bool(m and _CENTRAL_HOSTS.search(m.group(1).lower()))


# 新华视界｜河北遵化：… / 安徽:派出… / 平舆县：… : a heading that opens with its place.
_HEADING_PLACE = re.compile(r"^(?:[^｜|丨:：]{1,10}[｜|丨]\s*)?([\u4e00-\u9fff]{2,12})\s*[:：]")


# 上海发布, 中国广州发布, 南沙发布: the standard name of a government's new-media account.
_ACCOUNT_RE = re.compile(r"^(?:中国)?([\u4e00-\u9fff]{2,8}?)(?:微?发布)$")


def _account_region(issuer: str) -> regions.Region | None:
    """The place a government account is named after (中国广州发布 -> 广州市): its short
    name alone is no safe mention in running text, but here it is the whole stem. Only a
    province or prefecture counts: a bare district name is often shared (南沙: 广州, 三沙)."""
    m = _ACCOUNT_RE.match(issuer.replace(" ", ""))
    r = regions.resolve(m.group(1)) if m else None
    return r if r is not None and r.level <= 2 else None


def _heading_place(title: str | None) -> regions.Region | None:
    """The place a local news item is headed by (`河北遵化：`): the whole word before the
    colon must be a place name or a path of them, so `广安观潮丨` or `评论：` are not."""
    if not title:
        return None
    m = _HEADING_PLACE.match(_norm_line(title).replace(" ", ""))
    return regions.resolve(m.group(1)) if m else None


_DATELINE_PLACE = re.compile(r"^[【\[(（]?\s*([\u4e00-\u9fff]{2,8})讯\s*[】\])）]?")


def _dateline_place(paragraphs: list[str]) -> regions.Region | None:
    """`遵化讯（记者 …）`: a local paper's dateline names the place the item is from."""
    for s in _head_lines(paragraphs, 3):
        m = _DATELINE_PLACE.match(s)
        if m:
            return regions.resolve(m.group(1))
    return None


# Photo captions name the place a picture was taken (图为…该区纪委监委…。楼婷 摄), not the
# place of the page: a commentary illustrated from several counties is none of them.
_CAPTION_RES = (
    re.compile(r"图为[^。！？\n]*[。！？]?(?:\s*[\u4e00-\u9fff]{2,4}(?:\s+[\u4e00-\u9fff]{2,4})*\s*摄)?"),
    re.compile(r"[（(][^（）()\n]{0,30}摄[)）]"),
    re.compile(r"(?:^|\s)[\u4e00-\u9fff]{2,4}\s摄(?=\s|$)", re.M),
    re.compile(r"^[^。！？\n]{0,60}(?:摄|图片来源[:：].*)$", re.M),
)


def _without_captions(text: str) -> str:
    for rx in _CAPTION_RES:
        text = rx.sub(" ", text)
    return text


# `中央纪委国家监委网站 陆丽环 王卓 福建省…`: a byline run into the text (outlet + authors).
_BYLINE_OUTLET = re.compile(
    r"^([\u4e00-\u9fff]{2,18}(?:网站|网|报|社|台|客户端|融媒体中心|新闻中心))"
    r"(?:\s+[\u4e00-\u9fff]{2,3}){1,3}\s"
)


def _byline_outlet(paragraphs: list[str]) -> str | None:
    """The outlet of a byline the scraper ran into the first paragraph; last resort."""
    for s in _head_lines(paragraphs, 2):
        m = _BYLINE_OUTLET.match(s)
        if m:
            return m.group(1)
    return None


def _source_or_site(meta: dict[str, str]) -> str | None:
    """The 来源 value; a relative name (省发改委, 区委办) is completed by the site's own
    name when the site names an organ (浙江省发展和改革委员会)."""
    source = _clean_source(meta.get("source"))
    site = _clean_source(meta.get("site_name"))
    if source and re.match(r"^[省市区县州旗本]", source) and site and _is_org_line(site):
        return site
    return source


def _clean_source(value: str | None) -> str | None:
    if not value:
        return None
    s = _norm_line(value)
    s = re.sub(r"^(?:信息|文章|新闻)?来源\s*[:：]?\s*", "", s)
    s = re.split(r"\s*(?:作者|编辑|责任编辑|发布时间|发布日期|时间|日期|浏览|点击|字号)", s)[0]
    s = s.strip(" \t()（）[]【】<>《》\"'“”•·|:：,，;；")
    s = _one_source(s)
    event = _EVENT_END.search(s.replace(" ", ""))
    if event:
        # 某市政府新闻办新闻发布会: the organ that held it, when it is named; else nothing
        host = re.sub(r"(?:新闻|新闻发布|例行|专题|主题|系列)+$", "",
                      s.replace(" ", "")[: event.start()])
        s = host if host and _ORG_END.search(host) and _is_org_line(host) else ""
    if len(re.findall(r"[\u4e00-\u9fff]", s)) < 2 or len(s) > 40 or s in {"本网", "本站", "原创"}:
        return None
    return s


# How an outlet's or organ's name ends: a 来源 value made of such a name and more words is
# that name plus an author or the hosting site's own name (中国新闻网 王帆).
_OUTLET_END = re.compile(
    r"(?:网|报|社|台|新闻|客户端|杂志|频道|在线|融媒|发布|微信公众号|公众号|APP|App)$"
)


_PERSON_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")


def _is_outlet(name: str | None) -> bool:
    """True for a news outlet's name (每日经济新闻, 证券时报网, 北京青年报, 央视新闻客户端)."""
    return bool(name and _OUTLET_END.search(name.replace(" ", "")) and not name.endswith("报告"))


def _one_source(value: str) -> str:
    """One source out of a 来源 value that a page ran together with its neighbours.

    `中国新闻网 王帆` (source + author), `央视新闻客户端 中国青年网` (source + the hosting
    site's own name, printed next to it): the first name is the source when it is a
    complete outlet or organ name. `人民网-人民日报` names the site and the paper the text
    came from: the paper (the originating outlet) is the source; `人民网-文化频道` names a
    site's channel: the site is."""
    parts = value.split(" ")
    first, rest = parts[0], parts[1:]
    if rest and len(first) >= 2 and (_is_outlet(first) or _ORG_END.search(first)):
        names = all(_PERSON_NAME.fullmatch(p) and not _is_outlet(p) and not _ORG_END.search(p)
                    for p in rest)
        sites = _is_outlet(first) and all(_is_outlet(p) for p in rest)
        if names or sites:  # not 国务院 中央军委: two organs issue jointly
            value = first
    m = re.fullmatch(r"(.{2,20}?)\s*[-—－]\s*(.{2,20})", value)
    if m and _is_outlet(m.group(1)):
        first, second = m.group(1), m.group(2)
        if re.search(r"(?:频道|栏目|专题|板块)$", second):
            return first
        if _is_outlet(second):
            return second
    return value


_DOCNUM = re.compile(
    r"([\u4e00-\u9fffA-Za-z]{1,12})\s*[〔\[［【（(]\s*((?:19|20)\d{2})\s*[〕\]］】）)]\s*第?\s*(\d{1,5})\s*号"
)


def parse_doc_number(text: str | None) -> str | None:
    """The first 发文字号 in `text`, normalised to 陕发〔2021〕3号."""
    if not text:
        return None
    s = unicodedata.normalize("NFKC", text)
    m = _DOCNUM.search(s)
    if not m:
        return None
    prefix = m.group(1)
    # a number quoted inside a sentence: keep only the code-like tail (印发陕发 -> 陕发)
    prefix = re.sub(r"^.*(?:关于|印发|转发|的|以|按照|根据|依据)", "", prefix)
    if not prefix:
        return None
    return f"{prefix}〔{m.group(2)}〕{int(m.group(3))}号"


def doc_type_of(title: str | None) -> str:
    """The document type label (one of DOC_TYPES) a title announces."""
    if not title:
        return "其他"
    t = re.sub(r"\s+", "", unicodedata.normalize("NFKC", title))
    core = re.sub(r"(?:[(（\[【〔][^()（）\[\]【】〔〕]*[)）\]】〕]|[。.!！\"”’》]|——.*)+$", "", t)
    if not _INSTRUCTION_END.search(core):
        for label, rx in _SPECIFIC_RE:
            if rx.search(t):
                return label
    for label, rx in _GENERIC_RE:
        if rx.search(core):
            return label
    return "其他"


_PUBLISHES_RECTIFICATION = re.compile(
    r"(?:现将|现就)?.{0,8}整改(?:工作)?(?:进展)?情况(?:予以|向社会|进行)?(?:公布|公开|通报)"
)


def _doc_type(title: str | None, paragraphs: list[str]) -> str:
    """doc_type_of(title); when the title says nothing (or is missing), an opening that
    announces the publication of rectification progress (现将整改工作进展情况予以公布)
    still marks a 巡视/巡察整改 report: the seed document has no title line at all."""
    label = doc_type_of(title)
    if label != "其他":
        return label
    opening = re.sub(r"\s+", "", "".join(paragraphs[:2]))[:400]
    m = _PUBLISHES_RECTIFICATION.search(opening)
    if m:
        before = opening[: m.end()]
        if "巡视" in before:
            return "巡视整改进展情况"
        if "巡察" in before:
            return "巡察整改进展情况"
    return label


# ------------------------------------------------------------------------------------------
# region


def _site_region(site_id: str | None) -> regions.Region | None:
    """Region from a SiteIDCode meta tag.

    The national standard 政府网站标识码 is 10 digits: the 6-digit division code of the
    organising unit + a 4-digit serial (e.g. 6101040001 -> 610104). Checked on the shared
    corpus (2024): the only SiteIDCode there is the CCDI site's "CA330000000604648580001"
    (a central-organ code, `CA` + other digits), whose digits 330000 would wrongly say 浙江
    for a national site. So only a bare 10-digit code is read; anything else is ignored.
    """
    if not site_id:
        return None
    s = site_id.strip()
    if not re.fullmatch(r"\d{10}", s):
        return None
    code = s[:6]
    r = regions.get(code)
    if r is None and code.endswith("00"):
        r = regions.get(code[:4] + "00") or regions.get(code[:2] + "0000")
    return r


_SITE_SUFFIX = re.compile(
    r"^(.{2,8}?)(?:人民政府门户网站|人民政府网|人民政府|政府门户网站|政府网|新闻网|门户网|网|在线|"
    r"新闻|日报|发布)$"
)


def _complete_organ(organ: str, region: regions.Region) -> str:
    """`东区办事处` printed as the 来源 of 中山网 is 中山市东区办事处: an organ named without
    its place gets the name of the place its site is named after, so the issuer says whose
    office it is (as a 省发改委 on 浙江省发展和改革委员会's site is that organ). A name that is
    relative by level (市发改委, 县纪委) or joint is left as printed."""
    if " " in organ or re.match(r"^(?:中共|中国共产党|[省市区县州旗镇乡村本])", organ):
        return organ
    if regions.find_in_text(organ) is not None:
        return organ
    return region.name + organ


def _site_name_region(meta: dict[str, str]) -> regions.Region | None:
    """The province or city a local site is named after (中山网, 湖州市人民政府), from its
    og:site_name or the name its <title> ends with. An organ printed as the source of such
    a site without its place (东区办事处) belongs to that place. Only a province or
    prefecture counts: bare district names are common words (东方, 光明, 华龙)."""
    for key in ("site_name", "title_site"):
        name = _norm_line(meta.get(key) or "").replace(" ", "")
        m = _SITE_SUFFIX.match(name)
        if not m:
            continue
        r = regions.resolve(m.group(1))
        if r is not None and r.level <= 2:
            return r
    return None


def _region_fields(r: regions.Region | None) -> dict[str, str | None]:
    if r is None:
        return {"province": None, "city": None, "district": None, "region_code": None}
    p, c, d = regions.names(r.code)
    return {"province": p, "city": c, "district": d, "region_code": r.code}


def is_national(issuer: str | None) -> bool:
    """True for central organs and national media: their notices carry no region."""
    return bool(issuer and _NATIONAL_PREFIX.match(issuer.replace(" ", "")))


# ------------------------------------------------------------------------------------------


def extract_metadata(page: RawPage, cleaned: CleanedPage) -> dict[str, str | None]:
    """Title, date, issuer, region, type and number of one notice (see module docstring).

    Never raises on odd input: a field that cannot be read is None (doc_type: 其他)."""
    meta = {k: (v if isinstance(v, str) else str(v)) for k, v in (cleaned.meta or {}).items() if v}
    hints = page.hints or {}
    paragraphs = [p for p in (cleaned.paragraphs or []) if isinstance(p, str)]

    shown = (hints.get("title") or "").strip() or (cleaned.title or "").strip() or _heading_line(
        paragraphs, printed=True)
    # What the page prints is stored and shown (full-width forms, its own script); the rules
    # below read a normalised copy (NFKC), as the index does for matching.
    shown = _ws_line(shown) if shown else None
    title = _norm_line(shown) if shown else None

    sig_issuer, sig_date = _signature(paragraphs)
    url = page.url or meta.get("canonical")

    date = None
    # The adoption note of a law or resolution is the date its text states; a page that
    # shows no publication date of its own (no byline) only has a hidden CMS stamp in its
    # meta tags (a gazette issue date on gov.cn), so the note wins over that stamp.
    adoption = None if meta.get("byline_date") else _adoption_note(paragraphs)
    for candidate in (
        hints.get("date"),
        meta.get("info_发布日期"),
        adoption,
        meta.get("pubdate"),
        meta.get("byline_date"),
    ):
        date = parse_date(candidate)
        if date:
            break
    date = (
        date
        or date_from_url(url)
        or date_from_url(meta.get("canonical"))
        or date_from_url(meta.get("alternate_url"))
        or date_from_url(meta.get("self_link"))
        or parse_date(meta.get("info_成文日期"))
        or sig_date
        or _timestamp_in_head(paragraphs)
    )

    from_source = _source_or_site(meta)
    title_issuer = _issuer_from_title(title)
    forwarded = bool(title and re.search(r"转发|批转", title))
    issuer = (
        _clean_source(meta.get("info_发文机关"))
        or (title_issuer if forwarded else None)
        or sig_issuer
        or _decree(paragraphs)[1]
        or title_issuer
        or _dateline_agency(paragraphs)
        or from_source
        or _byline_outlet(paragraphs)
    )

    region: regions.Region | None = None
    national = bool(issuer and is_national(issuer)) or _central_host(url)
    if national:
        # A central organ's or national medium's page has no region of its own, whatever
        # places its story, captions or examples name; only a local news item headed
        # by its place (河北遵化：…) is that place's.
        region = _heading_place(title) or _dateline_place(paragraphs)
    else:
        if issuer:
            region = regions.find_in_text(issuer) or _account_region(issuer)
        if region is None:
            region = _site_region(meta.get("site_id_code"))
        if region is None:
            region = _heading_place(title) or _dateline_place(paragraphs)
        if region is None and issuer and _is_outlet(issuer):
            # a newspaper or news site naming no place of its own: the places its story
            # is about (珠海 in a 每日经济新闻 report) are not the issuer's region
            pass
        elif region is None:
            if issuer and _is_org_line(issuer):
                # 东区办事处 / 市发改局: an organ named relative to the site it publishes on
                region = _site_name_region(meta)
                if region is not None and issuer == from_source:
                    issuer = _complete_organ(issuer, region)
            if region is None:
                opening = _without_captions("\n".join(paragraphs[:3]))[:400]
                region = regions.find_in_text("\n".join(x for x in (title or "", opening) if x))

    doc_number = (
        parse_doc_number(meta.get("info_文号"))
        or parse_doc_number(title)
        or _doc_number_in_head(paragraphs)
    )

    if shown and not hints.get("title"):
        title = original_script(shown, page.content)
    elif shown:
        title = shown
    if issuer:
        issuer = " ".join(original_script(part, page.content) for part in issuer.split(" "))

    out: dict[str, str | None] = {
        "title": title or None,
        "date": date,
        "issuer": issuer,
        **_region_fields(region),
        "doc_type": _doc_type(title, paragraphs),
        "doc_number": doc_number,
    }
    return {k: out.get(k) for k in METADATA_KEYS}


@functools.lru_cache(maxsize=1)
def _trad_variants() -> dict[str, str]:
    """simplified char -> the traditional chars that map to it (from the t2s table)."""
    out: dict[str, str] = {}
    for trad, simp in t2s_table().items():
        out[simp] = out.get(simp, "") + chr(trad)
    return out


# Work bound for looking a value up in the raw page.
_SCRIPT_SCAN_CHARS = 400_000


def original_script(value: str, content: str | None) -> str:
    """`value` as the page prints it. The pipeline hands metadata a simplified copy of a
    traditional-script page (so rules and region names match); a title or issuer read from
    it is mapped back to the page's own characters (中共福州市鼓樓區委), because that is what
    the archive shows. The t2s mapping is one character to one, so the same span exists
    in the raw page; when it cannot be found (markup inside it) the value is kept."""
    if not value or not content:
        return value
    content = content[:_SCRIPT_SCAN_CHARS]
    if value in content:
        return value
    variants = _trad_variants()
    if not any(ch in variants or ch in _WIDE or ch == " " for ch in value):
        return value
    parts = []
    for ch in value:
        if ch == " ":
            parts.append(r"[\s\u3000\u00a0]+")
        elif ch in variants or ch in _WIDE:
            parts.append("[" + re.escape(ch + variants.get(ch, "") + _WIDE.get(ch, "")) + "]")
        else:
            parts.append(re.escape(ch))
    m = re.search("".join(parts), content)
    return " ".join(m.group(0).split()) if m else value


# ASCII character -> its full-width form (NFKC maps （ to (, ｜ to |): a value read from a
# normalised copy is found in the page in either form.
_WIDE = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def _head_lines(paragraphs: list[str], n: int = 8) -> list[str]:
    out = []
    for p in paragraphs:
        s = _norm_line(p)
        if s:
            out.append(s)
            if len(out) >= n:
                break
    return out


_DECREE = re.compile(r"^(?:中华人民共和国)?([\u4e00-\u9fff]{1,12}?)令\s*(?:\n\s*)?第\s*(\d{1,5})\s*号")


def _decree(paragraphs: list[str]) -> tuple[str | None, str | None]:
    """('国令第707号', '国务院') for a decree headed 中华人民共和国国务院令 / 第707号."""
    head = "\n".join(_head_lines(paragraphs, 3))
    m = _DECREE.match(head)
    if not m:
        return None, None
    organ = m.group(1)
    short = "国" if organ == "国务院" else organ
    return f"{short}令第{int(m.group(2))}号", organ


def _doc_number_in_head(paragraphs: list[str]) -> str | None:
    """A 发文字号 standing on one of the first lines (a line that is mostly the number, or
    one split over short lines as in 国函〔 / 2006 / 〕38号), not one quoted inside a
    sentence (你们关于...的请示（国科发高〔2018〕235号）收悉)."""
    lines = _head_lines(paragraphs)
    for s in lines:
        if len(s) <= 40:
            n = parse_doc_number(s)
            if n:
                return n
    # numbers broken over several short lines: glue runs of short lines
    for i, first in enumerate(lines):
        if len(first) > 12 or not re.search(r"[〔\[［【（(]", first):
            continue  # the broken number starts on a line holding its opening bracket
        glued = ""
        for nxt in lines[i : i + 4]:
            if len(nxt) > 12:
                break
            glued += nxt
        m = _DOCNUM.match(unicodedata.normalize("NFKC", glued))
        if m and i + 1 < len(lines) and glued != first:
            return parse_doc_number(m.group(0))
    return _decree(paragraphs)[0]

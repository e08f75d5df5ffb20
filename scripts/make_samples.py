"""Build the bundled demo corpus under samples/ from the UTF-8 sources in scripts/samples_src/.

Why a generator: the demo corpus must contain the awkward forms real scrapes come in
(GB18030 bytes behind a gb2312 meta tag, GBK without any charset, a meta tag that lies,
JSON-lines records, a gzipped WARC with a PNG in the middle). Such files are impossible to
review or edit by hand, so every notice is written once as plain UTF-8 text in
scripts/samples_src/notices/*.txt and rendered here into its final form. The sources live
outside samples/ so that `python -m indexer build samples` sees each notice exactly once.

The same pass writes samples/manifest.json (the expected metadata and body phrases that
other people's end-to-end tests check against) and samples/README.md, so the three can
never drift apart. Output is deterministic: fixed WARC dates and record ids, sorted JSON,
no timestamps, so re-running yields identical bytes (gzip framing aside, see test).

Usage: .venv/bin/python scripts/make_samples.py [--out ROOT]   (ROOT defaults to the repo)
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import html
import io
import json
import re
import struct
import sys
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SRC_DIR = Path(__file__).resolve().parent / "samples_src" / "notices"

MARK_COMMENT = "<!-- 示例 demo notice written for notice-archive; not a real government document -->"
MARK_META = '<meta name="notice-archive" content="示例">'
NOTE = "示例"

JSONL_PATH = "samples/jsonl/demo_notices.jsonl"
WARC_PATH = "samples/warc/demo_crawl.warc.gz"

BODY_MIN, BODY_MAX = 600, 3000

# How manifest keys number WARC records: "html" counts only HTML response records (the
# convention asked for in the brief); "all" counts every record, as indexer/sources.py does.
# Switching is a one-word change here plus a re-run; README and tests follow the manifest.
WARC_KEY_NUMBERING = "all"
WARC_NUMBERING_TEXT = {
    "html": "`#record=N` counts only HTML response records (1-based), so the PNG and the "
            "non-response records have no key.",
    "all": "`#record=N` is the record's 1-based position counting every record of the file "
           "(warcinfo and request included), as indexer/sources.py names a WARC RawPage.source; "
           "only HTML responses have keys (`#record=3` is HTML record 1).",
}

HEADER_KEYS = {
    "form", "file", "title", "date", "pub_date", "issuer", "province", "city", "district",
    "region_code", "doc_type", "doc_number", "url", "site", "column", "must_contain",
    "charset", "title_line", "links", "sigdate", "kicker",
}

PROVINCE_ABBR = {
    "陕西省": "陕", "四川省": "蜀", "浙江省": "浙", "广东省": "粤", "江苏省": "苏",
    "福建省": "闽", "云南省": "滇", "河南省": "豫",
}

# Invented headlines for "related"/"hot news"/prev-next links. They name no place, so they
# can never be mistaken for body text; each chosen one becomes a must_not_contain phrase.
HEADLINES = [
    "政务服务中心推出“周末不打烊”延时服务",
    "秋冬季森林防火工作推进会召开",
    "关于公布第二批非物质文化遗产代表性项目名录的通知",
    "举办高校毕业生专场招聘会提供岗位逾千个",
    "领导带队开展节前安全生产大检查",
    "人大常委会开展食品安全法执法检查",
    "关于调整城乡居民基本医疗保险缴费标准的通告",
    "社区“邻里节”活动精彩纷呈",
    "融媒体中心开展新闻业务培训",
    "城市管理“门前三包”责任制全面推行",
    "冬季供暖保障工作会议召开",
    "关于举办第十二届全民健身运动会的通知",
    "图书馆举办亲子阅读推广周活动",
    "退役军人事务局走访慰问重点优抚对象",
    "关于做好汛期地质灾害防治工作的紧急通知",
    "统计工作会议暨业务培训会召开",
    "政协召开常委会议协商民生议题",
    "关于征集下一年度民生实事项目建议的公告",
    "税务局开展“便民办税春风行动”",
    "河湖“清四乱”专项行动取得阶段性成效",
    "卫健局组织专家开展义诊进社区活动",
    "公共法律服务中心新增夜间法律咨询窗口",
    "市场监管局开展电动自行车产品质量抽查",
    "农村人居环境整治现场观摩会召开",
]
SNIPPETS = [
    "近日，记者走进政务服务大厅，看到前来办事的群众络绎不绝...",
    "“这个窗口下午六点以后还能办吗？”一位市民问道...",
    "清晨七点，护林员老杨已经背起水壶走上了巡山小道...",
    "为进一步提升基层治理水平，该街道探索推行...",
    "“以前跑三趟，现在一趟就办完了。”刚领到执照的小王说...",
    "走进社区活动中心，老人们正在志愿者指导下学习使用智能手机...",
]

# Page chrome with fixed wording: every page that carries it lists the phrase in
# must_not_contain, so a cleaner that keeps boilerplate is caught.
CHROME_SHARE = "分享到："
CHROME_FONT = "【字体：大 中 小】"
CHROME_PRINT = "【打印本页】"
CHROME_CLOSE = "【关闭窗口】"
CHROME_EDITOR = "责任编辑："
CHROME_PREV = "上一篇："
CHROME_SCRIPT = "网站正在升级维护中"
CHROME_HIDDEN = "本稿件待审核请勿转载"
CHROME_AD = "扫码办事更便捷"
CHROME_IDCODE = "网站标识码"
CHROME_HOT = "热点新闻"
CHROME_INDEX = "索引号"


@dataclass
class Src:
    """One notice as written in scripts/samples_src/notices/NAME.txt."""

    name: str
    h: dict[str, str]
    paragraphs: list[str]
    must_not: list[str] = field(default_factory=list)
    key: str = ""
    dirt: list[str] = field(default_factory=list)
    encoding: str = "utf-8"

    def get(self, k: str) -> str | None:
        v = self.h.get(k, "").strip()
        return v or None

    @property
    def body(self) -> str:
        return "\n".join(self.paragraphs)


def parse_source(path: Path) -> Src:
    """Read `key: value` header lines, a `---` line, then one paragraph per line."""
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---\n")
    if not sep:
        raise ValueError(f"{path}: no '---' separator")
    h: dict[str, str] = {}
    for line in head.splitlines():
        k, colon, v = line.partition(":")
        if not colon or k.strip() not in HEADER_KEYS:
            raise ValueError(f"{path}: bad header line {line!r}")
        h[k.strip()] = v.strip()
    paras = [p.strip() for p in body.splitlines() if p.strip()]
    src = Src(path.stem, h, paras)
    n = len(src.body.replace("\n", ""))
    if not BODY_MIN <= n <= BODY_MAX:
        raise ValueError(f"{path}: body has {n} characters, want {BODY_MIN}..{BODY_MAX}")
    central = not h.get("province", "").strip()  # a central organ's page: no region
    if not (central and not h.get("region_code", "").strip()) and not re.fullmatch(
            r"\d{6}", h.get("region_code", "")):
        raise ValueError(f"{path}: region_code must be 6 digits (empty only without province)")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", h.get("date", "")):
        raise ValueError(f"{path}: date must be ISO")
    for phrase in src.must_contain:
        if phrase not in src.body:
            raise ValueError(f"{path}: must_contain {phrase!r} not in body")
    return src


def _must_contain(self: Src) -> list[str]:
    return [p.strip() for p in self.h.get("must_contain", "").split("||") if p.strip()]


Src.must_contain = property(_must_contain)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- small helpers

def h8(s: str, n: int = 8) -> int:
    """Stable small integer from a string (Python's hash() is salted per run)."""
    return int(hashlib.sha1(s.encode("utf-8")).hexdigest()[:n], 16)


def pick(src: Src, pool: list[str], k: int, salt: str) -> list[str]:
    """Deterministically pick k distinct items of pool for this notice."""
    out: list[str] = []
    i = 0
    while len(out) < k:
        item = pool[h8(f"{src.name}/{salt}/{i}") % len(pool)]
        if item not in out:
            out.append(item)
        i += 1
    return out


CN_DIGITS = "〇一二三四五六七八九"


def cn_date(iso: str) -> str:
    """2018-08-02 -> 二〇一八年八月二日 (the form used in many signature blocks)."""
    y, m, d = (int(x) for x in iso.split("-"))

    def num(n: int) -> str:
        if n < 10:
            return CN_DIGITS[n]
        tens, ones = divmod(n, 10)
        return ("十" if tens == 1 else CN_DIGITS[tens] + "十") + (CN_DIGITS[ones] if ones else "")

    return "".join(CN_DIGITS[int(c)] for c in str(y)) + f"年{num(m)}月{num(d)}日"


DATE_LINE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")


def out_paragraphs(src: Src) -> list[str]:
    """The paragraphs as printed on the page (signature date in Chinese numerals if asked)."""
    paras = list(src.paragraphs)
    if src.get("sigdate") == "cn" and DATE_LINE.match(paras[-1]):
        paras[-1] = cn_date(src.h["date"])
    if shows_number_line(src):
        paras.insert(0, src.h["doc_number"])
    return paras


def shows_number_line(src: Src) -> bool:
    """Official documents print their 发文字号 on a line of its own above the text; the
    TRS pages carry it in the 信息公开 table instead. Without this line the number the
    manifest expects would be nowhere on the page."""
    return bool(src.get("doc_number")) and src.h["form"] not in ("html-trs",) and not (
        src.name[:2] in ("j3", "w3", "w6"))  # rendered with the TRS template (info table)


def shows_pub_date(src: Src) -> bool:
    """Whether the rendered page states its publication date (meta tag, byline, record
    field). Scraped text without a byline line only has the signature date."""
    form = src.h["form"]
    if form == "text":
        return (src.get("links") or "").startswith("head")
    if form == "jsonl-text":
        return src.name.startswith("j2")
    return True


def expected_date(src: Src) -> str:
    """The date `clean --json` should give: the page's publication date when the page
    shows one (what a reader of the archive sees as "published"), else the date the
    notice itself carries (signature / 成文日期)."""
    return pub_date(src) if shows_pub_date(src) else src.h["date"]


def is_signature(paras: list[str], i: int) -> bool:
    """True for the issuer/date lines of a signature block (rendered right-aligned)."""
    if DATE_LINE.match(paras[i]) or re.match(r"^[〇一二三四五六七八九]{4}年", paras[i]):
        return True
    return i + 1 < len(paras) and bool(DATE_LINE.match(paras[i + 1]) or re.match(r"^[〇一二三四五六七八九]{4}年", paras[i + 1])) and len(paras[i]) < 30


def domain(src: Src) -> str:
    url = src.get("url") or "http://www.example.gov.cn/"
    return url.split("/")[2]


def icp(src: Src) -> str:
    abbr = PROVINCE_ABBR.get(src.get("province") or "", "京")  # central sites are in Beijing
    return f"{abbr}ICP备{h8(src.name + 'icp') % 10**8:08d}号"


def site_id(src: Src) -> str:
    # central organs' sites carry a non-division code (bm + digits), not a region code
    return f"{src.get('region_code') or 'bm0100'}{h8(src.name + 'sid') % 10000:04d}"


def pub_date(src: Src) -> str:
    return src.get("pub_date") or src.h["date"]


def esc(s: str) -> str:
    return html.escape(s, quote=True)


def info_table(src: Src, trad: bool = False) -> str:
    """The 信息公开 table (索引号/发文机关/...) that sits above many gov articles."""
    idx = f"{site_id(src)[:6]}-{src.h['date'][:4]}-{h8(src.name + 'idx') % 100000:05d}"
    y, m, d = src.h["date"].split("-")
    rows = [
        ("索引号", idx),
        ("发文机关", src.h["issuer"]),
        ("成文日期", f"{int(y)}年{int(m)}月{int(d)}日"),
        ("发布日期", pub_date(src)),
        ("文号", src.get("doc_number") or "无"),
        ("主题分类", src.h.get("doc_type", "")),
    ]
    cells = "\n".join(f'  <tr><th>{k}：</th><td>{esc(v)}</td></tr>' for k, v in rows)
    src.must_not.append(CHROME_INDEX)
    return f'<table class="xxgk-info" cellspacing="0">\n{cells}\n</table>'


def p_html(src: Src, indent: str = "", style_sig: bool = True) -> str:
    paras = out_paragraphs(src)
    out = []
    for i, p in enumerate(paras):
        if i == 0 and shows_number_line(src) and p == src.h["doc_number"]:
            out.append(f'<p style="text-align: center;">{esc(p)}</p>')
        elif style_sig and is_signature(paras, i):
            out.append(f'<p style="text-align: right;">{esc(p)}</p>')
        else:
            out.append(f'<p style="text-indent: 2em;">{indent}{esc(p)}</p>')
    return "\n".join(out)


def footer(src: Src) -> str:
    src.must_not += [icp(src), CHROME_IDCODE]
    return (
        f'<div class="footer">\n<p>主办单位：{esc(src.get("site") or "")}　'
        f'<a href="https://beian.miit.gov.cn/">{icp(src)}</a></p>\n'
        f'<p>{CHROME_IDCODE}：{site_id(src)}　建议使用1366×768分辨率浏览</p>\n</div>'
    )


def head_common(src: Src, charset_tag: str, title_tag: str) -> str:
    return (
        f"{charset_tag}\n{MARK_COMMENT}\n{MARK_META}\n"
        f"<title>{esc(title_tag)}</title>\n"
        f'<meta name="SiteName" content="{esc(src.get("site") or "")}">\n'
        f'<meta name="SiteDomain" content="{domain(src)}">\n'
        f'<meta name="SiteIDCode" content="{site_id(src)}">\n'
        f'<meta name="ColumnName" content="{esc(src.get("column") or "通知公告")}">\n'
        f'<meta name="ArticleTitle" content="{esc(src.h["title"])}">\n'
        f'<meta name="PubDate" content="{pub_date(src)} 10:00">\n'
        f'<meta name="ContentSource" content="{esc(src.h["issuer"])}">\n'
        + (f'<link rel="canonical" href="{esc(src.h["url"])}">\n' if src.get("url") else "")
    )


# ---------------------------------------------------------------- HTML renderers

def render_trs(src: Src, charset_tag: str = '<meta charset="utf-8">') -> str:
    """A clean TRS-CMS style page: info table, h1, .TRS_Editor content, short footer."""
    src.dirt += ["信息公开 table", "TRS_Editor container", "ICP footer"]
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
{head_common(src, charset_tag, src.h["title"] + "_" + (src.get("site") or ""))}</head>
<body>
<div class="xxgk">
{info_table(src)}
</div>
<div class="article">
<h1 class="article-title">{esc(src.h["title"])}</h1>
<div class="TRS_Editor">
{p_html(src)}
</div>
</div>
{footer(src)}
</body>
</html>
"""


def kicker_html(src: Src) -> str:
    """A heading printed over two elements: the kicker (引题) above the main line. <title>
    names only the main line, as on the pages this models."""
    if not src.get("kicker"):
        return ""
    src.dirt.append("two-line heading (kicker h3 + main line); <title> names the main line only")
    return f'<h3 class="pre">{esc(src.h["kicker"])}</h3>'


def shown_title(src: Src) -> str:
    """The title as the page shows it: a two-line heading joined with a space."""
    return " ".join(x for x in (src.get("kicker"), src.h["title"]) if x)


def render_ucap(src: Src, charset_tag: str = '<meta charset="utf-8">') -> str:
    """A clean UCAP-CMS style page: byline with 来源/发布时间 and #UCAP-CONTENT."""
    src.dirt += ["来源/发布时间 byline", "#UCAP-CONTENT container", "ICP footer"]
    if not src.get("province"):
        src.dirt.append("central issuer whose photo captions name counties (no region)")
    src.must_not.append("发布时间：")
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
{head_common(src, charset_tag, src.h["title"] + " - " + (src.get("site") or ""))}<meta name="publishdate" content="{pub_date(src)} 16:20:11">
</head>
<body>
<div class="main">
<div class="detail-title">{kicker_html(src)}<h2>{esc(src.h["title"])}</h2></div>
<div class="detail-info"><span>来源：{esc(src.h["issuer"])}</span><span>发布时间：{pub_date(src)}</span></div>
<div id="UCAP-CONTENT">
{p_html(src, indent="&nbsp;&nbsp;")}
</div>
</div>
{footer(src)}
</body>
</html>
"""


def portal_parts(src: Src) -> dict[str, str]:
    """Navigation, share bar, related lists etc. of a busy portal page."""
    prev_t, next_t, *related = pick(src, HEADLINES, 7, "portal")
    hot = related[3:]
    related = related[:3]
    src.must_not += [
        CHROME_SHARE, CHROME_FONT, CHROME_PRINT, CHROME_EDITOR, CHROME_PREV, CHROME_SCRIPT,
        CHROME_HIDDEN, CHROME_AD, CHROME_HOT, prev_t, next_t, related[0], hot[0],
    ]
    site = esc(src.get("site") or "")
    column = esc(src.get("column") or "通知公告")
    editor = ["王磊", "李娜", "张伟", "刘洋", "陈静", "杨帆"][h8(src.name + "ed") % 6]
    rel = "\n".join(f'<li><a href="/xw/{h8(t) % 99999}.html">{esc(t)}</a><span>{pub_date(src)}</span></li>' for t in related)
    hot_l = "\n".join(f'<li><a href="/rd/{h8(t) % 99999}.html">{esc(t)}</a></li>' for t in hot)
    return {
        "style": "<style>\nbody{font-family:\"Microsoft YaHei\";margin:0}.nav li{float:left;list-style:none}\n.hide{display:none}\n</style>",
        "script": f'<script type="text/javascript">\nvar siteTip = "{CHROME_SCRIPT}，给您带来不便敬请谅解";\nfunction doZoom(size){{document.getElementById("zoom").style.fontSize=size+"px";}}\n</script>',
        "top": f'<div class="topbar"><span>欢迎访问{site}</span> <a href="#">无障碍浏览</a> | <a href="#">长者模式</a> | <a href="#">繁體版</a></div>',
        "nav": '<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li><li><a href="/zwfw/">政务服务</a></li><li><a href="/hdjl/">互动交流</a></li><li><a href="/zjwm/">走进我们</a></li></ul></div>',
        "crumb": f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; <a href="#">{column}</a></div>',
        "byline": f'<div class="info">来源：{esc(src.h["issuer"])}　　发布时间：{pub_date(src)} 09:30　　浏览次数：<span id="hits">{h8(src.name) % 5000 + 120}</span>　　<span class="zoom">{CHROME_FONT}</span></div>',
        "share": f'<div class="share">{CHROME_SHARE}<a href="#">微信</a> <a href="#">微博</a> <a href="#">QQ空间</a></div>',
        "hidden": f'<div class="hide" style="display:none">【内部】{CHROME_HIDDEN}，编辑核对后删除此段。</div>',
        "ad": f'<div class="ad"><a href="/app/"><img src="/images/app_banner.png" alt="政务服务APP下载"><span>广告：政务服务APP下载，{CHROME_AD}</span></a></div>',
        "tools": f'<div class="tools"><a href="javascript:window.print()">{CHROME_PRINT}</a> <a href="javascript:window.close()">{CHROME_CLOSE}</a></div>',
        "editor": f'<div class="editor">{CHROME_EDITOR}{editor}</div>',
        "prevnext": f'<div class="prevnext"><p>{CHROME_PREV}<a href="/p.html">{esc(prev_t)}</a></p><p>下一篇：<a href="/n.html">{esc(next_t)}</a></p></div>',
        "related": f'<div class="related"><h3>相关链接</h3><ul>\n{rel}\n</ul></div>',
        "hot": f'<div class="hot"><h3>{CHROME_HOT}</h3><ol>\n{hot_l}\n</ol></div>',
    }


def render_dirty(src: Src, charset_tag: str = '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">') -> str:
    """A busy portal page: the notice buried in chrome, as most real scrapes look."""
    src.dirt += ["nav + breadcrumb", "来源/发布时间 byline", "字体 大中小", "share bar", "hidden div",
                 "ad", "script/style", "打印/关闭", "责任编辑", "上一篇/下一篇", "related + 热点新闻 lists", "ICP + 网站标识码 footer"]
    p = portal_parts(src)
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
{head_common(src, charset_tag, src.h["title"] + "-" + (src.get("site") or ""))}{p["style"]}
{p["script"]}
</head>
<body>
{p["top"]}
<div class="header"><img src="/images/logo.png" alt="{esc(src.get("site") or "")}"></div>
{p["nav"]}
{p["crumb"]}
<div class="content-wrap">
<div class="left">
<div class="article">
<div class="bt">{esc(src.h["title"])}</div>
{p["byline"]}
{p["share"]}
{p["hidden"]}
<div id="zoom" class="article-content">
{p_html(src, indent="　　", style_sig=True)}
</div>
{p["tools"]}
{p["editor"]}
{p["prevnext"]}
</div>
{p["related"]}
</div>
<div class="right">
{p["ad"]}
{p["hot"]}
</div>
</div>
{footer(src)}
<script type="text/javascript">document.write('<img src="/stat.gif?id={site_id(src)}">');</script>
</body>
</html>
"""


def render_broken(src: Src) -> str:
    """Two <html> roots, half the notice after </body>, unclosed <p>/<font>/<td>."""
    src.dirt += ["two <html> roots", "text after </body>", "unclosed <p>/<font>/<td>", "nav", "ICP footer"]
    paras = out_paragraphs(src)
    half = len(paras) // 2
    first = "\n".join(f'<p style="text-indent:2em"><font size="3">{esc(x)}' for x in paras[:half])
    rest = "\n".join(f"<p>{esc(x)}</p>" for x in paras[half:])
    src.must_not += ["网站地图", icp(src)]
    return f"""<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
{MARK_COMMENT}
{MARK_META}
<title>{esc(src.h["title"])}</title>
<meta name="PubDate" content="{pub_date(src)} 08:45">
<meta name="ContentSource" content="{esc(src.h["issuer"])}">
<meta name="SiteIDCode" content="{site_id(src)}">
</head>
<body>
<div class="top"><a href="/">首页</a> | <a href="/map.html">网站地图</a> | <a href="/eng/">English</a>
<table width="100%"><tr><td class="title">{esc(src.h["title"])}
<tr><td>发布日期：{pub_date(src)}
</table>
</body>
</html>
<html>
<body>
<div id="zoom">
{first}
</body>
{rest}
</div>
</html>
<div class="foot">{icp(src)}　{esc(src.get("site") or "")}　版权所有</div>
"""


def render_trad(src: Src) -> str:
    """A traditional-script reprint of a mainland notice on a Macau-style archive site."""
    src.dirt += ["traditional script", "reprint header + source line", "返回頂部/版權 footer"]
    src.must_not += ["本文轉載自", "返回頂部", "版權所有"]
    return f"""<!DOCTYPE html>
<html lang="zh-Hant-MO">
<head>
<meta charset="utf-8">
{MARK_COMMENT}
{MARK_META}
<title>{esc(src.h["title"])} | {esc(src.get("site") or "")}</title>
<meta name="PubDate" content="{pub_date(src)} 11:00">
<meta name="ContentSource" content="{esc(src.h["issuer"])}">
<link rel="canonical" href="{esc(src.h["url"])}">
</head>
<body>
<header><a href="/">首頁</a> · <a href="/cn/">內地政情</a> · <a href="/cn/fj/">福建</a></header>
<article>
<h1>{esc(src.h["title"])}</h1>
<p class="meta">本文轉載自中共福州市鼓樓區委網站　刊登日期：{pub_date(src)}</p>
<div class="entry-content">
{p_html(src)}
</div>
</article>
<footer><a href="#top">返回頂部</a><p>版權所有 © 兩岸政情資料庫（澳門）</p></footer>
</body>
</html>
"""


def render_wechat(src: Src) -> str:
    """A WeChat official-account article as a browser saves it: the text in #js_content,
    hidden by its style until a script reveals it; the time only in `var ct`; the account's
    toolbar and QR code around it; 来源/编辑/审核 lines at the end of the text."""
    src.dirt += ["WeChat #js_content with visibility:hidden", "time only in script var ct",
                 "来源/编辑/审核 lines", "阅读/在看 toolbar, QR code"]
    src.must_not += ["编辑：", "审核：", "微信扫一扫"]
    y, m, d = (int(x) for x in pub_date(src).split("-"))
    ct = int(datetime.datetime(y, m, d, 9, 30, tzinfo=datetime.timezone(
        datetime.timedelta(hours=8))).timestamp())
    editor = ["王磊", "李娜", "张伟", "刘洋"][h8(src.name + "ed") % 4]
    paras = "\n".join(
        f'<p style="text-indent: 2em;"><span style="font-size: 15px;">{esc(p)}</span></p>'
        for p in out_paragraphs(src))
    title = esc(src.h["title"])
    account = esc(src.get("site") or "")
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
{MARK_COMMENT}
{MARK_META}
<meta name="viewport" content="width=device-width,initial-scale=1.0">
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="微信公众平台">
<title>{title}</title>
<script>var nickname = "{account}"; var ct = "{ct}"; var msg_title = "{title}";</script>
</head>
<body id="activity-detail" class="zh_CN mm_appmsg">
<div id="js_article" class="rich_media">
<div class="rich_media_inner"><div id="page-content" class="rich_media_area_primary">
<div id="img-content" class="rich_media_wrp">
<h1 class="rich_media_title" id="activity-name">
{title}
</h1>
<div id="meta_content" class="rich_media_meta_list">
<span class="rich_media_meta rich_media_meta_text">{esc(src.h["issuer"])}</span>
<span class="rich_media_meta rich_media_meta_nickname" id="profileBt"><a href="javascript:void(0);" id="js_name">{account}</a></span>
<em id="publish_time" class="rich_media_meta rich_media_meta_text"></em>
</div>
<div class="rich_media_content js_underline_content" id="js_content" style="visibility: hidden;">
<section><p style="text-align: center;"><img data-src="https://mmbiz.qpic.cn/demo/{h8(src.name) % 99999}/640" class="rich_pages wxw-img"></p></section>
{paras}
<p><span style="font-size: 14px;">来源：{esc(src.h["issuer"])}</span></p>
<p><span style="font-size: 14px;">编辑：{editor}</span></p>
<p><span style="font-size: 14px;">审核：{["赵刚", "孙丽"][h8(src.name) % 2]}</span></p>
</div>
<script type="text/javascript">document.getElementById("js_content").style.visibility = "visible";</script>
<div class="rich_media_tool" id="js_toobar3">
<div class="media_tool_meta meta_primary" id="js_read_area3">阅读 <span id="readNum3">{h8(src.name + "r") % 5000 + 300}</span></div>
<span class="media_tool_meta meta_extra meta_praise" id="like3">在看</span>
</div>
</div></div></div>
<div class="qr_code_pc_outer"><div class="qr_code_pc"><p>微信扫一扫<br>关注该公众号</p></div></div>
</div>
</body>
</html>
"""


def render_crumb_title(src: Src) -> str:
    """A county portal whose title area holds only a breadcrumb (`site > column >`): the
    notice's own heading is printed nowhere but in <title>."""
    crumb = f"{src.get('site') or ''} > {src.get('column') or '通知公告'} >"
    src.dirt += ["title area holds only a breadcrumb (site > column >)", "heading only in <title>",
                 "发布日期 line", "ICP footer"]
    src.must_not.append(crumb)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
{head_common(src, '<meta charset="utf-8">', src.h["title"] + "_" + (src.get("site") or ""))}</head>
<body>
<div class="nav"><a href="/">首页</a> <a href="/zwgk/">政务公开</a> <a href="/hdjl/">互动交流</a></div>
<div class="article">
<div class="article-title">{esc(crumb)}</div>
<div class="article-info">发布日期：{pub_date(src)}</div>
<div class="content">
{p_html(src)}
</div>
</div>
{footer(src)}
</body>
</html>
"""


def render_html_file(src: Src) -> tuple[bytes, str]:
    """Render an html-* form to bytes; returns (bytes, encoding of the bytes)."""
    form = src.h["form"]
    if form == "html-trs":
        return render_trs(src).encode("utf-8"), "utf-8"
    if form == "html-ucap":
        return render_ucap(src).encode("utf-8"), "utf-8"
    if form == "html-dirty":
        return render_dirty(src).encode("utf-8"), "utf-8"
    if form == "html-broken":
        return render_broken(src).encode("utf-8"), "utf-8"
    if form == "html-trad":
        return render_trad(src).encode("utf-8"), "utf-8"
    if form == "html-wechat":
        return render_wechat(src).encode("utf-8"), "utf-8"
    if form == "html-crumb-title":
        return render_crumb_title(src).encode("utf-8"), "utf-8"
    if form == "html-gb18030":
        src.dirt.append("GB18030 bytes, meta says gb2312 (has 㛃 堃 镕)")
        page = render_dirty(src, '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">')
        return page.encode("gb18030"), "gb18030"
    if form == "html-lying-meta":
        src.dirt.append("UTF-8 bytes, meta says gbk")
        page = render_dirty(src, '<meta http-equiv="Content-Type" content="text/html; charset=gbk">')
        return page.encode("utf-8"), "utf-8"
    if form == "html-gbk-nometa":
        src.dirt.append("GBK bytes, no charset anywhere")
        page = render_ucap(src, "")
        return page.encode("gbk"), "gbk"
    raise ValueError(f"{src.name}: unknown form {form}")


# ---------------------------------------------------------------- text / jsonl / warc

def render_text(src: Src) -> str:
    """Plain text as scraped: optional title line, body, optional trailing link list."""
    lines = []
    trad = "繁體" in src.h["file"]
    links = src.get("links") or ""
    if links.startswith("head"):
        crumb = "當前位置：首頁 > 巡察工作 > 整改公開" if trad else "当前位置：首页 > 政务公开 > 通知公告"
        lines.append(crumb)
        src.must_not.append(crumb[:5])
        src.dirt.append("breadcrumb line before the title, 来源/日期/字号 line after it")
    if src.get("title_line") == "yes":
        lines.append(src.h["title"])
        src.dirt.append("title as first line")
    if links.startswith("head"):
        size = "字號：【大 中 小】" if trad else "字号：【大 中 小】"
        lines.append(f"{'來源' if trad else '来源'}：{src.h['issuer']}　{'日期' if trad else '日期'}：{pub_date(src)}　{size}")
        src.must_not.append(size)
    elif src.get("title_line") != "yes":
        src.dirt.append("no title line, half-width punctuation")
    paras = out_paragraphs(src)
    if links.endswith("pipe"):
        # One paragraph scraped from a table cell: the notice ends in the cell's `|` and a
        # headline list follows; the cleaner must keep the notice and drop the list.
        paras[-1] += " |"
        src.dirt.append("one-paragraph notice ending in a table pipe ` |`")
    lines += paras
    if links == "yes" or links.endswith("pipe"):
        lines += link_lines(src)
    return "\n".join(lines) + "\n"


def link_lines(src: Src) -> list[str]:
    """The trailing related-links list a text scrape picks up (`headline | |`, `snippet |`)."""
    src.dirt.append("trailing `headline | |` / `snippet |` link list")
    heads = pick(src, HEADLINES, 3, "txt")
    snips = pick(src, SNIPPETS, 3, "snip")
    lines: list[str] = []
    for hd, sn in zip(heads, snips):
        lines += [f"{hd} | |", f"{sn} |"]
    src.must_not += [heads[0], snips[0].rstrip(".")[:12]]
    return lines


def jsonl_record(src: Src) -> dict:
    """One JSON-lines record: an html record with title/date hints, or a text record."""
    if src.h["form"] == "jsonl-html":
        inner = {"j1": render_dirty, "j3": render_trs}.get(src.name[:2], render_ucap)(src)
        src.dirt.append("html inside a JSON string; title/date given as record fields")
        return {"url": src.h["url"], "title": src.h["title"], "date": pub_date(src), "html": inner, "note": NOTE}
    if src.name.startswith("j2"):
        src.dirt.append("text record with title/date fields")
        text = "\n".join(out_paragraphs(src) + link_lines(src)) + "\n"
        return {"url": src.h["url"], "title": src.h["title"], "date": pub_date(src), "text": text, "note": NOTE}
    src.dirt.append("text-only record, title is the first line of `text`")
    if not src.get("province"):
        src.dirt += ["central site's article: byline run into the text, no 来源 field",
                     "photo captions name counties (no region)"]
    text = "\n".join([src.h["title"]] + out_paragraphs(src) + link_lines(src)) + "\n"
    rec = {"text": text, "note": NOTE}
    if src.get("url"):
        rec["url"] = src.h["url"]
    return rec


def tiny_png() -> bytes:
    """A valid 1x1 PNG built in code (the WARC's non-HTML record)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xcc\x00\x00", 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def warc_bytes(srcs: list[Src]) -> bytes:
    """A gzipped WARC: warcinfo, a request, HTML responses, and a PNG response in between."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True, warc_version="WARC/1.0")
    written = [0]
    _write = writer.write_record

    def counting_write(record) -> None:  # type: ignore[no-untyped-def]
        written[0] += 1
        _write(record)

    writer.write_record = counting_write  # type: ignore[method-assign]

    def rid(s: str) -> str:
        return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'notice-archive-demo:' + s)}>"

    def wdate(n: int) -> str:
        return f"2025-06-01T08:{n:02d}:00Z"

    info = (
        "software: notice-archive scripts/make_samples.py\r\n"
        "format: WARC File Format 1.0\r\n"
        f"notice-archive-note: {NOTE} demo crawl, every page is invented\r\n"
    ).encode("utf-8")
    writer.write_record(writer.create_warc_record(
        "demo_crawl.warc.gz", "warcinfo", payload=io.BytesIO(info), length=len(info),
        warc_content_type="application/warc-fields",
        warc_headers_dict={"WARC-Record-ID": rid("warcinfo"), "WARC-Date": wdate(0), "WARC-Filename": "demo_crawl.warc.gz"},
    ))
    n = 1
    for i, src in enumerate(srcs):
        charset = src.get("charset") or "utf-8"
        renderer = {"w1": render_dirty, "w2": render_ucap, "w3": render_trs, "w4": render_dirty,
                    "w5": render_dirty, "w6": render_trs, "w7": render_ucap}[src.name[:2]]
        if charset == "gbk":
            page = renderer(src, "").encode("gbk")
            src.dirt.append("GBK bytes, charset only in the HTTP Content-Type header")
        else:
            page = renderer(src).encode("utf-8")
        src.encoding = charset
        url = src.h["url"]
        if i == 0:
            req = StatusAndHeaders(f"GET /{url.split('/', 3)[3]} HTTP/1.1",
                                   [("Host", domain(src)), ("User-Agent", "notice-archive-demo/1.0")],
                                   is_http_request=True)
            writer.write_record(writer.create_warc_record(
                url, "request", payload=io.BytesIO(b""), length=0, http_headers=req,
                warc_headers_dict={"WARC-Record-ID": rid("req:" + url), "WARC-Date": wdate(n)}))
        http = StatusAndHeaders("200 OK", [
            ("Content-Type", f"text/html; charset={charset}"),
            ("Content-Length", str(len(page))),
            ("Server", "nginx"),
        ], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            url, "response", payload=io.BytesIO(page), length=len(page), http_headers=http,
            warc_headers_dict={"WARC-Record-ID": rid(url), "WARC-Date": wdate(n), "WARC-Notice-Archive-Note": NOTE}))
        n += 1
        # Position among ALL records (warcinfo=1, request=2, ...), the other numbering a
        # reader may use; kept in the manifest so both conventions can be matched.
        src.h["warc_all_index"] = str(written[0])
        if src.name.startswith("w3"):
            png = tiny_png()
            png_url = "http://www.hzxh.gov.cn/images/2024/xcgz_banner.png"
            http = StatusAndHeaders("200 OK", [("Content-Type", "image/png"), ("Content-Length", str(len(png)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                png_url, "response", payload=io.BytesIO(png), length=len(png), http_headers=http,
                warc_headers_dict={"WARC-Record-ID": rid(png_url), "WARC-Date": wdate(n), "WARC-Notice-Archive-Note": NOTE}))
            n += 1
    return buf.getvalue()


# ---------------------------------------------------------------- manifest + README

def manifest_entry(src: Src) -> dict:
    must_not = []
    for m in src.must_not:
        if m not in must_not and m not in src.body:
            must_not.append(m)
    e = {
        "form": src.h["form"],
        "encoding": src.encoding,
        "title": shown_title(src) if src.get("title_line") != "no" else None,
        "date": expected_date(src),
        "issuer": src.h["issuer"],
        "province": src.get("province"),
        "city": src.get("city"),
        "district": src.get("district"),
        "region_code": src.get("region_code"),
        "doc_type": src.get("doc_type"),
        "doc_number": src.get("doc_number"),
        "url": src.get("url") if src.h["form"] != "text" else None,
        "must_contain": src.must_contain + ([src.h["doc_number"]] if shows_number_line(src) else []),
        "must_not_contain": must_not,
        "dirt": src.dirt,
        "script": "traditional" if src.h["form"] == "html-trad" or "繁體" in src.h["file"] else "simplified",
        "source_file": f"scripts/samples_src/notices/{src.name}.txt",
    }
    if src.h["date"] != e["date"]:
        e["signed_date"] = src.h["date"]
    if src.h.get("warc_all_index"):
        e["warc_record_all"] = int(src.h["warc_all_index"])
    return e


CONVENTIONS = {
    "keys": "source path relative to the repo root (forward slashes), as the indexer names a RawPage.source when run from the repo root; JSON-lines records add '#line=N' (1-based physical line); WARC records add '#record=N' (see warc_numbering)",
    "date": "ISO publication date as the page states it (PubDate meta, 发布时间/发布日期 byline, info table, record field); a page that states none (scraped text without a byline) gives the date the notice carries (signature/成文日期). signed_date (when present) is the signature/成文日期 date and differs from date",
    "issuer": "as printed in the signature block (joint issuers joined by one space) or, without signature, the ContentSource/来源 of the page; traditional-script notices keep traditional script",
    "region": "province/city/district describe the jurisdiction of the issuer (not the units it inspects), in simplified canonical names; region_code is the GB/T 2260 code of the most specific of them; city is the prefecture level (自治州 included), district the county level (区/县/县级市); empty levels are null",
    "doc_type": "one of: 巡视整改进展情况, 巡察整改进展情况, 巡察反馈意见, 巡视公告, 巡察公告, 通知, 公告, 通报, 实施意见, 年度报告",
    "title": "null when the source has no title at all (a scraped text without a heading line)",
    "must_contain": "phrases that must be in the cleaned body (exact substrings of the notice text)",
    "must_not_contain": "page chrome phrases present in the raw file that must not reach the cleaned body",
}


def readme(srcs: list[Src], keys: list[str]) -> str:
    rows = []
    for key, s in zip(keys, srcs):
        region = " ".join(x for x in (s.get("province"), s.get("city"), s.get("district")) if x)
        rows.append(f"| `{key}` | {s.h['form']} ({s.encoding}) | {region or '(central: none)'} ({s.get('region_code') or '-'}) | {s.h['date'][:4]} | {s.get('doc_type')} | {'; '.join(s.dirt)} |")
    table = "\n".join(rows)
    return f"""# Demo corpus (示例)

Every notice in this folder is **invented demo text** (示例) written for notice-archive, modelled
on the genres and structure of real Chinese government notices (巡视/巡察整改进展情况, 巡察反馈意见,
巡察公告, 通知, 公告, 通报, 实施意见, 年度报告). Names, figures, phone numbers, mailboxes and URLs
are made up. Nothing here was copied from a real page or from ../shared.

How each format carries the 示例 marker (without polluting the body):

- HTML: an HTML comment `<!-- 示例 demo notice ... -->` and `<meta name="notice-archive" content="示例">`.
- Plain text (`samples/text/`): the file name starts with `示例_` (no marker line in the file).
- JSON-lines: every record has `"note": "示例"`.
- WARC: a `warcinfo` record says so, every response record has a `WARC-Notice-Archive-Note: 示例`
  header, and each HTML payload has the HTML comment and meta tag.

Layout: `html/` single pages, `text/` scraped plain text, `jsonl/demo_notices.jsonl` one record
per line, `warc/demo_crawl.warc.gz` a small crawl. `manifest.json` is the ground truth; this
README and `manifest.json` are not notices (an indexer walking `samples/` must skip them).

## Do not edit by hand

All files here are generated by `scripts/make_samples.py` from UTF-8 sources in
`scripts/samples_src/notices/*.txt` (kept outside `samples/` so that `python -m indexer build
samples` indexes each notice once). Edit a source, then run

    .venv/bin/python scripts/make_samples.py

Output is deterministic (fixed WARC dates and record ids); `tests/test_samples.py` regenerates
into a temporary folder and compares.

## manifest.json

`{{"version": 1, "conventions": {{...}}, "notices": {{KEY: ENTRY}}}}`. Conventions:

""" + "\n".join(f"- **{k}**: {v}" for k, v in CONVENTIONS.items()) + f"""

ENTRY fields: `title, date, issuer, province, city, district, region_code, doc_type,
doc_number, url` (the expected `clean --json` values; `null` when absent), plus
`must_contain`, `must_not_contain`, `form`, `encoding` (of the bytes), `dirt`, `script`,
`source_file`, and `signed_date` when the signature/成文日期 date differs from `date`.

WARC record numbering (`warc_numbering`: {WARC_KEY_NUMBERING}): the file holds warcinfo, one
request record, 7 HTML responses and one `image/png` response (after HTML record 3).
{WARC_NUMBERING_TEXT[WARC_KEY_NUMBERING]} Every entry also gives the record's `url`
(WARC-Target-URI) for matching that does not depend on counting, and `warc_record_all`, the
record's 1-based position counting every record (warcinfo and request included).

## Notices ({len(srcs)})

| key | form (bytes) | region (code) | year | genre | dirt |
|---|---|---|---|---|---|
{table}

Encoding traps: `html/luanchuan_2021_gb18030.html` is GB18030 with `charset=gb2312` in its meta
tag and contains 㛃 (outside GBK), 堃 and 镕 (outside GB2312): only a gb18030 decode gets them
right. `html/xishuangbanna_2023_meta_gbk_but_utf8.html` is UTF-8 although its meta tag says gbk.
`html/beilin_2017_gbk_nometa.html` is GBK with no charset declaration at all. WARC record 4 is
GBK and declares it only in the HTTP `Content-Type` header.
"""


# ---------------------------------------------------------------- main

def load_sources() -> list[Src]:
    order = {"h": 0, "d": 1, "b": 2, "e": 3, "t": 4, "j": 5, "w": 6}
    files = sorted(SRC_DIR.glob("*.txt"), key=lambda p: (order[p.name[0]], p.name))
    return [parse_source(p) for p in files]


def build(root: Path) -> dict[str, bytes]:
    """Render every output file; returns {relative path: bytes} and writes them under root."""
    srcs = load_sources()
    outputs: dict[str, bytes] = {}
    keys: list[str] = []
    jsonl_lines: list[str] = []
    warc_srcs: list[Src] = []
    for src in srcs:
        form = src.h["form"]
        if form.startswith("html-"):
            data, src.encoding = render_html_file(src)
            outputs[src.h["file"]] = data
            keys.append(src.h["file"])
        elif form == "text":
            outputs[src.h["file"]] = render_text(src).encode("utf-8")
            keys.append(src.h["file"])
        elif form.startswith("jsonl-"):
            jsonl_lines.append(json.dumps(jsonl_record(src), ensure_ascii=False, sort_keys=True))
            keys.append(f"{JSONL_PATH}#line={len(jsonl_lines)}")
        elif form == "warc-html":
            warc_srcs.append(src)
            keys.append(f"{WARC_PATH}#record={len(warc_srcs)}")
        else:
            raise ValueError(f"{src.name}: unknown form {form}")
    outputs[JSONL_PATH] = ("\n".join(jsonl_lines) + "\n").encode("utf-8")
    outputs[WARC_PATH] = warc_bytes(warc_srcs)
    if WARC_KEY_NUMBERING == "all":
        keys = [f"{WARC_PATH}#record={s.h['warc_all_index']}" if s.h["form"] == "warc-html" else k
                for k, s in zip(keys, srcs)]

    manifest = {
        "version": 1,
        "conventions": {**CONVENTIONS, "warc_numbering": WARC_KEY_NUMBERING,
                        "warc_numbering_text": WARC_NUMBERING_TEXT[WARC_KEY_NUMBERING]},
        "notices": {k: manifest_entry(s) for k, s in zip(keys, srcs)},
    }
    outputs["samples/manifest.json"] = (json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")
    outputs["samples/README.md"] = readme(srcs, keys).encode("utf-8")

    for rel, data in outputs.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return outputs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO, help="root to write samples/ under (default: repo)")
    args = ap.parse_args(argv)
    outputs = build(args.out)
    total = sum(len(b) for b in outputs.values())
    print(f"wrote {len(outputs)} files, {total} bytes under {args.out / 'samples'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

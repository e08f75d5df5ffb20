"""Synthetic corpus for the benchmark: N dirty HTML notice pages, deterministic by seed.

Why synthetic: the real corpus has a few hundred notices; the targets are stated at 20,000
and 100,000. Recombining real paragraphs keeps the text statistics (characters, bigrams,
the 巡视/巡察/整改 vocabulary) realistic, while the page chrome (navigation, breadcrumbs,
byline, share bar, 上一篇/下一篇, related links, ICP footer) makes the cleaner do the same
work it does on scraped pages, so the whole pipeline (read, decode, clean, metadata, index)
is measured rather than just the indexer.

Layout written by `generate()`:

    OUT/notices/0000/000000.html ... (1000 files per subfolder)
    OUT/truth.jsonl                  one record per notice: path, title, body, date, region

`truth.jsonl` sits outside `notices/` on purpose: the indexer picks up `.jsonl` files.
It is the ground truth for the correctness side-check (brute-force substring scan).
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
import random
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_CORPUS = Path(os.environ.get("NOTICE_SHARED_DIR", ROOT.parent / "shared")) / "corpus" / "notices.jsonl"
SAMPLES = ROOT / "samples"
FILES_PER_DIR = 1000
MIN_BYTES, MAX_BYTES = 3 * 1024, 10 * 1024
MAX_PARA_CHARS = 700
DATE_LO, DATE_HI = _dt.date(2010, 1, 1), _dt.date(2026, 12, 31)

# Paragraph filler used for the incremental test (a "small rewrite" of a body).
CHANGE_SENTENCE = "（本文于{n}次修订：补充整改台账第{n}项，调整责任单位及完成时限。）"
CHANGE_PROBE = "补充整改台账"  # a literal of CHANGE_SENTENCE, searched for after the update

# Source paragraphs that are page chrome themselves (bylines, editor lines, prev/next links,
# print/close buttons, breadcrumbs, table rows flattened with pipes): a cleaner is right to
# drop them, so they would blur the truth.
_CHROME = re.compile(r"^首页|\s>>?\s|位置[:：]|-->|\||来源[:：]|发布时间|发布日期[:：]|责任编辑|浏览次数|点击数|上一篇|下一篇|打印本页|关闭窗口|ICP备|网站标识码|分享到|字体[:：]|当前位置|"
                     # reading-time lines (本篇文章575字,读完约1分钟), as the cleaner's lines.py
                     r"^本(?:篇|文)(?:文章)?(?:共)?\d+字|读完(?:约|大约)?需?\d+分钟|阅读(?:本文)?(?:约|大约)?需要?\d+分钟")
_TAG = re.compile(r"<[^>]+>")


def is_chrome(line: str) -> bool:
    """A page-furniture line, in whatever script the source printed it (來源： is 来源：)."""
    from indexer.analysis import normalize

    return _CHROME.search(normalize(line)) is not None
_P = re.compile(r"<p[^>]*>(.*?)</p>", re.S | re.I)


@dataclass
class Truth:
    """What a generated page says, independent of any cleaner."""

    path: str  # relative to the corpus root's parent (OUT)
    title: str
    body: str
    date: str
    issuer: str
    region_code: str
    province_code: str
    city_code: str | None


# -- source paragraphs -------------------------------------------------------------------


def _paragraphs_from_text(text: str) -> list[str]:
    out = []
    for line in text.split("\n"):
        line = line.strip().strip("\u3000")
        if len(line) >= 12 and not is_chrome(line):
            out.append(line)
    return out


def load_paragraphs(shared: Path | None = None) -> tuple[list[str], str]:
    """Paragraphs to recombine and a label saying where they came from.

    The real corpus (../shared/corpus/notices.jsonl) when present, else the demo corpus
    under samples/ (plain-text notices and the <p> of the JSON-lines HTML records).
    """
    path = shared if shared is not None else SHARED_CORPUS
    paras: list[str] = []
    if path.exists():
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                paras.extend(_paragraphs_from_text(rec.get("text") or ""))
        label = str(path)
    if not paras:
        for txt in sorted((SAMPLES / "text").glob("*.txt")):
            paras.extend(_paragraphs_from_text(txt.read_text(encoding="utf-8")))
        for jl in sorted((SAMPLES / "jsonl").glob("*.jsonl")):
            for line in jl.read_text(encoding="utf-8").splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                for p in _P.findall(rec.get("html") or ""):
                    paras.extend(_paragraphs_from_text(html.unescape(_TAG.sub("", p))))
        label = str(SAMPLES)
    # Deduplicate, keep a stable order so a seed always gives the same corpus; drop very
    # long paragraphs so every page can land in the 3-10 KB band.
    paras = sorted(dict.fromkeys(p for p in paras if len(p) <= MAX_PARA_CHARS))
    if not paras:
        raise RuntimeError("no source paragraphs found (neither ../shared nor samples/)")
    return paras, label


# -- regions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    code: str
    province_code: str
    city_code: str | None
    prefix: str  # 成都市武侯区 / 西安市 / 河南省 (what goes between 中共 and 委)
    site: str  # 成都市武侯区人民政府


def load_places() -> list[Place]:
    from indexer import regions

    out: list[Place] = []
    for r in regions.all_regions():
        anc = regions.ancestors(r.code)
        names = [regions.get(c).name for c in anc if regions.get(c)]  # type: ignore[union-attr]
        if not names:
            continue
        if r.level == 1:
            prefix = names[-1]
        elif r.level == 2:
            prefix = names[-1]
        else:
            # district/county: name it with its prefecture (成都市武侯区), as notices do
            prefix = "".join(names[1:]) if len(names) > 2 else "".join(names)
        city = anc[1] if len(anc) > 1 and r.level >= 2 and regions.get(anc[1]) and regions.get(anc[1]).level == 2 else None  # type: ignore[union-attr]
        out.append(Place(r.code, anc[0], city, prefix, prefix + "人民政府"))
    return out


# -- page ------------------------------------------------------------------------------------

_TITLES = (
    "中共{p}委关于巡察整改进展情况的通报",
    "中共{p}委关于巡视整改进展情况的通报",
    "中共{p}委关于{k}轮巡察整改情况的通报",
    "中共{p}委巡察工作领导小组关于开展{k}轮巡察的公告",
    "{p}人民政府关于进一步加强{t}工作的通知",
    "{p}人民政府办公室关于印发{t}实施方案的通知",
    "中共{p}委办公室关于{t}情况的通报",
)
_TOPICS = ("安全生产", "营商环境优化", "基层治理", "乡村振兴", "生态环境保护", "民生实事", "政务公开", "防汛抗旱")
_ROUNDS = ("第一", "第二", "第三", "第四", "第五", "第六", "第七", "第八", "第九", "第十")
_COLUMNS = ("工作动态", "通知公告", "巡察工作", "政务公开", "党风廉政")
_NEWS = (
    "政协召开常委会议协商民生议题", "冬季供暖保障工作会议召开", "社区“邻里节”活动精彩纷呈",
    "融媒体中心开展新闻业务培训", "关于调整城乡居民基本医疗保险缴费标准的通告",
    "举办高校毕业生专场招聘会提供岗位逾千个", "农村人居环境整治现场观摩会召开",
    "关于征集下一年度民生实事项目建议的公告", "全市重点项目集中开工", "文明城市创建推进会召开",
)
_EDITORS = ("杨帆", "李静", "王磊", "张敏", "陈晨", "刘洋")


def _date(rng: random.Random) -> _dt.date:
    return DATE_LO + _dt.timedelta(days=rng.randrange((DATE_HI - DATE_LO).days + 1))


def _cn_date(d: _dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def make_page(i: int, rng: random.Random, paras: list[str], places: list[Place]) -> tuple[str, Truth]:
    """One dirty HTML page and its truth. `i` only names the file; all else comes from rng."""
    place = places[rng.randrange(len(places))]
    d = _date(rng)
    pub = d + _dt.timedelta(days=rng.randrange(0, 6))
    tpl = _TITLES[rng.randrange(len(_TITLES))]
    title = tpl.format(p=place.prefix, k=_ROUNDS[rng.randrange(len(_ROUNDS))], t=_TOPICS[rng.randrange(len(_TOPICS))])
    issuer = f"中共{place.prefix}委" if title.startswith("中共") else f"{place.prefix}人民政府"
    # Aim inside the band with room for the stop rule below (within -300/+150 bytes).
    target = rng.randint(MIN_BYTES + 320, MAX_BYTES - 170)
    column = _COLUMNS[rng.randrange(len(_COLUMNS))]
    site = place.site
    domain = f"www.r{place.code}.gov.cn"
    icp = f"ICP备{rng.randint(10000000, 99999999)}号"
    url = f"http://{domain}/{column and 'zwgk'}/{d:%Y%m}/t{d:%Y%m%d}_{i:07d}.html"

    head = (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        "<!-- synthetic benchmark page (notice-archive bench/generate.py) -->\n"
        f"<title>{html.escape(title)}-{site}</title>\n"
        f'<meta name="SiteName" content="{site}">\n<meta name="ColumnName" content="{column}">\n'
        f'<meta name="ArticleTitle" content="{html.escape(title)}">\n'
        f'<meta name="PubDate" content="{pub:%Y-%m-%d} 10:00">\n'
        f'<meta name="ContentSource" content="{issuer}">\n'
        f'<link rel="canonical" href="{url}">\n'
        "<style>body{margin:0}.nav li{float:left;list-style:none}</style>\n"
        '<script type="text/javascript">function doZoom(s){document.getElementById("zoom").style.fontSize=s+"px";}</script>\n'
        "</head>\n<body>\n"
        f'<div class="topbar"><span>欢迎访问{site}</span> <a href="#">无障碍浏览</a> | <a href="#">长者模式</a></div>\n'
        '<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li>'
        '<li><a href="/zwfw/">政务服务</a></li><li><a href="/hdjl/">互动交流</a></li></ul></div>\n'
        f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; <a href="#">{column}</a></div>\n'
        '<div class="content-wrap"><div class="left"><div class="article">\n'
        f'<div class="bt">{html.escape(title)}</div>\n'
        f'<div class="info">来源：{issuer}　　发布时间：{pub:%Y-%m-%d} 09:30　　浏览次数：<span id="hits">{rng.randint(10, 9999)}</span>'
        "　　<span>【字体：大 中 小】</span></div>\n"
        '<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a> <a href="#">QQ空间</a></div>\n'
        '<div id="zoom" class="article-content">\n'
    )
    prev_, next_ = rng.sample(_NEWS, 2)
    related = "".join(
        f'<li><a href="/xw/{rng.randint(10000, 99999)}.html">{n}</a><span>{pub:%Y-%m-%d}</span></li>\n'
        for n in rng.sample(_NEWS, 3)
    )
    tail_sig = (
        f'<p style="text-align: right;">{issuer}</p>\n<p style="text-align: right;">{_cn_date(d)}</p>\n</div>\n'
    )
    tail = (
        '<div class="tools"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>\n'
        f'<div class="editor">责任编辑：{_EDITORS[rng.randrange(len(_EDITORS))]}</div>\n'
        f'<div class="prevnext"><p>上一篇：<a href="/p.html">{prev_}</a></p><p>下一篇：<a href="/n.html">{next_}</a></p></div>\n'
        f'</div>\n<div class="related"><h3>相关链接</h3><ul>\n{related}</ul></div>\n</div></div>\n'
        f'<div class="footer"><p>主办单位：{site}　<a href="https://beian.miit.gov.cn/">{icp}</a></p>'
        f"<p>网站标识码：{place.code}0001　建议使用1366×768分辨率浏览</p></div>\n</body>\n</html>\n"
    )
    budget = target - len((head + tail_sig + tail).encode("utf-8"))
    body_paras: list[str] = []
    chunks: list[str] = []
    used = 0
    # Rejection sampling: take paragraphs that still fit; stop when the page is near its
    # target size (bounded attempts so a tiny budget cannot loop for long).
    for _attempt in range(400):
        p = paras[rng.randrange(len(paras))]
        chunk = f'<p style="text-indent: 2em;">　　{html.escape(p, quote=False)}</p>\n'
        size = len(chunk.encode("utf-8"))
        if used + size > budget + 150:
            continue
        body_paras.append(p)
        chunks.append(chunk)
        used += size
        if used >= budget - 300 and len(body_paras) >= 2:
            break
    page = head + "".join(chunks) + tail_sig + tail
    body = "\n".join(body_paras + [issuer, _cn_date(d)])
    truth = Truth("", title, body, d.isoformat(), issuer, place.code, place.province_code, place.city_code)
    return page, truth


def rel_path(i: int) -> str:
    return f"notices/{i // FILES_PER_DIR:04d}/{i:06d}.html"


def iter_pages(n: int, seed: int = 1, paras: list[str] | None = None) -> Iterator[tuple[str, str, Truth]]:
    """(relative path, html, truth) for notices 0..n-1. Notice i depends only on (seed, i)."""
    if paras is None:
        paras, _ = load_paragraphs()
    places = load_places()
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        page, truth = make_page(i, rng, paras, places)
        truth.path = rel_path(i)
        yield truth.path, page, truth


def generate(out: str | os.PathLike[str], n: int, seed: int = 1) -> dict[str, object]:
    """Write N pages under OUT/notices and OUT/truth.jsonl; return a summary."""
    out = Path(out)
    paras, label = load_paragraphs()
    total = 0
    made_dirs: set[Path] = set()
    out.mkdir(parents=True, exist_ok=True)
    with (out / "truth.jsonl").open("w", encoding="utf-8") as tf:
        for rel, page, truth in iter_pages(n, seed, paras):
            path = out / rel
            if path.parent not in made_dirs:
                path.parent.mkdir(parents=True, exist_ok=True)
                made_dirs.add(path.parent)
            data = page.encode("utf-8")
            path.write_bytes(data)
            total += len(data)
            tf.write(json.dumps(asdict(truth), ensure_ascii=False) + "\n")
    summary = {"n": n, "seed": seed, "bytes": total, "paragraph_source": label, "paragraphs": len(paras)}
    (out / "corpus.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary


def load_truth(out: str | os.PathLike[str]) -> list[Truth]:
    with (Path(out) / "truth.jsonl").open(encoding="utf-8") as fh:
        return [Truth(**json.loads(line)) for line in fh if line.strip()]


def change_files(out: str | os.PathLike[str], fraction: float, seed: int = 1, round_no: int = 1) -> list[str]:
    """Rewrite the body of `fraction` of the pages a little (one sentence added to the
    first paragraph), as a re-scrape of an edited notice would. Returns the paths changed."""
    out = Path(out)
    files = sorted((out / "notices").rglob("*.html"))
    k = max(1, round(len(files) * fraction))
    rng = random.Random(f"change:{seed}:{round_no}")
    chosen = sorted(rng.sample(files, k))
    sentence = CHANGE_SENTENCE.format(n=round_no)
    for path in chosen:
        text = path.read_text(encoding="utf-8")
        marker = '<p style="text-indent: 2em;">　　'
        # the first paragraph of the notice's text, not a chrome line set in the same style
        # (网站标识码…): a cleaner is right to drop those, and the probe would go with it
        pos = text.find(marker)
        while pos != -1:
            end = text.find("</p>", pos)
            if not is_chrome(_TAG.sub("", text[pos + len(marker) : end])):
                break
            pos = text.find(marker, pos + len(marker))
        if pos == -1:
            continue
        pos += len(marker)
        path.write_text(text[:pos] + sentence + text[pos:], encoding="utf-8")
    return [str(p) for p in chosen]


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    print(json.dumps(generate(args.out, args.n, args.seed), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""China's administrative divisions: lookups by code or name, and finding a region in text.

The table (indexer/data/regions.tsv, built by scripts/build_regions.py from jionlp's location
dictionary, see indexer/data/REGIONS_SOURCE.md) holds every province (level 1), prefecture
(level 2) and county-level unit (level 3) with its 6-digit code, full name, short names and
the old names of divisions renamed or merged since ~2000, so that old notices stay findable.
It is read with the standard library once per process.

Conventions (tested in tests/test_regions.py):
- Municipalities (北京/天津/上海/重庆) have no separate city record: 海淀区's parent is
  110000, `ancestors('110108') == ['110000', '110108']`, and `names()` reports the
  municipality as both province and city: ('北京市', '北京市', '海淀区').
- County-level cities directly under a province (仙桃, 济源, 五指山, 石河子 ...) have the
  province as parent and no city: names('429004') == ('湖北省', None, '仙桃市').
- Prefecture cities without districts (东莞, 中山, 儋州, 嘉峪关) are level 2 with no children.

Text matching (`find_in_text`) is tuned for precision: a wrong region on a notice is worse
than none, because the region becomes a search filter. See the comments there.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "regions.tsv"


@functools.lru_cache(maxsize=1)
def _t2s() -> dict[int, str]:
    from indexer.analysis import t2s_table  # the archive's one traditional->simplified table

    return t2s_table()


def _fold(text: str) -> str:
    """Text in the script the name table is matched in: traditional characters mapped to
    simplified (鼓樓區 -> 鼓楼区), one character to one so positions do not move."""
    return text.translate(_t2s())

MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})


@dataclass(frozen=True)
class Region:
    code: str  # 6 digits
    name: str  # full name, e.g. 莲湖区
    level: int  # 1 province, 2 city (prefecture), 3 district/county
    parent: str | None  # parent code
    short: str  # short name, e.g. 莲湖


# Kinds of name a region answers to, best first (used to break ties in resolve()).
_FULL, _SHORT, _OLD = 0, 1, 2

# Full names that are also common words or generic terms: they only count in a text when the
# region's parent is named right before them (西安市新城区), never on their own.
_WEAK_FULL = frozenset(
    {
        "城区", "郊区", "矿区", "新城区", "老城区", "市中区", "城中区", "城东区", "城西区",
        "城北区", "平安区", "光明区", "新区", "向阳区", "红旗区", "工农区", "兴安区",
        "东区", "西区", "南区", "北区", "中区", "友好区", "前进区", "胜利区", "和平区",
        "长安区", "新华区", "城关区", "白云区", "中山区", "东方市", "永安市", "朝阳区",
        "开发区", "高新区", "东山区", "铁东区", "铁西区", "桥东区", "桥西区", "新市区",
    }
)

# Short names (>= 3 characters) that are ordinary words; 2-character short names already
# need a safe context, see _SAFE_AFTER_SHORT.
_STOP_SHORT = frozenset({"开发区", "高新区", "经开区", "市直辖", "省直辖"})

# What may follow a 2-character short name for it to count as a place: an organ of that
# place (莲湖区委 is a full-name hit already; these cover 恩施州委, 兴安盟, 西安纪委 ...).
_SAFE_AFTER_SHORT = (
    "州", "盟", "地区", "市", "县", "区", "旗", "省", "委", "纪委", "监委", "党委",
    "人民政府", "政府", "人大", "政协", "：", ":",
)

_DATELINE = re.compile(r"^\s*\d{1,2}月\d{1,2}日")

_MAX_NAME = 24  # longest full names are ~16 characters


@dataclass(frozen=True)
class _Table:
    by_code: dict[str, Region]
    # name -> ((code, kind), ...): every region answering to that name
    by_name: dict[str, tuple[tuple[str, int], ...]]
    kids: dict[str | None, tuple[str, ...]]
    pattern: re.Pattern[str]
    province_shorts: frozenset[str]


def _trie_regex(words: list[str]) -> str:
    """One regex alternation for all names, factored as a trie so the C engine walks it in
    near-linear time (a flat alternation of ~7,000 names would be tried name by name)."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        end = "" in node
        branches = [re.escape(ch) + emit(sub) for ch, sub in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:  # greedy optional: prefer the longer name, fall back to the shorter one
            return "(?:" + body + ")?"
        return body

    return emit(trie)


@functools.lru_cache(maxsize=1)
def _table() -> _Table:
    by_code: dict[str, Region] = {}
    names: dict[str, list[tuple[str, int]]] = {}
    kids: dict[str | None, list[str]] = {None: []}

    def add(name: str, code: str, kind: int) -> None:
        lst = names.setdefault(name, [])
        if all(c != code for c, _ in lst):
            lst.append((code, kind))
        else:  # keep the best kind for this (name, code)
            names[name] = [(c, min(k, kind) if c == code else k) for c, k in lst]

    with DATA_FILE.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            code, name, level, parent, shorts, olds = (line.rstrip("\n").split("\t") + [""] * 6)[:6]
            short_list = [s for s in shorts.split("|") if s]
            region = Region(
                code=code,
                name=name,
                level=int(level),
                parent=parent or None,
                short=short_list[0] if short_list else name,
            )
            by_code[code] = region
            kids.setdefault(region.parent, []).append(code)
            add(name, code, _FULL)
            for s in short_list:
                add(s, code, _SHORT)
            for o in (x for x in olds.split("|") if x):
                add(o, code, _OLD)
    # Names are matched in folded (t2s) text, so every name is also known in its folded
    # form: the t2s table also maps a few characters that simplified names use (乾县 would
    # read 干县), and the pipeline hands metadata a t2s copy of traditional pages.
    for name, hits in list(names.items()):
        folded = _fold(name)
        if folded != name:
            for code, kind in hits:
                add(folded, code, kind)
    words = sorted((n for n in names if len(n) >= 2), key=len, reverse=True)
    pattern = re.compile(_trie_regex(words))
    province_shorts = frozenset(
        r.short for r in by_code.values() if r.level == 1 and len(r.short) >= 2
    )
    return _Table(
        by_code=by_code,
        by_name={k: tuple(v) for k, v in names.items()},
        kids={k: tuple(sorted(v)) for k, v in kids.items()},
        pattern=pattern,
        province_shorts=province_shorts,
    )


def all_regions() -> list[Region]:
    """Every division in the table (for facets, completeness checks)."""
    return list(_table().by_code.values())


def get(code: str) -> Region | None:
    """The region with this 6-digit code, or None."""
    if not isinstance(code, str):
        return None
    return _table().by_code.get(code.strip())


def candidates(name: str) -> list[Region]:
    """All regions answering to `name` as a full, short or old name, by code."""
    t = _table()
    hits = t.by_name.get((name or "").strip(), ())
    return sorted((t.by_code[c] for c, _ in hits), key=lambda r: r.code)


def ancestors(code: str) -> list[str]:
    """Codes from the province down to `code` itself; [] for an unknown code."""
    return list(_chain(code)) if isinstance(code, str) else []


@functools.lru_cache(maxsize=8192)
def _chain(code: str) -> tuple[str, ...]:
    t = _table()
    chain: list[str] = []
    cur = t.by_code.get(code)
    while cur is not None:
        chain.append(cur.code)
        cur = t.by_code.get(cur.parent) if cur.parent else None
    return tuple(chain[::-1])


def names(code: str | None) -> tuple[str | None, str | None, str | None]:
    """(province, city, district) full names for a code; municipalities are their own city."""
    t = _table()
    province = city = district = None
    for c in ancestors(code) if code else []:
        r = t.by_code[c]
        if r.level == 1:
            province = r.name
            if c in MUNICIPALITIES:
                city = r.name
        elif r.level == 2:
            city = r.name
        else:
            district = r.name
    return province, city, district


def children(code: str | None) -> list[Region]:
    """Direct children of a region; the provinces for None."""
    t = _table()
    return [t.by_code[c] for c in t.kids.get(code, ())]


def _is_ancestor(anc: str, code: str) -> bool:
    return anc != code and anc in _chain(code)


def _common_ancestor(codes: list[str]) -> str | None:
    chains = [ancestors(c) for c in codes]
    common = None
    for level_codes in zip(*chains):
        if all(c == level_codes[0] for c in level_codes):
            common = level_codes[0]
        else:
            break
    return common


def _pick(hits: tuple[tuple[str, int], ...]) -> list[str]:
    """Codes for an exact name: current full names beat short names beat old names; a
    province beats its own namesake city (吉林 -> 吉林省, not 吉林市)."""
    best = min(k for _, k in hits)
    codes = sorted({c for c, k in hits if k == best})
    if len(codes) > 1:
        tops = [c for c in codes if all(c == o or _is_ancestor(c, o) for o in codes)]
        if tops:
            return tops[:1]
        if best != _FULL:
            return _prefer_higher(codes)
    return codes


_SEP = re.compile(r"[\s/>,，、·\-|]+")


def resolve(query: str) -> Region | None:
    """The one region a search filter means: a code, a full/short/old name, or a path such
    as 陕西省西安市莲湖区 / 南京 鼓楼. Ambiguous or unknown input gives None, never an error."""
    try:
        return _resolve(query)
    except Exception:  # a filter must never crash a search
        return None


def _resolve(query: str) -> Region | None:
    if not isinstance(query, str):
        return None
    q = query.strip()
    if not q:
        return None
    t = _table()
    if q not in t.by_name:
        q = _fold(q)
    if re.fullmatch(r"\d{6}", q):
        return t.by_code.get(q)
    if q in t.by_name:
        codes = _pick(t.by_name[q])
        return t.by_code[codes[0]] if len(codes) == 1 else None
    # a path: cut into known names, longest first, then keep chains consistent top-down
    segments: list[list[str]] = []
    for part in _SEP.split(q):
        i = 0
        while i < len(part):
            for j in range(min(len(part), i + _MAX_NAME), i, -1):
                if part[i:j] in t.by_name:
                    segments.append([c for c, _ in t.by_name[part[i:j]]])
                    i = j
                    break
            else:
                return None  # an unknown word: not a path of names
    if not segments:
        return None
    alive = set(segments[0])
    for seg in segments[1:]:
        nxt = {c for c in seg if any(a == c or _is_ancestor(a, c) for a in alive)}
        if not nxt:
            return None
        alive = nxt
    if len(alive) == 1:
        return t.by_code[next(iter(alive))]
    return None


# ---------------------------------------------------------------------------------------
# find_in_text


@dataclass
class _Mention:
    start: int
    end: int
    codes: list[str]
    strong: bool  # counts on its own; weak mentions need their parent named just before


def _mentions(text: str) -> list[_Mention]:
    t = _table()
    out: list[_Mention] = []
    pos = 0
    while True:
        m = t.pattern.search(text, pos)
        if m is None:
            break
        name = m.group()
        s, e = m.start(), m.end()
        if not name:
            pos = s + 1
            continue
        if text[s - 1 : s + 1] == "中共" and s > 0:
            pos = s + 1  # 中共和县县委 is 和县, not 共和县: rescan inside the match
            continue
        pos = e
        hits = t.by_name.get(name)
        if not hits:
            continue
        after = text[e : e + 4]
        # 东方市场 / 江南区域 / 县域: the suffix belongs to another word
        if (name.endswith("市") and after[:1] == "场") or (name.endswith("区") and after[:1] == "域"):
            continue
        kinds = {k for _, k in hits}
        if _FULL not in kinds and _DATELINE.match(after + text[e + 4 : e + 8]):
            continue  # 新华社乌鲁木齐5月9日电: where the reporter filed, not the subject
        codes = [c for c, _ in hits]
        is_fullish = bool(kinds & {_FULL}) or (_OLD in kinds and name[-1] in "省市县区州盟旗")
        if is_fullish and len(name) >= 3:
            strong = name not in _WEAK_FULL
        elif name in t.province_shorts:
            # 陕西/内蒙古/广西: province short names are safe on their own; prefer the province
            # when a namesake exists (吉林省 over 吉林市, 海南省 over 海南藏族自治州)
            prov = [c for c in codes if t.by_code[c].level == 1]
            codes, strong = (prov or codes), True
        elif len(name) >= 3 and name not in _STOP_SHORT and not is_fullish:
            strong = True
        elif len(name) == 2 and is_fullish:
            # 和县/歙县: only as an organ's name (和县县委, 歙县人民政府)
            strong = name not in _WEAK_FULL and after.startswith(_ORGANS_AFTER_FULL2)
        elif len(name) == 2 and after[:1] in ("市", "区"):
            # a real 上城区 / 吉林市 would have matched as a full name: a short name before
            # 市/区 is the start of another word (以上城市, 中小城市, 江南区域)
            strong = False
        elif len(name) == 2 and after.startswith(_SAFE_AFTER_SHORT):
            strong = name not in _WEAK_SHORT_AFTER
        else:
            strong = False  # 2-char full names (和县, 城区) and bare short names
        if not is_fullish and len(codes) > 1:
            codes = _prefer_higher(codes)
        out.append(_Mention(s, e, codes, strong))
    return out


_ORGANS_AFTER_FULL2 = ("县委", "人民政府", "纪委", "监委", "政府", "党委", "人大", "政协")


def _prefer_higher(codes: list[str]) -> list[str]:
    """A bare short name shared by a prefecture and a district means the prefecture
    (西安 -> 西安市, not 辽源's 西安区); ties at the top level stay ambiguous."""
    t = _table()
    top = min(t.by_code[c].level for c in codes)
    return [c for c in codes if t.by_code[c].level == top]


# 2-character short names that stay weak even before 区/县/市 (中山区 is a full name already;
# these are words like 和平 in 和平区 that we only trust next to their parent).
_WEAK_SHORT_AFTER = frozenset({"中山", "新华", "城关", "和平", "白云", "长安", "永安", "朝阳", "东方", "平安", "光明", "新城", "城中", "市中", "开发", "高新"})


def find_in_text(text: str) -> Region | None:
    """The most specific region a text names (an issuer line, a title, an opening paragraph).

    Precision first: full names count, short names only in a safe context, common-word names
    only right after their parent; an ambiguous name (鼓楼区) is settled by a parent named
    anywhere in the text, else we keep the level that is certain (their common ancestor).
    When the text names places in several provinces and none dominates, returns None.
    """
    if not text or not isinstance(text, str):
        return None
    t = _table()
    mentions = _mentions(_fold(text[:20000]))
    if not mentions:
        return None
    known: set[str] = set()
    for m in mentions:
        if m.strong and len(m.codes) == 1:
            known.add(m.codes[0])
    resolved: list[tuple[int, str]] = []  # (position, code)
    prev_end = -10
    prev_codes: list[str] = []
    for m in mentions:
        codes = m.codes
        if not m.strong:
            # only right after its parent (allowing one separator char): 西安市新城区
            if m.start - prev_end <= 1:
                codes = [c for c in codes if any(_is_ancestor(p, c) for p in prev_codes)]
            else:
                codes = []
        elif len(codes) > 1:
            narrowed = [c for c in codes if any(_is_ancestor(k, c) for k in known)]
            if narrowed:
                codes = narrowed
        if len(codes) > 1:
            common = _common_ancestor(codes)
            codes = [common] if common else []
        if codes:
            resolved.append((m.start, codes[0]))
            known.add(codes[0])
            prev_codes = codes
        else:
            prev_codes = m.codes if m.strong else []
        prev_end = m.end
    if not resolved:
        return None
    # score each mentioned region by how many mentions lie on its chain (itself included)
    chains = {c: set(ancestors(c)) for _, c in resolved}
    mentioned = [c for _, c in resolved]
    first_pos: dict[str, int] = {}
    for pos, c in resolved:
        first_pos.setdefault(c, pos)

    def score(c: str) -> tuple[int, int, int]:
        support = sum(1 for o in mentioned if o in chains[c])
        return (support, t.by_code[c].level, -first_pos[c])

    best = max(chains, key=score)
    # leaves that tie with the best but disagree: fall back to what they share
    rivals = [c for c in chains if score(c)[:2] == score(best)[:2] and c != best and best not in chains[c] and c not in chains[best]]
    if rivals:
        common = _common_ancestor([best, *rivals])
        if common is None:
            return None
        best = common
    # a text touring several provinces (a national round-up) is about none of them
    provinces = [ancestors(c)[0] for c in mentioned]
    if len(set(provinces)) >= 3:
        mine = provinces.count(ancestors(best)[0])
        if mine * 2 < len(provinces):
            return None
    return t.by_code[best]

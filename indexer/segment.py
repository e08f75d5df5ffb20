"""Word segmentation of run-on query text, and the alias table.

The index itself never uses a segmenter (it is built from character grams so that exact
search never misses). Segmentation is only for queries typed the way Chinese readers type
them, with no spaces: `高陵区巡视整改进展情况` has no exact hit, and is then searched as the
words 高陵区 / 巡视 / 整改 / 进展 / 情况.

The segmenter is jieba's dictionary and HMM model as reimplemented in Rust (rjieba, a
maintained binding of jieba-rs; the Python jieba package has had no release since 2020).
Its dictionary does not know most county names (高陵区 comes out as 高 / 陵区), so every
name of the division table and every alias is added to it: a place or an organ's short
name is then one word, which is what the rest of query understanding needs.
"""

from __future__ import annotations

import functools
import re
import threading
from pathlib import Path

from indexer import regions
from indexer.analysis import normalize

ALIAS_FILE = Path(__file__).resolve().parent / "data" / "aliases.tsv"

# Function words that carry nothing a notice could be found by: dropped from split queries.
STOP_WORDS = frozenset(
    "的 了 和 与 及 之 在 对 于 等 是 有 为 将 把 被 就 也 都 又 并 或 即 其 个 中 上 下 里 呢 吗 啊 年 月 日 号".split()
)

_YEAR = re.compile(r"(?:19|20)\d\d")
_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def alias_groups() -> dict[str, tuple[str, ...]]:
    """Normalised name -> its group of equivalent names (normalised), shown name first."""
    out: dict[str, tuple[str, ...]] = {}
    for line in ALIAS_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        group = tuple(dict.fromkeys(normalize(x.strip()) for x in line.split("\t") if x.strip()))
        if len(group) < 2:
            continue
        for name in group:
            # A name in two groups keeps its first (groups are listed most specific first).
            out.setdefault(name, group)
    return out


def alternatives(word: str) -> list[str]:
    """The word and its aliases, minus any alias that contains another one: a notice that
    holds 八项规定 is found by 八项规定 whether or not it says 中央八项规定."""
    group = alias_groups().get(word)
    if not group:
        return [word]
    return minimal([word] + [g for g in group if g != word])


def minimal(alts: list[str]) -> list[str]:
    """Alternatives in order, once each, without any that contains another (searching for
    the shorter one already finds it)."""
    alts = list(dict.fromkeys(alts))
    return [a for a in alts if not any(o != a and o in a for o in alts)]


@functools.lru_cache(maxsize=1)
def _segmenter():  # type: ignore[no-untyped-def]
    import rjieba

    jb = rjieba.Jieba()
    names: set[str] = set()
    for r in regions.all_regions():
        names.add(r.name)
        if len(r.short) >= 2:
            names.add(r.short)
    for name in names:
        jb.add_word(normalize(name), 50_000, "ns")
    for name in alias_groups():
        if len(name) >= 2:
            jb.add_word(name, 50_000, "nt")
    return jb


def warm() -> None:
    """Build the segmenter now (its dictionary and every place name: about a second)."""
    _segmenter()


def cut(text: str) -> list[str]:
    """Split normalised text into words; punctuation and spaces are dropped, digits and
    Latin words kept whole, `2022年` kept as one year word."""
    if not text:
        return []
    jb = _segmenter()
    with _lock:  # the Rust segmenter is not documented as thread-safe
        raw = jb.cut(text, True)
    out: list[str] = []
    for tok in raw:
        tok = tok.strip()
        if not tok or not any(ch.isalnum() for ch in tok):
            continue
        if tok == "年" and out and _YEAR.fullmatch(out[-1]):
            out[-1] += "年"
            continue
        out.append(tok)
    return out


def subwords(word: str) -> list[str]:
    """A long dictionary word as the shorter words it is made of (停水通知 -> 停水 / 通知,
    小组会议 -> 小组 / 会议), or [word] when it has no such cover.

    jieba's dictionary holds many compounds (情况通报, 小组会议) that a notice prints with
    something in between (情况的通报, 领导小组召开…会议): searched whole, such a word
    finds nothing. The parts come from the search-mode cut, left to right, longest first."""
    if len(word) < 4 or not all("\u4e00" <= ch <= "\u9fff" for ch in word):
        return [word]
    jb = _segmenter()
    with _lock:
        parts = {p for p in jb.cut_for_search(word, True) if 2 <= len(p) < len(word) and p in word}
    # fewest parts covering the word exactly (a tiny DP: words are a few characters)
    best: list[list[str] | None] = [None] * (len(word) + 1)
    best[0] = []
    for i in range(len(word)):
        if best[i] is None:
            continue
        for j in range(i + 2, len(word) + 1):
            if word[i:j] in parts and (best[j] is None or len(best[i]) + 1 < len(best[j])):  # type: ignore[arg-type]
                best[j] = best[i] + [word[i:j]]  # type: ignore[operator]
    return best[-1] or [word]


def is_stop(word: str) -> bool:
    return word in STOP_WORDS


def year_of(word: str) -> str | None:
    """`2022年` or `2022` -> "2022" (a plausible notice year), else None."""
    m = re.fullmatch(r"((?:19|20)\d\d)年?", word)
    return m.group(1) if m else None


def place_of(word: str) -> regions.Region | None:
    """The region a query word names (a full, short or old name that is not ambiguous)."""
    if len(word) < 2:
        return None
    return regions.resolve(word)

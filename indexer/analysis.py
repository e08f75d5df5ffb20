"""Text normalisation and gram analysis, shared by the index and the query side.

The archive promises that a query of Chinese characters finds exactly the notices whose
text contains it, as a substring scan would. Word segmenters cannot keep that promise
(they index only their own splits), so the index is built from characters instead:

* every text is normalised the same way (NFKC, so full-width and half-width forms agree;
  case-folding for Latin letters; traditional characters mapped one-to-one to simplified
  ones, so 巡視整改 finds 巡视整改);
* runs of CJK characters (and any other non-ASCII letters) are indexed as position-free
  unigrams and bigrams, runs of ASCII letters and digits as whole words;
* a query string becomes the set of grams it must contain (a candidate filter that never
  misses) and, unless it is a single gram or word, is then verified as a literal substring
  of the stored normalised text (so there is no false hit either).

This module must stay importable at `indexer.analysis` (Whoosh pickles the schema, which
refers to the field type defined next to it in `indexer.schema`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
import operator
from collections import Counter
from pathlib import Path

_concat = operator.add
DATA_DIR = Path(__file__).resolve().parent / "data"

# Text is split into runs of ASCII letters/digits ("words", matched whole) and runs of
# every other letter or digit (CJK, kana, hangul, but also é or Cyrillic), which are
# indexed as character grams. Keeping words ASCII-only makes "whole word" mean the same
# thing in the index and in the byte-level verification (which sees ASCII edges only).
WORD_RUN = re.compile(r"[0-9a-z]+")
CJK_RUN = re.compile(r"[^\W0-9a-z_]+")
TOKEN = re.compile(r"(?P<cjk>[^\W0-9a-z_]+)|(?P<word>[0-9a-z]+)")

# How many characters a single CJK index term spans at most. Queries of up to this many
# CJK characters are answered from one posting list with no verification.
MAX_GRAM = 2


@functools.lru_cache(maxsize=1)
def t2s_table() -> dict[int, str]:
    """Traditional -> simplified one-to-one character table (see data/T2S_SOURCE.md).

    One-to-one so that normalisation never changes the length of a CJK run: snippets map
    matches back to the original text character by character.
    """
    table: dict[int, str] = {}
    path = DATA_DIR / "t2s.tsv"
    if not path.exists():
        return table
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        trad, _, simp = line.partition("\t")
        if len(trad) == 1 and len(simp) == 1 and trad != simp:
            table[ord(trad)] = simp
    return table


def normalize(text: str) -> str:
    """The one normalisation used for indexing, verification and queries."""
    text = unicodedata.normalize("NFKC", text).casefold()
    table = t2s_table()
    return text.translate(table) if table else text


@functools.lru_cache(maxsize=4096)
def normalize_char(ch: str) -> str:
    """Per-character normalisation, for mapping match offsets back to the original text."""
    return normalize(ch)


def index_terms(normalized: str) -> Counter[str]:
    """The index terms of an already normalised text, with how often each occurs.

    CJK runs give every character and every adjacent pair; ASCII letter/digit runs give
    the whole word. No positions are kept: phrases are checked on the stored text. The
    counts become the postings' weights, so ranking a single-term query needs no scan.
    """
    counts: Counter[str] = Counter()
    update = counts.update
    for run in CJK_RUN.findall(normalized):
        update(run)
        if len(run) > 1:
            update(map(_concat, run, run[1:]))
    update(WORD_RUN.findall(normalized))
    return counts


def required_terms(normalized: str) -> tuple[list[str], bool]:
    """The index terms a text must contain to contain `normalized`, and whether having
    them is already proof (True for a single CJK gram or a single whole word).

    For a longer CJK run, every distinct bigram is required: the intersection is then
    small and the substring verification that follows has little to read.
    """
    terms: list[str] = []
    tokens = list(TOKEN.finditer(normalized))
    for m in tokens:
        if m.group("cjk"):
            run = m.group("cjk")
            if len(run) <= MAX_GRAM:
                terms.append(run)
            else:
                terms.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            terms.append(m.group("word"))
    unique = list(dict.fromkeys(terms))
    # Proof without verification: the literal is exactly one term, nothing around it.
    exact = (
        len(tokens) == 1
        and tokens[0].group(0) == normalized
        and (tokens[0].group("word") is not None or len(normalized) <= MAX_GRAM)
    )
    return unique, exact


def has_searchable(normalized: str) -> bool:
    """True when a string holds at least one indexable character or word."""
    return TOKEN.search(normalized) is not None


def word_boundary_pattern(normalized: str) -> re.Pattern[bytes]:
    """A byte pattern matching `normalized` literally, as whole words at ASCII edges.

    "ab" must not match inside "abc": a literal that starts or ends with an ASCII
    letter/digit needs a boundary there; a CJK edge needs none (no word spaces).
    """
    body = re.escape(normalized.encode("utf-8"))
    pre = rb"(?<![0-9a-z])" if normalized[:1].isascii() and normalized[:1].isalnum() else b""
    post = rb"(?![0-9a-z])" if normalized[-1:].isascii() and normalized[-1:].isalnum() else b""
    return re.compile(pre + body + post)


def needs_boundaries(normalized: str) -> bool:
    """True when a literal needs whole-word checks (it starts or ends with ASCII alnum)."""
    return bool(normalized) and (
        (normalized[0].isascii() and normalized[0].isalnum())
        or (normalized[-1].isascii() and normalized[-1].isalnum())
    )


# -- letter spacing ---------------------------------------------------------------------

# A Han ideograph (the unified blocks, compatibility ideographs and 〇). Letter spacing is
# a typesetting habit of Chinese headings; kana, hangul and Latin are left alone.
_HAN = "[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
# Whitespace that is not a line break (str.splitlines' breaks are excluded), so a run
# never joins two lines. After NFKC the ideographic space U+3000 and NBSP are plain spaces.
_GAP = r"[^\S\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+"
# How many single characters a letter-spaced run needs (see collapse_letter_spacing).
LETTER_SPACING_MIN = 2
LETTER_SPACED_RUN = re.compile(
    rf"(?<!\w){_HAN}(?:{_GAP}{_HAN}){{{LETTER_SPACING_MIN - 1},}}(?!\w)"
)
_GAP_RE = re.compile(_GAP)


def letter_spacing_gaps(normalized: str) -> list[tuple[int, int]]:
    """The (start, end) spans of whitespace that collapse_letter_spacing removes."""
    if " " not in normalized and not _GAP_RE.search(normalized):
        return []
    gaps: list[tuple[int, int]] = []
    for run in LETTER_SPACED_RUN.finditer(normalized):
        base = run.start()
        gaps.extend((base + g.start(), base + g.end()) for g in _GAP_RE.finditer(run.group(0)))
    return gaps


def collapse_letter_spacing(normalized: str) -> str:
    """Remove the whitespace inside letter-spaced runs of an already normalised text.

    Headings are often printed letter-spaced (`巡 察 公 告`, `巡　察　公　告`, `关 于 开 展 …`)
    and a reader typing 巡察公告 must find them, so the matching text (the index grams and
    the verification blob, and the text highlighting searches in) holds them collapsed;
    what is stored and shown is left as the page says it.

    A letter-spaced run is at least LETTER_SPACING_MIN (2) single Han characters, each
    separated from the next by whitespace (spaces, tabs, U+3000 which NFKC makes a space;
    never a line break) and none touching another letter or digit: `巡 察 公 告` ->
    `巡察公告`, `中 共 某 某 县 委` -> `中共某某县委`, `通 知` -> `通知`. Not joined:
    `2022 年` (digits), `巡察 整改` (words of two characters), Latin words, characters
    separated by punctuation (`甲、乙、丙`), and in `关 于 开 展 巡察工作` only `关于开展`
    is joined (the word after the run is not a single character, so its space stays).

    Why 2 and not 3: Chinese running text has no word spaces, so two single characters
    standing alone between spaces are a letter-spaced word in practice. Measured on the
    real notices of /work/shared/corpus (182 records of notices.jsonl, titles and texts;
    the 43 pages of corpus/html through clean + metadata): a minimum of 3 makes 13 + 0
    joins (headings such as `巡 察 公 告`, `国 务 院 工 作 规 则`, `召 集 人`); a minimum of
    2 makes 62 + 6, and every one of the extra joins, read one by one, is a spaced word
    too: section headings (`总  则`, `附  则`, `目  录`, `说 明`, `导 言`, `结 语`),
    labels (`组 长`, `主  任`, `委  员`, `成    员`), two-character names padded to align
    with three-character ones in member lists (`韩 正`, `刘 伟`, `邱 霖`) and page chrome
    (`首  页`, `打 印`). No false join was found; the demo samples make none either way.
    """
    gaps = letter_spacing_gaps(normalized)
    if not gaps:
        return normalized
    parts: list[str] = []
    pos = 0
    for s, e in gaps:
        parts.append(normalized[pos:s])
        pos = e
    parts.append(normalized[pos:])
    return "".join(parts)


def matching_text(text: str) -> str:
    """The text a literal is matched against: normalised, then letter-spaced runs
    collapsed line by line. The index (grams and verification blob) is built from it, so
    "a query finds exactly the notices whose matching title or body contains it"."""
    return "\n".join(map(collapse_letter_spacing, normalize(text).split("\n")))

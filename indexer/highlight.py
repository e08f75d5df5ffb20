"""Snippets and highlighting: find the literal matches of the query in the original text,
escape everything, then wrap the matches in <mark>.

Whoosh's highlighter marks each indexed gram anywhere and splits sentences on `.!?`
only, which is wrong for Chinese; this module works on the same normalisation as the
index, so what is marked is exactly what matched.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from indexer.analysis import letter_spacing_gaps, normalize, normalize_char

SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|\n")
SNIPPET_CHARS = 160


def _normalized_with_map(text: str) -> tuple[str, list[int] | range]:
    """The matching text of `text` (normalised, letter-spaced runs collapsed, as the index
    sees it) and, for each of its characters, the index of the original character it came
    from (NFKC can expand one character into several; collapsing drops spaces, so a match
    of 巡察公告 maps back to the span of `巡 察 公 告`, spaces included)."""
    whole = normalize(text)
    if len(whole) == len(text):
        # The common case (full-width punctuation, case and traditional characters all
        # map one to one): positions are unchanged, no per-character work needed.
        norm: str = whole
        index: list[int] | range = range(len(text))
    else:
        out: list[str] = []
        idx: list[int] = []
        for i, ch in enumerate(text):
            n = normalize_char(ch) if not ch.isascii() or ch.isupper() else ch
            out.append(n)
            idx.extend([i] * len(n))
        norm, index = "".join(out), idx
    gaps = letter_spacing_gaps(norm)
    if not gaps:
        return norm, index
    keep_text: list[str] = []
    keep_index: list[int] = []
    pos = 0
    for s, e in gaps + [(len(norm), len(norm))]:
        keep_text.append(norm[pos:s])
        keep_index.extend(index[pos:s])
        pos = e
    return "".join(keep_text), keep_index


def find_matches(text: str, needles: Iterable[str]) -> list[tuple[int, int]]:
    """Spans (start, end) in `text` of every occurrence of every normalised needle,
    merged where they overlap."""
    needles = [n for n in dict.fromkeys(needles) if n]
    if not text or not needles:
        return []
    norm, index = _normalized_with_map(text)
    spans: list[tuple[int, int]] = []
    for needle in needles:
        start = norm.find(needle)
        while start != -1:
            end = start + len(needle)
            spans.append((index[start], index[end - 1] + 1))
            start = norm.find(needle, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def mark(text: str, spans: list[tuple[int, int]]) -> str:
    """HTML-escape `text` and wrap each span in <mark>; spans come from find_matches."""
    parts: list[str] = []
    pos = 0
    for s, e in spans:
        if s < pos:
            continue
        parts.append(html.escape(text[pos:s]))
        parts.append("<mark>" + html.escape(text[s:e]) + "</mark>")
        pos = e
    parts.append(html.escape(text[pos:]))
    return "".join(parts)


def highlight(text: str, needles: Iterable[str]) -> str:
    """The whole text escaped, every match marked (for the document page)."""
    return mark(text, find_matches(text, needles))


def _sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in SENTENCE_END.finditer(text):
        end = m.start() if m.group(0) == "\n" else m.end()
        if end > start:
            spans.append((start, end))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def snippet(text: str, needles: Iterable[str], max_chars: int = SNIPPET_CHARS) -> str:
    """A short, escaped excerpt around the best matches, cut at sentence ends (。！？；).

    Sentences are ranked by how many distinct needles they contain, then by how many
    matches; the best ones are shown in text order until `max_chars` is reached.
    """
    needles = [n for n in dict.fromkeys(needles) if n]
    text = text or ""
    spans = find_matches(text, needles) if needles else []
    sents = _sentences(text)
    if not spans or not sents:
        head = text[:max_chars].replace("\n", " ")
        return html.escape(head) + ("…" if len(text) > max_chars else "")

    def score(sent: tuple[int, int]) -> tuple[int, int]:
        s, e = sent
        inside = [(a, b) for a, b in spans if a >= s and b <= e]
        distinct = {text[a:b] for a, b in inside}
        return len(distinct), len(inside)

    ranked = sorted(range(len(sents)), key=lambda i: score(sents[i]), reverse=True)
    chosen: list[int] = []
    used = 0
    for i in ranked:
        if score(sents[i])[1] == 0:
            break
        s, e = sents[i]
        if chosen and used + (e - s) > max_chars:
            continue
        chosen.append(i)
        used += e - s
        if used >= max_chars:
            break
    pieces: list[str] = []
    for i in sorted(chosen):
        s, e = sents[i]
        local = [(a - s, b - s) for a, b in spans if a >= s and b <= e]
        seg = text[s:e]
        if len(seg) > max_chars:
            # Centre a window on the first match of an over-long sentence.
            first = local[0][0] if local else 0
            ws = max(0, min(first - max_chars // 3, len(seg) - max_chars))
            seg = seg[ws : ws + max_chars]
            local = [(a - ws, b - ws) for a, b in local if a >= ws and b <= ws + max_chars]
            pieces.append(("…" if ws > 0 else "") + mark(seg, local) + "…")
        else:
            pieces.append(mark(seg, local))
    return " … ".join(pieces)

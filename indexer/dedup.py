"""Reposts: the same notice published twice (another column, another site, a crawler that
flattened its paragraphs) should be recognised as one notice with several copies.

Pure functions over text and integers; nothing here knows about Whoosh, so the index can
store a signature per notice and group them however it likes.

How it works and why:

* **What differs between reposts.** The cleaner already cuts headers, footers, bylines and
  share bars, so two copies of one notice differ in little: line breaks (a crawler joining
  paragraphs), punctuation (full-width vs ASCII after a text store normalised it), a title
  line present or not (or with a column prefix such as 深度关注丨), and at most a stray
  chrome line the cleaner kept (来源：…, 责任编辑：…). So the signature reads only letters and
  digits of the normalised text (`indexer.analysis.normalize`: NFKC, case-fold, traditional
  -> simplified), drops short chrome lines, and ignores everything else.
* **What is the same between distinct notices.** Template notices (two districts' 巡察整改
  reports, two 巡察公告) share whole sentences of the template; what differs is the names,
  dates, numbers and the substance. Character 4-grams weighted once per distinct shingle
  (a set, not counts: a template phrase repeated in every section must not dominate) keep
  those differences visible: template pairs measure far from the repost threshold (see
  docs/FEATURES.md for the measured distances).
* **SimHash** (Charikar): 64 bits; each bit is the sign of the sum over shingles of +1/-1 by
  that bit of the shingle's hash. The Hamming distance of two signatures estimates the
  angle between the shingle sets (expected distance = 64 * angle / pi), so reposts land
  at 0-3 and distinct notices at 10 or more.
* **LSH by pigeonhole.** Split the 64 bits into THRESHOLD + 1 bands: two signatures within
  THRESHOLD bits differ in at most THRESHOLD bands, so they agree exactly on at least one.
  Band buckets therefore find every pair within the threshold, with no false negatives.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from indexer.analysis import normalize

BITS = 64
MASK = (1 << BITS) - 1
SHINGLE = 4
# Reposts measure 0 on the real pairs and <= 2 with a stray chrome line or a column prefix
# on the title; template-sharing distinct notices measure >= 12 (docs/FEATURES.md).
THRESHOLD = 3

# Lines a cleaner sometimes keeps and a repost carries differently: source, editor, author,
# publication time, view counters, print/close/share links. Only short lines are dropped
# (a real paragraph that happens to start with 来源 is long).
CHROME_LINE = re.compile(
    r"^[\[【(]?\s*(?:来源|来源于|信息来源|稿件来源|文章来源|责任编辑|责编|编辑|作者|记者|通讯员|审核|校对|"
    r"发布时间|发布日期|发布者|发表时间|浏览次数|阅读次数|点击数|点击量|访问量|字号)\s*[:丨|]"
    r"|^(?:[\[【]?\s*(?:打印本页|打印|关闭窗口|关闭|返回顶部|分享到|扫一扫在手机打开当前页)\s*[\]】]?\s*)+$"
)
CHROME_MAX_CHARS = 40
# Letters and digits only: punctuation, spaces and line breaks carry no identity.
NON_WORD = re.compile(r"[\W_]+")


def canonical_text(text: str) -> str:
    """The text a signature reads: normalised, chrome lines dropped, letters/digits only."""
    keep: list[str] = []
    for line in normalize(text or "").split("\n"):
        line = line.strip()
        if not line:
            continue
        if len(line) <= CHROME_MAX_CHARS and CHROME_LINE.match(line):
            continue
        keep.append(NON_WORD.sub("", line))
    return "".join(keep)


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    """Distinct character `size`-grams of `canonical_text(text)` (the whole text when shorter)."""
    s = canonical_text(text)
    if not s:
        return set()
    if len(s) <= size:
        return {s}
    return {s[i : i + size] for i in range(len(s) - size + 1)}


def _hash64(shingle: str) -> int:
    # Stable across processes (str.__hash__ is salted per process), so signatures can be stored.
    return int.from_bytes(hashlib.blake2b(shingle.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def signature_of_shingles(items: Iterable[str]) -> int:
    """SimHash of a set of shingles, each weighted 1."""
    hashes = [_hash64(s) for s in items]
    if not hashes:
        return 0
    n = len(hashes)
    # Count the one-bits per position a byte at a time: packed little-endian, the k-th
    # byte of every hash is the slice packed[k::8].
    # Translating each byte to 1/0 by one of its bits and counting the ones is C work too.
    packed = struct.pack(f"<{n}Q", *hashes)
    sig = 0
    for byte_pos in range(BITS // 8):
        column = packed[byte_pos::8]
        shift = byte_pos * 8
        for bit, table in enumerate(_BIT_TABLES):
            if 2 * column.translate(table).count(1) > n:
                sig |= 1 << (shift + bit)
    return sig


# _BIT_TABLES[b] maps a byte to 1 when its bit b is set, else to 0.
_BIT_TABLES = [bytes((v >> b) & 1 for v in range(256)) for b in range(8)]


def signature(text: str) -> int:
    """64-bit SimHash of a notice body (0 for a text with no letters or digits)."""
    return signature_of_shingles(shingles(text))


def distance(a_sig: int, b_sig: int) -> int:
    """Hamming distance of two signatures."""
    return ((a_sig ^ b_sig) & MASK).bit_count()


def similar(a_sig: int, b_sig: int, threshold: int = THRESHOLD) -> bool:
    """True when two signatures are close enough to be copies of one notice.

    A zero signature (empty text) is similar to nothing: empty pages are not reposts of
    each other.
    """
    if not a_sig or not b_sig:
        return False
    return distance(a_sig, b_sig) <= threshold


def _band_widths(threshold: int) -> list[int]:
    n = threshold + 1
    base, extra = divmod(BITS, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def bands(sig: int, threshold: int = THRESHOLD) -> list[int]:
    """Bucket keys for LSH lookup: two signatures within `threshold` bits share at least one.

    Each key packs the band number above the band's bits, so equal bits in different bands
    never collide.
    """
    out: list[int] = []
    shift = 0
    for i, width in enumerate(_band_widths(threshold)):
        value = (sig >> shift) & ((1 << width) - 1)
        out.append((i << BITS) | value)
        shift += width
    return out


def jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def cosine(a: set[str], b: set[str]) -> float:
    """Cosine of two shingle sets (|A and B| / sqrt(|A| |B|))."""
    if not a or not b:
        return 0.0
    return len(a & b) / (len(a) * len(b)) ** 0.5


# -- grouping ----------------------------------------------------------------------------


@dataclass
class _Member:
    doc_id: str
    date: str | None
    sig: int


def _age_key(m: _Member) -> tuple[int, str, str]:
    # Earliest date first; undated copies come after dated ones; the id breaks ties so the
    # canonical id never depends on the order of adding.
    return (0 if m.date else 1, m.date or "", m.doc_id)


class DupIndex:
    """Groups of reposts, found through band buckets.

    `add(id, date, sig)` puts a notice into the group of every indexed notice within the
    threshold (groups are merged when a notice bridges two; grouping is transitive, like
    single-link clustering). The canonical id of a group is its earliest-dated member.
    Re-adding an id replaces its old signature (a changed page); `remove` drops it and
    re-groups the rest of its group, so a removed bridge splits groups again.
    """

    def __init__(self, threshold: int = THRESHOLD):
        self.threshold = threshold
        self._members: dict[str, _Member] = {}
        self._buckets: dict[int, set[str]] = {}
        self._group: dict[str, str] = {}          # doc id -> group key
        self._groups: dict[str, set[str]] = {}    # group key -> member ids

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._members

    def candidates(self, sig: int) -> set[str]:
        """Ids sharing a band bucket with `sig` (a superset of the similar ones)."""
        out: set[str] = set()
        for key in bands(sig, self.threshold):
            out |= self._buckets.get(key, set())
        return out

    def matches(self, sig: int, exclude: str | None = None) -> list[str]:
        """Ids of indexed notices similar to `sig`."""
        return sorted(i for i in self.candidates(sig)
                      if i != exclude and similar(sig, self._members[i].sig, self.threshold))

    def add(self, doc_id: str, date: str | None, sig: int) -> str:
        """Index a notice; return the canonical id of its group."""
        if doc_id in self._members:
            self.remove(doc_id)
        member = _Member(doc_id, date or None, sig)
        self._members[doc_id] = member
        if sig:
            for key in bands(sig, self.threshold):
                self._buckets.setdefault(key, set()).add(doc_id)
        merged: set[str] = {doc_id}
        for other in self.matches(sig, exclude=doc_id):
            key = self._group[other]
            merged |= self._groups.pop(key, set())
        for m in merged:
            self._group[m] = doc_id
        self._groups[doc_id] = merged
        self._rekey(doc_id)
        return self.canonical(doc_id)

    def remove(self, doc_id: str) -> None:
        """Forget a notice (deleted or about to be replaced); its former group is re-grouped."""
        member = self._members.pop(doc_id, None)
        if member is None:
            return
        if member.sig:
            for key in bands(member.sig, self.threshold):
                bucket = self._buckets.get(key)
                if bucket is not None:
                    bucket.discard(doc_id)
                    if not bucket:
                        del self._buckets[key]
        key = self._group.pop(doc_id)
        rest = self._groups.pop(key) - {doc_id}
        for m in rest:
            del self._group[m]
        # Re-group what is left: each remaining member starts alone and rejoins its matches.
        for m in sorted(rest):
            self._groups[m] = {m}
            self._group[m] = m
        for m in sorted(rest):
            for other in self.matches(self._members[m].sig, exclude=m):
                if other in rest:
                    self._union(m, other)

    def _union(self, a: str, b: str) -> None:
        ka, kb = self._group[a], self._group[b]
        if ka == kb:
            return
        big, small = (ka, kb) if len(self._groups[ka]) >= len(self._groups[kb]) else (kb, ka)
        for m in self._groups[small]:
            self._group[m] = big
        self._groups[big] |= self._groups.pop(small)
        self._rekey(big)

    def _rekey(self, key: str) -> None:
        """Key every group by its canonical (earliest) member, so lookups are O(1)."""
        members = self._groups[key]
        best = min((self._members[m] for m in members), key=_age_key).doc_id
        if best != key:
            self._groups[best] = self._groups.pop(key)
            for m in members:
                self._group[m] = best

    def canonical(self, doc_id: str) -> str:
        """The earliest-dated member of the notice's group (KeyError for an unknown id)."""
        return self._group[doc_id]

    def group(self, doc_id: str) -> list[str]:
        """All copies of the notice, canonical first, then by date."""
        members = self._groups[self._group[doc_id]]
        return [m.doc_id for m in sorted((self._members[i] for i in members), key=_age_key)]

    def groups(self) -> list[list[str]]:
        """Every group with more than one member (the reposts), canonical first."""
        return [self.group(key) for key, members in sorted(self._groups.items()) if len(members) > 1]


def components(sigs: Iterable[int], threshold: int = THRESHOLD) -> np.ndarray:
    """Repost groups of a whole index at once: a component label per signature (-1 when the
    notice has no copy), the same grouping as adding every signature to a `DupIndex`
    (single-link over pairs within `threshold` bits; a zero signature matches nothing).

    Why a second implementation: `DupIndex` answers one notice at a time in Python, about
    15 us a notice; a search snapshot needs the groups of 100,000 notices when it opens.
    Here identical signatures are grouped by sorting, the band buckets of the distinct ones
    become candidate pairs by sorting too, and the Hamming distances are one XOR and
    popcount over all pairs; only the pairs that match reach a Python union-find. The pass
    count is the largest bucket (16-bit bands of distinct signatures hold about two each at
    100,000 notices), each pass linear in the number of distinct signatures.
    """
    if isinstance(sigs, np.ndarray):
        arr = sigs.astype(np.uint64) & np.uint64(MASK)
    else:
        arr = np.fromiter((s & MASK for s in sigs), dtype=np.uint64)
    n = len(arr)
    labels = np.full(n, -1, dtype=np.int64)
    valid = np.flatnonzero(arr != 0)
    if len(valid) < 2:
        return labels
    uniq, inverse = np.unique(arr[valid], return_inverse=True)
    m = len(uniq)
    parent = list(range(m))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    shift = 0
    for width in _band_widths(threshold):
        keys = (uniq >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        if width <= 16:
            keys = keys.astype(np.uint16)  # a stable sort of 16-bit keys is a radix sort
        elif width <= 32:
            keys = keys.astype(np.uint32)
        shift += width
        order = np.argsort(keys, kind="stable")
        sk = keys[order]
        # runs of equal keys: every pair inside a run is a candidate
        starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
        lengths = np.diff(np.r_[starts, m])
        if lengths.max(initial=1) < 2:
            continue
        # For each sorted position, how many later members its run has: pass k pairs
        # every position that has at least k with the one k places on. The signatures
        # are compared in key order (one gather a band), so a pass reads them in
        # sequence instead of at random (most of the time at a million notices).
        later = np.repeat(starts + lengths, lengths) - np.arange(m) - 1
        su = uniq[order]
        for k in range(1, int(lengths.max())):
            j = np.flatnonzero(later >= k)
            if not len(j):
                break
            close = np.bitwise_count(su[j] ^ su[j + k]) <= threshold
            if not close.any():
                continue
            jj = j[close]
            for x, y in zip(order[jj].tolist(), order[jj + k].tolist()):
                rx, ry = find(x), find(y)
                if rx != ry:
                    parent[max(rx, ry)] = min(rx, ry)
    # every node's root by pointer jumping over the whole forest at once (a find per
    # node was half the time at a million notices)
    roots = np.asarray(parent, dtype=np.int64)
    while True:
        nxt = roots[roots]
        if np.array_equal(nxt, roots):
            break
        roots = nxt
    doc_root = roots[inverse]
    # a label only where the group has two or more notices
    counts = np.bincount(doc_root, minlength=m)
    grouped = counts[doc_root] >= 2
    labels[valid[grouped]] = doc_root[grouped]
    return labels

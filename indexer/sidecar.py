"""Per-segment arrays that search needs for every document (where each title and body end
in the verification text, date, region, type, repost signature, the titles), written
once beside the segment when the segment is written, and read memory-mapped.

Why a file of its own: without it every serving process parsed every record (one Python
list of strings a notice) and scanned every text when it opened the index: seconds and
about 1 KB a notice of private memory at a million notices, once per `serve --workers`
process. Memory-mapped, the pages are shared between processes and read only when used.

The file is part of its segment: it is listed in the segment's checksums (`.sums`), copied
by `backup`, verified by `check`, and removed with the segment. A segment without one (an
index written before this file existed, or a segment made by merging) is read the old
way, from its records and text.

Layout: 8 bytes "NASIDE01", 4 bytes little-endian header length, the JSON header
({"n": documents, "arrays": {name: [dtype, offset, count]}, "vocab": {...}}), then the
arrays, each 8-byte aligned.
"""

from __future__ import annotations

import json
import mmap
import struct
from typing import Any, BinaryIO

import numpy as np

MAGIC = b"NASIDE01"
EXT = ".arrays"


class SidecarError(ValueError):
    """The file is not a complete sidecar of the expected number of documents."""


def encode(arrays: dict[str, np.ndarray], n: int, vocab: dict[str, list[str]]) -> bytes:
    """The file's bytes. Arrays are written in a fixed order, each 8-byte aligned."""
    layout: dict[str, list[Any]] = {}
    parts: list[bytes] = []
    offset = 0
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        raw = a.tobytes()
        layout[name] = [a.dtype.str, offset, int(a.size)]
        pad = (-len(raw)) % 8
        parts.append(raw + b"\x00" * pad)
        offset += len(raw) + pad
    header = json.dumps({"n": n, "arrays": layout, "vocab": vocab}, ensure_ascii=False).encode("utf-8")
    header += b" " * ((-(len(header) + 12)) % 8)
    return MAGIC + struct.pack("<I", len(header)) + header + b"".join(parts)


def write(fh: BinaryIO, arrays: dict[str, np.ndarray], n: int, vocab: dict[str, list[str]]) -> None:
    fh.write(encode(arrays, n, vocab))


class Sidecar:
    """A sidecar opened read-only: `arrays[name]` are numpy views over a shared mapping."""

    def __init__(self, data: Any, expected_n: int | None = None):
        if len(data) < 12 or bytes(data[:8]) != MAGIC:
            raise SidecarError("not a sidecar file")
        (hlen,) = struct.unpack("<I", bytes(data[8:12]))
        try:
            header = json.loads(bytes(data[12 : 12 + hlen]).decode("utf-8"))
        except ValueError as exc:
            raise SidecarError(f"unreadable header: {exc}") from None
        self.n = int(header["n"])
        if expected_n is not None and self.n != expected_n:
            raise SidecarError(f"{self.n} documents, the segment has {expected_n}")
        self.vocab: dict[str, list[str]] = header.get("vocab", {})
        base = 12 + hlen
        self.arrays: dict[str, np.ndarray] = {}
        self.spans: dict[str, tuple[int, int]] = {}
        for name, (dtype, offset, count) in header["arrays"].items():
            dt = np.dtype(dtype)
            start = base + offset
            if start + dt.itemsize * count > len(data):
                raise SidecarError(f"truncated ({name})")
            self.arrays[name] = np.frombuffer(data, dtype=dt, count=count, offset=start)
            self.spans[name] = (start, start + dt.itemsize * count)
        self.data = data  # the mapping: bytes arrays are searched in place (data.find(x, *span))

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]


def open_mapped(fh: BinaryIO, expected_n: int | None = None) -> Sidecar:
    """Map an open sidecar file (read-only, shared between processes)."""
    size = fh.seek(0, 2)
    if size == 0:
        raise SidecarError("empty file")
    mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    return Sidecar(mm, expected_n)


def date_int(date: str) -> int:
    """YYYY-MM-DD as the int YYYYMMDD; 0 when there is no valid date."""
    if len(date) == 10 and date[4] == "-" and date[7] == "-":
        try:
            return int(date[:4] + date[5:7] + date[8:10])
        except ValueError:
            return 0
    return 0


class Collector:
    """Gathers a segment's per-document values while its documents are added, in docnum
    order, so the writer can write the sidecar when it flushes the segment."""

    def __init__(self) -> None:
        self.title_len: list[int] = []
        self.body_end: list[int] = []
        self.date: list[int] = []
        self.region: list[int] = []
        self.type: list[int] = []
        self.sig: list[int] = []
        self.titles: list[bytes] = []
        self._region_ix: dict[str, int] = {"": 0}
        self._type_ix: dict[str, int] = {"": 0}

    def __len__(self) -> int:
        return len(self.date)

    def add(self, vtext: bytes, date: str, region: str, doc_type: str, sig: str) -> None:
        t = vtext.find(b"\x01")
        b = vtext.rfind(b"\x01")
        self.title_len.append(t if t >= 0 else 0)
        self.body_end.append(b if b >= 0 else len(vtext))
        self.titles.append(vtext[:t] if t >= 0 else b"")
        self.date.append(date_int(date))
        self.region.append(self._region_ix.setdefault(region, len(self._region_ix)))
        self.type.append(self._type_ix.setdefault(doc_type, len(self._type_ix)))
        try:
            self.sig.append(int(sig, 16) if sig else 0)
        except ValueError:
            self.sig.append(0)

    def encode(self) -> bytes:
        # Every title followed by \x01 (never in a literal): ranking finds a word in all
        # the titles of a segment with one split of ~100 bytes a notice.
        titles = b"".join(t + b"\x01" for t in self.titles)
        lens = np.array([len(t) + 1 for t in self.titles], dtype=np.int64)
        title_starts = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(lens)[:-1]]) if len(lens) else lens
        arrays = {
            "title_len": np.array(self.title_len, dtype=np.int64),
            "body_end": np.array(self.body_end, dtype=np.int64),
            "date": np.array(self.date, dtype=np.int32),
            "region": np.array(self.region, dtype=np.int32),
            "type": np.array(self.type, dtype=np.int32),
            "sig": np.array(self.sig, dtype=np.uint64),
            "title_starts": title_starts,
            "titles": np.frombuffer(titles, dtype=np.uint8),
        }
        return encode(arrays, len(self), {"region": list(self._region_ix), "type": list(self._type_ix)})

"""Read pages from disk: files, folders, JSON lines and WARC archives -> RawPage.

This is the only stage that sees bytes. Everything after it works on `str`, so the hard
part here is decoding Chinese pages whose declared charset is often wrong (a page that
says gb2312 but is UTF-8, a GBK page with a few UTF-8 fragments pasted in). A page that
cannot be read becomes a `PageError` in the stream instead of an exception, so one bad
file never stops a batch of thousands.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from indexer.models import PageError, RawPage

# A single page (or JSON line, or WARC record) larger than this is refused: real notices are
# a few hundred KB at most, and a 200 MB "page" is a mistake that would stall the batch.
MAX_BYTES = 20 * 1024 * 1024

HTML_SUFFIXES = {".html", ".htm", ".shtml", ".xhtml"}
TEXT_SUFFIXES = {".txt"}
JSONL_SUFFIXES = {".jsonl"}

# File signatures of common binary formats, so that a PNG renamed to .html is reported as
# what it is instead of being decoded into garbage.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"%PDF-", "PDF document"),
    (b"\x1f\x8b", "gzip data"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "MS Office document"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"\x7fELF", "executable"),
    (b"RIFF", "RIFF media file"),
)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # must be tested before UTF-16 LE (same prefix)
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE
)
_CT_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_HTML_SNIFF_RE = re.compile(
    r"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b"
    r"|<html[\s>]|<body[\s>]|<head[\s>]",
    re.IGNORECASE | re.DOTALL,
)
_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


# --------------------------------------------------------------------------- decoding


def normalize_charset(name: str | None) -> str | None:
    """Map a charset label from a header or meta tag to a Python codec name, or None.

    Every GB2312/GBK label is read as GB18030, its superset: pages that say gb2312 routinely
    use characters outside it (镕, 堃, 㛃 ...), and decoding them as gb2312 would fail.
    """
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    if not label:
        return None
    compact = re.sub(r"[^a-z0-9]", "", label)
    if compact in {"gb2312", "gbk", "cp936", "ms936", "windows936", "xgbk", "gb231280",
                   "euccn", "xeuccn", "chinese", "csgb2312", "gb18030", "isoir58"}:
        return "gb18030"
    if compact in {"unicode", "utf16"}:
        return "utf-16"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _decode_ambiguous(chunk: bytes) -> str:
    """Byte-by-byte reading of a run valid in neither UTF-8 nor GB18030 alone.

    At each position a 3-byte UTF-8 sequence (where all CJK lives in UTF-8) wins, then a
    GB18030 character (2 or 4 bytes), then a 2-byte UTF-8 sequence, else U+FFFD.
    """
    out: list[str] = []
    pos, n = 0, len(chunk)
    while pos < n:
        for enc, size in (("utf-8", 3), ("gb18030", 2), ("gb18030", 4), ("utf-8", 2),
                          ("utf-8", 4)):
            piece = chunk[pos : pos + size]
            if len(piece) < size:
                continue
            try:
                out.append(piece.decode(enc))
            except UnicodeDecodeError:
                continue
            pos += size
            break
        else:
            out.append("\ufffd")
            pos += 1
    return "".join(out)


_NON_ASCII_RUN_RE = re.compile(rb"[\x80-\xff]+")


def _utf8_with_gb_fallback(data: bytes) -> str:
    """Decode bytes that mix UTF-8 and GBK fragments, one non-ASCII run at a time.

    Pages assembled from fragments (a UTF-8 template around a GBK article, or the other way
    round) are valid in neither encoding as a whole. Each run of non-ASCII bytes is read as
    UTF-8 if it is valid UTF-8, else as GB18030, else byte by byte (UTF-8 first, a GB18030
    character where UTF-8 fails); what is valid in neither becomes U+FFFD.
    """
    def run(m: re.Match[bytes]) -> str:
        chunk = m.group(0)
        for enc in ("utf-8", "gb18030"):
            try:
                return chunk.decode(enc)
            except UnicodeDecodeError:
                pass
        return _decode_ambiguous(chunk)

    parts: list[str] = []
    pos = 0
    for m in _NON_ASCII_RUN_RE.finditer(data):
        parts.append(data[pos : m.start()].decode("ascii"))
        parts.append(run(m))
        pos = m.end()
    parts.append(data[pos:].decode("ascii"))
    return "".join(parts)


def _quality(text: str) -> float:
    """Rough plausibility of decoded Chinese text: CJK share minus replacement chars."""
    if not text:
        return 0.0
    sample = text[:20000]
    bad = sample.count("\ufffd") + len(_PUA_RE.findall(sample))
    return (len(_CJK_RE.findall(sample)) - 20 * bad) / len(sample)


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode page bytes to text and name the encoding used; never raises.

    Order (first that works wins): byte-order mark; the charset declared by the container
    (HTTP/WARC Content-Type); a `<meta charset>` only if the bytes really decode under it
    (many pages claim gb2312 but are UTF-8); strict UTF-8; charset-normalizer detection;
    finally a lenient mixed UTF-8/GB18030 decode so that broken bytes cost a few U+FFFD
    characters instead of the page.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            text = data[len(bom):].decode(enc, errors="replace")
            return text, enc

    declared_enc = normalize_charset(declared)
    if declared_enc:
        text = _strict(data, declared_enc)
        if text is not None:
            return text, declared_enc

    m = _META_CHARSET_RE.search(data[:8192])
    if m:
        meta_enc = normalize_charset(m.group(1).decode("ascii", "ignore"))
        # A UTF-16 meta label in an ASCII-compatible document is always a lie.
        if meta_enc and not meta_enc.startswith("utf-16") and not meta_enc.startswith("utf-32"):
            text = _strict(data, meta_enc)
            if text is not None:
                return text, meta_enc

    text = _strict(data, "utf-8")
    if text is not None:
        return text, "utf-8"

    # UTF-8 with a few bad bytes (a GBK fragment, a cut character) is still UTF-8; a
    # detector would happily call it gb18030 and turn the whole page into mojibake.
    lenient = data.decode("utf-8", errors="replace")
    non_ascii = sum(1 for ch in lenient if ord(ch) > 127)
    if non_ascii and lenient.count("\ufffd") <= 0.1 * non_ascii:
        return _utf8_with_gb_fallback(data), "utf-8+gb18030"

    detected = _detect(data)
    if detected is not None:
        return detected

    # Nothing decodes cleanly: choose the lenient reading that looks most like Chinese.
    candidates = [(_utf8_with_gb_fallback(data), "utf-8+gb18030")]
    candidates.append((data.decode("gb18030", errors="replace"), "gb18030"))
    if declared_enc and declared_enc not in ("utf-8", "gb18030"):
        candidates.append((data.decode(declared_enc, errors="replace"), declared_enc))
    return max(candidates, key=lambda c: _quality(c[0]))


# Encodings detection may choose. Chinese government pages come in these; an exotic answer
# (cp1006, mac_cyrillic ...) for a page with a few stray bytes is worse than the lenient
# mixed decode that follows, so it is not accepted.
_PLAUSIBLE = ("gb18030", "big5", "big5hkscs", "utf_8", "utf-8", "utf_16", "utf-16",
              "utf_32", "utf-32", "cp1252", "windows-1252", "latin_1", "iso8859-1", "ascii",
              "shift_jis", "euc_jp", "euc_kr", "cp949", "cp950")


def _detect(data: bytes) -> tuple[str, str] | None:
    """Ask charset-normalizer; accept only a plausible answer that decodes the bytes strictly."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - pinned in requirements.txt
        return None
    try:
        results = list(from_bytes(data[:200_000]))
    except Exception:  # detection is a heuristic; never let it break a batch
        return None
    for match in results[:5]:
        enc = normalize_charset(match.encoding) or match.encoding
        if enc.replace("-", "_") not in {e.replace("-", "_") for e in _PLAUSIBLE}:
            continue
        text = _strict(data, enc)
        if text is not None and not _PUA_RE.search(text[:50000]):
            return text, enc
    return None


# Private-use code points: what GB18030 makes of bytes that are not GB text.
_PUA_RE = re.compile("[\ue000-\uf8ff]")


# --------------------------------------------------------------------------- sniffing


def _binary_kind(data: bytes) -> str | None:
    """Name the binary format of `data`, or None when it may be text."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:8192]
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return None  # UTF-16/32 text legitimately contains NUL bytes
    if b"\x00" in head:
        return "binary data (NUL bytes)"
    return None


def looks_like_html(text: str) -> bool:
    """True when plain text is really HTML markup (a .txt file saved from a browser)."""
    return bool(_HTML_SNIFF_RE.search(text[:4096]))


# --------------------------------------------------------------------------- readers


def _page_from_bytes(source: str, data: bytes, is_html: bool | None,
                     declared: str | None = None, url: str | None = None,
                     hints: dict[str, str] | None = None) -> RawPage | PageError:
    """Check and decode one page's bytes; `is_html=None` means sniff it."""
    if not data.strip():
        return PageError(source, "empty file: no bytes to read")
    if len(data) > MAX_BYTES:
        return PageError(source, f"page is {len(data)} bytes, over the {MAX_BYTES} byte limit")
    kind = _binary_kind(data)
    if kind:
        return PageError(source, f"not a text page: looks like {kind}")
    text, enc = decode_bytes(data, declared)
    if not text.strip():
        return PageError(source, "page contains no text")
    if is_html is None:
        is_html = looks_like_html(text)
    return RawPage(source=source, content=text, is_html=is_html, url=url, encoding=enc,
                   hints=hints or {})


def read_file(path: str | Path) -> list[RawPage | PageError]:
    """Read one file of any supported kind; unknown extensions give an empty list."""
    return list(_iter_file(Path(path)))


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".warc.gz") or name.endswith(".warc"):
        return "warc"
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in TEXT_SUFFIXES:
        return "text"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    return None


def _iter_file(path: Path) -> Iterator[RawPage | PageError]:
    kind = _kind(path)
    if kind is None:
        return
    source = str(path)
    if kind == "jsonl":
        yield from iter_jsonl(path)
        return
    if kind == "warc":
        yield from iter_warc(path)
        return
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            yield PageError(source, f"file is {size} bytes, over the {MAX_BYTES} byte limit")
            return
        data = path.read_bytes()
    except OSError as exc:
        yield PageError(source, f"cannot read file: {exc.strerror or exc}")
        return
    yield _page_from_bytes(source, data, True if kind == "html" else None)


def iter_jsonl(path: str | Path) -> Iterator[RawPage | PageError]:
    """One page per JSON line: {"html": ...} or {"text": ...}, optional url/title/date.

    Lines are streamed; a broken line becomes a PageError naming its line number.
    """
    path = Path(path)
    try:
        fh = path.open("rb")
    except OSError as exc:
        yield PageError(str(path), f"cannot read file: {exc.strerror or exc}")
        return
    with fh:
        n = 0
        while True:
            try:
                raw = fh.readline(MAX_BYTES + 1)
            except OSError as exc:
                yield PageError(f"{path}#line={n + 1}", f"read error: {exc.strerror or exc}")
                return
            if not raw:
                break
            n += 1
            source = f"{path}#line={n}"
            if len(raw) > MAX_BYTES and not raw.endswith(b"\n"):
                yield PageError(source, f"line longer than the {MAX_BYTES} byte limit")
                while raw and not raw.endswith(b"\n"):  # skip the rest of the line
                    raw = fh.readline(MAX_BYTES)
                continue
            if not raw.strip():
                continue
            yield _jsonl_record(source, raw)


def _jsonl_record(source: str, raw: bytes) -> RawPage | PageError:
    text, _ = decode_bytes(raw.strip(), "utf-8")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return PageError(source, f"invalid JSON: {exc.msg} at column {exc.colno}")
    if not isinstance(obj, dict):
        return PageError(source, "JSON line is not an object")
    html, plain = obj.get("html"), obj.get("text")
    if isinstance(html, str) and html.strip():
        content, is_html = html, True
    elif isinstance(plain, str) and plain.strip():
        content, is_html = plain, looks_like_html(plain)
    else:
        return PageError(source, 'JSON line has no non-empty "html" or "text" string')
    hints = {k: str(obj[k]).strip() for k in ("url", "title", "date")
             if isinstance(obj.get(k), (str, int)) and str(obj[k]).strip()}
    return RawPage(source=source, content=content, is_html=is_html, url=hints.get("url"),
                   encoding="utf-8", hints=hints)


def _is_html_type(content_type: str) -> bool:
    ct = content_type.lower()
    return "text/html" in ct or "application/xhtml" in ct


def iter_warc(path: str | Path) -> Iterator[RawPage | PageError]:
    """HTML response records of a .warc / .warc.gz file, streamed one record at a time.

    A truncated or corrupt archive yields a PageError for the record where reading failed;
    records before it are still returned.
    """
    from warcio.archiveiterator import ArchiveIterator

    path = Path(path)
    try:
        fh = path.open("rb")
    except OSError as exc:
        yield PageError(str(path), f"cannot read file: {exc.strerror or exc}")
        return
    with fh:
        n = 0
        try:
            if not fh.read(1):
                yield PageError(str(path), "empty file: no WARC records")
                return
            fh.seek(0)
            for record in ArchiveIterator(fh):
                n += 1
                if getattr(record, "format", "warc") != "warc":
                    # warcio falls back to the old ARC format for anything it cannot read.
                    yield PageError(f"{path}#record={n}", "not a WARC record (not a WARC file?)")
                    return
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                content_type = record.http_headers.get_header("Content-Type") or ""
                if not _is_html_type(content_type):
                    continue
                source = f"{path}#record={n}"
                data = record.content_stream().read(MAX_BYTES + 1)
                if len(data) > MAX_BYTES:
                    yield PageError(source, f"record over the {MAX_BYTES} byte limit")
                    continue
                if _record_cut(record):
                    yield PageError(source, "corrupt or truncated WARC: record is cut short")
                    return
                m = _CT_CHARSET_RE.search(content_type)
                url = record.rec_headers.get_header("WARC-Target-URI")
                yield _page_from_bytes(source, data, True, declared=m.group(1) if m else None,
                                       url=url)
        except Exception as exc:  # warcio raises many types on truncated/corrupt input
            reason = str(exc) or type(exc).__name__
            yield PageError(f"{path}#record={n + 1}",
                            f"corrupt or truncated WARC, reading stopped: {reason[:200]}")
            return
    if n == 0:
        yield PageError(str(path), "no WARC records found (not a WARC file?)")
    elif path.name.lower().endswith(".gz") and not _gzip_complete(path):
        # warcio stops quietly at a cut gzip member; the records after it are lost.
        yield PageError(f"{path}#record={n + 1}",
                        "corrupt or truncated WARC: the gzip data ends early")


def _record_cut(record: object) -> bool:
    """True when a WARC record's payload ended before its Content-Length."""
    raw = getattr(record, "raw_stream", None)
    try:
        while raw is not None and raw.read(65536):
            pass
    except Exception:
        return True
    return bool(getattr(raw, "limit", 0))


def _gzip_complete(path: Path) -> bool:
    """Stream through a multi-member gzip file; True when it ends at a member boundary."""
    import zlib

    try:
        with path.open("rb") as fh:
            d = zlib.decompressobj(31)
            in_member = False
            while True:
                chunk = fh.read(1 << 16)
                if not chunk:
                    return not in_member
                while chunk:
                    in_member = True
                    d.decompress(chunk, 1 << 20)  # output is discarded; bounded per call
                    chunk = d.unconsumed_tail
                    if d.eof:
                        chunk = d.unused_data + chunk
                        d = zlib.decompressobj(31)
                        in_member = False
    except (OSError, zlib.error):
        return False


def _walk(root: Path) -> Iterator[Path]:
    """Files under a folder, depth-first in sorted order, so runs are reproducible."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(Path(entry.path))
                elif entry.is_file():
                    yield Path(entry.path)
            except OSError:
                continue
        stack.extend(reversed(subdirs))


def iter_pages(paths: Iterable[str | Path]) -> Iterator[RawPage | PageError]:
    """Every page under the given files and folders, in a deterministic order.

    Folders are walked recursively (sorted); files with an unknown extension are skipped
    silently; a missing path is reported as a PageError.
    """
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for f in _walk(path):
                yield from _iter_file(f)
        elif path.exists():
            if _kind(path) is None:
                continue
            yield from _iter_file(path)
        else:
            yield PageError(str(path), "no such file or folder")

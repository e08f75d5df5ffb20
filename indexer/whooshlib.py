"""The one module that imports Whoosh (the maintained `whoosh3` fork, pinned exactly).

Everything the archive needs from the library goes through here, so that switching forks
or versions touches one file. It also holds the few places where the archive reaches past
Whoosh's public API for speed, each with the reason:

* segments are written non-compound, so a segment's `vtext` column (the normalised text),
  its `rec` column (one record a document) and its sidecar (`sidecar.py`: per-document
  arrays) are plain files, memory-mapped read-only: every `serve` worker shares one copy
  in the page cache, and opening a million-notice index reads nothing but the files'
  sizes. Literal checks and counts are `mmap.find(needle, start, end)` in C with no copy;
* posting lists are read whole, a block at a time, into sorted numpy arrays of global
  docnums (and weights), because the archive needs exact totals and facet counts over
  every hit, not only the top page.
"""

from __future__ import annotations

import json
import mmap
import os
import threading
import time
import zlib
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import columns, fields, formats  # noqa: F401  (re-exported for schema.py)
from whoosh import index as _index
from whoosh.filedb.filestore import FileStorage
from whoosh.index import EmptyIndexError, LockError  # noqa: F401
from whoosh.matching.wrappers import FilterMatcher
from whoosh.system import pack_ushort
from whoosh.writing import SegmentWriter

from indexer import durable, sidecar

INDEX_NAME = "MAIN"
SEP = "\x1f"  # separates the values of the per-document `rec` column
# Positions of the values in a document's `rec` column (see index.record_of()).
REC_ID, REC_DATE, REC_REGION, REC_TYPE, REC_FILE, REC_FILESIG, REC_HASH, REC_SIG = range(8)
# Postings per block. Whoosh writes 128; the archive reads whole posting lists (exact totals
# and facets need every hit), and each block costs a header read, a decompress and an
# unpickle (~30 us), so larger blocks read common terms several times faster. Whoosh's
# readers take any block length from the block header.
POSTING_BLOCK = 1024


SUMS_EXT = ".sums"  # per segment: {"files": {name: [size, crc32]}}, written before the TOC


class IndexUnreadable(Exception):
    """The index exists but a file of it cannot be read or does not match what was
    written (truncated, changed bytes, missing). Readers raise this instead of answering
    from damaged data; `python -m indexer check` names the files, `build --rebuild`
    recovers from the sources."""

    def __init__(self, message: str, file: str | None = None):
        super().__init__(message)
        self.file = file


def crc32_file(path: str | os.PathLike[str], pause: float = 0.0) -> tuple[int, int]:
    """(size, crc32) of a file, read in chunks (with `pause` seconds between 8 MB chunks,
    so that a background check leaves the machine to the searches)."""
    crc = 0
    size = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(8 << 20)
            if not chunk:
                break
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            if pause:
                time.sleep(pause)
    return size, crc


def segment_files(folder: str | os.PathLike[str], segment_id: str) -> list[str]:
    """The names of a segment's data files in `folder` (its checksum file excluded)."""
    prefix = segment_id + "."
    return sorted(n for n in os.listdir(folder) if n.startswith(prefix) and not n.endswith(SUMS_EXT))


def read_sums(folder: str | os.PathLike[str], segment_id: str) -> dict[str, tuple[int, int]] | None:
    """The sizes and checksums recorded for a segment's files, None when it has none
    (segments written before checksums existed)."""
    path = Path(folder) / (segment_id + SUMS_EXT)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexUnreadable(f"cannot read {path.name}: {exc.strerror}", path.name) from exc
    try:
        data = json.loads(raw.decode("utf-8"))
        return {str(k): (int(v[0]), int(v[1])) for k, v in data["files"].items()}
    except Exception as exc:
        raise IndexUnreadable(f"{path.name} is damaged ({type(exc).__name__})", path.name) from exc


class DurableFileStorage(FileStorage):
    """Whoosh's FileStorage with the commit discipline of durable.py.

    Whoosh writes every segment file through `create_file` and a new table of contents
    (`_MAIN_<gen>.toc`) under a temporary name that `rename_file` moves into place; old
    generations are deleted after that rename. Here:

    * each file created is flushed and fsynced when Whoosh closes it (segment files are
      closed before the TOC is written, so they are on disk before it);
    * before a rename, the directory is fsynced if files were created since its last
      fsync (the new segment files' names are durable before the TOC that names them);
    * after the rename, the directory is fsynced again: only then is the new generation
      durable, and only then does `commit` return (and Whoosh delete the old files).

    Temporary storage (Whoosh's `MAIN.tmp` pool/column scratch) stays a plain FileStorage.
    """

    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self._dir_dirty = False

    def create_file(self, name: str, excl: bool = False, mode: str = "wb", **kwargs: Any) -> Any:
        f = super().create_file(name, excl=excl, mode=mode, **kwargs)
        inner = f.onclose

        def onclose(sfile: Any, inner: Any = inner) -> None:
            if inner is not None:
                inner(sfile)
            durable.fsync_file(sfile.file)

        f.onclose = onclose
        self._dir_dirty = True
        return f

    def sync_dir(self) -> None:
        durable.fsync_dir(self.folder)
        self._dir_dirty = False

    def rename_file(self, oldname: str, newname: str, safe: bool = False) -> None:
        if self._dir_dirty:
            self.sync_dir()
        super().rename_file(oldname, newname, safe=safe)
        self.sync_dir()


# `build --rebuild` writes the new index here, inside the index folder (same file system,
# so its files can be renamed into place), and switches to it only once it is complete.
# The leading dot keeps Whoosh's clean-up, `check` and `backup` away from it.
STAGING = ".rebuild"


def adopt(path: str | os.PathLike[str], staging: str | os.PathLike[str]) -> int:
    """Make the latest generation of the index in `staging` the next generation of the
    index in `path`, in one step a power cut cannot split: the staged segment files are
    renamed into `path` and the folder fsynced (their names durable), then a new table of
    contents naming only them is written (temporary name, fsync, rename, fsync), and only
    then are the old generation's files deleted. Until that rename, `path` holds its old
    generation, complete; after it, the new one. Returns the new generation number."""
    from whoosh.index import TOC, clean_files

    path, staging = Path(path), Path(staging)
    sst, mst = storage(staging), storage(path)
    toc = TOC.read(sst, INDEX_NAME, TOC._latest_generation(sst, INDEX_NAME))
    ids = {seg.segment_id() for seg in toc.segments}
    segpat = TOC._segment_pattern(INDEX_NAME)
    for name in sorted(os.listdir(staging)):
        m = segpat.match(name)
        if m is None or m.group(1) not in ids:
            continue
        if (path / name).exists():  # random 16-character ids: never seen, but never overwrite
            raise FileExistsError(f"{path / name} exists; the staged segment cannot be moved in")
        os.rename(staging / name, path / name)
    durable.fsync_dir(path)
    gen = max(TOC._latest_generation(mst, INDEX_NAME), 0) + 1
    TOC(toc.schema, toc.segments, gen).write(mst, INDEX_NAME)
    clean_files(mst, INDEX_NAME, gen, toc.segments)
    return gen


def remove_uncommitted(path: str | os.PathLike[str]) -> list[str]:
    """Delete what a failed build left behind: segment files the latest table of contents
    does not name, temporary TOCs and version files, Whoosh's scratch folder and an
    unfinished rebuild's staging folder. Only a build
    (holding the lock) calls this; committed files are never touched. Returns the names."""
    import shutil

    from whoosh.index import TOC

    folder = Path(path)
    if not folder.is_dir():
        return []
    st = storage(folder)
    gen = TOC._latest_generation(st, INDEX_NAME)
    keep: set[str] = set()
    if gen >= 0:
        try:
            keep = {seg.segment_id() for seg in TOC.read(st, INDEX_NAME, gen).segments}
        except Exception:
            return []  # cannot tell what is committed: touch nothing
    segpat = TOC._segment_pattern(INDEX_NAME)
    removed: list[str] = []
    for name in sorted(os.listdir(folder)):
        target = folder / name
        m = segpat.match(name)
        try:
            if name in (f"{INDEX_NAME}.tmp", STAGING) and target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            elif (name.startswith(f"_{INDEX_NAME}_") and ".toc." in name) or \
                    (name.startswith(".ARCHIVE_VERSION.") and name.endswith(".tmp")) or \
                    (m is not None and not name.startswith("_") and m.group(1) not in keep):
                target.unlink()
            else:
                continue
        except OSError:
            continue
        removed.append(name)
    if removed:
        try:
            durable.fsync_dir(folder)
        except OSError:
            pass
    return removed


def storage(path: str | os.PathLike[str]) -> DurableFileStorage:
    return DurableFileStorage(str(path))


def exists(path: str | os.PathLike[str]) -> bool:
    """True when `path` holds a Whoosh index."""
    p = Path(path)
    return p.is_dir() and _index.exists_in(str(p), indexname=INDEX_NAME)


def create(path: str | os.PathLike[str], schema: Any) -> Any:
    durable.makedirs(path)
    return storage(path).create_index(schema, indexname=INDEX_NAME)


def open_index(path: str | os.PathLike[str]) -> Any:
    return storage(path).open_index(indexname=INDEX_NAME)


class _DictPool:
    """An in-memory posting pool: (field, term) -> docnums (+ weights, values).

    Whoosh's own pool sorts one Python tuple per posting through temporary run files and
    its codec writes them one call at a time: about 25 us a posting, far too slow for
    character grams (~3,000 distinct grams per notice). Here a posting costs one
    array append, and each term's list is written block by block at commit.
    """

    def __init__(self) -> None:
        self.terms: dict[tuple[str, bytes], tuple[array, array, list[bytes]]] = {}
        self.grams: dict[str, dict[str, tuple[array, array]]] = {}
        self.fieldnames: set[str] = set()

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        fieldname, btext, docnum, weight, vbytes = item
        if fieldname in _BulkWriter.GRAM_FIELDS:
            # a gram posting from a merged segment
            self.add_counts(fieldname, {btext.decode("utf-8"): weight}, docnum)
            return
        entry = self.terms.get((fieldname, btext))
        if entry is None:
            entry = self.terms[(fieldname, btext)] = (array("I"), array("f"), [])
            self.fieldnames.add(fieldname)
        entry[0].append(docnum)
        entry[1].append(weight)
        if vbytes:
            entry[2].append(vbytes)

    def add_counts(self, fieldname: str, counts: dict[str, int], docnum: int) -> None:
        """Postings of a position-free gram field: document and frequency, nothing else."""
        table = self.grams.get(fieldname)
        if table is None:
            table = self.grams[fieldname] = {}
        for term, count in counts.items():
            entry = table.get(term)
            if entry is None:
                table[term] = (array("I", (docnum,)), array("f", (count,)))
            else:
                entry[0].append(docnum)
                entry[1].append(count)

    def cleanup(self) -> None:
        self.terms = {}
        self.grams = {}


class _BulkWriter(SegmentWriter):
    """SegmentWriter with the in-memory pool and a block-at-a-time posting writer.

    Gram fields (GramField) are passed as a dict of term counts and go straight into the
    pool; every other field takes Whoosh's normal path. Segment merges (add_reader) feed
    the same pool, so merged segments are written the same way.
    """

    GRAM_FIELDS = ("grams", "igrams")

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self.pool = _DictPool()
        self.sidecar: sidecar.Collector | None = sidecar.Collector()

    def add_document(self, **fields: Any) -> None:
        grams = {name: fields.pop(name) for name in self.GRAM_FIELDS if name in fields}
        docnum = self.docnum
        if self.sidecar is not None:
            if docnum != len(self.sidecar) or "vtext" not in fields or "rec" not in fields:
                self.sidecar = None  # documents not added through here (a merge): no sidecar
            else:
                rec = fields["rec"].decode("utf-8", "replace").split(SEP)
                rec += [""] * (8 - len(rec))
                self.sidecar.add(fields["vtext"], rec[REC_DATE], rec[REC_REGION], rec[REC_TYPE], rec[REC_SIG])
        super().add_document(**fields)
        for name, counts in grams.items():
            if counts:
                self.pool.add_counts(name, counts, docnum)

    def _finalize_segment(self) -> Any:
        segment = super()._finalize_segment()
        self._write_sums(segment)
        return segment

    def _write_sums(self, segment: Any) -> None:
        """Record each file's size and CRC-32 beside the segment (fsynced with it, before
        the TOC): readers and `check` then tell a damaged file from a sound one."""
        folder = self.storage.folder
        sid = segment.segment_id()
        files = {name: list(crc32_file(os.path.join(folder, name))) for name in segment_files(folder, sid)}
        f = self.storage.create_file(sid + SUMS_EXT)
        f.write(json.dumps({"files": files}, sort_keys=True).encode("utf-8"))
        f.close()

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        if self.sidecar is not None and len(self.sidecar) and len(self.sidecar) == self.docnum:
            f = self.storage.create_file(self.newsegment.make_filename(sidecar.EXT))
            f.write(self.sidecar.encode())
            f.close()
        fw = self.fieldwriter
        schema = self.schema
        by_field: dict[str, list[tuple[bytes, tuple[array, array, list[bytes]]]]] = {}
        for (fieldname, btext), entry in self.pool.terms.items():
            by_field.setdefault(fieldname, []).append((btext, entry))
        for fieldname, table in self.pool.grams.items():
            rows = by_field.setdefault(fieldname, [])
            for term, (ids, weights) in table.items():
                rows.append((term.encode("utf-8"), (ids, weights, [])))
        # Terms found in fewer documents than this are stored inside the term index
        # instead of as a posting block: most grams are rare, and a block costs ~50 us.
        inline_limit = 16
        for fieldname in sorted(by_field):
            fieldobj = schema[fieldname]
            fw.start_field(fieldname, fieldobj)
            pw = fw._postwriter
            pw._inlinelimit = inline_limit
            limit = max(pw._blocklimit, POSTING_BLOCK)
            rows = by_field[fieldname]
            rows.sort(key=lambda x: x[0])
            for btext, (ids, weights, values) in rows:
                fw.start_term(btext)
                n = len(ids)
                for i in range(0, n, limit):
                    pw._ids = ids[i : i + limit]
                    pw._weights = weights[i : i + limit] if weights else array("f", [1.0]) * len(pw._ids)
                    pw._values = values[i : i + limit] if values else []
                    pw._minlength = None
                    pw._maxlength = 0
                    pw._maxweight = max(pw._weights) if pw._weights else 0
                    if i + limit < n:
                        pw._write_block()
                if n < inline_limit:
                    # Whoosh's own inline path calls a method that does not exist
                    # (W3TermInfo.set_inline); store the postings in the term info here.
                    terminfo = pw._terminfo
                    terminfo.add_block(pw)
                    terminfo.set_inlined(pw._ids, pw._weights, pw._values)
                    pw._terminfo = None
                    fw._tindex.add(pack_ushort(fw._fieldid) + btext, terminfo.to_bytes())
                else:
                    fw.finish_term()
            fw.finish_field()
        fw.close()
        self.pool.cleanup()


def writer(ix: Any, limitmb: int = 256) -> Any:
    """A segment writer that fails after a few seconds if another writer holds Whoosh's
    lock. The build takes its own, longer-lived lock first (index.py), so contention
    here means something outside the archive is writing."""
    return _BulkWriter(ix, timeout=5.0, delay=0.1, limitmb=limitmb, compound=False)


def merge_small(max_docs: int = 500):
    """Merge policy: fold together only segments that hold fewer than `max_docs`
    documents (deleted ones included), once there are four of them.

    Merging re-adds every posting in Python, so the large segments of a full build are
    never merged: counting live documents instead made the first 1% update after a
    20,000-notice build merge every batch segment (130 s instead of 2 s).
    """

    def policy(writer: Any, segments: list[Any]) -> list[Any]:
        from whoosh.reading import SegmentReader

        small = [s for s in segments if s.doc_count_all() < max_docs]
        if len(small) < 4:
            return segments
        keep = [s for s in segments if s.doc_count_all() >= max_docs]
        for seg in small:
            reader = SegmentReader(writer.storage, writer.schema, seg)
            writer.add_reader(reader)
            reader.close()
        return keep

    return policy


def commit(w: Any) -> None:
    w.commit(mergetype=merge_small())


def _raw_postings(sub: Any, fieldname: str, btext: bytes) -> Any:
    """A segment's posting matcher without Whoosh's deletion filter: callers drop deleted
    documents with the live mask, and the filter would decode the first block through
    Python just to find the first live document (a 1,024-posting block per segment)."""
    terms = getattr(sub, "_terms", None)
    if terms is None or not hasattr(terms, "matcher"):
        return sub.postings(fieldname, btext)
    return terms.matcher(fieldname, btext, sub.schema[fieldname].format)


def _posting_arrays(matcher: Any, with_weights: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Every docnum (and weight) of a posting list as arrays, decoded a block at a time.

    Whoosh's `all_ids()` steps through postings one Python call at a time (and through a
    filter wrapper when a segment has deletions), and even its block reader decodes the
    delta-coded ids with a Python generator. Here each block's unpickled tuple is turned
    into an array and summed in C; deletions are removed by the caller.
    """
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    if not all(hasattr(matcher, a) for a in ("_next_block", "_read_data", "_byteids", "_atend")):
        # inlined postings (a handful of documents) and any other matcher: step through
        ids: list[int] = []
        weights: list[float] = []
        while matcher.is_active():
            ids.append(matcher.id())
            if with_weights:
                weights.append(matcher.weight())
            matcher.next()
        return np.array(ids, dtype=np.int64), (np.array(weights, dtype=np.float64) if with_weights else None)
    id_parts: list[np.ndarray] = []
    w_parts: list[np.ndarray] = []
    while not matcher._atend:
        if matcher._data is None:
            matcher._read_data()
        raw_ids, raw_weights = matcher._data[0], matcher._data[1]
        block = np.array(raw_ids, dtype=np.int64)
        if not matcher._byteids:
            np.cumsum(block, out=block)
        id_parts.append(block)
        if with_weights:
            if raw_weights is None:
                w_parts.append(np.ones(len(block), dtype=np.float64))
            elif isinstance(raw_weights, float):
                w_parts.append(np.full(len(block), raw_weights, dtype=np.float64))
            else:
                w_parts.append(np.array(raw_weights, dtype=np.float64))
        matcher._next_block()
    ids_all = np.concatenate(id_parts) if id_parts else np.zeros(0, dtype=np.int64)
    if not with_weights:
        return ids_all, None
    return ids_all, (np.concatenate(w_parts) if w_parts else np.zeros(0, dtype=np.float64))


class RecordColumn(Sequence):
    """A segment's records (`rec` column: values joined by SEP), parsed when asked for:
    a snapshot of a million notices no longer holds a million lists of strings."""

    def __init__(self, data: Any, offsets: Any, lengths: Any):
        self._data = data
        self._offsets = offsets
        self._lengths = lengths

    def __len__(self) -> int:
        return len(self._offsets)

    def __getitem__(self, i: int) -> list[str]:  # type: ignore[override]
        n = self._lengths[i]
        if not n:
            return []
        o = self._offsets[i]
        return self._data[o : o + n].decode("utf-8").split(SEP)

    def __iter__(self) -> Iterator[list[str]]:
        data = self._data
        for o, n in zip(self._offsets, self._lengths):
            yield data[o : o + n].decode("utf-8").split(SEP) if n else []


@dataclass
class SegmentView:
    """One segment of a snapshot: global docnum offset, live docs, text, records and
    sidecar, the files memory-mapped when the snapshot opens (nothing is read until used)."""

    offset: int
    doccount: int
    deleted: frozenset[int]
    text_offsets: Any
    text_lengths: Any
    records: Sequence[list[str]] = field(default_factory=list)
    segment_id: str = ""
    # What depends only on the segment's files (immutable once written): the mapped text
    # and sidecar and whatever search derives from them. Shared by the views of the same
    # segment in later snapshots, so a commit that adds one segment does not reload the
    # others.
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def text_map(self) -> Any:
        """The segment's normalised text (an mmap), or None."""
        return self.shared.get("text")

    @property
    def sidecar(self) -> sidecar.Sidecar | None:
        """The segment's per-document arrays, or None for a segment written without them."""
        return self.shared.get("sidecar")


def _map(path: Path) -> Any:
    """A read-only shared mapping of a whole file (an empty file maps to b"")."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                return b""
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise IndexUnreadable(f"cannot read {path.name}: {exc.strerror}", path.name) from exc


def _check_size(path: Path, data: Any, offsets: Any, lengths: Any) -> None:
    """Refuse a mapped column shorter than its offsets say: a truncated text would silently
    lose hits. (Its size and checksum against the commit's are checked with the segment's
    other files: sizes at open, checksums by Snapshot.verify.)"""
    if len(offsets):
        end = int((np.asarray(offsets, dtype=np.int64) + np.asarray(lengths, dtype=np.int64)).max())
        if end > len(data):
            raise IndexUnreadable(f"{path.name} is truncated ({len(data)} of {end} bytes)", path.name)


# An index of at most this many bytes has every file's checksum verified when a process
# first opens it (the first answer waits); a larger one is verified in the background, a
# file at a time, and its snapshots refuse to answer once a file is found damaged. A
# million notices are ~11 GB: checking them first would take a fresh server a minute.
VERIFY_SYNC_BYTES = 512 << 20
VERIFY_PAUSE = 0.02  # seconds between 8 MB chunks of a background verification


OPEN_ATTEMPTS = 5  # a snapshot superseded while it opens is opened again, this many times in all


class _Records(Sequence):
    """Global docnum -> record, across the segments of a snapshot (parsed when asked)."""

    def __init__(self, segments: list[SegmentView]):
        self._segments = segments
        self._starts = [seg.offset for seg in segments]
        self._n = sum(seg.doccount for seg in segments)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, docnum: int) -> list[str]:  # type: ignore[override]
        if not 0 <= docnum < self._n:
            raise IndexError(docnum)
        seg = self._segments[bisect_right(self._starts, docnum) - 1]
        return seg.records[docnum - seg.offset]

    def __iter__(self) -> Iterator[list[str]]:
        for seg in self._segments:
            yield from seg.records


class Snapshot:
    """A read-only view of one committed generation of the index.

    Holds an open Whoosh searcher plus, per segment, the normalised text (loaded on first
    search) and the per-document records. Creating one costs a read of the `rec` columns; the web
    app keeps one open and swaps it when the index generation changes.
    """

    def __init__(self, path: str | os.PathLike[str], previous: "Snapshot | None" = None, verify: bool = True):
        """`previous`: an older snapshot of the same index whose unchanged segments'
        records and text are taken over instead of read again. `verify`: check the
        files against their checksums (see verify()); off only where another snapshot
        of the same process tree does it."""
        self.path = Path(path)
        # Whoosh readers share file objects (seek + read): one thread at a time. The
        # segment texts are immutable bytes and need no lock once loaded.
        self._io = threading.RLock()
        for attempt in range(OPEN_ATTEMPTS):
            try:
                self._open(previous, verify)
                return
            except EmptyIndexError:
                raise
            except Exception as exc:
                # A commit that lands while this snapshot opens may delete the files of the
                # generation it read (a merge, the switch of a rebuild): that is no damage,
                # open the newer generation instead of answering 503.
                if attempt + 1 < OPEN_ATTEMPTS and self._superseded():
                    self._close_partial()
                    continue
                if isinstance(exc, IndexUnreadable):
                    raise
                raise IndexUnreadable(f"the index in {self.path} cannot be read: {type(exc).__name__}: {exc}") from exc

    def _superseded(self) -> bool:
        """True when the generation being opened is no longer the latest one."""
        from whoosh.index import TOC

        try:
            latest = TOC._latest_generation(storage(self.path), INDEX_NAME)
        except OSError:
            return False
        return latest >= 0 and latest != getattr(self, "generation", None)

    def _close_partial(self) -> None:
        searcher = getattr(self, "searcher", None)
        if searcher is not None:
            try:
                searcher.close()
            except Exception:
                pass
        for name in ("ix", "generation", "searcher", "reader"):
            self.__dict__.pop(name, None)

    def _open(self, previous: "Snapshot | None", verify: bool = True) -> None:
        self.ix = open_index(self.path)
        # The generation is read BEFORE the searcher opens the latest one: a commit landing
        # in between then makes the snapshot look stale (one extra reopen), never current
        # while it holds the older data (which left a server one commit behind for good).
        self.generation = self.ix.latest_generation()
        self.searcher = self.ix.searcher()
        self.reader = self.searcher.reader()
        self.segments: list[SegmentView] = []
        self._leaves = list(self.reader.leaf_readers())
        known: dict[str, SegmentView] = {}
        if previous is not None and previous.path == self.path:
            known = {seg.segment_id: seg for seg in previous.segments if seg.segment_id}
        for sub, offset in self._leaves:
            self.segments.append(self._load_segment(sub, offset, known))
        self.records = _Records(self.segments)
        self.doc_count_all = self.reader.doc_count_all()
        self.doc_count = self.reader.doc_count()
        self._live_mask: np.ndarray | None = None
        self.damage: IndexUnreadable | None = None
        if verify:
            self.verify()

    def _load_segment(self, sub: Any, offset: int, known: dict[str, SegmentView] | None = None) -> SegmentView:
        doccount = sub.doc_count_all()
        deleted = frozenset(sub.deleted_docs_set) if sub.has_deletions() else frozenset()
        segobj = sub.segment() if hasattr(sub, "segment") else None
        segment_id = segobj.segment_id() if segobj is not None else ""
        old = (known or {}).get(segment_id) if segment_id else None
        if doccount:
            # Whoosh opens a segment's column files on first use, by name: a commit that
            # deletes this generation before then (a merge, a rebuild's switch) would make
            # every stored-field read of this snapshot fail. Open the stored column now;
            # an open file outlives its name.
            sub.stored_fields(0)
        if old is not None and old.doccount == doccount:
            # Same files: only the offset and the deletions can differ.
            return SegmentView(offset, doccount, deleted, old.text_offsets, old.text_lengths,
                               old.records, segment_id, old.shared)
        sums = read_sums(self.path, segment_id) if segment_id else None
        shared: dict[str, Any] = {}
        if sums is not None:
            # Sizes now; checksums with the whole snapshot (verify()), once per process:
            # later snapshots take the segment over above. Whoosh keeps no checksums, and a
            # changed byte in a posting list would otherwise give wrong results, not an error.
            for name, expected in sums.items():
                try:
                    size = os.stat(self.path / name).st_size
                except FileNotFoundError:
                    raise IndexUnreadable(f"{name} is missing", name) from None
                if size != expected[0]:
                    raise IndexUnreadable(f"{name} has {size} bytes, {expected[0]} were written", name)
            shared["unverified"] = dict(sums)
        recs: Sequence[list[str]]
        if sub.has_column("rec"):
            creader = sub.column_reader("rec", column=columns.VarBytesColumn(), translate=False)
            recfile = self.path / segobj.make_filename(".rec.col")
            if recfile.exists():
                data = _map(recfile)
                _check_size(recfile, data, creader._offsets, creader._lengths)
                recs = RecordColumn(data, creader._offsets, creader._lengths)
            else:
                recs = [raw.decode("utf-8").split(SEP) if raw else [] for raw in creader]
        else:
            recs = [[] for _ in range(doccount)]
        offsets: Any = array("L")
        lengths: Any = array("L")
        if sub.has_column("vtext"):
            creader = sub.column_reader("vtext", column=columns.VarBytesColumn(), translate=False)
            offsets, lengths = creader._offsets, creader._lengths
            colfile = self.path / segobj.make_filename(".vtext.col")
            if colfile.exists() and colfile.stat().st_size > 0:
                text = _map(colfile)
                _check_size(colfile, text, offsets, lengths)
                shared["text"] = text
        side = self.path / segobj.make_filename(sidecar.EXT) if segobj is not None else None
        if side is not None and side.exists():
            try:
                with open(side, "rb") as fh:
                    shared["sidecar"] = sidecar.open_mapped(fh, doccount)
            except (OSError, sidecar.SidecarError) as exc:
                raise IndexUnreadable(f"{side.name} cannot be read: {exc}", side.name) from exc
        return SegmentView(offset, doccount, deleted, offsets, lengths, recs, segment_id, shared)

    def verify(self, background: bool | None = None) -> None:
        """Check every file of the snapshot's segments against the checksums written at
        commit (once per process and segment). Small indexes are checked now (raises
        IndexUnreadable); large ones by a daemon thread, after which `damage` holds the
        first problem found and every search of this snapshot raises it."""
        todo = [(seg, name, exp) for seg in self.segments for name, exp in (seg.shared.get("unverified") or {}).items()]
        if not todo:
            return
        total = sum(exp[0] for _seg, _name, exp in todo)
        if background is None:
            background = total > VERIFY_SYNC_BYTES
        if not background:
            self._verify(todo, pause=0.0)
            return
        threading.Thread(target=self._verify_quietly, args=(todo,), name="index-verify", daemon=True).start()

    def _verify_quietly(self, todo: list[tuple[SegmentView, str, tuple[int, int]]]) -> None:
        try:
            self._verify(todo, pause=VERIFY_PAUSE)
        except Exception as exc:
            # A file deleted by a later commit (a merge, a rebuild's switch) is no damage:
            # the server moves to the newer snapshot, which checks its own files.
            if not self._superseded():
                self.damage = exc if isinstance(exc, IndexUnreadable) else IndexUnreadable(
                    f"the index in {self.path} cannot be read: {type(exc).__name__}: {exc}")

    def _verify(self, todo: list[tuple[SegmentView, str, tuple[int, int]]], pause: float) -> None:
        for seg, name, expected in todo:
            pending = seg.shared.get("unverified")
            if not pending or name not in pending:
                continue
            try:
                got = crc32_file(self.path / name, pause=pause)
            except FileNotFoundError:
                # (a later commit may have merged it away: the caller tells that apart)
                raise IndexUnreadable(f"{name} is missing", name) from None
            if got != tuple(expected):
                raise IndexUnreadable(f"{name} does not match the size and checksum written at commit", name)
            pending.pop(name, None)

    def _check_damage(self) -> None:
        if self.damage is not None:
            raise self.damage

    # -- postings ---------------------------------------------------------------------

    def term_array(self, fieldname: str, term: str, with_weights: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Sorted global docnums (int64) of live documents holding `term`, and, when asked,
        their posting weights (the term's frequency) as float64 in the same order."""
        self._check_damage()
        btext = term.encode("utf-8")
        id_parts: list[np.ndarray] = []
        w_parts: list[np.ndarray] = []
        for (sub, offset), seg in zip(self._leaves, self.segments):
            with self._io:
                try:
                    if (fieldname, btext) not in sub:
                        continue
                    a, w = _posting_arrays(_raw_postings(sub, fieldname, btext), with_weights)
                except Exception as exc:
                    raise IndexUnreadable(f"the postings of segment {seg.segment_id} cannot be read: "
                                          f"{type(exc).__name__}: {exc}", seg.segment_id + ".pst") from exc
            if len(a) and (a[0] < 0 or a[-1] >= seg.doccount or (len(a) > 1 and (a[1:] <= a[:-1]).any())):
                raise IndexUnreadable(f"the postings of segment {seg.segment_id} are damaged", seg.segment_id + ".pst")
            if offset:
                a += offset
            if seg.deleted:
                keep = self.live_mask[a]
                a = a[keep]
                w = w[keep] if w is not None else None
            id_parts.append(a)
            if w is not None:
                w_parts.append(w)
        ids_all = np.concatenate(id_parts) if id_parts else np.zeros(0, dtype=np.int64)
        if not with_weights:
            return ids_all, None
        return ids_all, (np.concatenate(w_parts) if w_parts else np.zeros(0, dtype=np.float64))

    @property
    def live_mask(self) -> np.ndarray:
        """Per global docnum, True when the document is not deleted (built once)."""
        mask = self._live_mask
        if mask is None:
            mask = np.ones(self.doc_count_all, dtype=bool)
            for seg in self.segments:
                if seg.deleted:
                    mask[[seg.offset + d for d in seg.deleted]] = False
            mask.setflags(write=False)
            self._live_mask = mask
        return mask

    def doc_frequency(self, fieldname: str, term: str) -> int:
        """Documents holding `term`, from the term statistics alone (no posting read;
        deleted documents still count until their segment is merged)."""
        with self._io:
            try:
                return int(self.reader.doc_frequency(fieldname, term))
            except KeyError:
                return 0

    def live_docs(self) -> set[int]:
        out: set[int] = set()
        for seg in self.segments:
            rng = range(seg.offset, seg.offset + seg.doccount)
            if seg.deleted:
                out.update(d for d in rng if d - seg.offset not in seg.deleted)
            else:
                out.update(rng)
        return out

    def record(self, docnum: int) -> list[str]:
        return self.records[docnum]

    def iter_records(self) -> Iterable[tuple[int, list[str]]]:
        for seg in self.segments:
            for local, rec in enumerate(seg.records):
                if local not in seg.deleted:
                    yield seg.offset + local, rec

    def stored(self, docnum: int) -> dict[str, Any]:
        self._check_damage()
        with self._io:
            try:
                return self.reader.stored_fields(docnum)
            except Exception as exc:
                raise IndexUnreadable(f"the stored fields of document {docnum} cannot be read: "
                                      f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        # The mapped files stay with the segments' shared data (a newer snapshot of the
        # same process may hold the same segments); they are unmapped when unreferenced.
        self.searcher.close()

    def is_current(self) -> bool:
        """False once a build has committed a newer generation."""
        try:
            with self._io:
                return self.ix.latest_generation() == self.generation
        except OSError:
            return True

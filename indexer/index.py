"""Build and update the index: Notice -> Whoosh documents, incrementally, one writer.

Invariants (each has a test in tests/test_index.py):
* only `build` writes, under an exclusive lock held for the whole run;
* documents are committed in batches, so a crash loses at most the current batch and a
  rerun redoes only that (a file counts as done once its last notice is committed);
* an unchanged file is skipped without being read; a changed page replaces its old
  version (same id, never a duplicate); `prune` drops notices whose file is gone;
* a bad page or file is reported with its reason and skipped; the batch goes on.
"""

from __future__ import annotations

import errno
import fcntl
from collections import deque
from itertools import islice
import multiprocessing as mp
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer import dedup, durable, regions, whooshlib
from indexer.analysis import index_terms, matching_text, normalize
from indexer.models import Notice, PageError
from indexer.pipeline import EXTRACTOR_VERSION
from indexer.schema import SCHEMA_VERSION, build_schema

SUFFIXES = (".html", ".htm", ".shtml", ".txt", ".jsonl", ".warc", ".warc.gz")
VERSION_FILE = "ARCHIVE_VERSION"
LOCK_FILE = "BUILD.lock"
SEP = whooshlib.SEP

# Positions of the values in a document's `rec` column (see record_of()).
from indexer.whooshlib import REC_DATE, REC_FILE, REC_FILESIG, REC_HASH, REC_ID, REC_REGION, REC_SIG, REC_TYPE  # noqa: E402,F401


class BuildError(Exception):
    """A build that cannot start (locked index, incompatible index, bad path)."""


@dataclass
class BuildReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    duplicates: int = 0
    files_seen: int = 0
    files_skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    bytes_read: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "duplicates": self.duplicates,
            "files_seen": self.files_seen,
            "files_skipped_unchanged": self.files_skipped,
            "failed": [{"source": s, "reason": r} for s, r in self.failed],
            "seconds": round(self.seconds, 3),
        }


# -- locking -------------------------------------------------------------------------


class BuildLock:
    """An exclusive flock on index/BUILD.lock, released by the kernel if the build dies,
    so a killed build never leaves a stale lock behind."""

    def __init__(self, index_dir: Path, timeout: float = 0.0):
        self.path = index_dir / LOCK_FILE
        self.timeout = timeout
        self.fd: int | None = None

    def __enter__(self) -> "BuildLock":
        try:
            durable.makedirs(self.path.parent)
            created = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise
            raise BuildError(
                f"cannot write to {self.path.parent} ({exc.strerror}): the index is read-only here. "
                "It can be searched, served, checked and backed up as it is; build on a writable copy"
            ) from None
        if created:
            # The lock file's name is made durable once; its content (the holder's pid)
            # is informational and the flock itself dies with the process.
            durable.fsync_fd(fd)
            durable.fsync_dir(self.path.parent)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise BuildError(
                        f"another build is writing to {self.path.parent} "
                        "(wait for it to finish, or pass --wait SECONDS)"
                    ) from None
                time.sleep(0.2)
        self.fd = fd
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


# -- files ---------------------------------------------------------------------------


def has_supported_suffix(path: Path) -> bool:
    return supported_name(path.name)


def supported_name(name: str) -> bool:
    name = name.lower()
    return any(name.endswith(s) for s in SUFFIXES)


def display_path(path: Path) -> str:
    """The path as users see it: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def discover(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[str], list[tuple[str, str]]]:
    """Supported files under the given files/folders, sorted, each named once.

    A folder is walked with os.scandir (the file type comes with the directory entry, no
    stat a file) and its files are named relative to the working directory when inside
    it (as display_path does, computed once for the folder): a million files are listed
    in seconds, which is most of what a build with nothing to do costs. Symbolic links
    to folders are not followed."""
    found: dict[str, None] = {}
    missing: list[tuple[str, str]] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            base = display_path(path)
            rel: list[tuple[str, ...]] = []
            _walk(str(path), (), rel)
            rel.sort()
            prefix = "" if base == "." else base + os.sep
            for parts in rel:
                found[prefix + os.sep.join(parts)] = None
        elif path.is_file():
            found[display_path(path)] = None
        else:
            missing.append((str(p), "no such file or folder"))
    return list(found), missing


def _walk(folder: str, parts: tuple[str, ...], out: list[tuple[str, ...]]) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                _walk(entry.path, parts + (entry.name,), out)
            elif entry.is_file() and not entry.name.startswith(".") and supported_name(entry.name):
                out.append(parts + (entry.name,))
        except OSError:
            continue


def file_signature(path: str) -> str:
    """Size, modification time and the extractor version: a file whose signature is in
    the index is skipped by the next build."""
    st = os.stat(path)
    return f"{st.st_size}:{st.st_mtime_ns}:x{EXTRACTOR_VERSION}"


# -- documents -----------------------------------------------------------------------


@dataclass
class Prepared:
    """A notice plus the analysis done in a worker process, ready for the writer."""

    notice: Notice
    terms: dict[str, int]
    iterms: dict[str, int]
    vtext: bytes
    content_hash: str
    simhash: int = 0


def prepare(notice: Notice) -> Prepared:
    # Letter-spaced headings (巡 察 公 告) are matched collapsed: the grams and the
    # verification blob hold 巡察公告; the stored title and body stay as the page says.
    ntitle = matching_text(notice.title or "")
    nbody = matching_text(notice.body or "")
    # The document number is part of what the page says even when the cleaner found it in
    # a table of properties outside the text: a reader who sees 川办发〔2018〕58号 on the
    # notice must find it by it. It is matched as one more line of the body.
    ndoc = matching_text(notice.doc_number or "")
    if ndoc and ndoc not in nbody:
        nbody = f"{nbody}\n{ndoc}"
    nissuer = normalize(notice.issuer or "")
    blob = f"{ntitle}\x01{nbody}\x01{nissuer}"
    terms = index_terms(f"{ntitle}\n{nbody}")
    iterms = index_terms(nissuer)
    sig = dedup.signature(notice.body or "")
    return Prepared(notice, terms, iterms, blob.encode("utf-8", "replace"), notice.content_hash, sig)


def blob_terms(blob: str) -> tuple[dict[str, int], dict[str, int]]:
    """The grams and issuer grams of a document, from its verification text (`vtext`) as
    prepare() writes it (title, body, issuer joined by \x01): `check` compares them with
    the postings."""
    ntitle, _, rest = blob.partition("\x01")
    nbody, _, nissuer = rest.rpartition("\x01")
    return index_terms(f"{ntitle}\n{nbody}"), index_terms(nissuer)


def process_file(path: str) -> tuple[str, list[Prepared | PageError]]:
    """Read, clean and analyse every page of one file (runs in a worker process)."""
    from indexer.pipeline import process_page
    from indexer.sources import iter_pages

    out: list[Prepared | PageError] = []
    try:
        for item in iter_pages([path]):
            if isinstance(item, PageError):
                out.append(item)
                continue
            try:
                out.append(prepare(process_page(item)))
            except PageError as exc:
                out.append(exc)
            except RecursionError:
                out.append(PageError(item.source, "page is nested too deeply to parse"))
            except Exception as exc:  # one broken page must not stop the batch
                out.append(PageError(item.source, f"{type(exc).__name__}: {exc}"))
    except Exception as exc:
        out.append(PageError(path, f"cannot read file: {type(exc).__name__}: {exc}"))
    return path, out


def record_of(p: Prepared, source_file: str, filesig: str) -> bytes:
    n = p.notice
    values = [n.id, n.date or "", n.region_code or "", n.doc_type or "", source_file, filesig, p.content_hash, f"{p.simhash:016x}"]
    return SEP.join(v.replace(SEP, " ") for v in values).encode("utf-8")


def document_fields(p: Prepared, source_file: str, filesig: str) -> dict[str, Any]:
    n = p.notice
    codes = regions.ancestors(n.region_code) if n.region_code else []
    return {
        "id": n.id,
        "grams": p.terms,
        "igrams": p.iterms or None,
        "region": " ".join(codes) if codes else None,
        "doc_type": n.doc_type or None,
        "year": n.date[:4] if n.date else None,
        "source_file": source_file,
        "vtext": p.vtext,
        "rec": record_of(p, source_file, filesig),
        "title": n.title,
        "body": n.body,
        "date": n.date,
        "issuer": n.issuer,
        "province": n.province,
        "city": n.city,
        "district": n.district,
        "region_code": n.region_code,
        "doc_number": n.doc_number,
        "url": n.url,
        "source": n.source,
        "content_hash": p.content_hash,
    }


# -- the index directory ---------------------------------------------------------------


def default_index_dir() -> Path:
    return Path(os.environ.get("INDEX_DIR") or "index")


def open_or_create(index_dir: Path) -> Any:
    version_path = index_dir / VERSION_FILE
    if whooshlib.exists(index_dir):
        found = version_path.read_text().strip() if version_path.exists() else "?"
        if found != SCHEMA_VERSION:
            raise BuildError(
                f"{index_dir} was built by another version of the archive (format {found}, "
                f"this is {SCHEMA_VERSION}); rebuild it with --rebuild"
            )
        return whooshlib.open_index(index_dir)
    # The version file is made durable BEFORE the first table of contents: a power cut
    # between the two must not leave an index that says nothing of its format (the next
    # build would refuse it as "another version"). Found by tests/test_powercut.py.
    durable.makedirs(index_dir)
    durable.atomic_write(version_path, (SCHEMA_VERSION + "\n").encode())
    return whooshlib.create(index_dir, build_schema())


def file_key(path: str) -> str:
    """What identifies a source file in the index: its absolute path. Display paths are
    relative to the working directory, so the same folder built from another directory
    (a scheduled job, a benchmark) looked like a million new files and was read again;
    a path recorded relative by an older build is taken relative to this directory."""
    return os.path.abspath(path)


def existing_state(index_dir: Path) -> tuple[dict[str, tuple[str, str]], dict[str, set[str]], dict[str, str]]:
    """(id -> (content hash, source file), file -> ids, file -> signature when complete),
    files by file_key()."""
    by_id: dict[str, tuple[str, str]] = {}
    by_file: dict[str, set[str]] = {}
    file_sig: dict[str, str] = {}
    keys: dict[str, str] = {}  # stored path -> file_key (a file's notices share one)
    snap = whooshlib.Snapshot(index_dir)
    try:
        for _docnum, rec in snap.iter_records():
            if len(rec) < 7:
                continue
            key = keys.get(rec[REC_FILE])
            if key is None:
                key = keys[rec[REC_FILE]] = file_key(rec[REC_FILE])
            by_id[rec[REC_ID]] = (rec[REC_HASH], key)
            by_file.setdefault(key, set()).add(rec[REC_ID])
            if rec[REC_FILESIG]:
                file_sig[key] = rec[REC_FILESIG]
    finally:
        snap.close()
    return by_id, by_file, file_sig


# -- build -----------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, total: int, enabled: bool | None = None):
        self.total = total
        self.done = 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.start = time.monotonic()

    def step(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        width = 30
        frac = self.done / self.total if self.total else 1.0
        bar = "#" * int(frac * width)
        rate = self.done / max(time.monotonic() - self.start, 1e-6)
        sys.stderr.write(f"\r[{bar:<{width}}] {self.done}/{self.total} files  {rate:.0f}/s ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


MIN_BATCH = 2000
MAX_BATCH = 20000
TARGET_SEGMENTS = 50


def auto_batch_size(files_todo: int) -> int:
    """Notices per commit: 2,000, or more for a large build, so that a build leaves about
    50 segments whatever its size. Every segment costs each query a term lookup per
    word, so a million notices in 2,000-notice segments (500 of them) would spend more on
    lookups than on reading postings; 20,000 is the cap because the writer holds a batch's
    postings in memory (~15 KB a notice) and a crash loses at most one batch's work (it is
    done again by the next build; nothing acknowledged is lost)."""
    return max(MIN_BATCH, min(MAX_BATCH, files_todo // TARGET_SEGMENTS))


def _results(files: list[str], workers: int) -> Iterator[tuple[str, list[Prepared | PageError]]]:
    if workers <= 1 or len(files) < 8:
        for f in files:
            yield process_file(f)
        return
    # A bounded window of files in flight: Pool.imap has no back-pressure, so workers that
    # outrun the single writer would pile finished notices up in this process.
    # Workers come from a fork server that has imported the pipeline and nothing else:
    # forked from this process instead, every worker the pool replaces (maxtasksperchild)
    # would start as a copy of a writer that, a million notices in, holds a gigabyte of
    # ids and postings (counted again in every worker's RSS).
    if sys.platform == "win32":
        ctx = mp.get_context("spawn")
    else:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["indexer.pipeline", "indexer.index"])
    window = workers * 4
    # A worker is replaced after 10,000 files (bounds what a leak in a parser could grow to;
    # each new one spends ~0.3 s on lazy tables before its first page).
    with ctx.Pool(workers, maxtasksperchild=10000) as pool:
        todo = iter(files)
        pending = deque(pool.apply_async(process_file, (f,)) for f in islice(todo, window))
        while pending:
            result = pending.popleft().get()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.apply_async(process_file, (nxt,)))
            yield result


def build(
    paths: Iterable[str | os.PathLike[str]],
    index_dir: str | os.PathLike[str] | None = None,
    *,
    prune: bool = False,
    rebuild: bool = False,
    batch_size: int | None = None,
    workers: int | None = None,
    wait: float = 0.0,
    progress: bool | None = None,
    on_commit: Callable[[int], None] | None = None,
) -> BuildReport:
    """Index the given files/folders into `index_dir` and return what happened."""
    t0 = time.monotonic()
    index_dir = Path(index_dir) if index_dir else default_index_dir()
    report = BuildReport()
    files, missing = discover(paths)
    report.failed.extend(missing)
    if workers is None:
        workers = max(1, min(4, os.cpu_count() or 1))

    with BuildLock(index_dir, timeout=wait):
        try:
            return _build_locked(index_dir, files, report, t0, prune=prune, rebuild=rebuild,
                                 batch_size=batch_size, workers=workers, progress=progress, on_commit=on_commit)
        except OSError as exc:
            if not durable.is_disk_error(exc):
                raise
            raise BuildError(_disk_error_message(index_dir, exc)) from exc


def _rebuild_beside(index_dir: Path, files: list[str], report: BuildReport, t0: float, *, batch_size: int | None,
                    workers: int, progress: bool | None, on_commit: Callable[[int], None] | None) -> BuildReport:
    """`--rebuild` over an existing index: the new index is built beside the old one (in
    index/.rebuild, committed batch by batch as any build) and switched to only when it is
    complete (whooshlib.adopt: one TOC rename). Until then searches, `serve` and a power cut
    see the old index, whole; a crash part-way leaves it as it was, and the next build
    removes the unfinished staging folder. The rebuild is acknowledged (`on_commit`) once,
    at the switch. Costs the disk space of both indexes while it runs."""
    staging = index_dir / whooshlib.STAGING
    durable.makedirs(staging)
    _build_locked(staging, files, report, t0, prune=False, rebuild=False, batch_size=batch_size,
                  workers=workers, progress=progress, on_commit=None)
    whooshlib.adopt(index_dir, staging)
    # After the switch, not before: a power cut between the two leaves a new-format TOC
    # with an old version stamp, refused until rebuilt (never an old index passed as new).
    version_path = index_dir / VERSION_FILE
    found = version_path.read_text(errors="replace").strip() if version_path.exists() else ""
    if found != SCHEMA_VERSION:
        durable.atomic_write(version_path, (SCHEMA_VERSION + "\n").encode())
    shutil.rmtree(staging, ignore_errors=True)
    if on_commit:
        on_commit(1)
    report.seconds = time.monotonic() - t0
    return report


def _disk_error_message(index_dir: Path, exc: OSError) -> str:
    """Clean up after a write the disk refused and say what the index still holds."""
    removed = whooshlib.remove_uncommitted(index_dir)
    held = ""
    try:
        snap = whooshlib.Snapshot(index_dir)
        try:
            held = f" ({snap.doc_count} notices, searchable)"
        finally:
            snap.close()
    except Exception:
        pass
    what = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "the disk refused a write"
    return (
        f"{what} ({exc.strerror}) while writing {index_dir}: the build stopped. The index keeps its last "
        f"committed state{held}; {len(removed)} partial file(s) of this build were removed. "
        "Free some space and run the same build again: it continues where it stopped."
    )


def _build_locked(index_dir: Path, files: list[str], report: BuildReport, t0: float, *, prune: bool,
                  rebuild: bool, batch_size: int | None, workers: int, progress: bool | None,
                  on_commit: Callable[[int], None] | None) -> BuildReport:
    staging = index_dir / whooshlib.STAGING
    if staging.exists():
        shutil.rmtree(staging)  # an unfinished rebuild's (this build holds the lock)
    if rebuild and whooshlib.exists(index_dir):
        return _rebuild_beside(index_dir, files, report, t0, batch_size=batch_size, workers=workers,
                               progress=progress, on_commit=on_commit)
    # A rebuild of a folder that holds no index has nothing to keep: it is a build in
    # place, committed batch by batch (leftover files of no generation are deleted by the
    # first commit).
    ix = open_or_create(index_dir)
    by_id, by_file, file_sig = existing_state(index_dir)
    todo: list[str] = []
    for f in files:
        try:
            sig = file_signature(f)
        except OSError as exc:
            report.failed.append((f, f"cannot read: {exc.strerror}"))
            continue
        key = file_key(f)
        if file_sig.get(key) == sig:
            report.files_skipped += 1
            report.unchanged += len(by_file.get(key, ()))
        else:
            todo.append(f)
    report.files_seen = len(files)
    if batch_size is None:
        batch_size = auto_batch_size(len(todo))

    writer_box: list[Any] = [None]
    pending = 0
    commits = 0

    def w() -> Any:
        if writer_box[0] is None:
            writer_box[0] = whooshlib.writer(ix)
        return writer_box[0]

    def flush() -> None:
        nonlocal pending, commits
        if writer_box[0] is not None:
            whooshlib.commit(writer_box[0])
            writer_box[0] = None
            commits += 1
            if on_commit:
                on_commit(commits)
        pending = 0

    seen_this_run: dict[str, int] = {}
    bar = Progress(len(todo), progress)
    try:
        for path, items in _results(todo, workers):
            sig = file_signature(path) if os.path.exists(path) else ""
            key = file_key(path)
            ids_here: set[str] = set()
            good = [i for i in items if isinstance(i, Prepared)]
            for item in items:
                if isinstance(item, PageError):
                    report.failed.append((item.source, item.reason))
            for k, prep in enumerate(good):
                n = prep.notice
                # (the source's hash, not the string: a million of them is ~150 MB)
                if seen_this_run.get(n.id, hash(n.source)) != hash(n.source):
                    report.duplicates += 1
                    continue
                seen_this_run[n.id] = hash(n.source)
                ids_here.add(n.id)
                # The file's signature goes on its last notice only: a file counts
                # as done once that notice is committed (batches commit in order).
                filesig = sig if k == len(good) - 1 else ""
                old = by_id.get(n.id)
                if old is not None:
                    w().delete_by_term("id", n.id)
                    if old[0] == prep.content_hash:
                        report.unchanged += 1
                    else:
                        report.updated += 1
                else:
                    report.added += 1
                w().add_document(**{k2: v for k2, v in document_fields(prep, key, filesig).items() if v is not None})
                by_id[n.id] = (prep.content_hash, key)
                pending += 1
                if pending >= batch_size:
                    flush()
            # Notices that this file held before but no longer does.
            for stale in by_file.get(key, set()) - ids_here:
                if by_id.get(stale, ("", ""))[1] == key:
                    w().delete_by_term("id", stale)
                    by_id.pop(stale, None)
                    report.deleted += 1
                    pending += 1
            bar.step()
        if prune:
            for f, ids in by_file.items():
                if not os.path.exists(f):
                    for doc_id in ids:
                        if by_id.get(doc_id, ("", ""))[1] == f:
                            w().delete_by_term("id", doc_id)
                            report.deleted += 1
                            pending += 1
        flush()
    except BaseException:
        if writer_box[0] is not None:
            try:
                writer_box[0].cancel()
            except Exception:  # a commit that failed has closed the writer already
                pass
            writer_box[0] = None
        raise
    finally:
        bar.close()
    report.seconds = time.monotonic() - t0
    return report

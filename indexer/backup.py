"""`python -m indexer backup DEST`: a consistent copy of the index while it is in use.

A committed generation of the index is immutable: its table of contents
(`_MAIN_<gen>.toc`) names segments whose files Whoosh never rewrites, and each segment's
`.sums` file records the size and CRC-32 of every file written for it. So no lock is
needed: a backup reads the latest TOC, then copies exactly the files it names (plus the
checksum files and ARCHIVE_VERSION), checking each against its recorded checksum as it
copies. The only thing a concurrent build can do is delete an old generation once a
newer one is durable: a file that vanishes before it is opened means the copy is of a
superseded generation, and the backup starts again from the newer TOC (keeping the files
already copied, which the newer generation mostly shares). A file that is open when it
is deleted still reads to its end, so a copy never mixes two generations.

The copy is written to `DEST.partial-<pid>` beside DEST, every file and the folder
fsynced, and only then renamed to DEST (and DEST's parent fsynced): DEST either does not
exist or holds a complete, durable index that passes `check`.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from indexer import durable, whooshlib

CHUNK = 1 << 20


class BackupError(Exception):
    """The backup could not be made (no index, DEST in the way, a damaged source file,
    a disk error); nothing is left at DEST."""


@dataclass
class BackupReport:
    index: str
    dest: str
    generation: int = -1
    segments: int = 0
    documents: int = 0
    files: list[str] = field(default_factory=list)
    bytes: int = 0
    attempts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "dest": self.dest, "generation": self.generation,
                "segments": self.segments, "documents": self.documents, "files": len(self.files),
                "bytes": self.bytes, "attempts": self.attempts}


class _Superseded(Exception):
    """A file of the generation being copied is gone: a newer one was committed."""


def _copy(src: Path, dst: Path, expected: tuple[int, int] | None) -> int:
    """Copy one file, fsync it, and check it against its recorded (size, crc32)."""
    try:
        fin = open(src, "rb")
    except FileNotFoundError:
        raise _Superseded(src.name) from None
    crc = size = 0
    with fin, open(dst, "wb") as fout:
        while True:
            chunk = fin.read(CHUNK)
            if not chunk:
                break
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            fout.write(chunk)
        durable.fsync_file(fout)
    if expected is not None and (size, crc) != tuple(expected):
        raise BackupError(f"{src.name} in the index does not match the checksum written at commit "
                          f"({size} bytes, {expected[0]} expected): run python -m indexer check")
    return size


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise _Superseded(path.name) from None


def _attempt(src: Path, work: Path, report: BackupReport, copied: dict[str, int],
             before_copy: Callable[[str], None] | None) -> set[str]:
    """Copy the latest generation into `work`; the names it consists of."""
    from whoosh.index import TOC

    st = whooshlib.storage(src)
    gen = TOC._latest_generation(st, whooshlib.INDEX_NAME)
    if gen < 0:
        raise BackupError(f"{src} holds no committed index (no _MAIN_<n>.toc)")
    tocname = TOC._filename(whooshlib.INDEX_NAME, gen)
    toc_bytes = _read(src / tocname)
    # Parse the bytes as read, not the file again: by now it may be gone.
    try:
        toc = TOC.read(_BytesStorage(toc_bytes), whooshlib.INDEX_NAME, gen)
    except Exception as exc:
        raise BackupError(f"the table of contents {tocname} cannot be read: {type(exc).__name__}: {exc}") from exc
    names: set[str] = {tocname}
    version = _read(src / "ARCHIVE_VERSION")
    report.documents = 0
    for seg in toc.segments:
        sid = seg.segment_id()
        report.documents += seg.doc_count()
        sums_name = sid + whooshlib.SUMS_EXT
        try:
            sums_bytes = _read(src / sums_name)
        except _Superseded:
            if any(n.startswith(sid + ".") for n in os.listdir(src)):
                sums_bytes = None  # a segment written before checksums existed
            else:
                raise
        if sums_bytes is not None:
            try:
                files = {str(k): (int(v[0]), int(v[1])) for k, v in json.loads(sums_bytes)["files"].items()}
            except Exception as exc:
                raise BackupError(f"{sums_name} is damaged ({type(exc).__name__}): run python -m indexer check") from exc
            durable_write(work / sums_name, sums_bytes)
            names.add(sums_name)
        else:
            files = {n: None for n in whooshlib.segment_files(src, sid)}  # type: ignore[misc]
        for name, expected in sorted(files.items()):
            names.add(name)
            if name in copied:
                continue  # segment files are never rewritten: a copy made in an earlier attempt stands
            if before_copy is not None:
                before_copy(name)
            copied[name] = _copy(src / name, work / name, expected)
    durable_write(work / "ARCHIVE_VERSION", version)
    names.add("ARCHIVE_VERSION")
    # The TOC goes in last (temporary name, fsync, rename): a folder without it is no index.
    durable_write(work / tocname, toc_bytes)
    report.generation = gen
    report.segments = len(toc.segments)
    return names


class _BytesStorage:
    """Just enough of a Whoosh storage to let TOC.read parse one staged file."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def open_file(self, name: str, **kwargs: Any) -> Any:
        from whoosh.filedb.structfile import StructFile

        return StructFile(io.BytesIO(self.data), name=name, **kwargs)


def durable_write(path: Path, data: bytes) -> None:
    """Write a small file under its final name in the (unpublished) work folder, fsynced."""
    with open(path, "wb") as f:
        f.write(data)
        durable.fsync_file(f)


def backup(index_dir: str | os.PathLike[str], dest: str | os.PathLike[str], *, attempts: int = 20,
           before_copy: Callable[[str], None] | None = None) -> BackupReport:
    """Copy the latest committed generation of `index_dir` to `dest` (which must not exist,
    or be an empty folder). `before_copy(name)` is called before each segment file is
    copied (tests use it to commit a build in between)."""
    src = Path(index_dir)
    dest = Path(dest)
    report = BackupReport(str(src), str(dest))
    if not whooshlib.exists(src):
        raise BackupError(f"{src} holds no index")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} exists and is not empty: give a new folder")
    if src.resolve() == dest.resolve() or dest.resolve().is_relative_to(src.resolve()):
        raise BackupError("the backup must not be inside the index folder")
    durable.makedirs(dest.absolute().parent)
    work = dest.absolute().parent / f".{dest.name}.partial-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    copied: dict[str, int] = {}
    try:
        for n in range(1, attempts + 1):
            report.attempts = n
            try:
                names = _attempt(src, work, report, copied, before_copy)
                break
            except _Superseded:
                continue
        else:
            raise BackupError(f"the index changed under {attempts} attempts in a row; try again")
        # Files of generations superseded during the copy are not part of this one.
        for name in os.listdir(work):
            if name not in names:
                (work / name).unlink()
        report.files = sorted(names)
        report.bytes = sum((work / n).stat().st_size for n in names)
        durable.fsync_dir(work)
        if dest.exists():
            dest.rmdir()  # the empty folder given as DEST
        os.rename(work, dest)
        durable.fsync_dir(dest.absolute().parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return report


def main(index_dir: str | os.PathLike[str], dest: str | os.PathLike[str], as_json: bool) -> int:
    import sys

    try:
        report = backup(index_dir, dest)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: the backup failed: {exc}", file=sys.stderr)
        return 2
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        print(f"backed up generation {report.generation}: {report.documents} notices in {report.segments} "
              f"segments, {len(report.files)} files, {report.bytes / 1e6:.1f} MB -> {report.dest}"
              + (f" ({report.attempts} attempts: builds committed meanwhile)" if report.attempts > 1 else ""))
    return 0

"""Stable-storage helpers: what a commit must do before it is acknowledged.

A write reaches the disk only when its file is fsynced, and a new name (a created or renamed
file) only when its directory is fsynced. The archive's rule, as in Lucene, SQLite and
PostgreSQL: write to a temporary name, fsync the file, rename it over the real name, fsync
the directory; and make every file a new name refers to durable before the name itself.

Every call goes through `os.fsync` looked up at call time, so a test can count or fail them.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

# Errors that mean "the disk cannot take this write" rather than "the program is wrong".
DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EFBIG}


def fsync_fd(fd: int) -> None:
    os.fsync(fd)


def fsync_file(fileobj: object) -> None:
    """Flush a Python file object's buffer and fsync its descriptor."""
    flush = getattr(fileobj, "flush", None)
    if flush is not None:
        flush()
    os.fsync(fileobj.fileno())  # type: ignore[attr-defined]


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make the directory's entries (created, renamed, removed names) durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_path(path: str | os.PathLike[str]) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def makedirs(path: str | os.PathLike[str]) -> None:
    """mkdir -p, with each directory it creates made durable in its parent."""
    p = Path(path).absolute()
    missing: list[Path] = []
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir()
        except FileExistsError:
            continue
        fsync_dir(d.parent)


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves the old or the new content, never
    a mix, and the new content is durable when this returns."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            fsync_file(f)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


def is_disk_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in DISK_ERRNOS

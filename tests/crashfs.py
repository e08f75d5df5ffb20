"""Power-cut states of a file tree, in the manner of ALICE (OSDI 2014) and LazyFS.

`Recorder` runs code in-process while recording, in order, every call that changes a
file tree under `base`: file creation, each write as it reaches the OS (below Python's
buffering), truncation, fsync/fdatasync of files and directories, rename, unlink, mkdir
and rmdir. It wraps `open`/`io.open`/`os.fdopen` (a write-mode open gets a recording raw
file under a normal BufferedWriter) and the `os` functions, so Whoosh, pathlib and the
archive's own code are all seen without being changed.

`CrashModel` replays that log and builds the states a power cut after any operation
could leave on disk, under the pessimistic model the issue asks for:

* a file's content is what it held at its last fsync, plus any prefix of the writes
  made since (in order);
* a directory's entries (created, renamed, removed names) are what they were at the
  last fsync of that directory, plus (in the less strict variants) a prefix of the
  directory operations made since, in program order.

`Recorder.verify_live` replays the whole log and compares it with the real tree after
the run: a write that went around the recorder (a C extension writing through its own
descriptor, say) makes the test fail instead of silently weakening it.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _is_write_mode(mode: str) -> bool:
    return any(c in mode for c in "wax+")


class _RecordingRaw(io.RawIOBase):
    """A raw file that records each write (offset, bytes) as it is handed to the OS."""

    def __init__(self, inner: io.FileIO, rec: "Recorder", lid: int, append: bool) -> None:
        super().__init__()
        self._inner = inner
        self._rec = rec
        self._lid = lid
        self._append = append
        self.name = inner.name
        self.mode = inner.mode

    def readable(self) -> bool:
        return self._inner.readable()

    def writable(self) -> bool:
        return self._inner.writable()

    def seekable(self) -> bool:
        return self._inner.seekable()

    def readinto(self, b: Any) -> int | None:
        return self._inner.readinto(b)

    def write(self, b: Any) -> int | None:
        pos = os.fstat(self._inner.fileno()).st_size if self._append else self._inner.tell()
        n = self._inner.write(b)
        if n:
            self._rec._op("write", self._lid, pos, bytes(memoryview(b)[:n]))
        return n

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def truncate(self, size: int | None = None) -> int:
        n = self._inner.truncate(size)
        self._rec._op("trunc", self._lid, n)
        return n

    def fileno(self) -> int:
        return self._inner.fileno()

    def isatty(self) -> bool:
        return False

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


@dataclass
class Op:
    kind: str  # create write trunc fsync dirsync rename unlink mkdir rmdir mark
    args: tuple[Any, ...]


class Recorder:
    """Records the mutations of the tree under `base` while `active` (use as a context
    manager; it patches and restores the functions itself)."""

    def __init__(self, base: str | os.PathLike[str]) -> None:
        self.base = os.path.realpath(base)
        self.ops: list[Op] = []
        self._next = 0
        self.kind: dict[int, str] = {}  # lid -> "f" | "d"
        self.initial_files: dict[int, bytes] = {}
        self.initial_dirs: dict[int, dict[str, tuple[str, int]]] = {}
        self._ino: dict[tuple[int, int], int] = {}
        self._live: dict[int, dict[str, tuple[str, int]]] = {}
        self._patched: list[tuple[Any, str, Any]] = []
        self.root = self._scan(self.base)

    # -- the initial tree (all of it durable) --------------------------------------------
    def _new(self, kind: str) -> int:
        self._next += 1
        self.kind[self._next] = kind
        return self._next

    def _scan(self, path: str) -> int:
        st = os.lstat(path)
        lid = self._new("d")
        self._ino[(st.st_dev, st.st_ino)] = lid
        entries: dict[str, tuple[str, int]] = {}
        for name in sorted(os.listdir(path)):
            p = os.path.join(path, name)
            if os.path.isdir(p) and not os.path.islink(p):
                entries[name] = ("d", self._scan(p))
            else:
                flid = self._new("f")
                fst = os.lstat(p)
                self._ino[(fst.st_dev, fst.st_ino)] = flid
                with open(p, "rb") as f:
                    self.initial_files[flid] = f.read()
                entries[name] = ("f", flid)
        self._live[lid] = entries
        self.initial_dirs[lid] = dict(entries)
        return lid

    # -- paths -----------------------------------------------------------------------------
    def _abs(self, path: Any, dir_fd: int | None = None) -> str | None:
        if isinstance(path, int):
            try:
                return os.readlink(f"/proc/self/fd/{path}")
            except OSError:
                return None
        p = os.fsdecode(os.fspath(path))
        if dir_fd is not None and not os.path.isabs(p):
            p = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), p)
        p = os.path.abspath(p)
        return os.path.join(os.path.realpath(os.path.dirname(p)), os.path.basename(p))

    def _under(self, p: str | None) -> bool:
        return p is not None and (p == self.base or p.startswith(self.base + os.sep))

    def _dir_of(self, p: str) -> tuple[int, str]:
        """(lid of the parent directory in the live tree, name) of an absolute path."""
        parent, name = os.path.split(p)
        rel = os.path.relpath(parent, self.base)
        lid = self.root
        if rel != ".":
            for part in rel.split(os.sep):
                entry = self._live[lid].get(part)
                if entry is None or entry[0] != "d":
                    raise RuntimeError(f"crashfs: {parent} is not in the recorded tree")
                lid = entry[1]
        return lid, name

    def _op(self, kind: str, *args: Any) -> None:
        self.ops.append(Op(kind, args))

    def mark(self, *args: Any) -> None:
        """A labelled point in the log (e.g. a commit being acknowledged)."""
        self._op("mark", *args)

    def _lid_of_fd(self, fd: int) -> int | None:
        st = os.fstat(fd)
        lid = self._ino.get((st.st_dev, st.st_ino))
        if lid is None or not self._under(self._abs(fd)):
            return None
        return lid

    def _created(self, p: str, kind: str) -> int:
        st = os.lstat(p)
        lid = self._new(kind)
        self._ino[(st.st_dev, st.st_ino)] = lid
        dlid, name = self._dir_of(p)
        self._live[dlid][name] = (kind, lid)
        if kind == "d":
            self._live[lid] = {}
            self._op("mkdir", dlid, name, lid)
        else:
            self._op("create", dlid, name, lid)
        return lid

    # -- the wrappers ------------------------------------------------------------------------
    def __enter__(self) -> "Recorder":
        real_open = builtins.open
        real = {n: getattr(os, n) for n in ("open", "write", "ftruncate", "fsync", "fdatasync", "rename",
                                           "replace", "remove", "unlink", "mkdir", "rmdir")}
        rec = self

        def r_open(file: Any, mode: str = "r", buffering: int = -1, encoding: str | None = None,
                   errors: str | None = None, newline: str | None = None, closefd: bool = True,
                   opener: Any = None) -> Any:
            p = rec._abs(file) if isinstance(file, (str, bytes, os.PathLike, int)) else None
            if not _is_write_mode(mode) or not rec._under(p):
                return real_open(file, mode, buffering, encoding, errors, newline, closefd, opener)
            assert p is not None
            existed = isinstance(file, int) or os.path.lexists(p)
            bmode = mode.replace("t", "").replace("b", "") + "b"
            inner = real_open(file, bmode, buffering=0, closefd=closefd, opener=opener)
            if existed:
                lid = rec._lid_of_fd(inner.fileno())
                if lid is None:
                    inner.close()
                    raise RuntimeError(f"crashfs: {p} was not created under the recorder")
                if "w" in mode and not isinstance(file, int):
                    rec._op("trunc", lid, 0)
            else:
                lid = rec._created(p, "f")
            raw = _RecordingRaw(inner, rec, lid, "a" in mode)
            if buffering == 0:
                return raw
            size = buffering if buffering > 1 else io.DEFAULT_BUFFER_SIZE
            buf = io.BufferedRandom(raw, size) if "+" in mode else io.BufferedWriter(raw, size)
            if "b" in mode:
                return buf
            return io.TextIOWrapper(buf, io.text_encoding(encoding), errors, newline, line_buffering=buffering == 1)

        def r_osopen(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
            p = rec._abs(path, dir_fd)
            if not (flags & _WRITE_FLAGS) or not rec._under(p):
                return real["open"](path, flags, mode, dir_fd=dir_fd)
            assert p is not None
            existed = os.path.lexists(p)
            fd = real["open"](path, flags, mode, dir_fd=dir_fd)
            if not existed:
                rec._created(p, "f")
            elif flags & os.O_TRUNC:
                lid = rec._lid_of_fd(fd)
                if lid is not None:
                    rec._op("trunc", lid, 0)
            return fd

        def r_write(fd: int, data: Any) -> int:
            lid = rec._lid_of_fd(fd)
            pos = os.lseek(fd, 0, os.SEEK_CUR) if lid is not None else 0
            n = real["write"](fd, data)
            if lid is not None and n:
                rec._op("write", lid, pos, bytes(memoryview(data)[:n]))
            return n

        def r_ftruncate(fd: int, length: int) -> None:
            real["ftruncate"](fd, length)
            lid = rec._lid_of_fd(fd)
            if lid is not None:
                rec._op("trunc", lid, length)

        def make_sync(name: str) -> Callable[[int], None]:
            def r_sync(fd: int) -> None:
                real[name](fd)
                lid = rec._lid_of_fd(fd)
                if lid is not None:
                    rec._op("dirsync" if rec.kind[lid] == "d" else "fsync", lid)
            return r_sync

        def make_rename(name: str) -> Callable[..., None]:
            def r_rename(src: Any, dst: Any, *, src_dir_fd: int | None = None, dst_dir_fd: int | None = None) -> None:
                ps, pd = rec._abs(src, src_dir_fd), rec._abs(dst, dst_dir_fd)
                if not rec._under(ps) and not rec._under(pd):
                    return real[name](src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)
                if not (rec._under(ps) and rec._under(pd)):
                    raise RuntimeError(f"crashfs: rename across the recorded tree: {ps} -> {pd}")
                assert ps is not None and pd is not None
                sd, sn = rec._dir_of(ps)
                dd, dn = rec._dir_of(pd)
                real[name](src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)
                entry = rec._live[sd].pop(sn)
                rec._live[dd][dn] = entry
                rec._op("rename", sd, sn, dd, dn, entry)
            return r_rename

        def make_unlink(name: str, kind: str) -> Callable[..., None]:
            def r_unlink(path: Any, *, dir_fd: int | None = None) -> None:
                p = rec._abs(path, dir_fd)
                if not rec._under(p):
                    return real[name](path, dir_fd=dir_fd)
                assert p is not None
                d, n = rec._dir_of(p)
                real[name](path, dir_fd=dir_fd)
                rec._live[d].pop(n, None)
                rec._op(kind, d, n)
            return r_unlink

        def r_mkdir(path: Any, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
            p = rec._abs(path, dir_fd)
            real["mkdir"](path, mode, dir_fd=dir_fd)
            if rec._under(p) and p != rec.base:
                assert p is not None
                rec._created(p, "d")

        def r_fdopen(fd: int, mode: str = "r", buffering: int = -1, *args: Any, **kwargs: Any) -> Any:
            return r_open(fd, mode, buffering, *args, **kwargs)

        patches: list[tuple[Any, str, Any]] = [
            (builtins, "open", r_open), (io, "open", r_open), (os, "fdopen", r_fdopen),
            (os, "open", r_osopen), (os, "write", r_write), (os, "ftruncate", r_ftruncate),
            (os, "fsync", make_sync("fsync")), (os, "fdatasync", make_sync("fdatasync")),
            (os, "rename", make_rename("rename")), (os, "replace", make_rename("replace")),
            (os, "remove", make_unlink("remove", "unlink")), (os, "unlink", make_unlink("unlink", "unlink")),
            (os, "rmdir", make_unlink("rmdir", "rmdir")), (os, "mkdir", r_mkdir),
        ]
        for mod, name, fn in patches:
            self._patched.append((mod, name, getattr(mod, name)))
            setattr(mod, name, fn)
        return self

    def __exit__(self, *exc: object) -> None:
        for mod, name, fn in reversed(self._patched):
            setattr(mod, name, fn)
        self._patched = []

    # -- self-check ----------------------------------------------------------------------------
    def verify_live(self) -> None:
        """Replay the whole log and compare with the real tree: every name, kind and byte."""
        model = CrashModel(self)
        dirs, files = model.live_state()
        want = model.tree(dirs, files)
        got: dict[str, bytes | None] = {}
        for dirpath, dirnames, filenames in os.walk(self.base):
            rel = os.path.relpath(dirpath, self.base)
            for d in dirnames:
                got[os.path.normpath(os.path.join(rel, d))] = None
            for f in filenames:
                with open(os.path.join(dirpath, f), "rb") as fh:
                    got[os.path.normpath(os.path.join(rel, f))] = fh.read()
        if want != got:
            diff = sorted(k for k in set(want) | set(got) if want.get(k, b"?") != got.get(k, b"?"))
            raise AssertionError(f"crashfs: the recorded log does not reproduce the tree: {diff[:10]}")


class CrashModel:
    """Replays a Recorder's log and yields the trees a power cut could leave."""

    def __init__(self, rec: Recorder) -> None:
        self.rec = rec
        self.ops = rec.ops

    # -- replay ----------------------------------------------------------------------------
    def live_state(self) -> tuple[dict[int, dict[str, tuple[str, int]]], dict[int, bytes]]:
        dirs = {k: dict(v) for k, v in self.rec.initial_dirs.items()}
        files = {k: bytearray(v) for k, v in self.rec.initial_files.items()}
        for op in self.ops:
            _apply_file(files, op)
            for d in _dirs_touched(op):
                _apply_dir(dirs, op, d)
        return dirs, {k: bytes(v) for k, v in files.items()}

    def tree(self, dirs: dict[int, dict[str, tuple[str, int]]], files: dict[int, bytes]) -> dict[str, bytes | None]:
        """{relative path: bytes (a file) or None (a directory)} reachable from the root."""
        out: dict[str, bytes | None] = {}

        def walk(lid: int, prefix: str) -> None:
            for name, (kind, child) in sorted(dirs.get(lid, {}).items()):
                rel = os.path.join(prefix, name) if prefix else name
                if kind == "d":
                    out[rel] = None
                    walk(child, rel)
                else:
                    out[rel] = files.get(child, b"")

        walk(self.rec.root, "")
        return out

    def _tree_key(self, dirs: dict[int, dict[str, tuple[str, int]]],
                  pick: Callable[[int], tuple[bytes, bytes]]) -> tuple[dict[str, bytes | None], str]:
        tree: dict[str, bytes | None] = {}
        h = hashlib.sha1()

        def walk(lid: int, prefix: str) -> None:
            for name, (kind, child) in sorted(dirs.get(lid, {}).items()):
                rel = os.path.join(prefix, name) if prefix else name
                h.update(rel.encode() + b"\0")
                if kind == "d":
                    tree[rel] = None
                    h.update(b"D")
                    walk(child, rel)
                else:
                    data, digest = pick(child)
                    tree[rel] = data
                    h.update(digest)

        walk(self.rec.root, "")
        return tree, h.hexdigest()

    def states(self, variants_per_cut: int = 2, seed: int = 0,
               cuts: Callable[[int, Op], bool] | None = None) -> list["CrashState"]:
        """Crash states at every cut point (after each operation, and before the first),
        deduplicated by content. Per cut: the strict state (files as of their last fsync,
        directories as of theirs), everything the OS had (the live tree), names without
        their unsynced data, data without their unsynced names, and `variants_per_cut`
        random mixes (a random prefix of the unsynced directory operations, a random
        prefix of each file's unsynced writes)."""
        rnd = random.Random(seed)
        dur_dirs = {k: dict(v) for k, v in self.rec.initial_dirs.items()}
        dur_files = {k: bytes(v) for k, v in self.rec.initial_files.items()}
        dur_ver: dict[int, int] = {}
        live_dirs = {k: dict(v) for k, v in self.rec.initial_dirs.items()}
        live_files = {k: bytearray(v) for k, v in self.rec.initial_files.items()}
        pend_dir: dict[int, list[tuple[int, Op]]] = {}
        pend_file: dict[int, list[Op]] = {}
        seen: dict[str, CrashState] = {}
        marks: list[tuple[Any, ...]] = []
        cache: dict[tuple[int, int, int], tuple[bytes, bytes]] = {}

        def content(lid: int, n: int) -> tuple[bytes, bytes]:
            """The file as of its last fsync plus its first n unsynced writes, and a digest."""
            key = (lid, dur_ver.get(lid, 0), n)
            hit = cache.get(key)
            if hit is None:
                data = dur_files.get(lid, b"")
                if n:
                    buf = bytearray(data)
                    for op in pend_file[lid][:n]:
                        _apply_file({lid: buf}, op)
                    data = bytes(buf)
                hit = cache[key] = (data, hashlib.sha1(data).digest())
            return hit

        def emit(cut: int) -> None:
            dir_seqs = sorted({s for ops in pend_dir.values() for s, _ in ops})
            combos: list[tuple[int, str, str]] = [
                (d, dl, f) for d, dl in ((-1, "durable"), (len(self.ops) + 1, "all")) for f in ("durable", "all")]
            for _ in range(variants_per_cut):
                combos.append((rnd.choice(dir_seqs) if dir_seqs else -1, "prefix", "random"))
            for cutoff, dlabel, fmode in combos:
                dirs = {k: dict(v) for k, v in dur_dirs.items()}
                for d, ops in pend_dir.items():
                    for s, op in ops:
                        if s < cutoff:
                            _apply_dir(dirs, op, d)
                chosen: dict[int, tuple[bytes, bytes]] = {}

                def pick(lid: int) -> tuple[bytes, bytes]:
                    got = chosen.get(lid)
                    if got is None:
                        pend = len(pend_file.get(lid, ()))
                        n = 0 if fmode == "durable" else pend if fmode == "all" else rnd.randint(0, pend)
                        got = chosen[lid] = content(lid, n)
                    return got

                tree, key = self._tree_key(dirs, pick)
                if key not in seen:
                    seen[key] = CrashState(cut, tree, list(marks), f"dirs:{dlabel} files:{fmode}", key)

        for i, op in enumerate(self.ops):
            if cuts is None or cuts(i, op):
                emit(i)
            if op.kind == "mark":
                marks.append(op.args)
                continue
            _apply_file(live_files, op)
            for d in _dirs_touched(op):
                _apply_dir(live_dirs, op, d)
                pend_dir.setdefault(d, []).append((i, op))
            if op.kind in ("write", "trunc"):
                pend_file.setdefault(op.args[0], []).append(op)
            elif op.kind == "fsync":
                lid = op.args[0]
                dur_files[lid] = bytes(live_files.get(lid, b""))
                dur_ver[lid] = dur_ver.get(lid, 0) + 1
                pend_file.pop(lid, None)
            elif op.kind == "dirsync":
                lid = op.args[0]
                dur_dirs[lid] = dict(live_dirs.get(lid, {}))
                pend_dir.pop(lid, None)
            elif op.kind == "mkdir":
                dur_dirs.setdefault(op.args[2], {})
        emit(len(self.ops))
        return sorted(seen.values(), key=lambda s: (s.cut, s.label))


@dataclass
class CrashState:
    cut: int  # the state a power cut just before ops[cut] could leave
    tree: dict[str, bytes | None]
    marks: list[tuple[Any, ...]]  # the marks (acknowledgements) made before the cut
    label: str
    key: str
    extra: dict[str, Any] = field(default_factory=dict)

    def materialize(self, target: str | os.PathLike[str]) -> Path:
        """Write this tree under `target` (which must not exist) and return it."""
        target = Path(target)
        target.mkdir(parents=True)
        for rel, data in sorted(self.tree.items()):
            p = target / rel
            if data is None:
                p.mkdir(exist_ok=True)
            else:
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(data)
        return target


def remove_tree(path: str | os.PathLike[str]) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _dirs_touched(op: Op) -> list[int]:
    if op.kind in ("create", "mkdir", "unlink", "rmdir"):
        return [op.args[0]]
    if op.kind == "rename":
        return [op.args[0]] if op.args[0] == op.args[2] else [op.args[0], op.args[2]]
    return []


def _apply_dir(dirs: dict[int, dict[str, tuple[str, int]]], op: Op, d: int) -> None:
    """Apply the part of a directory operation that concerns directory `d`."""
    entries = dirs.setdefault(d, {})
    a = op.args
    if op.kind == "create":
        entries[a[1]] = ("f", a[2])
    elif op.kind == "mkdir":
        entries[a[1]] = ("d", a[2])
        dirs.setdefault(a[2], {})
    elif op.kind in ("unlink", "rmdir"):
        entries.pop(a[1], None)
    elif op.kind == "rename":
        sd, sn, dd, dn, entry = a
        if d == sd:
            if entries.get(sn) == entry:
                entries.pop(sn, None)
        if d == dd:
            entries[dn] = entry


def _apply_file(files: dict[int, Any], op: Op) -> None:
    if op.kind == "write":
        lid, pos, data = op.args
        buf = files.setdefault(lid, bytearray())
        if len(buf) < pos:
            buf.extend(b"\0" * (pos - len(buf)))
        buf[pos : pos + len(data)] = data
    elif op.kind == "trunc":
        lid, size = op.args
        buf = files.setdefault(lid, bytearray())
        if len(buf) > size:
            del buf[size:]
        else:
            buf.extend(b"\0" * (size - len(buf)))
    elif op.kind == "create":
        files.setdefault(op.args[2], bytearray())


def describe(rec: Recorder) -> dict[str, int]:
    """Counts of each kind of recorded operation."""
    out: dict[str, int] = {}
    for op in rec.ops:
        out[op.kind] = out.get(op.kind, 0) + 1
    return out


__all__ = ["Recorder", "CrashModel", "CrashState", "describe", "remove_tree"]

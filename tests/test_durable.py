"""Durable commits: a commit is acknowledged only once its files, its table of contents and
the directory entries are on stable storage (recorded here through os.fsync/rename/remove)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from indexer import durable
from indexer.index import build
from indexer.whooshlib import Snapshot
from tests.conftest import ROOT


class Recorder:
    """Records fsync (with the path of the descriptor), rename and remove calls in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[tuple[str, ...]] = []
        real_fsync, real_rename, real_replace, real_remove = os.fsync, os.rename, os.replace, os.remove

        def fsync(fd: int) -> None:
            self.events.append(("fsync", os.path.realpath(os.readlink(f"/proc/self/fd/{fd}"))))
            real_fsync(fd)

        def rename(src: str, dst: str, *a: object, **k: object) -> None:
            real_rename(src, dst, *a, **k)
            self.events.append(("rename", os.path.realpath(src), os.path.realpath(dst)))

        def replace(src: str, dst: str, *a: object, **k: object) -> None:
            real_replace(src, dst, *a, **k)
            self.events.append(("rename", os.path.realpath(src), os.path.realpath(dst)))

        def remove(path: str, *a: object, **k: object) -> None:
            self.events.append(("remove", os.path.realpath(path)))
            real_remove(path, *a, **k)

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "rename", rename)
        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(os, "remove", remove)

    def index(self, kind: str, pred) -> int:  # type: ignore[no-untyped-def]
        for i, ev in enumerate(self.events):
            if ev[0] == kind and pred(ev):
                return i
        raise AssertionError(f"no {kind} event matching; events: {self.events}")

    def fsynced(self) -> list[str]:
        return [ev[1] for ev in self.events if ev[0] == "fsync"]


def corpus(folder: Path, n: int, start: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + n):
        (folder / f"n{i:04d}.txt").write_text(
            f"关于第{i}轮巡察整改进展情况的通报\n根据部署对编号{i}单位开展巡察，标记码甲{i:05d}乙。\n"
            "中共西安市莲湖区委\n2022年5月6日\n",
            encoding="utf-8",
        )


def test_commit_is_acknowledged_only_after_segments_toc_and_directory_are_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    corpus(src, 12)
    ix = (tmp_path / "ix").resolve()
    rec = Recorder(monkeypatch)
    build([src], ix, workers=1, progress=False, batch_size=5,
          on_commit=lambda n: rec.events.append(("ack", str(n))))
    acks = [i for i, ev in enumerate(rec.events) if ev[0] == "ack"]
    assert len(acks) == 3
    toc_re = re.compile(r"_MAIN_(\d+)\.toc$")
    prev = 0
    for ack in acks:
        window = rec.events[prev:ack]
        offset = prev
        # the rename that published this commit's table of contents
        renames = [i for i, ev in enumerate(window) if ev[0] == "rename" and toc_re.search(ev[2])]
        assert renames, window
        r = offset + renames[-1]
        tmp_name = rec.events[r][1]
        # the TOC's temporary file was fsynced before the rename
        assert ("fsync", tmp_name) in rec.events[offset:r]
        if ack == acks[-1]:
            # every file of every segment the final TOC names was fsynced before it
            synced = {ev[1] for ev in rec.events[:r] if ev[0] == "fsync"}
            for p in ix.iterdir():
                if re.match(r"MAIN_[0-9a-z]+\.", p.name):
                    assert str(p) in synced, p.name
        # the directory was fsynced after the segment files were created and before the
        # rename, and again after the rename, before the commit was acknowledged
        dir_syncs = [i for i in range(offset, ack) if rec.events[i] == ("fsync", str(ix))]
        assert any(i < r for i in dir_syncs) and any(r < i < ack for i in dir_syncs), window
        # old generations are removed only after the new one is durable
        after_sync = min(i for i in dir_syncs if i > r)
        for i in range(offset, ack):
            ev = rec.events[i]
            if ev[0] == "remove" and os.path.dirname(ev[1]) == str(ix):
                assert i > after_sync, (ev, window)
        prev = ack + 1
    snap = Snapshot(ix)
    try:
        assert snap.doc_count == 12
    finally:
        snap.close()


def test_every_segment_file_of_a_build_is_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ix = (tmp_path / "ix").resolve()
    rec = Recorder(monkeypatch)
    build([ROOT / "samples"], ix, workers=1, progress=False)
    synced = set()
    for ev in rec.events:  # a file fsynced under a temporary name counts under its final name
        if ev[0] == "fsync":
            synced.add(ev[1])
        elif ev[0] == "rename" and ev[1] in synced:
            synced.add(ev[2])
    for p in ix.iterdir():
        if re.match(r"MAIN_[0-9a-z]+\.", p.name) or p.name.endswith(".toc") or p.name == "ARCHIVE_VERSION":
            assert str(p) in synced, p.name
    assert str(ix) in synced and str(ix.parent) in synced  # the folder and its entry in the parent
    assert str(ix / "BUILD.lock") in synced
    # the version file is replaced atomically: written under a temporary name, then renamed
    assert any(ev[0] == "rename" and ev[2] == str(ix / "ARCHIVE_VERSION") for ev in rec.events)


def test_an_incremental_build_with_nothing_new_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    corpus(src, 3)
    ix = tmp_path / "ix"
    build([src], ix, workers=1, progress=False)
    rec = Recorder(monkeypatch)
    build([src], ix, workers=1, progress=False)
    assert not [ev for ev in rec.events if ev[0] == "rename"]


def test_atomic_write_and_failed_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"old")
    durable.atomic_write(target, b"new")
    assert target.read_bytes() == b"new"

    def failing(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing)
    with pytest.raises(OSError):
        durable.atomic_write(target, b"newer")
    assert target.read_bytes() == b"new"  # the old content, and no temporary file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


# -- a full disk -----------------------------------------------------------------------

WRITE_LAYER = '''
import builtins, errno, os

class _Full:
    """A disk with `budget` bytes free under `root`: writes past it fail with ENOSPC."""
    def __init__(self, root, budget):
        self.root, self.budget, self.written = os.path.realpath(root), budget, 0
        self.real_open = builtins.open
    def open(self, file, mode="r", *args, **kwargs):
        f = self.real_open(file, mode, *args, **kwargs)
        if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+") and \\
                os.path.realpath(os.fsdecode(file)).startswith(self.root + os.sep):
            return _Writer(f, self)
        return f

class _Writer:
    def __init__(self, f, disk):
        self._f, self._disk = f, disk
    def write(self, data):
        disk = self._disk
        if disk.budget is not None and disk.written + len(data) > disk.budget:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        disk.written += len(data)
        return self._f.write(data)
    def __getattr__(self, name):
        return getattr(self._f, name)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        self._f.close()
'''


def full_disk(root: Path, budget: int | None):  # type: ignore[no-untyped-def]
    ns: dict[str, object] = {}
    exec(WRITE_LAYER, ns)
    return ns["_Full"](str(root), budget)  # type: ignore[operator]


def index_state(ix: Path) -> tuple[list[str], int]:
    from indexer.search import Archive, SearchRequest

    snap = Snapshot(ix)
    try:
        ids = sorted(snap.stored(d)["id"] for d in snap.live_docs())
    finally:
        snap.close()
    archive = Archive(ix)
    try:
        total = archive.search(SearchRequest(q="巡察", per_page=5)).total
    finally:
        archive.close()
    return ids, total


def test_a_full_disk_stops_the_build_and_keeps_the_last_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from indexer.check import check
    from indexer.index import BuildError

    src = tmp_path / "src"
    corpus(src, 10)
    ix = tmp_path / "ix"
    build([src], ix, workers=1, progress=False)
    corpus(src, 15, start=10)
    # how much an unhindered second build writes
    probe = tmp_path / "probe"
    shutil.copytree(ix, probe)
    disk = full_disk(probe, None)
    monkeypatch.setattr(builtins, "open", disk.open)
    build([src], probe, workers=1, progress=False, batch_size=4)
    monkeypatch.undo()
    total = disk.written
    assert total > 10_000
    before_ids, before_total = index_state(ix)
    assert len(before_ids) == 10 and before_total == 10
    failures = 0
    for k, frac in enumerate((0.0, 0.02, 0.2, 0.45, 0.7, 0.9, 0.995)):
        work = tmp_path / f"ix{k}"
        shutil.copytree(ix, work)
        disk = full_disk(work, int(total * frac))
        names_before = set(os.listdir(work))
        monkeypatch.setattr(builtins, "open", disk.open)
        try:
            build([src], work, workers=1, progress=False, batch_size=4)
        except BuildError as exc:
            failures += 1
            msg = str(exc)
            assert "disk is full" in msg and "run the same build again" in msg, msg
        finally:
            monkeypatch.undo()
        # the last committed state is intact and searchable; no partial file is left
        ids, hits = index_state(work)
        assert set(before_ids) <= set(ids) and len(ids) == len(set(ids)) and hits == len(ids)
        report = check(work)
        assert report.ok, report.problems
        assert not [n for n in report.notes if "of no committed generation" in n], report.notes
        leftovers = set(os.listdir(work)) - names_before
        assert all(re.match(r"(MAIN_[0-9a-z]+\.|_MAIN_\d+\.toc$)", n) for n in leftovers), leftovers
        assert not (work / "MAIN.tmp").exists()
        # space freed: a rerun completes, no duplicates
        if k % 3 == 1:
            build([src], work, workers=1, progress=False, batch_size=4)
            ids, hits = index_state(work)
            assert len(ids) == 25 == len(set(ids)) == hits
            assert check(work).ok
    assert failures >= 6


def test_a_full_disk_exits_with_code_2_and_a_clear_message(tmp_path: Path) -> None:
    import subprocess
    import sys

    src = tmp_path / "src"
    corpus(src, 6)
    ix = tmp_path / "ix"
    build([src], ix, workers=1, progress=False)
    corpus(src, 6, start=6)
    script = WRITE_LAYER + f'''
import sys
sys.path.insert(0, {str(ROOT)!r})
builtins.open = _Full({str(ix)!r}, 3000).open
from indexer.__main__ import main
sys.exit(main(["build", {str(src)!r}, "--index", {str(ix)!r}, "--workers", "1"]))
'''
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "error: the disk is full" in r.stderr and "Traceback" not in r.stderr, r.stderr
    ids, _ = index_state(ix)
    assert len(ids) == 6
    ok = subprocess.run([sys.executable, "-m", "indexer", "build", str(src), "--index", str(ix)],
                        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert len(index_state(ix)[0]) == 12


# -- read-only serving ------------------------------------------------------------------

RO_URLS = ("/?q=巡察", "/?q=整改&sort=date", "/api/search?q=巡察整改", "/api/search?q=莲湖区巡察整改进展",
           "/api/search?q=公告&region=陕西省&from=2015-01-01", "/regions", "/export.csv?q=巡察", "/feed.atom?q=整改")


def read_only_copy(demo_index: Path, tmp_path: Path) -> Path:
    """A copy of an index whose folder and files are read-only (mode 555/444), without the
    build lock: as a backup mounted read-only would be."""
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o755)
    ix = ro / "ix"
    shutil.copytree(demo_index, ix, ignore=shutil.ignore_patterns("BUILD.lock"))
    for p in ix.iterdir():
        p.chmod(0o444)
    ix.chmod(0o555)
    return ix


def test_serving_a_read_only_index_writes_nothing_there(demo_index: Path, tmp_path: Path) -> None:
    """Every read path (searches of each kind, documents, regions, exports, feeds, stats,
    check, a reopen) run under the recorder of tests/crashfs.py: no file is created,
    written, renamed or removed in the index folder, and no lock or temporary file."""
    from app import create_app
    from indexer.check import check
    from indexer.search import Archive, SearchRequest
    from tests.crashfs import Recorder as FsRecorder

    ix = read_only_copy(demo_index, tmp_path)
    before = sorted(os.listdir(ix))
    opened_for_write: list[str] = []
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    with FsRecorder(ix) as rec:
        os_open = os.open  # the recorder's: it records what is created or truncated

        def spy_open(path, flags, *a, **k):  # type: ignore[no-untyped-def]
            # ... and this catches any descriptor opened for writing, written or not
            if flags & write_flags and os.path.abspath(path).startswith(str(ix)):
                opened_for_write.append(str(path))
            return os_open(path, flags, *a, **k)

        os.open = spy_open  # type: ignore[assignment]
        try:
            archive = Archive(ix)
            for q in ("巡察", "整改 -巡视", "莲湖区巡察整改进展", "文号:国办发〔2019〕3号"):
                res = archive.search(SearchRequest(q=q, per_page=5))
            archive.search(SearchRequest(q="公告", sort="date", region="陕西省"))
            assert archive.stats()["documents"] > 40
            archive._checked = 0.0  # the next call asks whether a build committed meanwhile
            assert archive.snapshot() is not None
            client = create_app({"INDEX_DIR": str(ix), "TESTING": True}).test_client()
            for url in RO_URLS:
                resp = client.get(url)
                assert resp.status_code == 200, (url, resp.status_code)
            doc_id = client.get("/api/search?q=巡察").get_json()["hits"][0]["id"]
            assert client.get(f"/doc/{doc_id}").status_code == 200
            assert client.get(f"/api/doc/{doc_id}").status_code == 200
            assert check(ix).ok
        finally:
            os.open = os_open  # type: ignore[assignment]
    assert res.total >= 0
    assert rec.ops == [], [(op.kind, op.args[:2]) for op in rec.ops[:5]]
    assert opened_for_write == []
    assert sorted(os.listdir(ix)) == before


def _capless() -> list[str] | None:
    """A command prefix under which the OS refuses writes to a read-only file: nothing for
    an unprivileged user; for root, setpriv without capabilities (root without
    CAP_DAC_OVERRIDE obeys file modes); None when neither is available."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    probe = subprocess.run([setpriv, "--bounding-set=-all", "--inh-caps=-all", "true"], capture_output=True)
    return [setpriv, "--bounding-set=-all", "--inh-caps=-all"] if probe.returncode == 0 else None


def test_serve_search_and_check_on_a_read_only_folder_the_os_enforces(demo_index: Path, tmp_path: Path) -> None:
    """The real thing: processes that cannot write to the folder (the OS says no) serve it
    (waitress, the same answers as the writable index), search, check and back it up; a
    build stops with a clear message and exit code 2."""
    import json
    import socket
    import sys
    import time
    import urllib.request

    prefix = _capless()
    if prefix is None:
        pytest.skip("running as root without setpriv: cannot make the OS refuse writes to the folder")
    ix = read_only_copy(demo_index, tmp_path)
    py = [*prefix, sys.executable, "-m", "indexer"]
    probe = subprocess.run([*prefix, sys.executable, "-c", f"open({str(ix / 'probe')!r}, 'w')"],
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "Permission denied" in probe.stderr  # the folder really is read-only

    r = subprocess.run([*py, "check", "--index", str(ix)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([*py, "search", "巡察", "--index", str(ix), "--json"], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["total"] > 0

    bk = subprocess.run([*py, "backup", str(tmp_path / "copy"), "--index", str(ix)], capture_output=True,
                        text=True, cwd=ROOT, timeout=120)
    assert bk.returncode == 0, bk.stderr

    src = tmp_path / "src"
    corpus(src, 2)
    b = subprocess.run([*py, "build", str(src), "--index", str(ix)], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert b.returncode == 2 and "read-only" in b.stderr and "Traceback" not in b.stderr, b.stderr

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*py, "serve", "--index", str(ix), "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        from app import create_app

        writable = create_app({"INDEX_DIR": str(demo_index), "TESTING": True}).test_client()
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q=a", timeout=5).read()
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.3)
        for url in RO_URLS:
            quoted = urllib.request.quote(url, safe="/?=&:-")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{quoted}", timeout=30) as resp:
                assert resp.status == 200, url
                body = resp.read()
            if url.startswith("/api/"):
                got, want = json.loads(body), writable.get(url).get_json()
                assert got["total"] == want["total"] > 0 and [h["id"] for h in got["hits"]] == \
                    [h["id"] for h in want["hits"]], url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert sorted(os.listdir(ix)) == sorted(n for n in os.listdir(demo_index) if n != "BUILD.lock")


# -- an atomic --rebuild ------------------------------------------------------------------


def test_a_crash_part_way_through_rebuild_leaves_the_old_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The new index is built beside the old one and switched to once complete: a build
    that dies after some of its batches leaves the old index, whole and searchable; the
    rerun switches to the new one."""
    from indexer import whooshlib
    from indexer.check import check
    from indexer.search import Archive

    src = tmp_path / "src"
    corpus(src, 10)
    ix = tmp_path / "ix"
    build([src], ix, workers=1, progress=False, batch_size=4)
    before = index_state(ix)
    serving = Archive(ix)  # a server with the old index open
    serving.snapshot()
    for f in sorted(src.iterdir())[:4]:
        f.unlink()
    corpus(src, 3, start=20)  # the rebuild's sources: 6 old pages and 3 new ones

    commits = {"n": 0}
    real_commit = whooshlib.commit

    def dies_at_the_third_commit(w):  # type: ignore[no-untyped-def]
        commits["n"] += 1
        if commits["n"] == 3:
            raise KeyboardInterrupt("the machine went down")
        real_commit(w)

    monkeypatch.setattr(whooshlib, "commit", dies_at_the_third_commit)
    with pytest.raises(KeyboardInterrupt):
        build([src], ix, rebuild=True, workers=1, progress=False, batch_size=2)
    monkeypatch.undo()
    assert commits["n"] == 3  # two batches of the rebuild had been committed
    assert index_state(ix) == before and len(before[0]) == 10
    assert check(ix).ok
    serving._checked = 0.0
    assert len(index_state(ix)[0]) == 10 and serving.stats()["documents"] == 10

    report = build([src], ix, rebuild=True, workers=1, progress=False, batch_size=2)
    assert report.added == 9 and not report.failed
    ids, hits = index_state(ix)
    assert len(ids) == 9 == len(set(ids)) and hits == 9
    assert check(ix).ok
    assert not (ix / whooshlib.STAGING).exists()
    assert not [n for n in os.listdir(ix) if n.endswith(".tmp") or n.startswith("_MAIN_") and
                n != f"_MAIN_{whooshlib.open_index(ix).latest_generation()}.toc"]
    serving._checked = 0.0
    assert serving.stats()["documents"] == 9
    serving.close()


def test_a_rebuild_of_a_folder_without_an_index_commits_batch_by_batch(tmp_path: Path) -> None:
    """With nothing to keep, --rebuild builds in place: a crash loses at most one batch."""
    src = tmp_path / "src"
    corpus(src, 6)
    ix = tmp_path / "ix"
    seen: list[int] = []

    def count(_n: int) -> None:
        seen.append(len(index_state(ix)[0]))

    build([src], ix, rebuild=True, workers=1, progress=False, batch_size=2, on_commit=count)
    assert seen == [2, 4, 6]


def test_a_commit_that_deletes_the_generation_being_opened_is_no_damage(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A server opens a snapshot while a build commits a merge that deletes the files of
    the generation it read: the snapshot opens the newer generation (it used to raise
    IndexUnreadable, a 503 saying the index is damaged)."""
    from indexer import whooshlib

    src = tmp_path / "src"
    corpus(src, 4)
    ix = tmp_path / "ix"
    build([src], ix, workers=1, progress=False, batch_size=1)  # four one-notice segments
    real_crc = whooshlib.crc32_file
    state = {"calls": 0, "gone": None}

    def commit_meanwhile(path, **kw):  # type: ignore[no-untyped-def]
        state["calls"] += 1
        if state["calls"] == 1:
            corpus(src, 2, start=4)
            build([src], ix, workers=1, progress=False, batch_size=10)  # merges the four away
            state["gone"] = not Path(path).exists()
        return real_crc(path, **kw)

    monkeypatch.setattr(whooshlib, "crc32_file", commit_meanwhile)
    snap = Snapshot(ix)
    try:
        assert state["gone"] is True, "the test build did not delete the generation being opened"
        assert snap.doc_count == 6 and snap.is_current()
    finally:
        snap.close()


def test_an_open_snapshot_still_answers_after_a_commit_deletes_its_files(tmp_path: Path) -> None:
    """A server's snapshot, opened before a commit that merges its segments away, answers
    its next searches and document reads (text and stored fields were read by name on
    first use, and failed with 'damaged' until the server noticed the new generation)."""
    from indexer.search import Archive, SearchRequest

    src = tmp_path / "src"
    corpus(src, 4)
    ix = tmp_path / "ix"
    build([src], ix, workers=1, progress=False, batch_size=1)
    archive = Archive(ix)
    snap = archive.snapshot()
    files = {seg.segment_id for seg in snap.segments}
    corpus(src, 2, start=4)
    build([src], ix, workers=1, progress=False, batch_size=10)
    assert not any(n.startswith(tuple(files)) for n in os.listdir(ix)), "the merge did not delete the old files"
    res = archive.search(SearchRequest(q="巡察", per_page=10))  # same snapshot (checked once a second)
    assert archive.snapshot() is snap
    assert res.total == 4 and all("<mark>" in h.snippet for h in res.hits)
    assert all(snap.stored(d)["id"] for d in snap.live_docs())
    archive._checked = 0.0
    assert archive.search(SearchRequest(q="巡察", per_page=10)).total == 6
    archive.close()

"""Hot backup (issue 12): `python -m indexer backup DEST` copies one committed generation,
exactly its files, durably, while searches are answered and a build commits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from indexer import whooshlib
from indexer.backup import BackupError, backup
from indexer.check import check
from indexer.index import REC_HASH, REC_ID, build
from indexer.search import Archive, SearchRequest
from tests.conftest import ROOT

QUERIES = ("巡察", "整改", "通知", "公告", "2022")


def answers(index: Path) -> dict[str, tuple[int, list[str]]]:
    archive = Archive(index)
    try:
        out = {}
        for q in QUERIES:
            res = archive.search(SearchRequest(q=q, sort="date", per_page=100))
            out[q] = (res.total, [h.id for h in res.hits])
        return out
    finally:
        archive.close()


def contents(index: Path) -> dict[str, str]:
    snap = whooshlib.Snapshot(index)
    try:
        return {rec[REC_ID]: rec[REC_HASH] for _d, rec in snap.iter_records()}
    finally:
        snap.close()


def corpus(folder: Path, n: int, start: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + n):
        (folder / f"n{i:04d}.txt").write_text(
            f"关于第{i}轮巡察整改进展情况的通报\n根据部署对编号{i}单位开展巡察，标记码甲{i:05d}乙。\n"
            "中共西安市莲湖区委\n2022年5月6日\n", encoding="utf-8")


def expected_files(index: Path) -> set[str]:
    """The latest TOC, the files its segments' checksum files name, those and the version."""
    from whoosh.index import TOC

    st = whooshlib.storage(index)
    gen = TOC._latest_generation(st, whooshlib.INDEX_NAME)
    names = {TOC._filename(whooshlib.INDEX_NAME, gen), "ARCHIVE_VERSION"}
    for seg in TOC.read(st, whooshlib.INDEX_NAME, gen).segments:
        sid = seg.segment_id()
        names.add(sid + whooshlib.SUMS_EXT)
        names.update(whooshlib.read_sums(index, sid) or {})
    return names


def test_a_backup_is_exactly_the_committed_generation_fsynced_and_answers_the_same(
        demo_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ix = tmp_path / "ix"
    shutil.copytree(demo_index, ix)
    # What a build leaves besides the committed generation must not be copied.
    (ix / "MAIN_zzzzleftover.trm").write_bytes(b"half a segment")
    (ix / "_MAIN_99.toc.123.4").write_bytes(b"a temporary toc")
    (ix / "BUILD.lock").write_text("123")
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    dest = tmp_path / "backups" / "b1"
    report = backup(ix, dest)
    monkeypatch.undo()
    assert report.attempts == 1
    assert set(os.listdir(dest)) == expected_files(ix) == set(report.files)
    assert report.documents == contents(ix).__len__() > 0
    for name in report.files:
        assert (dest / name).read_bytes() == (ix / name).read_bytes()
        assert str(dest.parent / f".{dest.name}.partial-{os.getpid()}" / name) in synced or \
            str(dest / name) in synced, f"{name} was not fsynced"
    assert str(dest.parent) in synced  # the new folder's name in its parent
    assert not [n for n in os.listdir(dest.parent) if n != dest.name]  # no partial folder left
    assert check(dest).ok
    assert answers(dest) == answers(ix)
    assert contents(dest) == contents(ix)


def test_a_file_vanishing_mid_copy_restarts_from_the_newer_generation(tmp_path: Path) -> None:
    src, ix = tmp_path / "src", tmp_path / "ix"
    corpus(src, 4)
    build([src], ix, workers=1, progress=False, batch_size=1)  # four one-notice segments
    first = expected_files(ix)
    state = {"calls": 0, "vanished": None}

    def commit_meanwhile(name: str) -> None:
        state["calls"] += 1
        if state["calls"] == 2:
            # A build commits now: its merge folds the four small segments into one and
            # deletes their files, the one about to be copied among them.
            corpus(src, 2, start=4)
            build([src], ix, workers=1, progress=False, batch_size=10)
            state["vanished"] = not (ix / name).exists()

    dest = tmp_path / "b"
    report = backup(ix, dest, before_copy=commit_meanwhile)
    assert state["vanished"] is True, "the test build did not delete the generation being copied"
    assert report.attempts == 2
    assert set(os.listdir(dest)) == expected_files(ix) != first
    assert check(dest).ok
    assert contents(dest) == contents(ix) and len(contents(dest)) == 6
    assert answers(dest) == answers(ix)


def test_backups_taken_while_a_build_commits_and_searches_run(tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    build([ROOT / "samples" / "text"], ix, workers=1, progress=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "indexer", "build", str(ROOT / "samples"), "--index", str(ix), "--batch-size", "2",
         "--workers", "1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    archive = Archive(ix)
    taken: list[tuple[Path, Any]] = []
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            archive.clear_caches()
            archive.search(SearchRequest(q="巡察", per_page=5))  # serve answering meanwhile
            dest = tmp_path / f"b{len(taken)}"
            taken.append((dest, backup(ix, dest)))
    finally:
        proc.wait(timeout=120)
        archive.close()
    assert proc.returncode == 0, proc.stderr
    assert len(taken) >= 2, "no backup was taken while the build ran"
    generations = {r.generation for _d, r in taken}
    assert len(generations) >= 2, "every backup saw the same generation: the build did not commit meanwhile"
    print(f"\n{len(taken)} backups during the build, {len(generations)} generations, "
          f"{sum(r.attempts > 1 for _d, r in taken)} restarted after a commit deleted files")
    # Check a spread of them (each check reads every posting list).
    step = max(1, len(taken) // 6)
    for dest, report in taken[::step] + taken[-1:]:
        result = check(dest)
        assert result.ok, (dest, result.problems[:3])
        assert len(contents(dest)) == report.documents == result.documents
        answers(dest)
    final = tmp_path / "final"
    backup(ix, final)
    assert answers(final) == answers(ix) and contents(final) == contents(ix)


def test_backup_refuses_a_used_destination_and_a_missing_index(demo_index: Path, tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    with pytest.raises(BackupError, match="not empty"):
        backup(demo_index, used)
    assert os.listdir(used) == ["keep.txt"]
    with pytest.raises(BackupError, match="no index"):
        backup(tmp_path / "nothing", tmp_path / "b")
    with pytest.raises(BackupError, match="inside"):
        backup(demo_index, demo_index / "b")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert backup(demo_index, empty).documents > 0  # an empty folder is fine
    assert check(empty).ok


def test_backup_cli_and_restore(demo_index: Path, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "indexer", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)

    dest = tmp_path / "b"
    r = run("backup", str(dest), "--index", str(demo_index), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["documents"] == len(contents(demo_index)) and out["attempts"] == 1
    again = run("backup", str(dest), "--index", str(demo_index))
    assert again.returncode == 2 and "not empty" in again.stderr and "Traceback" not in again.stderr
    # Restore as the README says: the backup folder is an index; move it into place and
    # check it, then an incremental build catches up (nothing to do here).
    restored = tmp_path / "index"
    shutil.copytree(dest, restored)
    assert run("check", "--index", str(restored)).returncode == 0
    b = run("build", str(ROOT / "samples"), "--index", str(restored), "--json")
    assert b.returncode == 0, b.stderr
    assert json.loads(b.stdout)["added"] == 0
    assert answers(restored) == answers(demo_index)

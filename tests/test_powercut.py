"""Power cuts (issue 12): every disk state a power cut could leave during a build opens,
answers queries and holds every acknowledged commit; a rerun completes the job.

The method is that of ALICE (Pillai et al., OSDI 2014) and LazyFS: a first build and a
second, incremental one (a page changed, one added, one removed with --prune) run in this
process through tests/crashfs.py, which records every file creation, write (as it reaches
the OS), truncation, fsync, rename, unlink, mkdir and rmdir under the index's parent
folder, plus a mark at each acknowledged commit (`on_commit`). From the log, crash states
are built at every cut point: each file as of its last fsync plus a prefix of its later
writes, each directory as of its last fsync plus a prefix of its later changes. Each
distinct state is written to a folder and opened with the archive.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from indexer import whooshlib
from indexer.check import check
from indexer.index import REC_HASH, REC_ID, build
from indexer.search import Archive, SearchRequest
from tests.conftest import ROOT
from tests.crashfs import CrashModel, CrashState, Recorder, describe

QUERIES = ("巡察", "整改", "通知", "公告", "示例")
MIN_STATES = 200
BATCH = 2


def _corpus(src: Path) -> list[Path]:
    src.mkdir(parents=True)
    picks = sorted((ROOT / "samples" / "html").glob("*.html"))[:4] + sorted((ROOT / "samples" / "text").glob("*.txt"))[:3]
    for f in picks:
        shutil.copy(f, src / f.name)
    return picks


def _second_round(src: Path) -> None:
    """Between the two builds: one page changed, one removed, one added."""
    first = sorted(src.glob("*.txt"))[0]
    lines = first.read_text(encoding="utf-8").split("\n")
    lines.insert(4, "补充说明：该项整改已于近日全部完成，现一并通报。")
    first.write_text("\n".join(lines), encoding="utf-8")
    os.remove(sorted(src.glob("*.html"))[1])
    shutil.copy(sorted((ROOT / "samples" / "text").glob("*.txt"))[4], src)


def _contents(index: Path) -> dict[str, str]:
    """id -> content hash of every live notice; fails on an id that is live twice."""
    snap = whooshlib.Snapshot(index)
    try:
        out: dict[str, str] = {}
        for _d, rec in snap.iter_records():
            assert rec[REC_ID] not in out, f"{rec[REC_ID]} is live twice"
            out[rec[REC_ID]] = rec[REC_HASH]
        return out
    finally:
        snap.close()


def _answers(index: Path) -> dict[str, tuple[int, tuple[str, ...]]]:
    archive = Archive(index)
    try:
        out = {}
        for q in QUERIES:
            res = archive.search(SearchRequest(q=q, exact=True, sort="date", per_page=100))
            out[q] = (res.total, tuple(sorted(h.id for h in res.hits)))
        return out
    finally:
        archive.close()


def _check_key(index: Path) -> str:
    """What `check` reads: the version file, the latest table of contents and the files
    of the segments it names (names and bytes). Other files (locks, Whoosh's scratch
    folder, temporary names, segment files of no committed generation) are only listed
    as leftovers, so states that differ only in those are checked once."""
    from whoosh.index import TOC

    st = whooshlib.storage(index)
    gen = TOC._latest_generation(st, whooshlib.INDEX_NAME)
    toc = TOC._filename(whooshlib.INDEX_NAME, gen)
    try:
        prefixes = tuple(seg.segment_id() + "." for seg in TOC.read(st, whooshlib.INDEX_NAME, gen).segments)
    except Exception:
        prefixes = ("MAIN_",)  # an unreadable TOC: key on every segment file
    h = hashlib.sha1()
    for name in sorted(os.listdir(index)):
        if name in ("ARCHIVE_VERSION", toc) or name.startswith(prefixes):
            h.update(name.encode() + b"\0" + hashlib.sha1((index / name).read_bytes()).digest())
    return h.hexdigest()


def _memory_dir(fallback: Path) -> Path:
    """A folder in memory (/dev/shm) when there is one: the recording is in-process and
    the crash states are thrown away, so nothing is gained by waiting for a disk's
    fsyncs; else `fallback`."""
    import tempfile

    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="powercut-", dir=shm))
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def _record(root: Path, second_round: bool = True) -> dict[str, Any]:
    """Run the builds under the recorder; per commit, what the index held and answered."""
    src = root / "src"
    _corpus(src)
    ws = root / "ws"
    ws.mkdir()
    index = ws / "index"
    commits: list[dict[str, Any]] = [{"contents": {}, "answers": None}]  # commit 0: nothing yet

    def acknowledged(_n: int) -> None:
        rec.mark("ack", len(commits))
        commits.append({"contents": _contents(index), "answers": _answers(index)})

    reports = []
    with Recorder(ws) as rec:
        reports.append(build([src], index, workers=1, progress=False, batch_size=BATCH, on_commit=acknowledged))
        if second_round:
            rec.mark("build", 2)
            _second_round(src)
            reports.append(build([src], index, workers=1, progress=False, batch_size=BATCH, prune=True,
                                 on_commit=acknowledged))
    rec.verify_live()
    return {"src": src, "rec": rec, "commits": commits, "final": commits[-1], "reports": reports}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = _memory_dir(tmp_path_factory.mktemp("powercut"))
    try:
        out = _record(root)
        r1, r2 = out["reports"]
        assert r1.added >= 6 and not r1.failed
        assert r2.added == 1 and r2.updated == 1 and r2.deleted >= 1 and not r2.failed
        assert len(out["commits"]) >= 5, "the corpus must give several commits"
        yield out
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def scratch(tmp_path: Path) -> Any:
    d = _memory_dir(tmp_path / "states")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_the_recorder_sees_the_writes_and_fsyncs_of_a_build(recorded: dict[str, Any]) -> None:
    counts = describe(recorded["rec"])
    assert counts["fsync"] >= 10 and counts["dirsync"] >= 5 and counts["rename"] >= 5 and counts["write"] >= 20
    assert counts["mark"] == len(recorded["commits"])  # one mark per commit, one for the second build


def test_every_power_cut_state_opens_and_keeps_every_acknowledged_commit(recorded: dict[str, Any],
                                                                         scratch: Path) -> None:
    t0 = time.monotonic()
    rec: Recorder = recorded["rec"]
    commits = recorded["commits"]
    states = CrashModel(rec).states(variants_per_cut=2, seed=12)
    checked: dict[str, bool] = {}
    reruns = 0
    rerun_every = max(1, len(states) // 40)
    opened = absent = 0
    failures: list[str] = []
    for i, state in enumerate(states):
        acked = max((m[1] for m in state.marks if m[0] == "ack"), default=0)
        where = scratch / f"s{i}"
        state.materialize(where)
        index = where / "index"
        try:
            _check_state(state, index, acked, commits, checked)
            if i % rerun_every == 0 or i == len(states) - 1:
                reruns += 1
                report = build([recorded["src"]], index, workers=1, progress=False, batch_size=BATCH, prune=True)
                assert not report.failed, report.failed
                assert _contents(index) == recorded["final"]["contents"], "the rerun did not reach the final index"
                assert _answers(index) == recorded["final"]["answers"]
                assert check(index).ok
            if whooshlib.exists(index):
                opened += 1
            else:
                absent += 1
        except Exception as exc:
            failures.append(f"cut {state.cut} ({state.label}, {acked} commits acknowledged, files "
                            f"{sorted(n for n in state.tree if n.startswith('index/'))}): {type(exc).__name__}: {exc}")
        finally:
            shutil.rmtree(where, ignore_errors=True)
    took = time.monotonic() - t0
    print(f"\npower cut: {len(states)} crash states checked ({opened} with an index, {absent} before one), "
          f"{len(checked)} distinct generations through check, {reruns} reruns of the build, "
          f"{len(rec.ops)} recorded operations ({describe(rec)}), {len(commits) - 1} commits, {took:.1f}s")
    assert not failures, "\n".join(failures[:10])
    assert len(states) >= MIN_STATES
    assert reruns >= 10


def _check_state(state: CrashState, index: Path, acked: int, commits: list[dict[str, Any]],
                 checked: dict[str, bool]) -> None:
    if not whooshlib.exists(index):
        assert acked == 0, "no index, although a commit was acknowledged"
        return
    contents = _contents(index)
    # The state is one committed generation: the last one acknowledged, or a later one
    # whose commit was durable but not yet acknowledged when the power went.
    matches = [j for j in range(acked, len(commits)) if commits[j]["contents"] == contents]
    assert matches, (f"the index holds {len(contents)} notices, not those of commit {acked} "
                     f"({len(commits[acked]['contents'])}) or a later one")
    j = matches[0]
    if commits[j]["answers"] is not None:
        assert _answers(index) == commits[j]["answers"], "queries answer differently from the committed index"
    else:
        _answers(index)  # the empty index of a first build answers (with nothing)
    key = _check_key(index)
    if key not in checked:
        report = check(index)
        checked[key] = report.ok
        assert report.ok, report.problems[:3]


def test_the_power_cut_check_catches_a_build_that_does_not_fsync(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The same check over a build whose fsyncs are switched off must find a state that
    loses an acknowledged commit: the check can fail, and the fsyncs are what it rests on."""
    from indexer import durable

    for name in ("fsync_fd", "fsync_file", "fsync_dir", "fsync_path"):
        monkeypatch.setattr(durable, name, lambda *_a, **_k: None)
    root = _memory_dir(tmp_path / "nofsync")
    try:
        out = _record(root, second_round=False)
        assert describe(out["rec"]).get("fsync", 0) == 0
        lost = None
        for i, state in enumerate(CrashModel(out["rec"]).states(variants_per_cut=0)):
            acked = max((m[1] for m in state.marks if m[0] == "ack"), default=0)
            if not acked:
                continue
            index = state.materialize(root / f"s{i}") / "index"
            try:
                _check_state(state, index, acked, out["commits"], {})
            except Exception as exc:  # what a power cut would do to this build
                lost = f"cut {state.cut}: {type(exc).__name__}: {exc}"
                break
        assert lost is not None, "no crash state lost an acknowledged commit of a build without fsync"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_every_power_cut_state_of_a_rebuild_holds_the_old_or_the_new_index(tmp_path: Path) -> None:
    """`build --rebuild` over an index, recorded the same way: at every cut the index is the
    old one, complete, or the new one, complete (the new one once acknowledged); never
    empty, never a mix; a rerun of the rebuild completes."""
    t0 = time.monotonic()
    root = _memory_dir(tmp_path / "rebuild")
    try:
        src = root / "src"
        _corpus(src)
        ws = root / "ws"
        ws.mkdir()
        index = ws / "index"
        build([src], index, workers=1, progress=False, batch_size=BATCH)
        old = {"contents": _contents(index), "answers": _answers(index)}
        _second_round(src)
        with Recorder(ws) as rec:
            build([src], index, rebuild=True, workers=1, progress=False, batch_size=BATCH,
                  on_commit=lambda n: rec.mark("ack", n))
        rec.verify_live()
        new = {"contents": _contents(index), "answers": _answers(index)}
        assert old["contents"] != new["contents"] and old["contents"] and new["contents"]
        states = CrashModel(rec).states(variants_per_cut=1, seed=4)
        checked: dict[str, bool] = {}
        seen = {"old": 0, "new": 0}
        reruns = 0
        rerun_every = max(1, len(states) // 12)
        failures: list[str] = []
        for i, state in enumerate(states):
            acked = any(m[0] == "ack" for m in state.marks)
            where = state.materialize(root / f"s{i}")
            ix = where / "index"
            try:
                assert whooshlib.exists(ix), "no index"
                got = _contents(ix)
                which = "new" if got == new["contents"] else "old" if got == old["contents"] else None
                assert which is not None, f"{len(got)} notices: neither the old index nor the new one"
                assert not (acked and which == "old"), "the rebuild was acknowledged but the old index is back"
                seen[which] += 1
                assert _answers(ix) == (new if which == "new" else old)["answers"]
                key = _check_key(ix)
                if key not in checked:
                    report = check(ix)
                    checked[key] = report.ok
                    assert report.ok, report.problems[:3]
                if i % rerun_every == 0:
                    reruns += 1
                    build([src], ix, rebuild=True, workers=1, progress=False, batch_size=BATCH)
                    assert _contents(ix) == new["contents"] and check(ix).ok
                    assert not (ix / whooshlib.STAGING).exists()
            except Exception as exc:
                failures.append(f"cut {state.cut} ({state.label}, acknowledged={acked}): {type(exc).__name__}: {exc}")
            finally:
                shutil.rmtree(where, ignore_errors=True)
        print(f"\nrebuild power cut: {len(states)} crash states checked ({seen['old']} old index, {seen['new']} new), "
              f"{reruns} reruns, {len(rec.ops)} recorded operations, {time.monotonic() - t0:.1f}s")
        assert not failures, "\n".join(failures[:10])
        assert len(states) >= 100 and seen["old"] and seen["new"] and reruns >= 5
    finally:
        shutil.rmtree(root, ignore_errors=True)

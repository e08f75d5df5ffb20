"""Build: incremental, crash-safe, one writer, bad input reported and skipped."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from indexer.index import BuildError, BuildLock, build
from indexer.search import Archive, SearchRequest
from indexer.whooshlib import Snapshot
from tests.conftest import ROOT

PY = sys.executable


def notice_text(i: int) -> str:
    return (
        f"中共示例县委关于第{i}轮巡察整改进展情况的通报\n"
        f"根据县委统一部署，县委第{i % 7 + 1}巡察组对编号{i}单位开展了常规巡察。"
        f"现将整改进展情况予以公布。唯一标记码甲{i:05d}乙。\n"
        "一、提高站位，扛起整改政治责任。\n"
        "中共西安市莲湖区委\n2022年5月6日\n"
    )


def make_corpus(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"n{i:05d}.txt").write_text(notice_text(i), encoding="utf-8")


def doc_ids(ix: Path) -> list[str]:
    snap = Snapshot(ix)
    try:
        return [snap.stored(d)["id"] for d in snap.live_docs()]
    finally:
        snap.close()


def test_second_build_indexes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "samples"
    shutil.copytree(ROOT / "samples", src)
    ix = tmp_path / "ix"
    first = build([src], ix, workers=1, progress=False)
    assert first.added >= 40 and not first.failed
    second = build([src], ix, workers=1, progress=False)
    assert (second.added, second.updated, second.deleted) == (0, 0, 0)
    assert second.unchanged == first.added
    assert second.files_skipped == second.files_seen
    assert len(doc_ids(ix)) == first.added


def test_new_extractor_version_rereads_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Changed cleaning or metadata rules reach notices already in the index."""
    from indexer import index as index_mod

    src = tmp_path / "c"
    make_corpus(src, 6)
    ix = tmp_path / "ix"
    first = build([src], ix, workers=1, progress=False)
    assert first.added == 6
    monkeypatch.setattr(index_mod, "EXTRACTOR_VERSION", "next")
    again = build([src], ix, workers=1, progress=False)
    assert again.files_skipped == 0 and again.unchanged == 6 and again.added == 0
    assert sorted(doc_ids(ix)) == sorted(set(doc_ids(ix))) and len(doc_ids(ix)) == 6
    third = build([src], ix, workers=1, progress=False)
    assert third.files_skipped == third.files_seen == 6


def test_changed_file_replaces_without_duplicate(tmp_path: Path) -> None:
    src = tmp_path / "c"
    make_corpus(src, 5)
    ix = tmp_path / "ix"
    build([src], ix, workers=1, progress=False)
    path = src / "n00002.txt"
    path.write_text(notice_text(2).replace("一、提高站位", "新增内容丙丁戊。一、提高站位"), encoding="utf-8")
    report = build([src], ix, workers=1, progress=False)
    assert (report.added, report.updated) == (0, 1)
    ids = doc_ids(ix)
    assert len(ids) == len(set(ids)) == 5
    archive = Archive(ix)
    assert archive.search(SearchRequest(q="丙丁戊")).total == 1
    assert archive.search(SearchRequest(q="唯一标记码甲00002乙")).total == 1


def test_prune_and_removed_jsonl_records(tmp_path: Path) -> None:
    src = tmp_path / "c"
    make_corpus(src, 4)
    lines = [json.dumps({"text": notice_text(100 + i), "url": f"http://example.gov.cn/t{i}.html"}, ensure_ascii=False) for i in range(3)]
    (src / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ix = tmp_path / "ix"
    assert build([src], ix, workers=1, progress=False).added == 7
    (src / "feed.jsonl").write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    report = build([src], ix, workers=1, progress=False)
    assert report.deleted == 1 and len(doc_ids(ix)) == 6
    (src / "n00000.txt").unlink()
    report = build([src], ix, workers=1, progress=False)
    assert report.deleted == 0 and len(doc_ids(ix)) == 6  # without --prune nothing goes
    report = build([src], ix, workers=1, progress=False, prune=True)
    assert report.deleted == 1 and len(doc_ids(ix)) == 5


def _truncated_warc() -> bytes:
    from warcio.warcwriter import WARCWriter
    from warcio.statusandheaders import StatusAndHeaders

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for i in range(2):
        html = f"<html><head><title>通知{i}</title></head><body><div class='TRS_Editor'><p>{notice_text(200 + i)}</p></div></body></html>"
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.0")
        rec = writer.create_warc_record(f"http://example.gov.cn/w{i}.html", "response", payload=io.BytesIO(html.encode()), http_headers=headers)
        writer.write_record(rec)
    data = buf.getvalue()
    return data[: len(data) - 40]


def test_bad_inputs_are_reported_and_the_rest_indexed(tmp_path: Path) -> None:
    src = tmp_path / "mixed"
    make_corpus(src, 3)
    (src / "empty.html").write_bytes(b"")
    (src / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(2000))
    (src / "archive.txt").write_bytes(b"PK\x03\x04" + os.urandom(2000))
    (src / "huge.html").write_bytes(b"<html><body>" + "巡察整改".encode() * (50 * 1024 * 1024 // 12) + b"</body></html>")
    (src / "deep.html").write_text("<div>" * 10000 + notice_text(300) + "</div>" * 10000, encoding="utf-8")
    (src / "mixed.html").write_bytes(notice_text(301).encode("utf-8") + "关于开展巡察的通知".encode("gbk") + b"\xff\xfe\x80")
    (src / "broken.jsonl").write_text(json.dumps({"text": notice_text(302)}, ensure_ascii=False) + "\n{not json\n", encoding="utf-8")
    (src / "cut.warc.gz").write_bytes(_truncated_warc())
    (src / "list.html").write_text("<html><body><ul>" + "".join(f"<li><a href='/a{i}'>链接{i}</a></li>" for i in range(30)) + "</ul></body></html>", encoding="utf-8")
    (src / "nodate.txt").write_text("关于做好某项工作的通知\n请各单位认真落实，确保工作取得实效。\n", encoding="utf-8")
    ix = tmp_path / "ix"
    report = build([src], ix, workers=2, progress=False)
    failed = {Path(s.split("#")[0]).name: r for s, r in report.failed}
    for bad in ("empty.html", "image.html", "archive.txt", "huge.html", "broken.jsonl", "cut.warc.gz", "list.html"):
        assert bad in failed, (bad, failed)
        assert failed[bad]
    archive = Archive(ix)
    for i in (0, 1, 2, 300, 301, 302, 200):
        assert archive.search(SearchRequest(q=f"唯一标记码甲{i:05d}乙")).total == 1, i
    assert archive.search(SearchRequest(q="认真落实")).total == 1  # no date, no region: still indexed
    # the CLI says some failed through its exit code
    proc = subprocess.run([PY, "-m", "indexer", "build", str(src), "--index", str(tmp_path / "ix2"), "--workers", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "failed:" in proc.stdout


def test_second_build_waits_or_stops_clearly(tmp_path: Path) -> None:
    src = tmp_path / "c"
    make_corpus(src, 2)
    ix = tmp_path / "ix"
    with BuildLock(ix):
        with pytest.raises(BuildError, match="another build"):
            build([src], ix, workers=1, progress=False)
        proc = subprocess.run([PY, "-m", "indexer", "build", str(src), "--index", str(ix)], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2 and "another build" in proc.stderr
    assert build([src], ix, workers=1, progress=False).added == 2


def _toc_generation(ix: Path) -> int:
    gens = [int(p.name.split("_")[-1].split(".")[0]) for p in ix.glob("_MAIN_*.toc")]
    return max(gens, default=-1)


def test_sigkill_mid_build_loses_at_most_a_batch(tmp_path: Path) -> None:
    src = tmp_path / "c"
    n = 600
    make_corpus(src, n)
    ix = tmp_path / "ix"
    proc = subprocess.Popen(
        [PY, "-m", "indexer", "build", str(src), "--index", str(ix), "--batch-size", "40", "--workers", "1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while _toc_generation(ix) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "build finished before it could be killed; make the corpus bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    ids = doc_ids(ix)
    assert len(ids) >= 40 * 2 and len(ids) < n
    assert len(ids) == len(set(ids))
    archive = Archive(ix)
    assert archive.search(SearchRequest(q="巡察")).total == len(ids)
    report = build([src], ix, workers=1, progress=False)
    ids = doc_ids(ix)
    assert len(ids) == len(set(ids)) == n
    assert report.added == n - (len(ids) - report.added) or report.added <= n


def test_search_during_build_never_errors(tmp_path: Path) -> None:
    src = tmp_path / "c"
    make_corpus(src, 400)
    ix = tmp_path / "ix"
    build([src / "n00000.txt"], ix, workers=1, progress=False)
    archive = Archive(ix)
    errors: list[BaseException] = []
    totals: list[int] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            try:
                archive._checked = 0.0  # look for a new generation on every request
                totals.append(archive.search(SearchRequest(q="巡察 整改")).total)
            except BaseException as exc:  # noqa: BLE001 - any error fails the test
                errors.append(exc)
                return

    t = threading.Thread(target=searcher)
    t.start()
    proc = subprocess.run([PY, "-m", "indexer", "build", str(src), "--index", str(ix), "--batch-size", "50", "--workers", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    time.sleep(0.3)
    stop.set()
    t.join()
    assert proc.returncode == 0, proc.stderr
    assert not errors, errors
    assert totals and totals == sorted(totals)  # never half a commit, never going back
    assert totals[-1] == 400


def test_two_server_processes_read_one_index_during_a_build(tmp_path: Path) -> None:
    """Several server processes (as gunicorn workers would be) share one index folder
    and keep answering, with whole commits only, while a build writes to it."""
    import json as _json
    import socket
    import urllib.request

    src = tmp_path / "c"
    make_corpus(src, 300)
    ix = tmp_path / "ix"
    build([src / "n00000.txt"], ix, workers=1, progress=False)

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen([PY, "-m", "indexer", "serve", "--index", str(ix), "--port", str(p), "--threads", "2"],
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for p in ports
    ]
    try:
        def total(port: int) -> int:
            url = f"http://127.0.0.1:{port}/api/search?q=%E5%B7%A1%E5%AF%9F"
            with urllib.request.urlopen(url, timeout=30) as r:
                return _json.load(r)["total"]

        deadline = time.monotonic() + 60
        for p in ports:
            while True:
                try:
                    total(p)
                    break
                except OSError:
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.2)
        builder = subprocess.Popen([PY, "-m", "indexer", "build", str(src), "--index", str(ix), "--batch-size", "50", "--workers", "1"],
                                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seen: dict[int, list[int]] = {p: [] for p in ports}
        while builder.poll() is None:
            for p in ports:
                seen[p].append(total(p))
        assert builder.returncode == 0
        time.sleep(1.2)  # servers look for a new generation at most once a second
        for p in ports:
            seen[p].append(total(p))
            assert seen[p] == sorted(seen[p]), seen[p]
            assert seen[p][-1] == 300
    finally:
        for s in servers:
            s.terminate()
            s.wait(timeout=10)


def test_new_snapshot_reuses_unchanged_segments(tmp_path: Path) -> None:
    """After a build adds a segment, the searcher takes over the other segments' text and
    derived arrays instead of reading them again, and answers as a fresh searcher does."""
    src = tmp_path / "c"
    make_corpus(src, 8)
    ix = tmp_path / "ix"
    build([src], ix, workers=1, progress=False)
    archive = Archive(ix)
    before = archive.search(SearchRequest(q="整改"))
    assert before.total == 8
    old = archive.snapshot()
    old_shared = {seg.segment_id: seg.shared for seg in old.segments}
    assert all("text" in sh and "arrays" in sh for sh in old_shared.values())
    (src / "extra.txt").write_text(notice_text(99), encoding="utf-8")
    (src / "n00003.txt").unlink()
    build([src], ix, workers=1, progress=False, prune=True)
    archive._checked = 0.0  # skip the one-second recheck interval
    new = archive.snapshot()
    assert new is not old
    kept = [seg for seg in new.segments if seg.segment_id in old_shared]
    assert kept, "the first build's segment should still be there"
    assert all(seg.shared is old_shared[seg.segment_id] for seg in kept)
    assert any(seg.deleted for seg in kept)  # the pruned notice is a deletion in an old segment
    after = archive.search(SearchRequest(q="整改", per_page=20)).as_dict()
    fresh = Archive(ix).search(SearchRequest(q="整改", per_page=20)).as_dict()
    after.pop("took_ms"), fresh.pop("took_ms")
    assert after == fresh and after["total"] == 8


def test_a_commit_while_a_snapshot_opens_is_never_missed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build committing while a searcher opens must leave the snapshot looking stale (so
    the server reopens), never current while it holds the older data."""
    from indexer import whooshlib

    src = tmp_path / "c"
    make_corpus(src, 3)
    ix = tmp_path / "ix"
    build([src], ix, workers=1, progress=False)
    extra = tmp_path / "extra"
    make_corpus(extra, 1)
    (extra / "n00000.txt").rename(extra / "late.txt")
    (extra / "late.txt").write_text(notice_text(50), encoding="utf-8")
    real_open = whooshlib.open_index
    armed = [True]

    def open_with_a_commit_in_between(path):  # type: ignore[no-untyped-def]
        index = real_open(path)
        if not armed[0]:  # the build below opens the index too
            return index
        armed[0] = False
        real_searcher = index.searcher

        def searcher():  # type: ignore[no-untyped-def]
            s = real_searcher()
            build([extra], ix, workers=1, progress=False)  # lands after the searcher opened
            return s

        index.searcher = searcher
        return index

    monkeypatch.setattr(whooshlib, "open_index", open_with_a_commit_in_between)
    snap = whooshlib.Snapshot(ix)
    monkeypatch.setattr(whooshlib, "open_index", real_open)
    assert not armed[0]
    assert snap.doc_count == 3  # it holds the data from before the commit...
    assert not snap.is_current()  # ...so it must not claim to be current
    archive = Archive(ix)
    assert archive.search(SearchRequest(q="整改")).total == 4


def test_a_folder_built_from_another_directory_is_not_read_again(tmp_path, monkeypatch) -> None:
    """Files are known by their absolute path: the same folder built from another working
    directory (a scheduled job, a shell elsewhere) is skipped as unchanged, not read again
    as new files (it used to be, at a million notices an hour's work)."""
    src = tmp_path / "work" / "src"
    src.mkdir(parents=True)
    for i in range(3):
        (src / f"n{i}.txt").write_text(f"中共测试县委巡察办关于第{i}轮巡察的公告\n\n县委巡察组进驻开展巡察。", encoding="utf-8")
    ix = tmp_path / "ix"
    monkeypatch.chdir(tmp_path / "work")
    first = build(["src"], ix, workers=1, progress=False)
    assert first.added == 3
    monkeypatch.chdir(tmp_path)
    again = build([str(src)], ix, workers=1, progress=False)
    assert again.files_skipped == 3 and again.added == again.updated == 0
    monkeypatch.chdir(tmp_path / "work")
    (src / "n1.txt").write_text("中共测试县委巡察办关于第1轮巡察的公告\n\n县委巡察组进驻开展巡察，已完成。", encoding="utf-8")
    third = build(["src"], ix, workers=1, progress=False)
    assert third.files_skipped == 2 and third.updated == 1 and third.added == 0

"""`python -m indexer check`, and what readers do with a damaged index: name the file,
answer 503 (never wrong results, never a traceback), recover with `build --rebuild`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.check import check
from indexer.index import blob_terms, build, prepare
from tests.conftest import ROOT

PY = sys.executable


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PY, "-m", "indexer", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def good_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ix = tmp_path_factory.mktemp("check") / "ix"
    report = build([ROOT / "samples"], ix, workers=1, progress=False, batch_size=20)
    assert report.added > 40 and not report.failed
    return ix


def copy_of(ix: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "ix"
    shutil.copytree(ix, dest)
    return dest


def seg_file(ix: Path, suffix: str, which: int = 0) -> Path:
    """The `which`-th largest non-empty segment file with this suffix. Segment names are
    random and a small segment's .pst can be empty (every term inlined in the .trm):
    flipping bytes of an empty file changes nothing, which made these tests flaky."""
    files = sorted((p for p in ix.iterdir() if p.name.startswith("MAIN_") and p.name.endswith(suffix)
                    and p.stat().st_size > 0), key=lambda p: (-p.stat().st_size, p.name))
    assert len(files) > which, suffix
    return files[which]


def flip(path: Path, at: float = 0.5, n: int = 8) -> None:
    data = bytearray(path.read_bytes())
    i = int(len(data) * at)
    for k in range(i, min(i + n, len(data))):
        data[k] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def test_a_sound_index_checks_clean(good_index: Path) -> None:
    r = run("check", "--index", str(good_index), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] and out["problems"] == [] and out["documents"] >= 40 and out["segments"] >= 2
    human = run("check", "--index", str(good_index))
    assert human.returncode == 0 and human.stdout.startswith("ok:")


def test_check_names_a_flipped_and_a_truncated_file(good_index: Path, tmp_path: Path) -> None:
    ix = copy_of(good_index, tmp_path)
    flipped = seg_file(ix, ".pst", 0)
    cut = seg_file(ix, ".vtext.col", 1)
    flip(flipped)
    truncate(cut)
    r = run("check", "--index", str(ix), "--json")
    assert r.returncode == 1, r.stdout + r.stderr
    files = {p["file"] for p in json.loads(r.stdout)["problems"]}
    assert {flipped.name, cut.name} <= files, files
    human = run("check", "--index", str(ix))
    assert human.returncode == 1
    assert f"problem: {flipped.name}:" in human.stdout and f"problem: {cut.name}:" in human.stdout
    assert "Traceback" not in human.stdout + human.stderr


def test_check_reads_contents_even_without_recorded_checksums(good_index: Path, tmp_path: Path) -> None:
    ix = copy_of(good_index, tmp_path)
    for p in ix.glob("*.sums"):
        p.unlink()
    cut = seg_file(ix, ".vtext.col", 0)
    truncate(cut, 0.9)
    rec = seg_file(ix, ".rec.col", 1)
    truncate(rec, 0.3)
    report = check(ix)
    files = {p["file"] for p in report.problems}
    assert {cut.name, rec.name} <= files, report.problems
    assert any("no checksums" in n for n in report.notes)


def test_check_reports_a_missing_file_and_a_missing_index(good_index: Path, tmp_path: Path) -> None:
    ix = copy_of(good_index, tmp_path)
    gone = seg_file(ix, ".trm", 0)
    gone.unlink()
    report = check(ix)
    assert any(p["file"] == gone.name and "missing" in p["problem"] for p in report.problems)
    r = run("check", "--index", str(tmp_path / "nothing"))
    assert r.returncode == 1 and "problem:" in r.stdout


@pytest.mark.parametrize("damage", ["flip-pst", "flip-trm", "truncate-vtext", "truncate-rec", "flip-stored", "delete-pst"])
def test_the_app_answers_503_for_a_damaged_index(good_index: Path, tmp_path: Path, damage: str) -> None:
    from app import create_app

    ix = copy_of(good_index, tmp_path)
    kind, ext = damage.split("-")
    target = seg_file(ix, {"pst": ".pst", "trm": ".trm", "vtext": ".vtext.col", "rec": ".rec.col",
                           "stored": "._stored.col"}[ext])
    {"flip": flip, "truncate": truncate, "delete": Path.unlink}[kind](target)
    client = create_app({"INDEX_DIR": str(ix), "TESTING": True}).test_client()
    for url in ("/?q=巡察", "/api/search?q=整改", "/api/search?q=巡察整改&sort=date", "/regions"):
        resp = client.get(url)
        body = resp.get_data(as_text=True)
        assert resp.status_code == 503, (url, resp.status_code, body[:200])
        assert "损坏" in body and "Traceback" not in body and str(ix) not in body
    assert "indexer check" in client.get("/api/search?q=巡察").get_json()["error"]


def test_build_rebuild_recovers_a_damaged_index(good_index: Path, tmp_path: Path) -> None:
    ix = copy_of(good_index, tmp_path)
    flip(seg_file(ix, ".pst", 0))
    truncate(seg_file(ix, ".vtext.col", 1))
    r = run("build", "samples", "--index", str(ix), "--rebuild", "--json")
    assert r.returncode == 0, r.stderr
    assert check(ix).ok
    good = run("search", "巡察", "--index", str(good_index), "--json", "--limit", "50")
    again = run("search", "巡察", "--index", str(ix), "--json", "--limit", "50")
    assert json.loads(again.stdout)["total"] == json.loads(good.stdout)["total"] > 0


def test_blob_terms_match_what_prepare_indexes() -> None:
    from indexer.models import PageError
    from indexer.pipeline import process_page
    from indexer.sources import iter_pages

    n = 0
    for item in iter_pages([str(ROOT / "samples")]):
        if isinstance(item, PageError):
            continue
        p = prepare(process_page(item))
        terms, iterms = blob_terms(p.vtext.decode("utf-8"))
        assert (dict(terms), dict(iterms)) == (dict(p.terms), dict(p.iterms)), p.notice.source
        n += 1
    assert n >= 40

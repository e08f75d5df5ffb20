"""The per-segment sidecar (indexer/sidecar.py) and the memory-mapped snapshot: search reads
the sidecar instead of parsing every record, so what it gives must equal what the records
and texts give; a damaged file is refused, now or (large indexes) by the background check."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from indexer import hitsets, sidecar, whooshlib
from indexer.check import check
from indexer.index import build

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def index3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo samples in three segments."""
    ix = tmp_path_factory.mktemp("side") / "ix"
    build([ROOT / "samples"], ix, workers=1, progress=False, batch_size=20)
    return ix


def _without_sidecars(path: Path) -> whooshlib.Snapshot:
    snap = whooshlib.Snapshot(path)
    for seg in snap.segments:
        seg.shared = {k: v for k, v in seg.shared.items() if k != "sidecar"}
    return snap


def test_every_segment_of_a_build_has_a_sidecar(index3: Path) -> None:
    snap = whooshlib.Snapshot(index3)
    try:
        assert len(snap.segments) == 3
        assert all(seg.sidecar is not None and seg.sidecar.n == seg.doccount for seg in snap.segments)
        assert isinstance(snap.segments[0].text_map, (bytes, type(snap.segments[0].text_map)))
    finally:
        snap.close()


def test_sidecar_columns_equal_the_columns_of_the_records(index3: Path) -> None:
    with_side = whooshlib.Snapshot(index3)
    without = _without_sidecars(index3)
    assert all(seg.sidecar is None for seg in without.segments)
    a, b = hitsets.state_of(with_side), hitsets.state_of(without)
    ca, cb = a.columns, b.columns
    n = with_side.doc_count_all

    def decoded(col: np.ndarray, vocab: list) -> list:
        return [vocab[c] for c in col.tolist()]

    assert decoded(ca.type, ca.type_vocab) == decoded(cb.type, cb.type_vocab)
    assert decoded(ca.month, ca.month_vocab) == decoded(cb.month, cb.month_vocab)
    for depth in range(3):
        assert decoded(ca.region[depth], ca.region_vocab) == decoded(cb.region[depth], cb.region_vocab)
    assert ca.date_int.tolist() == cb.date_int.tolist() and len(ca.date_int) == n
    assert ca.date_rank.tolist() == cb.date_rank.tolist()
    # the records say the same as the columns
    for d in range(n):
        rec = with_side.record(d)
        assert ca.date_int[d] == hitsets.date_int(rec[whooshlib.REC_DATE])
        assert ca.type_vocab[ca.type[d]] == (rec[whooshlib.REC_TYPE] or None)
    for sa, sb in zip(a.segs, b.segs):
        assert sa is not None and sb is not None
        for name in ("start", "title_end", "body_end", "end"):
            assert getattr(sa, name).tolist() == getattr(sb, name).tolist(), name
    assert a.reposts == b.reposts


def test_searches_agree_with_and_without_sidecars(index3: Path) -> None:
    from indexer.search import Archive, SearchRequest

    arch = Archive(index3)
    plain = Archive(index3)
    plain._snap = _without_sidecars(index3)  # type: ignore[attr-defined]
    plain._checked = time.monotonic() + 3600  # type: ignore[attr-defined]
    for q in ("巡察", "整改 通报", "巡视整改", "标题:公告"):
        for sort in ("relevance", "date"):
            r1 = arch.search(SearchRequest(q=q, sort=sort, per_page=20))
            r2 = plain.search(SearchRequest(q=q, sort=sort, per_page=20))
            assert r1.total == r2.total and [h.id for h in r1.hits] == [h.id for h in r2.hits], (q, sort)
            assert r1.facets == r2.facets
    assert arch.stats() == plain.stats() and arch.stats()["documents"] == 48


def test_background_verification_refuses_a_damaged_file(index3: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    ix = tmp_path / "ix"
    shutil.copytree(index3, ix)
    pst = max(ix.glob("*.pst"), key=lambda p: p.stat().st_size)
    data = bytearray(pst.read_bytes())
    data[len(data) // 2] ^= 0x40
    pst.write_bytes(bytes(data))
    monkeypatch.setattr(whooshlib, "VERIFY_SYNC_BYTES", 0)  # as if the index were large
    snap = whooshlib.Snapshot(ix)  # opens: sizes are right
    deadline = time.monotonic() + 30
    while snap.damage is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert snap.damage is not None and pst.name in str(snap.damage)
    with pytest.raises(whooshlib.IndexUnreadable):
        snap.term_array("grams", "巡")
    with pytest.raises(whooshlib.IndexUnreadable):
        snap.stored(0)


def test_a_small_index_is_verified_before_the_first_answer(index3: Path, tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    shutil.copytree(index3, ix)
    side = sorted(ix.glob("*" + sidecar.EXT))[0]
    data = bytearray(side.read_bytes())
    data[-1] ^= 0x01
    side.write_bytes(bytes(data))
    with pytest.raises(whooshlib.IndexUnreadable, match=side.name):
        whooshlib.Snapshot(ix)


def test_check_finds_a_sidecar_that_disagrees_with_its_records(index3: Path, tmp_path: Path) -> None:
    """A sidecar written wrong (its checksum recorded for the wrong bytes) is caught by
    comparing it with the records and texts."""
    ix = tmp_path / "ix"
    shutil.copytree(index3, ix)
    side = sorted(ix.glob("*" + sidecar.EXT))[0]
    opened = sidecar.open_mapped(open(side, "rb"))
    arrays = {k: np.array(v) for k, v in opened.arrays.items()}
    arrays["date"][0] = 19990101
    side.write_bytes(sidecar.encode(arrays, opened.n, opened.vocab))
    sums_path = side.with_name(side.name[: -len(sidecar.EXT)] + whooshlib.SUMS_EXT)
    sums = json.loads(sums_path.read_text())
    sums["files"][side.name] = list(whooshlib.crc32_file(side))
    sums_path.write_text(json.dumps(sums))
    report = check(ix)
    assert not report.ok
    assert any(p["file"] == side.name and "date" in p["problem"] for p in report.problems)
    assert check(index3).ok


def test_a_sidecar_without_titles_is_read_and_checked(index3: Path, tmp_path: Path) -> None:
    """Sidecars written before the joined titles were added: search joins them from the
    text, check accepts them."""
    ix = tmp_path / "ix"
    shutil.copytree(index3, ix)
    for side in ix.glob("*" + sidecar.EXT):
        opened = sidecar.open_mapped(open(side, "rb"))
        arrays = {k: np.array(v) for k, v in opened.arrays.items() if k not in ("titles", "title_starts")}
        side.write_bytes(sidecar.encode(arrays, opened.n, opened.vocab))
        sums_path = side.with_name(side.name[: -len(sidecar.EXT)] + whooshlib.SUMS_EXT)
        sums = json.loads(sums_path.read_text())
        sums["files"][side.name] = list(whooshlib.crc32_file(side))
        sums_path.write_text(json.dumps(sums))
    assert check(ix).ok
    from indexer.search import Archive, SearchRequest

    a, b = Archive(ix), Archive(index3)
    for q in ("巡察", "巡视整改", "巡察 OR 公告"):
        r1, r2 = a.search(SearchRequest(q=q, per_page=20)), b.search(SearchRequest(q=q, per_page=20))
        assert r1.total == r2.total and [h.id for h in r1.hits] == [h.id for h in r2.hits]

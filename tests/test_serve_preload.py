"""`serve` derives the index's arrays once, before the workers fork, and each worker's
archive takes them over (tests/test_server.py runs the real server with two workers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from indexer import hitsets
from indexer.search import Archive, SearchRequest


def test_an_archive_inherits_the_derived_arrays_of_the_same_generation(demo_index: Path) -> None:
    parent = Archive(demo_index, verify=False)
    parent.prepare()
    pst = hitsets.state_of(parent.snapshot())
    child = Archive(demo_index)
    child.inherit(parent)
    snap = child.snapshot()
    assert snap is not parent.snapshot()
    st = hitsets.state_of(snap)
    assert st.snap is snap and st.columns is pst.columns and st.groups is pst.groups and st.segs is pst.segs
    assert st.literals is not pst.literals
    plain = Archive(demo_index)
    for q in ("巡察", "巡视整改", "整改 -巡视"):
        a, b = child.search(SearchRequest(q=q, per_page=20)), plain.search(SearchRequest(q=q, per_page=20))
        assert a.total == b.total > 0 and [h.id for h in a.hits] == [h.id for h in b.hits] and a.facets == b.facets
    assert np.array_equal(st.columns.date_rank, hitsets.state_of(plain.snapshot()).columns.date_rank)


def test_a_newer_generation_is_derived_afresh(demo_index: Path, tmp_path: Path) -> None:
    import shutil

    from indexer.index import build

    ix = tmp_path / "ix"
    shutil.copytree(demo_index, ix)
    parent = Archive(ix, verify=False)
    parent.prepare()
    src = tmp_path / "src"
    src.mkdir()
    (src / "n.txt").write_text("中共测试县委巡察办关于新一轮巡察的公告\n\n根据安排，县委第一巡察组进驻开展巡察。", encoding="utf-8")
    build([src], ix, workers=1, progress=False)
    child = Archive(ix)
    child.inherit(parent)
    snap = child.snapshot()
    assert snap.generation != parent.snapshot().generation
    assert hitsets.state_of(snap).columns is not hitsets.state_of(parent.snapshot()).columns
    assert child.search(SearchRequest(q="新一轮巡察")).total == 1

"""The benchmark must not rot: the generator is deterministic and shaped as specified, and a
smoke run of the whole harness (tiny N, baseline included) finishes and reports every
section. No timing asserts (the machine is noisy); correctness numbers are asserted where
the project promises them (no miss against a brute-force substring scan).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import generate, run
from indexer import regions

ROOT = Path(__file__).resolve().parent.parent


def _files(out: Path) -> list[Path]:
    return sorted((out / "notices").rglob("*.html"))


def test_generator_is_deterministic_by_seed(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate.generate(a, 25, seed=7)
    generate.generate(b, 25, seed=7)
    generate.generate(c, 25, seed=8)
    fa, fb = _files(a), _files(b)
    assert [p.relative_to(a) for p in fa] == [p.relative_to(b) for p in fb]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(fa, fb))
    assert (a / "truth.jsonl").read_bytes() == (b / "truth.jsonl").read_bytes()
    assert any(x.read_bytes() != y.read_bytes() for x, y in zip(fa, _files(c)))


def test_generated_pages_have_the_specified_shape(tmp_path: Path) -> None:
    n = 1003  # crosses a subfolder boundary
    summary = generate.generate(tmp_path, n, seed=3)
    files = _files(tmp_path)
    assert len(files) == n == summary["n"]
    assert {p.parent.name for p in files} == {"0000", "0001"}
    assert len(list((tmp_path / "notices" / "0000").iterdir())) == generate.FILES_PER_DIR
    sizes = [p.stat().st_size for p in files]
    assert min(sizes) >= generate.MIN_BYTES and max(sizes) <= generate.MAX_BYTES
    assert sum(sizes) == summary["bytes"]
    truth = generate.load_truth(tmp_path)
    assert len(truth) == n
    for t in truth[:200]:
        assert regions.get(t.region_code) is not None
        assert "2010-01-01" <= t.date <= "2026-12-31"
        page = (tmp_path / t.path).read_text(encoding="utf-8")
        # the title names the region; the page carries chrome and a signature block
        assert t.title in page and t.issuer in page
        for chrome in ("当前位置", "来源：", "发布时间", "分享到", "上一篇", "下一篇", "相关链接", "ICP备"):
            assert chrome in page, chrome
    assert len({t.region_code for t in truth}) > 100  # regions really are drawn from the table
    assert len({t.date[:4] for t in truth}) >= 15


def test_change_files_rewrites_about_one_percent(tmp_path: Path) -> None:
    generate.generate(tmp_path, 200, seed=1)
    before = {p: p.read_bytes() for p in _files(tmp_path)}
    changed = generate.change_files(tmp_path, 0.01, seed=1)
    assert len(changed) == 2
    after = {p: p.read_bytes() for p in _files(tmp_path)}
    diff = [p for p in before if before[p] != after[p]]
    assert sorted(map(str, diff)) == sorted(changed)


def test_percentile_is_nearest_rank() -> None:
    values = [float(x) for x in range(1, 101)]
    assert run.pct(values, 50) == 50.0
    assert run.pct(values, 95) == 95.0
    assert run.pct(values, 99) == 99.0
    assert run.pct([3.0], 99) == 3.0
    assert run.pct([], 50) is None


def test_truth_match_follows_the_query_language() -> None:
    assert run.truth_match("巡察 整改", "开展巡察并整改")
    assert not run.truth_match("巡察 整改", "开展巡察")
    assert run.truth_match("巡视 OR 巡察", "巡视")
    assert run.truth_match("整改 -巡视", "巡察整改")
    assert not run.truth_match("整改 -巡视", "巡视整改")


@pytest.mark.slow
def test_smoke_run_reports_every_section(tmp_path: Path) -> None:
    try:
        import jieba  # noqa: F401
    except ImportError:
        msg = "the baseline needs jieba: pip install -r requirements-bench.txt"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    out = tmp_path / "result.json"
    cmd = [sys.executable, "-m", "bench.run", "--sizes", "60", "--reps", "1", "--served-reps", "2",
           "--work", str(tmp_path / "work"), "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "N = 60" in proc.stdout and "base/ours p95" in proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["machine"]["cores"] and result["machine"]["versions"]["jieba"]
    size = result["sizes"][0]
    assert "error" not in size, size.get("error")
    assert size["build_ours"]["report"]["added"] == 60
    assert size["build_baseline"]["report"]["added"] == 60
    for key in ("build_ours", "build_baseline"):
        assert size[key]["peak_rss_tree_bytes"] > 0 and size[key]["index_bytes"] > 0
    want = {f"{k}/{v}" for k in run.KINDS for v in run.VARIANTS}
    q = size["queries"]
    assert set(q["ours_warm"]) == want == set(q["baseline_warm"]) == set(q["ratio_p95_baseline_over_ours"])
    assert "error" not in q["ours_cold"] and "error" not in q["baseline_cold"]
    assert "error" not in size["served"], size["served"]
    assert size["served"]["total_mismatches_vs_archive"] == 0
    inc = size["incremental"]
    assert inc["unchanged"]["report"]["files_skipped_unchanged"] == 60
    assert inc["changed_1pct"]["report"]["updated"] == inc["changed_files"] == 1
    # the updated index opens and holds the changed text once, in the changed file only
    assert inc["search_after_update"]["ok"], inc["search_after_update"]
    # Correctness: the archive promises no miss and no false hit against a substring scan.
    cc = size["correctness"]
    assert len(cc["substrings"]) == 20
    assert cc["substring_totals"]["ours_missed"] == 0
    assert cc["substring_totals"]["ours_extra"] == 0
    for row in cc["queries"]:
        assert row["ours"] == row["truth"], row

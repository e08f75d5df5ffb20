"""indexer/evaluate.py: the scoring maths, the CLI, and the gold-page quality bar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.evaluate import evaluate_dir, format_table, main, prf, same_text

from tests.conftest import require_shared


def test_prf_identical_and_disjoint():
    assert prf("巡视整改", "巡视整改") == (1.0, 1.0, 1.0)
    assert prf("甲乙", "丙丁") == (0.0, 0.0, 0.0)
    assert prf("", "") == (1.0, 1.0, 1.0)
    assert prf("", "通知")[1] == 0.0


def test_prf_ignores_space_and_applies_nfkc():
    # Full-width digits and spacing/line breaks do not count as differences.
    assert prf("２０２２年 5月\n通知", "2022年5月通知") == (1.0, 1.0, 1.0)


def test_prf_counts_multiset():
    p, r, f = prf("通知通知首页", "通知")
    assert p == pytest.approx(2 / 6)
    assert r == 1.0
    assert f == pytest.approx(2 * p / (p + 1))


def test_same_text():
    assert same_text("全国人民代表大会\n常务委员会", "全国人民代表大会常务委员会")
    assert not same_text("甲", "乙")
    assert not same_text(None, "乙")


def _mini_gold(folder: Path) -> None:
    body = "关于开展巡察工作的公告\n根据工作安排，市委第一巡察组将进驻开展巡察，欢迎监督。"
    html = ("<html><head><title>关于开展巡察工作的公告_某市</title></head><body>"
            "<div class='nav'><a href='/'>首页</a></div><h1>关于开展巡察工作的公告</h1>"
            "<div class='TRS_Editor'><p>根据工作安排，市委第一巡察组将进驻开展巡察，欢迎监督。</p></div>"
            "<div class='footer'>版权所有 某市人民政府</div></body></html>")
    (folder / "001_x.gov.cn.html").write_text(html, encoding="utf-8")
    (folder / "001.gold.json").write_text(json.dumps({
        "title": "关于开展巡察工作的公告", "date": None, "province": None, "city": None,
        "district": None, "body": body, "source_file": "001_x.gov.cn.html"},
        ensure_ascii=False), encoding="utf-8")


def test_evaluate_dir_on_a_tiny_gold_set(tmp_path: Path):
    _mini_gold(tmp_path)
    result = evaluate_dir(tmp_path, with_refs=False)
    assert result["summary"]["pages"] == 1
    assert result["summary"]["f1"] == 1.0
    assert result["rows"][0]["title_ok"] is True
    table = format_table(result)
    assert "001_x.gov.cn.html" in table and "MEAN" in table


def test_cli_json_and_errors(tmp_path: Path, capsys):
    _mini_gold(tmp_path)
    assert main([str(tmp_path), "--json", "--no-refs"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["f1"] == 1.0
    assert main([str(tmp_path / "missing")]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([str(empty)]) == 2


def test_gold_pages_meet_the_bar():
    folder = require_shared("corpus", "gold")
    result = evaluate_dir(folder, with_refs=False)
    rows = result["rows"]
    assert len(rows) >= 7
    for row in rows:
        assert row["f1"] >= 0.90, (row["page"], row["f1"])
        assert row["title_ok"], row["page"]
    assert result["summary"]["f1"] >= 0.98


def test_references_reported_when_installed():
    folder = require_shared("corpus", "gold")
    result = evaluate_dir(folder, with_refs=True)
    refs = result["summary"]["references"]
    assert set(refs) == {"trafilatura", "gne"}
    for name, value in refs.items():
        if value != "not installed":
            # We must stay ahead of the reference extractors.
            assert result["summary"]["f1"] > value, name

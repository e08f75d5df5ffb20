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


# --------------------------------------------------------------------------- per-field scores


def test_verbatim_title_counts_the_pages_characters():
    from indexer.evaluate import same_issuer, verbatim

    assert verbatim("山西品牌丝路行（南美站）", "山西品牌丝路行（南美站）")
    assert not verbatim("山西品牌丝路行(南美站)", "山西品牌丝路行（南美站）")  # NFKC is no match
    assert not verbatim("巡視整改", "巡视整改")  # nor is the script
    assert verbatim("调整2007 年末", "调整2007年末")  # a heading's line break
    assert verbatim(None, None) and not verbatim("标题", None)
    assert same_issuer("中共某市纪委  某市监委", "中共某市纪委 某市监委")
    assert not same_issuer("东区办事处", "中山市东区办事处")


def test_issuer_scored_on_gold_pages(tmp_path: Path):
    _mini_gold(tmp_path)
    gold = json.loads((tmp_path / "001.gold.json").read_text(encoding="utf-8"))
    gold["issuer"] = "某市人民政府"
    (tmp_path / "001.gold.json").write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    result = evaluate_dir(tmp_path, with_refs=False)
    assert result["rows"][0]["issuer_ok"] is False  # the page names no issuer
    assert result["summary"]["issuer_accuracy"] == 0.0
    assert "issuer" in format_table(result).splitlines()[0]


def _mini_manifest(root: Path) -> Path:
    (root / "samples" / "text").mkdir(parents=True)
    text = "关于开展巡察工作的公告\n根据工作安排，市委第一巡察组将进驻开展巡察，欢迎监督。\n中共某某县委\n2023年3月1日\n"
    (root / "samples" / "text" / "a.txt").write_text(text, encoding="utf-8")
    manifest = {"version": 1, "notices": {"samples/text/a.txt": {
        "title": "关于开展巡察工作的公告", "date": "2023-03-01", "issuer": "中共某某县委",
        "province": None, "city": None, "district": None,
        "must_contain": ["市委第一巡察组"], "must_not_contain": ["首页"]}}}
    path = root / "samples" / "manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return path


def test_manifest_entries_are_scored_per_field(tmp_path: Path):
    from indexer.evaluate import evaluate_path

    path = _mini_manifest(tmp_path)
    result = evaluate_path(path.parent)
    row = result["rows"][0]
    assert (row["body_ok"], row["title_ok"], row["issuer_ok"], row["date_ok"]) == (
        True, True, True, True)
    entry = json.loads(path.read_text(encoding="utf-8"))
    entry["notices"]["samples/text/a.txt"]["issuer"] = "中共某某市委"
    path.write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
    assert evaluate_path(path)["summary"]["issuer_accuracy"] == 0.0


def test_cli_prints_per_field_accuracy_over_all_sets(tmp_path: Path, capsys):
    gold = tmp_path / "gold"
    gold.mkdir()
    _mini_gold(gold)
    _mini_manifest(tmp_path)
    assert main([str(gold), str(tmp_path / "samples"), "--no-refs"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("ALL 2 pages:")
    for field in ("body", "title", "issuer", "date", "region"):
        assert f"{field} " in last

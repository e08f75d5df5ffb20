"""Tests of the judged-query search evaluation (indexer/search_eval.py, issue 11).

Metric values are computed by hand in the comments; the end-to-end test runs both systems
on three demo pages; the judged set itself is checked against the real corpus (which needs
../shared: skipped locally without it, a failure under CI=true).
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path

import pytest

from indexer import search_eval as se
from tests.conftest import ROOT, require_shared

NATURAL = ROOT / "bench" / "queries" / "natural.jsonl"


def require_jieba() -> None:
    """The baseline needs jieba (requirements-bench.txt, pulled in by requirements-dev.txt):
    skip without it locally, fail in CI, where a skipped comparison would pass unnoticed."""
    try:
        import jieba  # noqa: F401
    except ImportError:
        msg = "jieba is not installed (pip install -r requirements-bench.txt)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)


# --------------------------------------------------------------------------- metrics


def test_ndcg_hand_computed() -> None:
    # ranked a(2) x(0) b(1): DCG = 2/log2(2) + 0 + 1/log2(4) = 2.5
    # ideal 2, 2, 1:        IDCG = 2 + 2/log2(3) + 1/2 = 3.761859...
    judgments = {"a": 2, "b": 1, "c": 2}
    expected = 2.5 / (2 + 2 / math.log2(3) + 0.5)
    assert se.ndcg_at_k(["a", "x", "b"], judgments) == pytest.approx(expected)
    assert se.ndcg_at_k(["a", "x", "b"], judgments) == pytest.approx(0.664565, abs=1e-6)


def test_ndcg_perfect_empty_and_cut() -> None:
    judgments = {"a": 2, "b": 1}
    assert se.ndcg_at_k(["a", "b", "z"], judgments) == pytest.approx(1.0)
    assert se.ndcg_at_k(["b", "a"], judgments) < 1.0
    assert se.ndcg_at_k([], judgments) == 0.0
    assert se.ndcg_at_k(["a"], {}) == 0.0  # nothing relevant: no credit, no division by zero
    # a relevant notice below rank k earns nothing
    assert se.ndcg_at_k([f"n{i}" for i in range(10)] + ["a"], judgments) == 0.0


def test_ndcg_counts_a_repeated_notice_once() -> None:
    # [a, a] must not beat the ideal by counting a twice: 2/1 + 0 over IDCG 2 -> 1.0, not 1.63
    assert se.ndcg_at_k(["a", "a"], {"a": 2}) == pytest.approx(1.0)


def test_reciprocal_rank_and_success() -> None:
    assert se.reciprocal_rank(["x", "y", "a"], {"a"}) == pytest.approx(1 / 3)
    assert se.reciprocal_rank(["a"], {"a"}) == 1.0
    assert se.reciprocal_rank(["x", "y", "a"], {"a"}, k=2) == 0.0
    assert se.reciprocal_rank([], {"a"}) == 0.0
    ten = [f"n{i}" for i in range(9)] + ["a"]
    assert se.success_at_k(ten, {"a"}) == 1.0  # rank 10 counts
    assert se.success_at_k(ten[:9] + ["z", "a"], {"a"}) == 0.0  # rank 11 does not
    assert se.reciprocal_rank(ten, {"a"}) == pytest.approx(0.1)


def test_targets_prefer_grade_two() -> None:
    jq = se.JudgedQuery(q="x", kind="topic", judgments={"a": 2, "b": 1})
    assert jq.targets() == {"a"}
    only_ones = se.JudgedQuery(q="y", kind="topic", judgments={"b": 1, "c": 1, "d": 0})
    assert only_ones.targets() == {"b", "c"}
    assert not se.JudgedQuery(q="z", kind="none", judgments={}).answerable


# --------------------------------------------------------------------------- loader


def _write(tmp_path: Path, lines: list[str]) -> Path:
    p = tmp_path / "q.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


GOOD = json.dumps({"q": "巡察整改", "kind": "topic", "judgments": {"u1": 2}}, ensure_ascii=False)


def test_loader_reads_valid_lines_and_skips_blank_ones(tmp_path: Path) -> None:
    none = json.dumps({"q": "拉萨停水", "kind": "none", "judgments": {}, "note": "n"},
                      ensure_ascii=False)
    qs = se.load_queries(_write(tmp_path, [GOOD, "", none]))
    assert [q.q for q in qs] == ["巡察整改", "拉萨停水"]
    assert qs[0].judgments == {"u1": 2} and qs[1].note == "n"


@pytest.mark.parametrize("bad, fragment", [
    ('{"q": "x", "kind": "topic", "judgments": {"u": 2}', "not valid JSON"),
    ('["x"]', "expected a JSON object"),
    ('{"kind": "topic", "judgments": {"u": 2}}', '"q" must be a non-empty string'),
    ('{"q": " ", "kind": "topic", "judgments": {"u": 2}}', '"q" must be a non-empty string'),
    ('{"q": "x", "kind": "topics", "judgments": {"u": 2}}', '"kind" must be one of'),
    ('{"q": "x", "kind": "topic", "judgments": ["u"]}', '"judgments" must be an object'),
    ('{"q": "x", "kind": "topic", "judgments": {"u": 3}}', "must be 0, 1 or 2"),
    ('{"q": "x", "kind": "topic", "judgments": {"u": true}}', "must be 0, 1 or 2"),
    ('{"q": "x", "kind": "topic", "judgments": {"u": 0}}', "needs at least one grade 1 or 2"),
    ('{"q": "x", "kind": "none", "judgments": {"u": 1}}', "must not have relevant"),
    ('{"q": "x", "kind": "topic", "judgments": {"u": 2}, "grade": 1}', "unknown field"),
])
def test_loader_rejects_malformed_line_with_file_and_line(tmp_path: Path, bad: str, fragment: str) -> None:
    p = _write(tmp_path, [GOOD, bad])
    with pytest.raises(se.QueryFileError) as exc:
        se.load_queries(p)
    assert f"{p}:2:" in str(exc.value)
    assert fragment in str(exc.value)


def test_loader_rejects_duplicates_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(se.QueryFileError, match="already on line 1"):
        se.load_queries(_write(tmp_path, [GOOD, GOOD]))
    with pytest.raises(se.QueryFileError, match="no queries"):
        se.load_queries(_write(tmp_path, ["", "  "]))
    with pytest.raises(se.QueryFileError, match="cannot read"):
        se.load_queries(tmp_path / "missing.jsonl")


def test_cli_reports_a_bad_file_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = _write(tmp_path, ["{oops"])
    assert se.main(["--queries", str(p), "--no-baseline"]) == 2
    assert f"{p}:1: not valid JSON" in capsys.readouterr().err


# --------------------------------------------------------------------------- doc_key


@pytest.mark.parametrize("stored, key", [
    ({"url": "http://a.gov.cn/x.html", "source": "../shared/corpus/notices.jsonl#line=3"},
     "http://a.gov.cn/x.html"),
    ({"url": "", "source": "../shared/corpus/notices.jsonl#line=10"}, "corpus/notices.jsonl#line=10"),
    ({"url": None, "source": "/work/shared/corpus/notices.jsonl#line=10"}, "corpus/notices.jsonl#line=10"),
    ({"source": "/srv/x/shared/seeds/000_a.txt"}, "seeds/000_a.txt"),
    ({"source": "..\\shared\\corpus\\html\\001_ccdi.gov.cn.html"}, "corpus/html/001_ccdi.gov.cn.html"),
    ({"source": "samples/text/示例_安吉县_2020_巡察整改.txt"}, "samples/text/示例_安吉县_2020_巡察整改.txt"),
    ({"source": "/home/u/checkout/samples/warc/demo_crawl.warc.gz#record=3"},
     "samples/warc/demo_crawl.warc.gz#record=3"),
    ({"source": "./corpus/html/a.html"}, "corpus/html/a.html"),
    ({"source": "elsewhere/page.html"}, "elsewhere/page.html"),
])
def test_doc_key(stored: dict, key: str) -> None:
    assert se.doc_key(stored) == key


def test_doc_key_is_the_same_from_any_working_directory() -> None:
    rel = se.doc_key({"source": "../shared/corpus/html/002_ccdi.gov.cn.html"})
    abs_ = se.doc_key({"source": "/work/shared/corpus/html/002_ccdi.gov.cn.html"})
    assert rel == abs_ == "corpus/html/002_ccdi.gov.cn.html"


def test_doc_key_needs_url_or_source() -> None:
    with pytest.raises(ValueError):
        se.doc_key({"url": " ", "source": ""})


# --------------------------------------------------------------------------- end to end

YANTA = "samples/html/yanta_2019_xuncha_zhenggai.html"
DEQING = "samples/html/deqing_2017_xuncha_tongbao.html"
ANJI = "samples/text/示例_安吉县_2020_巡察整改.txt"
YANTA_KEY = "http://www.yanta.gov.cn/xwzx/tzgg/201907/t20190726_882311.html"
DEQING_KEY = "http://www.deqing.gov.cn/art/2017/9/11/art_1229213457_3041122.html"


def test_evaluation_on_a_tiny_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_jieba()
    queries = [
        # literally in the 雁塔 notice: the archive must rank it in the top 10
        {"q": "十四届区委第三轮巡察派出3个巡察组", "kind": "phrase", "judgments": {YANTA_KEY: 2}},
        {"q": "德清县委第二轮巡察整改", "kind": "runon",
         "judgments": {DEQING_KEY: 2, "samples/text/示例_安吉县_2020_巡察整改.txt": 1}},
        {"q": "拉萨停水通知", "kind": "none", "judgments": {}},
    ]
    qfile = _write(tmp_path, [json.dumps(q, ensure_ascii=False) for q in queries])
    corpus = [str(ROOT / p) for p in (YANTA, DEQING, ANJI)]
    # through the indexer.evaluate hook, as documented
    from indexer import evaluate

    assert evaluate.main(["--queries", str(qfile), "--corpus", *corpus, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)

    assert report["notices"] == 3 and report["unknown_judged_keys"] == []
    assert report["kinds"]["phrase"] == 1 and report["kinds"]["none"] == 1
    names = [s["name"] for s in report["systems"]]
    assert names[0] == "archive" and names[-1].startswith("baseline")
    assert ("archive (exact)" in names) == report["archive_exact_available"]
    for s in report["systems"]:
        assert s["queries"] == 3 and s["answerable"] == 2 and s["none_queries"] == 1
        for metric in ("zero_result_rate", "success@10", "mrr@10", "ndcg@10"):
            assert 0.0 <= s[metric] <= 1.0
        assert set(s["per_kind_success@10"]) == {"phrase", "runon"}
        assert len(s["per_query"]) == 3
    archive = report["systems"][0]
    phrase = archive["per_query"][0]
    assert phrase["success"] == 1.0 and phrase["rr"] == 1.0
    assert phrase["top"][0]["key"] == YANTA_KEY
    assert archive["per_kind_success@10"]["phrase"]["success@10"] == 1.0
    assert archive["none_with_full_match"] == 0  # nothing holds 拉萨 + 停水
    assert report["systems"][-1]["none_with_full_match"] is None  # the baseline marks nothing

    # the text report shows the same figures
    assert evaluate.main(["--queries", str(qfile), "--corpus", *corpus]) == 0
    text = capsys.readouterr().out
    assert "success@10" in text and "baseline" in text and "phrase" in text


def test_evaluation_of_an_existing_index_without_baseline(demo_index: Path, tmp_path: Path) -> None:
    qs = [se.JudgedQuery(q="十四届区委第三轮巡察派出3个巡察组", kind="phrase", judgments={YANTA_KEY: 2}),
          se.JudgedQuery(q="zzqqxxw", kind="phrase", judgments={"no/such/key.html": 2})]
    report = se.evaluate(qs, index_dir=demo_index, with_baseline=False)
    archive = report["systems"][0]
    assert archive["success@10"] == 0.5
    assert archive["zero_result_rate"] == 0.5
    assert report["unknown_judged_keys"] == ["no/such/key.html"]
    assert [r["q"] for r in archive["failures"]] == ["zzqqxxw"]


# --------------------------------------------------------------------------- the judged set


def test_judged_set_shape() -> None:
    qs = se.load_queries(NATURAL)
    kinds = Counter(q.kind for q in qs)
    assert len(qs) >= 90
    for kind in ("runon", "title", "abbrev", "topic", "year", "phrase"):
        assert kinds[kind] >= 12, kind
    for kind in ("ime", "docnum", "spaced", "none"):
        assert kinds[kind] >= 3, kind


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    paths = [str(require_shared("corpus", "html")), str(require_shared("corpus", "notices.jsonl")),
             str(require_shared("seeds")), str(ROOT / "samples")]
    ix = tmp_path_factory.mktemp("search_eval_corpus") / "ix"
    se.build_archive(paths, ix)
    return ix


def test_judged_keys_name_notices_of_the_corpus(corpus_index: Path) -> None:
    keys = {se.doc_key(n) for n in se.stored_notices(corpus_index)}
    assert se.check_judgments(se.load_queries(NATURAL), keys) == []


def test_phrase_queries_stay_exact(corpus_index: Path) -> None:
    """Text copied from a notice must always find it: the archive's core promise."""
    qs = [q for q in se.load_queries(NATURAL) if q.kind == "phrase"]
    report = se.evaluate(qs, index_dir=corpus_index, with_baseline=False)
    for system in report["systems"]:
        assert system["failures"] == [], system["name"]
        assert system["success@10"] == 1.0


def test_natural_queries_meet_the_issue_targets(corpus_index: Path) -> None:
    """Issue 11's targets on the judged set, with the baseline measured in the same run:
    success@10 >= 0.85, zero results on at most 10% of answerable queries, nDCG@10 above
    Whoosh + jieba by 0.15 or more, and no full match shown for a query with no answer."""
    report = se.evaluate(se.load_queries(NATURAL), index_dir=corpus_index, with_baseline=True)
    by_name = {s["name"]: s for s in report["systems"]}
    ours, base = by_name["archive"], by_name["baseline (jieba+whoosh)"]
    assert ours["success@10"] >= 0.85, ours
    assert ours["zero_result_rate"] <= 0.10, ours
    assert ours["ndcg@10"] >= base["ndcg@10"] + 0.15, (ours["ndcg@10"], base["ndcg@10"])
    assert ours["none_queries"] >= 3 and ours["none_with_full_match"] == 0

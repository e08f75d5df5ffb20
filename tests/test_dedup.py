"""indexer/dedup.py: repost signatures, LSH bands and grouping.

Real reposts come from ../shared (the same ccdi article in two columns, and the crawler's
flattened copy of it in notices.jsonl); distinct notices that share a template come from the
bundled samples.
"""

from __future__ import annotations

import glob
import itertools
import json
import random
from pathlib import Path

import pytest

from indexer import dedup
from indexer.models import PageError
from indexer.pipeline import process_page
from indexer.sources import iter_pages
from tests.conftest import ROOT, require_shared

REPOST_PAIRS = [("049", "050"), ("051", "052"), ("054", "055")]
TEMPLATE_PAIRS = [
    ("yanta_2019_xuncha_zhenggai.html", "wuhou_2023_xuncha_zhenggai.html"),
    ("deqing_2017_xuncha_tongbao.html", "xigong_2020_xuncha_tongbao.html"),
    ("yanta_2019_xuncha_zhenggai.html", "yanta_2024_xunshi_zhenggai.html"),
    ("wuhou_2020_xuncha_fankui.html", "mengla_2018_xuncha_fankui.html"),
    ("tianhe_2025_xuncha_gonggao.html", "xihu_2021_xuncha_gonggao.html"),
]


def body_of(path: Path) -> str:
    pages = [p for p in iter_pages([path]) if not isinstance(p, PageError)]
    assert len(pages) == 1, path
    return process_page(pages[0]).body


def corpus_page(number: str) -> Path:
    html_dir = require_shared("corpus", "html")
    found = glob.glob(str(html_dir / f"{number}_*.html"))
    assert len(found) == 1, number
    return Path(found[0])


# -- signatures on real pages ------------------------------------------------------------


@pytest.mark.parametrize("a,b", REPOST_PAIRS)
def test_same_article_in_two_columns_is_a_repost(a, b):
    sa, sb = dedup.signature(body_of(corpus_page(a))), dedup.signature(body_of(corpus_page(b)))
    assert sa and sb
    assert dedup.similar(sa, sb), dedup.distance(sa, sb)


def test_crawler_copy_with_flattened_paragraphs_is_a_repost():
    """notices.jsonl holds the ccdi crawler's copies: paragraphs joined, no page chrome,
    a longer title. They must still match the pages cleaned from HTML."""
    path = require_shared("corpus", "notices.jsonl")
    records = {r["id"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
    for page, rec_id in (("052", "ccdi-t20240206_327454"), ("055", "ccdi-t20240109_320680")):
        html_body = body_of(corpus_page(page))
        text = records[rec_id]["text"]
        assert html_body.count("\n") > text.count("\n")  # the copies really are formatted differently
        sa, sb = dedup.signature(html_body), dedup.signature(text)
        assert dedup.similar(sa, sb), (page, dedup.distance(sa, sb))


@pytest.mark.parametrize("a,b", TEMPLATE_PAIRS)
def test_template_sharing_notices_are_not_merged(a, b):
    sa = dedup.signature(body_of(ROOT / "samples" / "html" / a))
    sb = dedup.signature(body_of(ROOT / "samples" / "html" / b))
    # Far from the threshold, not just over it (measured 27-37; docs/FEATURES.md).
    assert dedup.distance(sa, sb) > 3 * dedup.THRESHOLD
    assert not dedup.similar(sa, sb)


def test_no_two_distinct_samples_are_merged():
    """Every bundled sample is a distinct notice, several from the same template."""
    bodies = {}
    for page in iter_pages([ROOT / "samples"]):
        if isinstance(page, PageError):
            continue
        try:
            bodies[page.source] = process_page(page).body
        except PageError:
            continue
    assert len(bodies) > 30
    sigs = {k: dedup.signature(v) for k, v in bodies.items()}
    close = [(a, b) for a, b in itertools.combinations(sorted(sigs), 2) if dedup.similar(sigs[a], sigs[b])]
    assert close == []


# -- what a signature ignores ------------------------------------------------------------


def test_formatting_chrome_and_script_do_not_change_the_signature():
    text = "关于开展巡察整改工作的通知\n各乡镇街道：\n根据区委统一部署，现将有关事项通知如下。\n一、提高政治站位。\n二、压实整改责任。"
    sig = dedup.signature(text)
    assert sig == dedup.signature(text.replace("\n", ""))                      # flattened paragraphs
    assert sig == dedup.signature(text.replace("，", ",").replace("：", ":"))    # ASCII punctuation
    assert sig == dedup.signature(text + "\n（责任编辑：张三）")                   # editor line
    assert sig == dedup.signature("来源：某某网\n" + text + "\n【打印】【关闭】")    # chrome lines
    assert sig == dedup.signature(text.replace("关于开展", "關於開展"))            # traditional script
    # ...but a short paragraph that merely starts with such a word is content
    assert sig != dedup.signature(text + "\n编辑部工作要求另行通知。")


def test_empty_text_is_similar_to_nothing():
    assert dedup.signature("") == 0 == dedup.signature("，。\n ")
    assert not dedup.similar(0, 0)
    assert not dedup.similar(0, dedup.signature("巡察整改"))


def test_changed_content_moves_the_signature():
    base = "".join(f"第{i}条，本区在第{i}项工作中发现问题{i * 7}个，已整改{i * 5}个。" for i in range(40))
    other = base.replace("整改", "处理")
    assert dedup.distance(dedup.signature(base), dedup.signature(other)) > dedup.THRESHOLD


# -- bands -------------------------------------------------------------------------------


def test_bands_find_every_pair_within_the_threshold():
    rng = random.Random(7)
    for _ in range(300):
        a = rng.getrandbits(64)
        flips = rng.sample(range(64), rng.randint(0, dedup.THRESHOLD))
        b = a
        for bit in flips:
            b ^= 1 << bit
        assert dedup.similar(a, b) or a == 0 or b == 0
        assert set(dedup.bands(a)) & set(dedup.bands(b)), flips


def test_bands_do_not_collide_across_band_positions():
    keys = dedup.bands(0xFFFF_0000_FFFF_0000)
    assert len(keys) == dedup.THRESHOLD + 1 == len(set(keys))
    assert sum(dedup._band_widths(dedup.THRESHOLD)) == 64


# -- grouping ----------------------------------------------------------------------------


def _flip(sig: int, *bits: int) -> int:
    for b in bits:
        sig ^= 1 << b
    return sig


def test_dup_index_groups_reposts_under_the_earliest():
    ix = dedup.DupIndex()
    s = 0x0123_4567_89AB_CDEF
    assert ix.add("b", "2021-03-02", s) == "b"
    assert ix.add("a", "2021-03-01", _flip(s, 1, 40)) == "a"   # earlier copy becomes canonical
    assert ix.add("c", None, _flip(s, 63)) == "a"               # undated copy never wins
    assert ix.add("x", "2020-01-01", ~s & dedup.MASK) == "x"    # unrelated
    assert ix.canonical("b") == "a" and ix.group("b") == ["a", "b", "c"]
    assert ix.groups() == [["a", "b", "c"]]
    assert len(ix) == 4 and "x" in ix


def test_dup_index_is_order_independent_and_replaces_changed_pages():
    s = 0x0F0F_0F0F_1234_5678
    items = [("p1", "2022-01-05", s), ("p2", "2022-01-03", _flip(s, 2)), ("p3", "2022-01-04", _flip(s, 2, 30))]
    for order in itertools.permutations(items):
        ix = dedup.DupIndex()
        for item in order:
            ix.add(*item)
        assert {ix.canonical(i) for i, _, _ in items} == {"p2"}
    # p2 is re-indexed with different content: it leaves the group, p3 becomes canonical
    ix.add("p2", "2022-01-03", ~s & dedup.MASK)
    assert ix.canonical("p1") == ix.canonical("p3") == "p3"
    assert ix.canonical("p2") == "p2"


def test_dup_index_remove_splits_a_bridged_group():
    s = 1 << 60
    a, bridge, c = _flip(s, 0, 1), s, _flip(s, 2, 3)  # a-bridge 2, bridge-c 2, a-c 4 apart
    assert dedup.distance(a, c) > dedup.THRESHOLD
    ix = dedup.DupIndex()
    ix.add("a", "2020-01-01", a)
    ix.add("c", "2020-01-03", c)
    assert ix.canonical("c") == "c"
    ix.add("bridge", "2020-01-02", bridge)
    assert ix.canonical("c") == "a"
    ix.remove("bridge")
    assert ix.canonical("a") == "a" and ix.canonical("c") == "c"
    ix.remove("nope")  # unknown ids are ignored
    with pytest.raises(KeyError):
        ix.canonical("bridge")


def test_components_equal_dup_index_groups() -> None:
    """The whole-index grouping agrees with adding every notice to a DupIndex."""
    import random

    import numpy as np

    from indexer.dedup import DupIndex, components

    rng = random.Random(7)
    sigs: list[int] = []
    for _ in range(400):
        base = rng.getrandbits(64)
        sigs.append(base)
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            s = base
            for bit in rng.sample(range(64), rng.randint(0, 4)):  # 4 bits: no longer a repost
                s ^= 1 << bit
            sigs.append(s)
    # a chain: each link within 3 bits of the next, the ends further apart
    chain = [rng.getrandbits(64)]
    for bit in (0, 1, 2, 3, 4, 5):
        chain.append(chain[-1] ^ (1 << (10 + bit)))
    sigs += chain + [0, 0, sigs[5], sigs[5]]
    rng.shuffle(sigs)
    dup = DupIndex()
    for i, s in enumerate(sigs):
        dup.add(str(i), None, s)
    expected = sorted(sorted(int(m) for m in g) for g in dup.groups())
    labels = components(sigs)
    got: dict[int, list[int]] = {}
    for i, lab in enumerate(labels.tolist()):
        if lab >= 0:
            got.setdefault(lab, []).append(i)
    assert sorted(got.values()) == expected
    assert len(expected) > 50  # the data has reposts, so the comparison says something
    assert any(len(g) >= 7 for g in expected)  # the chain is one group
    assert all(labels[i] == -1 for i, s in enumerate(sigs) if s == 0)
    assert isinstance(labels, np.ndarray)

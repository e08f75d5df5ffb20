"""Normalisation and term analysis: the same text must give the same terms on both sides."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.analysis import (
    index_terms,
    needs_boundaries,
    normalize,
    required_terms,
    word_boundary_pattern,
)


def test_nfkc_makes_fullwidth_and_halfwidth_agree() -> None:
    assert normalize("，ＡＢＣ１２３") == ",abc123"
    assert normalize("巡视整改,") == normalize("巡视整改，")


def test_traditional_maps_to_simplified_one_to_one() -> None:
    trad = "巡視整改進展情況"
    assert normalize(trad) == "巡视整改进展情况"
    assert len(normalize(trad)) == len(trad)


def test_index_terms_are_unigrams_bigrams_and_words() -> None:
    terms = index_terms(normalize("巡视整改 PM2.5"))
    for t in ("巡", "视", "整", "改", "巡视", "视整", "整改", "pm2", "5"):
        assert t in terms, t
    assert "巡视整" not in terms  # no trigrams
    assert index_terms("整改整改") == {"整": 2, "改": 2, "整改": 2, "改整": 1}


def test_required_terms_exactness() -> None:
    assert required_terms("整") == (["整"], True)
    assert required_terms("整改") == (["整改"], True)
    terms, exact = required_terms("巡视整改")
    assert exact is False and terms == ["巡视", "视整", "整改"]
    assert required_terms("5g") == (["5g"], True)
    terms, exact = required_terms("pm2.5")
    assert exact is False and set(terms) == {"pm2", "5"}


def test_word_boundaries_only_at_ascii_edges() -> None:
    pat = word_boundary_pattern("ab")
    assert pat.search("x ab y".encode())
    assert not pat.search("abc".encode())
    assert pat.search("中ab文".encode())
    assert needs_boundaries("ab") and not needs_boundaries("巡视")


CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x4E80)
MIXED = st.one_of(CJK, st.sampled_from(list("，。 ab12")))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=CJK, min_size=1, max_size=8), st.text(alphabet=MIXED, max_size=20), st.text(alphabet=MIXED, max_size=20))
def test_candidate_filter_never_misses_a_cjk_literal(lit: str, before: str, after: str) -> None:
    """Any text containing a CJK literal holds every term the literal requires."""
    terms, _ = required_terms(normalize(lit))
    text_terms = index_terms(normalize(before + lit + after))
    assert terms and all(t in text_terms for t in terms)


def test_repeated_characters_are_not_proof() -> None:
    # 一一一 needs 一一 twice in a row: the single bigram is a candidate filter, not proof
    assert required_terms("一一一") == (["一一"], False)
    assert required_terms("徽:") == (["徽"], False)


# -- letter spacing (issue 11) -------------------------------------------------------------


def _collapse(text: str) -> str:
    from indexer.analysis import collapse_letter_spacing

    return collapse_letter_spacing(normalize(text))


def test_letter_spaced_runs_are_joined() -> None:
    assert _collapse("巡 察 公 告") == "巡察公告"
    assert _collapse("巡\u3000察\u3000公\u3000告") == "巡察公告"  # ideographic spaces
    assert _collapse("巡\t察  公   告") == "巡察公告"  # tabs, runs of spaces
    assert _collapse("中 共 某 某 县 委") == "中共某某县委"
    assert _collapse("巡 察 公 告——十三届市委第一轮巡察") == "巡察公告——十三届市委第一轮巡察"
    # only the single characters join: the word after the run keeps its space
    assert _collapse("关 于 开 展 巡察工作") == "关于开展 巡察工作"
    # two single characters count (common headings; measured: no false join in the corpus)
    assert _collapse("通 知") == "通知"
    assert _collapse("第一章 总  则") == "第一章 总则"
    assert _collapse("组 长：韩 正") == "组长:韩正"


def test_ordinary_text_is_not_joined() -> None:
    for text in [
        "2022 年",
        "2022 年 5 月",
        "巡察 整改",
        "巡察整改 工作",
        "pm 2 . 5 a b c",
        "甲、乙、丙",
        "甲，乙，丙",
        "甲 1 乙",
        "x巡 察公",
        "巡察公告",
        "",
    ]:
        assert _collapse(text) == normalize(text), text


def test_letter_spacing_never_joins_lines() -> None:
    assert _collapse("巡\n察\n公\n告") == "巡\n察\n公\n告"
    assert _collapse("巡 察\n公 告") == "巡察\n公告"
    from indexer.analysis import matching_text

    assert matching_text("巡　察　公　告\n根据 部 署") == "巡察公告\n根据 部署"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.one_of(CJK, st.sampled_from(list(" \u3000\t\n，a1")))))
def test_collapse_only_removes_inner_whitespace(text: str) -> None:
    from indexer.analysis import collapse_letter_spacing, letter_spacing_gaps

    norm = normalize(text)
    out = collapse_letter_spacing(norm)
    assert "".join(out.split()) == "".join(norm.split())  # no visible character changes
    assert out.count("\n") == norm.count("\n")
    assert collapse_letter_spacing(out) == out  # idempotent
    for s, e in letter_spacing_gaps(norm):
        assert norm[s:e].isspace() and "\n" not in norm[s:e]

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

"""Random HTML and random queries: no exception escapes the cleaner or the query layer."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.clean import clean_html, clean_text
from indexer.query import parse
from indexer.search import Archive, SearchError, SearchRequest

TAGS = ["div", "p", "span", "table", "tr", "td", "script", "style", "a", "br", "html", "body", "head", "title", "h1", "ul", "li"]
pieces = st.one_of(
    st.sampled_from([f"<{t}>" for t in TAGS] + [f"</{t}>" for t in TAGS] + ["<!--", "-->", "<![CDATA[", "&nbsp;", "&#0;", "&#x110000;", "<meta charset='gbk'>", "上一篇", "分享到", "ICP备"]),
    st.text(max_size=30),
)
html_docs = st.lists(pieces, max_size=60).map("".join)
queries = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(['"', "(", ")", "OR", "AND", "NOT", "-", "title:", "issuer:", "巡察", "整改", "*", "?", " ", "ab", "５Ｇ"]), max_size=20).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(html_docs)
def test_cleaner_never_raises(doc: str) -> None:
    page = clean_html(doc)
    assert isinstance(page.paragraphs, list)
    clean_text(doc)


@settings(max_examples=300, deadline=None)
@given(queries)
def test_query_parser_never_raises(q: str) -> None:
    parsed = parse(q)
    assert isinstance(parsed.messages, list)


@pytest.fixture(scope="module")
def archive(demo_index: Path) -> Archive:
    return Archive(demo_index)


def test_random_queries_against_the_index(archive: Archive) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(queries, st.sampled_from(["relevance", "date"]))
    def check(q: str, sort: str) -> None:
        try:
            res = archive.search(SearchRequest(q=q, sort=sort))
        except SearchError:
            return
        assert res.total >= 0

    check()

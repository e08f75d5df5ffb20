"""The index schema. Keep this module at `indexer.schema`: Whoosh pickles the schema into
the index, and unpickling it needs the field classes at the same import path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from indexer.analysis import index_terms
from indexer.whooshlib import fields, formats, columns

# Bumped whenever the schema or the analysis changes incompatibly: an index written with
# another version is rebuilt rather than silently searched with the wrong analysis.
SCHEMA_VERSION = "5"

class GramField(fields.FieldType):
    """Position-free CJK unigrams + bigrams and whole Latin/digit words.

    The value given to the writer is already normalised (indexer.analysis.normalize); the
    terms are counted in one pass with a Counter instead of through Whoosh's per-token
    analyzer chain, which is several times slower for character grams.
    """

    def __init__(self) -> None:
        # Existence format (no per-posting value bytes); the posting weight carries the
        # term's frequency in the document, which ranks single-term literals without a scan.
        super().__init__(formats.Existence(), analyzer=None, scorable=False, stored=False)

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        counts = value if isinstance(value, dict) else index_terms(value)
        for term, count in counts.items():
            yield term.encode("utf-8"), count, float(count), b""

    def self_parsing(self) -> bool:
        return False


def build_schema() -> Any:
    """Fields of one notice. Display fields are STORED only: search never parses them."""
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        # title + body, normalised: the candidate filter for every text query
        grams=GramField(),
        # the issuer, normalised: for issuer: queries
        igrams=GramField(),
        # codes of the region and all its ancestors (610000 610100 610104)
        region=fields.KEYWORD(stored=False),
        doc_type=fields.ID(stored=True),
        year=fields.ID(stored=False),
        source_file=fields.ID(stored=False),
        # normalised "title \x01 body \x01 issuer" as UTF-8, for literal verification
        vtext=fields.COLUMN(columns.VarBytesColumn()),
        # compact per-document record loaded once per reader for facets, sorting, build
        rec=fields.COLUMN(columns.VarBytesColumn()),
        title=fields.STORED(),
        body=fields.STORED(),
        date=fields.STORED(),
        issuer=fields.STORED(),
        province=fields.STORED(),
        city=fields.STORED(),
        district=fields.STORED(),
        region_code=fields.STORED(),
        doc_number=fields.STORED(),
        url=fields.STORED(),
        source=fields.STORED(),
        content_hash=fields.STORED(),
    )

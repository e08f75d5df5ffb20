"""Plain data passed between the pipeline stages.

Each stage (sources -> clean -> metadata -> index -> search) takes and returns these
dataclasses and nothing else, so a stage can be tested, replaced or run in another
process (they pickle) without knowing about its neighbours.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

# The fields of the `python -m indexer clean FILE --json` contract, in order.
CLEAN_JSON_FIELDS = (
    "title",
    "date",
    "issuer",
    "province",
    "city",
    "district",
    "region_code",
    "doc_type",
    "doc_number",
    "url",
    "body",
)


@dataclass
class RawPage:
    """One decoded page as read from disk, before any cleaning.

    `source` names where it came from in a way a user can find again: a file path, or
    `path#line=12` for a JSON-lines record, `path#record=3` for a WARC record.
    """

    source: str
    content: str
    is_html: bool
    url: str | None = None
    encoding: str = "utf-8"
    # Values given by the container itself (a JSON-lines record's `title`/`date`);
    # they win over anything read from the page.
    hints: dict[str, str] = field(default_factory=dict)


@dataclass
class CleanedPage:
    """The notice cut out of a page, plus the page-level facts read before boilerplate
    was dropped (bylines, meta tags and info tables carry the metadata but are not body).

    `meta` keys used by metadata.py (all optional, values are raw strings):
      pubdate      - a publication date string from a meta tag (PubDate, publishdate, ...)
      byline_date  - the date from a 发布时间/发布日期/时间 byline
      source       - 来源 from a byline, or ContentSource meta
      site_id_code - SiteIDCode meta
      info_<label> - a row of a 信息公开 table, e.g. info_发文机关, info_成文日期, info_发布日期,
                     info_文号, info_索引号
      canonical    - canonical / og:url address found in the page
      alternate_url - the address of the page's mobile copy (dates the page when its own
                     address is unknown)
      self_link    - the one link whose text is the title (pages saved without their address)
      title_site   - the site name a <title> ends with (places an office named without its place)
      column       - the site column / breadcrumb text (for context only)
    """

    title: str | None
    paragraphs: list[str]
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def body(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass
class Notice:
    """A cleaned notice with its metadata: what is indexed and what search returns."""

    id: str
    source: str
    title: str | None
    body: str
    url: str | None = None
    date: str | None = None  # ISO YYYY-MM-DD
    issuer: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    region_code: str | None = None  # 6-digit code of the most specific region known
    doc_type: str | None = None
    doc_number: str | None = None

    @property
    def content_hash(self) -> str:
        """Hash of everything that is indexed, so an unchanged page is skipped on rebuild."""
        h = hashlib.sha1()
        for value in self.to_clean_json().values():
            h.update((value or "").encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        return h.hexdigest()

    def to_clean_json(self) -> dict[str, Any]:
        """The `clean --json` contract: exactly CLEAN_JSON_FIELDS, absent values None."""
        d = asdict(self)
        return {k: d.get(k) for k in CLEAN_JSON_FIELDS}


class PageError(Exception):
    """A page (or a whole file) that cannot be turned into a notice.

    Raised or yielded with the source it concerns so the batch can report it and go on.
    """

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Exceptions pickle their `args`, which would lose `reason`; worker processes
        # send PageErrors back to the build, so keep both.
        return (PageError, (self.source, self.reason))

"""RawPage -> Notice: the clean and metadata stages glued together.

Used by `build` (in worker processes), by `clean` on the command line and by the
evaluation, so all three see exactly the same notice for the same page.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit, urlunsplit

from indexer.clean import clean_page
from indexer.metadata import extract_metadata
from indexer.analysis import t2s_table
from indexer.models import CleanedPage, Notice, PageError, RawPage

# Bump when cleaning or metadata rules change what a page yields: it is part of every
# file's signature in the index, so the next build re-reads every file once and the
# archive never mixes notices extracted by old and new rules.
EXTRACTOR_VERSION = "8"  # 4: issue 14 (no notice lost, WeChat, titles as printed); 5: footer words inside prose kept; 6: document number matched as a body line; 7: issue 14 (properties tables in text, two-line headings, events not issuers, regions from the right place, organs completed by their site); 8: self-media sources, PDF page lines, e-paper labels

# Bounds on what one notice may hold, so a hostile page cannot bloat the index or a
# results page. Real notices are far below these.
MAX_TITLE_CHARS = 500
MAX_BODY_CHARS = 400_000


def canonical_url(url: str | None) -> str | None:
    """A URL reduced to what identifies the page (no fragment, lower-case host)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def notice_id(url: str | None, source: str) -> str:
    """Stable id from the canonical URL, else the source path: never from the content,
    so re-indexing a changed page replaces it instead of adding a second copy."""
    key = canonical_url(url) or f"source:{source}"
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _simplified(cleaned: CleanedPage) -> CleanedPage:
    """A copy with traditional characters mapped to simplified ones, so that metadata
    rules (region names, document types, signatures) also read traditional-script
    copies. The mapping is one character to one, so nothing shifts."""
    table = t2s_table()
    probe = (cleaned.title or "") + "".join(cleaned.paragraphs[:50])
    if not table or probe == probe.translate(table):
        return cleaned
    return CleanedPage(
        title=cleaned.title.translate(table) if cleaned.title else cleaned.title,
        paragraphs=[p.translate(table) for p in cleaned.paragraphs],
        meta={k: v.translate(table) for k, v in cleaned.meta.items()},
    )


def process_page(page: RawPage) -> Notice:
    """Clean a page and read its metadata; raise PageError when no notice is on it."""
    cleaned = clean_page(page)
    body = cleaned.body.strip()
    if not body:
        raise PageError(page.source, "no notice text found on the page")
    meta = extract_metadata(page, _simplified(cleaned))
    url = page.url or cleaned.meta.get("canonical") or None
    title = meta.get("title") or cleaned.title
    if title:
        title = title[:MAX_TITLE_CHARS]
    return Notice(
        id=notice_id(url, page.source),
        source=page.source,
        url=url,
        title=title,
        body=body[:MAX_BODY_CHARS],
        date=meta.get("date"),
        issuer=meta.get("issuer"),
        province=meta.get("province"),
        city=meta.get("city"),
        district=meta.get("district"),
        region_code=meta.get("region_code"),
        doc_type=meta.get("doc_type"),
        doc_number=meta.get("doc_number"),
    )

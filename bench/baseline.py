"""The baseline the archive is compared against: what one would build in an afternoon.

BeautifulSoup `get_text()` on every page (lxml parser, bytes in so bs4 decodes them) into a
plain Whoosh index analysed by jieba's `ChineseAnalyzer`, one writer with default
settings, one commit at the end. Fields:

* id     - ID, stored, unique (the path of the page)
* title  - TEXT(jieba), stored (the <title> text)
* body   - TEXT(jieba), NOT stored (the whole get_text() of the page, boilerplate included:
           the baseline has no cleaner)
* date   - ID, stored, sortable (ISO date; range filters are TermRange over it)
* region - KEYWORD of the region code and its ancestors

The baseline has no metadata extractor, so date and region come from the generator's truth
file for free (this favours the baseline: its build does no metadata work at all).

Run as a subprocess by bench.run so its build time and peak RSS are measured like ours:

    python -m bench.baseline build CORPUS_DIR INDEX_DIR --json
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from whoosh import fields, index
from whoosh.qparser import MultifieldParser
from whoosh.query import And, Term, TermRange


def analyzer() -> Any:
    from jieba.analyse import ChineseAnalyzer

    return ChineseAnalyzer()


def build_schema() -> Any:
    ana = analyzer()
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(analyzer=ana, stored=True),
        body=fields.TEXT(analyzer=ana, stored=False),
        date=fields.ID(stored=True, sortable=True),
        region=fields.KEYWORD(stored=False),
    )


def _meta(corpus: Path) -> dict[str, dict[str, Any]]:
    from bench.generate import load_truth
    from indexer import regions

    out = {}
    for t in load_truth(corpus):
        out[t.path] = {"date": t.date, "region": " ".join(regions.ancestors(t.region_code))}
    return out


def build(corpus: str | os.PathLike[str], index_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Index every page under CORPUS/notices into a fresh INDEX_DIR."""
    import jieba
    from bs4 import BeautifulSoup

    jieba.setLogLevel(60)
    t0 = time.monotonic()
    corpus = Path(corpus)
    index_dir = Path(index_dir)
    if index_dir.exists():
        shutil.rmtree(index_dir)
    index_dir.mkdir(parents=True)
    meta = _meta(corpus)
    ix = index.create_in(str(index_dir), build_schema())
    writer = ix.writer()
    n = 0
    nbytes = 0
    failed = 0
    for path in sorted((corpus / "notices").rglob("*.html")):
        rel = path.relative_to(corpus).as_posix()
        data = path.read_bytes()
        nbytes += len(data)
        try:
            soup = BeautifulSoup(data, "lxml")
            title = soup.title.get_text() if soup.title else ""
            body = soup.get_text()
        except Exception:
            failed += 1
            continue
        m = meta.get(rel, {})
        doc = {"id": rel, "title": title, "body": body}
        if m.get("date"):
            doc["date"] = m["date"]
        if m.get("region"):
            doc["region"] = m["region"]
        writer.add_document(**doc)
        n += 1
    writer.commit()
    return {"added": n, "failed": failed, "bytes": nbytes, "seconds": round(time.monotonic() - t0, 3)}


class Baseline:
    """Searches the baseline index the way a plain Whoosh app would."""

    def __init__(self, index_dir: str | os.PathLike[str]):
        import jieba

        jieba.setLogLevel(60)
        self.ix = index.open_dir(str(index_dir))
        self.searcher = self.ix.searcher()
        self.parser = MultifieldParser(["title", "body"], self.ix.schema)

    def close(self) -> None:
        self.searcher.close()

    def search(self, q: str, region: str | None = None, date_from: str | None = None,
               date_to: str | None = None, sort: str = "relevance", page: int = 1,
               per_page: int = 10) -> dict[str, Any]:
        """One request: parse, filter, sort, count all hits (len(results)), load the page."""
        query = self.parser.parse(q)
        filters = []
        if region:
            filters.append(Term("region", region))
        if date_from or date_to:
            filters.append(TermRange("date", date_from or "0000-00-00", date_to or "9999-99-99"))
        flt = None if not filters else (filters[0] if len(filters) == 1 else And(filters))
        kw: dict[str, Any] = {"filter": flt, "pagelen": per_page}
        if sort == "date":
            kw["sortedby"] = "date"
            kw["reverse"] = True
        res = self.searcher.search_page(query, page, **kw)
        total = len(res)  # counting every hit is part of a search page's cost
        hits = [{"id": h["id"], "title": h.get("title"), "date": h.get("date")} for h in res]
        return {"total": total, "hits": hits}

    def all_ids(self, q: str) -> set[str]:
        """Every matching id (for the correctness side-check, not timed)."""
        res = self.searcher.search(self.parser.parse(q), limit=None)
        return {h["id"] for h in res}


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m bench.baseline")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("corpus")
    b.add_argument("index")
    b.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    report = build(args.corpus, args.index)
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Score the cleaner against hand-cut gold pages: `python -m indexer.evaluate DIR [--json]`.

DIR holds `NNN_<site>.html` pages with `NNN.gold.json` beside them (see the README there).
The body score is character-level precision/recall/F1 over the multiset of non-space
characters after NFKC: it ignores line breaks and spacing (which extractors disagree on
for no reader-visible reason) but counts every dropped sentence and every leftover menu
item. Title, date and region are exact matches after normalisation. The same body scores
are computed for trafilatura and GNE as reference points when they are installed (pinned
in requirements-eval.txt), so "good" has a meaning.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.clean import clean_page
from indexer.models import CleanedPage, RawPage
from indexer.sources import decode_bytes

_SPACE_RE = re.compile(r"\s+")


def char_counts(text: str | None) -> Counter[str]:
    """Multiset of non-space characters after NFKC (the unit of the body score)."""
    norm = unicodedata.normalize("NFKC", text or "")
    return Counter(_SPACE_RE.sub("", norm))


def prf(predicted: str | None, gold: str | None) -> tuple[float, float, float]:
    """Character-multiset precision, recall and F1 of `predicted` against `gold`."""
    p, g = char_counts(predicted), char_counts(gold)
    overlap = sum((p & g).values())
    np_, ng = sum(p.values()), sum(g.values())
    if np_ == 0 and ng == 0:
        return 1.0, 1.0, 1.0
    precision = overlap / np_ if np_ else 0.0
    recall = overlap / ng if ng else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def same_text(a: str | None, b: str | None) -> bool:
    """Equal after NFKC and with all whitespace removed (titles split over lines)."""
    if not a or not b:
        return False
    norm = lambda s: _SPACE_RE.sub("", unicodedata.normalize("NFKC", s))  # noqa: E731
    return norm(a) == norm(b)


# --------------------------------------------------------------------------- references


def _trafilatura() -> Callable[[str], str | None] | None:
    try:
        import trafilatura
    except Exception:  # not installed, or its optional deps are broken
        return None

    def run(html: str) -> str | None:
        return trafilatura.extract(html, include_comments=False, include_tables=True,
                                   favor_precision=False)
    return run


def _gne() -> Callable[[str], str | None] | None:
    try:
        from gne import GeneralNewsExtractor
    except Exception:
        return None
    extractor = GeneralNewsExtractor()

    def run(html: str) -> str | None:
        result = extractor.extract(html)
        title = result.get("title") or ""
        # Gold bodies start with the title; GNE returns it separately, so add it back to
        # compare like with like.
        return (title + "\n" + (result.get("content") or "")).strip()
    return run


REFERENCES: dict[str, Callable[[], Callable[[str], str | None] | None]] = {
    "trafilatura": _trafilatura,
    "gne": _gne,
}


# --------------------------------------------------------------------------- metadata


def _metadata_fn() -> Callable[[RawPage, CleanedPage], dict[str, Any]] | None:
    """metadata.py is written by someone else; evaluate without it when it is missing."""
    try:
        from indexer.metadata import extract_metadata
    except Exception:
        return None
    return extract_metadata


def _region_of(d: dict[str, Any]) -> tuple[Any, Any, Any]:
    return (d.get("province") or None, d.get("city") or None, d.get("district") or None)


# --------------------------------------------------------------------------- evaluation


@dataclass
class PageScore:
    page: str
    precision: float
    recall: float
    f1: float
    title_ok: bool
    date_ok: bool | None  # None: metadata not available
    region_ok: bool | None
    refs: dict[str, float | None] = field(default_factory=dict)
    title: str | None = None
    date: str | None = None
    gold_date: str | None = None


def gold_pairs(folder: Path) -> list[tuple[Path, Path]]:
    """(html, gold.json) pairs in `folder`, sorted by number."""
    pairs = []
    for gold in sorted(folder.glob("*.gold.json")):
        num = gold.name.split(".", 1)[0]
        pages = sorted(folder.glob(f"{num}_*.htm*"))
        if pages:
            pairs.append((pages[0], gold))
    return pairs


def evaluate_page(html_path: Path, gold_path: Path,
                  refs: dict[str, Callable[[str], str | None] | None] | None = None,
                  metadata: Callable[[RawPage, CleanedPage], dict[str, Any]] | None = None,
                  ) -> PageScore:
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    text, enc = decode_bytes(html_path.read_bytes())
    page = RawPage(source=str(html_path), content=text, is_html=True, url=gold.get("url"),
                   encoding=enc)
    cleaned = clean_page(page)
    p, r, f = prf(cleaned.body, gold.get("body"))
    title = cleaned.title
    date_ok = region_ok = None
    date = None
    if metadata is not None:
        try:
            md = metadata(page, cleaned)
        except Exception as exc:  # their bug must not hide our scores
            md = {"error": repr(exc)}
        title = md.get("title") or title
        date = md.get("date")
        date_ok = (date or None) == (gold.get("date") or None)
        region_ok = _region_of(md) == _region_of(gold)
    ref_scores: dict[str, float | None] = {}
    for name, fn in (refs or {}).items():
        if fn is None:
            ref_scores[name] = None
            continue
        try:
            ref_scores[name] = prf(fn(text), gold.get("body"))[2]
        except Exception:
            ref_scores[name] = 0.0
    return PageScore(page=html_path.name, precision=p, recall=r, f1=f,
                     title_ok=same_text(title, gold.get("title")), date_ok=date_ok,
                     region_ok=region_ok, refs=ref_scores, title=title, date=date,
                     gold_date=gold.get("date"))


def evaluate_dir(folder: Path, with_refs: bool = True) -> dict[str, Any]:
    """Score every gold page in `folder`; returns per-page rows and means."""
    refs = {name: make() for name, make in REFERENCES.items()} if with_refs else {}
    metadata = _metadata_fn()
    rows = [evaluate_page(h, g, refs, metadata) for h, g in gold_pairs(folder)]
    n = len(rows) or 1

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    summary: dict[str, Any] = {
        "pages": len(rows),
        "precision": mean([r.precision for r in rows]),
        "recall": mean([r.recall for r in rows]),
        "f1": mean([r.f1 for r in rows]),
        "min_f1": min((r.f1 for r in rows), default=0.0),
        "title_accuracy": sum(r.title_ok for r in rows) / n,
        "date_accuracy": (sum(bool(r.date_ok) for r in rows) / n) if metadata else None,
        "region_accuracy": (sum(bool(r.region_ok) for r in rows) / n) if metadata else None,
        "metadata": "available" if metadata else "n/a (indexer.metadata not importable)",
        "references": {},
    }
    for name, fn in refs.items():
        if fn is None:
            summary["references"][name] = "not installed"
        else:
            summary["references"][name] = mean([r.refs[name] or 0.0 for r in rows])
    return {"rows": [r.__dict__ for r in rows], "summary": summary}


def _fmt(v: float | bool | None) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "ok" if v else "MISS"
    return f"{v:.3f}"


def format_table(result: dict[str, Any]) -> str:
    summary = result["summary"]
    ref_names = list(summary["references"])
    head = ["page", "P", "R", "F1", "title", "date", "region"] + [f"{n} F1" for n in ref_names]
    lines = ["\t".join(head)]
    for row in result["rows"]:
        cells = [row["page"], _fmt(row["precision"]), _fmt(row["recall"]), _fmt(row["f1"]),
                 _fmt(row["title_ok"]), _fmt(row["date_ok"]), _fmt(row["region_ok"])]
        for name in ref_names:
            v = row["refs"].get(name)
            cells.append("not installed" if summary["references"][name] == "not installed"
                         else _fmt(v))
        lines.append("\t".join(cells))
    mean_cells = ["MEAN", _fmt(summary["precision"]), _fmt(summary["recall"]),
                  _fmt(summary["f1"]), _fmt(summary["title_accuracy"]),
                  _fmt(summary["date_accuracy"]), _fmt(summary["region_accuracy"])]
    for name in ref_names:
        v = summary["references"][name]
        mean_cells.append(v if isinstance(v, str) else _fmt(v))
    lines.append("\t".join(mean_cells))
    lines.append(f"min F1 {summary['min_f1']:.3f}; metadata: {summary['metadata']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else list(argv)
    if any(a == "--queries" or a.startswith("--queries=") for a in args_in):
        # Search evaluation over judged queries (issue 11): a different job with its own
        # options (--index, --corpus, --json), kept in its own module.
        from indexer import search_eval

        return search_eval.main(args_in)
    parser = argparse.ArgumentParser(prog="python -m indexer.evaluate",
                                      description="Score the cleaner against gold pages.")
    parser.add_argument("dir", type=Path, help="folder with NNN_<site>.html + NNN.gold.json")
    parser.add_argument("--queries", metavar="FILE",
                        help="instead: evaluate search on judged queries (JSONL), archive vs. "
                             "jieba baseline; see indexer/search_eval.py for its options")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--no-refs", action="store_true",
                        help="skip trafilatura/GNE (faster)")
    args = parser.parse_args(args_in)
    if not args.dir.is_dir():
        print(f"error: {args.dir} is not a folder", file=sys.stderr)
        return 2
    result = evaluate_dir(args.dir, with_refs=not args.no_refs)
    if not result["rows"]:
        print(f"error: no NNN.gold.json with a page beside it in {args.dir}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

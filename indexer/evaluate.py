"""Score the cleaner against hand-cut gold pages: `python -m indexer.evaluate DIR [--json]`.

DIR holds `NNN_<site>.html` pages with `NNN.gold.json` beside them (see the README there).
The body score is character-level precision/recall/F1 over the multiset of non-space
characters after NFKC: it ignores line breaks and spacing (which extractors disagree on
for no reader-visible reason) but counts every dropped sentence and every leftover menu
item. The title is scored verbatim (the page's own characters: full-width forms and script
count, only whitespace is ignored, since a heading printed over two lines is joined with a
space), the issuer as printed (whitespace runs equal), the region as (province, city,
district) and the date exactly. Metadata comes from `pipeline.process_page`, the same code
`build` runs. The same body scores are computed for trafilatura and GNE as reference points
when they are installed (pinned in requirements-eval.txt), so "good" has a meaning.

Gold sets: a folder of `NNN_<site>.html` + `NNN.gold.json` (../shared/corpus/gold), and the
demo corpus's ground truth (`samples/manifest.json`, or the folder holding it), whose entries
give title, issuer, region and date, and for the body the phrases it must and must not
contain (`body_ok`). Several may be given at once; every field's accuracy is printed per
set and over all pages.
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


def verbatim(a: str | None, b: str | None) -> bool:
    """The same characters as printed (no NFKC, no script mapping); whitespace ignored.
    Both absent counts as equal (a page without a title, gold null)."""
    if not a and not b:
        return True
    if not a or not b:
        return False
    return _SPACE_RE.sub("", a) == _SPACE_RE.sub("", b)


def same_issuer(a: str | None, b: str | None) -> bool:
    """Issuers as printed; joint issuers are joined by one space, so spacing runs agree."""
    norm = lambda s: " ".join((s or "").split()) or None  # noqa: E731
    return norm(a) == norm(b)


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
    """Metadata as `build` computes it (pipeline.process_page: the simplified copy for the
    rules, values as printed); None when the metadata stage cannot be imported."""
    try:
        from indexer.models import PageError
        from indexer.pipeline import process_page
    except Exception:
        return None

    def run(page: RawPage, cleaned: CleanedPage) -> dict[str, Any]:
        try:
            return process_page(page).to_clean_json()
        except PageError:
            return {}
    return run


def _region_of(d: dict[str, Any]) -> tuple[Any, Any, Any]:
    return (d.get("province") or None, d.get("city") or None, d.get("district") or None)


# --------------------------------------------------------------------------- evaluation


@dataclass
class PageScore:
    page: str
    precision: float
    recall: float
    f1: float
    title_ok: bool  # verbatim
    date_ok: bool | None  # None: metadata not available
    region_ok: bool | None
    refs: dict[str, float | None] = field(default_factory=dict)
    title: str | None = None
    date: str | None = None
    gold_date: str | None = None
    issuer_ok: bool | None = None
    issuer: str | None = None
    gold_title: str | None = None
    gold_issuer: str | None = None
    region: tuple[Any, Any, Any] | None = None
    gold_region: tuple[Any, Any, Any] | None = None
    body_ok: bool | None = None  # manifest entries: must/must-not phrases


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
    date_ok = region_ok = issuer_ok = None
    date = issuer = region = None
    if metadata is not None:
        try:
            md = metadata(page, cleaned)
        except Exception as exc:  # a bug there must not hide the body scores
            md = {"error": repr(exc)}
        title = md.get("title") or title
        date = md.get("date")
        issuer = md.get("issuer")
        region = _region_of(md)
        date_ok = (date or None) == (gold.get("date") or None)
        region_ok = region == _region_of(gold)
        issuer_ok = same_issuer(issuer, gold.get("issuer"))
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
                     title_ok=verbatim(title, gold.get("title")), date_ok=date_ok,
                     region_ok=region_ok, refs=ref_scores, title=title, date=date,
                     gold_date=gold.get("date"), issuer_ok=issuer_ok, issuer=issuer,
                     gold_title=gold.get("title"), gold_issuer=gold.get("issuer"),
                     region=region, gold_region=_region_of(gold))


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _accuracy(rows: list[PageScore], attr: str) -> float | None:
    values = [getattr(r, attr) for r in rows if getattr(r, attr) is not None]
    return sum(bool(v) for v in values) / len(values) if values else None


def evaluate_dir(folder: Path, with_refs: bool = True) -> dict[str, Any]:
    """Score every gold page in `folder`; returns per-page rows and means."""
    refs = {name: make() for name, make in REFERENCES.items()} if with_refs else {}
    metadata = _metadata_fn()
    rows = [evaluate_page(h, g, refs, metadata) for h, g in gold_pairs(folder)]
    summary: dict[str, Any] = {
        "pages": len(rows),
        "precision": _mean([r.precision for r in rows]),
        "recall": _mean([r.recall for r in rows]),
        "f1": _mean([r.f1 for r in rows]),
        "min_f1": min((r.f1 for r in rows), default=0.0),
        "title_accuracy": _accuracy(rows, "title_ok") or 0.0,
        "issuer_accuracy": _accuracy(rows, "issuer_ok") if metadata else None,
        "date_accuracy": _accuracy(rows, "date_ok") if metadata else None,
        "region_accuracy": _accuracy(rows, "region_ok") if metadata else None,
        "metadata": "available" if metadata else "n/a (indexer.metadata not importable)",
        "references": {},
    }
    for name, fn in refs.items():
        if fn is None:
            summary["references"][name] = "not installed"
        else:
            summary["references"][name] = _mean([r.refs[name] or 0.0 for r in rows])
    return {"rows": [r.__dict__ for r in rows], "summary": summary}


def evaluate_manifest(manifest_path: Path) -> dict[str, Any]:
    """Score the pipeline on a demo manifest (samples/manifest.json): every entry's title
    (verbatim), issuer, region and date, and its body against the phrases it must and must
    not contain. Keys are paths relative to the manifest's repository root."""
    from indexer.models import PageError
    from indexer.pipeline import process_page
    from indexer.sources import iter_pages

    manifest_path = manifest_path.resolve()
    root = manifest_path.parent.parent
    entries: dict[str, dict[str, Any]] = json.loads(
        manifest_path.read_text(encoding="utf-8"))["notices"]
    files = sorted({key.split("#", 1)[0] for key in entries})
    got: dict[str, Any] = {}
    for rel in files:
        for item in iter_pages([str(root / rel)]):
            if isinstance(item, PageError):
                continue
            key = rel + item.source[len(str(root / rel)):]
            try:
                got[key] = process_page(item).to_clean_json()
            except PageError:
                got[key] = {}
    rows = []
    for key, e in sorted(entries.items()):
        md = got.get(key, {})
        body = md.get("body") or ""
        body_ok = (bool(body) and all(p in body for p in e.get("must_contain", []))
                   and not any(p in body for p in e.get("must_not_contain", [])))
        rows.append(PageScore(
            page=key, precision=float(body_ok), recall=float(body_ok), f1=float(body_ok),
            title_ok=verbatim(md.get("title"), e.get("title")),
            date_ok=(md.get("date") or None) == (e.get("date") or None),
            region_ok=_region_of(md) == _region_of(e), title=md.get("title"),
            date=md.get("date"), gold_date=e.get("date"),
            issuer_ok=same_issuer(md.get("issuer"), e.get("issuer")), issuer=md.get("issuer"),
            gold_title=e.get("title"), gold_issuer=e.get("issuer"), region=_region_of(md),
            gold_region=_region_of(e), body_ok=body_ok))
    summary: dict[str, Any] = {
        "pages": len(rows),
        "body_accuracy": _accuracy(rows, "body_ok"),
        "title_accuracy": _accuracy(rows, "title_ok"),
        "issuer_accuracy": _accuracy(rows, "issuer_ok"),
        "date_accuracy": _accuracy(rows, "date_ok"),
        "region_accuracy": _accuracy(rows, "region_ok"),
        "metadata": "available",
        "references": {},
    }
    return {"rows": [r.__dict__ for r in rows], "summary": summary, "kind": "manifest"}


def evaluate_path(path: Path, with_refs: bool = True) -> dict[str, Any]:
    """A gold folder (NNN.gold.json + page) or a manifest (file, or the folder holding it)."""
    if path.is_file() and path.suffix == ".json":
        return evaluate_manifest(path)
    if path.is_dir() and (path / "manifest.json").is_file() and not gold_pairs(path):
        return evaluate_manifest(path / "manifest.json")
    return evaluate_dir(path, with_refs=with_refs)


FIELDS = ("body", "title", "issuer", "date", "region")


def overall(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-field accuracy over every page of every set. body: F1 >= 0.98 for gold pages,
    all phrases right for manifest entries."""
    rows = [r for res in results for r in res["rows"]]
    out: dict[str, Any] = {"pages": len(rows)}
    for f in FIELDS:
        if f == "body":
            values = [r["body_ok"] if r.get("body_ok") is not None else r["f1"] >= 0.98
                      for r in rows]
        else:
            values = [r.get(f"{f}_ok") for r in rows if r.get(f"{f}_ok") is not None]
        out[f"{f}_right"] = sum(bool(v) for v in values)
        out[f"{f}_accuracy"] = (sum(bool(v) for v in values) / len(values)) if values else None
    return out


def format_misses(result: dict[str, Any]) -> str:
    """One line per wrong field: what came out and what the gold says."""
    lines = []
    for row in result["rows"]:
        for f, got, want in (("title", row.get("title"), row.get("gold_title")),
                             ("issuer", row.get("issuer"), row.get("gold_issuer")),
                             ("date", row.get("date"), row.get("gold_date")),
                             ("region", row.get("region"), row.get("gold_region"))):
            if row.get(f"{f}_ok") is False:
                lines.append(f"  {row['page']}: {f} {got!r}, gold {want!r}")
        if row.get("body_ok") is False:
            lines.append(f"  {row['page']}: body misses a must_contain phrase or holds chrome")
    return "\n".join(lines)


def format_overall(total: dict[str, Any]) -> str:
    cells = []
    for f in FIELDS:
        acc = total[f"{f}_accuracy"]
        cells.append(f"{f} {total[f'{f}_right']}/{total['pages']}"
                     + (f" ({acc:.1%})" if acc is not None else ""))
    return "ALL " + str(total["pages"]) + " pages: " + ", ".join(cells)


def _fmt(v: float | bool | None) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "ok" if v else "MISS"
    return f"{v:.3f}"


def format_table(result: dict[str, Any]) -> str:
    summary = result["summary"]
    ref_names = list(summary["references"])
    if result.get("kind") == "manifest":
        lines = ["\t".join(["entry", "body", "title", "issuer", "date", "region"])]
        for row in result["rows"]:
            lines.append("\t".join([row["page"], _fmt(row["body_ok"]), _fmt(row["title_ok"]),
                                    _fmt(row["issuer_ok"]), _fmt(row["date_ok"]),
                                    _fmt(row["region_ok"])]))
        lines.append("\t".join(["ACCURACY", _fmt(summary["body_accuracy"]),
                                _fmt(summary["title_accuracy"]), _fmt(summary["issuer_accuracy"]),
                                _fmt(summary["date_accuracy"]), _fmt(summary["region_accuracy"])]))
        return "\n".join(lines)
    head = ["page", "P", "R", "F1", "title", "issuer", "date", "region"] + [
        f"{n} F1" for n in ref_names]
    lines = ["\t".join(head)]
    for row in result["rows"]:
        cells = [row["page"], _fmt(row["precision"]), _fmt(row["recall"]), _fmt(row["f1"]),
                 _fmt(row["title_ok"]), _fmt(row.get("issuer_ok")), _fmt(row["date_ok"]),
                 _fmt(row["region_ok"])]
        for name in ref_names:
            v = row["refs"].get(name)
            cells.append("not installed" if summary["references"][name] == "not installed"
                         else _fmt(v))
        lines.append("\t".join(cells))
    mean_cells = ["MEAN", _fmt(summary["precision"]), _fmt(summary["recall"]),
                  _fmt(summary["f1"]), _fmt(summary["title_accuracy"]),
                  _fmt(summary.get("issuer_accuracy")), _fmt(summary["date_accuracy"]),
                  _fmt(summary["region_accuracy"])]
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
    parser.add_argument("dir", type=Path, nargs="+",
                        help="folder with NNN_<site>.html + NNN.gold.json, or a manifest.json "
                             "(samples/manifest.json, or the folder holding it)")
    parser.add_argument("--queries", metavar="FILE",
                        help="instead: evaluate search on judged queries (JSONL), archive vs. "
                             "jieba baseline; see indexer/search_eval.py for its options")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--no-refs", action="store_true",
                        help="skip trafilatura/GNE (faster)")
    args = parser.parse_args(args_in)
    results = []
    for path in args.dir:
        if not path.exists():
            print(f"error: {path} does not exist", file=sys.stderr)
            return 2
        result = evaluate_path(path, with_refs=not args.no_refs)
        if not result["rows"]:
            print(f"error: no NNN.gold.json with a page beside it (nor a manifest) in {path}",
                  file=sys.stderr)
            return 2
        result["path"] = str(path)
        results.append(result)
    total = overall(results)
    if args.json:
        out = results[0] if len(results) == 1 else {"sets": results}
        out["overall"] = total
        print(json.dumps(out, ensure_ascii=False, indent=2, default=list))
    else:
        for result in results:
            print(f"== {result['path']}")
            print(format_table(result))
            misses = format_misses(result)
            if misses:
                print(misses)
        print(format_overall(total))
    return 0


if __name__ == "__main__":
    sys.exit(main())

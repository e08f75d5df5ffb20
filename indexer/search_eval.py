"""Judged-query evaluation of search: the archive against a jieba + Whoosh baseline.

    python -m indexer.evaluate --queries bench/queries/natural.jsonl [--index DIR] [--json]
                               [--corpus PATH...]

Why this exists (issue 11): "a query of Chinese characters finds exactly the notices that
contain it" says nothing about the queries readers really type (run-on place + topic,
remembered titles, abbreviations, document numbers typed with other brackets). A judged set
(`bench/queries/natural.jsonl`, written and graded by reading the notices) turns that into
numbers, and a baseline built in the same run over the SAME cleaned text gives them a meaning:
Whoosh with jieba's `ChineseAnalyzer`, `MultifieldParser(["title", "body"])` with its
default settings, BM25F, top 10 - what one would build in an afternoon.

Judgments name notices by `doc_key`, which is stable across rebuilds and machines (the
archive's own ids are hashes of the URL or of the source path *as given on the command line*,
so they change with the working directory).

Metrics (k = 10), per system:

* zero-result rate over answerable queries (those with at least one grade >= 1 judgment);
* success@10: a *target* in the top 10, where the targets are the grade-2 notices, or every
  judged notice when the query has none of grade 2;
* MRR@10: 1 / rank of the first target in the top 10 (0 when none);
* nDCG@10: gains 2 / 1 from the grades, discount 1 / log2(rank + 1), ideal from the judgments;
* for `none` queries (nothing in the corpus answers them): how many got a hit that the archive
  marks as a full match (`match` of `exact` or `words`); the baseline has no such marking.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# The corpus the judged set was written over, relative to the project root.
DEFAULT_CORPUS: tuple[str, ...] = (
    "../shared/corpus/html",
    "../shared/corpus/notices.jsonl",
    "../shared/seeds",
    "samples",
)

# Query kinds of the judged set (bench/queries/README.md explains each).
KINDS: tuple[str, ...] = (
    "runon", "title", "abbrev", "topic", "year", "phrase", "ime", "docnum", "spaced", "none",
)

K = 10
FULL_MATCHES = frozenset({"exact", "words"})

# Folder names a stored source path is anchored at, so that the key does not depend on the
# working directory of the build: everything after the last `shared` (the shared corpus),
# else from the last `samples` (the demo pages of the checkout), else from `corpus`/`seeds`.
_ANCHOR_AFTER = "shared"
_ANCHOR_FROM = ("samples", "corpus", "seeds")


# --------------------------------------------------------------------------- doc keys


def doc_key(stored: Mapping[str, Any]) -> str:
    """A notice's stable name for judgments: its URL when it has one, else its source path
    relative to the shared folder or the checkout (`corpus/notices.jsonl#line=10`,
    `seeds/000_x.txt`, `samples/text/示例_安吉县_2020_巡察整改.txt`).

    The archive's own id is not used: it hashes the source path as typed on the command line
    (`../shared/...` from the checkout, an absolute path elsewhere), so it differs between
    machines. A `#line=N` / `#record=N` fragment is kept: it is the only thing that tells two
    notices of one JSON-lines file or WARC apart.
    """
    url = (stored.get("url") or "").strip()
    if url:
        return url
    source = (stored.get("source") or "").strip()
    if not source:
        raise ValueError("stored notice has neither url nor source")
    path, sep, fragment = source.replace("\\", "/").partition("#")
    parts = [p for p in PurePosixPath(path).parts if p not in ("", ".", "/")]
    rel: list[str] | None = None
    if _ANCHOR_AFTER in parts:
        i = len(parts) - 1 - parts[::-1].index(_ANCHOR_AFTER)
        rel = parts[i + 1:]
    else:
        for anchor in _ANCHOR_FROM:
            if anchor in parts:
                i = len(parts) - 1 - parts[::-1].index(anchor)
                rel = parts[i:]
                break
    if not rel:
        rel = [p for p in parts if p != ".."] or parts
    return "/".join(rel) + (sep + fragment if sep else "")


# --------------------------------------------------------------------------- judged set


class QueryFileError(ValueError):
    """A judged-query file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class JudgedQuery:
    q: str
    kind: str
    judgments: dict[str, int]
    note: str = ""

    @property
    def answerable(self) -> bool:
        return any(g >= 1 for g in self.judgments.values())

    def targets(self) -> set[str]:
        """The notices that count as success: grade 2, or any graded one if none is 2."""
        best = {k for k, g in self.judgments.items() if g >= 2}
        return best or {k for k, g in self.judgments.items() if g >= 1}


def parse_query_line(line: str, where: str) -> JudgedQuery:
    """One JSONL line -> JudgedQuery; a malformed line raises QueryFileError naming `where`."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise QueryFileError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise QueryFileError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    unknown = set(obj) - {"q", "kind", "judgments", "note"}
    if unknown:
        raise QueryFileError(f"{where}: unknown field(s) {sorted(unknown)}")
    q = obj.get("q")
    if not isinstance(q, str) or not q.strip():
        raise QueryFileError(f"{where}: \"q\" must be a non-empty string")
    kind = obj.get("kind")
    if kind not in KINDS:
        raise QueryFileError(f"{where}: \"kind\" must be one of {', '.join(KINDS)}; got {kind!r}")
    judgments = obj.get("judgments")
    if not isinstance(judgments, dict):
        raise QueryFileError(f"{where}: \"judgments\" must be an object of doc key -> grade")
    for key, grade in judgments.items():
        if not key.strip():
            raise QueryFileError(f"{where}: empty doc key in judgments")
        if isinstance(grade, bool) or grade not in (0, 1, 2):
            raise QueryFileError(f"{where}: grade of {key!r} must be 0, 1 or 2; got {grade!r}")
    if kind == "none" and any(g > 0 for g in judgments.values()):
        raise QueryFileError(f"{where}: a \"none\" query must not have relevant judgments")
    if kind != "none" and not any(g > 0 for g in judgments.values()):
        raise QueryFileError(f"{where}: a {kind!r} query needs at least one grade 1 or 2 judgment")
    note = obj.get("note", "")
    if not isinstance(note, str):
        raise QueryFileError(f"{where}: \"note\" must be a string")
    return JudgedQuery(q=q, kind=kind, judgments=dict(judgments), note=note)


def load_queries(path: str | os.PathLike[str]) -> list[JudgedQuery]:
    """Read a judged-query JSONL file (blank lines skipped). Fails on the first bad line,
    and on a query repeated, because a silently skipped or doubled query skews every figure."""
    path = Path(path)
    out: list[JudgedQuery] = []
    seen: dict[str, int] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise QueryFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise QueryFileError(f"{path}: not UTF-8") from None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        jq = parse_query_line(line, f"{path}:{n}")
        if jq.q in seen:
            raise QueryFileError(f"{path}:{n}: query {jq.q!r} already on line {seen[jq.q]}")
        seen[jq.q] = n
        out.append(jq)
    if not out:
        raise QueryFileError(f"{path}: no queries")
    return out


# --------------------------------------------------------------------------- metrics


def _first_seen(ranked: Sequence[str], k: int) -> list[str | None]:
    """Top-k keys with repeats blanked: a notice listed twice earns its gain once."""
    seen: set[str] = set()
    out: list[str | None] = []
    for key in list(ranked)[:k]:
        out.append(None if key in seen else key)
        seen.add(key)
    return out


def success_at_k(ranked: Sequence[str], targets: Iterable[str], k: int = K) -> float:
    """1.0 when one of `targets` is among the first k results, else 0.0."""
    t = set(targets)
    return 1.0 if any(key in t for key in list(ranked)[:k]) else 0.0


def reciprocal_rank(ranked: Sequence[str], targets: Iterable[str], k: int = K) -> float:
    """1 / rank of the first target within the first k results (0.0 when none)."""
    t = set(targets)
    for rank, key in enumerate(list(ranked)[:k], 1):
        if key in t:
            return 1.0 / rank
    return 0.0


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain with the standard log2(rank + 1) discount."""
    return sum(g / math.log2(rank + 1) for rank, g in enumerate(gains, 1))


def ndcg_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int = K) -> float:
    """nDCG@k with graded gains (grade 2 -> 2, grade 1 -> 1); the ideal ranking is the
    judgments sorted by grade. 0.0 for a query without relevant judgments."""
    ideal = dcg(sorted((g for g in judgments.values() if g > 0), reverse=True)[:k])
    if ideal <= 0:
        return 0.0
    gains = [float(judgments.get(key, 0)) if key is not None else 0.0
             for key in _first_seen(ranked, k)]
    return dcg(gains) / ideal


# --------------------------------------------------------------------------- systems


@dataclass
class RankedHit:
    key: str
    title: str
    match: str | None = None  # the archive's exact | words | partial; None for the baseline


@dataclass
class Answer:
    total: int
    hits: list[RankedHit]
    error: str | None = None
    relaxed: Any = None


def _match_kind(hit: Any) -> str | None:
    """The archive's match marking of a hit, whatever its shape (a string, or an object with
    a kind), None when the archive does not mark hits yet."""
    m = hit.get("match") if isinstance(hit, Mapping) else getattr(hit, "match", None)
    if isinstance(m, Mapping):
        m = m.get("kind") or m.get("match") or m.get("type")
    return str(m) if m else None


def _title_of(stored: Mapping[str, Any]) -> str:
    title = (stored.get("title") or "").strip()
    if title:
        return title
    body = " ".join((stored.get("body") or "").split())
    return f"[无标题] {body[:30]}"


def archive_supports_exact() -> bool:
    """True when SearchRequest has an `exact` field (query relaxation can be turned off)."""
    from indexer.search import SearchRequest

    return "exact" in {f.name for f in dataclasses.fields(SearchRequest)}


class ArchiveSystem:
    """Our archive, searched as the web UI does (relevance order, 10 a page)."""

    def __init__(self, index_dir: Path, exact: bool = False) -> None:
        from indexer.search import Archive

        self.name = "archive (exact)" if exact else "archive"
        self.exact = exact
        self.archive = Archive(index_dir)

    def search(self, q: str) -> Answer:
        from indexer.search import SearchError, SearchRequest

        kwargs: dict[str, Any] = {"q": q, "per_page": K}
        if self.exact:
            kwargs["exact"] = True
        try:
            res = self.archive.search(SearchRequest(**kwargs))
        except SearchError as exc:
            return Answer(total=0, hits=[], error=str(exc))
        hits = [RankedHit(key=doc_key({"url": h.url, "source": h.source}),
                          title=h.title or "[无标题]", match=_match_kind(h))
                for h in res.hits]
        return Answer(total=res.total, hits=hits, relaxed=getattr(res, "relaxed", None))

    def close(self) -> None:
        self.archive.close()


class BaselineSystem:
    """Whoosh + jieba's ChineseAnalyzer over the archive's own cleaned title and body, so
    the comparison is about search, not about page cleaning."""

    name = "baseline (jieba+whoosh)"

    def __init__(self, docs: Iterable[tuple[str, str, str]], workdir: Path) -> None:
        import jieba
        from jieba.analyse import ChineseAnalyzer
        from whoosh import fields, index
        from whoosh.qparser import MultifieldParser

        jieba.setLogLevel(60)
        analyzer = ChineseAnalyzer()
        schema = fields.Schema(
            key=fields.ID(stored=True, unique=True),
            title=fields.TEXT(analyzer=analyzer),
            body=fields.TEXT(analyzer=analyzer),
        )
        workdir.mkdir(parents=True, exist_ok=True)
        self.ix = index.create_in(str(workdir), schema)
        writer = self.ix.writer()
        for key, title, body in docs:
            writer.update_document(key=key, title=title, body=body)
        writer.commit()
        self.parser = MultifieldParser(["title", "body"], self.ix.schema)
        self.searcher = self.ix.searcher()

    def search(self, q: str) -> Answer:
        try:
            query = self.parser.parse(q)
            res = self.searcher.search(query, limit=K)
        except Exception as exc:  # the baseline's parser or search failing is a result too
            return Answer(total=0, hits=[], error=f"{type(exc).__name__}: {exc}")
        hits = [RankedHit(key=r["key"], title="") for r in res]
        return Answer(total=len(res), hits=hits)

    def close(self) -> None:
        self.searcher.close()


def stored_notices(index_dir: Path) -> list[dict[str, Any]]:
    """Stored fields of every live notice of an archive index, in docnum order."""
    from indexer.search import Archive

    arc = Archive(index_dir)
    try:
        snap = arc.snapshot()
        return [dict(snap.stored(d)) for d in sorted(snap.live_docs())]
    finally:
        arc.close()


def build_archive(paths: Sequence[str], index_dir: Path) -> dict[str, Any]:
    """Index `paths` into `index_dir` (failed pages are reported, not fatal: the judged set
    only names notices that index)."""
    from indexer.index import build

    report = build(list(paths), index_dir, workers=1, progress=False)
    return {"added": report.added, "failed": [list(f) for f in report.failed],
            "seconds": round(report.seconds, 2)}


# --------------------------------------------------------------------------- evaluation


def _mean(xs: Sequence[float]) -> float | None:
    return round(sum(xs) / len(xs), 4) if xs else None


def score_system(system: Any, queries: Sequence[JudgedQuery], titles: Mapping[str, str],
                 marks_matches: bool) -> dict[str, Any]:
    """Run every query on one system and aggregate the figures."""
    per_query: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for jq in queries:
        ans = system.search(jq.q)
        keys = [h.key for h in ans.hits]
        row: dict[str, Any] = {
            "q": jq.q, "kind": jq.kind, "total": ans.total,
            "top": [{"key": h.key, "title": titles.get(h.key) or h.title, "match": h.match}
                    for h in ans.hits[:3]],
        }
        if ans.error:
            row["error"] = ans.error
        if ans.relaxed is not None:
            row["relaxed"] = ans.relaxed
        if jq.answerable:
            targets = jq.targets()
            row.update(success=success_at_k(keys, targets), rr=reciprocal_rank(keys, targets),
                       ndcg=ndcg_at_k(keys, jq.judgments),
                       expected=[titles.get(k, k) for k in sorted(targets)][:3])
            first = next((h for h in ans.hits[:K] if h.key in targets), None)
            if first is not None and marks_matches:
                # how the archive reached the target: literally, by split words, partially
                row["target_match"] = first.match or "unmarked"
        else:
            full = [h for h in ans.hits if h.match in FULL_MATCHES]
            row["full_match_hits"] = len(full) if marks_matches else None
        per_query.append(row)
    seconds = time.perf_counter() - t0

    answerable = [r for r in per_query if "success" in r]
    none_rows = [r for r in per_query if "success" not in r]
    kinds: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        rows = [r for r in answerable if r["kind"] == kind]
        if rows:
            kinds[kind] = {"n": len(rows), "success@10": _mean([r["success"] for r in rows]),
                           "zero": sum(1 for r in rows if r["total"] == 0)}
    if marks_matches:
        none_full: Any = sum(1 for r in none_rows if r["full_match_hits"])
    else:
        none_full = None
    return {
        "name": system.name,
        "queries": len(per_query),
        "answerable": len(answerable),
        "zero_result_rate": _mean([1.0 if r["total"] == 0 else 0.0 for r in answerable]),
        "success@10": _mean([r["success"] for r in answerable]),
        "mrr@10": _mean([r["rr"] for r in answerable]),
        "ndcg@10": _mean([r["ndcg"] for r in answerable]),
        "per_kind_success@10": kinds,
        "none_queries": len(none_rows),
        "none_with_hits": sum(1 for r in none_rows if r["total"] > 0),
        "none_with_full_match": none_full,
        "failures": [r for r in answerable if not r["success"]],
        "successes_by_match": (dict(Counter(r["target_match"] for r in answerable
                                            if "target_match" in r)) if marks_matches else None),
        "query_ms": round(seconds * 1000 / max(1, len(per_query)), 2),
        "per_query": per_query,
    }


def check_judgments(queries: Sequence[JudgedQuery], known: set[str]) -> list[str]:
    """Judged keys that are not in the index: a moved page or a typo silently lowers every
    figure, so they are reported."""
    missing = sorted({k for jq in queries for k in jq.judgments if k not in known})
    return missing


def evaluate(queries: Sequence[JudgedQuery], index_dir: Path | None = None,
             corpus: Sequence[str] | None = None, with_baseline: bool = True,
             workdir: Path | None = None) -> dict[str, Any]:
    """Build (unless `index_dir` is given) the archive over `corpus`, the baseline over the
    archive's stored text, run every query on both and return all figures."""
    own_tmp = workdir is None
    work = Path(tempfile.mkdtemp(prefix="search_eval_")) if workdir is None else workdir
    report: dict[str, Any] = {"k": K}
    systems: list[Any] = []
    try:
        if index_dir is None:
            paths = list(corpus) if corpus else [str((ROOT / p).resolve()) for p in DEFAULT_CORPUS]
            missing_paths = [p for p in paths if not Path(p).exists()]
            if missing_paths:
                raise FileNotFoundError(f"corpus path(s) missing: {', '.join(missing_paths)}")
            index_dir = work / "archive"
            report["build"] = build_archive(paths, index_dir)
            report["corpus"] = paths
        report["index"] = str(index_dir)
        notices = stored_notices(index_dir)
        keys = [doc_key(n) for n in notices]
        titles = {k: _title_of(n) for k, n in zip(keys, notices)}
        report["notices"] = len(notices)
        report["unknown_judged_keys"] = check_judgments(queries, set(keys))

        systems.append(ArchiveSystem(index_dir))
        exact = archive_supports_exact()
        if exact:
            systems.append(ArchiveSystem(index_dir, exact=True))
        report["archive_exact_available"] = exact
        if with_baseline:
            t0 = time.perf_counter()
            docs = ((k, n.get("title") or "", n.get("body") or "") for k, n in zip(keys, notices))
            systems.append(BaselineSystem(docs, work / "baseline"))
            report["baseline_build_seconds"] = round(time.perf_counter() - t0, 2)

        report["kinds"] = {kind: sum(1 for q in queries if q.kind == kind) for kind in KINDS}
        report["systems"] = [
            score_system(s, queries, titles, marks_matches=isinstance(s, ArchiveSystem))
            for s in systems
        ]
        return report
    finally:
        for s in systems:
            s.close()
        if own_tmp:
            shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- output


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def format_report(report: Mapping[str, Any], show_failures: int = 60) -> str:
    """The figures as plain-text tables, then the archive's failures to help debugging."""
    systems = report["systems"]
    lines: list[str] = []
    if "build" in report:
        b = report["build"]
        lines.append(f"archive build: {b['added']} notices, {len(b['failed'])} failed pages, "
                     f"{b['seconds']}s")
    lines.append(f"index: {report['index']} ({report['notices']} notices)")
    if report.get("baseline_build_seconds") is not None:
        lines.append(f"baseline build: {report['baseline_build_seconds']}s")
    if not report.get("archive_exact_available"):
        lines.append("archive (exact): n/a (SearchRequest has no `exact` field yet)")
    if report.get("unknown_judged_keys"):
        lines.append(f"WARNING: {len(report['unknown_judged_keys'])} judged keys not in the "
                     f"index: {report['unknown_judged_keys'][:5]}")
    lines.append("")
    head = ["system", "answerable", "zero-result", "success@10", "MRR@10", "nDCG@10",
            "none:hits", "none:full-match", "ms/query"]
    rows = [head]
    for s in systems:
        nf = s["none_with_full_match"]
        rows.append([s["name"], str(s["answerable"]), _pct(s["zero_result_rate"]),
                     _pct(s["success@10"]), _pct(s["mrr@10"]), _pct(s["ndcg@10"]),
                     f"{s['none_with_hits']}/{s['none_queries']}",
                     "n/a" if nf is None else f"{nf}/{s['none_queries']}",
                     f"{s['query_ms']:.1f}"])
    lines.extend(_table(rows))
    lines.append("")
    lines.append("success@10 per kind (n = answerable queries of the kind)")
    rows = [["kind", "n"] + [s["name"] for s in systems]]
    for kind in KINDS:
        cells = [s["per_kind_success@10"].get(kind) for s in systems]
        if not any(cells):
            continue
        n = next(c["n"] for c in cells if c)
        rows.append([kind, str(n)] + [_pct(c["success@10"]) if c else "n/a" for c in cells])
    none_n = report["kinds"].get("none", 0)
    if none_n:
        rows.append(["none", str(none_n)] + ["(see none:)" for _ in systems])
    lines.extend(_table(rows))
    lines.append("")
    for s in systems:
        if s.get("successes_by_match"):
            parts = ", ".join(f"{k} {v}" for k, v in sorted(s["successes_by_match"].items()))
            lines.append(f"{s['name']}: first target in the top {K} matched as: {parts}")
    arch = systems[0]
    fails = arch["failures"]
    lines.append("")
    lines.append(f"{arch['name']}: {len(fails)} answerable queries without a target in the top {K}")
    for r in fails[:show_failures]:
        first = r["top"][0] if r["top"] else None
        got = (f"{first['title'][:40]} [{first['match'] or '-'}]" if first else "(no hits)")
        lines.append(f"  [{r['kind']}] {r['q']}  total={r['total']}  first: {got}")
        lines.append(f"        wanted: {' | '.join(t[:40] for t in r['expected'])}")
    full = [r for r in arch["per_query"] if r.get("full_match_hits")]
    if full:
        lines.append(f"{arch['name']}: none-queries with hits marked exact/words:")
        for r in full:
            lines.append(f"  {r['q']}: {r['full_match_hits']} hits, first: {r['top'][0]['title'][:40]}")
    return "\n".join(lines)


def _table(rows: list[list[str]]) -> list[str]:
    def width(s: str) -> int:  # CJK characters take two columns in a terminal
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    cols = [max(width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c + " " * (w - width(c)) for c, w in zip(r, cols)).rstrip() for r in rows]


def _json_ready(report: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(report, ensure_ascii=False, default=str))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m indexer.evaluate --queries",
        description="Judged-query search evaluation: the archive against jieba+Whoosh.")
    parser.add_argument("--queries", type=Path, required=True, help="judged queries (JSONL)")
    parser.add_argument("--index", type=Path, help="an existing archive index (default: build one)")
    parser.add_argument("--corpus", nargs="+", metavar="PATH",
                        help="pages to index (default: the shared corpus and samples/)")
    parser.add_argument("--json", action="store_true", help="print all figures as one JSON object")
    parser.add_argument("--no-baseline", action="store_true", help="skip the jieba baseline")
    args = parser.parse_args(argv)
    try:
        queries = load_queries(args.queries)
    except QueryFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.index is not None:
        from indexer import whooshlib

        if not whooshlib.exists(args.index):
            print(f"error: no index at {args.index}", file=sys.stderr)
            return 2
    try:
        report = evaluate(queries, index_dir=args.index, corpus=args.corpus,
                          with_baseline=not args.no_baseline)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(_json_ready(report), ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line: `python -m indexer build|clean|search|stats|serve|check`.

Every sub-command is a thin layer over the package's functions, so the CLI, the web app
and the tests exercise the same code. JSON output (`--json`) is a contract other tools
rely on; human output is for reading.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED_PAGES, EXIT_ERROR = 0, 1, 2


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def cmd_build(args: argparse.Namespace) -> int:
    from indexer.index import BuildError, build

    try:
        report = build(
            args.paths,
            args.index,
            prune=args.prune,
            rebuild=args.rebuild,
            batch_size=args.batch_size,
            workers=args.workers,
            wait=args.wait,
        )
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        _print_json(report.as_dict())
    else:
        print(
            f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
            f"deleted {report.deleted}, duplicates {report.duplicates}, failed {len(report.failed)} "
            f"({report.files_seen} files, {report.files_skipped} unchanged files skipped, "
            f"{report.seconds:.1f}s)"
        )
        for source, reason in report.failed:
            print(f"  failed: {source}: {reason}")
    return EXIT_FAILED_PAGES if report.failed else EXIT_OK


def cmd_clean(args: argparse.Namespace) -> int:
    from indexer.models import PageError
    from indexer.pipeline import process_page
    from indexer.sources import iter_pages

    status = EXIT_OK
    outputs: list[dict[str, Any]] = []
    for item in iter_pages([args.file]):
        if isinstance(item, PageError):
            print(f"error: {item.source}: {item.reason}", file=sys.stderr)
            status = EXIT_FAILED_PAGES
            continue
        try:
            notice = process_page(item)
        except PageError as exc:
            print(f"error: {exc.source}: {exc.reason}", file=sys.stderr)
            status = EXIT_FAILED_PAGES
            continue
        outputs.append(notice.to_clean_json())
    if not outputs and status == EXIT_OK:
        print(f"error: no page found in {args.file}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        _print_json(outputs[0] if len(outputs) == 1 else outputs)
    else:
        for out in outputs:
            for key, value in out.items():
                if key != "body":
                    print(f"{key}: {value if value is not None else '-'}")
            print()
            print(out["body"])
            print()
    return status


def cmd_search(args: argparse.Namespace) -> int:
    from indexer.search import Archive, SearchError, SearchRequest

    archive = Archive(args.index)
    req = SearchRequest(
        q=" ".join(args.query),
        region=args.region,
        date_from=args.date_from,
        date_to=args.date_to,
        doc_type=args.type,
        sort=args.sort,
        page=args.page,
        per_page=args.limit,
        exact=args.exact,
    )
    try:
        res = archive.search(req)
    except SearchError as exc:
        if args.json:
            _print_json({"error": str(exc)})
        else:
            print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        _print_json(res.as_dict())
        return EXIT_OK
    import html
    import re

    for m in res.messages:
        print(f"note: {m}")
    if res.relaxed:
        print(f"note: {res.relaxed['message']} (--exact: only the query as typed)")
    print(f"{res.total} notices ({res.took_ms:.1f} ms), page {res.page}/{res.pages}")
    for i, h in enumerate(res.hits, start=(res.page - 1) * res.per_page + 1):
        place = "".join(x for x in (h.province, h.city if h.city != h.province else None, h.district) if x)
        tag = {"words": " [分词匹配]", "partial": " [部分匹配，缺少：" + "、".join(h.missing) + "]"}.get(h.match, "")
        print(f"{i:>3}. {h.title or '(无标题)'}{tag}")
        print(f"     {h.date or '-'}  {place or '-'}  {h.issuer or '-'}  {h.doc_type or '-'}  id={h.id}")
        text = html.unescape(re.sub(r"</?mark>", "", h.snippet))
        print(f"     {text}")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from indexer.search import Archive, SearchError

    try:
        stats = Archive(args.index).stats()
    except SearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        _print_json(stats)
        return EXIT_OK
    print(f"documents: {stats['documents']}  segments: {stats['segments']}  "
          f"index size: {stats['index_bytes'] / 1e6:.1f} MB")
    for title, key in (("by province", "provinces"), ("by year", "years"), ("by type", "types")):
        print(f"\n{title}:")
        for name, count in stats[key].items():
            print(f"  {name}\t{count}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from indexer.check import main as check_main
    from indexer.index import default_index_dir

    return check_main(args.index or default_index_dir(), args.json)


def cmd_serve(args: argparse.Namespace) -> int:
    from indexer.server import serve

    index_dir = str(args.index or os.environ.get("INDEX_DIR") or "index")

    preloaded = _preload(index_dir)

    def make_app() -> Any:
        from app import create_app

        app = create_app({"INDEX_DIR": index_dir})
        archive = app.extensions.get("archive")
        if archive is not None and preloaded is not None:
            # everything a first search needs was derived before the fork: open the
            # worker's own snapshot and take it over, no warm-up search (~0.5 s at a
            # million notices before the worker would accept its first request)
            archive.inherit(preloaded)
            try:
                archive.snapshot()
            except Exception as exc:  # reported by the first request, as without a preload
                print(f"note: {exc}", file=sys.stderr)
        else:
            _warm_up(app)
        return app

    print(f"index: {index_dir}", flush=True)
    serve(make_app, host=args.host, port=args.port, threads=args.threads, workers=max(1, args.workers))
    return EXIT_OK


def _preload(index_dir: str) -> Any:
    """Load what every worker needs once, in the parent, before the workers fork: the web
    app's modules, the division table, the word segmenter's dictionary with every place
    name, the character tables, and the index's derived arrays (text positions, facet
    columns, repost groups: tens of MB at a million notices). The workers start with
    them and share their pages (never written, so never copied), instead of each
    spending seconds on them before its first answer. Each worker still opens the index
    itself after the fork (file offsets are per process; its large files are
    memory-mapped and shared through the page cache). Returns the parent's Archive, or
    None when there is no index yet."""
    import app  # noqa: F401  (Flask, numpy, Whoosh)
    from indexer import analysis, regions, segment
    from indexer.search import Archive, SearchError
    from indexer.whooshlib import IndexUnreadable

    regions.all_regions()
    analysis.t2s_table()
    segment.warm()
    # (checksums are verified by each worker's own snapshot: a background check here
    # would only read the index once more)
    archive = Archive(index_dir, verify=False)
    try:
        archive.prepare()
    except (SearchError, IndexUnreadable) as exc:
        print(f"note: {exc}", file=sys.stderr)
        return None
    return archive


def _warm_up(app: Any) -> None:
    """Open the index and load the division table before the first request, so the first
    user does not pay for them (a few hundred ms on a large index)."""
    from indexer.search import SearchError, SearchRequest

    archive = app.extensions.get("archive")
    if archive is None:
        return
    try:
        archive.search(SearchRequest(q="公告", per_page=1, collapse=True))
    except SearchError as exc:
        print(f"note: {exc}", file=sys.stderr)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m indexer", description="Notice archive: index and search scraped government notices.")
    sub = p.add_subparsers(dest="cmd", required=True)

    def add_index(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--index", type=Path, default=None, help="index folder (default: $INDEX_DIR or index/)")

    b = sub.add_parser("build", help="index files and folders (.html .txt .jsonl .warc.gz), incrementally")
    b.add_argument("paths", nargs="+")
    add_index(b)
    b.add_argument("--prune", action="store_true", help="remove notices whose source file is gone")
    b.add_argument("--rebuild", action="store_true", help="re-read every source into a new index built beside the old one and switched to when complete (needs room for both); the old index answers until then")
    b.add_argument("--batch-size", type=int, default=None,
                   help="notices per commit (a crash loses at most one batch); default 2,000, up to 20,000 for large builds (about 50 segments)")
    b.add_argument("--workers", type=int, default=None, help="cleaning processes (default: CPU count, at most 4)")
    b.add_argument("--wait", type=float, default=0.0, help="seconds to wait for another build to finish")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_build)

    c = sub.add_parser("clean", help="print one cleaned notice")
    c.add_argument("file")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_clean)

    s = sub.add_parser("search", help="search the index")
    s.add_argument("query", nargs="*")
    add_index(s)
    s.add_argument("--region")
    s.add_argument("--from", dest="date_from")
    s.add_argument("--to", dest="date_to")
    s.add_argument("--type")
    s.add_argument("--sort", choices=("relevance", "date"), default="relevance")
    s.add_argument("--limit", type=int, default=10)
    s.add_argument("--page", type=int, default=1)
    s.add_argument("--exact", action="store_true", help="only the query as typed: no word splitting, aliases or partial matches")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_search)

    st = sub.add_parser("stats", help="counts per province, year and type; index size")
    add_index(st)
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_stats)

    ck = sub.add_parser("check", help="read the whole index and report damaged files (exit 0 when sound)")
    add_index(ck)
    ck.add_argument("--json", action="store_true")
    ck.set_defaults(func=cmd_check)

    def cmd_export(args: argparse.Namespace) -> int:
        from indexer.export_opensearch import cli

        return cli(args)

    ex = sub.add_parser("export", help="export the archive for OpenSearch: mapping.json + bulk NDJSON files")
    ex.add_argument("--opensearch", type=Path, required=True, metavar="DIR", help="output folder (resumable)")
    add_index(ex)
    ex.add_argument("--per-file", type=int, default=5000, help="notices per bulk file (default 5000)")
    ex.add_argument("--index-name", default="notices", help="the _index named in the bulk files")
    ex.add_argument("--shards", type=int, default=1, help="number_of_shards in mapping.json")
    ex.add_argument("--replicas", type=int, default=1, help="number_of_replicas in mapping.json")
    ex.add_argument("--json", action="store_true")
    ex.set_defaults(func=cmd_export)

    sv = sub.add_parser("serve", help="serve the web UI with waitress")
    add_index(sv)
    sv.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    sv.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    sv.add_argument("--threads", type=int, default=8, help="request threads per process")
    sv.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")),
                    help="processes sharing the port (one core each under load; each holds the index texts)")
    sv.set_defaults(func=cmd_serve)

    def cmd_backup(args: argparse.Namespace) -> int:
        from indexer.backup import main as backup_main
        from indexer.index import default_index_dir

        return backup_main(args.index or default_index_dir(), args.dest, args.json)

    bk = sub.add_parser("backup", help="copy the latest committed generation to DEST (while serve and build run)")
    bk.add_argument("dest", type=Path, help="a new (or empty) folder; it becomes a complete index")
    add_index(bk)
    bk.add_argument("--json", action="store_true")
    bk.set_defaults(func=cmd_backup)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

"""Export the archive to OpenSearch: index settings + mapping, and bulk NDJSON files.

`python -m indexer export --opensearch DIR [--index DIR] [--per-file N]` writes

* `DIR/mapping.json`: the body of `PUT /<index>` (settings with the analysis chain, and
  the mapping), for an archive that outgrows one machine (see docs/SCALE.md);
* `DIR/bulk-00001.ndjson`, ...: the body of `POST /_bulk` requests, N notices a file
  (an `index` action line, then the notice), each line ending in a newline;
* `DIR/manifest.json`: what has been written so far (written atomically after each file).

Why a mapping with two copies of the text: the archive promises that a query finds exactly
the notices whose normalised title or body holds it (no miss, no false hit). Word-based
analysis cannot keep that promise, so the exact semantics live in OpenSearch's `wildcard`
field type (3-gram candidates verified against the whole value) over the *matching* text
(indexer.analysis.matching_text: NFKC, case folding, traditional -> simplified, letter
spacing collapsed), exported as `title_exact` / `body_exact` / `issuer_exact`. Ranking is a
separate concern: each exact field has a `bigram` text sub-field (standard tokenizer +
`cjk_bigram`) for BM25. What the page says (`title`, `body`, `issuer`) is kept as printed
for display, unindexed. docs/SCALE.md gives the choice and its cost.

Streaming and resumable: notices are read one at a time from the index's stored fields in
docnum order (never all in memory); each file is written to a temporary name, fsynced and
renamed, then the manifest records it. A rerun against the same index generation skips the
files the manifest lists (their sizes checked) and rewrites the rest; a rerun after the
index changed starts over, so an export never mixes two generations.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from indexer import hitsets, regions
from indexer.analysis import matching_text, normalize
from indexer.index import REC_SIG

FORMAT_VERSION = 1
DEFAULT_INDEX_NAME = "notices"
DEFAULT_PER_FILE = 5000
MAPPING_FILE = "mapping.json"
MANIFEST_FILE = "manifest.json"
BIGRAM_ANALYZER = "zh_bigram"
TITLE_BOOST = 3.0  # as indexer.ranking.TITLE_BOOST: a title occurrence weighs more
# Deepest result the archive serves: MAX_PAGE (10,000) pages of MAX_PER_PAGE (100).
MAX_RESULT_WINDOW = 1_000_000


class ExportError(Exception):
    """The export cannot run as asked (no index, an unusable output folder)."""


def bulk_name(n: int) -> str:
    return f"bulk-{n:05d}.ndjson"


# -- the index definition -------------------------------------------------------------------


def _exact(with_bigram: bool) -> dict[str, Any]:
    """A normalised matching copy for exact substring search.

    doc_values stay off: Lucene's sorted-set doc values refuse a value over 32,766 bytes
    (a body of ~11,000 CJK characters), which would reject the notice; verification then
    reads the value from _source, which is why the copy is in every exported document.
    """
    spec: dict[str, Any] = {"type": "wildcard", "doc_values": False}
    if with_bigram:
        spec["fields"] = {"bigram": {"type": "text", "analyzer": BIGRAM_ANALYZER}}
    return spec


def index_definition(shards: int = 1, replicas: int = 1) -> dict[str, Any]:
    """The body of `PUT /<index>`: settings (with the bigram analyzer) and the mapping."""
    keyword = {"type": "keyword"}
    stored_only = {"type": "text", "index": False}
    return {
        "settings": {
            "index": {
                "number_of_shards": shards,
                "number_of_replicas": replicas,
                "max_result_window": MAX_RESULT_WINDOW,
            },
            "analysis": {
                "filter": {
                    # Bigrams only (no output_unigrams): a phrase of bigrams at consecutive
                    # positions counts a literal's occurrences, and a query never becomes
                    # a token graph (unigrams overlapping bigrams) whose paths multiply.
                    "zh_bigram_filter": {"type": "cjk_bigram"},
                },
                "analyzer": {
                    BIGRAM_ANALYZER: {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["cjk_width", "lowercase", "zh_bigram_filter"],
                    },
                },
            },
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": keyword,
                # as printed (shown, never searched)
                "title": stored_only,
                "body": stored_only,
                "issuer": {"type": "keyword", "ignore_above": 512},
                # normalised matching text: exact substring search + BM25 sub-field
                "title_exact": _exact(True),
                "body_exact": _exact(True),
                "issuer_exact": _exact(False),
                "date": {"type": "date", "format": "strict_date"},
                "year": keyword,
                "province": keyword,
                "city": keyword,
                "district": keyword,
                "region_code": keyword,
                # the code and all its ancestors: a filter on any level is one term
                "region_codes": keyword,
                # the ancestor at each depth: facets one level below a filter
                "region_level1": keyword,
                "region_level2": keyword,
                "region_level3": keyword,
                "doc_type": keyword,
                "doc_number": {"type": "keyword", "ignore_above": 512},
                "url": {"type": "keyword", "index": False, "doc_values": False},
                "source": {"type": "keyword", "index": False, "doc_values": False},
                "content_hash": keyword,
                "simhash": keyword,
                # the id of the group's earliest copy (a notice's own id when it has none)
                "repost_group": keyword,
            },
        },
    }


# -- documents ------------------------------------------------------------------------------


def _valid_date(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        return None
    return value


def document(stored: dict[str, Any], repost_group: str | None = None, simhash: str | None = None) -> dict[str, Any]:
    """One exported notice from its stored fields: as printed, the matching copies, and
    the metadata as keywords. None values are left out (a missing field, not a null)."""
    title = stored.get("title") or ""
    body = stored.get("body") or ""
    issuer = stored.get("issuer") or ""
    code = stored.get("region_code") or None
    anc = regions.ancestors(code) if code else []
    date = _valid_date(stored.get("date"))
    doc: dict[str, Any] = {
        "id": stored.get("id"),
        "title": stored.get("title"),
        "body": stored.get("body"),
        "issuer": stored.get("issuer"),
        "title_exact": matching_text(title),
        "body_exact": matching_text(body),
        "issuer_exact": normalize(issuer) if issuer else None,
        "date": date,
        "year": date[:4] if date else None,
        "province": stored.get("province"),
        "city": stored.get("city"),
        "district": stored.get("district"),
        "region_code": code,
        "region_codes": anc or None,
        "doc_type": stored.get("doc_type"),
        "doc_number": stored.get("doc_number"),
        "url": stored.get("url"),
        "source": stored.get("source"),
        "content_hash": stored.get("content_hash"),
        "simhash": simhash,
        "repost_group": repost_group or stored.get("id"),
    }
    for depth, c in enumerate(anc[:3], start=1):
        doc[f"region_level{depth}"] = c
    return {k: v for k, v in doc.items() if v is not None and v != ""}


def bulk_lines(index_name: str, doc: dict[str, Any]) -> bytes:
    """The two lines of one `index` action, UTF-8, each ending in a newline. json.dumps
    escapes control characters, so a notice never spans more than its source line."""
    action = json.dumps({"index": {"_index": index_name, "_id": doc["id"]}}, ensure_ascii=False, separators=(",", ":"))
    source = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return (action + "\n" + source + "\n").encode("utf-8", "replace")


# -- the export -----------------------------------------------------------------------------


@dataclass
class ExportReport:
    out_dir: Path
    notices: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)
    skipped_files: int = 0  # complete files from an earlier run, kept
    written_files: int = 0
    bytes: int = 0
    restarted: bool = False  # the index changed since the manifest: started over

    def as_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "notices": self.notices,
            "files": len(self.files),
            "written_files": self.written_files,
            "skipped_files": self.skipped_files,
            "bytes": self.bytes,
            "restarted": self.restarted,
        }


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_manifest(out_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((out_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _complete_files(manifest: dict[str, Any] | None, out_dir: Path, key: dict[str, Any]) -> list[dict[str, Any]]:
    """The files of an earlier run that can be kept: same index generation and settings,
    listed in order, present with the size recorded. The first missing or changed file
    and everything after it are written again."""
    if not manifest or any(manifest.get(k) != v for k, v in key.items()):
        return []
    kept: list[dict[str, Any]] = []
    for i, entry in enumerate(manifest.get("files") or [], start=1):
        if not isinstance(entry, dict) or entry.get("name") != bulk_name(i):
            break
        path = out_dir / entry["name"]
        try:
            if path.stat().st_size != entry.get("bytes"):
                break
        except OSError:
            break
        kept.append(entry)
    return kept


def live_docnums(snap: Any) -> np.ndarray:
    """Global docnums of the live notices, ascending (the export order)."""
    return np.flatnonzero(snap.live_mask)


def export(
    index_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    per_file: int = DEFAULT_PER_FILE,
    index_name: str = DEFAULT_INDEX_NAME,
    shards: int = 1,
    replicas: int = 1,
    on_file: Callable[[dict[str, Any]], None] | None = None,
) -> ExportReport:
    """Write mapping.json and the bulk files of every live notice of the index.

    `on_file` is called after each file is committed to the manifest (progress; tests use
    it to interrupt an export between files).
    """
    from indexer.search import Archive, SearchError

    if per_file < 1:
        raise ExportError("--per-file must be at least 1")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {out}: {exc.strerror}") from exc
    from indexer.whooshlib import IndexUnreadable

    archive = Archive(index_dir)
    try:
        snap = archive.snapshot()
        return _export(snap, out, per_file, index_name, shards, replicas, on_file)
    except (SearchError, IndexUnreadable) as exc:
        # a missing or damaged index: say so (run check, then build --rebuild)
        raise ExportError(str(exc)) from exc
    finally:
        archive.close()


def _export(snap: Any, out: Path, per_file: int, index_name: str, shards: int, replicas: int,
            on_file: Callable[[dict[str, Any]], None] | None) -> ExportReport:
    report = ExportReport(out)
    _write_atomic(out / MAPPING_FILE, (json.dumps(index_definition(shards, replicas), ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    docs = live_docnums(snap)
    key = {"format": FORMAT_VERSION, "index_name": index_name, "per_file": per_file,
           "generation": snap.generation, "total": int(len(docs))}
    old = _read_manifest(out)
    kept = _complete_files(old, out, key)
    report.restarted = old is not None and not kept and any(old.get(k) != v for k, v in key.items())
    # Files past the kept ones (a partial file, or files of another generation) go.
    keep_names = {e["name"] for e in kept}
    for p in out.glob("bulk-*.ndjson*"):
        if p.name not in keep_names:
            p.unlink()
    manifest: dict[str, Any] = dict(key, files=list(kept), complete=False)
    _write_atomic(out / MANIFEST_FILE, _manifest_bytes(manifest))
    report.files = list(kept)
    report.skipped_files = len(kept)

    st = hitsets.state_of(snap)
    reposts = st.reposts  # docnum -> members, earliest first (groups of 2 or more)
    records = snap.records
    start = len(kept) * per_file
    n_files = max(1, -(-len(docs) // per_file)) if len(docs) else 0
    for file_no in range(len(kept) + 1, n_files + 1):
        chunk = docs[start : start + per_file].tolist()
        start += len(chunk)
        path = out / bulk_name(file_no)
        tmp = path.with_name(path.name + ".tmp")
        digest = hashlib.sha256()
        size = 0
        with open(tmp, "wb") as f:
            for d in chunk:
                stored = snap.stored(d)
                group = reposts.get(d)
                rec = records[d] if d < len(records) else []
                sig = rec[REC_SIG] if len(rec) > REC_SIG and rec[REC_SIG].strip("0") else None
                group_id = snap.stored(group[0]).get("id") if group and group[0] != d else None
                data = bulk_lines(index_name, document(stored, group_id, sig))
                f.write(data)
                digest.update(data)
                size += len(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(out)
        entry = {"name": path.name, "notices": len(chunk), "bytes": size, "sha256": digest.hexdigest()}
        manifest["files"].append(entry)
        _write_atomic(out / MANIFEST_FILE, _manifest_bytes(manifest))
        report.files.append(entry)
        report.written_files += 1
        if on_file is not None:
            on_file(entry)
    manifest["complete"] = True
    _write_atomic(out / MANIFEST_FILE, _manifest_bytes(manifest))
    report.notices = sum(e["notices"] for e in report.files)
    report.bytes = sum(e["bytes"] for e in report.files)
    return report


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def iter_bulk_files(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """The bulk files of a complete export, in order (for loading into a cluster)."""
    out = Path(out_dir)
    manifest = _read_manifest(out)
    if not manifest or not manifest.get("complete"):
        raise ExportError(f"{out} holds no complete export (run python -m indexer export --opensearch {out})")
    for entry in manifest["files"]:
        yield out / entry["name"]


def cli(args: Any) -> int:
    """`python -m indexer export --opensearch DIR [--index DIR] [--per-file N]`: exit 0
    when the export is complete, 2 when it could not run (the message says why)."""
    import sys

    from indexer.index import default_index_dir

    index_dir = args.index or default_index_dir()
    files_before = 0

    def progress(entry: dict[str, Any]) -> None:
        nonlocal files_before
        files_before += 1
        if not args.json:
            print(f"  {entry['name']}: {entry['notices']} notices, {entry['bytes'] / 1e6:.1f} MB", flush=True)

    try:
        report = export(index_dir, args.opensearch, per_file=args.per_file, index_name=args.index_name,
                        shards=args.shards, replicas=args.replicas, on_file=progress)
    except (ExportError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        note = " (the index changed since the last export: started over)" if report.restarted else ""
        print(f"exported {report.notices} notices to {report.out_dir}: {len(report.files)} bulk files "
              f"({report.written_files} written, {report.skipped_files} kept from an earlier run), "
              f"{report.bytes / 1e6:.1f} MB{note}")
        print(f"load: PUT /{args.index_name} with {MAPPING_FILE}, then POST /_bulk with each bulk file "
              f"(Content-Type: application/x-ndjson)")
    return 0

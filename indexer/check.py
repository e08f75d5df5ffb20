"""`python -m indexer check`: is the index sound? In the spirit of Lucene's CheckIndex.

Reads the latest committed generation completely: the table of contents, every file of
every segment against the size and CRC-32 recorded at commit, every posting list (sorted,
in range, as many documents as the term info says), every stored document, the `rec`
column (one record a document, its id equal to the stored id, a well-formed file
signature) and the `vtext` column (one normalised text a document, and the grams it gives
exactly the grams posted for that document). Every problem is reported with the file it
is in; nothing is written.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from indexer import sidecar, whooshlib

FILESIG_RE = re.compile(r"^\d+:\d+:x\d+$")
GRAM_FIELDS = {"grams": 0, "igrams": 2}  # field -> part of the vtext blob its grams come from


@dataclass
class CheckReport:
    index: str
    generation: int = -1
    segments: int = 0
    documents: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, file: str, message: str) -> None:
        self.problems.append({"file": file, "problem": message})

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "index": self.index, "generation": self.generation, "segments": self.segments,
                "documents": self.documents, "problems": self.problems, "notes": self.notes}


def _err(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def check(index_dir: str | os.PathLike[str]) -> CheckReport:
    from whoosh.index import TOC
    from whoosh.reading import SegmentReader

    from indexer.index import VERSION_FILE, blob_terms
    from indexer.schema import SCHEMA_VERSION

    path = Path(index_dir)
    report = CheckReport(str(path))
    if not path.is_dir():
        report.problem(str(path), "no such folder")
        return report
    storage = whooshlib.storage(path)
    gen = TOC._latest_generation(storage, whooshlib.INDEX_NAME)
    if gen < 0:
        report.problem(str(path), "no table of contents (_MAIN_<n>.toc): not an index, or never committed")
        return report
    report.generation = gen
    tocname = TOC._filename(whooshlib.INDEX_NAME, gen)
    version = path / VERSION_FILE
    try:
        found = version.read_text().strip()
        if found != SCHEMA_VERSION:
            report.problem(VERSION_FILE, f"format {found!r}, this archive reads {SCHEMA_VERSION!r}")
    except OSError as exc:
        report.problem(VERSION_FILE, f"cannot read: {exc.strerror}")
    try:
        toc = TOC.read(storage, whooshlib.INDEX_NAME, gen)
    except Exception as exc:
        report.problem(tocname, f"cannot read the table of contents: {_err(exc)}")
        return report
    schema = toc.schema
    report.segments = len(toc.segments)

    names = set(os.listdir(path))
    live_ids: dict[str, str] = {}
    sig_by_file: dict[str, tuple[str, str]] = {}
    referenced: set[str] = set()
    for seg in toc.segments:
        sid = seg.segment_id()
        prefix = sid + "."
        present = sorted(n for n in names if n.startswith(prefix))
        referenced.update(present)
        doccount = seg.doc_count_all()
        deleted = set(seg.deleted_docs()) if seg.has_deletions() else set()
        report.documents += doccount - len(deleted)
        before = len(report.problems)

        # 1. files against the sizes and checksums recorded at commit
        try:
            sums = whooshlib.read_sums(path, sid)
        except whooshlib.IndexUnreadable as exc:
            report.problem(exc.file or sid + whooshlib.SUMS_EXT, str(exc))
            sums = None
        if sums is None:
            report.notes.append(f"{sid}: no checksums recorded (written by an older version); contents checked only")
        else:
            for name, (size, crc) in sorted(sums.items()):
                if name not in names:
                    report.problem(name, "missing")
                    continue
                try:
                    got_size, got_crc = whooshlib.crc32_file(path / name)
                except OSError as exc:
                    report.problem(name, f"cannot read: {exc.strerror}")
                    continue
                if got_size != size:
                    report.problem(name, f"truncated or extended: {got_size} bytes, {size} were written")
                elif got_crc != crc:
                    report.problem(name, "bytes changed since the commit (checksum mismatch)")
        for ext in (".trm", ".pst"):
            if sid + ext not in names and not any(p["file"] == sid + ext for p in report.problems):
                report.problem(sid + ext, "missing")
        if len(report.problems) > before:
            continue  # the contents of damaged files are not worth decoding

        # 2. contents
        try:
            reader = SegmentReader(storage, schema, seg)
        except Exception as exc:
            report.problem(sid + ".trm", f"the segment cannot be opened: {_err(exc)}")
            continue
        try:
            _check_segment(report, path, sid, reader, doccount, deleted, live_ids, sig_by_file, blob_terms)
        finally:
            try:
                reader.close()
            except Exception:
                pass

    leftovers = sorted(n for n in names if re.match(r"^(MAIN_[0-9a-z]+\.|_MAIN_\d+\.toc\.)", n) and n not in referenced)
    if leftovers:
        report.notes.append(f"{len(leftovers)} file(s) of no committed generation (removed by the next build): "
                            + ", ".join(leftovers[:5]))
    return report


def _check_segment(report: CheckReport, path: Path, sid: str, reader: Any, doccount: int, deleted: set[int],
                   live_ids: dict[str, str], sig_by_file: dict[str, tuple[str, str]], blob_terms: Any) -> None:
    from whoosh import columns

    pst, trm = sid + ".pst", sid + ".trm"
    # posting lists
    gram_counts = {name: np.zeros(doccount, dtype=np.int64) for name in GRAM_FIELDS}
    try:
        items = list(reader._terms.items())
    except Exception as exc:
        report.problem(trm, f"the term index cannot be read: {_err(exc)}")
        items = []
    bad_postings = 0
    for (fieldname, btext), terminfo in items:
        try:
            fmt = reader.schema[fieldname].format
            ids, weights = whooshlib._posting_arrays(reader._terms.matcher(fieldname, btext, fmt), True)
        except Exception as exc:
            bad_postings += 1
            if bad_postings <= 5:
                report.problem(pst, f"posting list of {fieldname}:{btext[:40]!r} cannot be read: {_err(exc)}")
            continue
        why = None
        if len(ids) != terminfo.doc_frequency():
            why = f"{len(ids)} documents, the term index says {terminfo.doc_frequency()}"
        elif len(ids) and (ids[0] < 0 or ids[-1] >= doccount):
            why = f"document number out of range (segment has {doccount})"
        elif len(ids) > 1 and (ids[1:] <= ids[:-1]).any():
            why = "document numbers not strictly increasing"
        elif weights is not None and len(weights) and (weights <= 0).any():
            why = "a posting with a weight of zero or less"
        if why:
            bad_postings += 1
            if bad_postings <= 5:
                report.problem(pst, f"posting list of {fieldname}:{btext[:40]!r}: {why}")
            continue
        if fieldname in gram_counts:
            gram_counts[fieldname][ids] += 1
    if bad_postings > 5:
        report.problem(pst, f"{bad_postings} posting lists damaged in all")

    # stored documents
    stored: list[dict[str, Any] | None] = []
    bad = 0
    for d in range(doccount):
        try:
            stored.append(reader.stored_fields(d))
        except Exception as exc:
            stored.append(None)
            bad += 1
            if bad <= 3:
                report.problem(sid + "._stored.col", f"document {d} cannot be read: {_err(exc)}")
    if bad > 3:
        report.problem(sid + "._stored.col", f"{bad} documents cannot be read in all")

    # rec and vtext columns: one value a document, within the file
    def column(name: str) -> list[bytes] | None:
        fname = f"{sid}.{name}.col"
        if not reader.has_column(name):
            report.problem(fname, "missing column")
            return None
        try:
            creader = reader.column_reader(name, column=columns.VarBytesColumn(), translate=False)
            offsets, lengths = list(creader._offsets), list(creader._lengths)
            data = (path / fname).read_bytes()
        except Exception as exc:
            report.problem(fname, f"cannot be read: {_err(exc)}")
            return None
        if len(offsets) != doccount or len(lengths) != doccount:
            report.problem(fname, f"{len(offsets)} values for {doccount} documents")
            return None
        end = max((o + n for o, n in zip(offsets, lengths)), default=0)
        if end > len(data):
            report.problem(fname, f"truncated: values end at byte {end}, the file has {len(data)}")
            return None
        return [data[o : o + n] for o, n in zip(offsets, lengths)]

    recs = column("rec")
    texts = column("vtext")
    _check_sidecar(path, sid, doccount, recs, texts, report)
    for d in range(doccount):
        doc = stored[d]
        if recs is not None:
            try:
                rec = recs[d].decode("utf-8").split(whooshlib.SEP)
            except UnicodeDecodeError:
                report.problem(f"{sid}.rec.col", f"document {d}: not UTF-8")
                recs = None
            else:
                if len(rec) < 8:
                    report.problem(f"{sid}.rec.col", f"document {d}: {len(rec)} values, 8 expected")
                    recs = None
                else:
                    if doc is not None and rec[0] != doc.get("id"):
                        report.problem(f"{sid}.rec.col", f"document {d}: id {rec[0]!r}, stored id {doc.get('id')!r}")
                    if doc is not None and rec[4] != doc.get("source_file", rec[4]):
                        report.problem(f"{sid}.rec.col", f"document {d}: file {rec[4]!r}, stored {doc.get('source_file')!r}")
                    if rec[5] and not FILESIG_RE.match(rec[5]):
                        report.problem(f"{sid}.rec.col", f"document {d}: malformed file signature {rec[5]!r}")
                    if d not in deleted:
                        if rec[0] in live_ids:
                            report.problem(f"{sid}.rec.col", f"id {rec[0]!r} is live twice (also in {live_ids[rec[0]]})")
                        live_ids[rec[0]] = sid
                        if rec[5]:
                            prev = sig_by_file.get(rec[4])
                            if prev is not None and prev[0] != rec[5]:
                                report.problem(f"{sid}.rec.col", f"file {rec[4]!r} has two signatures "
                                               f"({prev[0]} here, {rec[5]} in {prev[1]})")
                            sig_by_file[rec[4]] = (rec[5], sid)
        if texts is not None:
            try:
                blob = texts[d].decode("utf-8")
            except UnicodeDecodeError:
                report.problem(f"{sid}.vtext.col", f"document {d}: not UTF-8")
                texts = None
                continue
            if blob.count("\x01") < 2:
                report.problem(f"{sid}.vtext.col", f"document {d}: not a title/body/issuer text")
                texts = None
                continue
            if not bad_postings:
                terms, iterms = blob_terms(blob)
                for name, expected in (("grams", len(terms)), ("igrams", len(iterms))):
                    got = int(gram_counts[name][d])
                    if got != expected:
                        report.problem(f"{sid}.vtext.col", f"document {d}: its text gives {expected} distinct "
                                       f"{name}, {got} are posted (text and postings disagree)")
                        texts = None
                        break


def _check_sidecar(path: Path, sid: str, doccount: int, recs: list[bytes] | None, texts: list[bytes] | None,
                   report: Any) -> None:
    """The sidecar (search's per-document arrays) must say what the records and texts say:
    it is derived from them when the segment is written, and search reads it instead."""
    fname = sid + sidecar.EXT
    if not (path / fname).exists():
        return  # a segment written without one (older build or a merge): search derives it
    try:
        with open(path / fname, "rb") as fh:
            side = sidecar.open_mapped(fh, doccount)
    except (OSError, sidecar.SidecarError) as exc:
        report.problem(fname, f"cannot be read: {exc}")
        return
    if recs is None or texts is None:
        return
    again = sidecar.Collector()
    for raw_rec, blob in zip(recs, texts):
        rec = raw_rec.decode("utf-8", "replace").split(whooshlib.SEP) + [""] * 8
        again.add(blob, rec[whooshlib.REC_DATE], rec[whooshlib.REC_REGION], rec[whooshlib.REC_TYPE],
                  rec[whooshlib.REC_SIG])
    expected = sidecar.Sidecar(again.encode(), doccount)
    for name, arr in expected.arrays.items():
        got = side.arrays.get(name)
        if got is None and name in ("titles", "title_starts"):
            continue  # written without the joined titles: ranking derives them from the text
        if name == "titles" and got is not None:
            # (the first builds that wrote titles left out the separator after the last one)
            same = bytes(got).rstrip(b"\x01") == bytes(arr).rstrip(b"\x01")
        else:
            same = got is not None and got.shape == arr.shape and np.array_equal(got, arr)
        if not same:
            report.problem(fname, f"{name} differs from what the records and texts give")
            return
    for key in ("region", "type"):
        if side.vocab.get(key) != expected.vocab.get(key):
            report.problem(fname, f"its {key} vocabulary differs from the records")
            return


def main(index_dir: str | os.PathLike[str], as_json: bool) -> int:
    import json
    import sys

    report = check(index_dir)
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        for p in report.problems:
            print(f"problem: {p['file']}: {p['problem']}")
        for n in report.notes:
            print(f"note: {n}")
        if report.ok:
            print(f"ok: {report.documents} documents in {report.segments} segments (generation {report.generation})")
        else:
            print(f"{len(report.problems)} problem(s) in {report.index}; rebuild from the sources with "
                  "python -m indexer build PATH... --rebuild")
    return 0 if report.ok else 1

"""indexer/export_opensearch.py: mapping + settings and bulk NDJSON of the demo index.

No search server runs here, so the files are checked against the documented formats by
two small validators written from OpenSearch's documentation:

* Bulk API (docs.opensearch.org, api-reference/document-apis/bulk; im-plugin/indexing-
  data): newline-delimited JSON; each action is one line (`index`, `create`, `update` or
  `delete`, with `_index` and `_id`, the id at most 512 bytes); `index`, `create` and
  `update` are followed by a source line, `delete` is not; every line ends with a newline,
  the last one included.
* Mappings (mappings/supported-field-types/*, analyzers/*): each field has a known type
  and only that type's parameters; analyzers a field names are built in or defined under
  settings.analysis, and a custom analyzer's tokenizer and filters are too; `wildcard`
  (introduced 2.15) takes doc_values, ignore_above, normalizer, null_value (+ fields,
  copy_to, meta as every ParametrizedFieldMapper).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from indexer import export_opensearch as ex
from indexer import hitsets, regions
from indexer.analysis import matching_text, normalize
from indexer.search import Archive

ROOT = Path(__file__).resolve().parent.parent

# -- validators, from the documentation ----------------------------------------------------

BULK_ACTIONS = {"index", "create", "update", "delete"}
BULK_META = {"_index", "_id", "routing", "pipeline", "require_alias", "if_seq_no", "if_primary_term",
             "version", "version_type", "retry_on_conflict", "dynamic_templates"}
MAX_ID_BYTES = 512

COMMON_PARAMS = {"type", "fields", "copy_to", "meta"}
FIELD_PARAMS: dict[str, set[str]] = {
    "keyword": {"boost", "doc_values", "eager_global_ordinals", "ignore_above", "index", "index_options",
                "normalizer", "norms", "null_value", "similarity", "split_queries_on_whitespace", "store"},
    "text": {"analyzer", "boost", "eager_global_ordinals", "fielddata", "fielddata_frequency_filter",
             "index", "index_options", "index_prefixes", "index_phrases", "norms", "position_increment_gap",
             "store", "search_analyzer", "search_quote_analyzer", "similarity", "term_vector"},
    "wildcard": {"doc_values", "ignore_above", "normalizer", "null_value"},
    "date": {"boost", "doc_values", "format", "ignore_malformed", "index", "locale", "null_value", "store"},
    "integer": {"boost", "coerce", "doc_values", "ignore_malformed", "index", "null_value", "store"},
    "long": {"boost", "coerce", "doc_values", "ignore_malformed", "index", "null_value", "store"},
    "boolean": {"boost", "doc_values", "index", "null_value", "store"},
}
KNOWN_TYPES = set(FIELD_PARAMS) | {
    "alias", "binary", "byte", "short", "double", "float", "half_float", "unsigned_long", "scaled_float",
    "date_nanos", "ip", "integer_range", "long_range", "double_range", "float_range", "ip_range",
    "date_range", "object", "nested", "flat_object", "join", "match_only_text", "token_count",
    "constant_keyword", "completion", "search_as_you_type", "geo_point", "geo_shape", "percolator",
    "knn_vector", "rank_feature", "rank_features", "version", "derived", "star_tree",
}
BUILTIN_ANALYZERS = {"standard", "simple", "whitespace", "stop", "keyword", "pattern", "fingerprint",
                     "cjk", "english", "chinese", "smartcn"}
BUILTIN_TOKENIZERS = {"standard", "letter", "lowercase", "whitespace", "uax_url_email", "classic", "thai",
                      "ngram", "edge_ngram", "keyword", "pattern", "simple_pattern", "char_group",
                      "simple_pattern_split", "path_hierarchy", "icu_tokenizer"}
BUILTIN_FILTERS = {"lowercase", "uppercase", "cjk_width", "cjk_bigram", "asciifolding", "stop", "trim",
                   "unique", "length", "ngram", "edge_ngram", "shingle", "icu_normalizer", "icu_folding"}
FILTER_PARAMS = {"cjk_bigram": {"type", "ignored_scripts", "output_unigrams"}}
DATE_FORMATS = {"strict_date", "date", "strict_date_optional_time", "date_optional_time", "epoch_millis",
                "yyyy-MM-dd", "basic_date"}


def validate_bulk(data: bytes) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """Check a bulk body; return (action, metadata, source) per action."""
    assert data, "an empty bulk body"
    assert data.endswith(b"\n"), "the last line must end with a newline"
    text = data.decode("utf-8")  # raises on invalid UTF-8
    lines = text.split("\n")[:-1]  # OpenSearch splits on \n only (never on U+2028 etc.)
    out = []
    i = 0
    while i < len(lines):
        line = lines[i].removesuffix("\r")
        assert line.strip(), f"line {i + 1}: empty line"
        action_line = json.loads(line)
        assert isinstance(action_line, dict) and len(action_line) == 1, f"line {i + 1}: one action per line"
        action, meta = next(iter(action_line.items()))
        assert action in BULK_ACTIONS, f"line {i + 1}: unknown action {action}"
        assert isinstance(meta, dict) and set(meta) <= BULK_META, f"line {i + 1}: metadata {meta}"
        assert isinstance(meta.get("_index"), str) and meta["_index"], f"line {i + 1}: no _index"
        assert meta["_index"] == meta["_index"].lower() and not set(meta["_index"]) & set(' "*\\<|,>/?#:'), "bad index name"
        assert isinstance(meta.get("_id"), str) and 0 < len(meta["_id"].encode()) <= MAX_ID_BYTES, f"line {i + 1}: _id"
        source = None
        if action != "delete":
            assert i + 1 < len(lines), f"line {i + 1}: {action} without a source line"
            source = json.loads(lines[i + 1].removesuffix("\r"))
            assert isinstance(source, dict), f"line {i + 2}: the source is not an object"
            i += 1
        out.append((action, meta, source))
        i += 1
    return out


def validate_mapping(body: dict[str, Any]) -> dict[str, Any]:
    """Check a create-index body; return the mapped fields (name -> spec), multi-fields
    as `name.sub`."""
    assert set(body) <= {"settings", "mappings", "aliases"}
    settings = body.get("settings", {})
    index = settings.get("index", {})
    assert isinstance(index.get("number_of_shards", 1), int) and index.get("number_of_shards", 1) >= 1
    assert isinstance(index.get("number_of_replicas", 1), int) and index.get("number_of_replicas", 1) >= 0
    analysis = settings.get("analysis", {})
    filters = analysis.get("filter", {})
    for name, spec in filters.items():
        assert spec.get("type") in BUILTIN_FILTERS, f"filter {name}: type {spec.get('type')}"
        assert set(spec) <= FILTER_PARAMS.get(spec["type"], set(spec)), f"filter {name}: {spec}"
        if spec["type"] == "cjk_bigram":
            assert set(spec.get("ignored_scripts", [])) <= {"han", "hangul", "hiragana", "katakana"}
    analyzers = analysis.get("analyzer", {})
    for name, spec in analyzers.items():
        if spec.get("type", "custom") == "custom":
            tok = spec.get("tokenizer")
            assert tok in BUILTIN_TOKENIZERS or tok in analysis.get("tokenizer", {}), f"analyzer {name}: tokenizer {tok}"
            for f in spec.get("filter", []):
                assert f in BUILTIN_FILTERS or f in filters, f"analyzer {name}: filter {f} is not defined"
        else:
            assert spec["type"] in BUILTIN_ANALYZERS
    mappings = body["mappings"]
    assert mappings.get("dynamic", True) in (True, False, "true", "false", "strict", "strict_allow_templates")
    fields: dict[str, Any] = {}

    def check(name: str, spec: dict[str, Any]) -> None:
        ftype = spec.get("type", "object")
        assert ftype in KNOWN_TYPES, f"{name}: unknown type {ftype}"
        allowed = FIELD_PARAMS.get(ftype)
        if allowed is not None:
            assert set(spec) <= allowed | COMMON_PARAMS, f"{name}: {set(spec) - allowed - COMMON_PARAMS} not parameters of {ftype}"
        for key in ("analyzer", "search_analyzer", "search_quote_analyzer"):
            if key in spec:
                assert spec[key] in analyzers or spec[key] in BUILTIN_ANALYZERS, f"{name}: {key} {spec[key]} is not defined"
        if ftype == "date" and "format" in spec:
            assert all(f in DATE_FORMATS for f in spec["format"].split("||")), f"{name}: format {spec['format']}"
        fields[name] = spec
        for sub, sub_spec in spec.get("fields", {}).items():
            check(f"{name}.{sub}", sub_spec)

    for name, spec in mappings["properties"].items():
        check(name, spec)
    return fields


def check_document(doc: dict[str, Any], fields: dict[str, Any]) -> None:
    """A source line against the mapping: every field mapped (dynamic: strict) and of
    its type's JSON form."""
    for name, value in doc.items():
        assert name in fields, f"{name} is not in the mapping (dynamic: strict would refuse the notice)"
        values = value if isinstance(value, list) else [value]
        ftype = fields[name]["type"]
        for v in values:
            if ftype in ("keyword", "text", "wildcard"):
                assert isinstance(v, str), f"{name}: {v!r}"
            elif ftype == "date":
                assert isinstance(v, str) and len(v) == 10 and v[4] == v[7] == "-", f"{name}: {v!r}"


# -- the validators themselves can fail ------------------------------------------------------


def test_bulk_validator_rejects_malformed_bodies() -> None:
    good = b'{"index":{"_index":"notices","_id":"a"}}\n{"x":1}\n'
    assert validate_bulk(good)[0][0] == "index"
    for bad in (
        good[:-1],  # no trailing newline
        b'{"index":{"_index":"notices","_id":"a"}}\n',  # no source line
        b'{"index":{"_id":"a"}}\n{"x":1}\n',  # no _index
        b'{"upsert":{"_index":"notices","_id":"a"}}\n{"x":1}\n',  # unknown action
        b'{"index":{"_index":"notices","_id":"' + b"a" * 513 + b'"}}\n{"x":1}\n',  # id too long
        b'{"index":{"_index":"notices","_id":"a"}}\n{"x":\n1}\n',  # a source over two lines
    ):
        with pytest.raises((AssertionError, ValueError)):
            validate_bulk(bad)


def test_mapping_validator_rejects_unknown_types_and_undefined_analyzers() -> None:
    body = ex.index_definition()
    validate_mapping(body)
    bad = json.loads(json.dumps(body))
    bad["mappings"]["properties"]["x"] = {"type": "strng"}
    with pytest.raises(AssertionError):
        validate_mapping(bad)
    bad = json.loads(json.dumps(body))
    bad["mappings"]["properties"]["x"] = {"type": "text", "analyzer": "nope"}
    with pytest.raises(AssertionError):
        validate_mapping(bad)
    bad = json.loads(json.dumps(body))
    bad["mappings"]["properties"]["x"] = {"type": "wildcard", "analyzer": ex.BIGRAM_ANALYZER}
    with pytest.raises(AssertionError):
        validate_mapping(bad)
    bad = json.loads(json.dumps(body))
    bad["settings"]["analysis"]["analyzer"][ex.BIGRAM_ANALYZER]["filter"].append("undefined_filter")
    with pytest.raises(AssertionError):
        validate_mapping(bad)


# -- the mapping -----------------------------------------------------------------------------


def test_mapping_keeps_the_archive_semantics() -> None:
    body = ex.index_definition(shards=6, replicas=2)
    fields = validate_mapping(body)
    assert body["settings"]["index"]["number_of_shards"] == 6
    assert body["settings"]["index"]["number_of_replicas"] == 2
    # exact substring search over the normalised copies, never refused for a long body
    for name in ("title_exact", "body_exact", "issuer_exact"):
        assert fields[name]["type"] == "wildcard" and fields[name]["doc_values"] is False
    # BM25 over CJK bigrams
    for name in ("title_exact.bigram", "body_exact.bigram"):
        assert fields[name]["type"] == "text" and fields[name]["analyzer"] == ex.BIGRAM_ANALYZER
    chain = body["settings"]["analysis"]["analyzer"][ex.BIGRAM_ANALYZER]
    assert chain["tokenizer"] == "standard"
    assert any(body["settings"]["analysis"]["filter"][f]["type"] == "cjk_bigram"
               for f in chain["filter"] if f in body["settings"]["analysis"]["filter"])
    for name in ("region_codes", "region_level1", "region_level2", "region_level3", "doc_type",
                 "doc_number", "repost_group", "year", "id"):
        assert fields[name]["type"] == "keyword", name
    assert fields["date"]["type"] == "date"
    # what the page says is shown, not searched
    assert fields["title"].get("index") is False and fields["body"].get("index") is False
    assert body["mappings"]["dynamic"] == "strict"


# -- the export of the demo index ------------------------------------------------------------


def _read_export(out: Path) -> list[dict[str, Any]]:
    docs = []
    manifest = json.loads((out / ex.MANIFEST_FILE).read_text(encoding="utf-8"))
    for i, entry in enumerate(manifest["files"], start=1):
        assert entry["name"] == ex.bulk_name(i)
        actions = validate_bulk((out / entry["name"]).read_bytes())
        assert len(actions) == entry["notices"]
        for action, meta, source in actions:
            assert action == "index" and meta["_index"] == manifest["index_name"]
            assert source is not None and meta["_id"] == source["id"]
            docs.append(source)
    return docs


@pytest.fixture(scope="module")
def exported(demo_index: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("export")
    report = ex.export(demo_index, out, per_file=10)
    assert report.written_files == len(report.files) and report.skipped_files == 0
    return out, _read_export(out)


def test_export_writes_every_live_notice_once_in_valid_files(demo_index: Path, exported: tuple[Path, list[dict[str, Any]]]) -> None:
    out, docs = exported
    fields = validate_mapping(json.loads((out / ex.MAPPING_FILE).read_text(encoding="utf-8")))
    archive = Archive(demo_index)
    snap = archive.snapshot()
    live = [snap.stored(d)["id"] for d in ex.live_docnums(snap)]
    assert [d["id"] for d in docs] == live
    assert len(set(live)) == len(live) == snap.doc_count
    manifest = json.loads((out / ex.MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["complete"] and manifest["total"] == len(live)
    assert all(e["notices"] <= 10 for e in manifest["files"])
    assert len(manifest["files"]) == -(-len(live) // 10)
    for doc in docs:
        check_document(doc, fields)


def test_exported_notice_carries_text_as_printed_matching_copies_and_metadata(
        demo_index: Path, exported: tuple[Path, list[dict[str, Any]]]) -> None:
    _out, docs = exported
    archive = Archive(demo_index)
    snap = archive.snapshot()
    by_id = {d["id"]: d for d in docs}
    seen_region = seen_docnum = 0
    for d in ex.live_docnums(snap):
        stored = snap.stored(d)
        doc = by_id[stored["id"]]
        assert doc.get("title") == stored.get("title") and doc.get("body") == stored.get("body")
        # an empty value is left out, like a missing one
        assert doc.get("title_exact", "") == matching_text(stored.get("title") or "")
        assert doc.get("body_exact", "") == matching_text(stored.get("body") or "")
        if stored.get("issuer"):
            assert doc["issuer_exact"] == normalize(stored["issuer"])
        for key in ("date", "issuer", "province", "city", "district", "doc_type", "doc_number", "url", "content_hash"):
            assert doc.get(key) == (stored.get(key) or None), key
        if stored.get("date"):
            assert doc["year"] == stored["date"][:4]
        if stored.get("region_code"):
            anc = regions.ancestors(stored["region_code"])
            assert doc["region_codes"] == anc and anc[-1] == stored["region_code"]
            for depth, code in enumerate(anc, start=1):
                assert doc[f"region_level{depth}"] == code
            seen_region += 1
        if stored.get("doc_number"):
            seen_docnum += 1
        assert len(doc["simhash"]) == 16
    assert seen_region > len(docs) // 2 and seen_docnum > 0


def test_repost_groups_are_exported_as_the_earliest_copys_id(tmp_path: Path) -> None:
    """Two copies of one notice share the earliest copy's id as repost_group; a notice
    with no copy is its own group (so `collapse` on the field keeps it)."""
    from indexer.index import build

    body = "".join(f"第{i}条，关于区委巡察整改工作的具体措施编号{i * 7}已经落实到位。" for i in range(40))
    other = "".join(f"第{i}条，关于县委巡察反馈问题的整改安排序号{i * 11}正在推进之中。" for i in range(40))
    src = tmp_path / "src"
    src.mkdir()
    rows = [
        {"url": "http://b.gov.cn/2.html", "title": "转载：巡察整改通报", "date": "2021-03-05", "text": "来源：某网站\n" + body},
        {"url": "http://a.gov.cn/1.html", "title": "巡察整改通报", "date": "2021-03-01", "text": "巡察整改通报\n" + body},
        {"url": "http://c.gov.cn/3.html", "title": "另一份巡察整改通报", "date": "2021-04-01", "text": other},
    ]
    (src / "a.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    ix = tmp_path / "ix"
    build([src], ix, workers=1, progress=False)
    out = tmp_path / "out"
    ex.export(ix, out, per_file=2)
    docs = {d["url"]: d for d in _read_export(out)}
    assert len(docs) == 3
    earliest = docs["http://a.gov.cn/1.html"]["id"]
    assert docs["http://a.gov.cn/1.html"]["repost_group"] == earliest
    assert docs["http://b.gov.cn/2.html"]["repost_group"] == earliest
    assert docs["http://c.gov.cn/3.html"]["repost_group"] == docs["http://c.gov.cn/3.html"]["id"]
    # the same groups as the archive's own (its collapse folds b into a)
    snap = Archive(ix).snapshot()
    groups = hitsets.state_of(snap).reposts
    assert sorted(len(g) for g in {id(g): g for g in groups.values()}.values()) == [2]


def test_export_resumes_after_an_interruption_and_rewrites_a_partial_file(demo_index: Path, tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    ex.export(demo_index, whole, per_file=7)

    out = tmp_path / "resumed"

    class Stop(Exception):
        pass

    def stop_after_two(entry: dict[str, Any]) -> None:
        if entry["name"] == ex.bulk_name(2):
            raise Stop

    with pytest.raises(Stop):
        ex.export(demo_index, out, per_file=7, on_file=stop_after_two)
    manifest = json.loads((out / ex.MANIFEST_FILE).read_text(encoding="utf-8"))
    assert [e["name"] for e in manifest["files"]] == [ex.bulk_name(1), ex.bulk_name(2)] and not manifest["complete"]
    # a crash in the middle of the third file: half a file under its final name and a temp
    (out / ex.bulk_name(3)).write_bytes(b'{"index":{"_index":"notices","_id":"x"}}\n{"trunc')
    (out / (ex.bulk_name(4) + ".tmp")).write_bytes(b"partial")
    kept = {n: (out / n).stat().st_mtime_ns for n in (ex.bulk_name(1), ex.bulk_name(2))}

    report = ex.export(demo_index, out, per_file=7)
    assert report.skipped_files == 2 and report.written_files == len(report.files) - 2
    assert {n: (out / n).stat().st_mtime_ns for n in kept} == kept  # not rewritten
    assert not list(out.glob("*.tmp"))
    names = sorted(p.name for p in out.glob("bulk-*"))
    assert names == sorted(p.name for p in whole.glob("bulk-*"))
    for name in names:
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name
    # a complete export run again writes nothing
    again = ex.export(demo_index, out, per_file=7)
    assert again.written_files == 0 and again.skipped_files == len(names)


def test_export_starts_over_when_a_kept_file_was_damaged_or_the_index_changed(demo_index: Path, tmp_path: Path) -> None:
    from indexer.index import build

    out = tmp_path / "out"
    ex.export(demo_index, out, per_file=20)
    first = (out / ex.bulk_name(1)).read_bytes()
    (out / ex.bulk_name(2)).write_bytes(b"damaged\n")  # a size the manifest does not know
    report = ex.export(demo_index, out, per_file=20)
    assert report.skipped_files == 1 and report.written_files == len(report.files) - 1
    assert (out / ex.bulk_name(1)).read_bytes() == first
    validate_bulk((out / ex.bulk_name(2)).read_bytes())

    # another generation of the index: nothing of the old export is kept
    import shutil

    ix = tmp_path / "ix"
    shutil.copytree(demo_index, ix)
    page = tmp_path / "new" / "extra.txt"
    page.parent.mkdir()
    page.write_text("关于开展导出测试工作的通知\n\n各单位：为检验导出，现就有关事项通知如下。\n\n某某县人民政府办公室\n2023年5月6日\n", encoding="utf-8")
    build([str(page.parent)], ix, workers=1, progress=False)
    out2 = tmp_path / "out2"
    ex.export(ix, out2, per_file=20)
    report = ex.export(ix, out, per_file=20)
    assert report.restarted and report.skipped_files == 0
    assert [p.read_bytes() for p in sorted(out.glob("bulk-*"))] == [p.read_bytes() for p in sorted(out2.glob("bulk-*"))]
    assert "导出测试" in "".join(d["title"] for d in _read_export(out) if "title" in d)


def test_document_leaves_out_missing_values_and_invalid_dates() -> None:
    doc = ex.document({"id": "ab", "title": "巡 察 公 告", "body": "巡視整改", "date": "2022-02-30",
                       "region_code": None, "issuer": None})
    assert doc["title_exact"] == "巡察公告" and doc["body_exact"] == "巡视整改"
    assert "date" not in doc and "year" not in doc and "region_codes" not in doc and "issuer_exact" not in doc
    assert doc["repost_group"] == "ab"
    line = ex.bulk_lines("notices", {"id": "x", "body": "a\nb\u2028c"})
    assert line.count(b"\n") == 2 and validate_bulk(line)[0][2] == {"id": "x", "body": "a\nb\u2028c"}


def test_cli_export(demo_index: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "indexer", "export", "--opensearch", str(out), "--index",
                           str(demo_index), "--per-file", "25", "--json"], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["files"] == len(list(out.glob("bulk-*.ndjson"))) == 2 and summary["notices"] == len(_read_export(out))
    bad = subprocess.run([sys.executable, "-m", "indexer", "export", "--opensearch", str(tmp_path / "x"),
                          "--index", str(tmp_path / "missing")], capture_output=True, text=True, cwd=ROOT,
                         env=env, timeout=120)
    assert bad.returncode == 2 and "error" in bad.stderr

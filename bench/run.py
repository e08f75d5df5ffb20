"""The benchmark: build, incremental rebuild, queries, served requests, correctness.

    python -m bench.run --sizes 2000 [20000 100000] [--skip-baseline] [--out bench/out/result.json]

For each size N it generates (or reuses) a synthetic corpus (bench/generate.py), then
measures, against the project's own entry points:

* build: `python -m indexer build DIR --index IX --json --rebuild` in a subprocess, wall time,
  notices/s, MB/s, peak RSS and index size; the baseline (bench/baseline.py) likewise;
* incremental: a second build over the unchanged folder, then after 1% of files changed;
* queries: `Archive.search(SearchRequest(...))`, the whole call the web app makes (facets and
  snippets included), cold (fresh process, fresh Archive); warm, with the query cache and
  the snapshot's literal cache cleared before every call (`archive.clear_caches()`), so
  every posting list is read and every count made; with literals cached but not the query
  (as after an earlier query with the same words); and cached; the same mix on the baseline;
* served: `GET /api/search` through `python -m indexer serve` (waitress) on loopback;
* correctness: hit counts per query vs a brute-force scan of the generator's truth text, and
  20 random 2-4 character substrings, misses and extra hits per system.

Peak RSS: a psutil poller (every 50 ms) over the build process and all its children reports
both the peak of the SUM over the tree (an upper bound: forked workers share pages) and
the peak of the largest single process. Polling can miss a spike shorter than 50 ms.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import generate

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORK = ROOT / "bench" / "out" / "work"
PY = sys.executable

# -- the query mix -------------------------------------------------------------------------

# (kind, our syntax, baseline syntax, truth predicate over normalised text)
QUERIES: list[tuple[str, str, str]] = [
    ("word", "整改", "整改"),
    ("word", "巡察", "巡察"),
    ("phrase", "巡视整改", "巡视整改"),
    ("phrase", "全面从严治党", "全面从严治党"),
    ("phrase", "主体责任", "主体责任"),
    ("and", "巡察 整改", "巡察 整改"),
    ("or", "巡视 OR 巡察", "巡视 OR 巡察"),
    ("not", "整改 -巡视", "整改 NOT 巡视"),
    # Typed as readers type them: no exact hit, so the archive splits them into words
    # (the first two) or ranks partial matches (the third); the baseline gets the same string.
    ("natural", "巡察整改进展通报", "巡察整改进展通报"),
    ("natural", "2019年乡村振兴实施方案", "2019年乡村振兴实施方案"),
    ("natural", "第十轮巡察公告蚌埠启动", "第十轮巡察公告蚌埠启动"),
]
KINDS = ("word", "phrase", "and", "or", "not", "natural")
VARIANTS = ("plain", "province", "city", "dates", "region+dates", "sort_date", "page20")
DATE_FROM, DATE_TO = "2015-01-01", "2020-12-31"


def truth_match(q: str, text: str) -> bool:
    """Brute force over normalised text, with our query's meaning."""
    if " OR " in q:
        return any(t in text for t in q.split(" OR "))
    pos = [t for t in q.split() if not t.startswith("-")]
    neg = [t[1:] for t in q.split() if t.startswith("-")]
    return all(t in text for t in pos) and not any(t in text for t in neg)


@dataclass
class Req:
    kind: str
    variant: str
    q: str
    bq: str
    region: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    sort: str = "relevance"
    page: int = 1


def query_mix(province: str, city: str) -> list[Req]:
    out = []
    for kind, q, bq in QUERIES:
        out.append(Req(kind, "plain", q, bq))
        out.append(Req(kind, "province", q, bq, region=province))
        out.append(Req(kind, "city", q, bq, region=city))
        out.append(Req(kind, "dates", q, bq, date_from=DATE_FROM, date_to=DATE_TO))
        out.append(Req(kind, "region+dates", q, bq, region=province, date_from=DATE_FROM, date_to=DATE_TO))
        out.append(Req(kind, "sort_date", q, bq, sort="date"))
        out.append(Req(kind, "page20", q, bq, page=20))
    return out


# -- helpers -----------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (no interpolation: with few samples, a real observation)."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def summary_ms(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": _r(pct(values, 50)),
        "p95_ms": _r(pct(values, 95)),
        "p99_ms": _r(pct(values, 99)),
        "mean_ms": _r(statistics.fmean(values)) if values else None,
    }


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(x, nd)


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def machine() -> dict[str, Any]:
    from importlib import metadata

    versions = {}
    for pkg in ("whoosh3", "jieba", "beautifulsoup4", "lxml", "psutil", "waitress", "flask", "charset-normalizer"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    try:
        import psutil

        mem = psutil.virtual_memory().total
    except Exception:
        mem = None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "git_commit": commit or None,
    }


def git_state() -> dict[str, Any]:
    """The code measured: HEAD and whether indexer/ had uncommitted changes (others edit
    the code while a long run goes on; a changed SCHEMA_VERSION makes incremental builds fail)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "indexer", "app.py"], cwd=ROOT,
                           capture_output=True, text=True).stdout.split("\n")
    return {"head": head or None, "dirty_files": [d[3:] for d in dirty if d.strip()]}


def run_measured(cmd: list[str], timeout: float, cwd: Path = ROOT) -> dict[str, Any]:
    """Run a command, poll RSS of it and its children; return wall, peaks, output."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_sum = 0
    peak_one = 0
    max_procs = 0
    stop = threading.Event()

    def poll() -> None:
        nonlocal peak_sum, peak_one, max_procs
        try:
            p = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            try:
                procs = [p] + p.children(recursive=True)
            except psutil.NoSuchProcess:
                break
            total = 0
            for q in procs:
                try:
                    rss = q.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                peak_one = max(peak_one, rss)
            peak_sum = max(peak_sum, total)
            max_procs = max(max_procs, len(procs))
            stop.wait(0.05)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        timed_out = True
    wall = time.perf_counter() - t0
    stop.set()
    th.join()
    return {
        "cmd": cmd,
        "returncode": proc.returncode,
        "timed_out": timed_out,
        "wall_s": round(wall, 3),
        "peak_rss_tree_bytes": peak_sum,
        "peak_rss_max_process_bytes": peak_one,
        "max_processes": max_procs,
        "stdout": out,
        "stderr_tail": err[-2000:],
    }


def _json_out(text: str) -> dict[str, Any] | None:
    try:
        return json.loads(text)
    except ValueError:
        return None


# -- build ---------------------------------------------------------------------------------


def build_ours(corpus: Path, ix: Path, nbytes: int, n: int, timeout: float, workers: int | None, rebuild: bool) -> dict[str, Any]:
    cmd = [PY, "-m", "indexer", "build", str(corpus / "notices"), "--index", str(ix), "--json"]
    if rebuild:
        cmd.append("--rebuild")
    if workers:
        cmd += ["--workers", str(workers)]
    r = run_measured(cmd, timeout)
    rep = _json_out(r.pop("stdout"))
    r["report"] = _short_report(rep)
    _rates(r, nbytes, n, ix)
    return r


def build_baseline(corpus: Path, ix: Path, nbytes: int, n: int, timeout: float) -> dict[str, Any]:
    r = run_measured([PY, "-m", "bench.baseline", "build", str(corpus), str(ix), "--json"], timeout)
    r["report"] = _json_out(r.pop("stdout"))
    _rates(r, nbytes, n, ix)
    return r


def _short_report(rep: dict[str, Any] | None) -> dict[str, Any] | None:
    if rep is None:
        return None
    out = {k: v for k, v in rep.items() if k != "failed"}
    failed = rep.get("failed") or []
    out["failed_count"] = len(failed)
    out["failed_sample"] = failed[:5]
    return out


def _rates(r: dict[str, Any], nbytes: int, n: int, ix: Path) -> None:
    wall = r["wall_s"] or 1e-9
    r["notices_per_s"] = round(n / wall, 1)
    r["mb_per_s"] = round(nbytes / 1e6 / wall, 2)
    r["index_bytes"] = dir_size(ix) if ix.exists() else None


# -- queries ---------------------------------------------------------------------------------


def _our_request(r: Req, page: int | None = None) -> Any:
    from indexer.search import SearchRequest

    return SearchRequest(q=r.q, region=r.region, date_from=r.date_from, date_to=r.date_to,
                         sort=r.sort, page=page or r.page, per_page=10)


def _baseline_kwargs(r: Req, region_code: dict[str, str], page: int | None = None) -> dict[str, Any]:
    return {"region": region_code.get(r.region) if r.region else None, "date_from": r.date_from,
            "date_to": r.date_to, "sort": r.sort, "page": page or r.page, "per_page": 10}


def effective_pages(archive: Any, mix: list[Req]) -> dict[int, int]:
    """Page 20 only exists when there are 200 hits: use the deepest page that exists."""
    out = {}
    for i, r in enumerate(mix):
        if r.page > 1:
            base = archive.search(_our_request(r, page=1))
            out[i] = max(1, min(r.page, math.ceil(base.total / 10)))
        else:
            out[i] = 1
    return out


def time_ours(ix: Path, mix: list[Req], pages: dict[int, int], reps: int) -> dict[str, Any]:
    from indexer.search import Archive

    archive = Archive(ix)
    warm: dict[int, list[float]] = {i: [] for i in range(len(mix))}
    lit: dict[int, list[float]] = {i: [] for i in range(len(mix))}
    cached: dict[int, list[float]] = {i: [] for i in range(len(mix))}
    totals: dict[int, int] = {}
    # one untimed pass so the snapshot, regions table and page cache are loaded
    for i, r in enumerate(mix):
        totals[i] = archive.search(_our_request(r, pages[i])).total
    for _ in range(reps):
        for i, r in enumerate(mix):
            # warm: no query or literal cached (every posting list read, every count made)
            archive.clear_caches(literals=True)
            t = time.perf_counter()
            archive.search(_our_request(r, pages[i]))
            warm[i].append((time.perf_counter() - t) * 1000)
            # literals cached (as after an earlier query with the same words), query not
            archive.clear_caches(literals=False)
            t = time.perf_counter()
            archive.search(_our_request(r, pages[i]))
            lit[i].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            archive.search(_our_request(r, pages[i]))
            cached[i].append((time.perf_counter() - t) * 1000)
    archive.close()
    return {"warm": warm, "literals_cached": lit, "cached": cached, "totals": totals}


def time_baseline(bix: Path, mix: list[Req], pages: dict[int, int], reps: int, region_code: dict[str, str]) -> dict[str, Any]:
    from bench.baseline import Baseline

    b = Baseline(bix)
    warm: dict[int, list[float]] = {i: [] for i in range(len(mix))}
    totals: dict[int, int] = {}
    for i, r in enumerate(mix):
        totals[i] = b.search(r.bq, **_baseline_kwargs(r, region_code, pages[i]))["total"]
    for _ in range(reps):
        for i, r in enumerate(mix):
            t = time.perf_counter()
            b.search(r.bq, **_baseline_kwargs(r, region_code, pages[i]))
            warm[i].append((time.perf_counter() - t) * 1000)
    b.close()
    return {"warm": warm, "totals": totals}


COLD_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
system, ix, queries = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
out = {}
if system == "ours":
    from indexer.search import Archive, SearchRequest
    t1 = time.perf_counter()
    first = None
    for kind, q in queries:
        t = time.perf_counter()
        a = Archive(ix)
        a.search(SearchRequest(q=q))
        out[kind] = (time.perf_counter() - t) * 1000
        if first is None:
            first = out[kind]
else:
    from bench.baseline import Baseline
    t1 = time.perf_counter()
    first = None
    for kind, q in queries:
        t = time.perf_counter()
        b = Baseline(ix)
        b.search(q)
        out[kind] = (time.perf_counter() - t) * 1000
        if first is None:
            first = out[kind]
print(json.dumps({"import_ms": (t1 - t0) * 1000, "first_query_in_process_ms": first, "fresh_open_plus_query_ms": out}))
"""


def cold(system: str, ix: Path) -> dict[str, Any] | None:
    """A fresh process: import time, the first query (includes lazy loads), then a fresh
    Archive/searcher per query kind (the OS page cache is warm: this is not a cold disk)."""
    seen: dict[str, str] = {}
    for kind, q, bq in QUERIES:
        seen.setdefault(kind, q if system == "ours" else bq)
    r = subprocess.run([PY, "-c", COLD_SCRIPT, system, str(ix), json.dumps(list(seen.items()), ensure_ascii=False)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    data = _json_out(r.stdout)
    if data is None:
        return {"error": r.stderr[-500:]}
    data["import_ms"] = _r(data["import_ms"])
    data["first_query_in_process_ms"] = _r(data["first_query_in_process_ms"])
    data["fresh_open_plus_query_ms"] = {k: _r(v) for k, v in data["fresh_open_plus_query_ms"].items()}
    return data


# -- served ------------------------------------------------------------------------------------


def load_test(ix: Path, seconds: float, clients: int, workers: int) -> dict[str, Any]:
    """scripts/loadtest.py against `serve --workers N`: time to the first answer after the
    server starts, throughput and latency under concurrent clients, errors, and each
    process's private and shared memory at the end."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "load.json"
        r = subprocess.run([PY, str(ROOT / "scripts" / "loadtest.py"), "--index", str(ix), "--seconds", str(seconds),
                            "--clients", str(clients), "--workers", str(workers), "--json", str(out)],
                           cwd=ROOT, capture_output=True, text=True, timeout=seconds + 300)
        if not out.exists():
            return {"error": f"load test failed (exit {r.returncode}): {r.stderr[-800:]}"}
        return json.loads(out.read_text())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served(ix: Path, mix: list[Req], pages: dict[int, int], reps: int,
           expected: dict[int, int] | None = None) -> dict[str, Any]:
    """p50/p95 of GET /api/search through waitress. The server caches results per query, so
    the first request of each query (uncached) and the repeats (cached) are kept apart."""
    port = _free_port()
    proc = subprocess.Popen([PY, "-m", "indexer", "serve", "--index", str(ix), "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/api/search"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                return {"error": "server exited: " + (proc.stderr.read() if proc.stderr else "")[-800:]}
            try:
                with urllib.request.urlopen(base + "?q=" + urllib.parse.quote("整改"), timeout=5) as resp:
                    resp.read()
                break
            except Exception as exc:  # not up yet
                if time.monotonic() > deadline:
                    return {"error": f"server not answering on {base}: {exc}"}
                time.sleep(0.2)
        first: list[float] = []
        repeat: list[float] = []
        errors: Counter[str] = Counter()
        mismatches = 0
        for i, r in enumerate(mix):
            params = {"q": r.q}
            if r.region:
                params["region"] = r.region
            if r.date_from:
                params["from"] = r.date_from
            if r.date_to:
                params["to"] = r.date_to
            if r.sort != "relevance":
                params["sort"] = r.sort
            if pages[i] > 1:
                params["page"] = str(pages[i])
            url = base + "?" + urllib.parse.urlencode(params)
            for k in range(reps):
                t = time.perf_counter()
                try:
                    with urllib.request.urlopen(url, timeout=30) as resp:
                        body = resp.read()
                        status = resp.status
                    if k == 0 and expected is not None and json.loads(body).get("total") != expected.get(i):
                        mismatches += 1
                except urllib.error.HTTPError as exc:
                    status = exc.code
                except Exception as exc:
                    errors[type(exc).__name__] += 1
                    continue
                dt = (time.perf_counter() - t) * 1000
                if status != 200:
                    errors[f"HTTP {status}"] += 1
                (first if k == 0 else repeat).append(dt)
        return {"requests": len(first) + len(repeat), "uncached": summary_ms(first),
                "cached": summary_ms(repeat), "errors": dict(errors),
                "total_mismatches_vs_archive": mismatches}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


# -- correctness -------------------------------------------------------------------------------


def _ours_ids(archive: Any, q: str, corpus: Path, cap_pages: int = 60) -> tuple[int, set[str] | None]:
    from indexer.search import SearchRequest

    res = archive.search(SearchRequest(q=q, per_page=100, sort="date"))
    total = res.total
    pages = math.ceil(total / 100)
    if pages > cap_pages:
        return total, None
    ids = set()
    root = corpus.resolve()
    for page in range(1, pages + 1):
        if page > 1:
            res = archive.search(SearchRequest(q=q, per_page=100, sort="date", page=page))
        for h in res.hits:
            src = Path((h.source or "").split("#", 1)[0])
            try:
                ids.add((ROOT / src).resolve().relative_to(root).as_posix())
            except ValueError:
                ids.add(str(src))
    return total, ids


def substrings(texts: list[str], k: int, seed: int) -> list[str]:
    from indexer.analysis import CJK_RUN

    rng = random.Random(f"substr:{seed}")
    out: list[str] = []
    tries = 0
    while len(out) < k and tries < 10000:
        tries += 1
        t = texts[rng.randrange(len(texts))]
        runs = [m for m in CJK_RUN.findall(t) if len(m) >= 4]
        if not runs:
            continue
        run = runs[rng.randrange(len(runs))]
        n = rng.randint(2, 4)
        i = rng.randrange(len(run) - n + 1)
        s = run[i : i + n]
        if s not in out:
            out.append(s)
    return out


def correctness(corpus: Path, ix: Path, bix: Path | None, truth: list[generate.Truth], seed: int) -> dict[str, Any]:
    from indexer.analysis import normalize
    from indexer.search import Archive

    texts = {t.path: normalize(f"{t.title}\n{t.body}") for t in truth}
    archive = Archive(ix)
    b = None
    if bix is not None:
        from bench.baseline import Baseline

        b = Baseline(bix)
    per_query = []
    for kind, q, bq in QUERIES:
        if kind == "natural":  # no substring truth: judged in bench/queries instead
            continue
        want = {p for p, text in texts.items() if truth_match(q, text)}
        row: dict[str, Any] = {"kind": kind, "q": q, "truth": len(want)}
        total, ids = _ours_ids(archive, q, corpus)
        row["ours"] = total
        if ids is not None:
            row["ours_missed"] = len(want - ids)
            row["ours_extra"] = len(ids - want)
        if b is not None:
            bids = b.all_ids(bq)
            row["baseline_q"] = bq
            row["baseline"] = len(bids)
            row["baseline_missed"] = len(want - bids)
            row["baseline_extra"] = len(bids - want)
        per_query.append(row)
    subs = []
    for s in substrings(list(texts.values()), 20, seed):
        want = {p for p, text in texts.items() if s in text}
        row = {"q": s, "truth": len(want)}
        total, ids = _ours_ids(archive, s, corpus)
        row["ours"] = total
        if ids is not None:
            row["ours_missed"] = len(want - ids)
            row["ours_extra"] = len(ids - want)
        if b is not None:
            bids = b.all_ids(s)
            row["baseline"] = len(bids)
            row["baseline_missed"] = len(want - bids)
            row["baseline_extra"] = len(bids - want)
        subs.append(row)
    archive.close()
    if b is not None:
        b.close()

    def total_of(key: str) -> int | None:
        vals = [r[key] for r in subs if r.get(key) is not None]
        return sum(vals) if vals else None

    return {
        "queries": per_query,
        "substrings": subs,
        "substring_totals": {
            "truth_hits": total_of("truth"),
            "ours_missed": total_of("ours_missed"),
            "ours_extra": total_of("ours_extra"),
            "baseline_missed": total_of("baseline_missed") if b is not None else None,
            "baseline_extra": total_of("baseline_extra") if b is not None else None,
            "queries_where_ours_missed": sum(1 for r in subs if r.get("ours_missed")),
            # rows with too many hits to page through compare totals only
            "rows_compared_by_total_only": sum(1 for r in subs if r.get("ours_missed") is None),
            "ours_total_differs_from_truth": sum(1 for r in subs if r["ours"] != r["truth"]),
            "queries_where_baseline_missed": sum(1 for r in subs if r.get("baseline_missed")) if b is not None else None,
        },
        "note": "truth = brute-force substring scan of the generator's normalised title+body "
                "(no page chrome); the baseline indexes chrome too, so its 'extra' includes nav/footer hits",
    }


def search_check(ix: Path, truth: list[generate.Truth], changed: list[str], corpus: Path) -> dict[str, Any]:
    """After the 1% update: does the index still open and find the changed text in exactly
    the changed files (replaced, not duplicated, nothing lost)?"""
    from indexer.analysis import normalize
    from indexer.search import Archive

    probe = generate.CHANGE_PROBE
    root = corpus.resolve()
    changed_rel = {Path(c).resolve().relative_to(root).as_posix() for c in changed}
    expected = len(changed_rel | {t.path for t in truth if probe in normalize(t.title + "\n" + t.body)})
    try:
        archive = Archive(ix)
        total, _ids = _ours_ids(archive, probe, corpus)
        docs = archive.search(_our_request(Req("word", "plain", "整改", "整改"))).total
        archive.close()
    except Exception as exc:  # reported, not raised: the rest of the run still counts
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": total == expected, "probe": probe, "found": total, "expected": expected,
            "zhenggai_total_after": docs}


# -- one size --------------------------------------------------------------------------------


def pick_regions(truth: list[generate.Truth]) -> tuple[str, str, dict[str, str]]:
    """The most frequent province and city in the corpus, as names the search accepts."""
    from indexer import regions

    prov = Counter(t.province_code for t in truth).most_common(1)[0][0]
    cities = Counter(t.city_code for t in truth if t.city_code and t.province_code == prov)
    if not cities:
        cities = Counter(t.city_code for t in truth if t.city_code)
    city = cities.most_common(1)[0][0]
    pname = regions.get(prov).name  # type: ignore[union-attr]
    c = regions.get(city)
    cname = c.name if c else city
    # An ambiguous city name would make the search refuse it: use the code then.
    if regions.resolve(cname) is None or regions.resolve(cname).code != city:  # type: ignore[union-attr]
        cname = city
    return pname, cname, {pname: prov, cname: city}


def classes(mix: list[Req], samples: dict[int, list[float]]) -> dict[str, dict[str, Any]]:
    out: dict[str, list[float]] = {}
    for i, r in enumerate(mix):
        out.setdefault(f"{r.kind}/{r.variant}", []).extend(samples.get(i, []))
    return {k: summary_ms(v) for k, v in out.items()}


def run_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    work = Path(args.work) / f"n{n}-s{args.seed}"
    corpus = work / "corpus"
    ix = work / "ix_ours"
    bix = work / "ix_baseline"
    res: dict[str, Any] = {"n": n, "seed": args.seed, "git_at_start": git_state()}

    meta_path = corpus / "corpus.json"
    t = time.perf_counter()
    meta = _json_out(meta_path.read_text()) if meta_path.exists() else None
    if not meta or meta.get("n") != n or meta.get("seed") != args.seed or (corpus / "CHANGED").exists():
        if corpus.exists():
            shutil.rmtree(corpus)
        meta = generate.generate(corpus, n, args.seed)
        meta["generated_s"] = round(time.perf_counter() - t, 2)
    res["corpus"] = meta
    nbytes = int(meta["bytes"])
    truth = generate.load_truth(corpus)
    _log(f"[{n}] corpus {nbytes / 1e6:.1f} MB ({meta.get('paragraph_source')})")

    # A build of a million notices takes about an hour: --build-only records it beside the
    # index (build.json) and stops; --reuse-build measures the rest over that index, later
    # and at another commit, as long as the index format is the same (the record says at
    # which commit it was built).
    record = work / "build.json"
    reused = _json_out(record.read_text()) if args.reuse_build and record.exists() and ix.exists() else None
    if reused and reused.get("corpus_bytes") == nbytes:
        _log(f"[{n}] build reused from {record} (commit {reused.get('git', {}).get('head')})")
        res["build_ours"] = reused["build_ours"]
        res["build_ours"]["reused_from"] = {"git": reused.get("git"), "finished": reused.get("finished")}
    else:
        _log(f"[{n}] build (ours)...")
        res["build_ours"] = build_ours(corpus, ix, nbytes, n, args.build_timeout, args.workers, rebuild=True)
        record.write_text(json.dumps({"build_ours": res["build_ours"], "git": git_state(), "corpus_bytes": nbytes,
                                      "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=2))
    _log(f"[{n}]   {res['build_ours']['wall_s']} s")
    if args.build_only:
        return res
    if res["build_ours"]["timed_out"] or res["build_ours"]["returncode"] not in (0, 1):
        res["error"] = "our build failed or timed out; stopping this size"
        _log(res["build_ours"]["stderr_tail"])
        return res
    if not args.skip_baseline:
        _log(f"[{n}] build (baseline)...")
        res["build_baseline"] = build_baseline(corpus, bix, nbytes, n, args.build_timeout)
        _log(f"[{n}]   {res['build_baseline']['wall_s']} s")
        bo, bb = res["build_ours"], res["build_baseline"]
        res["build_ratio"] = {
            "throughput_ours_over_baseline": _r(bb["wall_s"] / bo["wall_s"]) if bo["wall_s"] else None,
            "peak_rss_tree_ours_over_baseline": _r(bo["peak_rss_tree_bytes"] / bb["peak_rss_tree_bytes"]) if bb["peak_rss_tree_bytes"] else None,
            "index_size_ours_over_baseline": _r(bo["index_bytes"] / bb["index_bytes"]) if bb.get("index_bytes") else None,
        }

    province, city, region_code = pick_regions(truth)
    mix = query_mix(province, city)
    res["query_setup"] = {"province": province, "city": city, "date_from": DATE_FROM, "date_to": DATE_TO,
                          "reps": args.reps, "per_page": 10}
    from indexer.search import Archive

    arch = Archive(ix)
    pages = effective_pages(arch, mix)
    arch.close()
    res["query_setup"]["deep_page_used"] = {f"{mix[i].kind}:{mix[i].q}": p for i, p in pages.items() if mix[i].page > 1}

    _log(f"[{n}] queries (ours, {args.reps} reps)...")
    ours = time_ours(ix, mix, pages, args.reps)
    q: dict[str, Any] = {"ours_warm": classes(mix, ours["warm"]), "ours_literals_cached": classes(mix, ours["literals_cached"]),
                         "ours_cached": classes(mix, ours["cached"])}
    q["ours_cold"] = cold("ours", ix)
    q["hits"] = {f"{r.kind}/{r.variant}/{r.q}": {"ours": ours["totals"][i]} for i, r in enumerate(mix)}
    if not args.skip_baseline:
        _log(f"[{n}] queries (baseline)...")
        base = time_baseline(bix, mix, pages, args.reps, region_code)
        q["baseline_warm"] = classes(mix, base["warm"])
        q["baseline_cold"] = cold("baseline", bix)
        for i, r in enumerate(mix):
            q["hits"][f"{r.kind}/{r.variant}/{r.q}"]["baseline"] = base["totals"][i]
        q["ratio_p95_baseline_over_ours"] = {
            k: _r(q["baseline_warm"][k]["p95_ms"] / v["p95_ms"]) if v["p95_ms"] else None
            for k, v in q["ours_warm"].items()
        }
    res["queries"] = q

    if not args.no_serve:
        _log(f"[{n}] served requests...")
        res["served"] = served(ix, mix, pages, args.served_reps, ours["totals"])
        if args.load_seconds > 0:
            _log(f"[{n}] load test: serve --workers {args.load_workers}, {args.load_clients} clients, {args.load_seconds} s...")
            res["load"] = load_test(ix, args.load_seconds, args.load_clients, args.load_workers)

    _log(f"[{n}] correctness side-check...")
    res["correctness"] = correctness(corpus, ix, None if args.skip_baseline else bix, truth, args.seed)

    _log(f"[{n}] incremental builds...")
    inc: dict[str, Any] = {}
    inc["unchanged"] = build_ours(corpus, ix, nbytes, n, args.build_timeout, args.workers, rebuild=False)
    (corpus / "CHANGED").write_text("files were changed by the incremental test; regenerate\n")
    changed = generate.change_files(corpus, 0.01, args.seed)
    inc["changed_files"] = len(changed)
    inc["changed_1pct"] = build_ours(corpus, ix, nbytes, n, args.build_timeout, args.workers, rebuild=False)
    for k in ("unchanged", "changed_1pct"):
        for drop in ("notices_per_s", "mb_per_s"):
            inc[k].pop(drop, None)
    inc["search_after_update"] = search_check(ix, truth, changed, corpus)
    res["incremental"] = inc
    res["git_at_end"] = git_state()
    return res


# -- output ----------------------------------------------------------------------------------


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _mb(x: int | None) -> str:
    return "-" if x is None else f"{x / 1e6:.1f}"


def _f(x: Any, nd: int = 1) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def table(result: dict[str, Any]) -> str:
    lines: list[str] = []
    m = result["machine"]
    lines.append(f"machine: {m['cores']} cores, Python {m['python']}, {m['platform']}")
    lines.append("versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v))
    for s in result["sizes"]:
        n = s["n"]
        lines.append("")
        lines.append(f"== N = {n}  ({_mb(s['corpus']['bytes'])} MB of HTML, seed {s['seed']}) ==")
        for key in ("git_at_start", "git_at_end"):
            g = s.get(key)
            if g:
                lines.append(f"{key}: {g['head']}" + (f" + uncommitted {g['dirty_files']}" if g["dirty_files"] else ""))
        lines.append("build          wall s  notices/s   MB/s  peakRSS tree MB  peakRSS 1proc MB  index MB")
        for key, label in (("build_ours", "ours"), ("build_baseline", "baseline")):
            b = s.get(key)
            if not b:
                continue
            lines.append(f"{label:<12} {b['wall_s']:>8.1f} {b['notices_per_s']:>10.1f} {b['mb_per_s']:>6.2f} "
                         f"{_mb(b['peak_rss_tree_bytes']):>16} {_mb(b['peak_rss_max_process_bytes']):>17} {_mb(b['index_bytes']):>9}")
        if s.get("build_ratio"):
            r = s["build_ratio"]
            lines.append(f"ratio: ours throughput = {r['throughput_ours_over_baseline']}x baseline; "
                         f"peak RSS {r['peak_rss_tree_ours_over_baseline']}x; index size {r['index_size_ours_over_baseline']}x")
        if s.get("error"):
            lines.append("ERROR: " + s["error"])
            continue
        inc = s.get("incremental")
        for key in ("unchanged", "changed_1pct"):
            b = (inc or {}).get(key) or {}
            if inc and b.get("returncode") not in (0, 1):
                lines.append(f"incremental {key}: BUILD FAILED (exit {b.get('returncode')}): {b.get('stderr_tail', '')[-300:]}")
        if inc:
            lines.append(f"incremental: unchanged rebuild {inc['unchanged']['wall_s']:.2f} s; "
                         f"after changing {inc['changed_files']} files (1%) {inc['changed_1pct']['wall_s']:.2f} s")
            sc = inc.get("search_after_update") or {}
            lines.append("search after the update: " + ("ok" if sc.get("ok") else f"FAILED {sc}"))
        if "queries" not in s:
            continue  # --build-only
        q = s["queries"]
        lines.append("")
        lines.append(f"queries (ms; warm = query and literal caches cleared each call; lit = literals cached, query not; "
                     f"cached = same query again; region {s['query_setup']['province']} / "
                     f"{s['query_setup']['city']}; dates {DATE_FROM}..{DATE_TO})")
        lines.append(f"{'class':<20} {'ours p50':>8} {'p95':>7} {'p99':>7} {'lit p95':>7} {'cached':>7} | {'base p50':>8} {'p95':>7} | {'base/ours p95':>13}")
        for k, v in q["ours_warm"].items():
            c = q["ours_cached"][k]
            lc = q.get("ours_literals_cached", {}).get(k, {})
            bw = q.get("baseline_warm", {}).get(k, {})
            ratio = q.get("ratio_p95_baseline_over_ours", {}).get(k)
            lines.append(f"{k:<20} {_f(v['p50_ms']):>8} {_f(v['p95_ms']):>7} {_f(v['p99_ms']):>7} {_f(lc.get('p95_ms')):>7} {_f(c['p50_ms'], 2):>7} | "
                         f"{_f(bw.get('p50_ms')):>8} {_f(bw.get('p95_ms')):>7} | {_f(ratio, 2):>13}")
        allw = [v["p95_ms"] for v in q["ours_warm"].values() if v["p95_ms"] is not None]
        if allw:
            worst = max(q["ours_warm"].items(), key=lambda kv: kv[1]["p95_ms"] or 0)
            lines.append(f"worst ours class p95: {worst[0]} {worst[1]['p95_ms']} ms")
        if q.get("ratio_p95_baseline_over_ours"):
            worst_r = min((v, k) for k, v in q["ratio_p95_baseline_over_ours"].items() if v is not None)
            lines.append(f"lowest speed-up vs baseline (p95): {worst_r[1]} {worst_r[0]}x")
        for key, label in (("ours_cold", "ours"), ("baseline_cold", "baseline")):
            c = q.get(key)
            if c and "error" not in c:
                lines.append(f"cold {label}: import {c['import_ms']} ms, first query in process {c['first_query_in_process_ms']} ms, "
                             f"fresh open+query per kind {c['fresh_open_plus_query_ms']}")
            elif c:
                lines.append(f"cold {label}: error {c['error'][:200]}")
        sv = s.get("served")
        if sv:
            if "error" in sv:
                lines.append(f"served GET /api/search: ERROR {sv['error'][:300]}")
            else:
                lines.append(f"served GET /api/search ({sv['requests']} requests): uncached p50 {sv['uncached']['p50_ms']} "
                             f"p95 {sv['uncached']['p95_ms']} ms; cached p50 {sv['cached']['p50_ms']} p95 {sv['cached']['p95_ms']} ms"
                             + (f"; errors {sv['errors']}" if sv["errors"] else ""))
        ld = s.get("load")
        if ld:
            if "error" in ld:
                lines.append(f"load test: ERROR {ld['error'][:300]}")
            else:
                workers = {k: v for k, v in ld.get("memory_mb", {}).items() if k.startswith("worker")}
                mem = "; ".join(f"{k}: private {v['private']} MB, shared {v['shared']} MB, RSS {v['rss']} MB"
                                for k, v in workers.items())
                lines.append(f"load test (serve --workers {ld.get('workers')}, {ld['clients']} clients, {ld['seconds']} s): "
                             f"first answer {ld.get('first_answer_s')} s after start; {ld['requests']} requests "
                             f"({ld['requests_per_s']}/s), p50 {ld['p50_ms']} p95 {ld['p95_ms']} p99 {ld['p99_ms']} ms, "
                             f"errors {ld['errors']}; {mem}")
        cc = s.get("correctness")
        if cc:
            lines.append("")
            lines.append("correctness (hits; truth = brute-force scan of generated title+body)")
            lines.append(f"{'query':<16} {'truth':>6} {'ours':>6} {'miss':>5} {'extra':>5} | {'base':>6} {'miss':>5} {'extra':>5}")
            for r in cc["queries"] + cc["substrings"]:
                lines.append(f"{r['q']:<16} {r['truth']:>6} {r['ours']:>6} {_f(r.get('ours_missed'), 0):>5} {_f(r.get('ours_extra'), 0):>5} | "
                             f"{_f(r.get('baseline'), 0):>6} {_f(r.get('baseline_missed'), 0):>5} {_f(r.get('baseline_extra'), 0):>5}")
            t = cc["substring_totals"]
            lines.append(f"20 random substrings: truth hits {t['truth_hits']}; ours missed {t['ours_missed']} "
                         f"(in {t['queries_where_ours_missed']} queries), extra {t['ours_extra']}; baseline missed "
                         f"{t['baseline_missed']} (in {t['queries_where_baseline_missed']} queries), extra {t['baseline_extra']}; "
                         f"{t['rows_compared_by_total_only']} rows compared by total only, ours total != truth in "
                         f"{t['ours_total_differs_from_truth']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description="Benchmark the notice archive against a plain Whoosh+jieba baseline.")
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000])
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "result.json"))
    ap.add_argument("--work", default=str(DEFAULT_WORK), help="where corpora and indexes go (reused when the size/seed match)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reps", type=int, default=20, help="warm repetitions of the query mix")
    ap.add_argument("--served-reps", type=int, default=3, help="requests per query through the server (first is uncached)")
    ap.add_argument("--no-serve", action="store_true")
    ap.add_argument("--workers", type=int, default=None, help="passed to indexer build --workers")
    ap.add_argument("--build-timeout", type=float, default=15 * 60, help="seconds before a build is stopped")
    ap.add_argument("--load-seconds", type=float, default=0, help="also run scripts/loadtest.py for this long (0: not)")
    ap.add_argument("--load-clients", type=int, default=8)
    ap.add_argument("--load-workers", type=int, default=2)
    ap.add_argument("--build-only", action="store_true", help="build (recorded in WORK/n<N>-s<seed>/build.json) and stop")
    ap.add_argument("--reuse-build", action="store_true",
                    help="measure over the index a --build-only run left (its build figures are reported)")
    args = ap.parse_args(argv)

    result: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine(),
                              "args": {k: v for k, v in vars(args).items()}, "sizes": []}
    for n in args.sizes:
        result["sizes"].append(run_size(n, args))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(table(result))
    print(f"\nJSON: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

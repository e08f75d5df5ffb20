"""Load test: concurrent clients against the served UI and API on loopback, bounded in time.

    python scripts/loadtest.py --index DIR [--seconds 60] [--clients 8] [--port 0]

Starts `python -m indexer serve` on 127.0.0.1 (a free port unless --port), drives a fixed
mix of search pages, API searches (with filters, sorting, deep pages) and document pages
from `--clients` threads for `--seconds`, then prints requests/s, p50/p95/p99 latency and
the errors (any non-2xx/4xx answer, timeout or connection error). Only loopback is used.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ["整改", "巡察", "巡视整改", "全面从严治党", "主体责任", "巡察 整改", "巡视 OR 巡察", "整改 -巡视", '"整改工作"', "title:通报"]
REGIONS = ["", "", "陕西省", "西安市", "浙江省", "广东省"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def process_memory(pid: int) -> dict[str, dict[str, float]]:
    """Per process of the server (the parent and its workers), from /proc/PID/smaps_rollup:
    RSS, PSS (shared pages divided among the processes that map them) and private memory
    (pages no other process maps: what each worker costs on its own), in MB."""
    out: dict[str, dict[str, float]] = {}
    for p in [pid] + _children(pid):
        fields: dict[str, int] = {}
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    parts = line.split()
                    if len(parts) >= 3 and parts[2] == "kB":
                        fields[parts[0].rstrip(":")] = int(parts[1])
        except OSError:
            continue
        private = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
        out["parent" if p == pid else f"worker {p}"] = {
            "rss": round(fields.get("Rss", 0) / 1024, 1),
            "pss": round(fields.get("Pss", 0) / 1024, 1),
            "private": round(private / 1024, 1),
            "shared": round((fields.get("Shared_Clean", 0) + fields.get("Shared_Dirty", 0)) / 1024, 1),
        }
    return out


def make_urls(base: str, rng: random.Random, doc_ids: list[str]) -> str:
    kind = rng.random()
    params = {"q": rng.choice(QUERIES)}
    region = rng.choice(REGIONS)
    if region:
        params["region"] = region
    if rng.random() < 0.3:
        params["from"], params["to"] = "2015-01-01", "2022-12-31"
    if rng.random() < 0.3:
        params["sort"] = "date"
    if rng.random() < 0.1:
        params["page"] = str(rng.randint(2, 20))
    if kind < 0.45:
        return f"{base}/api/search?{urllib.parse.urlencode(params)}"
    if kind < 0.85 or not doc_ids:
        return f"{base}/?{urllib.parse.urlencode(params)}"
    return f"{base}/doc/{rng.choice(doc_ids)}?q={urllib.parse.quote(params['q'])}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", required=True)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--threads", type=int, default=8, help="server threads per process")
    ap.add_argument("--workers", type=int, default=1, help="server processes (indexer serve --workers)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args(argv)

    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    t_start = time.monotonic()
    server = subprocess.Popen(
        [sys.executable, "-m", "indexer", "serve", "--index", args.index, "--port", str(port), "--threads", str(args.threads),
         "--workers", str(args.workers)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/search?q=%E6%95%B4%E6%94%B9", timeout=30).read()
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or server.poll() is not None:
                    print("server did not start", file=sys.stderr)
                    return 2
                time.sleep(0.2)
        first_answer_s = time.monotonic() - t_start
        with urllib.request.urlopen(f"{base}/api/search?per_page=100", timeout=30) as r:
            doc_ids = [h["id"] for h in json.load(r)["hits"]]

        latencies: list[float] = []
        errors: list[str] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds

        def client(seed: int) -> None:
            rng = random.Random(seed)
            while time.monotonic() < stop_at:
                url = make_urls(base, rng, doc_ids)
                t0 = time.perf_counter()
                try:
                    with urllib.request.urlopen(url, timeout=30) as resp:
                        resp.read()
                        code = resp.status
                except urllib.error.HTTPError as exc:
                    code = exc.code
                    exc.read()
                except Exception as exc:  # noqa: BLE001 - every failure is counted
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc} ({url})")
                    continue
                dt = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(dt)
                    statuses[code] = statuses.get(code, 0) + 1
                    if code >= 500:
                        errors.append(f"HTTP {code} ({url})")

        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        memory = process_memory(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()

    result = {
        "workers": args.workers,
        "first_answer_s": round(first_answer_s, 2),
        "memory_mb": memory,
        "seconds": round(elapsed, 1),
        "clients": args.clients,
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "statuses": statuses,
        "errors": len(errors),
        "first_errors": errors[:5],
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())

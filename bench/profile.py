"""Where the search time goes: per-class timings on a built index, and cProfile's top lines.

    .venv/bin/python -m bench.profile --index bench/out/work/n20000-s1/ours [--reps 5]
        [--province 广东省 --city 广州市] [--profile and/plain] [--top 25] [--literal-cache]

Runs the benchmark's query mix (bench.run.query_mix) against one index, clearing the query
cache before every call, as the benchmark's "warm" figures do. By default the per-literal
cache of the snapshot is cleared too (every call recomputes its literals); `--literal-cache`
keeps it, as a long-running server does. With `--profile CLASS`, that class is run under
cProfile and the top functions by cumulative and internal time are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path
from typing import Any

from bench.run import Req, _our_request, effective_pages, pct, query_mix


def _clear(archive: Any, literal_cache: bool) -> None:
    archive.clear_caches(literals=not literal_cache)


def time_mix(archive: Any, mix: list[Req], pages: dict[int, int], reps: int, literal_cache: bool) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for _ in range(reps):
        for i, r in enumerate(mix):
            _clear(archive, literal_cache)
            t = time.perf_counter()
            archive.search(_our_request(r, pages[i]))
            out.setdefault(f"{r.kind}/{r.variant}", []).append((time.perf_counter() - t) * 1000)
    return out


def profile_class(archive: Any, mix: list[Req], pages: dict[int, int], name: str, reps: int, literal_cache: bool, top: int) -> str:
    chosen = [(i, r) for i, r in enumerate(mix) if f"{r.kind}/{r.variant}" == name]
    if not chosen:
        raise SystemExit(f"no such class: {name}")
    prof = cProfile.Profile()
    for _ in range(reps):
        for i, r in chosen:
            _clear(archive, literal_cache)
            prof.enable()
            archive.search(_our_request(r, pages[i]))
            prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True, type=Path)
    ap.add_argument("--province", default="广东省")
    ap.add_argument("--city", default="广州市")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--profile", metavar="CLASS", help="e.g. and/plain")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--literal-cache", action="store_true", help="keep the snapshot's per-literal cache")
    args = ap.parse_args(argv)

    from indexer.search import Archive

    archive = Archive(args.index)
    mix = query_mix(args.province, args.city)
    t = time.perf_counter()
    pages = effective_pages(archive, mix)  # also loads the snapshot, text and columns
    print(f"first pass (loads): {(time.perf_counter() - t) * 1000:.0f} ms", file=sys.stderr)
    if args.profile:
        print(profile_class(archive, mix, pages, args.profile, args.reps, args.literal_cache, args.top))
        return 0
    samples = time_mix(archive, mix, pages, args.reps, args.literal_cache)
    worst = []
    print(f"{'class':22} {'p50':>7} {'p95':>7} {'max':>7}  (ms, {args.reps} reps)")
    for name, vals in samples.items():
        p50, p95 = pct(vals, 50), pct(vals, 95)
        worst.append((p95 or 0.0, name))
        print(f"{name:22} {p50:7.1f} {p95:7.1f} {max(vals):7.1f}")
    worst.sort(reverse=True)
    print("slowest p95:", ", ".join(f"{n} {v:.0f}" for v, n in worst[:6]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

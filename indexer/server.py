"""Serving the WSGI app with waitress: one process, or several sharing one listening socket.

Why several: search work is Python and numpy under one GIL, so one process uses about one
core; under concurrent load, N worker processes (pre-forked, like gunicorn's sync model)
answer up to N times the requests. Each worker opens the index itself after the fork:
Whoosh readers seek and read through file objects, and a file offset shared between
processes would mix their reads. The parent only binds the socket, forks, restarts a
worker that dies, and stops them all on SIGTERM/SIGINT. The index's large files (texts,
records, per-document arrays) are memory-mapped read-only, so the workers share one copy
of them in the page cache; each worker's own memory is its columns and caches (a few
hundred bytes a notice).

This module knows nothing of Flask: it takes a factory that returns a WSGI callable.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

IDENT = "notice-archive"
RESTART_WINDOW_S = 10.0  # a worker dying this soon after its start counts as a crash loop
MAX_QUICK_DEATHS = 5


def serve(make_app: Callable[[], Any], host: str, port: int, threads: int = 8, workers: int = 1,
          announce: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted. `make_app` is called once per process that answers."""
    from waitress import serve as waitress_serve

    say = announce or (lambda msg: print(msg, flush=True))
    if workers <= 1 or not hasattr(os, "fork"):
        app = make_app()
        say(f"serving on http://{_url_host(host)}:{port}/")
        waitress_serve(app, host=host, port=port, threads=threads, ident=IDENT)
        return

    sock = _listen(host, port)
    say(f"serving on http://{_url_host(host)}:{sock.getsockname()[1]}/ with {workers} worker processes")
    children: dict[int, float] = {}
    stopping = False
    quick_deaths = 0

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:  # worker
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                app = make_app()
                waitress_serve(app, sockets=[sock], threads=threads, ident=IDENT)
            except BaseException as exc:  # noqa: BLE001 - report and leave the child
                print(f"worker {os.getpid()} stopped: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                code = 1
            finally:
                os._exit(code)
        children[pid] = time.monotonic()

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        spawn()
    try:
        while children:
            try:
                pid, _status = os.wait()
            except ChildProcessError:
                break
            started = children.pop(pid, None)
            if stopping or started is None:
                continue
            if time.monotonic() - started < RESTART_WINDOW_S:
                quick_deaths += 1
                if quick_deaths >= MAX_QUICK_DEATHS:
                    print("workers keep dying at start; stopping", file=sys.stderr, flush=True)
                    stop(signal.SIGTERM, None)
                    continue
            print(f"worker {pid} exited; starting another", file=sys.stderr, flush=True)
            spawn()
    finally:
        sock.close()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host

"""Serving with several worker processes: one port, workers restarted, all stopped together."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.conftest import ROOT

PY = sys.executable
Q = "/api/search?q=%E6%95%B4%E6%94%B9"  # 整改


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        return json.loads(resp.read())


def _wait_up(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            _get(url)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _workers(proc: subprocess.Popen, n: int, seconds: float = 30) -> list[psutil.Process]:
    deadline = time.monotonic() + seconds
    while True:
        kids = [k for k in psutil.Process(proc.pid).children() if k.status() != psutil.STATUS_ZOMBIE]
        if len(kids) == n or time.monotonic() > deadline:
            return kids
        time.sleep(0.1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="pre-fork serving needs os.fork")
def test_two_workers_share_the_port_survive_a_crash_and_stop_together(demo_index: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([PY, "-m", "indexer", "serve", "--index", str(demo_index), "--port", str(port),
                             "--workers", "2", "--threads", "2"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_up(base + Q, proc)
        kids = _workers(proc, 2)
        assert len(kids) == 2
        expected = _get(base + Q)["total"]
        assert expected > 0
        for _ in range(20):
            assert _get(base + Q)["total"] == expected
        # a worker killed hard is replaced, and the port keeps answering meanwhile
        os.kill(kids[0].pid, signal.SIGKILL)
        assert _get(base + Q)["total"] == expected
        deadline = time.monotonic() + 30
        while True:
            now = _workers(proc, 2, seconds=1)
            if len(now) == 2 and kids[0].pid not in {k.pid for k in now}:
                break
            assert time.monotonic() < deadline, "the dead worker was not replaced"
        for _ in range(10):
            assert _get(base + Q)["total"] == expected
        # SIGTERM to the parent stops every worker
        survivors = _workers(proc, 2)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        gone, alive = psutil.wait_procs(survivors, timeout=20)
        assert not alive, f"workers left running: {[p.pid for p in alive]}"
    finally:
        if proc.poll() is None:
            for k in psutil.Process(proc.pid).children():
                k.kill()
            proc.kill()

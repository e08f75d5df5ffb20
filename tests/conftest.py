"""Shared test fixtures.

`../shared` (the real corpus beside the checkout) is optional on a developer machine but
required in CI: tests that need it skip with a reason locally and fail under CI=true, so a
missing corpus can never turn a CI run green by skipping.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = Path(os.environ.get("NOTICE_SHARED_DIR", ROOT.parent / "shared"))


def require_shared(*parts: str) -> Path:
    """Return a path under ../shared, skipping (or failing under CI=true) when absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        msg = f"{path} is missing (the shared corpus sits beside the checkout)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture
def shared_dir() -> Path:
    return require_shared()


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return ROOT / "samples"


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the bundled demo corpus, built once per test session."""
    from indexer.index import build

    ix = tmp_path_factory.mktemp("demo_index")
    report = build([str(ROOT / "samples")], ix, workers=1, progress=False)
    assert report.added > 0 and not report.failed, report.failed
    return ix

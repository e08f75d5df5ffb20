"""Facets and the timeline of a hit set: counts over per-snapshot integer columns."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from indexer import regions
from indexer.hitsets import SnapshotState, ancestors


def counts(column: np.ndarray, ids: np.ndarray, vocab: list[str | None]) -> dict[str, int]:
    """Value -> number of `ids` with it, for a column of codes into `vocab` (0 = none)."""
    tally = np.bincount(column[ids], minlength=len(vocab)) if len(ids) else np.zeros(len(vocab), dtype=np.int64)
    return {vocab[c]: int(tally[c]) for c in np.flatnonzero(tally[1:]) + 1}  # type: ignore[misc]


def facets(st: SnapshotState, ids: np.ndarray, region: regions.Region | None) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """Region one level below the current filter, year, type; and the timeline."""
    cols = st.columns
    depth = len(ancestors(region.code)) if region else 0
    reg = counts(cols.region[depth], ids, cols.region_vocab) if depth < 3 else {}
    months = counts(cols.month, ids, cols.month_vocab)
    types = counts(cols.type, ids, cols.type_vocab)
    years: Counter[str] = Counter()
    for month, n in months.items():
        years[month[:4]] += n
    out = {
        "region": [{"value": region_name(c), "code": c, "count": n} for c, n in sorted(reg.items(), key=lambda x: (-x[1], x[0]))],
        "year": [{"value": y, "count": n} for y, n in sorted(years.items(), reverse=True)],
        "type": [{"value": t, "count": n} for t, n in sorted(types.items(), key=lambda x: (-x[1], x[0]))],
    }
    # A timeline per year, or per month when the hits span at most two years.
    if years and len(years) <= 2 and months:
        timeline = [{"label": m, "count": n} for m, n in sorted(months.items())]
    else:
        timeline = []
        if years:
            lo, hi = int(min(years)), int(max(years))
            timeline = [{"label": str(y), "count": years.get(str(y), 0)} for y in range(lo, hi + 1)]
    return out, timeline


def region_name(code: str) -> str:
    """The division's name, or the code when the table does not know it."""
    r = regions.get(code)
    return r.name if r else code

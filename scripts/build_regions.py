"""Build indexer/data/regions.tsv from the location dictionary shipped in jionlp's wheel.

Why a build script instead of a dependency: jionlp (Apache-2.0) carries a maintained table of
China's divisions plus a dated log of renamed divisions, but the package weighs ~245 MB and
imports GPLv3 code (jiojio). We only need two small text files out of its archive, so we
read them straight from the downloaded wheel (a zip) with the standard library and write a
compact TSV that indexer/regions.py loads at run time.

Usage:
    pip download --no-deps -d /tmp/jl jionlp==1.5.31
    .venv/bin/python scripts/build_regions.py /tmp/jl/jionlp-1.5.31-py2.py3-none-any.whl

Output columns (tab separated, one division per line, '#' lines are comments):
    code  name  level  parent  shorts  old_names
`shorts` and `old_names` are '|'-separated; old names are full and short names a division
had before a rename or merger recorded in the change log, so old documents stay findable.

Shaping decisions (documented again in indexer/data/REGIONS_SOURCE.md):
- Municipalities (北京/天津/上海/重庆): jionlp repeats the municipality as its own city with
  the province code; we drop that pseudo-city, so districts hang directly off 110000 etc.
- 省直辖行政区划 (e.g. 429000 湖北 仙桃/潜江/天门, 469000 海南, 659000 新疆兵团 cities,
  419000 济源) is a statistics grouping, not a division: its county-level cities hang off the
  province.
- 市直辖行政区划 under cities without districts (东莞, 中山, 儋州, 嘉峪关) is dropped.
- Statistics-only units (development zones coded xx xx 7x, 管委会, 开发区) are dropped: they are
  not administrative divisions, and their short names (高新区, 经开区) would be ambiguous noise.
- Entries without a code (Taiwan's counties) or re-using an already seen code (Hong Kong and
  Macau districts all carry 810000/820000) are dropped.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "indexer" / "data" / "regions.tsv"

LOCATION_ZIP = "jionlp/dictionary/china_location.zip"
LOCATION_TXT = "china_location.txt"
CHANGE_TXT = "jionlp/dictionary/china_location_change.txt"

# Misspellings / wrong suffixes in the change log (checked by hand against the table).
_LOG_TYPOS = {"云岗区": "云冈区", "大菁山县": "大箐山县", "玉环区": "玉环市"}
MUNICIPALITIES = {"110000", "120000", "310000", "500000"}
_NON_DIVISION = re.compile(r"(开发区|管委会|委员会|产业园|园区|示范区)$")


def _read_archive(wheel: Path) -> tuple[str, str]:
    with zipfile.ZipFile(wheel) as whl:
        inner = whl.read(LOCATION_ZIP)
        change = whl.read(CHANGE_TXT).decode("utf-8")
    with zipfile.ZipFile(io.BytesIO(inner)) as z:
        location = z.read(LOCATION_TXT).decode("utf-8")
    return location, change


def parse_location(text: str) -> "OrderedDict[str, dict]":
    """Parse the tab-indented tree (0 tabs province, 1 city, 2 county; deeper = towns)."""
    regions: OrderedDict[str, dict] = OrderedDict()
    province = city = None  # codes of the current parents
    for raw in text.splitlines():
        depth = len(raw) - len(raw.lstrip("\t"))
        if depth > 2:
            continue
        fields = raw.strip().split("\t")
        if len(fields) != 3 or not re.fullmatch(r"\d{6}", fields[1]):
            if depth == 1:
                city = None  # a code-less city (never happens today): orphan its children
            continue
        name, code, alias = fields
        shorts = [a for a in alias.split("/") if a]
        if depth == 0:
            province, city = code, None
            if code not in regions:
                regions[code] = dict(code=code, name=name, level=1, parent=None, shorts=shorts)
            continue
        if depth == 1:
            if province is None:
                continue
            if code == province or name == "省直辖行政区划":
                city = province  # children attach to the province
                continue
            city = code
            if code not in regions:
                regions[code] = dict(code=code, name=name, level=2, parent=province, shorts=shorts)
            continue
        # depth == 2: county level
        if city is None or code in regions or name == "市直辖行政区划":
            continue
        if 70 <= int(code[4:]) <= 79 or _NON_DIVISION.search(name):
            continue
        regions[code] = dict(code=code, name=name, level=3, parent=city, shorts=shorts)
    return regions


def _short_of(full: str) -> str | None:
    """Fallback short name: strip a generic suffix (the change log gives most of them)."""
    m = re.fullmatch(r"(.{2,}?)(?:市|县|区|地区|自治县|自治州|盟|旗)", full)
    return m.group(1) if m else None


def apply_changes(regions: "OrderedDict[str, dict]", change: str) -> list[str]:
    """Attach old names from the dated change log to the division that replaced them."""
    by_path: dict[tuple[str, ...], str] = {}
    for r in regions.values():
        path = [r["name"]]
        p = r["parent"]
        while p:
            path.insert(0, regions[p]["name"])
            p = regions[p]["parent"]
        by_path[tuple(path)] = r["code"]
    # municipality districts: the log writes 北京市 北京市 X; our path is 北京市 X
    problems: list[str] = []
    renamed: list[str] = []
    for line in change.splitlines():
        if not line.strip():
            continue
        old_part, _, new_part = line.partition("=>")
        old = old_part.split("\t")[2:]  # prov, prov_short, city, city_short[, county, county_short]
        new = [x for x in new_part.split("\t") if x]
        code = by_path.get(tuple(new))
        if code is None and len(new) == 3 and new[0] == new[1]:
            code = by_path.get((new[0], new[2]))
        if code is None and len(new) == 3:
            # a city re-parented directly to its province (none today) or 省直辖 county
            code = by_path.get((new[0], new[2]))
        if code is None:
            code = _fuzzy_child(regions, by_path, new)
        if code is None and len(old) >= 6:
            # the table itself is stale (still lists the old name): rename that entry in place,
            # keeping its code, since the change log gives names but not new codes
            stale = by_path.get(tuple(new[:-1]) + (old[4],))
            if stale is not None:
                r = regions[stale]
                r["shorts"] = [s for s in [_short_of(new[-1]) or old[5]] if s]
                r["name"], code = new[-1], stale
                renamed.append(f"{stale} {old[4]} -> {new[-1]}")
        if code is None:
            problems.append(line)
            continue
        if len(old) >= 6:
            old_full, old_short = old[4], old[5]
        else:
            old_full, old_short = old[2], old[3]
        r = regions[code]
        olds = r.setdefault("old", [])
        for n in (old_full, old_short):
            if n and n != r["name"] and n not in r["shorts"] and n not in olds:
                olds.append(n)
    for r in renamed:
        print("renamed stale entry:", r, file=sys.stderr)
    return problems


def _fuzzy_child(regions: "OrderedDict[str, dict]", by_path: dict, new: list[str]) -> str | None:
    """Find the log's new division under its parent when the log spells it loosely:
    a short form (金秀县 for 金秀瑶族自治县) or a known typo (云岗区 for 云冈区)."""
    parent = by_path.get(tuple(new[:-1]))
    if parent is None and len(new) == 3 and new[0] == new[1]:
        parent = by_path.get((new[0],))
    if parent is None:
        return None
    target = _LOG_TYPOS.get(new[-1], new[-1])
    tshort = _short_of(target) or target
    hits = []
    for r in regions.values():
        if r["parent"] != parent:
            continue
        n = r["name"]
        if n == target or (tshort in r["shorts"] and n.startswith(tshort) and "自治" in n):
            hits.append(r["code"])
    return hits[0] if len(hits) == 1 else None


def write_tsv(regions: "OrderedDict[str, dict]", out: Path, source_note: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="\n") as f:
        f.write(f"# {source_note}\n")
        f.write("# code\tname\tlevel\tparent\tshorts\told_names\n")
        for r in sorted(regions.values(), key=lambda r: r["code"]):
            shorts = list(r["shorts"]) or ([s] if (s := _short_of(r["name"])) else [])
            f.write(
                "\t".join(
                    [
                        r["code"],
                        r["name"],
                        str(r["level"]),
                        r["parent"] or "",
                        "|".join(shorts),
                        "|".join(r.get("old", [])),
                    ]
                )
                + "\n"
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path, help="path to jionlp-1.5.31-py2.py3-none-any.whl")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    location, change = _read_archive(args.wheel)
    regions = parse_location(location)
    problems = apply_changes(regions, change)
    for p in problems:
        print("change log line not matched:", p, file=sys.stderr)
    write_tsv(regions, args.out, f"built by scripts/build_regions.py from {args.wheel.name}")
    levels = [sum(1 for r in regions.values() if r["level"] == lv) for lv in (1, 2, 3)]
    print(f"wrote {args.out}: provinces={levels[0]} cities={levels[1]} counties={levels[2]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Build indexer/data/t2s.tsv, the traditional -> simplified character table.

Source: OpenCC's TSCharacters.txt as shipped in the PyPI package
opencc-python-reimplemented==0.1.7 (Apache-2.0). Only the first (preferred) simplified
form of each traditional character is kept, so the mapping is one character to one
character and normalisation never changes text length.

Usage: pip download --no-deps -d /tmp/occ opencc-python-reimplemented==0.1.7
       python scripts/build_t2s.py /tmp/occ/opencc_python_reimplemented-0.1.7-py2.py3-none-any.whl
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "indexer" / "data" / "t2s.tsv"


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as zf:
        text = zf.read("opencc/dictionary/TSCharacters.txt").decode("utf-8")
    rows = []
    for line in text.splitlines():
        trad, _, simps = line.partition("\t")
        first = simps.split(" ")[0] if simps else ""
        if len(trad) == 1 and len(first) == 1 and trad != first:
            rows.append(f"{trad}\t{first}")
    header = (
        "# traditional<TAB>simplified, one character each.\n"
        "# From OpenCC TSCharacters.txt (opencc-python-reimplemented 0.1.7, Apache-2.0),\n"
        "# built by scripts/build_t2s.py.\n"
    )
    OUT.write_text(header + "\n".join(sorted(rows)) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} mappings to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])

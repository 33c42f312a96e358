"""Printing rows as a table, CSV or JSON: the formats every listing command offers."""

from __future__ import annotations

import csv
import json
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO

from geotagger.textsafe import terminal_text

FORMATS = ("table", "csv", "json")


def _cell(value: Any, exact: bool = False) -> str:
    """Text of one cell. CSV (exact) keeps every digit a float has, so coordinates survive a round
    trip; the table shows at most 6 decimals (0.1 m in latitude), never fewer significant digits."""
    if value is None:
        return ""
    if isinstance(value, float):
        if exact:
            return repr(value)
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.3g}"
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def print_rows(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str, out: TextIO | None = None
) -> None:
    """Write rows with the given columns; JSON keeps every key of each row."""
    out = out or sys.stdout
    if fmt == "json":
        json.dump(list(rows), out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k), exact=True) for k in columns})
    else:
        # The table is for a terminal: a name's escape sequences or line breaks must not reach it.
        cells = [[terminal_text(_cell(row.get(k))) for k in columns] for row in rows]
        widths = [max([_width(c)] + [_width(r[i]) for r in cells]) for i, c in enumerate(columns)]
        out.write("  ".join(_pad(c, w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
        for r in cells:
            out.write("  ".join(_pad(v, w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n")


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two, combining accents none (東京 is 4 wide)."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))

"""exiftool as the independent reader the tests verify files with."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path


def exiftool_json(*args: str | Path) -> list[dict]:
    """``exiftool -json -n ARGS`` parsed (numbers as numbers)."""
    out = subprocess.run(
        ["exiftool", "-json", "-n", *map(str, args)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def exiftool_gps(*paths: Path) -> dict[str, tuple[float | None, float | None]]:
    """File name -> (GPSLatitude, GPSLongitude) as exiftool reads them; (None, None) without GPS."""
    rows = exiftool_json("-GPSLatitude", "-GPSLongitude", *paths)
    return {Path(r["SourceFile"]).name: (r.get("GPSLatitude"), r.get("GPSLongitude")) for r in rows}

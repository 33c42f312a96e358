"""The runtime requirements list only what the code imports (issue 14): metadata is read and written by
geotagger's own code, so no EXIF library is required, and the CLI starts without them."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNUSED = {"exifread", "piexif"}


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_exif_library_is_required_or_imported() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = [*project["dependencies"], *(d for ds in project["optional-dependencies"].values() for d in ds)]
    assert not [d for d in listed if any(d.lower().startswith(name) for name in UNUSED)]
    files = [*ROOT.joinpath("geotagger").rglob("*.py"), *ROOT.joinpath("tests").rglob("*.py")]
    assert len(files) > 50
    offenders = {str(f.relative_to(ROOT)) for f in files if _imported_roots(f) & UNUSED}
    assert not offenders


def test_cli_starts_when_exif_libraries_are_absent() -> None:
    """A fresh ``pip install -e .`` no longer brings exifread/piexif: block them and run ``--help``."""
    code = (
        "import sys; sys.modules.update(exifread=None, piexif=None); sys.argv = ['geotagger', '--help']\n"
        "from geotagger.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    sys.exit(e.code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "gui" in done.stdout and "Traceback" not in done.stderr

"""The seams of DESIGN.md that must hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "geotagger"


def _non_gui_modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = rel.parts
        if "gui" in parts or parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def test_core_never_imports_qt() -> None:
    modules = _non_gui_modules()
    assert len(modules) > 10
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'PyQt')))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"Qt loaded by the core: {result.stdout}"


def test_only_gui_mentions_pyside() -> None:
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "gui" not in p.relative_to(PACKAGE).parts and "PySide6" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_command_line_starts_without_heavy_imports() -> None:
    """`geotagger --help` and argument errors stay fast: commands load their services when they run."""
    code = (
        "import sys\n"
        "from geotagger.cli.main import build_parser\n"
        "build_parser()\n"
        "heavy = ('sqlalchemy', 'torch', 'onnxruntime', 'scipy', 'shapely', 'PySide6', 'folium', 'PIL')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"loaded while building the parser: {result.stdout}"

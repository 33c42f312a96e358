"""Querying a QtWebEngine page from tests: run a script and wait for its result (no Qt import here)."""

from __future__ import annotations

from typing import Any


def run_js(qtbot: Any, view: Any, script: str) -> Any:
    """Evaluate ``script`` in the page of ``view`` and wait for its result."""
    box: list = []
    view.page().runJavaScript(script, 0, box.append)
    qtbot.waitUntil(lambda: bool(box), timeout=10000)
    return box[0]

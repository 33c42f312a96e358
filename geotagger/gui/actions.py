"""Library jobs of the main window: index a folder, locate, write, undo, export, explain a candidate.

Each is one small operation: the service call runs through the TaskRunner off the GUI thread, and the
success/failure callbacks run on the GUI thread and refresh the views from the catalog. Errors reach
the log view through the runner; nothing here decides anything about photos itself.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from geotagger.gui import ops
from geotagger.services import browse

if TYPE_CHECKING:
    from geotagger.gui.window import MainWindow

log = logging.getLogger("geotagger.gui.window")  # the log view names the window, as before the split


def add_folder(win: MainWindow, folder: str | None = None) -> None:
    """Index a folder (asked for when not given), then show it in the sidebar."""
    if not folder:
        folder = QFileDialog.getExistingDirectory(win, "Add a folder of photos")
    if not folder:
        return
    index = ops.lazy("index")
    lib = win.lib

    def work(progress, cancel):
        # Threads, not processes: forking a process that runs Qt threads is unsafe.
        return index(lib, [folder], progress=progress, cancel=cancel, pool="thread")

    def done(report) -> None:
        win.reload()
        win.sidebar.select_folder(str(Path(folder).resolve()))
        win.statusBar().showMessage(f"Indexed {folder}: {report}", 8000)

    win.tasks.submit("index", work, done, lambda _e: win.reload(), long=True)


def locate(win: MainWindow) -> None:
    """Estimate locations for the selected photos (several selected) or for the whole library."""
    locate_fn = ops.lazy("locate")
    lib = win.lib
    device = win.settings.get("locate/device")
    ids = win.selected_ids() if len(win.selected_ids()) > 1 else None
    paths = list(browse.paths_of(lib, ids).values()) if ids else None

    def work(progress, cancel):
        return locate_fn(lib, paths=paths, device=device, progress=progress, cancel=cancel)

    win.tasks.submit("locate", work, lambda _r: win.reload(), lambda _e: win.reload(), long=True)


def write(win: MainWindow) -> None:
    """Write accepted locations into the files; per-file failures go to the log."""
    write_fn = ops.lazy("write")
    lib = win.lib
    policy = win.settings.get("write/sidecar")

    def work(progress, cancel):
        return write_fn(lib, dry_run=False, sidecar_policy=policy, progress=progress, cancel=cancel)

    def done(report) -> None:
        win.reload()
        written, failed = getattr(report, "written", "?"), getattr(report, "failed", 0)
        win.statusBar().showMessage(f"Write finished: {written} written, {failed} failed", 10000)
        for item in getattr(report, "items", []):
            if getattr(item, "status", "") == "failed":
                log.error("write %s: %s", getattr(item, "path", ""), getattr(item, "detail", ""))

    win.tasks.submit("write", work, done, lambda _e: win.reload(), long=True)


def undo(win: MainWindow) -> None:
    """Undo the last write (restores the files' previous bytes)."""
    undo_fn = ops.lazy("undo")
    lib = win.lib

    def done(result) -> None:
        win.reload()
        count = len(result) if isinstance(result, list) else result
        win.statusBar().showMessage(f"Undone: {count} file change(s) restored", 8000)

    win.tasks.submit("undo", lambda: undo_fn(lib, last=1), done, lambda _e: win.reload())


def export(win: MainWindow) -> None:
    """Ask what to export (the shown filter or an album) and export it as a folder album."""
    from geotagger.gui.export_dialog import ExportDialog

    list_albums = ops.find("list_albums")
    albums = [a["name"] for a in list_albums(win.lib)] if list_albums else []
    dialog = ExportDialog(win, win.filter_name, albums)
    if dialog.exec():
        export_fn = ops.lazy("export")
        lib = win.lib
        kwargs = dialog.values()
        win.tasks.submit(
            "export",
            lambda progress, cancel: export_fn(lib, progress=progress, cancel=cancel, **kwargs),
            lambda r: win.statusBar().showMessage(
                f"Exported to {getattr(r, 'folder', kwargs['dest'])}", 10000
            ),
            long=True,
        )


def explain_overlay(win: MainWindow, on: bool) -> None:
    """The overlay toggle: show what the model looked at for the chosen candidate, or the photo again."""
    details = win.current_details
    if details is None:
        return
    if not on:
        win.details.set_preview(win.thumbnails.pixmap(details.id))
        return
    if not ops.available("explain"):
        return
    explain = ops.lazy("explain")
    candidate = win.details.current_candidate() or 0  # 0 = best, as explaining.explain counts
    out = win.lib.side_dir("overlays") / f"{details.id}-{candidate}.png"
    lib = win.lib
    win.statusBar().showMessage("Explaining the candidate…")

    def work():
        return explain(lib, details.id, candidate=candidate, overlay=out)

    def done(result) -> None:
        from PySide6.QtGui import QPixmap

        win.statusBar().clearMessage()
        if win.current_id != details.id:
            return
        concepts = getattr(result, "concepts", None)
        if concepts:
            win.details.concepts.set_concepts([tuple(c) for c in concepts])
        overlay = getattr(result, "overlay", None)
        if overlay and Path(overlay).is_file() and win.details.overlay.isChecked():
            win.details.set_preview(QPixmap(str(overlay)))
        else:
            note = getattr(result, "note", "") or "no attribution map for this candidate"
            win.statusBar().showMessage(f"No overlay: {note}", 8000)
            win.details.overlay.setChecked(False)

    def failed(_exc) -> None:
        win.details.overlay.setChecked(False)

    win.tasks.submit("explain", work, done, failed)

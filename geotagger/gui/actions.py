"""Library jobs: index a folder, locate, write, export, and explain a candidate (the overlay toggle).

Each is one small operation: the service call runs through the TaskRunner off the GUI thread, and the
success/failure callbacks run on the GUI thread and refresh the views from the catalog. Errors reach
the log view through the runner; nothing here decides anything about photos itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QKeySequence, QPixmap
from PySide6.QtWidgets import QFileDialog, QWidget

from geotagger.catalog.library import Library
from geotagger.gui import settings as keys
from geotagger.gui.browsing import Browser
from geotagger.gui.details import DetailsPane
from geotagger.gui.feedback import StatusFeedback
from geotagger.gui.qaction import make_action
from geotagger.gui.settings import AppSettings
from geotagger.gui.tasks import TaskRunner
from geotagger.gui.thumbnails import ThumbnailLoader
from geotagger.services import albums, browse, explaining, exporting, indexing, locating, writing
from geotagger.services.exporting import ExportReport
from geotagger.services.writing import WriteReport

log = logging.getLogger("geotagger.gui.window")  # the log view names the window, as before the split


class LibraryJobs:
    """Add folder (Ctrl+O), Locate (Ctrl+L), Write (Ctrl+W), Export (Ctrl+E) and explain; the window's
    Cancel (Esc) stops the long one."""

    def __init__(
        self,
        owner: QWidget,
        lib: Library,
        tasks: TaskRunner,
        browser: Browser,
        details: DetailsPane,
        thumbnails: ThumbnailLoader,
        status: StatusFeedback,
        settings: AppSettings,
        on_written: Callable[[], None],
    ) -> None:
        self.owner, self.lib, self.tasks, self.browser = owner, lib, tasks, browser
        self.details, self.thumbnails, self.status, self.settings = details, thumbnails, status, settings
        self.on_written = on_written
        a = make_action
        self.act_add = a(
            owner, "Add folder…", self.add_folder, QKeySequence.StandardKey.Open, "Index a folder of photos"
        )
        self.act_locate = a(
            owner, "Locate", self.locate, "Ctrl+L", "Estimate where photos without GPS were taken"
        )
        self.act_write = a(owner, "Write", self.write, "Ctrl+W", "Write accepted locations into the files")
        self.act_export = a(owner, "Export…", self.export, "Ctrl+E", "Export the shown photos as an album")
        details.overlay_toggled.connect(self.explain_overlay)
        details.candidate_selected.connect(lambda _i: self.explain_overlay(details.overlay.isChecked()))
        tasks.long_started.connect(lambda _n: self.update())
        tasks.long_finished.connect(lambda *_: self.update())
        browser.changed.connect(self.update)

    def update(self) -> None:
        """One long job at a time; the overlay needs candidates."""
        idle = self.tasks.long_task is None
        for action in (self.act_add, self.act_locate, self.act_write):
            action.setEnabled(idle)
        d = self.browser.current_details
        self.details.overlay.setEnabled(bool(d and d.candidates))

    def add_folder(self, folder: str | None = None) -> None:
        """Index a folder (asked for when not given), then show it in the sidebar."""
        if not folder:
            folder = QFileDialog.getExistingDirectory(self.owner, "Add a folder of photos")
        if not folder:
            return
        lib = self.lib

        def work(progress, cancel) -> indexing.IndexReport:
            # Threads, not processes: forking a process that runs Qt threads is unsafe.
            return indexing.index(lib, [folder], progress=progress, cancel=cancel, pool="thread")

        def done(report: indexing.IndexReport) -> None:
            self.browser.reload()
            self.browser.sidebar.select_folder(str(Path(folder).resolve()))
            self.status.show(f"Indexed {folder}: {report}", 8000)

        self.tasks.submit("index", work, done, lambda _e: self.browser.reload(), long=True)

    def locate(self) -> None:
        """Estimate locations for the selected photos (several selected) or for the whole library."""
        lib = self.lib
        device = str(self.settings.get(keys.DEVICE))
        selected = self.browser.selected_ids()
        paths = list(browse.paths_of(lib, selected).values()) if len(selected) > 1 else None

        def work(progress, cancel) -> locating.LocateReport:
            return locating.locate(lib, paths=paths, device=device, progress=progress, cancel=cancel)

        reload = lambda _r: self.browser.reload()  # noqa: E731
        self.tasks.submit("locate", work, reload, reload, long=True)

    def write(self) -> None:
        """Write accepted locations into the files; per-file failures go to the log."""
        lib = self.lib
        policy = str(self.settings.get(keys.SIDECAR))

        def work(progress, cancel) -> WriteReport:
            return writing.write(lib, dry_run=False, sidecar_policy=policy, progress=progress, cancel=cancel)

        def done(report: WriteReport) -> None:
            self.browser.reload()
            self.on_written()
            self.status.show(f"Write finished: {report.written} written, {report.failed} failed", 10000)
            for item in report.items:
                if item.status == "failed":
                    log.error("write %s: %s", item.path, item.detail)

        def failed(_exc: BaseException) -> None:
            self.browser.reload()
            self.on_written()

        self.tasks.submit("write", work, done, failed, long=True)

    def export(self) -> None:
        """Ask what to export (the shown filter or an album) and export it as a folder album."""
        from geotagger.gui.export_dialog import ExportDialog

        names = [a["name"] for a in albums.list_albums(self.lib)]
        dialog = ExportDialog(self.owner, self.browser.filter_name, names)
        if not dialog.exec():
            return
        lib = self.lib
        kwargs = dialog.values()

        def work(progress, cancel) -> ExportReport:
            return exporting.export(lib, progress=progress, cancel=cancel, **kwargs)

        self.tasks.submit(
            "export", work, lambda r: self.status.show(f"Exported to {r.folder}", 10000), long=True
        )

    def explain_overlay(self, on: bool) -> None:
        """The overlay toggle: show what the model looked at for the chosen candidate, or the photo again."""
        details = self.browser.current_details
        if details is None:
            return
        if not on:
            self.details.set_preview(self.thumbnails.pixmap(details.id))
            return
        candidate = self.details.current_candidate() or 0  # 0 = best, as explaining.explain counts
        out = self.lib.side_dir("overlays") / f"{details.id}-{candidate}.png"
        lib = self.lib
        self.status.show("Explaining the candidate…", 0)

        def work() -> explaining.Explanation:
            return explaining.explain(lib, details.id, candidate=candidate, overlay=out)

        def done(result: explaining.Explanation) -> None:
            self.status.clear()
            if self.browser.current_id != details.id:
                return
            if result.concepts:
                self.details.concepts.set_concepts([tuple(c) for c in result.concepts])
            if result.overlay and Path(result.overlay).is_file() and self.details.overlay.isChecked():
                self.details.set_preview(QPixmap(str(result.overlay)))
            else:
                note = result.overlay_note or result.note or "no attribution map for this candidate"
                self.status.show(f"No overlay: {note}", 8000)
                self.details.overlay.setChecked(False)

        self.tasks.submit("explain", work, done, lambda _e: self.details.overlay.setChecked(False))

"""History in the window: the Undo action names what it will undo ("Undo accept of IMG_0012.jpg") and
the History panel lists the journal newest first. Both read ``services.history``, the same history the
command line's ``geotagger undo`` / ``history`` use, so it survives a restart."""

from __future__ import annotations

import logging
from datetime import UTC

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QPalette
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from geotagger.catalog.library import Library
from geotagger.gui.browsing import Browser
from geotagger.gui.feedback import StatusFeedback
from geotagger.gui.plain import tooltip
from geotagger.gui.qaction import make_action
from geotagger.gui.tasks import TaskRunner
from geotagger.services import history
from geotagger.services.history import Entry, UndoOutcome

log = logging.getLogger("geotagger.gui.window")
SHOWN = 200  # entries listed in the panel


class HistoryPanel(QListWidget):
    """The journal, newest first; undone entries greyed. Selecting an entry selects its photo."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("history-panel")
        self.setUniformItemSizes(True)
        self.setAlternatingRowColors(True)

    def set_entries(self, entries: list[Entry]) -> None:
        self.clear()
        grey = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        for entry in entries:
            when = entry.at.replace(tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M")  # UTC -> local
            text = f"{when}  {entry.label}" + ("  (undone)" if entry.undone else "")
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, entry.photo_ids[0] if entry.photo_ids else None)
            item.setToolTip(tooltip(f"{entry.label}\n{entry.files} file(s)" if entry.files else entry.label))
            if entry.undone:
                item.setForeground(grey)
            self.addItem(item)

    def texts(self) -> list[str]:
        return [self.item(i).text().split("  ", 1)[1] for i in range(self.count())]


class HistoryController:
    """Undo (Ctrl+Z) of the newest decision or write, and the History panel."""

    def __init__(
        self, owner: QWidget, lib: Library, tasks: TaskRunner, browser: Browser, status: StatusFeedback
    ) -> None:
        self.lib, self.tasks, self.browser, self.status = lib, tasks, browser, status
        self.next: Entry | None = None
        self.act_undo = make_action(owner, "Undo", self.undo, QKeySequence.StandardKey.Undo)
        self.panel = HistoryPanel()
        self.panel.itemActivated.connect(self._on_activated)
        self._show(None)
        tasks.long_started.connect(lambda _n: self._show(self.next))
        tasks.long_finished.connect(lambda *_: self._show(self.next))

    def refresh(self) -> None:
        """Re-read the history (in the background) and say what Undo will undo."""
        lib = self.lib
        self.tasks.submit("history", lambda: history.entries(lib, limit=SHOWN), self._apply)

    def _apply(self, entries: list[Entry]) -> None:
        self.panel.set_entries(entries)
        self._show(next((e for e in entries if not e.undone), None))

    def _show(self, entry: Entry | None) -> None:
        self.next = entry
        text = entry.undo_text if entry else "Undo"
        self.act_undo.setText(text)
        tip = f"{text} (Ctrl+Z)" if entry else "Nothing to undo"
        self.act_undo.setToolTip(tooltip(tip))
        self.act_undo.setStatusTip(tip)
        self.act_undo.setEnabled(entry is not None and self.tasks.long_task is None)

    def undo(self) -> None:
        """Undo exactly what the action says (refused when the history moved on meanwhile)."""
        entry = self.next
        if entry is None or not self.act_undo.isEnabled():
            return
        lib = self.lib
        self.act_undo.setEnabled(False)  # one undo at a time; refresh() enables the next

        def done(outcome: UndoOutcome) -> None:
            for path, reason in outcome.failures:
                log.error("undo %s: %s", path, reason)
            self.browser.reload()
            self.refresh()
            self.status.show(outcome.message, 8000)

        def failed(_exc: BaseException) -> None:
            self.browser.reload()
            self.refresh()

        self.tasks.submit("undo", lambda: history.undo(lib, expect=entry), done, failed)

    def _on_activated(self, item: QListWidgetItem) -> None:
        photo_id = item.data(Qt.ItemDataRole.UserRole)
        if photo_id is not None:
            self.browser.select_photo(int(photo_id))

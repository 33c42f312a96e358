"""The details pane: what is known about the selected photo and the ranked candidates to choose from.

Its content scrolls when the pane is short (the decision buttons stay visible below it); the candidate
list is sized to show five candidates without cutting one; the preview opens full size on a click (the
attribution overlay's legend is unreadable at thumbnail size); errors use a red that reads on the theme."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from geotagger.gui.colors import error_color
from geotagger.gui.plain import plain_label, rich, tooltip
from geotagger.services.browse import CandidateView, PhotoDetails

STATE_TEXT = {
    "none": "not reviewed",
    "suggested": "has suggestions",
    "accepted": "accepted, not written yet",
    "rejected": "rejected",
    "written": "written to the file",
}


def format_coordinate(lat: float | None, lon: float | None) -> str:
    if lat is None or lon is None:
        return "none"
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    return f"{abs(lat):.5f}° {ns}, {abs(lon):.5f}° {ew}"


class ConceptBars(QWidget):
    """Concept influence as bars; the tick marks 1.0 (attention equal to the concept's area share)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.concepts: list[tuple[str, float, float | None]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_concepts(self, concepts: list[tuple[str, float, float | None]]) -> None:
        self.concepts = sorted(concepts, key=lambda c: -c[1])[:8]
        self.setVisible(bool(self.concepts))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(200, len(self.concepts) * (self.fontMetrics().height() + 4) + 4)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        metrics = QFontMetrics(self.font())
        line = metrics.height() + 4
        label_w = max([metrics.horizontalAdvance(c[0]) for c in self.concepts] + [40]) + 8
        value_w = metrics.horizontalAdvance("00.00") + 8
        bar_w = max(20, self.width() - label_w - value_w)
        scale = max(3.0, max((c[1] for c in self.concepts), default=1.0))
        highlight = self.palette().color(QPalette.ColorRole.Highlight)
        for i, (name, influence, _share) in enumerate(self.concepts):
            y = 2 + i * line
            painter.setPen(self.palette().color(QPalette.ColorRole.Text))
            painter.drawText(
                QRect(0, y, label_w - 6, line),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                name,
            )
            track = QRect(label_w, y + 3, bar_w, line - 6)
            base = self.palette().color(QPalette.ColorRole.Mid)
            base.setAlpha(60)
            painter.fillRect(track, base)
            fill = QRect(track)
            fill.setWidth(int(bar_w * min(influence, scale) / scale))
            color = QColor(highlight)
            if influence < 1.0:
                color.setAlpha(120)
            painter.fillRect(fill, color)
            tick = label_w + int(bar_w / scale)
            painter.setPen(self.palette().color(QPalette.ColorRole.Text))
            painter.drawLine(tick, y + 1, tick, y + line - 1)
            painter.drawText(
                QRect(label_w + bar_w + 4, y, value_w, line),
                Qt.AlignmentFlag.AlignVCenter,
                f"{influence:.2f}",
            )
        painter.end()


def accepted_at(details: PhotoDetails) -> tuple[float, float] | None:
    """Where the photo's newest live accept put it (what Write will write)."""
    live = [d for d in details.decisions if not d.get("undone")]
    if live and live[0]["action"] == "accept" and live[0]["lat"] is not None:
        return live[0]["lat"], live[0]["lon"]
    return None


PREVIEW_HEIGHT = 140  # px; the candidates below keep their room in a short pane
VISIBLE_CANDIDATES = 5  # rows the list shows without scrolling (keys 1-5 pick them)


class PreviewLabel(QLabel):
    """The photo (or overlay) preview; a click opens it large."""

    clicked = Signal()
    resized = Signal()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.resized.emit()  # the pixmap is rescaled to the label's own size (inside the scroll area)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mousePressEvent(event)


class PreviewDialog(QDialog):
    """The preview at up to 1200 x 900 px, so an overlay's legend and small concepts can be read."""

    def __init__(self, pixmap: QPixmap, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        limit = QSize(1200, 900)
        shown = (
            pixmap
            if pixmap.width() <= limit.width() and pixmap.height() <= limit.height()
            else (
                pixmap.scaled(
                    limit, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            )
        )
        self.image.setPixmap(shown)
        layout = QVBoxLayout(self)
        layout.addWidget(self.image)


class DetailsPane(QWidget):
    candidate_selected = Signal(int)
    overlay_toggled = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.details: PhotoDetails | None = None
        self.title = plain_label("No photo selected")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state = plain_label()
        self.preview = PreviewLabel()
        self.preview.setTextFormat(Qt.TextFormat.PlainText)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumWidth(160)
        self.preview.setFixedHeight(PREVIEW_HEIGHT)  # a click shows it large
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.preview.setCursor(Qt.CursorShape.PointingHandCursor)
        self.preview.setToolTip("Click to see it large")
        self.preview.clicked.connect(self.open_preview)
        self.preview.resized.connect(self._fit_preview)
        self.preview_dialog: PreviewDialog | None = None
        self._pixmap: QPixmap | None = None
        self.taken = plain_label()
        self.camera = plain_label()
        self.location = plain_label()
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem = plain_label()
        self.problem.setWordWrap(True)
        self._color_problem()
        info = QFormLayout()
        info.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        info.addRow("Taken", self.taken)
        info.addRow("Camera", self.camera)
        info.addRow("Location", self.location)
        info.addRow("", self.problem)

        self.candidates = QTreeWidget()
        self.candidates.setHeaderLabels(["#", "Place", "Level", "Conf.", "Source"])
        self.candidates.setRootIsDecorated(False)
        self.candidates.setUniformRowHeights(True)
        self.candidates.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.candidates.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for col in (0, 2, 3, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.candidates.itemSelectionChanged.connect(self._on_candidate)
        self.candidates.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.candidates.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._size_candidates()
        self.evidence = QLabel()  # rich text on purpose (bold heading); every value in it is escaped
        self.evidence.setTextFormat(Qt.TextFormat.RichText)
        self.evidence.setWordWrap(True)
        self.concepts = ConceptBars()
        self.concepts.setVisible(False)
        self.overlay = QCheckBox("Show attribution over the photo")
        self.overlay.toggled.connect(self.overlay_toggled)
        self.buttons = QHBoxLayout()
        self.buttons.setSpacing(4)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSizeConstraint(
            QLayout.SizeConstraint.SetMinimumSize
        )  # scroll, never squeeze rows over each other
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.state)
        layout.addLayout(top)
        middle = QHBoxLayout()
        middle.addWidget(self.preview, 2)
        middle.addLayout(info, 3)
        layout.addLayout(middle, 2)
        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(rule)
        layout.addWidget(self.candidates)
        layout.addWidget(self.evidence)
        layout.addWidget(self.concepts)
        layout.addWidget(self.overlay)
        layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addWidget(self.scroll, 1)
        self.buttons.setContentsMargins(8, 0, 8, 6)
        outer.addLayout(self.buttons)
        self.show_details(None)

    def _size_candidates(self) -> None:
        """Tall enough for VISIBLE_CANDIDATES rows plus the header (more rows scroll)."""
        row = max(self.candidates.sizeHintForRow(0), self.fontMetrics().height() + 6)
        header = self.candidates.header().sizeHint().height()
        frame = 2 * self.candidates.frameWidth()
        height = header + VISIBLE_CANDIDATES * row + frame + 4
        self.candidates.setMinimumHeight(height)
        self.candidates.setMaximumHeight(height)

    def _color_problem(self) -> None:
        palette = self.problem.palette()
        palette.setColor(QPalette.ColorRole.WindowText, error_color(self.palette()))
        self.problem.setPalette(palette)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._color_problem()
        super().changeEvent(event)

    def open_preview(self) -> None:
        """The preview (photo or overlay) large, in its own window."""
        if self._pixmap is None or self._pixmap.isNull():
            return
        title = self.details.filename if self.details is not None else "Preview"
        self.preview_dialog = PreviewDialog(self._pixmap, title, self)
        self.preview_dialog.show()

    def add_action_button(self, action) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.buttons.addWidget(button)
        return button

    def finish_buttons(self) -> None:
        self.buttons.addStretch(1)

    def current_candidate(self) -> int | None:
        items = self.candidates.selectedItems()
        return items[0].data(0, Qt.ItemDataRole.UserRole) if items else None

    def select_candidate(self, index: int) -> bool:
        if not 0 <= index < self.candidates.topLevelItemCount():
            return False
        self.candidates.setCurrentItem(self.candidates.topLevelItem(index))
        return True

    def show_details(
        self, details: PhotoDetails | None, pixmap: QPixmap | None = None, last_error: str | None = None
    ) -> None:
        self.details = details
        self.candidates.blockSignals(True)
        self.candidates.clear()
        self.candidates.blockSignals(False)
        self.overlay.setChecked(False)
        if details is None:
            self.title.setText("No photo selected")
            for label in (self.state, self.taken, self.camera, self.location, self.problem, self.evidence):
                label.setText("")
            self.concepts.set_concepts([])
            self.set_preview(None)
            return
        self.title.setText(details.filename)
        self.title.setToolTip(tooltip(details.path))
        self.state.setText(STATE_TEXT.get(details.review_state, details.review_state))
        if details.taken_at:
            offset = ""
            if details.taken_offset_min is not None:
                sign = "+" if details.taken_offset_min >= 0 else "-"
                hours, minutes = divmod(abs(details.taken_offset_min), 60)
                offset = f" (UTC{sign}{hours:02d}:{minutes:02d})"
            self.taken.setText(details.taken_at.strftime("%Y-%m-%d %H:%M:%S") + offset)
        else:
            self.taken.setText("unknown")
        self.camera.setText(details.camera or "unknown")
        where = format_coordinate(details.gps_lat, details.gps_lon)
        written = details.review_state == "written"
        accepted = accepted_at(details) if details.review_state == "accepted" else None
        if written:
            where += "  (written to the file)"
        elif accepted is not None:
            where = f"{format_coordinate(*accepted)}  (accepted, not written yet)"
        elif details.gps_source:
            where += f"  ({details.gps_source})"
        self.location.setText(where)
        # A written photo's candidates are history: shown, but not to be chosen (undo the write first).
        self.candidates.setEnabled(not written)
        self.candidates.setToolTip("Written: undo the write to choose again" if written else "")
        problems = [f"Error: {e}" for e in (details.error, last_error) if e]
        problems += [f"Write failed: {w['error']}" for w in details.writes[:1] if w.get("error")]
        self.problem.setText("\n".join(problems))
        for cand in details.candidates:
            self._add_candidate(cand)
        self.set_preview(pixmap)
        if details.candidates:
            self.select_candidate(0)
        else:
            self.evidence.setText("No suggestions yet: run Locate." if details.gps_lat is None else "")
            self.concepts.set_concepts([])

    def _add_candidate(self, cand: CandidateView) -> None:
        item = QTreeWidgetItem(
            [str(cand.index + 1), cand.label, cand.level, f"{cand.confidence:.0%}", cand.source]
        )
        item.setData(0, Qt.ItemDataRole.UserRole, cand.index)
        item.setToolTip(1, tooltip(f"{cand.label}\n{cand.evidence_text}\n±{cand.radius_km:g} km"))
        item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.candidates.addTopLevelItem(item)

    def _on_candidate(self) -> None:
        index = self.current_candidate()
        if index is None or self.details is None:
            return
        cand = self.details.candidates[index]
        lines = [f"<b>{cand.index + 1}. {rich(cand.label)}</b> ±{cand.radius_km:g} km"]
        if cand.evidence_text:
            lines.append(rich(cand.evidence_text))
        self.evidence.setText(f"<p style='white-space:pre-wrap'>{'<br>'.join(lines)}</p>")
        self.concepts.set_concepts(cand.concepts)
        self.candidate_selected.emit(index)

    def set_preview(self, pixmap: QPixmap | None) -> None:
        self._pixmap = pixmap
        self._fit_preview()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_preview()

    def _fit_preview(self) -> None:
        if self._pixmap is None or self._pixmap.isNull():
            self.preview.setPixmap(QPixmap())
            self.preview.setText("")
            return
        size = self.preview.size()
        self.preview.setPixmap(
            self._pixmap.scaled(
                size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        )

"""The thumbnail grid: a list model over photo ids that materialises only the rows being drawn,
and a delegate painting thumbnails with GPS-state and confidence badges from palette roles."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from geotagger.gui.dnd import PHOTO_MIME, photo_mime
from geotagger.gui.plain import tooltip
from geotagger.gui.thumbnails import ThumbnailLoader
from geotagger.services.browse import PhotoRow

ID_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
PAGE = 200

# Badge colours carry meaning (green = has a location, amber = suggestion, red = error); each badge
# draws its own background, so they read the same in light and dark themes.
GREEN, BLUE, AMBER, RED, GREY = "#2e9d4f", "#2f6fd6", "#c98a10", "#d23c3c", "#7b7b7b"


DEFAULT_MIN_CONFIDENCE = 0.5  # settings.MIN_CONFIDENCE's default; the window sets the user's value


def confidence_color(confidence: float, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> str:
    """Grey below the user's review threshold (Settings: Minimum confidence), green from 70%."""
    if confidence < min_confidence:
        return GREY
    return GREEN if confidence >= max(0.7, min_confidence) else AMBER


def gps_badge(row: PhotoRow, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> tuple[str, str]:
    """(text, colour) of the cell's state badge."""
    if row.status != "ok":
        return "ERROR", RED
    if row.review_state == "written":
        return "WRITTEN", GREEN
    if row.review_state == "accepted":
        return "ACCEPTED", BLUE
    if row.review_state == "rejected":
        return "REJECTED", GREY
    if row.has_gps:
        return "GPS", GREEN
    confident = row.best_confidence is not None and row.best_confidence >= min_confidence
    return "NO GPS", AMBER if confident else GREY


class PhotoGridModel(QAbstractListModel):
    """Rows are photo ids; PhotoRows are fetched a page at a time when a view first asks for them."""

    def __init__(
        self,
        fetch_rows: Callable[[Sequence[int]], dict[int, PhotoRow]],
        thumbnails: ThumbnailLoader,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self._fetch = fetch_rows
        self._ids: list[int] = []
        self._pos: dict[int, int] = {}
        self._rows: dict[int, PhotoRow] = {}
        self.thumbnails = thumbnails
        thumbnails.ready.connect(self._thumbnail_ready)

    def set_ids(self, ids: list[int]) -> None:
        self.beginResetModel()
        self._ids = list(ids)
        self._pos = {pid: i for i, pid in enumerate(self._ids)}
        self._rows.clear()
        self.endResetModel()

    def ids(self) -> list[int]:
        return list(self._ids)

    def row_of(self, photo_id: int) -> int | None:
        return self._pos.get(photo_id)

    def refresh(self, photo_ids: Sequence[int]) -> None:
        """Re-read these photos (after a decision or write) and repaint their cells."""
        for pid in photo_ids:
            self._rows.pop(pid, None)
            row = self._pos.get(pid)
            if row is not None:
                index = self.index(row)
                self.dataChanged.emit(index, index)

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        return flags | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else flags

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [PHOTO_MIME]

    def mimeData(self, indexes) -> QMimeData:  # noqa: N802
        """The dragged photos (drop them on the map to place them)."""
        rows = sorted({i.row() for i in indexes if i.isValid()})
        return photo_mime([self._ids[r] for r in rows])

    def supportedDragActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.CopyAction

    def materialised(self) -> int:
        return len(self._rows)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._ids)

    def photo_row(self, row: int) -> PhotoRow | None:
        if not 0 <= row < len(self._ids):
            return None
        pid = self._ids[row]
        found = self._rows.get(pid)
        if found is None:
            start = row - row % PAGE
            page = [i for i in self._ids[start : start + PAGE] if i not in self._rows]
            self._rows.update(self._fetch(page))
            found = self._rows.get(pid)
        return found

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role == ID_ROLE:
            return self._ids[index.row()]
        row = self.photo_row(index.row())
        if row is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return row.filename
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnails.pixmap(row.id)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [row.path]
            if row.taken_at:
                lines.append(row.taken_at.strftime("%Y-%m-%d %H:%M:%S"))
            if row.best_label:
                lines.append(f"suggested: {row.best_label} ({row.best_confidence:.0%}, {row.best_level})")
            if row.error:
                lines.append(f"error: {row.error}")
            return tooltip("\n".join(lines))
        return None

    def _thumbnail_ready(self, photo_id: int) -> None:
        row = self._pos.get(photo_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class PhotoDelegate(QStyledItemDelegate):
    """A square tile: thumbnail, file name, state badge (top left) and confidence badge (top right)."""

    def __init__(self, tile: int = 156, parent=None) -> None:
        super().__init__(parent)
        self.tile = tile
        self.min_confidence = DEFAULT_MIN_CONFIDENCE  # suggestions below it are drawn greyed

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        line = QFontMetrics(option.font).height()
        return QSize(self.tile, self.tile + line + 6)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = option.palette
        rect = option.rect.adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(rect, 6, 6)
        line = QFontMetrics(option.font).height()
        image_rect = QRect(rect.left() + 4, rect.top() + 4, rect.width() - 8, rect.height() - line - 10)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None and not pixmap.isNull():
            scaled = pixmap.size().scaled(image_rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(image_rect.center())
            painter.drawPixmap(target, pixmap)
        else:
            target = image_rect.adjusted(8, 20, -8, -20)
            painter.setPen(Qt.PenStyle.NoPen)
            placeholder = palette.color(QPalette.ColorRole.Mid)
            placeholder.setAlpha(70)
            painter.setBrush(placeholder)
            painter.drawRoundedRect(target, 4, 4)
        row: PhotoRow | None = index.data(ROW_ROLE)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(text_role))
        name_rect = QRect(rect.left() + 4, rect.bottom() - line - 3, rect.width() - 8, line)
        name = QFontMetrics(option.font).elidedText(
            index.data() or "", Qt.TextElideMode.ElideMiddle, name_rect.width()
        )
        painter.drawText(name_rect, Qt.AlignmentFlag.AlignCenter, name)
        threshold = self.min_confidence
        if row is not None:
            text, color = gps_badge(row, threshold)
            self._badge(painter, option, target.topLeft(), text, color, left=True)
            if row.best_confidence is not None and not row.has_gps:
                pct = f"{row.best_confidence:.0%}"
                self._badge(
                    painter,
                    option,
                    target.topRight(),
                    pct,
                    confidence_color(row.best_confidence, threshold),
                    left=False,
                )
        painter.restore()

    @staticmethod
    def _badge(painter: QPainter, option, corner, text: str, color: str, left: bool) -> None:
        font = option.font
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.78))
        font.setBold(True)
        painter.setFont(font)
        metrics = QFontMetrics(font)
        width, height = metrics.horizontalAdvance(text) + 10, metrics.height() + 2
        x = corner.x() + 3 if left else corner.x() - width - 3
        box = QRect(x, corner.y() + 3, width, height)
        painter.setPen(QPen(QColor(255, 255, 255, 200), 1))
        painter.setBrush(QColor(color))
        painter.drawRoundedRect(box, height / 2, height / 2)
        painter.setPen(QColor("white"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.setFont(option.font)


class PhotoGrid(QListView):
    """Icon-mode list view tuned for very large libraries (uniform sizes, batched layout)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(400)
        self.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.setSpacing(2)
        self.setWordWrap(False)
        self.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.delegate = PhotoDelegate(parent=self)
        self.setItemDelegate(self.delegate)
        self.setDragEnabled(True)  # drag the selection onto the map to place it
        self.setDragDropMode(QListView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)

    def set_min_confidence(self, value: float) -> None:
        """The review threshold (Settings: Minimum confidence): badges below it are greyed."""
        self.delegate.min_confidence = value
        self.viewport().update()

    def set_tile(self, size: int) -> None:
        self.delegate.tile = size
        self.scheduleDelayedItemsLayout()

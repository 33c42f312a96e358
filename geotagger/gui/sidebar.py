"""Left side: filters with counts, and the folders and albums of the library."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from geotagger.gui.plain import tooltip
from geotagger.services.browse import FILTER_LABELS, FolderNode

KIND_ROLE = Qt.ItemDataRole.UserRole
VALUE_ROLE = Qt.ItemDataRole.UserRole + 1


def _heading(text: str) -> QLabel:
    label = QLabel(text.upper())
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 0.85)
    label.setFont(font)
    label.setContentsMargins(4, 6, 0, 2)
    return label


class Sidebar(QWidget):
    filter_changed = Signal(str)
    scope_changed = Signal(str, str)  # kind ("all" | "folder" | "album"), value

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.filters = QListWidget()
        for name, label in FILTER_LABELS:
            item = QListWidgetItem(label)
            item.setData(KIND_ROLE, name)
            self.filters.addItem(item)
        self.filters.setCurrentRow(0)
        self.filters.currentItemChanged.connect(self._on_filter)
        rows = len(FILTER_LABELS)
        self.filters.setFixedHeight(self.filters.sizeHintForRow(0) * rows + 2 * self.filters.frameWidth() + 4)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setColumnCount(2)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(self._on_scope)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(_heading("Show"))
        layout.addWidget(self.filters)
        layout.addWidget(_heading("Library"))
        layout.addWidget(self.tree, 1)

    def current_filter(self) -> str:
        item = self.filters.currentItem()
        return item.data(KIND_ROLE) if item else "all"

    def set_filter(self, name: str) -> None:
        for row in range(self.filters.count()):
            if self.filters.item(row).data(KIND_ROLE) == name:
                self.filters.setCurrentRow(row)
                return

    def set_counts(self, counts: dict[str, int]) -> None:
        for row in range(self.filters.count()):
            item = self.filters.item(row)
            name = item.data(KIND_ROLE)
            label = dict(FILTER_LABELS)[name]
            item.setText(f"{label}  ({counts.get(name, 0):,})")

    def filter_count_text(self, name: str) -> str:
        for row in range(self.filters.count()):
            if self.filters.item(row).data(KIND_ROLE) == name:
                return self.filters.item(row).text()
        return ""

    def set_tree(self, folders: list[FolderNode], albums: list[dict]) -> None:
        current = self.current_scope()
        self.tree.blockSignals(True)
        self.tree.clear()
        everything = QTreeWidgetItem(["All photos", ""])
        everything.setData(0, KIND_ROLE, "all")
        self.tree.addTopLevelItem(everything)
        folders_root = QTreeWidgetItem(["Folders", ""])
        folders_root.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.tree.addTopLevelItem(folders_root)
        for node in folders:
            self._add_folder(folders_root, node, current)
        albums_root = QTreeWidgetItem(["Albums", ""])
        albums_root.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.tree.addTopLevelItem(albums_root)
        for album in albums:
            item = QTreeWidgetItem([album["name"], str(album.get("count", ""))])
            item.setData(0, KIND_ROLE, "album")
            item.setData(0, VALUE_ROLE, album["name"])
            albums_root.addChild(item)
            if current == ("album", album["name"]):
                self.tree.setCurrentItem(item)
        albums_root.setHidden(not albums)
        self.tree.expandToDepth(1)
        if self.tree.currentItem() is None:
            self.tree.setCurrentItem(everything)
        self.tree.resizeColumnToContents(1)
        self.tree.blockSignals(False)

    def _add_folder(self, parent: QTreeWidgetItem, node: FolderNode, current) -> None:
        item = QTreeWidgetItem([node.name, f"{node.total:,}"])
        item.setData(0, KIND_ROLE, "folder")
        item.setData(0, VALUE_ROLE, node.path)
        item.setToolTip(0, tooltip(node.path))
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        parent.addChild(item)
        if current == ("folder", node.path):
            self.tree.setCurrentItem(item)
        for child in node.children:
            self._add_folder(item, child, current)

    def current_scope(self) -> tuple[str, str]:
        item = self.tree.currentItem()
        if item is None or not item.data(0, KIND_ROLE):
            return ("all", "")
        return (item.data(0, KIND_ROLE), item.data(0, VALUE_ROLE) or "")

    def select_folder(self, path: str) -> bool:
        for item in self._items(self.tree.invisibleRootItem()):
            if item.data(0, KIND_ROLE) == "folder" and item.data(0, VALUE_ROLE) == path:
                self.tree.setCurrentItem(item)
                return True
        return False

    def _items(self, parent: QTreeWidgetItem):
        for i in range(parent.childCount()):
            child = parent.child(i)
            yield child
            yield from self._items(child)

    def _on_filter(self, item, _previous) -> None:
        if item is not None:
            self.filter_changed.emit(item.data(KIND_ROLE))

    def _on_scope(self, item, _previous) -> None:
        if item is not None and item.data(0, KIND_ROLE):
            self.scope_changed.emit(item.data(0, KIND_ROLE), item.data(0, VALUE_ROLE) or "")

"""Thumbnails off the GUI thread: newest requests first (what is on screen now), an LRU of pixmaps.

Images come from the indexing service's thumbnail cache; when that fails (file gone, unreadable) the
cell keeps its placeholder and the error is logged once per photo.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage, QImageReader, QPixmap

log = logging.getLogger(__name__)

THUMB_SIZE = 256


def read_scaled(path: Path, size: int) -> QImage:
    """Decode an image scaled down during decoding (JPEG DCT scaling) and EXIF-rotated."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    original = reader.size()
    if original.isValid() and max(original.width(), original.height()) > size:
        reader.setScaledSize(original.scaled(size, size, _keep_aspect()))
    image = reader.read()
    if image.isNull():
        raise OSError(reader.errorString())
    return image


def _keep_aspect():
    from PySide6.QtCore import Qt

    return Qt.AspectRatioMode.KeepAspectRatio


class _Signals(QObject):
    loaded = Signal(int, QImage)
    failed = Signal(int, str)


class _Worker(QRunnable):
    def __init__(self, loader: ThumbnailLoader) -> None:
        super().__init__()
        self.loader = loader

    def run(self) -> None:
        while True:
            photo_id = self.loader._next()
            if photo_id is None:
                return
            try:
                image = read_scaled(self.loader.source(photo_id), THUMB_SIZE)
            except Exception as exc:  # unreadable file or cache: placeholder stays, logged once
                self.loader._signals.failed.emit(photo_id, str(exc))
            else:
                self.loader._signals.loaded.emit(photo_id, image)


class ThumbnailLoader(QObject):
    """Loads thumbnails for photo ids; ``source(id) -> Path`` is called in worker threads."""

    ready = Signal(int)  # a pixmap for this id is now in the cache

    def __init__(
        self, source: Callable[[int], Path], capacity: int = 3000, threads: int = 2, parent=None
    ) -> None:
        super().__init__(parent)
        self.source = source
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self._capacity = capacity
        self._pending: deque[int] = deque(maxlen=600)
        self._queued: set[int] = set()
        self._failed: set[int] = set()
        self._lock = threading.Lock()
        self._workers = 0
        self._threads = threads
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._signals = _Signals()
        self._signals.loaded.connect(self._on_loaded)
        self._signals.failed.connect(self._on_failed)

    def pixmap(self, photo_id: int) -> QPixmap | None:
        """The cached pixmap, or None after queueing a load (the cell shows a placeholder meanwhile)."""
        pixmap = self._cache.get(photo_id)
        if pixmap is not None:
            self._cache.move_to_end(photo_id)
            return pixmap
        if photo_id not in self._failed:
            self._request(photo_id)
        return None

    def forget(self, photo_id: int) -> None:
        self._cache.pop(photo_id, None)
        self._failed.discard(photo_id)

    def _request(self, photo_id: int) -> None:
        with self._lock:
            if photo_id in self._queued:
                return
            if len(self._pending) == self._pending.maxlen:
                self._queued.discard(self._pending[0])  # scrolled past long ago: dropped
            self._pending.append(photo_id)
            self._queued.add(photo_id)
            start = self._workers < self._threads
            if start:
                self._workers += 1
        if start:
            self.pool.start(_Worker(self))

    def _next(self) -> int | None:
        with self._lock:
            if not self._pending:
                self._workers -= 1
                return None
            photo_id = self._pending.pop()  # newest first: what the user looks at now
            self._queued.discard(photo_id)
            return photo_id

    def _on_loaded(self, photo_id: int, image: QImage) -> None:
        self._cache[photo_id] = QPixmap.fromImage(image)
        self._cache.move_to_end(photo_id)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        self.ready.emit(photo_id)

    def _on_failed(self, photo_id: int, message: str) -> None:
        if photo_id not in self._failed:
            self._failed.add(photo_id)
            log.warning("no thumbnail for photo %d: %s", photo_id, message)

    def wait(self, msecs: int = 10000) -> bool:
        return self.pool.waitForDone(msecs)

"""What flows between the locate stages: one ``LocateRun`` per locate (or training) run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from geotagger.locate.candidate import Candidate
from geotagger.locate.fusion import SOURCES, EvidenceContext, FusionModel, PoolItem
from geotagger.locate.text_evidence.pool import PhotoMatches
from geotagger.locate.time_evidence import PhotoPoint
from geotagger.progress import CancelToken, Progress

if TYPE_CHECKING:
    from geotagger.catalog.library import Library
    from geotagger.catalog.schema import Photo
    from geotagger.locate.library_training import Trained
    from geotagger.locate.tracks import TrackArrays


@dataclass
class LocateReport:
    considered: int = 0
    located: int = 0
    unchanged: int = 0
    no_evidence: int = 0
    embedded: int = 0
    device: str | None = None
    retrained: bool = False
    model_version: str | None = None
    errors: dict[str, str] = field(default_factory=dict)  # path -> reason
    seconds: float = 0.0
    ocr_photos: int = 0  # photos OCR read in this run (the others came from the text store)
    ocr_seconds: float = 0.0
    ocr_note: str = ""  # why text evidence did not run, when it was asked for
    text_photos: int = 0  # photos to locate with a place name read on them

    def summary(self) -> str:
        parts = [f"{self.located} photos located", f"{self.unchanged} unchanged"]
        if self.no_evidence:
            parts.append(f"{self.no_evidence} without any evidence")
        if self.errors:
            parts.append(f"{len(self.errors)} could not be read")
        extra = f"; embeddings on {self.device}" if self.device else ""
        if self.text_photos:
            parts.append(f"{self.text_photos} with a place name read on them")
        if self.ocr_photos:
            extra += f"; OCR {self.ocr_seconds / self.ocr_photos:.2f} s/photo on {self.ocr_photos} photos"
        return ", ".join(parts) + f" ({self.seconds:.1f} s{extra})"


@dataclass
class Evidence:
    """One photo's evidence: the track position (if a track covers it) and the fusion pool."""

    track: Candidate | None = None
    pool: list[PoolItem] | None = None  # None: nothing to fuse (no geotagged photo or no source)


@dataclass
class Training:
    """What training the library model needs beyond the geotagged photos (embeddings stage)."""

    model_id: str = ""
    vectors: dict[int, np.ndarray] = field(default_factory=dict)
    global_preds: dict[int, list[tuple[str, list[Any]]]] = field(default_factory=dict)
    device: str | None = None


@dataclass
class LocateRun:
    """The request (first fields) and what each stage adds, in stage order."""

    lib: Library
    paths: Sequence[Path | str] | None = None
    sources: tuple[str, ...] = SOURCES  # what fusion works on ("track" is use_tracks)
    use_tracks: bool = True
    device: str = "auto"
    batch_size: int | None = None
    progress: Progress | None = None
    cancel: CancelToken | None = None
    clock_offset_s: float = 0.0
    five_crop: bool = False
    use_ocr: bool = True  # text read on the photos as evidence (locate --no-ocr: False)
    cluster: str | None = None  # Ray cluster address for the embeddings (locate --cluster); None: here
    report: LocateReport = field(default_factory=LocateReport)
    # targets
    targets: list[Photo] = field(default_factory=list)
    points: dict[int, PhotoPoint] = field(default_factory=dict)  # photo id -> point; the clock stage rewrites
    known: list[PhotoPoint] = field(default_factory=list)
    known_fps: dict[int, str] = field(default_factory=dict)
    tracks: list[TrackArrays] = field(default_factory=list)
    # library model (check) and embeddings
    retrain: bool = False
    training: Training = field(default_factory=Training)
    model_id: str = ""
    vectors: dict[int, np.ndarray] = field(default_factory=dict)
    global_ids: list[str] = field(default_factory=list)
    global_preds: dict[int, list[tuple[str, list[Any]]]] = field(default_factory=dict)
    # text (stages/text.py): photo id -> place names read on it, targets and (for training) known photos
    text: dict[int, PhotoMatches] = field(default_factory=dict)
    text_recipe: str = ""  # what the text evidence was computed with ('' when it did not run)
    # library model (prepare)
    trained: Trained | None = None
    fusion: FusionModel | None = None
    text_fusion: FusionModel | None = None  # for photos with a text candidate (library_training.TEXT_KEY)
    context: EvidenceContext | None = None
    # store (find_changed), evidence, fusion
    keys: dict[int, str] = field(default_factory=dict)  # photo id -> suggestion key, changed photos only
    evidence: dict[int, Evidence] = field(default_factory=dict)
    results: dict[int, tuple[str, list[Candidate]]] = field(default_factory=dict)

    @property
    def fuses(self) -> bool:
        """Fusion runs when there are geotagged photos and a source besides tracks."""
        return bool(self.known and self.sources)

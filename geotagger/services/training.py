"""`geotagger models train`: (re)train the library model and the fusion on the library's own geotagged
photos, through the same stages ``locate`` uses when it retrains on its own (geotagger.services.locate_stages)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from geotagger.catalog.library import Library
from geotagger.progress import CancelToken, Progress
from geotagger.services.locate_stages import embeddings, library_model, targets, text
from geotagger.services.locate_stages.run import LocateRun


@dataclass
class TrainReport:
    known_photos: int
    embedded: int
    heads: list[dict[str, Any]]  # per level: tau, classes
    heldout: dict[str, Any]  # per source set: held-out accuracy per radius, calibration samples
    version: str
    seconds: float
    device: str | None = None

    def summary(self) -> str:
        heads = (
            ", ".join(f"{h['classes']} classes (tau {h['tau']})" for h in self.heads)
            or "none (neighbours only)"
        )
        return (
            f"library model {self.version}: {self.known_photos} geotagged photos, {self.embedded} embedded; "
            f"heads: {heads}; {self.seconds:.1f} s"
        )


def train_library_model(
    lib: Library,
    *,
    device: str = "auto",
    batch_size: int | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    five_crop: bool = False,
) -> TrainReport:
    """Train the library model (heads + neighbours) and the fusion/calibration on the library's own
    geotagged photos (``five_crop``: on five-crop embeddings, recorded in the model id).
    Raises UserInputError when the library has no geotagged photo at all."""
    started = time.monotonic()
    run = LocateRun(
        lib,
        sources=(),
        use_tracks=False,
        device=device,
        batch_size=batch_size,
        progress=progress,
        cancel=cancel,
        five_crop=five_crop,
        retrain=True,
    )
    targets.select_targets(run)
    targets.load_known(run)
    library_model.require_known(run)
    embeddings.embed(run)
    text.read(run)  # place names on the geotagged photos: the fusion learns what a sign is worth
    trained = library_model.train(run)
    return TrainReport(
        known_photos=len(run.known),
        embedded=len(run.training.vectors),
        heads=[{"tau": lv.tau, "classes": len(lv.class_names)} for lv in trained.library.levels],
        heldout=trained.heldout,
        version=trained.version,
        seconds=time.monotonic() - started,
        device=run.training.device,
    )

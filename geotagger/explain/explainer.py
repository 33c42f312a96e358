"""One photo, one candidate: attribution map, concept masks and the paper's concept influences.

The backbone sees the whole photo (resized to the pack's input size; a pack exported with dynamic
height/width gets the photo at its own aspect ratio), so the maps cover everything the user sees.
Maps are compared on a work grid with the photo's aspect ratio and WORK_LONG_SIDE pixels on the long
side; k for the top-k attribution pixels scales with that grid (influence.top_k_count).
An ``Explainer`` keeps its ONNX sessions: create it once and call ``explain`` for many photos.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from geotagger.errors import ModelError
from geotagger.explain import attribution as attr
from geotagger.explain.concepts import Vocabulary, concept_maps, concept_masks, load_vocabulary, top_classes
from geotagger.explain.influence import influences, ranked, top_k_count
from geotagger.explain.text import (
    TEXT_CONCEPT,
    TextReader,
    TextRegion,
    ocr_available,
    text_mask,
    text_scripts,
)

WORK_LONG_SIDE = 448
OCR_MIN_SIDE = 736  # decode size when OCR runs (PP-OCR's detection size); 448 without it


@dataclass
class Target:
    """What is explained: a class of a linear head, or similarity to a neighbour photo's embedding."""

    kind: str  # "class" | "neighbour"
    label: str  # shown to the user
    weights: np.ndarray | None = None  # head row [C] for "class"
    unit_embedding: bool = False  # the head reads the L2-normalised embedding
    embedding: np.ndarray | None = None  # neighbour embedding [C] for "neighbour"

    def __post_init__(self) -> None:
        if self.kind == "class" and self.weights is None:
            raise ModelError("a class target needs head weights")
        if self.kind == "neighbour" and self.embedding is None:
            raise ModelError("a neighbour target needs the neighbour's embedding")
        if self.kind not in ("class", "neighbour"):
            raise ModelError(f"unknown explanation target {self.kind!r}")


@dataclass
class ExplainResult:
    attribution: np.ndarray  # [H, W] float32 in [0, 1] on the work grid
    masks: dict[str, np.ndarray]  # concept -> bool [H, W] on the work grid
    concepts: list[tuple[str, float, float]]  # (name, influence, area share), highest first
    k: int
    text_regions: list[TextRegion] = field(default_factory=list)
    text_scripts: list[tuple[str, float]] = field(default_factory=list)
    imagenet: list[tuple[str, float]] = field(default_factory=list)
    image: Image.Image | None = None  # the oriented RGB photo the maps belong to
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ocr_text(self) -> str:
        return " | ".join(r.text for r in self.text_regions)


def work_size(width: int, height: int, long_side: int = WORK_LONG_SIDE) -> tuple[int, int]:
    """(H, W) of the work grid for a photo of width x height."""
    scale = long_side / max(width, height)
    return max(1, round(height * scale)), max(1, round(width * scale))


def load_photo(path: str | Path, min_side: int) -> Image.Image:
    """The photo upright in RGB, decoded at a size whose shorter side is about min_side or more."""
    from geotagger.locate.preprocess import decode_errors, open_image, to_rgb

    with decode_errors(path):
        image = open_image(path, min_side)
        return to_rgb(ImageOps.exif_transpose(image))


class Explainer:
    """A pack's backbone + ImageNet head, the concept vocabulary, OCR and an optional segmenter."""

    def __init__(
        self,
        pack: Any,
        *,
        ocr: bool = True,
        segmenter: Any = "auto",
        vocabulary: Vocabulary | None = None,
        threads: int | None = None,
    ) -> None:
        from geotagger.explain.segmenter import Segmenter, segmenter_dir
        from geotagger.locate.runtime import create_session

        self.pack = pack
        self.session, self.device = create_session(pack.backbone_path, "cpu", threads=threads)
        self.mean = np.asarray(pack.card["mean"], np.float32)
        self.std = np.asarray(pack.card["std"], np.float32)
        shape = self.session.get_inputs()[0].shape
        self.fixed_hw = (shape[2], shape[3]) if all(isinstance(d, int) for d in shape[2:4]) else None
        self.head_w, self.head_b = pack.imagenet_head()
        self.vocab = vocabulary or load_vocabulary()
        self.reader = TextReader(threads=threads) if ocr and ocr_available() else None
        self.ocr_missing = ocr and self.reader is None
        if segmenter == "auto":
            segmenter = Segmenter.load() if segmenter_dir() else None
        self.segmenter = segmenter

    # -- backbone ------------------------------------------------------------------------------------
    def input_size(self, width: int, height: int) -> tuple[int, int]:
        if self.fixed_hw:
            return self.fixed_hw
        s = self.pack.input_size / min(width, height)
        return max(32, round(height * s / 32) * 32), max(32, round(width * s / 32) * 32)

    def run(self, image: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(features [C, h, w], embedding [C], ImageNet logits [1000]) of the whole photo."""
        h, w = self.input_size(*image.size)
        arr = np.asarray(image.resize((w, h), Image.BILINEAR), dtype=np.float32) / 255.0
        x = ((arr - self.mean) / self.std).transpose(2, 0, 1)[None].astype(np.float32)
        feats, emb, logits = self.session.run(["features", "embedding", "logits"], {"images": x})
        return feats[0], emb[0], logits[0]

    def embed(self, image: Image.Image) -> np.ndarray:
        """Embedding of the whole photo as seen by ``run`` (for neighbour targets)."""
        return self.run(image)[1]

    # -- explanation ---------------------------------------------------------------------------------
    def explain(self, image: Image.Image, target: Target, *, ocr: bool = True) -> ExplainResult:
        times: dict[str, float] = {}
        t0 = time.perf_counter()
        feats, _emb, _logits = self.run(image)
        times["backbone"] = time.perf_counter() - t0
        size = work_size(*image.size)

        t0 = time.perf_counter()
        if target.kind == "class":
            raw = attr.class_map(feats, target.weights, unit_embedding=target.unit_embedding)
        else:
            raw = attr.similarity_map(feats, target.embedding)
        amap = attr.normalise(attr.upsample(raw, size), stretch=target.kind == "neighbour")

        masks: dict[str, np.ndarray] = {}
        imagenet: list[tuple[str, float]] = []
        if self.segmenter is None or self.segmenter.mode == "add":
            maps, image_logits = concept_maps(feats, self.head_w, self.head_b, self.vocab)
            masks.update(concept_masks(maps, image_logits, self.vocab, size))
            imagenet = top_classes(image_logits, self.vocab)
        if self.segmenter is not None:
            masks.update(self.segmenter.masks(image, size))
        times["concepts"] = time.perf_counter() - t0

        regions: list[TextRegion] = []
        if ocr and self.reader is not None:
            t0 = time.perf_counter()
            regions = self.reader.read(image)
            times["ocr"] = time.perf_counter() - t0
            tmask = text_mask(regions, size, (image.size[1], image.size[0]))
            if tmask.any():
                for name in masks:  # keep concepts disjoint: text wins where it was read
                    masks[name] = masks[name] & ~tmask
                masks[TEXT_CONCEPT] = tmask
        k = top_k_count(size)
        result = influences(amap, masks, k)
        return ExplainResult(
            attribution=amap,
            masks={n: m for n, m in masks.items() if m.any()},
            concepts=ranked(result),
            k=k,
            text_regions=regions,
            text_scripts=text_scripts(" ".join(r.text for r in regions)),
            imagenet=imagenet,
            image=image,
            timings=times,
        )

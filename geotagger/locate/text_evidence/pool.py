"""Text places in the fusion pool: one item per likely namesake, with the features the fusion learns from.

Features of a text item: ``text_p`` (the namesake's share of its name's prior times the match quality),
``text_spec`` (name length, common word), ``text_ocr`` (recognition score), ``text_lamb`` (log number of
namesakes), ``text_lib`` (how near the library's other geotagged photos it is), ``text_post`` (the
namesake's share once the library prior is applied: a Paris near the library's photos beats one on
another continent) and ``text_script`` (a script's country prior, not a name). Every item of the pool
also gets ``txsup25`` / ``txsup200`` (a text place lies within r of it: a time neighbour that agrees
with the sign gains) and ``weak_x_text`` (text counts more when no geotagged photo is close in time).
Agreement of a text place with the time neighbours is ``tsup*``, computed for every item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from geotagger.locate.fusion.features import PoolItem
from geotagger.locate.text_evidence.matcher import TextMatch
from geotagger.locate.time_evidence import haversine_km

SOURCE_TEXT = "text"
LIBRARY_SCALE_KM = 500.0  # distance at which a namesake's library prior has fallen to 1/e
LIBRARY_FLOOR = 0.02  # a namesake far from every geotagged photo keeps this much prior
NAMESAKES_IN_POOL = 3
MAX_TEXT_ITEMS = 8


@dataclass(frozen=True)
class PhotoMatches:
    """A photo's text matches and the decoded image size (w, h) their boxes are in."""

    size: tuple[int, int]
    matches: tuple[TextMatch, ...]


def add_text_items(
    items: dict[Any, PoolItem],
    text: PhotoMatches | None,
    known_lat: np.ndarray,
    known_lon: np.ndarray,
) -> None:
    """The likeliest namesakes of each name read, as pool items (``known_*``: the other geotagged photos)."""
    if text is None or not text.matches:
        return
    best: dict[tuple[int, str], TextMatch] = {}
    for m in text.matches:  # one item per place and kind: the best reading of it
        k = (m.entry, m.kind)
        if k not in best or m.ocr_score * m.quality > best[k].ocr_score * best[k].quality:
            best[k] = m
    matches = list(best.values())
    lat = np.array([m.lat for m in matches])
    lon = np.array([m.lon for m in matches])
    if len(known_lat):
        d = haversine_km(lat[:, None], lon[:, None], known_lat[None, :], known_lon[None, :]).min(axis=1)
        near = np.exp(-d / LIBRARY_SCALE_KM)
    else:
        d = np.full(len(matches), np.inf)
        near = np.zeros(len(matches))
    groups: dict[str, list[int]] = {}
    for i, m in enumerate(matches):
        groups.setdefault(m.words if m.kind != "script" else "script:" + m.words, []).append(i)
    chosen: list[tuple[float, int, float]] = []
    for members in groups.values():
        raw = np.array([matches[i].share * (LIBRARY_FLOOR + near[i]) for i in members])
        post = raw / raw.sum() if raw.sum() > 0 else np.full(len(members), 1.0 / len(members))
        order = np.argsort(-post, kind="stable")[:NAMESAKES_IN_POOL]
        chosen += [(float(post[j]), members[j], float(post[j])) for j in order]
    chosen.sort(key=lambda r: -r[0] * matches[r[1]].specificity)
    for _, i, post in chosen[:MAX_TEXT_ITEMS]:
        m = matches[i]
        feats = {
            "is_text": 1.0,
            "text_p": m.share * m.quality,
            "text_spec": m.specificity,
            "text_ocr": m.ocr_score,
            "text_lamb": float(np.log(max(m.namesakes, 1))),
            "text_lib": float(near[i]),
            "text_post": post * m.quality,
            "text_script": float(m.kind == "script"),
        }
        items[(SOURCE_TEXT, m.entry, m.kind)] = PoolItem(
            m.lat,
            m.lon,
            SOURCE_TEXT,
            feats,
            {
                "text": m.line(),
                "words": m.words,
                "place": m.label,
                "match": m.kind,
                "ocr_score": round(m.ocr_score, 3),
                "box": list(m.box),
                "image_size": list(text.size),
                "namesakes": m.namesakes,
                "library_km": None if not np.isfinite(d[i]) else round(float(d[i]), 1),
            },
        )


def text_support(pool: Sequence[PoolItem], weak: float) -> None:
    """Agreement features for every item: a text place within 25 / 200 km, and text when time is weak."""
    texts = [it for it in pool if it.source == SOURCE_TEXT]
    if not texts:
        return
    lat = np.array([it.lat for it in pool])
    lon = np.array([it.lon for it in pool])
    tlat = np.array([it.lat for it in texts])
    tlon = np.array([it.lon for it in texts])
    strength = np.array([it.feats["text_post"] * it.feats["text_spec"] for it in texts])
    d = haversine_km(lat[:, None], lon[:, None], tlat[None, :], tlon[None, :])
    for r, name in ((25.0, "txsup25"), (200.0, "txsup200")):
        vals = np.where(d <= r, strength[None, :], 0.0).max(axis=1)
        for it, v in zip(pool, vals, strict=True):
            it.feats[name] = float(v)
    for it in texts:
        it.feats["weak_x_text"] = weak * it.feats["text_post"]

"""Candidates from an imported global geo model pack (source ``model:<id>``), e.g. the paper's SemP
checkpoint converted by `geotagger models import-semp`.

The pack's heads give a softmax per partitioning level over its pooled embedding; the paper's
hierarchical rule (product of a fine class's probability and its ancestors') ranks the finest classes,
whose mean coordinates are the candidate places. Used only when such a pack is installed; its places enter
the fusion pool like any other evidence, so the library's own photos decide how much it is trusted.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np

from geotagger.errors import ModelError
from geotagger.geo.hierarchy import RankedClass, hierarchical_predict
from geotagger.geo.semp import PartitioningSet
from geotagger.locate.library_model import softmax

log = logging.getLogger(__name__)
TOP_CLASSES = 3


class GlobalModel:
    """A geo model pack's heads and partitionings, ready to turn embeddings into ranked places."""

    def __init__(self, pack: Any) -> None:
        if not pack.is_geo:
            raise ModelError(f"model pack {pack.id} has no location heads")
        self.pack = pack
        self.source = f"model:{pack.id}"
        self.heads = pack.heads()
        self.pset = PartitioningSet.from_json(json.dumps(pack.partitionings_json()))
        if len(self.heads) != len(self.pset.partitionings):
            raise ModelError(
                f"model pack {pack.id}: {len(self.heads)} heads for {len(self.pset.partitionings)} levels"
            )

    @classmethod
    def installed(cls) -> list[GlobalModel]:
        """Every installed geo pack that loads (broken ones are logged and skipped)."""
        from geotagger.locate.pack import ModelPack, list_pack_dirs

        found = []
        for folder in list_pack_dirs():
            try:
                pack = ModelPack.load(folder, verify=False)
                if pack.is_geo:
                    found.append(cls(pack))
            except (ModelError, OSError, ValueError, KeyError) as exc:
                log.warning("skipping model pack %s: %s", folder.name, exc)
        return found

    def predict(self, emb: np.ndarray, top_k: int = TOP_CLASSES) -> list[list[RankedClass]]:
        """Top classes per embedding row (best first)."""
        emb = np.atleast_2d(np.asarray(emb, dtype=np.float32))
        probs = [softmax(emb @ w.T + b) for w, b in self.heads]
        return hierarchical_predict(probs, self.pset, top_k=top_k)

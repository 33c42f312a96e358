"""Model packs: a folder with a card (model.json), an ONNX backbone and optional geo heads.

A pack is verified when loaded (every file named in the card exists and matches its sha256), so a
truncated download or a half-written build is reported as a readable error instead of wrong output.
The format is documented in models/README.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geotagger.errors import ModelError, NotFoundError
from geotagger.paths import ENV_DEFAULT_MODEL, env, models_dir
from geotagger.progress import Progress

CARD_NAME = "model.json"
BACKBONE_NAME = "backbone.onnx"
IMAGENET_HEAD_NAME = "imagenet_head.npz"
HEADS_NAME = "heads.npz"
PARTITIONINGS_NAME = "partitionings.json"
HIERARCHY_NAME = "hierarchy.npz"
FORMAT_VERSION = 1

# Keys every card must have; see models/README.md for their meaning.
REQUIRED_KEYS = (
    "id",
    "version",
    "licence",
    "architecture",
    "input_size",
    "resize_size",
    "mean",
    "std",
    "interpolation",
    "outputs",
    "levels",
    "files",
)
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def default_pack_id() -> str:
    """The backbone used when the user names none (env GEOTAGGER_DEFAULT_MODEL overrides)."""
    return env(ENV_DEFAULT_MODEL) or "efficientnet-lite0"


def valid_pack_id(pack_id: str) -> bool:
    """Pack ids double as folder names, so they are restricted to a safe alphabet."""
    return bool(_ID_RE.match(pack_id))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def write_card(folder: Path, card: dict[str, Any]) -> None:
    """Record sha256 and size of every file in the folder (except the card) and write the card atomically."""
    files = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name != CARD_NAME and not path.name.startswith("."):
            files[path.name] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    card = dict(card)
    card["files"] = files
    card.setdefault("format", FORMAT_VERSION)
    tmp = folder / (CARD_NAME + ".tmp")
    tmp.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, folder / CARD_NAME)


@contextmanager
def pack_build_folder(root: Path, pack_id: str) -> Iterator[Path]:
    """A hidden temporary folder under ``root`` to make a pack in; removed again if making it fails.

    Building beside the final folder keeps the closing rename on one file system (atomic), so a
    failed or interrupted build never leaves a half-written pack where ``ModelPack.load`` looks.
    """
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{pack_id}-", dir=root))
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def publish_pack(
    work: Path, final: Path, card: dict[str, Any], progress: Progress | None = None, summary: str = ""
) -> None:
    """Write the card into the build folder and rename it to ``final``, replacing an older pack there.

    The last step of a build: ``progress`` advances once and finishes with ``summary``.
    """
    write_card(work, card)
    work.chmod(0o755)
    if final.exists():
        shutil.rmtree(final)
    work.rename(final)
    if progress:
        progress.advance()
        progress.finish(summary)


@dataclass
class ModelPack:
    """A loaded, verified pack. ``card`` is the parsed model.json, ``dir`` the folder."""

    dir: Path
    card: dict[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path_or_id: str | Path, *, verify: bool = True) -> ModelPack:
        """Open a pack by folder path or by id (a folder under the models dir)."""
        folder = Path(path_or_id).expanduser()
        if not (folder / CARD_NAME).is_file():
            as_id = str(path_or_id)
            if valid_pack_id(as_id):
                folder = models_dir() / as_id
        card_path = folder / CARD_NAME
        if not card_path.is_file():
            raise NotFoundError(
                f"model pack {str(path_or_id)!r} not found (looked in {folder}); "
                "build one with 'geotagger models build' or import one with 'geotagger models import-semp'"
            )
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"model pack {folder.name}: unreadable {CARD_NAME} ({exc})") from exc
        if not isinstance(card, dict):
            raise ModelError(f"model pack {folder.name}: {CARD_NAME} is not a JSON object")
        missing = [k for k in REQUIRED_KEYS if k not in card]
        if missing:
            raise ModelError(f"model pack {folder.name}: card lacks {', '.join(missing)}")
        pack = cls(dir=folder, card=card)
        if BACKBONE_NAME not in card["files"]:
            raise ModelError(f"model pack {pack.id}: card lists no {BACKBONE_NAME}")
        if verify:
            pack.verify()
        return pack

    def verify(self) -> None:
        """Check every listed file's presence, size and sha256; ModelError on the first mismatch."""
        for name, meta in self.card["files"].items():
            path = self.dir / name
            if not path.is_file():
                raise ModelError(f"model pack {self.id}: {name} is missing; rebuild or re-import the pack")
            if "bytes" in meta and path.stat().st_size != meta["bytes"]:
                raise ModelError(f"model pack {self.id}: {name} has the wrong size (corrupt or truncated)")
            if sha256_file(path) != meta.get("sha256"):
                raise ModelError(f"model pack {self.id}: checksum mismatch for {name} (corrupt or modified)")

    # --- card accessors -------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return str(self.card["id"])

    @property
    def input_size(self) -> int:
        return int(self.card["input_size"])

    @property
    def resize_size(self) -> int:
        return int(self.card["resize_size"])

    @property
    def embedding_dim(self) -> int:
        return int(self.card["outputs"]["embedding"]["shape"][-1])

    @property
    def levels(self) -> list[dict[str, Any]]:
        return list(self.card.get("levels") or [])

    @property
    def is_geo(self) -> bool:
        """True when the pack carries location heads (not just a backbone)."""
        return bool(self.levels)

    @property
    def backbone_path(self) -> Path:
        return self.dir / BACKBONE_NAME

    @property
    def digest(self) -> str:
        """Identity of the backbone weights: embeddings from another digest are not comparable."""
        return str(self.card["files"][BACKBONE_NAME]["sha256"])

    def file(self, name: str) -> Path:
        if name not in self.card["files"]:
            raise ModelError(f"model pack {self.id} has no {name}")
        return self.dir / name

    # --- optional parts -------------------------------------------------------------------------
    def imagenet_head(self) -> tuple[Any, Any]:
        """(W [1000, C], b [1000]) of the ImageNet classifier, for class activation maps."""
        import numpy as np

        if "imagenet" not in self._cache:
            with np.load(self.file(IMAGENET_HEAD_NAME)) as data:
                self._cache["imagenet"] = (data["W"].astype(np.float32), data["b"].astype(np.float32))
        return self._cache["imagenet"]

    def heads(self) -> list[tuple[Any, Any]]:
        """Per level (W [K_l, C], b [K_l]) of a geo pack, coarse to fine as in card['levels']."""
        import numpy as np

        if "heads" not in self._cache:
            out = []
            with np.load(self.file(HEADS_NAME)) as data:
                for i in range(len(self.levels)):
                    out.append((data[f"W{i}"].astype(np.float32), data[f"b{i}"].astype(np.float32)))
            self._cache["heads"] = out
        return self._cache["heads"]

    def hierarchy(self) -> Any:
        """M: int array [K_finest, n_levels], the ancestor index of each finest class per level."""
        import numpy as np

        if "M" not in self._cache:
            with np.load(self.file(HIERARCHY_NAME)) as data:
                self._cache["M"] = data["M"].astype(np.int64)
        return self._cache["M"]

    def partitionings_json(self) -> Any:
        """The raw partitionings document (geotagger.geo.semp PartitioningSet JSON)."""
        if "parts" not in self._cache:
            self._cache["parts"] = json.loads(self.file(PARTITIONINGS_NAME).read_text(encoding="utf-8"))
        return self._cache["parts"]


def list_pack_dirs(root: Path | None = None) -> list[Path]:
    """Folders under the models dir that look like packs (have a card)."""
    root = root or models_dir()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / CARD_NAME).is_file())

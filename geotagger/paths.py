"""Where geotagger keeps its data: catalog, caches, model packs, backups.

Everything lives under one data directory (platformdirs user data dir), overridable with
GEOTAGGER_DATA_DIR; the catalog path can be overridden on its own with GEOTAGGER_LIBRARY / --library.
In the self-contained bundle (PyInstaller, ``sys.frozen``) the model packs it ships are the default
models folder, since that bundle cannot build them (no torch).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "geotagger"

ENV_DATA_DIR = "GEOTAGGER_DATA_DIR"  # the data directory
ENV_LIBRARY = "GEOTAGGER_LIBRARY"  # the catalog (file path or database URL); --library wins
ENV_MODELS_DIR = "GEOTAGGER_MODELS_DIR"  # built or imported model packs
ENV_DEFAULT_MODEL = "GEOTAGGER_DEFAULT_MODEL"  # the backbone pack id used when none is named
ENV_LOCK_WAIT = "GEOTAGGER_LOCK_WAIT"  # seconds a writer waits for the writer lock
ENV_GUI_SCREENSHOT = "GEOTAGGER_GUI_SCREENSHOT"  # save the first painted window there and quit
ENV_XDG_DATA_HOME = "XDG_DATA_HOME"  # where desktop launchers go (freedesktop spec)


def env(name: str) -> str | None:
    """The variable's value, None when unset or empty."""
    return os.environ.get(name) or None


def data_dir() -> Path:
    """The user data directory (created on demand by the callers that write into it)."""
    override = env(ENV_DATA_DIR)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_library_path() -> Path:
    """Catalog file used when neither --library nor GEOTAGGER_LIBRARY is given."""
    override = env(ENV_LIBRARY)
    if override:
        return Path(override).expanduser()
    return data_dir() / "library.sqlite"


def bundle_dir() -> Path | None:
    """The unpacked folder of a self-contained bundle (PyInstaller's ``sys._MEIPASS``), else None."""
    if not getattr(sys, "frozen", False):
        return None
    root = getattr(sys, "_MEIPASS", None)
    return Path(root) if root else Path(sys.executable).resolve().parent


def models_dir() -> Path:
    """Built or imported model packs; never inside the git checkout. In the bundle: the packs it
    ships (``<bundle>/models``), which it cannot rebuild; GEOTAGGER_MODELS_DIR overrides both."""
    override = env(ENV_MODELS_DIR)
    if override:
        return Path(override).expanduser()
    bundled = bundle_dir()
    if bundled is not None:
        return bundled / "models"
    return data_dir() / "models"


def library_data_dir(catalog_path: Path) -> Path:
    """Per-library side data (thumbnails, embeddings, backups) next to the catalog file."""
    return catalog_path.with_name(catalog_path.stem + ".data")


def resources_dir() -> Path:
    """The project's shipped data files (geography, concept vocabulary, web assets)."""
    here = Path(__file__).resolve().parent
    packaged = here / "resources"
    if packaged.is_dir():
        return packaged
    return here.parent / "resources"

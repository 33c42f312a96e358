"""Typed errors of the core. Front ends turn these into one-line messages (CLI) or dialogs (GUI).

Anything that is not a GeotaggerError is a bug and is allowed to show a traceback.
"""

from __future__ import annotations


class GeotaggerError(Exception):
    """Base of every error a user may see; the message is one readable line."""

    exit_code = 1


class UserInputError(GeotaggerError):
    """The user asked for something malformed (bad coordinate, unknown photo, bad option value)."""


class NotFoundError(GeotaggerError):
    """A photo, album, model pack or file the user named does not exist."""


class CatalogError(GeotaggerError):
    """The catalog cannot be opened, is from a newer version, or is locked."""


class MetadataError(GeotaggerError):
    """A file's metadata cannot be read or written safely."""


class WriteRefusedError(MetadataError):
    """Writing into a file was refused to protect it (the caller may fall back to a sidecar)."""


class ModelError(GeotaggerError):
    """A model pack is missing, broken, or cannot run on the requested device."""


class CancelledError(GeotaggerError):
    """Long work was cancelled by the user; what was done so far is kept."""

    exit_code = 130

"""One gate in front of PyTorch: building packs and importing checkpoints need it, inference does not.

The self-contained bundle leaves torch out (it would triple its size), so the commands that need it
must stop with one clear line there instead of a traceback; a pip install without torch gets the
install hint.
"""

from __future__ import annotations

import sys
from types import ModuleType

from geotagger.errors import ModelError

TORCH_HINT = "pip install torch==2.13.0"


def require_torch(task: str) -> ModuleType:
    """The torch module, or ModelError saying why ``task`` cannot run here and what to do instead."""
    if getattr(sys, "frozen", False):
        raise ModelError(
            f"{task} needs PyTorch, which the self-contained bundle leaves out; "
            "use the pip install of geotagger for it (README, Install)"
        )
    try:
        import torch
    except ImportError as exc:
        raise ModelError(f"{task} needs PyTorch, which is not installed: {TORCH_HINT}") from exc
    return torch

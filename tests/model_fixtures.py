"""A real EfficientNet-Lite0 pack built once per test process (about ten seconds), for any test
that needs a backbone: ``ModelPack.load(lite0_pack_dir())``."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path


@functools.lru_cache(maxsize=1)
def lite0_pack_dir() -> Path:
    from geotagger.locate.build import build_backbone_pack

    root = Path(tempfile.mkdtemp(prefix="geotagger-test-models-"))
    atexit.register(shutil.rmtree, root, True)
    return build_backbone_pack("lite0", dest_root=root).dir

"""What changes inside the self-contained bundle (sys.frozen), checked without building one: the
models folder is the bundle's own, torch-only work stops with one line, the launcher runs the bundle."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from geotagger.errors import ModelError
from geotagger.locate.torch_gate import require_torch
from geotagger.paths import bundle_dir, models_dir


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    inside = tmp_path / "geotagger" / "_internal"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(inside), raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "geotagger" / "geotagger"))
    monkeypatch.delenv("GEOTAGGER_MODELS_DIR", raising=False)
    return inside


def test_not_frozen_uses_the_user_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GEOTAGGER_MODELS_DIR", raising=False)
    monkeypatch.setenv("GEOTAGGER_DATA_DIR", str(tmp_path))
    assert bundle_dir() is None
    assert models_dir() == tmp_path / "models"


def test_frozen_models_are_the_bundles_unless_overridden(
    frozen: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert bundle_dir() == frozen
    assert models_dir() == frozen / "models"
    monkeypatch.setenv("GEOTAGGER_MODELS_DIR", str(tmp_path / "mine"))
    assert models_dir() == tmp_path / "mine"


def test_frozen_build_and_import_say_they_need_the_pip_install(frozen: Path) -> None:
    from geotagger.locate.build import build_backbone_pack
    from geotagger.locate.semp_import import import_semp_release

    with pytest.raises(ModelError, match="needs PyTorch, which the self-contained bundle leaves out"):
        require_torch("building a model pack")
    with pytest.raises(ModelError, match="building a model pack needs PyTorch"):
        build_backbone_pack("lite0", dest_root=frozen / "models")
    with pytest.raises(ModelError, match="importing a SemP checkpoint needs PyTorch"):
        import_semp_release(frozen / "release")
    assert not (frozen / "models").exists()


def test_frozen_launcher_runs_the_bundle(frozen: Path) -> None:
    from geotagger.services.desktop import exec_command

    assert exec_command() == str(Path(sys.executable).resolve())

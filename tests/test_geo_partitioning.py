"""SemP partitionings, S2 cells and the hierarchical prediction on synthetic samples at real places."""

from __future__ import annotations

import numpy as np
import pytest
import s2sphere
import shapely

from geotagger.errors import CancelledError
from geotagger.geo.address import Address
from geotagger.geo.geocoder import ReverseGeocoder
from geotagger.geo.hierarchy import hierarchical_predict, hierarchical_scores, predict_coordinates
from geotagger.geo.s2cells import (
    build_s2_partitioning,
    build_s2_partitionings,
    cell_outline,
    leaf_cell_ids,
    parent_ids,
)
from geotagger.geo.semp import PartitioningSet, build_partitionings, partition_coordinates, suggest_thresholds
from geotagger.progress import CancelToken, CountingProgress


def _addr(cc, a1=None, a2=None, loc=None) -> Address:
    ids = {"country": cc}
    names = {"country": f"Country {cc}"}
    for level, value in (("admin1", a1), ("admin2", a2), ("locality", loc)):
        if value:
            ids[level] = value
            names[level] = f"Name {value}"
    return Address(
        country_code=cc,
        country=names["country"],
        admin1=names.get("admin1"),
        admin1_code=a1,
        admin2=names.get("admin2"),
        locality=names.get("locality"),
        ids=ids,
    )


def _toy():
    """CH: 60 in Bern/Interlaken/Lauterbrunnen, 25 in Zurich city; FR: 10 in Paris; 5 at sea."""
    addrs = (
        [_addr("CH", "CH-BE", "g:1", "g:10")] * 40
        + [_addr("CH", "CH-BE", "g:1", "g:11")] * 20
        + [_addr("CH", "CH-ZH", None, "g:20")] * 25
        + [_addr("FR", "FR-IDF", "FR-75", "g:30")] * 10
        + [Address()] * 5
    )
    n = len(addrs)
    rng = np.random.default_rng(0)
    lat = rng.uniform(45, 48, n)
    lon = rng.uniform(6, 9, n)
    return addrs, lat, lon


def test_semp_keeps_places_with_enough_samples() -> None:
    addrs, lat, lon = _toy()
    pset = build_partitionings(addrs, lat, lon, taus=[20, 80, 50])  # sorted coarse to fine
    assert [p.tau for p in pset.partitionings] == [80, 50, 20]
    coarse, mid, fine = pset.partitionings
    assert [c.id for c in coarse.classes] == ["CH"]
    assert coarse.classes[0].count == 85 and coarse.unassigned == 15
    assert sorted(c.id for c in mid.classes) == ["CH", "CH/CH-BE/g:1"]
    assert {c.id: c.count for c in mid.classes} == {"CH": 25, "CH/CH-BE/g:1": 60}
    fine_counts = {c.id: c.count for c in fine.classes}
    assert fine_counts == {"CH/CH-BE/g:1/g:10": 40, "CH/CH-BE/g:1/g:11": 20, "CH/CH-ZH/g:20": 25}
    assert fine.unassigned == 15  # Paris (10 < 20) and the 5 open-sea samples are reported
    zurich = next(c for c in fine.classes if c.id == "CH/CH-ZH/g:20")
    assert zurich.level == "locality" and zurich.outline_id == "CH-ZH"
    assert zurich.name_path == ["Country CH", "Name CH-ZH", "Name g:20"]
    # every labelled sample's coordinate contributes to its class mean
    labels = fine.labels
    assert labels is not None and (labels >= 0).sum() == 85
    bern = next(c for c in fine.classes if c.id.endswith("g:10"))
    members = labels == bern.index
    assert bern.lat == pytest.approx(lat[members].mean(), abs=0.05)


def test_parents_and_hierarchy_matrix_are_consistent() -> None:
    addrs, lat, lon = _toy()
    pset = build_partitionings(addrs, lat, lon, taus=[80, 50, 20])
    labels = pset.labels
    assert pset.M.shape == (len(pset.finest.classes), 3)
    for i in range(len(addrs)):
        fine = labels[i, 2]
        if fine < 0:
            continue
        # the sample's coarser classes are exactly the fine class's ancestors in M
        assert list(pset.M[fine, :2]) == list(labels[i, :2])
    fine = pset.finest.classes
    mid = pset.partitionings[1].classes
    for c in fine:
        assert c.id.startswith(mid[c.parent].id)


def test_serialisation_round_trip(tmp_path) -> None:
    addrs, lat, lon = _toy()
    pset = build_partitionings(addrs, lat, lon, taus=[50, 20])
    path = tmp_path / "partitionings.json"
    pset.save(path)
    loaded = PartitioningSet.load(path)
    assert np.array_equal(loaded.M, pset.M)
    assert [c.id for c in loaded.finest.classes] == [c.id for c in pset.finest.classes]
    assert loaded.finest.classes[0] == pset.finest.classes[0]
    assert loaded.n_samples == len(addrs)
    with pytest.raises(ValueError):
        PartitioningSet.from_json('{"format": "something else"}')


def test_mean_coordinate_across_the_dateline() -> None:
    addrs = [_addr("FJ", "FJ-N")] * 4
    pset = build_partitionings(
        addrs, [-16.8, -16.9, -16.8, -16.9], [179.9, 179.95, -179.9, -179.95], taus=[2]
    )
    cls = pset.finest.classes[0]
    assert abs(abs(cls.lon) - 180) < 0.01
    assert cls.lat == pytest.approx(-16.85, abs=0.01)


def test_semp_on_geocoded_points() -> None:
    rng = np.random.default_rng(1)
    centres = np.array([[46.593, 7.909], [41.4036, 2.1744], [47.4966, 19.0345]])
    pick = rng.integers(0, 3, 600)
    lat = centres[pick, 0] + rng.normal(0, 0.01, 600)
    lon = centres[pick, 1] + rng.normal(0, 0.01, 600)
    progress = CountingProgress()
    pset = partition_coordinates(lat, lon, taus=[100, 20], progress=progress, cancel=CancelToken())
    assert progress.done == progress.total == 3
    coarse = {c.ids["country"] for c in pset.partitionings[0].classes}
    assert coarse == {"CH", "ES", "HU"}
    for c in pset.finest.classes:
        assert c.address().country_code in {"CH", "ES", "HU"}


def test_suggested_thresholds() -> None:
    assert suggest_thresholds(4_700_000) == (250, 100, 50)  # the paper's range on MP-16
    assert suggest_thresholds(800) == (80, 20, 3)
    assert suggest_thresholds(100) == (10, 3)
    assert suggest_thresholds(20) == (3,)
    assert suggest_thresholds(1) == (1,)


def test_s2_adaptive_cells() -> None:
    rng = np.random.default_rng(2)
    lat = np.concatenate([rng.normal(46.6, 0.05, 500), rng.normal(-33.9, 0.5, 100), [10.0, 10.1]])
    lon = np.concatenate([rng.normal(7.9, 0.05, 500), rng.normal(18.4, 0.5, 100), [-30.0, -30.1]])
    part = build_s2_partitioning(lat, lon, tau_max=100, tau_min=10)
    assert part.kind == "s2" and len(part.classes) >= 5
    assert all(10 <= c.count <= 100 for c in part.classes)
    assert part.unassigned >= 2  # the lonely mid-Atlantic pair is dropped
    assert part.unassigned + sum(c.count for c in part.classes) == len(lat)
    assert (part.labels >= 0).sum() == len(lat) - part.unassigned
    # the vectorised parent arithmetic agrees with s2sphere
    leaves = leaf_cell_ids(lat[:20], lon[:20])
    for level in (0, 3, 12, 20):
        expected = [s2sphere.CellId(int(x)).parent(level).id() for x in leaves]
        assert parent_ids(leaves, level).tolist() == expected
    corners = cell_outline(part.classes[0].outline_id)
    assert len(corners) == 4
    with pytest.raises(ValueError):
        build_s2_partitioning(lat, lon, tau_max=5, tau_min=10)


def test_hierarchical_predict_multiplies_ancestors() -> None:
    addrs, lat, lon = _toy()
    pset = build_partitionings(addrs, lat, lon, taus=[50, 20])
    mid, fine = pset.partitionings
    # mid: CH (residual) and CH/CH-BE/g:1; fine: two Bern localities and Zurich
    idx = {c.id: c.index for c in fine.classes}
    p_mid = np.zeros((1, len(mid.classes)))
    p_mid[0, next(c.index for c in mid.classes if c.id == "CH/CH-BE/g:1")] = 0.9
    p_mid[0, next(c.index for c in mid.classes if c.id == "CH")] = 0.1
    p_fine = np.zeros((1, len(fine.classes)))
    p_fine[0, idx["CH/CH-ZH/g:20"]] = 0.5
    p_fine[0, idx["CH/CH-BE/g:1/g:10"]] = 0.3
    p_fine[0, idx["CH/CH-BE/g:1/g:11"]] = 0.2
    ranked = hierarchical_predict([p_mid, p_fine], pset, top_k=3)[0]
    assert [r.class_id for r in ranked] == ["CH/CH-BE/g:1/g:10", "CH/CH-BE/g:1/g:11", "CH/CH-ZH/g:20"]
    assert ranked[0].score == pytest.approx(0.27)
    assert ranked[2].score == pytest.approx(0.05)
    assert ranked[0].address["country_code"] == "CH"
    assert ranked[0].display.startswith("Name g:10")
    coords = predict_coordinates([p_mid, p_fine], pset)
    assert coords.shape == (1, 2) and coords[0, 0] == fine.classes[idx["CH/CH-BE/g:1/g:10"]].lat
    with pytest.raises(ValueError):
        hierarchical_scores([p_fine], pset)


def test_s2_partitioning_set_is_hierarchical() -> None:
    rng = np.random.default_rng(3)
    lat = np.concatenate([rng.normal(46.6, 0.3, 800), rng.normal(40.7, 0.3, 400)])
    lon = np.concatenate([rng.normal(7.9, 0.3, 800), rng.normal(-74.0, 0.3, 400)])
    pset = build_s2_partitionings(lat, lon, levels=[(50, 10), (400, 100)])
    assert [p.params["tau_max"] for p in pset.partitionings] == [400, 50]
    labels = pset.labels
    both = (labels >= 0).all(axis=1)
    assert both.sum() > 600
    # a sample's coarse cell is the ancestor (via M) of its fine cell
    assert np.array_equal(pset.M[labels[both, 1], 0], labels[both, 0])


def test_outline_of_a_class_region() -> None:
    geocoder = ReverseGeocoder.default()
    bern = geocoder.outline("CH-BE")
    assert bern is not None and bern.contains(shapely.Point(7.909, 46.593))
    catalonia = geocoder.outline_geojson("ES-CT")
    assert catalonia["type"] in ("Polygon", "MultiPolygon")
    assert geocoder.outline("CH").contains(shapely.Point(8.54, 47.37))
    assert geocoder.outline("XX-NOPE") is None


def test_cancel_stops_partitioning() -> None:
    addrs, lat, lon = _toy()
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        build_partitionings(addrs, lat, lon, taus=[50, 20], cancel=token)
    with pytest.raises(ValueError):
        build_partitionings(addrs[:3], lat, lon)

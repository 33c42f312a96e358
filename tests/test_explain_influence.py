"""The paper's concept influence on hand-made maps whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from geotagger.errors import UserInputError
from geotagger.explain.influence import (
    concept_influence,
    influences,
    ranked,
    top_k_count,
    top_k_weights,
)


def test_k_is_1000_at_224_and_scales_with_pixel_count():
    assert top_k_count((224, 224)) == 1000
    assert top_k_count((448, 448)) == 4000
    assert top_k_count((112, 224)) == 500
    assert top_k_count((10, 10)) == 2  # 1000 * 100 / 50176 = 1.99
    assert top_k_count((1, 1)) == 1


def test_attention_inside_a_mask_of_ten_percent_gives_ten():
    # a mask of exactly 10 % of a 100 x 100 map, with all attention inside it
    a = np.zeros((100, 100))
    mask = np.zeros((100, 100), bool)
    mask[40:50, :] = True
    a[mask] = np.linspace(1, 2, mask.sum())
    assert concept_influence(a, mask) == pytest.approx(10.0)
    assert concept_influence(a, ~mask) == pytest.approx(0.0)


def test_partial_overlap_matches_formula():
    a = np.zeros((224, 224))
    a.ravel()[:1000] = np.arange(1000, 0, -1)  # top 1000 pixels: the first 1000 in row-major order
    mask = np.zeros((224, 224), bool)
    mask.ravel()[500:1500] = True  # contains 500 of the top 1000, area 1000
    expected = (500 / 1000) / (1000 / (224 * 224))
    assert concept_influence(a, mask) == pytest.approx(expected)


def test_uniform_attribution_gives_one_for_every_non_empty_mask():
    a = np.full((224, 224), 0.3)
    rng = np.random.default_rng(1)
    for share in (0.01, 0.2, 0.7, 1.0):
        mask = rng.random((224, 224)) < share
        assert concept_influence(a, mask) == pytest.approx(1.0)
    corner = np.zeros((224, 224), bool)
    corner[:5, :5] = True
    assert concept_influence(a, corner) == pytest.approx(1.0)


def test_ties_at_the_kth_value_share_the_remaining_places():
    a = np.zeros((10, 10))  # k = 2
    a[0, 0] = 5.0  # clearly in
    a[5, 5] = a[9, 9] = a[0, 9] = 1.0  # three pixels tie for the one remaining place
    w = top_k_weights(a)
    assert w.sum() == pytest.approx(2.0)
    assert w[0, 0] == 1.0 and w[5, 5] == pytest.approx(1 / 3) and w[9, 9] == pytest.approx(1 / 3)
    # the result does not depend on where the tied pixels are (order independence)
    m1 = np.zeros((10, 10), bool)
    m1[5, 5] = True
    m2 = np.zeros((10, 10), bool)
    m2[0, 9] = True
    assert concept_influence(a, m1) == pytest.approx(concept_influence(a, m2))
    assert concept_influence(a, m1) == pytest.approx((1 / 3 / 2) / (1 / 100))


def test_empty_mask_is_none_and_left_out_of_the_ranking():
    a = np.random.default_rng(0).random((50, 60))
    full = np.ones((50, 60), bool)
    res = influences(a, {"empty": np.zeros((50, 60), bool), "all": full})
    assert res["empty"].influence is None and res["empty"].area_share == 0.0
    assert res["all"].influence == pytest.approx(1.0)
    assert [r[0] for r in ranked(res)] == ["all"]


def test_ranking_is_by_influence_then_name():
    a = np.zeros((20, 20))
    a[:2, :] = 1.0  # 40 pixels; k = round(1000 * 400 / 50176) = 8
    m_top = np.zeros((20, 20), bool)
    m_top[:2, :] = True
    rest = ~m_top
    res = influences(a, {"b": rest, "a": rest.copy(), "top": m_top})
    names = [r[0] for r in ranked(res)]
    assert names == ["top", "a", "b"]


def test_bad_inputs_are_user_errors():
    with pytest.raises(UserInputError):
        influences(np.zeros((4, 4)), {"x": np.zeros((4, 5), bool)})
    with pytest.raises(UserInputError):
        influences(np.full((4, 4), np.nan), {"x": np.ones((4, 4), bool)})
    with pytest.raises(UserInputError):
        top_k_weights(np.zeros((4, 4)), k=17)

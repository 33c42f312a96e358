"""CAM equals Grad-CAM for linear heads over pooled features; similarity maps; concept masks."""

from __future__ import annotations

import numpy as np
import pytest

from geotagger.explain import attribution as attr
from geotagger.explain.concepts import concept_maps, concept_masks, load_vocabulary, present
from tests.explain_tiny import INPUT, tiny_net


def _grad_cam(net, x, weights, bias, unit: bool):
    """Textbook Grad-CAM in torch: channel weights = spatial mean of d logit / d features."""
    import torch

    f = net.features(x)
    f.retain_grad()
    e = f.mean(dim=(2, 3))
    if unit:
        e = e / e.norm(dim=1, keepdim=True)
    logit = (e * weights).sum() + bias
    logit.backward()
    alpha = f.grad.mean(dim=(2, 3), keepdim=True)
    return torch.relu((alpha * f).sum(dim=1))[0].detach().numpy(), f[0].detach().numpy()


@pytest.mark.parametrize("unit", [False, True])
def test_cam_matches_torch_grad_cam(unit):
    import torch

    net = tiny_net(3)
    x = torch.randn(1, 3, INPUT, INPUT)
    rng = np.random.default_rng(0)
    w = (rng.random(16) - 0.3).astype(np.float32)  # mixed signs, positive overall
    gc, feats = _grad_cam(net, x, torch.tensor(w), 0.3, unit)
    cam = attr.class_map(feats, w, unit_embedding=unit)
    assert gc.max() > 0
    np.testing.assert_allclose(attr.normalise(cam), attr.normalise(gc), atol=1e-4)
    # without normalisation they differ only by the constant 1 / hw (and 1 / |e| for unit heads)
    scale = feats.shape[1] * feats.shape[2]
    if not unit:
        np.testing.assert_allclose(cam / scale, gc, rtol=1e-4, atol=1e-6)


def test_imagenet_cam_of_the_tiny_model_is_grad_cam_of_its_logit():
    import torch

    net = tiny_net(5)
    x = torch.randn(1, 3, INPUT, INPUT)
    k = 970
    gc, feats = _grad_cam(net, x, net.fc.weight[k].detach(), net.fc.bias[k].detach(), False)
    cam = attr.class_map(feats, net.fc.weight[k].detach().numpy())
    np.testing.assert_allclose(attr.normalise(cam), attr.normalise(gc), atol=1e-4)


def test_dense_logits_average_to_the_image_logits():
    rng = np.random.default_rng(2)
    f = rng.random((16, 3, 4)).astype(np.float32)
    w = rng.standard_normal((10, 16)).astype(np.float32)
    b = rng.standard_normal(10).astype(np.float32)
    dense = attr.dense_logits(f, w, b)
    np.testing.assert_allclose(dense.mean(axis=(1, 2)), w @ f.mean(axis=(1, 2)) + b, rtol=1e-5)


def test_similarity_map_is_cosine_per_location():
    rng = np.random.default_rng(3)
    f = rng.random((8, 2, 3)).astype(np.float32)
    e = f[:, 1, 2] * 3.0  # same direction as one location
    sim = attr.similarity_map(f, e)
    assert sim[1, 2] == pytest.approx(1.0, abs=1e-6)
    v = f[:, 0, 0]
    assert sim[0, 0] == pytest.approx(float(v @ e / np.linalg.norm(v) / np.linalg.norm(e)), abs=1e-6)


def test_upsample_keeps_a_constant_map_and_the_shape():
    up = attr.upsample(np.full((7, 7), 0.25, np.float32), (300, 400))
    assert up.shape == (300, 400)
    np.testing.assert_allclose(up, 0.25, atol=1e-6)
    assert attr.normalise(np.zeros((3, 3))).max() == 0.0


def test_vocabulary_is_valid_and_names_the_brief_classes():
    vocab = load_vocabulary()
    assert vocab.groups.sum(axis=0).max() == 1  # no class in two concepts
    expected = {
        "Mountain": {970: "alp", 980: "volcano", 972: "cliff", 979: "valley", 976: "promontory"},
        "Coast & water": {
            978: "seashore",
            975: "lakeside",
            977: "sandbar",
            973: "coral reef",
            460: "breakwater",
            718: "pier",
        },
        "Religious building": {
            497: "church",
            668: "mosque",
            663: "monastery",
            832: "stupa",
            442: "bell cote",
        },
        "Castle & monument": {483: "castle", 698: "palace", 682: "obelisk", 873: "triumphal arch"},
        "Bridge & dam": {839: "suspension bridge", 821: "steel arch bridge", 888: "viaduct"},
    }
    for concept, classes in expected.items():
        row = vocab.groups[vocab.names.index(concept)]
        for idx, name in classes.items():
            assert row[idx] == 1 and vocab.class_names[idx] == name
    assert 0 < vocab.threshold < 1


def test_concept_masks_follow_the_vocabulary_rule():
    vocab = load_vocabulary()
    mountain = vocab.names.index("Mountain")
    coast = vocab.names.index("Coast & water")
    # two 'classes' at the feature level: alp on the left, seashore on the right
    f = np.zeros((2, 4, 4), np.float32)
    f[0, :, :2] = 1.0
    f[1, :, 2:] = 1.0
    w = np.zeros((1000, 2), np.float32)
    w[970, 0] = 20.0  # alp
    w[978, 1] = 20.0  # seashore
    maps, logits = concept_maps(f, w, np.zeros(1000, np.float32), vocab)
    assert maps[mountain, 0, 0] > 0.99 and maps[coast, 0, 3] > 0.99
    assert present(logits, vocab)[[mountain, coast]].all()
    masks = concept_masks(maps, logits, vocab, (40, 40))
    assert set(masks) == {"Mountain", "Coast & water"}
    assert masks["Mountain"][:, :15].all() and not masks["Mountain"][:, 25:].any()
    assert not (masks["Mountain"] & masks["Coast & water"]).any()


def test_stretch_normalisation_spreads_a_narrow_band_and_keeps_rank_order():
    m = np.array([[0.6, 0.65], [0.7, 0.62]], np.float32)
    plain, stretched = attr.normalise(m), attr.normalise(m, stretch=True)
    assert plain.min() > 0.8  # a narrow positive band stays uniformly "hot"
    assert stretched.min() == 0.0 and stretched.max() == 1.0
    assert (np.argsort(plain, axis=None) == np.argsort(stretched, axis=None)).all()
    assert attr.normalise(np.full((2, 2), 0.5), stretch=True).max() == 0.0

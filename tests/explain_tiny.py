"""A tiny random backbone with a pack's outputs (features, embedding, logits), for explain tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

INPUT = 64


def tiny_net(seed: int = 0):
    import torch

    torch.manual_seed(seed)

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1 = torch.nn.Conv2d(3, 8, 3, stride=4, padding=1)
            self.c2 = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1)
            self.fc = torch.nn.Linear(16, 1000)

        def features(self, x):
            return torch.relu(self.c2(torch.relu(self.c1(x))))

        def forward(self, x):
            f = self.features(x)
            e = f.mean(dim=(2, 3))
            return f, e, self.fc(e)

    return Tiny().eval()


def make_pack(folder: Path, pack_id: str = "tiny", seed: int = 0) -> Path:
    """Export the tiny net to ONNX + imagenet_head.npz + a card: a loadable model pack."""
    import warnings

    from geotagger.locate.pack import write_card

    folder.mkdir(parents=True, exist_ok=True)
    net = tiny_net(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        _export(net, folder)
    np.savez(folder / "imagenet_head.npz", W=net.fc.weight.detach().numpy(), b=net.fc.bias.detach().numpy())
    card = CARD | {"id": pack_id}
    write_card(folder, card)
    return folder


def _export(net, folder: Path) -> None:
    import torch

    torch.onnx.export(
        net,
        (torch.randn(1, 3, INPUT, INPUT),),
        str(folder / "backbone.onnx"),
        input_names=["images"],
        output_names=["features", "embedding", "logits"],
        dynamic_axes={"images": {0: "n"}, "features": {0: "n"}, "embedding": {0: "n"}, "logits": {0: "n"}},
        dynamo=False,
    )


CARD = {
    "version": "1",
    "licence": "test",
    "architecture": "tiny",
    "input_size": INPUT,
    "resize_size": INPUT,
    "mean": [0.5, 0.5, 0.5],
    "std": [0.5, 0.5, 0.5],
    "interpolation": "bilinear",
    "outputs": {"embedding": {"shape": ["N", 16]}},
    "levels": [],
}

"""`geotagger models train`: (re)train the library model on the library's own geotagged photos."""

from __future__ import annotations

import argparse

from geotagger.cli.commands.models import models_actions
from geotagger.cli.context import CliContext

ORDER = 95  # after commands/models.py, which creates the `models` group


def register(sub: argparse._SubParsersAction) -> None:
    p = models_actions(sub).add_parser(
        "train",
        help="train the library model (heads + neighbours + calibration) on your geotagged photos",
    )
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where embeddings run")
    p.add_argument(
        "--five-crop",
        action="store_true",
        help="train on five-crop embeddings, as `locate --five-crop` uses (costs ~5x inference time)",
    )
    p.set_defaults(run=run_train)


def run_train(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import training  # loaded when the command runs

    report = training.train_library_model(
        ctx.library, device=args.device, progress=ctx.progress(), cancel=ctx.cancel, five_crop=args.five_crop
    )
    print(report.summary())
    for key, held in report.heldout.items():
        if held.get("untrained"):
            print(
                f"  {key}: too few geotagged photos to calibrate on; confidences come from a time-gap prior, capped at 0.75"
            )
            continue
        acc = held.get("heldout_accuracy", {})
        line = "/".join(f"{100 * acc[k]:.1f}" for k in ("1", "25", "200", "750", "2500") if k in acc)
        print(f"  {key}: held-out acc@1/25/200/750/2500 km = {line} ({held.get('photos', 0)} photos)")
    return 0

"""`geotagger models list|build|import-semp` (other modules add actions through ``models_actions``)."""

from __future__ import annotations

import argparse

from geotagger.cli.context import CliContext
from geotagger.cli.output import FORMATS, print_rows

ORDER = 90
_ATTR = "_geotagger_actions"


def models_actions(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The action list of `geotagger models`, created on first use, so any module can add to it."""
    parser = sub.choices.get("models")
    if parser is None:
        parser = sub.add_parser(
            "models", help="model packs: list, build the backbone, import the paper's model"
        )
        setattr(parser, _ATTR, parser.add_subparsers(dest="models_action", metavar="ACTION", required=True))
    return getattr(parser, _ATTR)


def register(sub: argparse._SubParsersAction) -> None:
    from geotagger.locate.build import DEFAULT_VARIANT, VARIANTS

    actions = models_actions(sub)
    listing = actions.add_parser("list", help="installed model packs")
    listing.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    listing.set_defaults(run=_list)

    build = actions.add_parser("build", help="export an ImageNet backbone (EfficientNet-Lite) to a pack")
    build.add_argument(
        "--variant",
        choices=sorted(VARIANTS),
        default=DEFAULT_VARIANT,
        help=f"backbone (default: {DEFAULT_VARIANT})",
    )
    build.add_argument("--force", action="store_true", help="rebuild even if the pack exists")
    build.set_defaults(run=_build)

    semp = actions.add_parser(
        "import-semp", help="convert the paper's released SemP checkpoint (folder or .ckpt) into a pack"
    )
    semp.add_argument("path", metavar="PATH", help="the released checkpoint folder or .ckpt file")
    semp.add_argument("--id", dest="pack_id", help="pack id (default: from the release)")
    semp.add_argument("--force", action="store_true", help="replace an existing pack of that id")
    semp.set_defaults(run=_import_semp)


def _list(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import models as model_services  # loaded when the command runs

    rows = model_services.list_packs()
    if not rows:
        ctx.say("no model packs yet: run 'geotagger models build' (or it is built on first 'locate')")
    columns = [
        "id",
        "kind",
        "architecture",
        "input_size",
        "levels",
        "classes",
        "size_mb",
        "default",
        "status",
    ]
    print_rows(rows, columns, args.format)
    return 0


def _diff_line(card: dict) -> str:
    diffs = card.get("export", {}).get("max_abs_diff_vs_torch", {})
    return ", ".join(f"{k} {v:.2g}" for k, v in diffs.items())


def _build(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import models as model_services  # loaded when the command runs

    pack = model_services.build_pack(args.variant, force=args.force, progress=ctx.progress())
    ctx.say(f"model pack {pack.id} ready in {pack.dir}")
    print(f"{pack.id}: ONNX Runtime vs torch max abs diff: {_diff_line(pack.card)}")
    return 0


def _import_semp(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import models as model_services  # loaded when the command runs

    pack = model_services.import_semp(
        args.path, pack_id=args.pack_id, force=args.force, progress=ctx.progress()
    )
    levels = ", ".join(f"{lv['name']} ({lv['classes']} classes)" for lv in pack.levels)
    ctx.say(f"imported {pack.id} into {pack.dir}")
    print(f"{pack.id}: levels {levels}; ONNX Runtime vs torch max abs diff: {_diff_line(pack.card)}")
    return 0

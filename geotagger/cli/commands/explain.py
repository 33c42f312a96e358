"""``geotagger explain``: the concepts a suggestion rests on (the paper's concept influence)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from geotagger.cli.context import CliContext
from geotagger.cli.output import print_rows
from geotagger.errors import UserInputError

if TYPE_CHECKING:
    from geotagger.services import explaining

ORDER = 45


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explain",
        help="concept influences of a photo's suggestion (which parts of the photo it rests on)",
        description="Ranks concepts by the paper's influence: above 1 = more of the model's attention "
        "than the concept's share of the photo. --analyse compares correct and wrong predictions.",
    )
    p.add_argument("photos", nargs="*", metavar="PHOTO", help="path or catalog id (several: batch mode)")
    p.add_argument(
        "--candidate", type=int, default=1, metavar="N", help="which candidate to explain (1 = best)"
    )
    p.add_argument("--overlay", type=Path, metavar="OUT.png", help="write photo + heatmap + concept outlines")
    p.add_argument("--no-ocr", dest="ocr", action="store_false", help="skip reading text in the photo")
    p.add_argument(
        "--format", choices=("table", "json"), default="table", help="output format (default: table)"
    )
    p.add_argument("--analyse", type=Path, metavar="OUT_DIR", help="influence per concept, correct vs wrong")
    p.add_argument(
        "--truth", type=Path, metavar="CSV", help="with --analyse: file,lat,lon of the true places"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.cli.commands.decide import candidate_index
    from geotagger.services import explaining  # loaded when the command runs

    if args.analyse is not None:
        return _analyse(args, ctx)
    if args.truth is not None:
        raise UserInputError("--truth only goes with --analyse")
    if not args.photos:
        raise UserInputError("name a photo to explain, or use --analyse OUT_DIR")
    if args.overlay is not None and len(args.photos) > 1:
        raise UserInputError("--overlay takes one photo")
    if len(args.photos) == 1:
        exps = [
            explaining.explain(
                ctx.library,
                args.photos[0],
                candidate=candidate_index(args.candidate),
                overlay=args.overlay,
                ocr=args.ocr,
            )
        ]
        errors: list[tuple[str, str]] = []
    else:
        exps, errors = explaining.explain_many(
            ctx.library,
            args.photos,
            candidate=candidate_index(args.candidate),
            ocr=args.ocr,
            progress=ctx.progress(),
            cancel=ctx.cancel,
        )
    if args.format == "json":
        data = [e.to_dict() for e in exps] + [{"photo": ref, "error": msg} for ref, msg in errors]
        print(json.dumps(data[0] if len(args.photos) == 1 else data, indent=2, ensure_ascii=False))
    else:
        for exp in exps:
            _print_table(exp, ctx)
    for ref, msg in errors:
        ctx.say(f"error: {ref}: {msg}")
    return 1 if errors and not exps else 0


def _print_table(exp: explaining.Explanation, ctx: CliContext) -> None:
    print(f"{exp.photo}")
    print(f"  candidate {exp.candidate_summary}")
    print(f"  method    {exp.method}" + (f": {exp.note}" if exp.note else ""))
    if exp.concepts:
        print("  concepts  " + ", ".join(f"{n} {i:.2f}" for n, i, _a in exp.concepts))
        rows = [
            {"concept": n, "influence": round(i, 2), "area %": round(100 * a, 1)} for n, i, a in exp.concepts
        ]
        print_rows(rows, ["concept", "influence", "area %"], "table")
    elif exp.attribution is not None:
        print("  concepts  none recognised in this photo")
    if exp.ocr_text:
        scripts = ", ".join(f"{s} {p:.0%}" for s, p in exp.text_scripts)
        print(f"  text      {exp.ocr_text}" + (f"  [{scripts}]" if scripts else ""))
    if exp.ocr_note:
        ctx.say(exp.ocr_note)
    if exp.overlay:
        ctx.say(f"overlay written to {exp.overlay}")
    if exp.overlay_note:
        ctx.say(exp.overlay_note)


def _analyse(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import explaining  # loaded when the command runs

    if args.photos:
        raise UserInputError("--analyse works on the whole evaluation set; do not name photos")
    report = explaining.analyse(
        ctx.library, args.truth, args.analyse, ocr=args.ocr, progress=ctx.progress(), cancel=ctx.cancel
    )
    rows = [r.as_dict() for r in report.rows]
    if args.format == "json":
        print(json.dumps({"photos": report.photos, "correct": report.correct, "concepts": rows}, indent=2))
    else:
        print_rows(
            rows, ["concept", "n_correct", "mean_correct", "n_wrong", "mean_wrong", "difference"], "table"
        )
    ctx.say(
        f"{report.photos} photos, {report.correct} correct at 25 km, {report.explained} with concepts; "
        f"table {report.table}, plot {report.plot}"
    )
    for ref, msg in report.errors:
        ctx.say(f"error: photo {ref}: {msg}")
    return 0

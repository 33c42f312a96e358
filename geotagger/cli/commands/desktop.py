"""`geotagger desktop install | uninstall`: the launcher, metainfo and icons for the current user."""

from __future__ import annotations

import argparse

from geotagger.cli.context import CliContext

ORDER = 92


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "desktop",
        help="add or remove the application-menu launcher and icon for this user",
        description="Installs the launcher (with 'Open with' on folders), AppStream metainfo and icons "
        "into the XDG data folders ($XDG_DATA_HOME or ~/.local/share); uninstall removes exactly those.",
    )
    actions = parser.add_subparsers(dest="desktop_action", metavar="ACTION", required=True)
    actions.add_parser("install", help="install launcher, metainfo and icons").set_defaults(run=_install)
    actions.add_parser("uninstall", help="remove what install wrote").set_defaults(run=_uninstall)


def _install(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import desktop  # loaded when the command runs

    report = desktop.install()
    for path in report.files:
        print(f"installed {path}")
    for note in report.notes:
        ctx.say(note)
    ctx.say(f"launcher runs: {report.exec_command} gui")
    return 0


def _uninstall(args: argparse.Namespace, ctx: CliContext) -> int:
    from geotagger.services import desktop  # loaded when the command runs

    report = desktop.uninstall()
    for path in report.files:
        print(f"removed {path}")
    for note in report.notes:
        ctx.say(note)
    if not report.files:
        ctx.say(f"nothing to remove in {report.data_home}")
    return 0

"""Every argument of every command explains itself in --help (users read it before the docs)."""

from __future__ import annotations

import argparse

from geotagger.cli.main import build_parser


def _leaf_parsers(parser: argparse.ArgumentParser, name: str = "geotagger"):
    nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not nested:
        yield name, parser
    for action in nested:
        for sub_name, sub in action.choices.items():
            yield from _leaf_parsers(sub, f"{name} {sub_name}")


def test_every_argument_has_help() -> None:
    missing = [
        f"{name}: {'/'.join(action.option_strings) or action.dest}"
        for name, parser in _leaf_parsers(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert missing == []

"""The ``canvas-conformance`` command: one sub-command per module, registered here in one line each.

A sub-command module is imported when the parser is built, not when this one is, and holds
only its grammar at import time: what a command needs to run (the mock's Flask and waitress
for ``serve``, requests and the report writers for ``run``) its handler imports.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .errors import UsageError

COMMANDS = ("serve_cli", "run_cli", "diff_cli")  # modules of this package, each with add_parser(sub)


class OneLineParser(argparse.ArgumentParser):
    """Bad flags are said in one line on stderr (exit 2), like every other configuration problem.

    Sub-command parsers are built from the same class, so this holds for ``run`` and ``serve``.
    """

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="canvas-conformance",
        description="Conformance harness and reference mock server for Canvas's FHIR Communication API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f".{name}", __package__).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as err:
        print(f"canvas-conformance: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

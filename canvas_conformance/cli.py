"""The ``canvas-conformance`` command: one sub-command per module, registered here in one line each."""
from __future__ import annotations

import argparse
import sys

from . import __version__, diff_cli, run_cli, serve_cli
from .errors import UsageError

COMMANDS = (serve_cli, run_cli, diff_cli)


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
    for command in COMMANDS:
        command.add_parser(sub)
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

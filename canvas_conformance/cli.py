"""The ``canvas-conformance`` command: one sub-command per module, registered here in one line each."""
from __future__ import annotations

import argparse
import sys

from . import __version__, serve_cli
from .errors import UsageError

COMMANDS = (serve_cli,)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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

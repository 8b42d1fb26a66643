"""``canvas-conformance run``: the conformance suite against a target, and the report folder.

This module is the command's grammar (derived from ``config.OPTIONS``) and its entry point:
the configuration is resolved once (config.py), then runner.py runs it in order (selection,
pre-flight, target, suite, report), and anything that stops the run before it starts is one
line on stderr and exit code 2.

Why the suite runs in a child process (``python -m pytest``, suite_process.py) rather than
``pytest.main`` in this one: the suite then runs exactly as a plain ``pytest steps``
does in CI (the same interpreter state, configuration and plugins), nothing it
imports or leaves behind leaks into the runner or into the next run, a crash or a
hang in it cannot take the runner (or the embedded mock it serves) down, and the
embedded mock is a genuinely separate peer reached only over HTTP. The price is
about a third of a second to start the child (measured in bench/suite_walltime.py).
Live progress comes back over a pipe from a small plugin (progress.py).
"""
from __future__ import annotations

import argparse
import os
import re
import sys

from . import config
from .errors import UsageError

EPILOG = f"""\
Every option can also be given as an environment variable (the option wins):
{config.variables_help()}
Yes/no variables take 1/0, true/false, yes/no or on/off; {" and ".join(o.var for o in config.OPTIONS if o.repeat)}
are comma-separated ids. Prefer the environment for secrets: command lines are visible to other
users of the machine.

A config file is the lowest layer (flags win over variables, variables over the file):
canvas-conformance.toml in the working folder, [tool.canvas-conformance] in a pyproject.toml
there, or the file named by --config/CANVAS_CONFIG. One key per option, named like the option
without its dashes (base_url, timeout, tags, patients = ["id1", "id2"], ...); relative paths are
relative to the file. client_secret and token are refused there: use the variables or
client_secret_file.

A 429 or 503 answer is sent again after the wait its Retry-After asks (at most --max-retry-wait
seconds; a longer wait is not honoured and the scenario is an error), up to --retries times.
A timeout or a dropped connection is never sent again: the scenario is an error.

Exit codes: 0 no rule failed or errored (with --strict: and none was manual or skipped);
1 some rule failed or errored; 2 the run could not start (bad configuration, unreachable
target, refused credentials), said in one line on stderr; 130/143 interrupted by SIGINT/SIGTERM
(the report of what ran is written, marked interrupted).
Report files: conformance.json, report.html, junit.xml, cucumber.json, testreport.json
(plus results.json, the suite's raw results, and pytest.log)."""

_USERINFO = re.compile(r"//[^/@\s]+@")  # user:password@ in a URL quoted in an error line


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run", help="run the conformance suite and write a report",
        description="Check a Canvas-like FHIR endpoint (or, without --base-url, the embedded reference mock) "
                    "against every rule of the catalogue, and write a report folder.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    config.add_arguments(p)
    p.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    # the run's machinery (requests, the report writers) is imported only when a run is asked for
    from . import preflight, runner, suite_process
    from . import selection as listing

    try:
        return runner.execute(config.from_command_line(args, os.environ))
    except (UsageError, preflight.Refusal, listing.SelectionError) as err:
        raise UsageError(_USERINFO.sub("//[REDACTED]@", str(err))) from None
    except suite_process.Interrupted as signalled:  # before the suite started, or asked twice while reporting
        print(f"canvas-conformance: interrupted by {signalled.name}; no report was written", file=sys.stderr)
        return signalled.code

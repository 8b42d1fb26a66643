"""A plain ``pytest steps`` reads its configuration through the runner's resolution and its safety check.

Without the runner the suite resolves the ``CANVAS_*`` variables with ``config.for_suite``: a
bad value stops the session with the same one line ``canvas-conformance run`` prints (exit 2),
and a target off this machine is refused unless writes there are allowed, before any request.
"""
from __future__ import annotations

import pytest


REMOTE = "https://fumage-example.canvasmedical.com"


@pytest.mark.parametrize("env, says, results_file", [
    # a usable configuration: the results file says where, with no scenario run
    ({"CANVAS_BASE_URL": REMOTE, "CANVAS_TOKEN": "t"}, f"canvas-conformance: {REMOTE} is not on this machine", True),
    ({"CANVAS_BASE_URL": REMOTE, "CANVAS_TOKEN": "t", "CANVAS_ALLOW_WRITES": "off"}, "is not on this machine", True),
    # an unusable one: nothing to trust, so no results file
    ({"CANVAS_TIMEOUT": "9999"}, "canvas-conformance: CANVAS_TIMEOUT 9999 must be more than 0 and at most 600 seconds",
     False),
    ({"CANVAS_TOKEN": "t"}, "canvas-conformance: --token given without --base-url", False),
])
def test_the_suite_refuses_what_the_runner_refuses(run_suite, capfd, env, says, results_file):
    run = run_suite(env, marks="SENT-2")
    assert run.exit_code == 2
    assert bool(run.results) is results_file and run.results.get("scenarios", []) == []
    printed = capfd.readouterr()
    assert says in printed.out + printed.err

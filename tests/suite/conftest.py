"""The suite's tests use ``run_suite`` and ``serve`` from tests/conftest.py: each runs the
conformance suite in this process against the mock or a twisted mock (see twists.py)."""

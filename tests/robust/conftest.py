"""Fixtures for the robustness tests: real ``canvas-conformance serve`` processes (tests/mock_helpers.py)."""
from __future__ import annotations

from ..mock_helpers import serve_process  # noqa: F401  (a fixture)

"""Running the UI scenarios of the suite in this process, against the mock or a broken copy of its pages.

``run_suite`` and ``serve`` come from tests/conftest.py. Each test module here starts one
Chromium and lends it to every run (``run_suite(..., lend=lent_browser)``), and stops it at the
end; screenshots go to the test's tmp_path.
"""
from __future__ import annotations

import pytest

from canvas_conformance import browser


@pytest.fixture(scope="module")
def lent_browser():
    """One Chromium for the whole test module (BrowserUnavailable fails its tests loudly)."""
    running = browser.start()
    yield running
    running.stop()

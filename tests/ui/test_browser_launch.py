"""Starting the browser: a clear one-line error when none can start, never a silent skip."""
from __future__ import annotations

import pytest

from canvas_conformance import browser as chromium


def test_a_missing_browser_is_a_clear_error(tmp_path):
    missing = tmp_path / "no-chromium-here"
    with pytest.raises(chromium.BrowserUnavailable) as err:
        chromium.start(executable=str(missing))
    text = str(err.value)
    assert str(missing) in text and "apt-get install chromium" in text
    assert "\n" not in text


def test_a_program_that_is_not_a_browser_is_a_clear_error(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'not a browser' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(chromium.BrowserUnavailable) as err:
        chromium.start(executable=str(fake), timeout_ms=10_000)
    text = str(err.value)
    assert text.startswith(f"Chromium at {fake} did not start:")
    assert "\n" not in text


def test_the_flags_keep_chromium_headless_and_off_the_network():
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        assert flag in chromium.CHROMIUM_FLAGS

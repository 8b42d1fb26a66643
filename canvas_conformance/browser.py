"""One headless Chromium per run, driven through Playwright for Python, for the UI rules.

Why the system Chromium: Playwright's own browser download cannot be fetched on
these machines, so we launch Debian's ``chromium`` package by its path (``make
test`` installs it with apt-get when it is missing). Why one browser per run:
starting Chromium is the costly part (time and memory), a fresh page is cheap, so a
run starts the browser once and gives every check its own page in its own context (its own cookies, so one check's sign-in never leaks into
the next). If no browser can start, ``start`` raises ``BrowserUnavailable`` with
one line saying why: the UI checks fail loudly, they are never silently skipped.

Playwright gives each launch a fresh, empty user-data directory of its own (and
removes it at close), so no profile, cache or cookie outlives the run.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from typing import Iterator

CHROMIUM_PATH = "/usr/bin/chromium"

# Headless, no sandbox (root in containers and CI), no GPU, and nothing that talks to
# the network on its own: the pages under test are on loopback and nothing else is.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# A failing check should fail in seconds, not after Playwright's 30 s default.
DEFAULT_TIMEOUT_MS = 10_000
VIEWPORT = {"width": 1280, "height": 900}


class BrowserUnavailable(RuntimeError):
    """No browser could be started: said in one line, with what to do about it."""


def find_chromium(executable: str | None = None) -> str:
    """The Chromium to launch: the one asked for, else Debian's, else ``chromium`` on PATH."""
    if executable:
        candidates = [executable]
    else:
        candidates = [CHROMIUM_PATH, shutil.which("chromium") or ""]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    wanted = executable or CHROMIUM_PATH
    raise BrowserUnavailable(
        f"no Chromium at {wanted}: install Debian's chromium package (apt-get install chromium, or make browser)")


class Browser:
    """A running headless Chromium; ``page()`` hands out fresh pages, ``stop()`` ends it."""

    def __init__(self, playwright, browser, executable: str) -> None:
        self._playwright = playwright
        self._browser = browser
        self.executable = executable
        self.version = browser.version

    @contextlib.contextmanager
    def page(self, *, base_url: str | None = None, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Iterator:
        """A page in a context of its own (fresh cookies), closed when the block ends."""
        options = {"viewport": VIEWPORT, "locale": "en-US", "timezone_id": "UTC"}
        if base_url:
            options["base_url"] = base_url
        context = self._browser.new_context(**options)
        context.set_default_timeout(timeout_ms)
        try:
            yield context.new_page()
        finally:
            context.close()

    def stop(self) -> None:
        """Close the browser and Playwright's driver; safe to call twice."""
        browser, self._browser = self._browser, None
        playwright, self._playwright = self._playwright, None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


def start(*, executable: str | None = None, timeout_ms: int = 30_000) -> Browser:
    """Launch one headless Chromium; raise ``BrowserUnavailable`` when none can start."""
    path = find_chromium(executable)
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as err:  # pragma: no cover - playwright is a pinned dependency
        raise BrowserUnavailable(f"Playwright for Python is not installed ({err})") from None
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=list(CHROMIUM_FLAGS), timeout=timeout_ms)
    except PlaywrightError as err:
        playwright.stop()
        first_line = (str(err).strip().splitlines() or ["unknown error"])[0]
        raise BrowserUnavailable(f"Chromium at {path} did not start: {first_line}") from None
    except BaseException:
        playwright.stop()
        raise
    return Browser(playwright, browser, path)

"""Where the shipped suite is: the folder holding ``features/``, ``steps/`` and ``fixtures/``.

The repository keeps them at its top level, beside this package. A wheel cannot install
top-level folders of those names (``steps`` and ``fixtures`` would collide with other
distributions in site-packages), so pyproject.toml maps them into this package as
``_suite/features``, ``_suite/steps`` and ``_suite/fixtures``. This module is the one place
that knows both layouts: the installed copy when it is there, else the checkout.

``_suite`` has no ``__init__.py`` on purpose: pytest imports ``_suite/steps`` as the
top-level package ``steps``, exactly as it does in a checkout.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

SUITE_FOLDER = "_suite"  # inside this package, in an installed wheel
CHECKOUT = Path(__file__).resolve().parent.parent  # the repository root, when running from a checkout


def suite_root() -> Path:
    """The folder whose ``features/``, ``steps/`` and ``fixtures/`` are the shipped suite."""
    installed = resources.files(__package__) / SUITE_FOLDER
    if installed.is_dir() and (installed / "steps").is_dir():
        return Path(str(installed))  # a wheel installs as plain files, never zipped
    return CHECKOUT


def fixture_file(name: str) -> Path:
    """A file of the shipped ``fixtures/`` (test data: people, message bodies)."""
    return suite_root() / "fixtures" / name

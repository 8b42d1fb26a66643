"""Errors the command line reports as one line on stderr with exit code 2."""


class UsageError(Exception):
    """A bad configuration or an unusable target: one clear line, exit code 2."""

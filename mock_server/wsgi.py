"""The WSGI entry point of ``serve``'s worker processes: ``mock_server.wsgi:from_environment``.

Granian starts each worker process (forked on Linux, spawned where fork is not the default) and
calls this factory there; the master passes the configuration through the environment
(``CANVAS_MOCK_CONFIG``, a JSON object for ``create_app``), which workers inherit either way. The
master closes its own database connection before the workers start: no SQLite connection is
shared across a fork. Workers join the state the master prepared in
the shared database (``RESET_SHARED_STATE`` false: they neither reset the clock nor replace the
fault rules), so a worker started or restarted later changes nothing a client can observe.
"""
from __future__ import annotations

import json
import os

CONFIG_VARIABLE = "CANVAS_MOCK_CONFIG"


def from_environment():
    from . import create_app
    from .accesslog import AccessLog

    _die_with_the_master()
    _quiet_dropped_connections()
    config = json.loads(os.environ[CONFIG_VARIABLE])
    access_log = config.pop("ACCESS_LOG", True)
    app = create_app({**config, "RESET_SHARED_STATE": False})
    if access_log:
        app.wsgi_app = AccessLog(app.wsgi_app)
    return app


def _quiet_dropped_connections() -> None:
    """Granian logs every exception from an app's body with its traceback; a ``drop`` fault is no error."""
    import logging

    from .faults import DroppedConnection

    def keep(record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))

    logging.getLogger("_granian").addFilter(keep)


def _die_with_the_master() -> None:
    """Linux: this worker gets SIGKILL when the ``serve`` process that started it dies.

    Why: granian stops its workers when it is stopped (SIGINT, SIGTERM), but a master killed
    outright (SIGKILL, the OOM killer) would leave them serving on the port with nobody to stop
    them. Elsewhere nothing is done.
    """
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the master died before the call: nobody will stop this worker
        os._exit(1)

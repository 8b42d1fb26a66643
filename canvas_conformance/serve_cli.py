"""``canvas-conformance serve``: the mock server in the foreground, for client developers and CI.

The mock (Flask, granian, waitress) is imported by the handler only, so building the command's
grammar, as every ``canvas-conformance`` invocation does, never loads it; the options the mock
defaults (client id, token lifetime) are left unset here and take the mock's own ``DEFAULTS``.

Serving: granian with ``--workers`` processes (default one per core) sharing one SQLite WAL
file, each with ``--threads`` threads; ``--server waitress`` is the former single-process server,
kept for comparison (bench/) and for machines where granian's wheel does not install.
"""
from __future__ import annotations

import argparse
import atexit
import ipaddress
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
from pathlib import Path

from platformdirs import user_data_dir

from .catalogue import DEFAULT_PROFILE, PROFILES
from .errors import UsageError


def default_db() -> str:
    return str(Path(user_data_dir("canvas-conformance")) / "mock.sqlite3")


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="run the reference mock server",
                       description="Serve the reference mock of Canvas's Communication API "
                                   "(granian worker processes sharing one SQLite file).")
    p.add_argument("--host", default=os.environ.get("CANVAS_MOCK_HOST", "127.0.0.1"),
                   help="address to bind (default 127.0.0.1; env CANVAS_MOCK_HOST)")
    p.add_argument("--port", type=int, default=int(os.environ.get("CANVAS_MOCK_PORT", "8000")),
                   help="port to bind, 0 for a free one (default 8000; env CANVAS_MOCK_PORT)")
    p.add_argument("--db", default=os.environ.get("CANVAS_MOCK_DB") or default_db(),
                   help="SQLite file that keeps messages across restarts, or :memory: (with several workers: "
                        "a temporary file, deleted at exit) (env CANVAS_MOCK_DB; default in the user's data folder)")
    p.add_argument("--client-id", default=os.environ.get("CANVAS_MOCK_CLIENT_ID"),
                   help="OAuth client id the mock accepts (env CANVAS_MOCK_CLIENT_ID; default: the mock's "
                        "development client id)")
    p.add_argument("--client-secret", default=os.environ.get("CANVAS_MOCK_CLIENT_SECRET"),
                   help="OAuth client secret the mock accepts (default: the mock's published development secret)")
    p.add_argument("--token-lifetime", type=int,
                   help="seconds a bearer token lives (default: the mock's token lifetime)")
    p.add_argument("--base-url", default=os.environ.get("CANVAS_MOCK_BASE_URL"),
                   help="absolute base URL for Location headers and links (default: from each request)")
    p.add_argument("--workers", type=int, default=_env_int("CANVAS_MOCK_WORKERS"),
                   help="worker processes (default: one per core; env CANVAS_MOCK_WORKERS)")
    p.add_argument("--threads", type=int, default=4, help="threads per worker process (default %(default)s)")
    p.add_argument("--server", choices=("granian", "waitress"), default="granian",
                   help="granian (default: worker processes) or waitress (one process, threads; the former server)")
    p.add_argument("--profile", choices=PROFILES, default=os.environ.get("CANVAS_MOCK_PROFILE", DEFAULT_PROFILE),
                   help="the edition of Canvas to behave as: canvas-2022 (default: the mid-2022 page, the v1 API) "
                        "or canvas-current (today's v2 API) (env CANVAS_MOCK_PROFILE)")
    p.add_argument("--no-access-log", dest="access_log", action="store_false",
                   help="no access-log line per request on stderr")
    p.add_argument("--fault", action="append", default=[], metavar="SPEC",
                   help="make the mock misbehave on purpose, for testing clients (repeatable): "
                        "KIND[:key=value,...] with KIND latency, 503, 429, drop or html500 and keys "
                        "path (pattern), methods (GET+POST), ms, retry_after, every, share, seed, times, and "
                        "after=true (not for latency: handle the request first, then lose the answer, so a create "
                        "is stored although the client saw an error and a client that retries stores it twice); "
                        "e.g. --fault 503:share=0.2,seed=7,retry_after=2 --fault latency:ms=300,path=/Communication* "
                        "--fault drop:after=true,path=/Communication,methods=POST. "
                        "Change them at run time with PUT/DELETE /_mock/faults")
    p.set_defaults(handler=run)


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    try:
        return int(value) if value else None
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {value!r}") from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def secret_warning(host: str, secret: str, published: str) -> str | None:
    """One line when ``serve`` binds beyond loopback while accepting the published development secret."""
    if secret != published or is_loopback(host):
        return None
    return (f"warning: serving on {host}, beyond loopback, with the published development secret "
            f"{published!r}: anyone who can reach the port can get a token "
            "(set --client-secret or CANVAS_MOCK_CLIENT_SECRET)")


def run(args: argparse.Namespace) -> int:
    from mock_server import DEFAULTS, create_app
    from mock_server.faults import FaultError, rule_from_spec
    from mock_server.serve import default_workers

    workers = default_workers() if args.workers is None else args.workers
    if workers < 1:
        raise UsageError("--workers must be 1 or more")
    if args.profile not in PROFILES:  # from CANVAS_MOCK_PROFILE, which argparse does not check
        raise UsageError(f"--profile {args.profile!r} is not a profile: one of {', '.join(PROFILES)}")
    if args.threads < 1:
        raise UsageError("--threads must be 1 or more")
    if args.server == "waitress" and args.workers not in (None, 1):
        raise UsageError("--server waitress runs one process: give --workers 1 or leave it out")
    if args.server == "waitress":
        workers = 1
    client_id = args.client_id or DEFAULTS["CLIENT_ID"]
    config = {
        "DATABASE": args.db,
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": args.client_secret or DEFAULTS["CLIENT_SECRET"],
        "TOKEN_LIFETIME": DEFAULTS["TOKEN_LIFETIME"] if args.token_lifetime is None else args.token_lifetime,
        "BASE_URL": args.base_url,
        "PROFILE": args.profile,
    }
    if config["TOKEN_LIFETIME"] <= 0:
        raise UsageError("--token-lifetime must be a positive number of seconds")
    try:
        faults = [rule_from_spec(spec) for spec in args.fault]
    except FaultError as err:
        raise UsageError(f"--fault: {err}") from None
    db_note = args.db
    if args.db == ":memory:" and args.server == "granian":
        # Worker processes cannot share a :memory: database: a file in a folder of our own, removed at exit.
        folder = tempfile.mkdtemp(prefix="canvas-mock-")
        atexit.register(shutil.rmtree, folder, True)
        config["DATABASE"] = str(Path(folder) / "mock.sqlite3")
        db_note = f":memory: (a temporary file shared by the workers, deleted at exit: {config['DATABASE']})"
    try:
        # Schema, people, the session secret, the real clock and the --fault rules, once, before any
        # worker starts (workers join this state; they do not reset it).
        app = create_app({**config, "FAULTS": faults})
    except (sqlite3.Error, OSError) as err:  # an unusable database path: a missing folder, no rights, not SQLite
        raise UsageError(f"cannot open the database {args.db}: {err}") from None
    except Exception as err:  # anything else the mock refuses at start-up, said in one line
        raise UsageError(f"cannot start the mock: {type(err).__name__}: {err}") from None
    warning = secret_warning(args.host, config["CLIENT_SECRET"], DEFAULTS["CLIENT_SECRET"])
    if warning:
        print(warning, file=sys.stderr, flush=True)
    secret_note = "(as given)" if args.client_secret else DEFAULTS["CLIENT_SECRET"] + " (the mock's development default)"

    def banner(url: str) -> str:
        return (f"Canvas mock server at {url}\n"
                f"  token:     POST {url}/auth/token/ (grant_type=client_credentials)\n"
                f"  client id: {client_id}\n"
                f"  secret:    {secret_note}\n"
                f"  database:  {db_note}\n"
                f"  profile:   {args.profile}\n"
                f"  server:    {args.server}, {workers} worker process(es) x {args.threads} thread(s)\n"
                + (f"  faults:    {len(args.fault)} rule(s) in force: {'; '.join(args.fault)}\n" if args.fault else "")
                + "Stop with Ctrl-C.")

    if args.server == "waitress":
        return _run_waitress(app, args, banner)
    app.extensions["mock_store"].close()
    from mock_server.serve import serve_workers

    def ready(url: str) -> None:
        print(banner(url), flush=True)

    def failed(reason: str) -> None:
        print(f"canvas-conformance serve: {reason}", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)

    try:
        serve_workers({**config, "ACCESS_LOG": args.access_log}, host=args.host, port=args.port,
                      workers=workers, threads=args.threads, on_ready=ready, on_failure=failed)
    except OSError as err:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}") from None
    except KeyboardInterrupt:
        pass
    return 0


def _run_waitress(app, args, banner) -> int:
    from mock_server.accesslog import AccessLog
    from mock_server.serve import bound_url, make_server

    if args.access_log:
        app.wsgi_app = AccessLog(app.wsgi_app)
    try:
        server = make_server(app, host=args.host, port=args.port, threads=args.threads)
    except OSError as err:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}") from None
    print(banner(bound_url(server)), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.close() or sys.exit(0))
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0

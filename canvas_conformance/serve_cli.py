"""``canvas-conformance serve``: the mock server in the foreground, for client developers and CI.

The mock (Flask, waitress) is imported by the handler only, so building the command's grammar,
as every ``canvas-conformance`` invocation does, never loads it; the options the mock defaults
(client id, token lifetime) are left unset here and take the mock's own ``DEFAULTS``.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from platformdirs import user_data_dir

from .errors import UsageError


def default_db() -> str:
    return str(Path(user_data_dir("canvas-conformance")) / "mock.sqlite3")


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="run the reference mock server",
                       description="Serve the reference mock of Canvas's Communication API with waitress.")
    p.add_argument("--host", default=os.environ.get("CANVAS_MOCK_HOST", "127.0.0.1"),
                   help="address to bind (default 127.0.0.1; env CANVAS_MOCK_HOST)")
    p.add_argument("--port", type=int, default=int(os.environ.get("CANVAS_MOCK_PORT", "8000")),
                   help="port to bind, 0 for a free one (default 8000; env CANVAS_MOCK_PORT)")
    p.add_argument("--db", default=os.environ.get("CANVAS_MOCK_DB") or default_db(),
                   help="SQLite file that keeps messages across restarts, or :memory: (env CANVAS_MOCK_DB; "
                        "default in the user's data folder)")
    p.add_argument("--client-id", default=os.environ.get("CANVAS_MOCK_CLIENT_ID"),
                   help="OAuth client id the mock accepts (env CANVAS_MOCK_CLIENT_ID; default: the mock's "
                        "development client id)")
    p.add_argument("--client-secret", default=os.environ.get("CANVAS_MOCK_CLIENT_SECRET"),
                   help="OAuth client secret the mock accepts (default: the mock's published development secret)")
    p.add_argument("--token-lifetime", type=int,
                   help="seconds a bearer token lives (default: the mock's token lifetime)")
    p.add_argument("--base-url", default=os.environ.get("CANVAS_MOCK_BASE_URL"),
                   help="absolute base URL for Location headers and links (default: from each request)")
    p.add_argument("--threads", type=int, default=8, help="worker threads (default %(default)s)")
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


def run(args: argparse.Namespace) -> int:
    from mock_server import DEFAULTS, create_app
    from mock_server.faults import FaultError, rule_from_spec
    from mock_server.serve import bound_url, make_server

    client_id = args.client_id or DEFAULTS["CLIENT_ID"]
    config = {
        "DATABASE": args.db,
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": args.client_secret or DEFAULTS["CLIENT_SECRET"],
        "TOKEN_LIFETIME": DEFAULTS["TOKEN_LIFETIME"] if args.token_lifetime is None else args.token_lifetime,
        "BASE_URL": args.base_url,
    }
    if config["TOKEN_LIFETIME"] <= 0:
        raise UsageError("--token-lifetime must be a positive number of seconds")
    try:
        config["FAULTS"] = [rule_from_spec(spec) for spec in args.fault]
    except FaultError as err:
        raise UsageError(f"--fault: {err}") from None
    try:
        app = create_app(config)
    except Exception as err:  # an unusable database path, mostly
        raise UsageError(f"cannot open the database {args.db}: {err}") from None
    try:
        server = make_server(app, host=args.host, port=args.port, threads=args.threads)
    except OSError as err:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}") from None
    url = bound_url(server)
    secret_note = "(as given)" if args.client_secret else DEFAULTS["CLIENT_SECRET"] + " (the mock's development default)"
    print(f"Canvas mock server at {url}\n"
          f"  token:     POST {url}/auth/token/ (grant_type=client_credentials)\n"
          f"  client id: {client_id}\n"
          f"  secret:    {secret_note}\n"
          f"  database:  {args.db}\n"
          + (f"  faults:    {len(args.fault)} rule(s) in force: {'; '.join(args.fault)}\n" if args.fault else "")
          + "Stop with Ctrl-C.", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.close() or sys.exit(0))
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0

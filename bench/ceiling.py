"""The ceiling: a trivial WSGI app answering 201, served exactly as ``serve`` serves the mock.

Why: the mock can never be faster than the server it runs on. This app does no work at all, so
its throughput and latency under ``mock_server.serve.make_server`` (same waitress settings, same
thread count) is the most the mock could reach on this machine; bench/RESULTS.md reports the
mock's create throughput as a share of it.

Run: ``python bench/ceiling.py [--port 0] [--threads 8]``; prints ``Ceiling server at <url>``.
"""
from __future__ import annotations

import argparse
import signal
import sys

import logging

from mock_server.serve import bound_url, make_server


def trivial_app(environ, start_response):
    """Read the body (as the mock does) and answer 201 with an empty body and a Location."""
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("201 Created", [("Content-Length", "0"),
                                   ("Location", "http://127.0.0.1/Communication/0")])
    return [b""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # as create_app does for the mock
    server = make_server(trivial_app, host="127.0.0.1", port=args.port, threads=args.threads)
    print(f"Ceiling server at {bound_url(server)}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.close() or sys.exit(0))
    try:
        server.run()
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The bare Flask app: the most any Flask app can reach on ``serve``'s server and workers.

A Flask app whose views do no work (create reads the body and answers 201 with a Location; read
and search answer a small fixed JSON), served by ``mock_server.serve.serve_workers``, exactly as
``serve`` serves the mock: same granian settings, workers and threads. bench/RESULTS.md puts the
mock's figures beside these.

Run: ``python bench/bare_flask.py [--port 0] [--workers N] [--threads 4]``; prints ``... at <url>``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BODY = {"resourceType": "Communication", "id": "0", "status": "unknown"}


def create():
    from flask import Flask, request

    app = Flask(__name__)

    @app.post("/Communication")
    def made():
        request.get_data()
        return "", 201, {"Location": "http://127.0.0.1/Communication/0"}

    @app.get("/Communication/<message_id>")
    def read(message_id):
        return BODY

    @app.get("/Communication")
    def search():
        return {"resourceType": "Bundle", "type": "searchset", "total": 1, "entry": [{"resource": BODY}]}

    @app.get("/metadata")
    def metadata():
        return {"resourceType": "CapabilityStatement"}

    @app.get("/_mock/faults")
    def probe():  # serve_workers' readiness probe asks this path
        return "", 401

    return app


def main() -> int:
    from mock_server.serve import default_workers, serve_workers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    serve_workers({}, target="bare_flask:create", host="127.0.0.1", port=args.port, workers=args.workers,
                  threads=args.threads, on_ready=lambda url: print(f"Bare Flask app at {url}", flush=True),
                  on_failure=lambda reason: print(reason, file=sys.stderr, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

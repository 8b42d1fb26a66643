"""Slow and idle clients do not lock others out of ``serve``.

Before granian, waitress served at most 100 connections and had no deadline for a request's
headers: 100 clients trickling their headers (or idling on keep-alive) locked every other client
out. Here 150 connections send their headers one byte at a time (a few seconds, bounded) or sit
idle after a request, and a normal client is still answered, within its time-out.
"""
from __future__ import annotations

import socket
import time

import pytest
import requests

CONNECTIONS = 150
TRICKLE_SECONDS = 3.0  # how long the slow clients trickle; the test's own bound
REQUEST = b"GET /metadata HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-client\r\nAccept: */*\r\n\r\n"


def open_connections(base_url: str, n: int) -> list[socket.socket]:
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    sockets = []
    for _ in range(n):
        conn = socket.create_connection((host, int(port)), timeout=5)
        sockets.append(conn)
    return sockets


@pytest.mark.slow
def test_clients_trickling_their_headers_do_not_lock_others_out(serve_process):
    server = serve_process("--workers", "2")
    slow = open_connections(server.base_url, CONNECTIONS)
    answered = []
    try:
        deadline = time.monotonic() + TRICKLE_SECONDS
        sent = 0
        while time.monotonic() < deadline and sent < len(REQUEST) - 4:  # never the final blank line
            for conn in slow:
                try:
                    conn.send(REQUEST[sent:sent + 1])
                except OSError:
                    pass  # a connection the server closed is no longer holding anything
            sent += 1
            if sent == 10:  # every slow client is mid-headers: now a normal client
                answered.append(requests.get(f"{server.base_url}/metadata", timeout=5))
            time.sleep(0.02)
        answered.append(requests.get(f"{server.base_url}/metadata", timeout=5))
    finally:
        for conn in slow:
            conn.close()
    assert [a.status_code for a in answered] == [200, 200]


@pytest.mark.slow
def test_idle_keep_alive_connections_do_not_lock_others_out(serve_process):
    server = serve_process("--workers", "2")
    idle = open_connections(server.base_url, CONNECTIONS)
    try:
        for conn in idle:  # one full request each, then the connection stays open, idle
            conn.sendall(REQUEST)
        for conn in idle:
            assert conn.recv(12).startswith(b"HTTP/1.1 200")
        answers = [requests.get(f"{server.base_url}/metadata", timeout=5) for _ in range(5)]
    finally:
        for conn in idle:
            conn.close()
    assert [a.status_code for a in answers] == [200] * 5

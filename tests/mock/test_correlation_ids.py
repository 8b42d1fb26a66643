"""Correlation ids: 32 hex digits, never repeated within a process, a new prefix in a forked child."""
from __future__ import annotations

import os
import re

from mock_server.outcome import CORRELATION_HEADER, _CorrelationIds


def test_every_answer_gets_its_own_32_hex_digit_id(client, auth):
    ids = [client.get("/Communication", headers=auth).headers[CORRELATION_HEADER] for _ in range(50)]
    ids += [client.get("/metadata").headers[CORRELATION_HEADER] for _ in range(50)]
    assert len(set(ids)) == 100
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_two_processes_do_not_share_ids():
    ids = _CorrelationIds()
    first = ids()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child writes its first id and leaves at once
        os.write(write, ids().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    in_child = os.read(read, 64).decode()
    os.close(read)
    assert in_child[:16] != first[:16]  # a new random prefix after fork
    assert ids()[:16] == first[:16] and ids() != first

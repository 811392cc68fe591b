"""Unit tests do no I/O: a test here that opens a network connection fails at once."""

from __future__ import annotations

import socket
from typing import Any

import pytest


class NetworkUsedInUnitTest(AssertionError):
    pass


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family == socket.AF_UNIX:
            real_connect(sock, address)
            return
        raise NetworkUsedInUnitTest(
            f"unit tests do no I/O, but one connects to {address!r}: move it to tests/integration"
        )

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect)

"""Retry-After parsing, backoff bounds, token lifetimes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.scanner.registry.auth import token_lifetime
from app.scanner.registry.retry import backoff_delay, parse_retry_after

NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Tue, 02 Jan 2024 03:04:35 GMT", 30.0),
        ("Tue, 02 Jan 2024 03:00:00 GMT", 0.0),  # in the past: no wait
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_backoff_grows_exponentially_within_jitter() -> None:
    for retry in range(5):
        for _ in range(20):
            delay = backoff_delay(retry, 0.5)
            assert 0.25 * 2**retry <= delay <= 0.5 * 2**retry


@pytest.mark.parametrize(
    ("expires_in", "lifetime"),
    [(None, 50.0), (300, 290.0), (0, 50.0), ("300", 50.0), (12, 6.0), (3600, 3590.0)],
)
def test_token_lifetime(expires_in: object, lifetime: float) -> None:
    assert token_lifetime(expires_in) == lifetime

"""When to try a request again: backoff with jitter, and the server's `Retry-After`."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (delta-seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_delay(retry: int, base_s: float) -> float:
    """Exponential backoff for the `retry`-th retry (0-based), jittered to 50–100 %."""
    return base_s * (2**retry) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not secrecy

"""What the server accepts from a client it does not trust: header limits, request ids, echoed
text, the `Server` header, the deadline for reading a request."""

from __future__ import annotations

import random
import re
from typing import Any

# aiohttp's parser limits (handler_args). Search queries travel in the URL, so the request line
# may be long; header lines may not. Headers in total stay under MAX_HEADERS lines of
# MAX_HEADER_FIELD_BYTES (256 KiB): an unfinished request holds no more than that and its line.
MAX_REQUEST_LINE_BYTES = 64 * 1024
MAX_HEADER_FIELD_BYTES = 8 * 1024
MAX_HEADERS = 32
PARSER_LIMITS: dict[str, Any] = {
    "max_line_size": MAX_REQUEST_LINE_BYTES,
    "max_field_size": MAX_HEADER_FIELD_BYTES,
    "max_headers": MAX_HEADERS,
}

SERVER_NAME = "image-service"

_ids = random.Random()  # noqa: S311 - seeded from the OS once; ids need not be unpredictable
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id(given: str | None) -> str:
    """The caller's `X-Request-Id` when short and made of safe characters, else a new one."""
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given
    # an id to find log lines by, not a secret: no system call per request
    return f"{_ids.getrandbits(64):016x}"


# Echoed user text (ids, names, queries) in an error message: each unbroken run is cut at
# ECHO_MAX_CHARS, and the whole message at MESSAGE_MAX_CHARS (the longest message we write, the
# list of valid search labels, is under 1 KiB).
ECHO_MAX_CHARS = 256
MESSAGE_MAX_CHARS = 2048
_LONG_RUN = re.compile(rf"\S{{{ECHO_MAX_CHARS + 1},}}")


def bounded_message(message: str) -> str:
    """`message` with overlong runs of user text cut short; short messages are left as they are."""
    if len(message) <= ECHO_MAX_CHARS:
        return message
    message = _LONG_RUN.sub(lambda m: m.group()[:ECHO_MAX_CHARS] + "…", message)
    if len(message) > MESSAGE_MAX_CHARS:
        message = message[:MESSAGE_MAX_CHARS] + "…"
    return message

"""Content digests ("algorithm:hex") and their incremental checks."""

from __future__ import annotations

import hashlib
import re
from typing import Protocol

_ALGORITHMS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_DIGEST = re.compile(r"(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})\Z")


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


def is_supported_digest(digest: str) -> bool:
    """A well-formed sha256/sha384/sha512 digest."""
    return bool(_DIGEST.match(digest))


def hasher_for(digest: str) -> Hasher:
    """A fresh hash object of the digest's algorithm.

    Raises:
        ValueError: the digest is malformed or its algorithm is not one we can check.
    """
    if not is_supported_digest(digest):
        raise ValueError(f"unsupported or malformed digest {digest!r}")
    return _ALGORITHMS[digest.split(":", 1)[0]]()


def matches(data: bytes, digest: str) -> bool:
    hasher = hasher_for(digest)
    hasher.update(data)
    return f"{digest.split(':', 1)[0]}:{hasher.hexdigest()}" == digest


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()

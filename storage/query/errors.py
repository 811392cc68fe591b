"""Errors raised while parsing or translating a search query."""

from __future__ import annotations


class InvalidQuery(Exception):
    """A search query, sort option or value that cannot be honoured (maps to HTTP 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

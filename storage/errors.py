"""Storage errors: what went wrong in MongoDB, in terms the service can act on."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error raised by the storage package."""


class BadQuery(StorageError):
    """The server refused the query itself (e.g. a regular expression its engine rejects)."""


class DocumentTooLarge(StorageError):
    """A document is over MongoDB's 16 MiB limit (the image with its search copies)."""


class QueryTimeout(StorageError):
    """The operation ran past its time limit: the server's (maxTimeMS) or the service's own."""


class WriteTimeout(QueryTimeout):
    """A write ran past the service's time limit; the store may still have applied it."""


class StoreUnavailable(StorageError):
    """MongoDB could not be reached or did not answer in time."""


class ConcurrentUpdate(StorageError):
    """A document kept changing under an upsert; retries ran out."""

"""What a registry's unexpected answer means, as a ScanError that names the image."""

from __future__ import annotations

import json

from app.scanner.errors import ManifestUnknown, RegistryProtocolError
from app.scanner.reference import ImageReference
from app.scanner.registry import digests
from app.scanner.registry.transport import Fetched


def display_name(ref: ImageReference, reference: str) -> str:
    """`registry/remote:tag` or `registry/remote@digest`."""
    separator = "@" if digests.is_supported_digest(reference) else ":"
    return f"{ref.registry}/{ref.remote}{separator}{reference}"


def not_found(ref: ImageReference, reference: str, fetched: Fetched) -> ManifestUnknown:
    if "NAME_UNKNOWN" in error_codes(fetched.body):
        message = f"repository {ref.registry}/{ref.remote} not found in registry {ref.registry}"
    else:
        message = (
            f"manifest for {display_name(ref, reference)} not found in registry {ref.registry}"
        )
    return ManifestUnknown(message, registry=ref.registry)


def bad_status(
    ref: ImageReference, reference: str, fetched: Fetched, *, what: str
) -> ManifestUnknown | RegistryProtocolError:
    """A manifest or blob answer other than 200."""
    host = ref.registry
    if fetched.status == 404 and what == "manifest":
        return not_found(ref, reference, fetched)
    if fetched.status == 404:
        return ManifestUnknown(
            f"{what} {reference} of {ref.registry}/{ref.remote} not found in registry {host}",
            registry=host,
        )
    detail = "; ".join(error_codes(fetched.body).values())
    return RegistryProtocolError(
        f"registry {host} answered HTTP {fetched.status} for the {what} of "
        f"{display_name(ref, reference)}" + (f": {detail}" if detail else ""),
        registry=host,
    )


def error_codes(body: bytes) -> dict[str, str]:
    """The distribution error codes of an error answer, with their messages."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list):
        return {}
    return {
        str(error.get("code")): str(error.get("message") or error.get("code"))
        for error in errors
        if isinstance(error, dict) and error.get("code")
    }

"""TLS on the listener: a server context whose certificate is read again when its files change."""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path

logger = logging.getLogger(__name__)

# How often the certificate and key files are checked for a change (a renewed certificate, a
# Kubernetes Secret updated in place).
POLL_S = 5.0


def _server_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class ReloadingCertificate:
    """A server SSLContext kept in step with a PEM certificate (chain) and key on disk.

    New handshakes use a changed certificate; connections already open keep theirs. A change
    that does not load (a half-written pair, a key not matching) keeps the current one.

    Raises (on construction):
        OSError: a file cannot be read.
        ssl.SSLError: the files are not a certificate and its key.
    """

    def __init__(self, certificate: str | Path, key: str | Path, *, poll_s: float = POLL_S):
        self._files = (Path(certificate), Path(key))
        self._poll_s = poll_s
        self.context = _server_context()
        self._stamp = self._stamps()
        self.context.load_cert_chain(*self._files)

    def _stamps(self) -> tuple[tuple[int, int], ...]:
        return tuple((s.st_mtime_ns, s.st_size) for s in (f.stat() for f in self._files))

    def reload_if_changed(self) -> bool:
        """Load the files again if either changed since last read; True when a new pair is used."""
        try:
            stamp = self._stamps()
        except OSError as exc:
            logger.warning("TLS certificate not checked, keeping the current one: %s", exc)
            return False
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            # a scratch context first: loading a bad pair into the live one could leave it with
            # a certificate and a key that do not belong together
            _server_context().load_cert_chain(*self._files)
            self.context.load_cert_chain(*self._files)
        except (OSError, ssl.SSLError) as exc:
            logger.warning(
                "TLS certificate changed but does not load, keeping the current one: %s", exc
            )
            return False
        logger.info("TLS certificate reloaded from %s", self._files[0])
        return True

    async def watch(self) -> None:
        """Check the files every `poll_s` seconds, until cancelled."""
        while True:
            await asyncio.sleep(self._poll_s)
            self.reload_if_changed()

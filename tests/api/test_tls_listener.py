"""TLS on the listener: real handshakes on loopback, and a certificate replaced on disk."""

from __future__ import annotations

import asyncio
import os
import ssl
import uuid
from pathlib import Path

import aiohttp
import pytest

from app.config import Settings
from app.tls import ReloadingCertificate
from tests.support.certificates import KeyPair, certificate_authority, server_certificate
from tests.support.raw_http import served
from tests.support.stores import MongomockDatabase


def trusting(ca: KeyPair) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=ca.certificate_pem.decode())


async def livez(url: str, context: ssl.SSLContext) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{url}/livez", ssl=context) as response,
    ):
        return response.status


def replace_pair(pair: KeyPair, directory: Path) -> None:
    certificate, key = pair.write(directory, "server")
    later = os.stat(certificate).st_mtime_ns + 1_000_000_000  # a distinct stamp on any clock
    for path in (certificate, key):
        os.utime(path, ns=(later, later))


@pytest.fixture
def settings() -> Settings:
    return Settings(mongodb_uri="mongodb://127.0.0.1:1/unused", reprocess_interval_s=0)


async def test_tls_listener_reloads_a_changed_certificate(
    settings: Settings, tmp_path: Path
) -> None:
    first_ca, second_ca = certificate_authority("first CA"), certificate_authority("second CA")
    certificate, key = server_certificate(first_ca).write(tmp_path, "server")
    reloading = ReloadingCertificate(certificate, key, poll_s=0.05)
    db = MongomockDatabase(f"t_{uuid.uuid4().hex[:12]}")
    async with served(settings, db, ssl_context=reloading.context) as server:
        url = f"https://127.0.0.1:{server.port}"
        watcher = asyncio.create_task(reloading.watch())
        try:
            assert await livez(url, trusting(first_ca)) == 200
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await livez(url, trusting(second_ca))

            replace_pair(server_certificate(second_ca), tmp_path)
            await asyncio.sleep(0.5)
            assert await livez(url, trusting(second_ca)) == 200
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await livez(url, trusting(first_ca))

            # a key that does not belong to the certificate: the current pair stays in use
            (tmp_path / "server.key").write_bytes(server_certificate(first_ca).key_pem)
            os.utime(tmp_path / "server.key", ns=(1, 1))
            await asyncio.sleep(0.5)
            assert await livez(url, trusting(second_ca)) == 200
        finally:
            watcher.cancel()


def test_a_bad_pair_is_refused_at_start(tmp_path: Path) -> None:
    ca = certificate_authority()
    certificate, _ = server_certificate(ca).write(tmp_path, "one")
    _, other_key = server_certificate(ca).write(tmp_path, "two")
    with pytest.raises(ssl.SSLError):
        ReloadingCertificate(certificate, other_key)
    with pytest.raises(OSError, match="missing"):
        ReloadingCertificate(tmp_path / "missing.crt", other_key)

"""Which URL a registry name is reached at."""

from __future__ import annotations

import pytest

from app.scanner.registry.settings import RegistrySettings
from app.scanner.registry.transport import Transport


@pytest.mark.parametrize(
    ("registry", "url"),
    [
        ("docker.io", "https://registry-1.docker.io"),
        ("quay.io", "https://quay.io"),
        ("127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("registry.local", "http://registry.local"),
        ("registry.local:8443", "https://registry.local:8443"),
    ],
)
def test_base_url(registry: str, url: str) -> None:
    settings = RegistrySettings(insecure_registries=frozenset({"127.0.0.1:5000", "registry.local"}))
    assert str(Transport(settings).base_url(registry)) == url


def test_bad_ca_bundle_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot load the registry CA bundle"):
        Transport(RegistrySettings(ca_bundle="/nonexistent/ca.pem"))

"""The outbound policy as pure code: address classes, listed names, allowed networks, the
resolver's verdict on a (fake) lookup, and the allow-list setting."""

from __future__ import annotations

import socket
from ipaddress import ip_address
from pathlib import Path

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from app.scanner.registry.outbound import (
    GuardedResolver,
    OutboundPolicy,
    RefusedDestination,
    address_class,
    address_literal,
)
from app.scanner.registry.settings import RegistrySettings, registry_settings_from_env
from app.scanner.registry.transport import Transport


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", "public"),
        ("2606:4700:4700::1111", "public"),
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%2", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fec0::1", "private"),
        ("100.64.0.1", "shared"),
        ("100.127.255.255", "shared"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:8.8.8.8", "public"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 around 169.254.169.254
        ("64:ff9b::808:808", "public"),
        ("::7f00:1", "reserved"),  # IPv4-compatible (deprecated) 127.0.0.1
    ],
)
def test_address_class(address: str, kind: str) -> None:
    assert address_class(ip_address(address)) == kind


@pytest.mark.parametrize(
    "address",
    ["240.0.0.1", "255.255.255.255", "192.0.2.1", "198.18.0.1", "2001:db8::1", "100::1"],
)
def test_special_purpose_ranges_are_refused(address: str) -> None:
    # reserved, broadcast, documentation, benchmarking, discard: which label Python's
    # ipaddress gives them varies between versions; refused they are in every one
    assert address_class(ip_address(address)) != "public"


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("127.1", "127.0.0.1"),  # legacy forms that socket APIs accept
        ("2130706433", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("registry.example", None),
        ("localhost", None),
        ("0x7f.1", None),  # left to the resolver, which checks what it resolves to
        ("", None),
        ("1.2.3.4.5", None),
    ],
)
def test_address_literal(host: str, address: str | None) -> None:
    found = address_literal(host)
    assert (str(found) if found is not None else None) == address


POLICY = OutboundPolicy.build(
    ["127.0.0.1:5000", "registry.internal"],
    ["[::1]:5001", "mirror.local:8443", "10.20.0.0/16", "fd00:1::/64"],
)


@pytest.mark.parametrize(
    ("host", "port", "listed"),
    [
        ("127.0.0.1", 5000, True),
        ("127.0.0.1", 5001, False),
        ("registry.internal", 443, True),  # no port listed: every port
        ("Registry.Internal", 80, True),
        ("::1", 5001, True),
        ("::1", 5000, False),
        ("mirror.local", 8443, True),
        ("mirror.local", 443, False),
        ("10.20.0.1", 443, False),  # networks allow addresses, they list no name
        ("localhost", 5000, False),
    ],
)
def test_listed_names(host: str, port: int, listed: bool) -> None:
    assert POLICY.is_listed(host, port) is listed


@pytest.mark.parametrize(
    ("host", "port", "addresses", "refusal"),
    [
        ("registry.example", 443, ["93.184.216.34"], None),
        ("registry.example", 443, ["93.184.216.34", "127.0.0.1"], "loopback"),  # any one
        ("evil.example", 443, ["169.254.169.254"], "link-local"),
        ("registry.internal", 443, ["10.0.0.1"], None),  # listed by name
        ("127.0.0.1", 5000, ["127.0.0.1"], None),
        ("127.0.0.1", 5001, ["127.0.0.1"], "loopback"),
        ("ci.example", 443, ["10.20.3.4"], None),  # inside 10.20.0.0/16
        ("ci.example", 443, ["10.21.3.4"], "private"),
        ("ci.example", 443, ["fd00:1::5"], None),  # inside fd00:1::/64
        ("ci.example", 443, ["fd00:2::5"], "private"),
        ("ci.example", 443, ["::ffff:10.20.3.4"], "private"),  # a v6 form is not in a v4 net
    ],
)
def test_refusal(host: str, port: int, addresses: list[str], refusal: str | None) -> None:
    assert POLICY.refusal(host, port, [ip_address(a) for a in addresses]) == refusal


def test_literal_urls_are_checked_and_names_left_to_the_resolver() -> None:
    POLICY.check_literal(URL("http://127.0.0.1:5000/v2/"))
    POLICY.check_literal(URL("https://localhost/v2/"))
    POLICY.check_literal(URL("https://8.8.8.8/v2/"))
    for url in (
        "http://127.0.0.1:5001/",
        "https://[::1]/",
        "http://169.254.169.254/",
        "http://127.1/",
    ):
        with pytest.raises(RefusedDestination):
            POLICY.check_literal(URL(url))


class _FakeResolver(AbstractResolver):
    def __init__(self, answers: dict[str, list[str]]):
        self.answers = answers
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=socket.AF_INET, proto=0, flags=0)
            for a in self.answers[host]
        ]

    async def close(self) -> None:
        self.closed = True


async def test_the_resolver_passes_public_answers_and_refuses_internal_ones() -> None:
    inner = _FakeResolver(
        {
            "public.example": ["93.184.216.34"],
            "rebind.example": ["93.184.216.34", "127.0.0.1"],
            "registry.internal": ["10.9.9.9"],
        }
    )
    resolver = GuardedResolver(POLICY, inner)
    answer = await resolver.resolve("public.example", 443)
    assert [r["host"] for r in answer] == ["93.184.216.34"]
    assert [r["host"] for r in await resolver.resolve("registry.internal", 443)] == ["10.9.9.9"]
    with pytest.raises(RefusedDestination) as caught:
        await resolver.resolve("rebind.example", 443)
    assert (caught.value.host, caught.value.port, caught.value.kind) == (
        "rebind.example",
        443,
        "loopback",
    )
    assert not isinstance(caught.value, OSError)  # aiohttp would wrap an OSError as a DNS error
    await resolver.close()
    assert inner.closed


def test_the_allowlist_setting(tmp_path: Path) -> None:
    settings = registry_settings_from_env(
        {
            "HOME": str(tmp_path),
            "IMAGE_SERVICE_REGISTRY_ALLOWLIST": " Mirror.Local:8443, 10.20.1.2/16 ,,[::1]:5000,"
            "FD00:1::/64",
        }
    )
    assert settings.allowlist == frozenset(
        {"mirror.local:8443", "10.20.0.0/16", "[::1]:5000", "fd00:1::/64"}
    )


def test_a_bad_allowlist_entry_is_reported(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "IMAGE_SERVICE_REGISTRY_ALLOWLIST": "10.0.0.0/33,a b"}
    with pytest.raises(ValueError, match="IMAGE_SERVICE_REGISTRY_ALLOWLIST") as caught:
        registry_settings_from_env(env)
    assert "'10.0.0.0/33' is neither a host[:port] nor a CIDR" in str(caught.value)
    assert "'a b' is not a host[:port]" in str(caught.value)


def test_credentials_go_to_https_realms_and_listed_hosts_only() -> None:
    transport = Transport(
        RegistrySettings(
            insecure_registries=frozenset({"registry.lan:5000"}),
            allowlist=frozenset({"auth.lan", "10.0.0.0/8"}),
        )
    )
    assert transport.may_carry_credentials(URL("https://auth.example/token"))
    assert transport.may_carry_credentials(URL("http://registry.lan:5000/token"))
    assert transport.may_carry_credentials(URL("http://auth.lan:8080/token"))
    assert not transport.may_carry_credentials(URL("http://auth.example/token"))
    assert not transport.may_carry_credentials(URL("http://registry.lan:5001/token"))
    assert not transport.may_carry_credentials(URL("http://10.1.2.3/token"))  # a network only

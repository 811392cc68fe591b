"""Where scanning may connect: public addresses, and what the operator allowed.

A registry, token realm or redirect target whose host is, or resolves to, a loopback,
link-local, private, shared (CGNAT), multicast, unspecified or reserved address is refused
before any connection is opened, unless its `host[:port]` is listed (the insecure registries
and the allow-list) or the address lies in a CIDR of the allow-list. Names are checked in the
session's resolver, so the address connected to is the one checked: there is no second lookup
that a rebinding DNS server could answer differently.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

log = logging.getLogger(__name__)

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

PUBLIC = "public"
_SHARED = IPv4Network("100.64.0.0/10")  # carrier-grade NAT, not global, not "private" either
_NAT64 = IPv6Network("64:ff9b::/96")  # reaches the embedded IPv4 address through a NAT64


class RefusedDestination(Exception):
    """A connection the policy refuses; `kind` says why (for the log, never for the client)."""

    def __init__(self, host: str, port: int | None, kind: str):
        super().__init__(f"{host}:{port} is a {kind} address")
        self.host = host
        self.port = port
        self.kind = kind


def address_class(address: Address) -> str:
    """ "public", or why the address is refused: "unspecified", "loopback", "link-local",
    "multicast", "shared", "private" or "reserved"."""
    if isinstance(address, IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_class(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, IPv4Address) and address in _SHARED:
        return "shared"
    if address.is_private or (isinstance(address, IPv6Address) and address.is_site_local):
        return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return PUBLIC


def address_literal(host: str) -> Address | None:
    """The address when `host` is an IP literal (as yarl gives it: IPv6 without brackets),
    including legacy IPv4 forms such as `127.1` or `2130706433`, which socket APIs accept."""
    try:
        return ip_address(host)
    except ValueError:
        pass
    if not host or host.strip("0123456789."):
        return None
    try:
        return IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def parse_network(entry: str) -> Network:
    """A CIDR entry of the allow-list (host bits may be set).

    Raises:
        ValueError: not a CIDR.
    """
    return ip_network(entry, strict=False)


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """Listed `host[:port]` names (lower case, IPv6 in brackets) and allowed networks."""

    listed: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def build(cls, *entry_lists: Iterable[str]) -> OutboundPolicy:
        """From `host[:port]` and CIDR entries (a `/` marks a CIDR).

        Raises:
            ValueError: a CIDR entry that does not parse.
        """
        listed: set[str] = set()
        networks: list[Network] = []
        for entries in entry_lists:
            for entry in entries:
                if "/" in entry:
                    networks.append(parse_network(entry))
                else:
                    listed.add(entry.strip().lower())
        return cls(frozenset(listed), tuple(networks))

    def is_listed(self, host: str, port: int | None) -> bool:
        """Whether `host` is named, with this port or without one (which allows every port)."""
        name = (f"[{host}]" if ":" in host else host).lower()
        return name in self.listed or (port is not None and f"{name}:{port}" in self.listed)

    def refusal(self, host: str, port: int | None, addresses: Iterable[Address]) -> str | None:
        """None when a connection to `host` at these addresses may go ahead, else the class
        of the first refused address. Every address must pass: a name cannot mix a public
        address with an internal one to slip through."""
        if self.is_listed(host, port):
            return None
        for address in addresses:
            kind = address_class(address)
            if kind != PUBLIC and not self._in_networks(address):
                return kind
        return None

    def check_literal(self, url: URL) -> None:
        """Refuse a URL whose host is an address literal (aiohttp connects to those without
        asking the resolver); names are left to `GuardedResolver`.

        Raises:
            RefusedDestination: the address is internal and not allowed.
        """
        host = url.host or ""
        address = address_literal(host)
        if address is None:
            return
        kind = self.refusal(host, url.port, [address])
        if kind is not None:
            raise RefusedDestination(host, url.port, kind)

    def _in_networks(self, address: Address) -> bool:
        return any(
            address.version == network.version and address in network for network in self.networks
        )


class GuardedResolver(AbstractResolver):
    """Resolves with getaddrinfo, then refuses the whole answer if the policy refuses any of it."""

    def __init__(self, policy: OutboundPolicy, inner: AbstractResolver | None = None):
        self._policy = policy
        self._inner = inner or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Raises: RefusedDestination (not an OSError, so aiohttp passes it through as is)."""
        results = await self._inner.resolve(host, port, family)
        addresses = [ip_address(result["host"]) for result in results]
        kind = self._policy.refusal(host, port, addresses)
        if kind is not None:
            log.info("refused a connection to %s:%s: it resolves to a %s address", host, port, kind)
            raise RefusedDestination(host, port, kind)
        return results

    async def close(self) -> None:
        await self._inner.close()

"""Platforms ("os/arch[/variant]") and choosing one manifest out of an index or list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "i386": "386"}
# The variant an architecture means when none is written ("linux/arm64" is "linux/arm64/v8").
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7", "amd64": "v1"}

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse "os/arch[/variant]".

        Raises:
            ValueError: not two or three non-empty parts.
        """
        parts = text.strip().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"platform must look like os/arch[/variant], not {text!r}")
        return cls(*parts)

    @classmethod
    def from_descriptor(cls, platform: Mapping[str, Any]) -> Platform:
        """From an index entry's `platform` object (missing fields read as empty)."""
        return cls(
            os=str(platform.get("os") or ""),
            architecture=str(platform.get("architecture") or ""),
            variant=str(platform.get("variant") or ""),
        )

    def normalized(self) -> Platform:
        arch = self.architecture.lower()
        arch = _ARCH_ALIASES.get(arch, arch)
        variant = self.variant.lower() or _DEFAULT_VARIANT.get(arch, "")
        return Platform(self.os.lower(), arch, variant)

    def matches(self, other: Platform) -> bool:
        return self.normalized() == other.normalized()

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text


def choose_platform(candidates: Iterable[tuple[Platform | None, T]], wanted: Platform) -> T | None:
    """The first candidate whose platform matches `wanted`, or None."""
    for platform, value in candidates:
        if platform is not None and platform.matches(wanted):
            return value
    return None

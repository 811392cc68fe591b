"""Platform parsing, normalization and choosing one out of an index."""

from __future__ import annotations

import pytest

from app.scanner.registry.platforms import Platform, choose_platform


def test_parse_and_text() -> None:
    assert Platform.parse("linux/arm64/v8") == Platform("linux", "arm64", "v8")
    assert str(Platform.parse("linux/amd64")) == "linux/amd64"


@pytest.mark.parametrize("text", ["linux", "linux/", "/amd64", "a/b/c/d", ""])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="os/arch"):
        Platform.parse(text)


@pytest.mark.parametrize(
    ("wanted", "offered", "match"),
    [
        ("linux/arm64", "linux/arm64/v8", True),
        ("linux/arm64/v8", "linux/arm64", True),
        ("linux/arm", "linux/arm/v7", True),
        ("linux/arm/v6", "linux/arm/v7", False),
        ("linux/amd64", "linux/amd64", True),
        ("linux/amd64", "linux/amd64/v3", False),
        ("linux/x86_64", "linux/amd64", True),
        ("linux/aarch64", "linux/arm64/v8", True),
        ("linux/amd64", "windows/amd64", False),
        ("Linux/AMD64", "linux/amd64", True),
    ],
)
def test_matching(wanted: str, offered: str, match: bool) -> None:
    assert Platform.parse(wanted).matches(Platform.parse(offered)) is match


def test_choose_first_match_and_skip_entries_without_platform() -> None:
    candidates = [
        (None, "no platform"),
        (Platform("unknown", "unknown"), "attestation"),
        (Platform("linux", "arm64", "v8"), "arm"),
        (Platform("linux", "amd64"), "amd"),
        (Platform("linux", "amd64"), "second amd"),
    ]
    assert choose_platform(candidates, Platform.parse("linux/amd64")) == "amd"
    assert choose_platform(candidates, Platform.parse("linux/arm64")) == "arm"
    assert choose_platform(candidates, Platform.parse("linux/s390x")) is None


def test_from_descriptor_tolerates_missing_fields() -> None:
    assert Platform.from_descriptor({"os": "linux"}) == Platform("linux", "", "")

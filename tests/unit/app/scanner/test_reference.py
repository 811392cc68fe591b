"""Image references: Docker's normalization rules and refusals."""

from __future__ import annotations

import pytest

from app.scanner.reference import InvalidReference, parse_reference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "full_name"),
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("library/nginx:latest", "docker.io/library/nginx:latest"),
        ("docker.io/nginx:1.25", "docker.io/library/nginx:1.25"),
        ("index.docker.io/library/nginx", "docker.io/library/nginx:latest"),
        ("quay.io/org/app:v1.2-rc_3", "quay.io/org/app:v1.2-rc_3"),
        ("localhost:5000/a/b", "localhost:5000/a/b:latest"),
        ("registry.example.com:8443/team/x/y:1", "registry.example.com:8443/team/x/y:1"),
        (f"nginx@{DIGEST}", f"docker.io/library/nginx@{DIGEST}"),
        (f"quay.io/x/y:tag@{DIGEST}", f"quay.io/x/y:tag@{DIGEST}"),
    ],
)
def test_normalization(text: str, full_name: str) -> None:
    assert parse_reference(text).full_name == full_name


def test_parts() -> None:
    ref = parse_reference(f"quay.io/x/y:tag@{DIGEST}")
    assert (ref.registry, ref.remote, ref.tag, ref.digest) == ("quay.io", "x/y", "tag", DIGEST)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("Nginx", "must be lowercase"),
        ("a b", "invalid reference format"),
        ("nginx:", "invalid reference format"),
        ("nginx@sha256:abc", "invalid checksum digest format"),
        ("quay.io//x", "invalid reference format"),
        ("x" * 300, "255"),
        ("nginx:" + "t" * 129, "invalid reference format"),
    ],
)
def test_refusals(text: str, message: str) -> None:
    with pytest.raises(InvalidReference, match=message):
        parse_reference(text)

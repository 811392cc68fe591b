"""Docker config.json credentials: key forms, auth vs username/password, identity tokens."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from app.scanner.registry.credentials import (
    Credentials,
    load_credentials,
    normalize_registry_key,
    parse_auths,
)


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("key", "host"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("docker.io", "docker.io"),
        ("quay.io", "quay.io"),
        ("https://quay.io/v2/", "quay.io"),
        ("http://Registry.Example:5000/some/path", "registry.example:5000"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
    ],
)
def test_registry_keys_are_normalized(key: str, host: str) -> None:
    assert normalize_registry_key(key) == host


def test_auth_and_username_password_forms(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    auths = {
        "https://index.docker.io/v1/": {"auth": _auth("hub", "p:with:colons")},
        "quay.io": {"username": "q", "password": "qp"},
        "ghcr.io": {"username": "g", "identitytoken": "refresh-me"},
        "empty.example": {},
    }
    path.write_text(json.dumps({"auths": auths, "credsStore": "desktop"}))
    store = load_credentials(path)
    assert store.source == "config.json"
    assert store.for_registry("docker.io") == Credentials("hub", "p:with:colons")
    assert store.for_registry("registry-1.docker.io") == Credentials("hub", "p:with:colons")
    assert store.for_registry("quay.io") == Credentials("q", "qp")
    ghcr = store.for_registry("ghcr.io")
    assert ghcr is not None
    assert ghcr.identity_token == "refresh-me"
    assert not ghcr.has_password
    assert store.for_registry("empty.example") is None
    assert store.for_registry("other.example") is None


def test_bare_host_key_wins_over_url_key() -> None:
    found = parse_auths(
        {
            "docker.io": {"auth": _auth("bare", "1")},
            "https://index.docker.io/v1/": {"auth": _auth("url", "2")},
        }
    )
    assert found["docker.io"].username == "bare"


def test_secrets_stay_out_of_repr() -> None:
    text = repr(Credentials("user", "hunter2", "tok-secret"))
    assert "user" in text
    assert "hunter2" not in text
    assert "tok-secret" not in text


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"auths": []}', '{"auths": {"h": {"auth": "%%%"}}}', '{"auths": {"h": 1}}'],
)
def test_bad_files_are_refused_without_showing_secrets(tmp_path: Path, content: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="config.json") as caught:
        load_credentials(path)
    assert "%%%" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read registry credentials"):
        load_credentials(tmp_path / "absent.json")


def test_no_auths_section_means_no_credentials(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"credHelpers": {"gcr.io": "gcloud"}}')
    assert len(load_credentials(path)) == 0

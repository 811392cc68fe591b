"""registry_settings_from_env: defaults, parsing, auth file resolution, every error listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.scanner.registry.settings import RegistrySettings, registry_settings_from_env


def test_defaults(tmp_path: Path) -> None:
    assert registry_settings_from_env({"HOME": str(tmp_path)}) == RegistrySettings()


def test_values_are_read(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    settings = registry_settings_from_env(
        {
            "HOME": str(tmp_path),
            "IMAGE_SERVICE_PLATFORM": "linux/arm64/v8",
            "IMAGE_SERVICE_INSECURE_REGISTRIES": " 127.0.0.1:5000, Registry.Local ,,",
            "IMAGE_SERVICE_REGISTRY_CA_BUNDLE": str(bundle),
            "IMAGE_SERVICE_REGISTRY_TIMEOUT_S": "2.5",
            "IMAGE_SERVICE_REGISTRY_CONCURRENCY": "8",
        }
    )
    assert settings.platform == "linux/arm64/v8"
    assert settings.insecure_registries == frozenset({"127.0.0.1:5000", "registry.local"})
    assert settings.ca_bundle == str(bundle)
    assert settings.request_timeout_s == 2.5
    assert settings.per_registry_concurrency == 8


def _config_json(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text('{"auths": {}}')
    return path


def test_auth_file_resolution_order(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home_config = _config_json(home / ".docker")
    docker_config = _config_json(tmp_path / "docker-config")
    explicit = _config_json(tmp_path / "explicit")
    env = {"HOME": str(home)}
    assert registry_settings_from_env(env).auth_file == str(home_config)
    env["DOCKER_CONFIG"] = str(docker_config.parent)
    assert registry_settings_from_env(env).auth_file == str(docker_config)
    env["REGISTRY_AUTH_FILE"] = str(explicit)
    assert registry_settings_from_env(env).auth_file == str(explicit)


def test_docker_config_without_file_falls_back_to_home(tmp_path: Path) -> None:
    home_config = _config_json(tmp_path / "home" / ".docker")
    env = {"HOME": str(tmp_path / "home"), "DOCKER_CONFIG": str(tmp_path / "empty")}
    assert registry_settings_from_env(env).auth_file == str(home_config)


def test_no_auth_file_anywhere(tmp_path: Path) -> None:
    assert registry_settings_from_env({"HOME": str(tmp_path)}).auth_file is None


def test_every_bad_value_is_listed(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "IMAGE_SERVICE_PLATFORM": "amd64",
        "IMAGE_SERVICE_INSECURE_REGISTRIES": "http://a:5000/x",
        "IMAGE_SERVICE_REGISTRY_CA_BUNDLE": str(tmp_path / "missing.pem"),
        "REGISTRY_AUTH_FILE": str(tmp_path / "missing.json"),
        "IMAGE_SERVICE_REGISTRY_TIMEOUT_S": "-1",
        "IMAGE_SERVICE_REGISTRY_CONCURRENCY": "many",
    }
    with pytest.raises(ValueError, match="invalid registry settings") as caught:
        registry_settings_from_env(env)
    message = str(caught.value)
    for name in env.keys() - {"HOME"}:
        assert name in message


@pytest.mark.parametrize("value", ["0", "nan", "inf", "x"])
def test_timeout_must_be_positive_and_finite(tmp_path: Path, value: str) -> None:
    with pytest.raises(ValueError, match="IMAGE_SERVICE_REGISTRY_TIMEOUT_S"):
        registry_settings_from_env(
            {"HOME": str(tmp_path), "IMAGE_SERVICE_REGISTRY_TIMEOUT_S": value}
        )

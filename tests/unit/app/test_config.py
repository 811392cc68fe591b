"""Settings from the environment: defaults, the database from the URI, every error at once."""

from __future__ import annotations

import pytest

from app.composition import layer_analysis
from app.config import Settings, SettingsError, load_settings
from app.cores import available_cores
from app.scanner.layers.analysis import InThread
from app.scanner.layers.workers import WorkerPool


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.database == "image_service"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)


def test_values_and_database_from_uri() -> None:
    settings = load_settings(
        {
            "MONGODB_URI": "mongodb://db-0.db:27017,db-1.db:27017/inventory?replicaSet=rs0",
            "IMAGE_SERVICE_HOST": "0.0.0.0",
            "IMAGE_SERVICE_PORT": "9000",
            "IMAGE_SERVICE_REGEX_MAX_LENGTH": "64",
        }
    )
    assert settings.database == "inventory"
    assert settings.port == 9000
    assert settings.regex_max_length == 64
    assert settings.with_overrides(port=None, host="::1").host == "::1"


def test_every_bad_variable_is_reported() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(
            {
                "MONGODB_URI": "postgres://x",
                "IMAGE_SERVICE_PORT": "http",
                "IMAGE_SERVICE_EXPORT_BATCH_SIZE": "0",
                "IMAGE_SERVICE_LOG_LEVEL": "LOUD",
            }
        )
    message = str(error.value)
    assert "MONGODB_URI" in message
    assert "IMAGE_SERVICE_PORT" in message
    assert "IMAGE_SERVICE_EXPORT_BATCH_SIZE" in message
    assert "IMAGE_SERVICE_LOG_LEVEL" in message


def test_admission_budgets_from_the_environment() -> None:
    settings = load_settings(
        {
            "IMAGE_SERVICE_MAX_IN_FLIGHT": "8",
            "IMAGE_SERVICE_MAX_QUEUED": "0",
            "IMAGE_SERVICE_QUEUE_WAIT": "500ms",
            "IMAGE_SERVICE_MAX_EXPORTS": "2",
            "IMAGE_SERVICE_TARGET_LATENCY": "0",
        }
    )
    assert settings.target_latency_s == 0
    assert (settings.max_in_flight, settings.max_queued) == (8, 0)
    assert (settings.queue_wait_s, settings.max_exports) == (0.5, 2)
    with pytest.raises(SettingsError, match="IMAGE_SERVICE_MAX_IN_FLIGHT must be >= 1"):
        load_settings({"IMAGE_SERVICE_MAX_IN_FLIGHT": "0"})


def test_scan_workers_default_to_the_cores_and_zero_means_threads() -> None:
    cores = available_cores()
    assert load_settings({}).scan_workers == cores
    assert Settings().scan_workers == cores
    assert load_settings({"IMAGE_SERVICE_SCAN_WORKERS": "0"}).scan_workers == 0
    assert isinstance(layer_analysis(load_settings({"IMAGE_SERVICE_SCAN_WORKERS": "0"})), InThread)
    pool = layer_analysis(load_settings({"IMAGE_SERVICE_SCAN_WORKERS": "3"}))
    assert isinstance(pool, WorkerPool)
    assert pool.size == 3
    assert pool.pids == []  # nothing started until a layer needs it
    with pytest.raises(SettingsError, match="IMAGE_SERVICE_SCAN_WORKERS must be >= 0"):
        load_settings({"IMAGE_SERVICE_SCAN_WORKERS": "-1"})

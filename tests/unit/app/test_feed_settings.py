"""The feed's settings: osv.dev's bucket by default, the sync off, URLs that cannot leak."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.config import OSV_BUCKET_URL, SettingsError, load_settings
from app.services.feed_status import FeedSnapshot, FeedStatus
from app.services.feed_sync import default_ecosystems


def test_defaults_sync_nothing_by_themselves() -> None:
    settings = load_settings({})
    assert settings.vulndb_url == OSV_BUCKET_URL
    assert settings.vulndb_ecosystems == ()
    assert settings.vulndb_sync_interval_s == 0
    assert settings.vulndb_max_age_s == 0
    # the default ecosystems: those the matcher compares, as osv.dev names its directories
    assert {"Debian", "Ubuntu", "Alpine", "PyPI", "npm"} <= set(default_ecosystems())
    assert "GIT" not in default_ecosystems()


def test_values() -> None:
    settings = load_settings(
        {
            "IMAGE_SERVICE_VULNDB_URL": "https://mirror.example.com/osv/",
            "IMAGE_SERVICE_VULNDB_ECOSYSTEMS": "Debian, Rocky Linux,,PyPI,Debian",
            "IMAGE_SERVICE_VULNDB_SYNC_INTERVAL": "6h",
            "IMAGE_SERVICE_VULNDB_MAX_AGE": "48h",
            "IMAGE_SERVICE_VULNDB_MAX_DOWNLOAD_BYTES": "1000000",
            "IMAGE_SERVICE_VULNDB_DOWNLOAD_TIMEOUT": "5m",
        }
    )
    assert settings.vulndb_url == "https://mirror.example.com/osv"
    assert settings.vulndb_ecosystems == ("Debian", "Rocky Linux", "PyPI")
    assert settings.vulndb_sync_interval_s == 6 * 3600
    assert settings.vulndb_max_age_s == 48 * 3600
    assert settings.vulndb_max_download_bytes == 1_000_000
    assert settings.vulndb_download_timeout_s == 300


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://mirror.example.com", "not an http(s) URL with a host"),
        ("https://", "not an http(s) URL with a host"),
        ("https://user:secret@mirror.example.com", "must not carry credentials"),
        ("https://mirror.example.com/?token=secret", "must not have a query"),
    ],
)
def test_a_feed_url_that_could_leak_or_not_work_is_refused(url: str, problem: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({"IMAGE_SERVICE_VULNDB_URL": url})
    assert problem in str(error.value)
    assert "secret" not in str(error.value)


def test_bad_ecosystems_and_durations_are_reported_together() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(
            {
                "IMAGE_SERVICE_VULNDB_ECOSYSTEMS": "Debian,../etc",
                "IMAGE_SERVICE_VULNDB_SYNC_INTERVAL": "soon",
                "IMAGE_SERVICE_VULNDB_MAX_AGE": "-1",
            }
        )
    message = str(error.value)
    assert "IMAGE_SERVICE_VULNDB_ECOSYSTEMS: '../etc'" in message
    assert "IMAGE_SERVICE_VULNDB_SYNC_INTERVAL" in message
    assert "IMAGE_SERVICE_VULNDB_MAX_AGE" in message


def status(imported_hours_ago: float | None, *, max_age_h: float) -> FeedStatus:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    feed = FeedStatus(feeds=None, syncs=None, max_age_s=max_age_h * 3600, clock=lambda: now)  # type: ignore[arg-type]
    imported = None if imported_hours_ago is None else now - timedelta(hours=imported_hours_ago)
    feed.snapshot = FeedSnapshot(imported, {})
    return feed


def test_readiness_warnings_about_the_feeds_age() -> None:
    assert status(2, max_age_h=0).warnings() == []  # no maximum: no warning
    assert status(2, max_age_h=0).age_s() == 7200
    assert status(2, max_age_h=3).warnings() == []
    assert status(50.5, max_age_h=48).warnings() == [
        "the vulnerability feed was imported 2d 2h ago, over 2d"
    ]
    assert status(None, max_age_h=1).warnings() == [
        "no vulnerability feed has been imported (maximum age 1h)"
    ]
    unread = FeedStatus(feeds=None, syncs=None, max_age_s=60)  # type: ignore[arg-type]
    assert unread.warnings() == []  # not read yet: nothing known, nothing said
    assert unread.age_s() is None

"""The audit log names the images a scan or a watch stored, and tells a registry's 403 from a
refused caller."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from app.audit import AUDIT_LOGGER
from tests.scanner.scan_support import scan_settings, unique_repo
from tests.support.oci.samples import push_alpine
from tests.support.registry import RunningRegistry


@pytest.fixture
async def client(nx_db: Any, registry: RunningRegistry, app_client: Any) -> Any:
    return await app_client(scan_settings(registry.host), nx_db)


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == AUDIT_LOGGER]


async def test_scan_and_watch_lines_name_the_image(
    client: Any, registry: RunningRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)
    pushed = push_alpine(registry, unique_repo("audited/app"), "1.0")
    name = pushed.reference(registry)
    assert (await client.post("/v1/images/scan", json={"imageName": name})).status == 200
    assert (await client.post("/v1/watchedimages", json={"name": name})).status == 200
    scan, watch = audit_lines(caplog)
    assert (scan["endpoint"], scan["body"]) == ("/v1/images/scan", {"imageName": name})
    assert (scan["outcome"], scan["imagesAffected"]) == ("allowed", [pushed.digest])
    assert (watch["endpoint"], watch["body"]) == ("/v1/watchedimages", {"name": name})
    assert (watch["outcome"], watch["imagesAffected"]) == ("allowed", [pushed.digest])
    assert watch["result"] == {"errorType": "NO_ERROR"}


async def test_a_registry_refusing_credentials_is_a_failure_not_a_denial(
    nx_db: Any, auth_registry: RunningRegistry, app_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = await app_client(scan_settings(auth_registry.host), nx_db)
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)
    name = f"{auth_registry.host}/{unique_repo('private/app')}:1.0"
    response = await client.post("/v1/images/scan", json={"imageName": name})
    [line] = audit_lines(caplog)
    assert (line["status"], line["outcome"]) == (response.status, "failed")
    assert response.status == 403, await response.text()

"""The audit log: one JSON line per mutating request and per refused one, nothing secret in it."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.audit import AUDIT_LOGGER, configure_audit_log
from app.auth.permissions import ANALYST, CONTINUOUS_INTEGRATION
from app.config import load_settings
from tests.support.access import bearer
from tests.support.images import image

Lines = Callable[[], list[dict[str, Any]]]
RFC3339_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
REQUEST = {"X-Request-Id": "audit-1"}


@pytest.fixture
def audit(caplog: pytest.LogCaptureFixture) -> Lines:
    """The audit lines written so far, parsed, without their time and duration (checked here)."""
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)

    def lines() -> list[dict[str, Any]]:
        parsed = []
        for record in caplog.records:
            if record.name != AUDIT_LOGGER:
                continue
            line = json.loads(record.getMessage())
            assert RFC3339_Z.fullmatch(line.pop("time")), record.getMessage()
            assert line.pop("durationMs") >= 0
            parsed.append(line)
        return parsed

    return lines


async def principal_of(session: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    status = await (await session.get("/v1/auth/status", headers=headers or {})).json()
    name = status["userInfo"]["username"]
    return {"kind": "apiToken", "id": status["userId"], "name": name, "issuer": None}


def line(principal: dict[str, Any] | None, method: str, endpoint: str, **fields: Any) -> Any:
    """An expected line: the fields every line has, with their usual values unless given."""
    return {
        "requestId": "audit-1",
        "principal": principal,
        "method": method,
        "endpoint": endpoint,
        "path": endpoint,
        "query": None,
        "body": None,
        "status": 200,
        "outcome": "allowed",
        "imagesAffected": None,
        "result": None,
        **fields,
    }


async def test_a_delete_dry_run_and_a_confirmed_delete(
    client: Any, put_images: Any, audit: Lines
) -> None:
    await put_images([image(f"docker.io/team/app{i}:latest") for i in range(3)])
    admin = await principal_of(client)
    query = {"query.query": "Image:docker.io/team", "query.pagination.limit": "2"}
    await client.delete("/v1/images", params=query, headers=REQUEST)
    confirmed = {**query, "confirm": "true"}
    await client.delete("/v1/images", params=confirmed, headers=REQUEST)
    summary = {"query.query": "Image:docker.io/team"}
    assert audit() == [
        line(
            admin,
            "DELETE",
            "/v1/images",
            query=summary,
            imagesAffected=0,
            result={"dryRun": True, "numDeleted": 2},
        ),
        line(
            admin,
            "DELETE",
            "/v1/images",
            query={**summary, "confirm": "true"},
            imagesAffected=2,
            result={"dryRun": False, "numDeleted": 2},
        ),
    ]


async def test_a_long_query_is_cut_at_512_characters(client: Any, audit: Lines) -> None:
    await client.delete("/v1/images", params={"query.query": "Image:" + "a" * 1000})
    [entry] = audit()
    assert entry["query"] == {"query.query": ("Image:" + "a" * 1000)[:512]}


async def test_a_scan_refused_for_its_input(client: Any, audit: Lines) -> None:
    body = {"imageName": "Not A Name", "force": True, "password": "hunter2"}
    response = await client.post("/v1/images/scan", json=body, headers=REQUEST)
    assert response.status == 400
    assert audit() == [
        line(
            await principal_of(client),
            "POST",
            "/v1/images/scan",
            body={"imageName": "Not A Name", "force": True},
            status=400,
            outcome="failed",
        )
    ]


async def test_a_watch_and_an_unwatch(client: Any, audit: Lines) -> None:
    admin = await principal_of(client)
    await client.post("/v1/watchedimages", json={"name": "Not A Name"}, headers=REQUEST)
    await client.delete("/v1/watchedimages", params={"name": "docker.io/x/y:1"}, headers=REQUEST)
    assert audit() == [
        line(
            admin,
            "POST",
            "/v1/watchedimages",
            body={"name": "Not A Name"},
            outcome="failed",  # answered 200, but nothing is watched
            result={"errorType": "INVALID_IMAGE_NAME"},
        ),
        line(admin, "DELETE", "/v1/watchedimages", query={"name": "docker.io/x/y:1"}),
    ]


async def test_a_token_generation_never_logs_the_secret(
    client: Any, caplog: pytest.LogCaptureFixture, audit: Lines
) -> None:
    body = {"name": "ci", "roles": [CONTINUOUS_INTEGRATION]}
    response = await client.post("/v1/apitokens/generate", json=body, headers=REQUEST)
    generated = await response.json()
    token_id = generated["metadata"]["id"]
    assert audit() == [
        line(
            await principal_of(client),
            "POST",
            "/v1/apitokens/generate",
            body=body,
            result={"tokenId": token_id},
        )
    ]
    assert generated["token"] not in caplog.text
    # nor the caller's own token: its Authorization header is not quoted
    assert client.session.headers["Authorization"].split()[1] not in caplog.text


async def test_a_revoke_and_a_role(client: Any, audit: Lines) -> None:
    admin = await principal_of(client)
    response = await client.post("/v1/apitokens/generate", json={"name": "x", "roles": [ANALYST]})
    token_id = (await response.json())["metadata"]["id"]
    await client.patch(f"/v1/apitokens/revoke/{token_id}", headers=REQUEST)
    permissions = {"Image": "READ_ACCESS"}
    await client.post("/v1/roles/Reader", json={"resourceToAccess": permissions}, headers=REQUEST)
    assert audit()[1:] == [
        line(
            admin,
            "PATCH",
            "/v1/apitokens/revoke/{id}",
            path=f"/v1/apitokens/revoke/{token_id}",
        ),
        line(
            admin,
            "POST",
            "/v1/roles/{name}",
            path="/v1/roles/Reader",
            body={"resourceToAccess": permissions},
        ),
    ]


async def test_a_request_without_a_token_is_logged_as_denied(anonymous: Any, audit: Lines) -> None:
    query = {"query.query": "Image:*", "confirm": "true"}
    response = await anonymous.delete("/v1/images", params=query, headers=REQUEST)
    assert response.status == 401
    await anonymous.get("/v1/imagescount", headers=REQUEST)  # reads refused are logged too
    assert audit() == [
        line(None, "DELETE", "/v1/images", query=query, status=401, outcome="denied"),
        line(None, "GET", "/v1/imagescount", status=401, outcome="denied"),
    ]


async def test_an_analyst_scanning_is_logged_as_denied_without_its_body(
    client: Any, token_for: Any, audit: Lines
) -> None:
    analyst = bearer(await token_for(ANALYST, name="analyst"))
    response = await client.post(
        "/v1/images/scan", json={"imageName": "nginx"}, headers={**analyst, **REQUEST}
    )
    assert response.status == 403
    expected = line(
        await principal_of(client, analyst),
        "POST",
        "/v1/images/scan",
        status=403,
        outcome="denied",
    )
    assert audit() == [expected]


async def test_a_token_with_more_than_the_caller_holds_is_denied(
    client: Any, token_for: Any, audit: Lines
) -> None:
    permissions = {"Access": "READ_ACCESS", "Integration": "READ_WRITE_ACCESS"}
    await client.post("/v1/roles/Issuer", json={"resourceToAccess": permissions})
    issuer = bearer(await token_for("Issuer", name="issuer"))
    body = {"name": "more", "roles": ["Admin"]}
    response = await client.post("/v1/apitokens/generate", json=body, headers={**issuer, **REQUEST})
    assert response.status == 403  # the handler's refusal, not the route guard's
    assert audit()[-1]["outcome"] == "denied"
    assert audit()[-1]["body"] == body


async def test_successful_reads_write_nothing(client: Any, put_images: Any, audit: Lines) -> None:
    await put_images([image("docker.io/team/app:1")])
    for path in ("/v1/images", "/v1/imagescount", "/v1/auth/status", "/v1/apitokens", "/livez"):
        assert (await client.get(path)).status == 200, path
    assert (await client.get("/v1/images/sha256:" + "0" * 64)).status == 404
    assert audit() == []


@pytest.fixture
def audit_logger_restored() -> Iterator[None]:
    logger = logging.getLogger(AUDIT_LOGGER)
    saved = (list(logger.handlers), logger.propagate, logger.disabled, logger.level)
    yield
    for handler in logger.handlers:
        handler.close()
    logger.handlers[:] = saved[0]
    logger.propagate, logger.disabled, logger.level = saved[1:]


@pytest.mark.usefixtures("audit_logger_restored")
async def test_lines_go_to_a_file_or_nowhere(client: Any, tmp_path: Path, audit: Lines) -> None:
    path = tmp_path / "audit.log"
    configure_audit_log(str(path))
    await client.patch("/v1/apitokens/revoke/nope", headers=REQUEST)
    [written] = path.read_text().splitlines()
    assert json.loads(written)["endpoint"] == "/v1/apitokens/revoke/{id}"
    assert json.loads(written)["status"] == 404

    configure_audit_log("off")
    await client.patch("/v1/apitokens/revoke/nope", headers=REQUEST)
    assert len(path.read_text().splitlines()) == 1
    assert audit() == []  # not passed on to the service's own log either


def test_the_setting() -> None:
    assert load_settings({}).audit_log == "stdout"
    assert load_settings({"IMAGE_SERVICE_AUDIT_LOG": "off"}).audit_log == "off"
    assert load_settings({"IMAGE_SERVICE_AUDIT_LOG": "/var/log/a"}).audit_log == "/var/log/a"

"""Small hand-made images in wire shape, for tests that need exact contents."""

from __future__ import annotations

import hashlib
from typing import Any


def digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def vuln(
    cve: str,
    cvss: float,
    severity: str,
    *,
    fixed_by: str | None = None,
    state: str = "OBSERVED",
    suppressed: bool = False,
    summary: str = "a vulnerability",
    published: str | None = "2024-01-10T00:00:00Z",
) -> dict[str, Any]:
    v: dict[str, Any] = {
        "cve": cve,
        "cvss": cvss,
        "severity": f"{severity}_VULNERABILITY_SEVERITY",
        "summary": summary,
        "link": f"https://example.org/{cve}",
        "state": state,
        "suppressed": suppressed,
        "vulnerabilityType": "IMAGE_VULNERABILITY",
        "publishedOn": published,
        "scoreVersion": "V3",
        "datasource": "internal-feed",
    }
    if fixed_by is not None:
        v["fixedBy"] = fixed_by
    return v


def component(
    name: str, version: str, *vulns: dict[str, Any], source: str = "OS"
) -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "source": source,
        "vulns": list(vulns),
        "layerIndex": 0,
    }


def image(
    name: str,
    *components: dict[str, Any],
    seed: str | None = None,
    created: str | None = "2024-03-01T12:00:00Z",
    scanned: str | None = "2024-05-01T10:00:00Z",
    os: str = "debian:12",
    labels: dict[str, str] | None = None,
    command: list[str] | None = None,
    last_updated: str | None = None,
) -> dict[str, Any]:
    """An image named `registry/remote:tag`; no scan when `scanned` is None."""
    registry, _, rest = name.partition("/")
    remote, _, tag = rest.rpartition(":")
    ref = {"registry": registry, "remote": remote, "tag": tag, "fullName": name}
    img: dict[str, Any] = {
        "id": digest(seed or name),
        "name": ref,
        "names": [dict(ref)],
        "metadata": {
            "v1": {
                "created": created,
                "user": "app",
                "command": command or ["/bin/sh", "-c", "run"],
                "labels": labels or {},
                "layers": [{"instruction": "RUN", "value": "apt-get install -y curl"}],
            },
            "layerShas": ["sha256:" + "1" * 64],
        },
    }
    if scanned is not None:
        img["scan"] = {
            "scanTime": scanned,
            "operatingSystem": os,
            "components": list(components),
        }
    if last_updated:
        img["lastUpdated"] = last_updated
    return img

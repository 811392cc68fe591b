"""GET /v1/images?scanSummary=true (an extension for the console's table), on every store."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.support.images import component, image, vuln

WEB = image(
    "docker.io/library/web:1",
    component(
        "openssl",
        "3.0.11-1",
        vuln("CVE-2024-0001", 9.8, "CRITICAL", fixed_by="3.0.13-1"),
        vuln("CVE-2024-0002", 7.5, "IMPORTANT"),
        vuln("CVE-2024-0003", 5.3, "MODERATE", suppressed=True),
    ),
    component(
        "curl",
        "7.88.1",
        # the same CVE again, at a lower severity: counted once, at its highest
        vuln("CVE-2024-0001", 4.0, "LOW"),
        vuln("CVE-2024-0004", 3.1, "LOW"),
        vuln("CVE-2024-0005", 2.0, "LOW"),
        vuln("CVE-2024-0006", 0.0, "UNKNOWN"),
    ),
    os="debian:12",
)
CLEAN = image("quay.io/org/clean:2", component("musl", "1.2.4"), os="alpine:3.19")
SEVERITY_KEYS = {
    "CRITICAL_VULNERABILITY_SEVERITY": "critical",
    "IMPORTANT_VULNERABILITY_SEVERITY": "important",
    "MODERATE_VULNERABILITY_SEVERITY": "moderate",
    "LOW_VULNERABILITY_SEVERITY": "low",
    "UNKNOWN_VULNERABILITY_SEVERITY": "unknown",
}
ORDER = list(SEVERITY_KEYS)[::-1]  # unknown < low < moderate < important < critical


def expected_counts(img: dict[str, Any]) -> dict[str, int]:
    """Distinct CVEs of the stored image by their highest severity, read from the image."""
    highest: dict[str, str] = {}
    for comp in img["scan"]["components"]:
        for v in comp["vulns"]:
            seen = highest.get(v["cve"])
            if seen is None or ORDER.index(v["severity"]) > ORDER.index(seen):
                highest[v["cve"]] = v["severity"]
    counted = Counter(SEVERITY_KEYS[severity] for severity in highest.values())
    return {key: counted[key] for key in SEVERITY_KEYS.values()}


async def listed(client: Any, **params: str) -> dict[str, dict[str, Any]]:
    response = await client.get("/v1/images", params=params)
    assert response.status == 200
    return {row["name"]: row for row in (await response.json())["images"]}


async def test_the_summary_counts_the_stored_cves_by_severity(client: Any, put_images: Any) -> None:
    await put_images([WEB, CLEAN])
    rows = await listed(client, scanSummary="true")
    assert expected_counts(WEB) == {
        "critical": 1,
        "important": 1,
        "moderate": 1,
        "low": 2,
        "unknown": 1,
    }
    web = rows["docker.io/library/web:1"]["scanSummary"]
    assert web["cvesBySeverity"] == expected_counts(WEB)
    assert web["operatingSystem"] == "debian:12"
    assert web["scanTime"] == WEB["scan"]["scanTime"]
    assert web["topCvss"] == 9.8
    clean = rows["quay.io/org/clean:2"]["scanSummary"]
    assert clean["cvesBySeverity"] == dict.fromkeys(SEVERITY_KEYS.values(), 0)
    assert clean["operatingSystem"] == "alpine:3.19"


async def test_the_summary_follows_a_query_and_a_page(client: Any, put_images: Any) -> None:
    await put_images([WEB, CLEAN])
    rows = await listed(
        client, scanSummary="true", query="Severity:CRITICAL", **{"pagination.limit": "1"}
    )
    assert list(rows) == ["docker.io/library/web:1"]
    assert rows["docker.io/library/web:1"]["scanSummary"]["cvesBySeverity"]["critical"] == 1


async def test_without_the_flag_there_is_no_summary(client: Any, put_images: Any) -> None:
    await put_images([WEB, CLEAN])
    for params in ({}, {"scanSummary": "false"}):
        rows = await listed(client, **params)
        assert set(rows) == {"docker.io/library/web:1", "quay.io/org/clean:2"}
        assert all("scanSummary" not in row for row in rows.values()), params

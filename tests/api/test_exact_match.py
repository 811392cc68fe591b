"""Exact match ``"…"`` is case-sensitive equality (as upstream) on every string field and level;
prefix and regex stay case-insensitive. Count, list and export agree on every store."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.images import component, image, vuln

NGINX = image(
    "docker.io/library/nginx:1.25",
    component(
        "openssl",
        "3.0.11-1",
        vuln("CVE-2023-5678", 7.5, "IMPORTANT", fixed_by="3.0.13-1"),
        vuln("cve-2024-0001", 5.0, "MODERATE"),  # a lower-case id, as some feeds spell it
    ),
    component("zlib", "1.2.13"),
    labels={"maintainer": "NGINX Docker Maintainers", "tier": "web"},
    command=["nginx", "-g", "daemon off;"],
)
# Tags are case-sensitive: these are two images.
UPPER = image(
    "ghcr.io/team/app:V1",
    component("PyYAML", "6.0", vuln("GHSA-8q59-q68h-6hv4", 9.8, "CRITICAL"), source="PYTHON"),
    labels={"Team": "Payments"},
    command=["/App/Run", "--Fast"],
)
LOWER = image(
    "ghcr.io/team/app:v1",
    component("pyyaml", "6.0", vuln("ghsa-8q59-q68h-6hv4", 9.8, "CRITICAL"), source="PYTHON"),
    labels={"team": "payments"},
    command=["/app/run", "--fast"],
)
UNSCANNED = image("registry.example.com/misc/Tool:v2", scanned=None)
ALL = {"nginx": NGINX, "upper": UPPER, "lower": LOWER, "unscanned": UNSCANNED}

CASES = [
    # the stored full name is lower-case: only its own spelling finds it
    ('Image:"DOCKER.IO/library/nginx:1.25"', set()),
    ('Image:"docker.io/library/nginx:1.25"', {"nginx"}),
    ('Image:"ghcr.io/team/app:V1"', {"upper"}),
    ('Image:"ghcr.io/team/app:v1"', {"lower"}),
    ('Image:"ghcr.io/team/app:V1","ghcr.io/team/app:v1"', {"upper", "lower"}),
    ('Image Tag:"V1"', {"upper"}),
    ('Image Tag:"v1"', {"lower"}),
    ('Image Tag:""', set()),
    # prefix and regex stay case-insensitive
    ("Image:ghcr.io/team/app:v", {"upper", "lower"}),
    ("Image:GHCR.IO/TEAM/APP:V1", {"upper", "lower"}),
    ("Image Tag:r/^V1$", {"upper", "lower"}),
    ("Image:!GHCR", {"nginx", "unscanned"}),
    ('Image Remote:"misc/Tool"', {"unscanned"}),
    ('Image Remote:"misc/tool"', set()),
    ("Image Remote:misc/tool", {"unscanned"}),
    # negated exact
    ('Image Tag:!"V1"', {"nginx", "lower", "unscanned"}),
    ('Image Tag:!"v1"', {"nginx", "upper", "unscanned"}),
    ('Image:!"DOCKER.IO/library/nginx:1.25"', set(ALL)),
    ('Image OS:!"debian:12"', {"unscanned"}),  # no scan at all: its OS is not "debian:12"
    ('Image OS:"Debian:12"', set()),
    # components and CVEs: on the same row, in the original spelling
    ('Component:"PyYAML"', {"upper"}),
    ('Component:"pyyaml"', {"lower"}),
    ("Component:PYYAML", {"upper", "lower"}),
    ('Component:"pyyaml",zlib', {"nginx", "lower"}),
    ('Component:!"pyyaml"', {"nginx", "upper"}),  # some component spelled otherwise
    ('Component:!"PyYAML"', {"nginx", "lower"}),
    ('CVE:"CVE-2023-5678"', {"nginx"}),
    ('CVE:"cve-2023-5678"', set()),
    ('CVE:"cve-2024-0001"', {"nginx"}),
    ('CVE:"GHSA-8q59-q68h-6hv4"', {"upper"}),
    ('CVE:"GHSA-8q59-q68h-6hv4","ghsa-8q59-q68h-6hv4"', {"upper", "lower"}),
    ('CVE:!"CVE-2023-5678"', {"nginx", "upper", "lower"}),  # row-level: some other CVE
    ('Component:"openssl"+CVE:!"cve-2024-0001"', {"nginx"}),
    ('Component:"openssl"+CVE:!"CVE-2023-5678"', {"nginx"}),
    ('Component:"zlib"+CVE:"CVE-2023-5678"', set()),  # not on the same row
    ('Component:"PyYAML"+Component Version:"6.0"+Severity:CRITICAL', {"upper"}),
    ('CVE ID:"GHSA-8q59-q68h-6hv4#PyYAML#6.0"', {"upper"}),
    # labels: key and value parts, "key=" is an exact key
    ('Image Label:maintainer="NGINX Docker Maintainers"', {"nginx"}),
    ('Image Label:maintainer="nginx docker maintainers"', set()),
    ('Image Label:"Team"="Payments"', {"upper"}),
    ('Image Label:"team"="payments"', {"lower"}),
    ("Image Label:Team=", {"upper"}),
    ("Image Label:team=", {"lower"}),
    ("Image Label:!team=", {"nginx", "upper", "unscanned"}),
    ("Image Label:TEAM=PAY", {"upper", "lower"}),  # prefixes: case-insensitive
    ('Image Label:team=!"payments"', {"upper"}),  # key prefix "team" matches "Team" too
    ('Image Label:"team"=!"payments"', set()),
    ('Image Label:"Team"=!"payments"', {"upper"}),
    # string arrays: one element equal
    ('Image Command:"/App/Run"', {"upper"}),
    ('Image Command:"/app/run"', {"lower"}),
    ('Image Command:"--fast","daemon off;"', {"nginx", "lower"}),
    ('Image Command:!"--fast"', set(ALL)),  # some element differs in every image
    # layers
    ('Dockerfile Instruction Keyword:"RUN"', set(ALL)),
    ('Dockerfile Instruction Keyword:"run"', set()),
    ('Dockerfile Instruction Value:!"apt-get install -y curl"', set()),
    # enum names compare lower-cased, quoted too (as upstream)
    ('Severity:"critical_vulnerability_severity"', {"upper", "lower"}),
]


@pytest.mark.parametrize(("query", "expected"), CASES, ids=[q for q, _ in CASES])
async def test_exact_match(client: Any, put_images: Any, query: str, expected: set[str]) -> None:
    await put_images(ALL.values())
    names = {v["id"]: k for k, v in ALL.items()}

    listed = await client.get("/v1/images", params={"query": query})
    assert listed.status == 200, await listed.text()
    assert {names[i["id"]] for i in (await listed.json())["images"]} == expected

    counted = await client.get("/v1/imagescount", params={"query": query})
    assert counted.status == 200, await counted.text()
    assert (await counted.json())["count"] == len(expected)

    exported = await client.get("/v1/export/images", params={"query": query})
    assert exported.status == 200, await exported.text()
    lines = [json.loads(line) for line in (await exported.text()).splitlines() if line]
    assert {names[line["result"]["image"]["id"]] for line in lines} == expected


async def test_too_many_row_alternatives_is_a_400(client: Any, put_images: Any) -> None:
    await put_images([NGINX])
    values = ",".join(f'"c{i}"' for i in range(40))  # 40 x 40 pairs of values on one row
    response = await client.get("/v1/images", params={"query": f"Component:{values}+CVE:{values}"})
    assert response.status == 400
    assert "alternatives" in (await response.json())["message"]

"""Realistic storage.Image JSON objects in upstream wire form, for speed and round-trip tests."""

from __future__ import annotations

import random
from typing import Any

DIGEST = "sha256:" + "1f3c5d7e9a0b2c4d6e8f0a1b3c5d7e9f1a2b3c4d5e6f708192a3b4c5d6e7f809"


def sparse_image(digest: str = DIGEST) -> dict[str, Any]:
    """The smallest valid image: only ``id``."""
    return {"id": digest}


def _cvss_v3(score: float) -> dict[str, Any]:
    return {
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        "exploitabilityScore": 3.9,
        "impactScore": 3.6,
        "attackVector": "ATTACK_NETWORK",
        "attackComplexity": "COMPLEXITY_LOW",
        "privilegesRequired": "PRIVILEGE_NONE",
        "userInteraction": "UI_NONE",
        "scope": "UNCHANGED",
        "confidentiality": "IMPACT_NONE",
        "integrity": "IMPACT_NONE",
        "availability": "IMPACT_HIGH",
        "score": score,
        "severity": "HIGH",
    }


def _vuln(rng: random.Random, index: int) -> dict[str, Any]:
    score = round(rng.uniform(1, 10), 1)
    vuln: dict[str, Any] = {
        "cve": f"CVE-2023-{10000 + index}",
        "advisory": None,
        "cvss": score,
        "summary": "A flaw was found in the handling of crafted input. " * 4,
        "link": f"https://nvd.nist.gov/vuln/detail/CVE-2023-{10000 + index}",
        "scoreVersion": "V3",
        "cvssV2": None,
        "cvssV3": _cvss_v3(score),
        "publishedOn": "2023-11-06T16:15:00Z",
        "lastModified": "2024-01-02T03:04:05.123456Z",
        "vulnerabilityType": "IMAGE_VULNERABILITY",
        "vulnerabilityTypes": ["IMAGE_VULNERABILITY"],
        "suppressed": False,
        "suppressActivation": None,
        "suppressExpiry": None,
        "firstSystemOccurrence": "2024-05-01T10:00:00Z",
        "firstImageOccurrence": "2024-05-01T10:00:00Z",
        "fixAvailableTimestamp": None,
        "severity": rng.choice(
            [
                "LOW_VULNERABILITY_SEVERITY",
                "MODERATE_VULNERABILITY_SEVERITY",
                "IMPORTANT_VULNERABILITY_SEVERITY",
                "CRITICAL_VULNERABILITY_SEVERITY",
            ]
        ),  # fmt: skip
        "state": "OBSERVED",
        "cvssMetrics": [
            {"source": "SOURCE_NVD", "url": "https://nvd.nist.gov/", "cvssv3": _cvss_v3(score)}
        ],
        "nvdCvss": score,
        "epss": {"epssProbability": 0.00042, "epssPercentile": 0.1234},
        "datasource": "",
        "exploit": None,
        "cisaKev": False,
        "origin": "VULN_ORIGIN_DEBIAN",
    }
    if rng.random() < 0.6:
        vuln["fixedBy"] = f"1.{index}.1-1"
    return vuln


def _component(index: int, vulns: list[dict[str, Any]]) -> dict[str, Any]:
    component: dict[str, Any] = {
        "name": f"libexample{index}",
        "version": f"1.{index}.0-1+deb12u1",
        "license": None,
        "vulns": vulns,
        "layerIndex": index % 7,
        "priority": "0",
        "source": "OS",
        "location": "",
        "riskScore": 1.0,
        "fixedBy": "",
        "executables": [],
        "architecture": "amd64",
    }
    if vulns:
        component["topCvss"] = max(v["cvss"] for v in vulns)
    return component


def make_image(components: int = 300, vulns: int = 400, *, seed: int = 0) -> dict[str, Any]:
    """A realistic, fully populated image: ``vulns`` vulnerabilities over ``components``."""
    rng = random.Random(seed)
    per_component: list[list[dict[str, Any]]] = [[] for _ in range(components)]
    for index in range(vulns):
        per_component[rng.randrange(components)].append(_vuln(rng, index))
    name = {"registry": "docker.io", "remote": "library/nginx", "tag": "1.25",
            "fullName": "docker.io/library/nginx:1.25"}  # fmt: skip
    layers = [
        {
            "instruction": "RUN",
            "value": f"/bin/sh -c step {i}",
            "created": "2024-03-01T11:00:00Z",
            "author": "",
            "empty": i % 3 == 0,
        }  # fmt: skip
        for i in range(12)
    ]
    return {
        "id": DIGEST,
        "name": name,
        "names": [name],
        "metadata": {
            "v1": {
                "digest": "sha256:" + "a" * 64,
                "created": "2024-03-01T12:00:00Z",
                "author": "",
                "layers": layers,
                "user": "",
                "command": ["nginx", "-g", "daemon off;"],
                "entrypoint": ["/docker-entrypoint.sh"],
                "volumes": [],
                "labels": {"maintainer": "NGINX Docker Maintainers"},
            },  # fmt: skip
            "v2": {"digest": DIGEST},
            "layerShas": ["sha256:" + f"{i:064x}" for i in range(8)],
            "dataSource": {"id": "reg-1", "name": "Public DockerHub", "mirror": ""},
            "version": "4",
        },
        "scan": {
            "scannerVersion": "4.5.0",
            "scanTime": "2024-05-01T10:00:00Z",
            "components": [_component(i, v) for i, v in enumerate(per_component)],
            "operatingSystem": "debian:12",
            "dataSource": {"id": "scanner-v4", "name": "Scanner V4", "mirror": ""},
            "notes": [],
            "hash": "1234567890123456789",
        },
        "signatureVerificationData": {
            "results": [
                {
                    "verificationTime": "2024-05-01T10:00:00Z",
                    "verifierId": "io.stackrox.x",
                    "status": "VERIFIED",
                    "description": "",
                    "verifiedImageReferences": [name["fullName"]],
                    "verifierName": "cosign",
                }
            ]
        },  # fmt: skip
        "signature": {
            "signatures": [
                {
                    "cosign": {
                        "rawSignature": "c2ln",
                        "signaturePayload": "cGF5bG9hZA==",
                        "certPem": "",
                        "certChainPem": "",
                        "rekorBundle": "",
                        "signatureFormat": "SIMPLE_SIGNING",
                        "sigstoreBundle": "",
                    }
                }
            ],
            "fetched": "2024-05-01T10:00:00Z",
        },  # fmt: skip
        "components": components,
        "cves": vulns,
        "fixableCves": 0,
        "lastUpdated": "2024-05-01T10:00:01Z",
        "notPullable": False,
        "isClusterLocal": False,
        "priority": "3",
        "riskScore": 1.8,
        "topCvss": 9.8,
        "notes": ["MISSING_SIGNATURE_VERIFICATION_DATA"],
        "baseImageInfo": [
            {
                "baseImageId": "b1",
                "baseImageFullName": "docker.io/library/debian:12",
                "baseImageDigest": "sha256:" + "b" * 64,
                "created": "2024-02-01T00:00:00Z",
                "maxLayerIndex": 3,
            }  # fmt: skip
        ],
    }

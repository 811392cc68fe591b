"""Filters and sort plans evaluated by mongomock on documents built with build_search_doc."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import mongomock
import pytest

from storage.query import QueryContext, SortPlan, build_search_doc, parse, sort_plan, to_filter
from storage.query.sort_keys import build_sort_doc

NOW = datetime(2024, 6, 15, tzinfo=UTC)
A, B, C, D, E = "sha256:aa", "sha256:bb", "sha256:cc", "sha256:dd", "sha256:ee"


def _vuln(cve: str, cvss: float, severity: str, **extra: Any) -> dict[str, Any]:
    return {"cve": cve, "cvss": cvss, "severity": severity, "state": "OBSERVED", **extra}


def _image(
    digest: str,
    full: str,
    components: list[dict[str, Any]] | None,
    **extra: Any,
) -> dict[str, Any]:
    registry, _, rest = full.partition("/")
    remote, _, tag = rest.partition(":")
    doc: dict[str, Any] = {
        "_id": digest,
        "name": {"registry": registry, "remote": remote, "tag": tag, "fullName": full},
        "scan": None if components is None else {"components": components},
        "lastUpdated": extra.pop("updated"),
        **extra,
    }
    doc["_search"] = build_search_doc(doc)
    doc["_sort"] = build_sort_doc(doc)
    return doc


def _meta(created: datetime, command: list[str], labels: dict[str, str], layers: list[Any]) -> Any:
    return {"v1": {"created": created, "command": command, "labels": labels, "layers": layers}}


IMAGES = [
    _image(
        A,
        "docker.io/library/nginx:1.25",
        [
            {
                "name": "openssl",
                "version": "3.0.11",
                "layerIndex": 0,
                "vulns": [_vuln("CVE-2023-5678", 7.5, "IMPORTANT_VULNERABILITY_SEVERITY",
                                fixedBy="3.0.13")],
            },
            {"name": "zlib", "version": "1.2", "layerIndex": 1, "vulns": []},
        ],
        metadata=_meta(
            datetime(2024, 1, 1, tzinfo=UTC),
            ["nginx", "-g", "daemon off;"],
            {"maintainer": "NGINX Docker Maintainers"},
            [{"instruction": "ADD", "value": "file:1 in /"},
             {"instruction": "RUN", "value": "apt-get install nginx"}],
        ),
        baseImageInfo=[{"maxLayerIndex": 0}],
        riskScore=3.0,
        topCvss=7.5,
        updated=datetime(2024, 5, 3, tzinfo=UTC),
    ),
    _image(
        B,
        "quay.io/rhacs-eng/qa-multi-arch:a",
        [
            {"name": "busybox", "version": "1.36",
             "vulns": [_vuln("CVE-2022-1", 9.8, "CRITICAL_VULNERABILITY_SEVERITY")]},
            {"name": "openssl-libs", "version": "3.0.7",
             "vulns": [_vuln("CVE-2023-5678", 7.5, "IMPORTANT_VULNERABILITY_SEVERITY",
                             fixedBy="3.0.13")]},
        ],
        metadata=_meta(datetime(2023, 1, 1, tzinfo=UTC), ["sh"], {},
                       [{"instruction": "ADD", "value": "file:2 in /"}]),
        riskScore=5.0,
        topCvss=9.8,
        updated=datetime(2024, 5, 1, tzinfo=UTC),
    ),
    _image(C, "docker.io/library/redis:7", None, metadata=None, riskScore=0.0,
           updated=datetime(2024, 5, 5, tzinfo=UTC)),
    _image(
        D,
        "quay.io/rhacs-eng/qa-multi-arch:b",
        [
            {"name": "requests", "version": "2.31", "source": "PYTHON", "layerIndex": 4,
             "vulns": [_vuln("CVE-2024-9", 3.1, "LOW_VULNERABILITY_SEVERITY", fixedBy="2.32",
                             suppressed=True)]},
        ],
        metadata=_meta(datetime(2024, 5, 1, tzinfo=UTC), [], {"app": "web"}, []),
        riskScore=3.0,
        topCvss=3.1,
        updated=datetime(2024, 5, 2, tzinfo=UTC),
    ),
    _image(
        E,
        "stackrox.io/main:4.5",
        [
            {"name": "openssl", "version": "1.1",
             "vulns": [_vuln("CVE-2024-0001", 5.0, "MODERATE_VULNERABILITY_SEVERITY",
                             fixedBy="1.2", state="DEFERRED")]},
        ],
        metadata=_meta(datetime(2024, 6, 10, tzinfo=UTC), [], {}, []),
        riskScore=1.0,
        topCvss=5.0,
        updated=datetime(2024, 5, 4, tzinfo=UTC),
    ),
]  # fmt: skip
SCORES = (5.0, 3.0, 1.0, 0.0)


@pytest.fixture(scope="module")
def images() -> Iterator[Any]:
    client: Any = mongomock.MongoClient(tz_aware=True)
    collection = client.db.images
    collection.insert_many(IMAGES)
    yield collection
    client.close()


QUERIES = [
    ("", [A, B, C, D, E]),
    ("Image:docker.io/library/nginx", [A]),
    ("image:DOCKER.IO", [A, C]),
    ("Image:r/.*redis.*", [C]),
    ("Image:!stackrox.io", [A, B, C, D]),
    ("Image:!r/qa-multi", [A, C, E]),
    ('Image:"DOCKER.IO/LIBRARY/NGINX:1.25"', []),  # exact is case-sensitive
    ('Image:"docker.io/library/nginx:1.25"', [A]),
    ('Image:!"DOCKER.IO/library/nginx:1.25"', [A, B, C, D, E]),
    ('Image:!"docker.io/library/nginx:1.25"', [B, C, D, E]),
    ("Image Tag:a,b", [B, D]),
    ("Image Registry:quay.io+Image Remote:rhacs-eng/qa-multi-arch", [B, D]),
    ("Image Sha:sha256:a", [A]),
    ("Image:*", [A, B, C, D, E]),
    # same (component, vulnerability) row
    ("CVE:CVE-2023-5678", [A, B]),
    ('Component:"openssl"+CVE:CVE-2023-5678', [A]),
    ("Component:openssl+CVE:CVE-2023-5678", [A, B]),  # prefix also matches openssl-libs
    ("CVE:CVE-2023-5678+Fixable:true", [A, B]),
    ("CVE:CVE-2022-1+Fixable:true", []),  # B has a fixable CVE, but on another row
    ("Component:busybox+Severity:IMPORTANT", []),
    ("CVE:CVE-2022-1,CVE-2024", [B, D, E]),
    ("CVE:!CVE-2023-5678", [B, D, E]),  # row-level: some other CVE
    ("CVE:!r/^cve-2023", [B, D, E]),
    ("CVE:-", [C]),
    ("Component:-", [C]),
    ("CVE:*", [A, B, D, E]),
    ("Component:zlib+CVE:-", []),  # A has zlib but also a vulnerability
    ("Severity:CRITICAL", [B]),
    ("Severity:>=IMPORTANT", [A, B]),
    ("Severity:<IMPORTANT", [D, E]),
    ("Severity:LOW,CRITICAL", [B, D]),
    ("Severity:zzz", []),
    ("Vulnerability State:DEFERRED", [E]),
    ("CVE Snoozed:true", [D, E]),
    ("CVE Snoozed:false", [A, B]),
    ("Component Source:PYTHON", [D]),
    ("Component Source:!OS", [D]),
    ("Component Layer Type:BASE_IMAGE", [A]),
    ("Component Layer Type:APPLICATION", [A, B, D, E]),
    ("CVSS:>7", [A, B]),
    ("CVSS:5-8", [A, B]),  # exclusive: E's 5.0 is out
    ("CVSS:<4,>9", [B, D]),
    ("CVSS:>5+cvss:<9", [A, B]),
    ("Fixed By:3.0", [A, B]),
    ("Image Top CVSS:>=9", [B]),
    ("Image Top CVSS:-", [C]),
    ("Image Risk Priority:1", [B]),
    ("Image Risk Priority:2", [A, D]),
    ("Image Risk Priority:>=3", [C, E]),
    ("Image Risk Priority:2+Severity:LOW", [D]),
    ("Image Label:maintainer=nginx", [A]),
    ("Image Label:app=", [D]),
    ("Image Label:!app=", [A, B, C, E]),
    ("Image Label:=", [A, D]),
    ("Image Label:=!web", [A]),
    ("Image Label:*", [A, B, C, D, E]),
    ("Image Command:!nginx", [A, B]),
    ('Image Command:"-G"', []),
    ('Image Command:"-g"', [A]),
    ('Image Command:"daemon off;","sh"', [A, B]),
    ('Image Label:maintainer="NGINX Docker Maintainers"', [A]),
    ('Image Label:maintainer="nginx docker maintainers"', []),
    ('CVE:"CVE-2023-5678","CVE-2022-1"', [A, B]),
    ('CVE:"cve-2023-5678"', []),
    ('CVE:!"CVE-2023-5678"', [B, D, E]),  # row-level: some other CVE
    ('Component:"openssl",busybox', [A, B, E]),
    ('Component:!"openssl"+CVE:CVE-2023', [B]),  # openssl-libs has it too
    ('Dockerfile Instruction Keyword:"RUN"', [A]),
    ('Dockerfile Instruction Keyword:"run"', []),
    ("Image Command:*", [A, B]),
    ("Image Command:-", [C, D, E]),  # an image without metadata has an empty command too
    ("Dockerfile Instruction Keyword:RUN+Dockerfile Instruction Value:apt", [A]),
    ("Dockerfile Instruction Keyword:ADD+Dockerfile Instruction Value:apt", []),  # same layer
    ("Dockerfile Instruction Keyword:-", [C, D, E]),
    ("Image Created Time:>90d", [A, B]),
    ("Image Created Time:<30d", [E]),
    ("Image Created Time:01/01/2024", [A]),
    ("Image Created Time:-", [C]),
    ("Last Updated:tr/1714521600000-1714694400000", [B, D]),  # [05-01, 05-03)
]


@pytest.mark.parametrize(("text", "expected"), QUERIES)
def test_query_selects(images: Any, text: str, expected: list[str]) -> None:
    ctx = QueryContext(now=NOW, risk_scores_desc=SCORES)
    found = sorted(doc["_id"] for doc in images.find(to_filter(parse(text), ctx)))
    assert found == expected


def _ordered(images: Any, plan: SortPlan) -> list[str]:
    return [d["_id"] for d in images.find({}, sort=plan.sort)]


SORTS = [
    ((None, False), [B, D, A, E, C]),  # lastUpdated ascending
    (("Image", False), [A, C, B, D, E]),
    (("Image", True), [E, D, B, C, A]),
    (("CVSS", False), [D, E, A, B, C]),  # MIN per image; A and B tie at 7.5; nulls last
    (("CVSS", True), [B, A, E, D, C]),  # MAX per image
    (("Image Top CVSS", False), [D, E, A, B, C]),
    (("Image Top CVSS", True), [B, A, E, D, C]),  # nulls last both ways
    (("Image Risk Priority", False), [B, D, A, E, C]),  # ties break on _id in key direction
    (("Image Risk Priority", True), [C, E, A, D, B]),
    (("Image Created Time", False), [B, A, D, E, C]),
    (("CVE", True, "COUNT", True), [B, E, D, A, C]),
    (("Component", False, "COUNT"), [C, D, E, A, B]),
    (("Component", False), [B, E, A, D, C]),  # MIN name; A/E tie on openssl: MIN version
]


@pytest.mark.parametrize(("args", "expected"), SORTS)
def test_sort_orders(images: Any, args: tuple[Any, ...], expected: list[str]) -> None:
    assert _ordered(images, sort_plan(*args)) == expected

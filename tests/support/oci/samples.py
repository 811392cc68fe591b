"""Images with known contents for the scanner tests, and OSV records that match them.

The Debian-style image has four layers: a base (os-release, dpkg status), an apt layer
(rewritten status: one package more), a Python/npm layer, and a layer whose whiteout
removes the `urllib3` distribution again. The Alpine-style image has one layer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.oci.layers import Blob, LayerBuilder
from tests.support.oci.manifests import image_config
from tests.support.oci.push import PushedImage, push_image
from tests.support.registry import RunningRegistry

DEBIAN_OS_RELEASE = b"""PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""
ALPINE_OS_RELEASE = b"""NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"
"""


def dpkg_stanza(name: str, version: str, source: str = "", arch: str = "amd64") -> str:
    lines = [
        f"Package: {name}",
        "Status: install ok installed",
        "Priority: optional",
        f"Architecture: {arch}",
    ]
    if source:
        lines.append(f"Source: {source}")
    lines += [
        f"Version: {version}",
        f"Description: the {name} package",
        " A longer description that continues",
        " over several lines.",
    ]
    return "\n".join(lines) + "\n"


BASE_PACKAGES = [
    ("base-files", "12.4+deb12u5", ""),
    ("libc6", "2.36-9+deb12u4", "glibc"),
    ("libssl3", "3.0.11-1~deb12u2", "openssl"),
    ("zlib1g", "1:1.2.13.dfsg-1", "zlib (1:1.2.13.dfsg-1)"),
]
APT_PACKAGES = [("curl", "7.88.1-10+deb12u5", "")]


def dpkg_status(packages: Sequence[tuple[str, str, str]]) -> bytes:
    return "\n".join(dpkg_stanza(*p) for p in packages).encode()


def dist_info(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nLicense: MIT\n".encode()


def package_json(name: str, version: str) -> bytes:
    return json.dumps({"name": name, "version": version, "license": "MIT"}).encode()


SITE = "usr/lib/python3/dist-packages"


def debian_layers(compression: str = "gzip") -> list[Blob]:
    base = (
        LayerBuilder()
        .add_dir("etc")
        .add_file("etc/os-release", DEBIAN_OS_RELEASE)
        .add_dir("var/lib/dpkg")
        .add_file("var/lib/dpkg/status", dpkg_status(BASE_PACKAGES))
    )
    apt = LayerBuilder().add_file("var/lib/dpkg/status", dpkg_status(BASE_PACKAGES + APT_PACKAGES))
    languages = (
        LayerBuilder()
        .add_file(f"{SITE}/requests-2.25.0.dist-info/METADATA", dist_info("requests", "2.25.0"))
        .add_file(f"{SITE}/urllib3-1.26.4.dist-info/METADATA", dist_info("urllib3", "1.26.4"))
        .add_file("app/node_modules/lodash/package.json", package_json("lodash", "4.17.20"))
    )
    cleanup = LayerBuilder().add_whiteout(f"{SITE}/urllib3-1.26.4.dist-info")
    return [
        base.build(compression),  # type: ignore[arg-type]
        apt.build("zstd"),
        languages.build("none"),
        cleanup.build("gzip"),
    ]


def alpine_layers() -> list[Blob]:
    installed = (
        b"C:Q1abc=\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nL:MIT\no:musl\n\n"
        b"C:Q1def=\nP:libcrypto3\nV:3.1.4-r2\nA:x86_64\nL:Apache-2.0\no:openssl\n\n"
        b"C:Q1ghi=\nP:busybox\nV:1.36.1-r15\nA:x86_64\nL:GPL-2.0-only\no:busybox\n\n"
    )
    layer = (
        LayerBuilder()
        .add_file("etc/os-release", ALPINE_OS_RELEASE)
        .add_file("lib/apk/db/installed", installed)
    )
    return [layer.build("gzip")]


DEBIAN_HISTORY = [
    {"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:1 in / "},
    {
        "created": "2024-01-01T00:00:01Z",
        "created_by": '/bin/sh -c #(nop)  CMD ["bash"]',
        "empty_layer": True,
    },
    {"created": "2024-01-01T00:00:02Z", "created_by": "/bin/sh -c apt-get install -y curl"},
    {"created": "2024-01-01T00:00:03Z", "created_by": "COPY app /app # buildkit"},
    {"created": "2024-01-01T00:00:04Z", "created_by": "RUN /bin/sh -c pip uninstall urllib3"},
]


def push_debian(
    registry: RunningRegistry, repo: str, tag: str, *, kind: str = "oci", label: str = "v1"
) -> PushedImage:
    layers = debian_layers()
    config = image_config(
        layers,
        history=DEBIAN_HISTORY,
        cmd=["bash"],
        labels={"org.example.build": label},
        user="app",
    )
    return push_image(registry, repo, tag, layers, config, kind=kind)  # type: ignore[arg-type]


def push_alpine(
    registry: RunningRegistry, repo: str, tag: str, *, architecture: str = "amd64"
) -> PushedImage:
    layers = alpine_layers()
    config = image_config(layers, architecture=architecture, cmd=["/bin/sh"])
    return push_image(registry, repo, tag, layers, config)


# ------------------------------------------------------------------------------ OSV records


def osv(
    osv_id: str,
    ecosystem: str,
    package: str,
    *,
    fixed: str | None,
    cve: str | None = None,
    vector: str | None = None,
    introduced: str = "0",
) -> dict[str, Any]:
    events: list[dict[str, str]] = [{"introduced": introduced}]
    if fixed:
        events.append({"fixed": fixed})
    record: dict[str, Any] = {
        "id": osv_id,
        "modified": "2024-03-01T00:00:00Z",
        "published": "2024-02-01T00:00:00Z",
        "aliases": [cve] if cve else [],
        "summary": f"{package}: a problem",
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": package},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
        "references": [{"type": "ADVISORY", "url": f"https://example.test/{osv_id}"}],
    }
    if vector:
        record["severity"] = [{"type": "CVSS_V3", "score": vector}]
    return record


CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
MEDIUM = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N"  # 6.1
HIGH = "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"  # 7.2

FEED_V1 = [
    osv(
        "DSA-0001",
        "Debian:12",
        "openssl",
        fixed="3.0.13-1~deb12u1",
        cve="CVE-2024-0001",
        vector=CRITICAL,
    ),
    osv("DLA-0002", "Debian:12", "curl", fixed=None, cve="CVE-2024-0002", vector=MEDIUM),
    osv("GHSA-req", "PyPI", "requests", fixed="2.31.0", cve="CVE-2023-32681", vector=MEDIUM),
    osv("GHSA-url", "PyPI", "urllib3", fixed="1.26.5", cve="CVE-2021-33503", vector=HIGH),
    osv("GHSA-lod", "npm", "lodash", fixed="4.17.21", cve="CVE-2021-23337", vector=HIGH),
    osv(
        "ALPINE-1", "Alpine:v3.19", "openssl", fixed="3.1.4-r5", cve="CVE-2024-0727", vector=MEDIUM
    ),
    # not installed anywhere: must never show up
    osv("DSA-0003", "Debian:12", "nginx", fixed="1.22.1-9", cve="CVE-2024-0003", vector=HIGH),
]
# v2: zlib gets a critical advisory; curl's gets a fix
FEED_V2 = [
    *[r for r in FEED_V1 if r["id"] != "DLA-0002"],
    osv(
        "DLA-0002",
        "Debian:12",
        "curl",
        fixed="7.88.1-10+deb12u6",
        cve="CVE-2024-0002",
        vector=MEDIUM,
    ),
    osv(
        "DSA-0004", "Debian:12", "zlib", fixed="1:1.3.dfsg-1", cve="CVE-2024-0004", vector=CRITICAL
    ),
]


def write_feed(directory: Path, records: Sequence[dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.json"):
        old.unlink()
    for record in records:
        (directory / f"{record['id']}.json").write_text(json.dumps(record))
    return directory

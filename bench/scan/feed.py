"""OSV records for what the benchmark image holds: advisories fixed before the installed
versions, some that affect them, and some for packages that are not installed."""

from __future__ import annotations

import random
from typing import Any

from bench.scan.image import ImageRecipe
from tests.support.oci.samples import CRITICAL, HIGH, MEDIUM, osv


def _bump(version: str) -> str:
    """A version above `version` in Debian, PEP 440 and semver order alike."""
    epoch, _, rest = version.rpartition(":")
    upstream = rest.split("-")[0].split("+")[0]
    parts = upstream.split(".")
    parts[-1] = str(int(parts[-1]) + 1)
    bumped = ".".join(parts)
    tail = "-1" if "-" in rest else ""
    return f"{epoch + ':' if epoch else ''}{bumped}{tail}"


def _below(version: str) -> str:
    """A version below `version` (its major is at least 1)."""
    epoch, _, rest = version.rpartition(":")
    major = int(rest.split(".")[0])
    tail = "-1" if "-" in rest else ""
    return f"{epoch + ':' if epoch else ''}{major - 1}.99.1{tail}"


def build_feed(recipe: ImageRecipe, seed: int, hit_share: float = 0.15) -> dict[str, Any]:
    """OSV records: for most installed names a few fixed-before advisories, and for about
    `hit_share` of them one or two that the installed version is affected by; plus records of
    packages that are not installed."""
    rng = random.Random(seed + 1)
    records: list[dict[str, Any]] = []
    counter = iter(range(1, 1_000_000))
    vectors = [CRITICAL, HIGH, MEDIUM, MEDIUM, None]

    def add(prefix: str, ecosystem: str, name: str, fixed: str | None) -> None:
        number = next(counter)
        cve = f"CVE-{rng.randint(2015, 2024)}-{10000 + number}"
        records.append(
            osv(f"{prefix}-{number}", ecosystem, name, fixed=fixed, cve=cve,
                vector=rng.choice(vectors))
        )  # fmt: skip

    sources: dict[str, str] = {}
    for package in recipe.debian:
        sources.setdefault(package.source, package.version)
    # matching is by source name and the binary's version; binaries of one source share it
    hit_sources: set[str] = set()
    for source, version in sources.items():
        if rng.random() < 0.9:
            for _ in range(rng.randint(1, 7)):
                add("DSA", "Debian:12", source, _below(version))
        if rng.random() < hit_share:
            hit_sources.add(source)
            for _ in range(rng.randint(1, 2)):
                add("DLA", "Debian:12", source, _bump(version) if rng.random() < 0.8 else None)
    for _ in range(400):
        add("DSA", "Debian:12", f"absent-{rng.randint(0, 10**6)}", "1.0-1")
    hits = {"dpkg": sum(1 for p in recipe.debian if p.source in hit_sources)}
    for kind, ecosystem, prefix, installed in (
        ("python", "PyPI", "PYSEC", recipe.python),
        ("npm", "npm", "GHSA", recipe.npm),
    ):
        hit = 0
        for name, version in installed:
            for _ in range(rng.randint(0, 3)):
                add(prefix, ecosystem, name, _below(version) if version[0] != "0" else "0.0.0")
            if rng.random() < hit_share:
                hit += 1
                add(prefix, ecosystem, name, _bump(version))
        for _ in range(300):
            add(prefix, ecosystem, f"absent-{rng.randint(0, 10**6)}", "1.0.0")
        hits[kind] = hit
    per_ecosystem: dict[str, int] = {}
    for record in records:
        ecosystem = record["affected"][0]["package"]["ecosystem"]
        per_ecosystem[ecosystem] = per_ecosystem.get(ecosystem, 0) + 1
    return {"records": records, "per_ecosystem": per_ecosystem, "expected_hits": hits}

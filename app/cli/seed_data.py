"""Reproducible synthetic storage.Image documents in JSON wire shape, for seeding and benchmarks."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, Final

import orjson

from app.cli import seed_catalog as cat
from app.cli.seed_catalog import DAY

Doc = dict[str, Any]
OsEntry = tuple[str, str, tuple[str, ...], tuple[str, str], str]
Program = tuple[tuple[str, ...], tuple[str, ...]]  # (entrypoint, command)
Fix = tuple[str, str]  # (ecosystem, version that fixes the component)

# Default clock: fixed, so that output is reproducible unless the caller passes `now`.
DEFAULT_NOW: Final = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Profile:
    """Size ranges (inclusive) of one generator profile."""

    components: tuple[int, int]
    vulns: tuple[int, int]
    vuln_skew: float  # exponent > 1 puts most images near the low end of `vulns`
    layers: tuple[int, int]
    language_share: float  # upper bound of the share of PYTHON/NODEJS components
    max_labels: int


PROFILES: Final[dict[str, Profile]] = {
    "small": Profile((2, 8), (0, 10), 1.8, (2, 5), 0.5, 3),
    "realistic": Profile((150, 400), (100, 500), 2.5, (5, 25), 0.3, 8),
}


def generate_images(
    count: int, *, seed: int = 0, profile: str = "small", now: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Yield `count` storage.Image dicts lazily; image i depends only on (seed, profile, now, i).

    Raises:
        ValueError: for a negative count or an unknown profile.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, not {count}")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, not {profile!r}")
    clock = now or DEFAULT_NOW
    if clock.tzinfo is None:
        clock = clock.replace(tzinfo=UTC)
    return _stream(count, seed, PROFILES[profile], int(clock.timestamp()))


def write_ndjson(
    images: Iterable[dict[str, Any]], out: BinaryIO, *, export_lines: bool = False
) -> int:
    """Write one JSON object per line (as `{"result":{"image":…}}` if asked); return the count."""
    written = 0
    for image in images:
        line = {"result": {"image": image}} if export_lines else image
        out.write(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE))
        written += 1
    return written


def _stream(count: int, seed: int, spec: Profile, now: int) -> Iterator[Doc]:
    master = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
    for _ in range(count):
        # One 128-bit sub-seed per image, drawn in order: image i is the same whatever count is.
        yield _image(random.Random(master.getrandbits(128)), spec, now)  # noqa: S311


def _sha(rng: random.Random) -> str:
    return f"sha256:{rng.getrandbits(256):064x}"


def _uuid(text: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"image-service-seed:{text}"))


def _image(rng: random.Random, spec: Profile, now: int) -> Doc:
    os_entry: OsEntry = rng.choice(cat.OPERATING_SYSTEMS)
    names = _names(rng, os_entry[2])
    last_updated = now - rng.randrange(30 * DAY)
    scan_time = last_updated - rng.randrange(6 * 3600)
    created = min(now - rng.randrange(730 * DAY), scan_time - 3600)
    program = rng.choice(cat.PROGRAMS)
    layers = _layers(rng, spec, os_entry[1], created, program)
    solid = [i for i, layer in enumerate(layers) if not layer["empty"]]
    has_meta, has_scan = rng.random() >= 0.03, rng.random() >= 0.05
    image: Doc = {"id": _sha(rng), "name": dict(names[0]), "names": names}
    image["metadata"] = _metadata(rng, spec, image, layers, program) if has_meta else None
    if has_scan:
        image["scan"] = _scan(rng, spec, os_entry, solid, (created, scan_time))
    elif rng.random() < 0.5:  # a missing scan is either null or absent
        image["scan"] = None
    notes = [] if has_meta else ["MISSING_METADATA"]
    notes += [] if has_scan else ["MISSING_SCAN_DATA"]
    notes += ["MISSING_SIGNATURE"] if rng.random() < 0.4 else []
    image.update(signatureVerificationData=None, signature=None)
    image["lastUpdated"] = cat.timestamp(last_updated)
    image.update(notPullable=rng.random() < 0.02, isClusterLocal=rng.random() < 0.03)
    image["notes"] = notes
    image["baseImageInfo"] = _base_info(rng, os_entry[4], layers, solid)
    return image


def _names(rng: random.Random, suffixes: tuple[str, ...]) -> list[Doc]:
    registry, remote = rng.choice(cat.REPOSITORIES)
    major, minor, patch = rng.randrange(20), rng.randrange(30), rng.randrange(16)
    prefix, suffix = rng.choice(("", "", "v")), rng.choice(suffixes)
    version = f"{prefix}{major}.{minor}"
    tags = [f"{version}.{patch}{suffix}", f"{version}{suffix}", "latest"]
    if rng.random() < 0.1:
        tags.reverse()
    mirror = ("registry.example.com", f"mirror/{remote}")
    refs = [(registry, remote, tags[0]), (registry, remote, tags[1]), (*mirror, tags[0])]
    return [
        {"registry": r, "remote": m, "tag": t, "fullName": f"{r}/{m}:{t}"}
        for r, m, t in refs[: rng.randint(1, 3)]
    ]


def _layers(
    rng: random.Random, spec: Profile, family: str, created: int, program: Program
) -> list[Doc]:
    """History, oldest first: the base layer, then weighted Dockerfile steps."""
    count = rng.randint(*spec.layers)
    step = rng.randint(60, 3 * DAY)
    kinds = list(cat.LAYER_STEPS)
    weights = [weight for weight, _ in cat.LAYER_STEPS.values()]
    steps = ["ADD"] + rng.choices(kinds, weights, k=count - 1)
    base = f"file:{rng.getrandbits(128):032x} in / "
    return [
        {
            "instruction": kind,
            "value": _step(rng, kind, family, program) if i else base,
            "created": cat.timestamp(created - (count - 1 - i) * step),
            "author": "",
            "empty": kind not in ("RUN", "COPY", "ADD"),
        }
        for i, kind in enumerate(steps)
    ]


def _step(rng: random.Random, kind: str, family: str, program: Program) -> str:
    entrypoint, command = program
    label = rng.choice(list(cat.LABELS))
    return rng.choice(cat.LAYER_STEPS[kind][1]).format(
        hex=f"{rng.getrandbits(128):032x}",
        install=cat.INSTALL_COMMANDS[family].format(
            pkgs=" ".join(rng.sample(cat.PACKAGES[family], 3))
        ),
        user=rng.choice(cat.USERS[2:]),
        command=orjson.dumps(list(command)).decode(),
        entrypoint=orjson.dumps(list(entrypoint or command)).decode(),
        label=f"{label}={rng.choice(('1', 'example', 'true'))}",
    )


def _metadata(
    rng: random.Random, spec: Profile, image: Doc, layers: list[Doc], program: Program
) -> Doc:
    entrypoint, command = program
    source = cat.SOURCES[image["name"]["registry"]]
    author, created = rng.choice(cat.AUTHORS), layers[-1]["created"]
    title = image["name"]["remote"].rsplit("/", 1)[-1]
    words = {"author": author or "Example Maintainers <maintainers@example.com>", "title": title}
    words.update(version=image["name"]["tag"], revision=f"{rng.getrandbits(160):040x}")
    words.update(created=created, release=str(rng.randint(1, 40)))
    keys = rng.sample(list(cat.LABELS), rng.randint(0, spec.max_labels))
    v1 = {"digest": _sha(rng), "created": created, "author": author, "layers": layers}
    v1.update(user=rng.choice(cat.USERS), command=list(command), entrypoint=list(entrypoint))
    v1["volumes"] = rng.sample(cat.VOLUMES, rng.choice((0, 0, 1, 2)))
    v1["labels"] = {key: cat.LABELS[key].format(**words) for key in keys}
    return {
        "v1": v1,
        "v2": {"digest": image["id"]},
        "layerShas": [_sha(rng) for layer in layers if not layer["empty"]],
        "dataSource": {"id": _uuid(source), "name": source, "mirror": ""},
        "version": str(rng.randint(1, 4)),
    }


def _base_info(rng: random.Random, base: str, layers: list[Doc], solid: list[int]) -> list[Doc]:
    if len(solid) < 2 or rng.random() >= 0.3:
        return []
    last = solid[rng.randrange(len(solid) - 1)]  # the image adds at least one layer of its own
    info: Doc = {"baseImageId": _uuid(base), "baseImageFullName": base}
    info.update(baseImageDigest=_sha(rng), created=layers[last]["created"], maxLayerIndex=last)
    return [info]


def _scan(
    rng: random.Random, spec: Profile, os_entry: OsEntry, solid: list[int], span: tuple[int, int]
) -> Doc:
    version, scanner_id, scanner_name = rng.choice(cat.SCANNERS)
    components, fixes = _components(rng, spec, os_entry, solid)
    # Vulnerabilities were first seen in this image between its creation and this scan.
    seen = [
        cat.timestamp(rng.randint(max(span[0], span[1] - 400 * DAY), span[1])) for _ in range(4)
    ]
    _attach_vulns(rng, spec, components, fixes, seen)
    return {
        "scannerVersion": version,
        "scanTime": cat.timestamp(span[1]),
        "components": components,
        "operatingSystem": os_entry[0],
        "dataSource": {"id": _uuid(scanner_id), "name": scanner_name, "mirror": ""},
        "notes": ["OS_CVES_STALE"] if rng.random() < 0.03 else [],
    }


def _components(
    rng: random.Random, spec: Profile, os_entry: OsEntry, solid: list[int]
) -> tuple[list[Doc], list[Fix]]:
    """Scan components plus, for each, (ecosystem, a higher version that fixes it)."""
    os_name, family, _, arches, _ = os_entry
    arch, osv = rng.choice(arches), os_name.split(":")[1]
    total = rng.randint(*spec.components)
    langs = rng.choice((("pypi",), ("npm",), ("pypi", "npm")))
    n_lang = min(int(total * rng.uniform(0, spec.language_share)), 40 * len(langs))
    packages = [(family, name) for name in _os_names(rng, family, total - n_lang)]
    for i, eco in enumerate(langs):
        share = n_lang // len(langs) + (n_lang % len(langs) if i == 0 else 0)
        packages += [(eco, name) for name in rng.sample(cat.PACKAGES[eco], share)]
    components: list[Doc] = []
    fixes: list[Fix] = []
    for eco, name in packages:
        version, fix = _versions(rng, eco, osv)
        is_os = eco == family
        paths = cat.LANGUAGE_PATHS.get(eco, ("",))
        component: Doc = {"name": name, "version": version, "license": None, "vulns": []}
        component["layerIndex"] = solid[0] if is_os and rng.random() < 0.85 else rng.choice(solid)
        component.update(source=cat.LANGUAGE_SOURCES.get(eco, "OS"), fixedBy="", executables=[])
        component["location"] = rng.choice(paths).format(name=name, version=version)
        component["architecture"] = arch if is_os else ""
        components.append(component)
        fixes.append((eco, fix))
    return components, fixes


def _os_names(rng: random.Random, family: str, count: int) -> list[str]:
    base = cat.PACKAGES[family]
    names = rng.sample(base, min(count, len(base)))
    return names + rng.sample(cat.synthetic_names(family), count - len(names))


def _versions(rng: random.Random, eco: str, osv: str) -> tuple[str, str]:
    """A package version and a strictly higher one of the same shape."""
    a, b, c = rng.randrange(10), rng.randrange(30), rng.randrange(20)
    r, k = rng.randint(1, 9), rng.randint(1, 9)
    shape = rng.choice(cat.ECOSYSTEMS[eco][0])
    version = shape.format(up=f"{a}.{b}.{c}", r=r, k=k, osv=osv)
    if "{k}" in shape and rng.random() < 0.5:  # a distribution update of the same upstream
        return version, shape.format(up=f"{a}.{b}.{c}", r=r, k=k + 1, osv=osv)
    return version, shape.format(up=f"{a}.{b}.{c + 1}", r=r, k=k, osv=osv)


def _attach_vulns(
    rng: random.Random, spec: Profile, found: list[Doc], fixes: list[Fix], seen: list[str]
) -> None:
    """Spread a drawn number of occurrences over the advisories known for the components."""
    low, high = spec.vulns
    target = low + int((high - low + 1) * rng.random() ** spec.vuln_skew)
    known = (cat.advisory_ids(c["name"], eco) for c, (eco, _) in zip(found, fixes, strict=True))
    pairs = [(i, vid) for i, ids in enumerate(known) for vid in ids]
    if len(pairs) >= target:
        pairs = rng.sample(pairs, target)
    else:  # not enough known advisories: invent some to reach the target
        extra = (rng.randrange(len(found)) for _ in range(target - len(pairs)))
        pairs += [(i, cat.advisory_id(rng, fixes[i][0])) for i in extra]
    for i, vid in pairs:
        eco, fix = fixes[i]
        vuln = _vuln(rng, cat.advisory(vid, eco, found[i]["name"]), fix, seen)
        if vuln.get("fixedBy"):
            found[i]["fixedBy"] = fix
        found[i]["vulns"].append(vuln)


def _vuln(rng: random.Random, template: Doc, fix: str, seen: list[str]) -> Doc:
    # The template is cached and shared: copy its nested objects too.
    vuln = {k: v.copy() if isinstance(v, dict | list) else v for k, v in template.items()}
    roll = rng.random()
    if roll < 0.55:
        vuln.update(fixedBy=fix, fixAvailableTimestamp=rng.choice(seen))
    elif roll < 0.8:
        vuln["fixedBy"] = ""  # known not fixable; otherwise absent: the scanner had no fix data
    vuln["firstImageOccurrence"] = rng.choice(seen)
    roll = rng.random()
    vuln["state"] = "DEFERRED" if roll < 0.03 else "FALSE_POSITIVE" if roll < 0.05 else "OBSERVED"
    if rng.random() < 0.01:
        vuln.update(suppressed=True, suppressActivation=seen[0], suppressExpiry=None)
    return vuln

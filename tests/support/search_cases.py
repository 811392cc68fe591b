"""Hypothesis strategies for the differential search test: small image sets and queries over them.

Images draw from small alphabets (mixed case in names) so that generated queries hit. Dates are
ages in days with half-day offsets, made concrete against the test's ``now`` by ``materialize``,
so that day-based queries never sit on a boundary while the test runs. Queries are drawn from
the values actually stored (``sample_values``), over every label of the field registry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from storage.query.fields import Field, Kind, all_fields
from tests.support.search_reference import COLUMNS, Row, dense_ranks

Doc = dict[str, Any]


@dataclass(frozen=True)
class Ago:
    """A timestamp this many days before ``now``."""

    days: float


def materialize(value: Any, now: datetime) -> Any:
    """Replace every ``Ago`` in a drawn image with an RFC 3339 timestamp (milliseconds)."""
    if isinstance(value, Ago):
        at = now - timedelta(days=value.days)
        return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {k: materialize(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [materialize(v, now) for v in value]
    return value


def digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


# --- images -------------------------------------------------------------------------------------

_AGES = [0.5, 1.5, 2.5, 29.5, 30.5, 89.5, 200.5, 400.5, 1000.5]
ages = st.sampled_from(_AGES).map(Ago)
maybe_age = st.none() | ages
REGISTRIES = ["docker.io", "Quay.io", "ghcr.io", "reg.example.com:5000"]
REMOTES = ["library/nginx", "library/NGinx", "org/redis", "Team/App", "a.b/c_d"]
TAGS = ["1.25", "1.25.3", "latest", "Latest", "v1", "V1"]
OS_NAMES = ["debian:12", "Alpine:3.19", "ubuntu:22.04", ""]
WORDS = ["/bin/sh", "-c", "nginx", "Run", "daemon off;", "/data", "/Var/lib"]
LABEL_KEYS = ["maintainer", "Maintainer", "team", "org.opencontainers.image.version"]
LABEL_VALUES = ["NGINX Docker", "nginx", "cache", "1.0", ""]
INSTRUCTIONS = ["RUN", "COPY", "ENV", "Cmd"]
LAYER_VALUES = ["apt-get install -y curl", "/app", "PATH=/usr/bin", "[nginx]"]
COMPONENTS = ["openssl", "OpenSSL-libs", "zlib", "libc6", "requests"]
VERSIONS = ["3.0.11-1", "1.2.13", "2.36", "1.1.1w"]
SOURCES = ["OS", "PYTHON", "NODEJS", "GO"]
LOCATIONS = ["", "/usr/lib", "/app/Node_modules"]
CVES = ["CVE-2023-5678", "CVE-2023-0001", "cve-2022-1111", "GHSA-xxxx-Yyyy"]
SCORES = [0.0, 4.25, 5.3, 5.5, 7.5, 9.75, 10.0]
SEVERITIES = ["UNKNOWN", "LOW", "MODERATE", "IMPORTANT", "CRITICAL"]
STATES = ["OBSERVED", "DEFERRED", "FALSE_POSITIVE"]
FIXES = [None, "", "3.0.13-1", "2.37"]
ADVISORIES = [None, {"name": "RHSA-2023:1234", "link": "https://Access.redhat.com/x"}]


@st.composite
def vulns(draw: st.DrawFn) -> Doc:
    vuln: Doc = {
        "cve": draw(st.sampled_from(CVES)),
        "cvss": draw(st.sampled_from(SCORES)),
        "severity": draw(st.sampled_from(SEVERITIES)) + "_VULNERABILITY_SEVERITY",
        "state": draw(st.sampled_from(STATES)),
        "suppressed": draw(st.booleans()),
        "publishedOn": draw(maybe_age),
        "firstSystemOccurrence": draw(maybe_age),
        "firstImageOccurrence": draw(maybe_age),
        "fixAvailableTimestamp": draw(maybe_age),
        "advisory": draw(st.sampled_from(ADVISORIES)),
    }
    fixed_by = draw(st.sampled_from(FIXES))
    if fixed_by is not None:
        vuln["fixedBy"] = fixed_by
    if draw(st.booleans()):
        vuln["cvssV3"] = {"impactScore": draw(st.sampled_from(SCORES))}
    if draw(st.booleans()):
        vuln["cvssV2"] = {"impactScore": draw(st.sampled_from(SCORES))}
    metrics = []
    for source in draw(st.lists(st.sampled_from(["SOURCE_NVD", "SOURCE_RED_HAT"]), max_size=2)):
        key = draw(st.sampled_from(["cvssv3", "cvssv2"]))
        metrics.append({"source": source, key: {"score": draw(st.sampled_from(SCORES))}})
    vuln["cvssMetrics"] = metrics
    if draw(st.booleans()):
        vuln["epss"] = {"epssProbability": draw(st.sampled_from([0.0, 0.25, 0.5, 0.97]))}
    if draw(st.booleans()):
        vuln["exploit"] = {"dateAdded": "2024-01-01"}
    return vuln


@st.composite
def components(draw: st.DrawFn) -> Doc:
    comp: Doc = {
        "name": draw(st.sampled_from(COMPONENTS)),
        "version": draw(st.sampled_from(VERSIONS)),
        "source": draw(st.sampled_from(SOURCES)),
        "location": draw(st.sampled_from(LOCATIONS)),
        "architecture": draw(st.sampled_from(["", "amd64"])),
        "vulns": draw(st.lists(vulns(), max_size=2)),
    }
    layer = draw(st.none() | st.integers(0, 3))
    if layer is not None:
        comp["layerIndex"] = layer
    return comp


@st.composite
def images(draw: st.DrawFn) -> Doc:
    """One wire-shaped image (dates as ``Ago``); its id is set by ``image_sets``."""
    registry = draw(st.sampled_from(REGISTRIES))
    remote = draw(st.sampled_from(REMOTES))
    tag = draw(st.sampled_from(TAGS))
    name = {
        "registry": registry,
        "remote": remote,
        "tag": tag,
        "fullName": f"{registry}/{remote}:{tag}",
    }
    words = st.lists(st.sampled_from(WORDS), max_size=3)
    image: Doc = {
        "name": name,
        "names": [dict(name)],
        "metadata": {
            "v1": {
                "created": draw(maybe_age),
                "user": draw(st.sampled_from(["", "root", "App"])),
                "command": draw(words),
                "entrypoint": draw(words),
                "volumes": draw(st.lists(st.sampled_from(["/data", "/Var/lib"]), max_size=2)),
                "labels": draw(
                    st.dictionaries(
                        st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES), max_size=2
                    )
                ),
                "layers": [
                    {"instruction": ins, "value": val}
                    for ins, val in draw(
                        st.lists(
                            st.tuples(st.sampled_from(INSTRUCTIONS), st.sampled_from(LAYER_VALUES)),
                            max_size=3,
                        )
                    )
                ],
            },
        },
        "lastUpdated": draw(ages),
    }
    if draw(st.booleans()):
        image["signature"] = {"fetched": draw(ages)}
    if draw(st.booleans()):
        image["baseImageInfo"] = [{"maxLayerIndex": draw(st.integers(0, 2))}]
    if draw(st.integers(0, 4)):  # mostly scanned
        image["scan"] = {
            "scanTime": draw(maybe_age),
            "operatingSystem": draw(st.sampled_from(OS_NAMES)),
            "components": draw(st.lists(components(), max_size=3)),
        }
    return image


@st.composite
def image_sets(draw: st.DrawFn, max_size: int = 6) -> list[Doc]:
    drawn = draw(st.lists(images(), min_size=1, max_size=max_size))
    for i, image in enumerate(drawn):
        image["id"] = digest(f"{i}:{image['name']['fullName']}")
    return drawn


# --- queries ------------------------------------------------------------------------------------


def sample_values(field: Field, stored: Sequence[Doc]) -> list[Any]:
    """Every value the field's column holds in the stored images (list elements flattened)."""
    col = COLUMNS[field.label.lower()]
    ranks = dense_ranks(stored)
    rows: list[Row] = []
    for image in stored:
        whole = Row(image, ranks[image["id"]])
        rows.append(whole)
        v1 = (image.get("metadata") or {}).get("v1") or {}
        rows += [Row(image, 0, layer=layer) for layer in v1.get("layers") or []]
        for comp in (image.get("scan") or {}).get("components") or []:
            rows.append(Row(image, 0, component=comp))
            rows += [Row(image, 0, component=comp, vuln=v) for v in comp.get("vulns") or []]
    out: list[Any] = []
    for row in rows:
        if (col.level == "cve" and row.vuln is None) or (
            col.level in ("component", "cve") and row.component is None
        ):
            continue
        if col.level == "layer" and row.layer is None:
            continue
        value = col.read(row)
        if isinstance(value, list):
            out += value
        elif isinstance(value, Mapping):
            out += list(value.items())
        elif value is not None:
            out.append(value)
    return out


def _flip_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.swapcase() if f else c for c, f in zip(text, flips, strict=True))


_REGEX_SPECIAL = set(".^$*+?()[]{}|\\")


def _escape(text: str) -> str:
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in text)


@st.composite
def _regex(draw: st.DrawFn, base: str) -> str:
    i = draw(st.integers(0, len(base)))
    j = draw(st.integers(i, len(base)))
    part = _flip_case(draw, base[i:j])
    shape = draw(st.sampled_from(["sub", "start", "end", "gap", "class", "any", "empty"]))
    if shape == "start":
        return "^" + _escape(part)
    if shape == "end":
        return _escape(part) + "$"
    if shape == "gap":
        return _escape(base[:i]) + ".*" + _escape(base[j:])
    if shape == "class":
        return "[0-9]"
    if shape == "any":
        return "."
    if shape == "empty":
        return "^$"
    return _escape(part)


@st.composite
def text_value(draw: st.DrawFn, bases: Sequence[str]) -> str:
    """A string value: prefix, exact, regex, each maybe negated, or ``*`` / ``-``."""
    base = draw(st.sampled_from([*bases, "zz", "1", "/"]))
    form = draw(st.sampled_from(["prefix"] * 6 + ["exact"] * 2 + ["regex"] * 4 + ["star", "dash"]))
    if form == "star":
        return "*"
    if form == "dash":
        return "-"
    if form == "prefix":
        value = _flip_case(draw, base[: draw(st.integers(0, len(base)))])
    elif form == "exact":
        value = '"' + (_flip_case(draw, base) if draw(st.booleans()) else base) + '"'
    else:
        value = "r/" + draw(_regex(base))
    return ("!" if draw(st.integers(0, 3)) == 0 else "") + value


@st.composite
def map_value(draw: st.DrawFn, entries: Sequence[tuple[str, str]]) -> str:
    key, value = draw(st.sampled_from([*entries, ("team", "cache"), ("zz", "zz")]))
    part = st.sampled_from(["prefix", "exact", "regex", "negated"])

    def shaped(text: str, how: str) -> str:
        if how == "exact":
            return f'"{text}"'
        if how == "regex":
            return "r/" + draw(_regex(text))
        cut = _flip_case(draw, text[: draw(st.integers(1 if text else 0, len(text)))])
        return ("!" if how == "negated" else "") + cut

    form = draw(
        st.sampled_from(["key", "key=", "=value", "key=value", "!key", "!key=", "=", "*", "-"])
    )
    if form == "key":
        return shaped(key, draw(part.filter(lambda h: h != "negated")))
    if form == "key=":
        return _flip_case(draw, key) + "="
    if form == "=value":
        return "=" + shaped(value, draw(part))
    if form == "key=value":
        return (
            shaped(key, draw(st.sampled_from(["prefix", "exact", "regex"])))
            + "="
            + shaped(value, draw(part))
        )
    if form == "!key":
        return "!" + shaped(key, "prefix")
    if form == "!key=":
        return "!" + key + "="
    return form


def _number_text(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


@st.composite
def number_value(draw: st.DrawFn, samples: Sequence[float]) -> str:
    base = draw(st.sampled_from([*samples, 0.0, 1.0, 2.0, 7.0, -1.0]))
    nudged = base + draw(st.sampled_from([0.0, 0.0, 0.004, -0.004, 0.01, -0.01, 0.5]))
    form = draw(
        st.sampled_from(["op"] * 6 + ["plain"] * 3 + ["range"] * 3 + ["star", "dash", "junk"])
    )
    if form == "star":
        return "*"
    if form == "dash":
        return "-"
    if form == "junk":
        return draw(st.sampled_from(["high", "!5", "r/5", '"5"', "1-1", "5-2", "1e400"]))
    if form == "range":
        high = draw(st.sampled_from([*samples, 1.0, 8.0, 11.0]))
        return f"{_number_text(nudged)}-{_number_text(high)}"
    op = draw(st.sampled_from(["<", "<=", ">", ">=", "=", "==", "> "])) if form == "op" else ""
    return op + _number_text(nudged)


_ZONES = {"": 0, " UTC": 0, " EST": -5, " PDT": -7}


@st.composite
def date_value(draw: st.DrawFn, samples: Sequence[datetime]) -> str:
    at = draw(st.sampled_from([*samples, datetime(2024, 1, 2, tzinfo=UTC)]))
    form = draw(
        st.sampled_from(["day", "day", "time", "range", "age", "age", "ages", "star", "dash"])
    )
    op = draw(st.sampled_from(["", "<", "<=", ">", ">=", "="]))
    if form == "star":
        return "*"
    if form == "dash":
        return "-"
    if form == "day":
        return op + at.strftime("%m/%d/%Y")
    if form == "time":
        zone = draw(st.sampled_from(list(_ZONES)))
        local = at + timedelta(hours=_ZONES[zone])
        seconds = draw(st.sampled_from([":%S", ""]))
        return op + local.strftime(f"%m/%d/%Y %I:%M{seconds} %p") + zone
    if form == "range":
        ms = int(at.timestamp() * 1000)
        low = ms + draw(st.sampled_from([-1, 0, 1]))
        return f"tr/{low}-{ms + draw(st.sampled_from([0, 1, 86_400_000]))}"
    days = [0, 1, 2, 30, 90, 365, 1000]
    if form == "ages":
        a, b = sorted(draw(st.lists(st.sampled_from(days), min_size=2, max_size=2, unique=True)))
        return f"{a}d-{b}d"
    return op + str(draw(st.sampled_from(days))) + draw(st.sampled_from(["d", ""]))


@st.composite
def enum_value(draw: st.DrawFn, field: Field) -> str:
    assert field.enum is not None
    name = draw(st.sampled_from(list(field.enum.numbers)))
    form = draw(
        st.sampled_from(
            ["prefix"] * 4 + ["compare"] * 3 + ["regex"] * 2 + ["exact", "star", "dash"]
        )
    )
    if form == "star":
        return "*"
    if form == "dash":
        return "-"
    if form == "exact":
        return f'"{_flip_case(draw, name)}"'
    if form == "regex":
        return "r/" + draw(_regex(name))
    cut = _flip_case(draw, name[: draw(st.integers(0 if form == "prefix" else 1, len(name)))])
    if form == "compare":
        return draw(st.sampled_from(["<", "<=", ">", ">="])) + cut
    return ("!" if draw(st.integers(0, 3)) == 0 else "") + cut


BOOLS = ["true", "false", "t", "F", "TRUE", "tr", "fal", "1", "0"] * 3 + [
    "*",
    "-",
    "maybe",
    "!true",
]


def value_strategy(field: Field, stored: Sequence[Doc]) -> st.SearchStrategy[str]:
    """Values for one label, drawn around what the stored images hold."""
    samples = sample_values(field, stored)
    kind = field.kind
    if kind in (Kind.STRING, Kind.STRINGS):
        return text_value([s for s in samples if isinstance(s, str)])
    if kind is Kind.MAP:
        return map_value(samples)
    if kind is Kind.BOOL:
        return st.sampled_from(BOOLS)
    if kind is Kind.NUMBER:
        return number_value([float(s) for s in samples])
    if kind is Kind.DATE:
        return date_value(samples)
    return enum_value(field)


@dataclass(frozen=True)
class Shape:
    """What a query will test, drawn before the images: its labels as typed, with their fields.

    Drawn first because Hypothesis draws ever simpler choices late in a large example, which
    would make late queries test the registry's first label most of the time.
    """

    clauses: tuple[tuple[str, Field], ...]


@st.composite
def _typed_label(draw: st.DrawFn, field: Field | None = None) -> tuple[str, Field]:
    field = field or draw(st.sampled_from(all_fields()))
    label = field.label if draw(st.integers(0, 3)) else _flip_case(draw, field.label)
    return label, field


@st.composite
def shapes(draw: st.DrawFn, first: Field | None = None) -> Shape:
    """One to three clauses over any labels (labels may repeat, in any case); the first one
    on ``first`` when given."""
    size = draw(st.sampled_from([1, 1, 1, 2, 2, 3]))
    labels = [draw(_typed_label(first))] if first else []
    labels += [draw(_typed_label()) for _ in range(size - len(labels))]
    return Shape(tuple(labels))


@st.composite
def queries(draw: st.DrawFn, shape: Shape, stored: Sequence[Doc]) -> str:
    """A query of that shape, its values drawn around what the stored images hold."""
    clauses = []
    for label, field in shape.clauses:
        size = draw(st.sampled_from([1, 1, 1, 2, 2, 3]))
        values = draw(st.lists(value_strategy(field, stored), min_size=size, max_size=size))
        clauses.append(f"{label}:{','.join(values)}")
    return "+".join(clauses)
